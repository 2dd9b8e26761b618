//! Helpers shared by the integration tests: a private temporary workspace,
//! passphrase files, and the `custodian` binary pointed at that workspace.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod guardians;
pub mod pdf;
pub mod pykit;
pub mod tmux;
pub mod token;
// `#[macro_use]`: `snap!` also reaches test files that are modules of the
// consolidated binary (scripts/consolidate-tests.py), not only a crate root.
#[macro_use]
pub mod tui;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary directory holding a workspace (`ws/`) and scratch files.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ws(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a passphrase file with one passphrase per line.
    pub fn pass_file(&self, name: &str, lines: &[&str]) -> PathBuf {
        let p = self.file(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    /// The binary with `--workspace` set to this sandbox's workspace.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("custodian").unwrap();
        c.env_remove("CUSTODIAN_WORKSPACE")
            .arg("--workspace")
            .arg(self.ws());
        c
    }

    /// Every file under the sandbox, with its bytes, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        walk(self.path(), &mut out);
        out.sort();
        out
    }

    /// Concatenation of every file under the sandbox, lossily as text (for canary greps).
    pub fn all_text(&self) -> String {
        self.snapshot()
            .into_iter()
            .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

/// Two strong passphrases that pass the policy.
pub const PASS_A: &str = "correct horse battery staple orbit lantern";
pub const PASS_B: &str = "velvet quarry hobnail drizzle copper anthem";

/// Guardian `g`'s share passphrase in the tests (strong, and distinct
/// per guardian).
pub fn gpass(g: &str) -> String {
    format!("{PASS_B} {g}")
}

/// The name the test harness knows test `f` by, when called from the
/// module that defines it (`module_path!()`): the module path without the
/// crate, so `f` in a test file of its own and `NAME::f` once the file is a
/// module of the consolidated binary (scripts/consolidate-tests.py). For
/// tests that run their own binary as a child with `--exact`.
pub fn harness_name(module_path: &str, f: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, inner)) => format!("{inner}::{f}"),
        None => f.to_string(),
    }
}

/// `this_test!()`: the name the test harness knows the calling test
/// function by ([`harness_name`] of its module and name, both taken from
/// the function itself), so `--exact` finds it whether the file is a test
/// binary of its own (`f`) or a module of the consolidated `suite`
/// (`NAME::f`). Call it in the test's body, not in a closure.
#[allow(unused_macros)]
macro_rules! this_test {
    () => {{
        fn here() {}
        let full = std::any::type_name_of_val(&here);
        let f = full
            .strip_suffix("::here")
            .expect("this_test!() is called in a function body");
        let (module, name) = f.rsplit_once("::").expect("a test function in a crate");
        $crate::common::harness_name(module, name)
    }};
}
#[allow(unused_imports)]
pub(crate) use this_test;

/// CI's long phase (`CUSTODIAN_LONG_SWEEPS=1`, see .ci/run): the fault and
/// kill sweeps at full length. The README's test command (scripts/test.sh)
/// runs them seeded and bounded.
pub fn long_sweeps() -> bool {
    std::env::var_os("CUSTODIAN_LONG_SWEEPS").is_some_and(|v| v == "1")
}

/// What varies a bounded sweep from run to run: `CUSTODIAN_SWEEP_SEED` (a
/// number; .ci/run passes the date), 0 when unset, so a plain run repeats
/// the last one. Sweeps print the seed they used.
pub fn sweep_seed() -> u64 {
    std::env::var("CUSTODIAN_SWEEP_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Skips (returning true) when an external tool is missing, with a loud note.
/// CI installs every tool, so there this never skips.
pub fn missing_tool(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is required in CI but is not installed");
        }
        eprintln!("SKIPPED: {tool} is not installed");
    }
    !found
}

/// Two registered custodians who approve operations by opening their own
/// identity (the "authenticated approvals" policy of a new workspace), with
/// their passphrases.
pub const APPROVERS: [(&str, &str); 2] = [("Ana Approver", PASS_A), ("Ben Approver", PASS_B)];

impl Sandbox {
    /// Registers [`APPROVERS`] (`identity new` each) in this workspace.
    pub fn register_approvers(&self) {
        for (i, (name, pass)) in APPROVERS.iter().enumerate() {
            self.cmd()
                .args(["identity", "new", "--name", name, "--passphrase-file"])
                .arg(self.pass_file(&format!("approver-new-{i}"), &[pass]))
                .assert()
                .success();
        }
    }

    /// `--approver NAME` for each of [`APPROVERS`].
    pub fn approver_args() -> Vec<String> {
        APPROVERS
            .iter()
            .flat_map(|(n, _)| ["--approver".to_string(), n.to_string()])
            .collect()
    }
}

/// Runs `openssl ARGS…` (stderr silenced) and asserts it succeeded.
pub fn openssl(args: &[&str]) {
    let st = std::process::Command::new("openssl")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl {args:?}");
}

/// An RSA-4096 key pair made by openssl: the private key (PKCS#8 PEM,
/// unencrypted) at `private`, its public half (SPKI PEM) at `public`.
pub fn openssl_rsa_pair(private: &Path, public: &Path) {
    let (private, public) = (private.to_str().unwrap(), public.to_str().unwrap());
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:4096",
        "-out",
        private,
    ]);
    openssl(&["pkey", "-in", private, "-pubout", "-out", public]);
}

