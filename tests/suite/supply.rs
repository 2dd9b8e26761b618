//! Supply-chain checks through the CLI: `custodian --version --verbose`
//! names the commit the binary was built from and the SHA-256 of the file
//! actually running, so a custodian can compare it with the team's reviewed
//! hash (threat 6).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

/// The binary under test, as cargo built it for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_custodian");

/// The `key: value` line of `--version --verbose` output for `key`.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no `{key}:` line in:\n{out}"))
}

fn verbose_version() -> String {
    let out = Command::new(BIN)
        .env_remove("CUSTODIAN_WORKSPACE")
        .args(["--version", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_verbose_prints_the_running_binarys_sha256() {
    let out = verbose_version();
    let bin = Path::new(BIN);
    let expected = hex::encode(Sha256::digest(std::fs::read(bin).unwrap()));
    assert_eq!(field(&out, "sha256"), expected, "{out}");
    assert_eq!(
        out.lines().next().unwrap(),
        format!("custodian {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn version_verbose_names_the_commit_built_from() {
    let out = verbose_version();
    let commit = field(&out, "commit");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let git = StdCommand::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .output();
    match git {
        Ok(git) if git.status.success() && root.join(".git").exists() => {
            let head = String::from_utf8(git.stdout).unwrap();
            assert_eq!(commit, head.trim(), "{out}");
        }
        // A source bundle without git history: the bundle's COMMIT file, or "unknown".
        _ => assert!(
            commit == "unknown" || (commit.len() == 40 && hex::decode(commit).is_ok()),
            "{out}"
        ),
    }
    // The compiler that built it, as `rustc --version` prints it.
    assert!(field(&out, "rustc").starts_with("rustc 1."), "{out}");
}

#[test]
fn version_verbose_json_is_one_object() {
    let out = Command::new(BIN)
        .env_remove("CUSTODIAN_WORKSPACE")
        .args(["--version", "--verbose", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bin = Path::new(BIN);
    let expected = hex::encode(Sha256::digest(std::fs::read(bin).unwrap()));
    assert_eq!(doc["sha256"], expected.as_str());
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["commit"].is_string());
}

#[test]
fn plain_version_is_unchanged_and_verbose_needs_version() {
    Command::new(BIN)
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("custodian {}\n", env!("CARGO_PKG_VERSION")));
    Command::new(BIN).arg("--verbose").assert().code(2);
}

// ---- The workspace's accepted binary: recorded, compared, accepted ----

use crate::common;

use common::{PASS_A, Sandbox};

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// A copy of the binary under test with bytes appended: it runs the same,
/// but its SHA-256 differs — a binary the team did not review.
fn other_binary(sb: &Sandbox) -> std::path::PathBuf {
    let path = sb.file("custodian-other");
    let mut bytes = std::fs::read(BIN).unwrap();
    bytes.extend_from_slice(b"\0not the reviewed build\0");
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    path
}

fn with_binary(sb: &Sandbox, bin: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("CUSTODIAN_WORKSPACE")
        .arg("--workspace")
        .arg(sb.ws());
    c
}

/// Creates the workspace with a first writing command (an identity).
fn create_workspace(sb: &Sandbox) {
    let pf = sb.pass_file("ana.pass", &[PASS_A]);
    sb.cmd()
        .args(["identity", "new", "--name", "Ana", "--passphrase-file"])
        .arg(&pf)
        .assert()
        .success();
}

fn registry(sb: &Sandbox) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap()
}

/// `(event, status, details)` of every audit entry.
fn audit(sb: &Sandbox) -> Vec<(String, String, serde_json::Value)> {
    std::fs::read_to_string(sb.ws().join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["event"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
                v["details"].clone(),
            )
        })
        .collect()
}

/// The `running-binary` check of `check --json` run by `bin`.
fn binary_check(sb: &Sandbox, bin: &Path) -> serde_json::Value {
    let out = with_binary(sb, bin)
        .args(["--json", "check"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "running-binary")
        .cloned()
        .unwrap_or_else(|| panic!("no running-binary check in {doc}"))
}

#[test]
fn a_new_workspace_records_the_binary_that_created_it() {
    let sb = Sandbox::new();
    create_workspace(&sb);
    let reg = registry(&sb);
    let rec = &reg["acceptedBinary"];
    assert_eq!(rec["sha256"], sha256_of(Path::new(BIN)).as_str(), "{reg}");
    assert_eq!(rec["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(rec["reason"], "workspace created");
    let recorded: Vec<_> = audit(&sb)
        .into_iter()
        .filter(|(e, _, _)| e == "BINARY_ACCEPTED")
        .collect();
    assert_eq!(recorded.len(), 2, "INITIATED and COMPLETED: {recorded:?}");
    assert_eq!(recorded[1].1, "COMPLETED");
    assert!(recorded[1].2["previous"].is_null());
}

#[test]
fn check_passes_the_accepted_binary_and_flags_another_with_the_remedy() {
    let sb = Sandbox::new();
    create_workspace(&sb);
    let ours = sha256_of(Path::new(BIN));
    let c = binary_check(&sb, Path::new(BIN));
    assert_eq!(c["status"], "pass", "{c}");

    let other = other_binary(&sb);
    let theirs = sha256_of(&other);
    let c = binary_check(&sb, &other);
    assert_eq!(c["status"], "fail", "{c}");
    let findings = c["findings"].to_string();
    assert!(
        findings.contains(&theirs) && findings.contains(&ours),
        "{c}"
    );
    assert!(findings.contains("team's reviewed hash"), "{c}");

    // The table says it too, and the run fails.
    let out = with_binary(&sb, &other).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("FAIL  Running binary is the one the workspace accepted"),
        "{text}"
    );
    assert!(text.contains(&format!("running:  {theirs}")), "{text}");
    assert!(text.contains("custodian check --accept-binary"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("running-binary"), "{err}");
}

#[test]
fn accepting_a_reviewed_binary_is_audited_with_the_old_and_new_hash() {
    let sb = Sandbox::new();
    create_workspace(&sb);
    let ours = sha256_of(Path::new(BIN));
    let other = other_binary(&sb);
    let theirs = sha256_of(&other);

    // A reviewed hash that is not the running binary's accepts nothing.
    let before = sb.snapshot();
    let out = with_binary(&sb, &other)
        .args(["check", "--accept-binary", "--reviewed-sha256", &ours])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not the binary the team reviewed"), "{err}");
    // A malformed one is a usage error.
    let out = with_binary(&sb, &other)
        .args(["check", "--accept-binary", "--reviewed-sha256", "abc123"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // --reviewed-sha256 alone is refused by the parser.
    with_binary(&sb, &other)
        .args(["check", "--reviewed-sha256", &theirs])
        .assert()
        .code(2);
    assert_eq!(sb.snapshot(), before, "nothing on disk changed");

    let out = with_binary(&sb, &other)
        .args(["--json", "check", "--accept-binary", "--reviewed-sha256"])
        .arg(theirs.to_uppercase())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["sha256"], theirs.as_str());
    assert_eq!(doc["previous"], ours.as_str());
    assert_eq!(doc["changed"], true);
    let last = audit(&sb).pop().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("BINARY_ACCEPTED", "COMPLETED")
    );
    assert_eq!(last.2["sha256"], theirs.as_str());
    assert_eq!(last.2["previous"], ours.as_str());

    // Now the other binary passes and the original is the stranger.
    assert_eq!(binary_check(&sb, &other)["status"], "pass");
    assert_eq!(binary_check(&sb, Path::new(BIN))["status"], "fail");
    // Accepting the accepted binary again writes nothing.
    let n = audit(&sb).len();
    with_binary(&sb, &other)
        .args(["check", "--accept-binary"])
        .assert()
        .success()
        .stdout(predicates::str::contains("already the accepted one"));
    assert_eq!(audit(&sb).len(), n);
    sb.cmd().args(["audit", "verify"]).assert().success();
}

#[test]
fn a_workspace_from_before_has_nothing_to_compare_until_a_binary_is_accepted() {
    let sb = Sandbox::new();
    create_workspace(&sb);
    // An older workspace: no acceptedBinary section.
    let mut reg = registry(&sb);
    reg.as_object_mut().unwrap().remove("acceptedBinary");
    std::fs::write(sb.ws().join("registry.json"), reg.to_string()).unwrap();
    let c = binary_check(&sb, Path::new(BIN));
    assert_eq!(c["status"], "unknown", "{c}");
    assert!(
        c["findings"][0]
            .as_str()
            .unwrap()
            .contains("--accept-binary")
    );
    sb.cmd()
        .args(["check", "--accept-binary"])
        .assert()
        .success()
        .stdout(predicates::str::contains("no binary was accepted before"));
    assert_eq!(binary_check(&sb, Path::new(BIN))["status"], "pass");
}