/// An open scenario 2 incident (operator Ana Officer, concerning Ben) with
/// its first step confirmed by Cy, opened through the library as the
/// console opens it. Returns its id.
pub fn incident_with_a_step(sb: &Sandbox) -> String {
    use custodian_core::playbook::Playbook;
    use custodian_core::playbook::incident::{self, StepHow};
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    accept_typed_approvals(&ws);
    let book = Playbook::builtin();
    let inc = incident::open(&ws, book, 2, "Ana Officer", Some("Ben")).unwrap();
    incident::complete_step(
        &ws,
        book,
        &inc.id,
        "record-loss",
        "Cy",
        StepHow::Attested,
        &[],
    )
    .unwrap();
    inc.id
}

/// `custodian --json drill run --auto --participants "Ana Officer,Ben Legal"
/// --sandbox SANDBOX` in `sb`'s workspace: the report it printed.
pub fn auto_drill(sb: &Sandbox, sandbox: &Path) -> serde_json::Value {
    let out = sb
        .cmd()
        .args(["--json", "drill", "run", "--auto"])
        .args(["--participants", "Ana Officer,Ben Legal", "--sandbox"])
        .arg(sandbox)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// Sets the workspace's approval policy to authenticated approvals (what
/// a new workspace starts with): each approver opens their own identity.
pub fn require_authenticated_approvals(ws: &custodian_core::workspace::Workspace) {
    ws.update_registry(|r| {
        r.policy.approvals = Some(custodian_core::approvals::ApprovalPolicy::Authenticated);
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
}

/// Sets the workspace's approval policy to typed names, for tests whose
/// people have no identities (a new workspace requires authenticated
/// approvals; tests/approvals.rs covers that policy).
pub fn accept_typed_approvals(ws: &custodian_core::workspace::Workspace) {
    ws.update_registry(|r| {
        r.policy.approvals = Some(custodian_core::approvals::ApprovalPolicy::Typed);
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
}

/// Runs the real `age` CLI with `args` (then `input`, if any), asserting
/// success; returns its standard output.
pub fn age(args: &[&str], input: Option<&Path>) -> Vec<u8> {
    let mut c = std::process::Command::new("age");
    c.args(args);
    if let Some(i) = input {
        c.arg(i);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "age {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `age-keygen -o PATH`: an officer's age key file; returns its recipient.
pub fn age_keygen(path: &Path) -> String {
    let out = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string()
}

/// The environment variable naming the test a child process runs.
const CHILD: &str = "CUSTODIAN_TEST_CHILD";

/// True in the child that [`run_child`] started for `test`.
pub fn in_child(test: &str) -> bool {
    std::env::var_os(CHILD).is_some_and(|v| v == test)
}

/// Runs test `test` of this test binary again, alone, in a child process
/// with `envs` set (a PATH with a program of the test's, its files), and fails if it
/// fails or did not run. The test's body checks [`in_child`] first. `test`
/// is the harness's name for it, from `common::this_test!()` (so the child
/// finds it with `--exact` in a file's own binary and in the consolidated
/// `suite` alike).
pub fn run_child(test: &str, envs: &[(&str, std::ffi::OsString)]) {
    let out = child_command(test, envs).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child run of {test} failed:\n{stdout}\n{stderr}"
    );
}

/// The command [`run_child`] runs: this test binary running `test` alone,
/// as a child ([`in_child`] is true in it), with `envs` set. For a test
/// that runs or kills the child itself.
pub fn child_command(test: &str, envs: &[(&str, std::ffi::OsString)]) -> std::process::Command {
    let mut c = std::process::Command::new(std::env::current_exe().unwrap());
    c.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .envs(envs.iter().map(|(k, v)| (k, v)));
    c
}

/// Records in `ws`'s registry that an operator confirmed the system clock
/// at `at` (what the console's and the CLI's confirmation leave there,
/// without its audit entry): a fixture for tests that start drills,
/// incidents or ceremonies and are not about the clock question.
pub fn clock_confirmed_at(ws: &custodian_core::workspace::Workspace, at: time::OffsetDateTime) {
    ws.update_registry(|r| {
        r.clock_confirmations
            .push(custodian_core::clock::ClockConfirmation {
                at: custodian_core::clock::format(at),
                context: "test fixture".into(),
                operator: None,
                op: "fixture".into(),
            });
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
}

/// [`clock_confirmed_at`] now, on the workspace at `dir` (created if new).
pub fn clock_confirmed(dir: &Path) {
    let ws = custodian_core::workspace::Workspace::open(dir).unwrap();
    clock_confirmed_at(&ws, custodian_core::clock::now());
}

/// Asserts that `due` (RFC 3339, as the registry and `--json` write it) is
/// 90 days after the operation that set it: computed here from the system
/// clock, not by the code under test, and allowing up to ten minutes
/// between that operation and this check.
pub fn assert_due_in_90_days(due: &str) {
    let at = custodian_core::clock::parse(due)
        .unwrap_or_else(|| panic!("rotation due `{due}` is not RFC 3339"))
        .unix_timestamp();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expected = i64::try_from(now).unwrap() + 90 * 86_400;
    assert!(
        (expected - 600..=expected + 1).contains(&at),
        "rotation due {due} is not now + 90 days ({} s off)",
        at - expected
    );
}
