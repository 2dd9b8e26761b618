//! Hardware tokens as a second factor, end to end through the CLI, with the
//! test plugin (examples/age-plugin-custodiantest.rs: the real age plugin
//! protocol over a software key, a PIN and a simulated touch) on the PATH,
//! and the real `age` CLI as the peer on the same plugin.
//!
//! The plugin is an example of this package: `cargo test --all-targets`
//! (scripts/test.sh) builds it; a targeted run needs
//! `cargo test --release --test suite --example age-plugin-custodiantest -- token::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use common::{PASS_A, PASS_B, Sandbox, gpass, missing_tool};
use custodian_core::envelope;
use custodian_core::identity::IdentityFile;
use predicates::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use common::token::{PIN, make_token, plugin_bin};

/// A sandbox with the plugin in `bin/` and tokens in files.
struct Tok {
    sb: Sandbox,
    bin: PathBuf,
}

impl Tok {
    fn new() -> Self {
        let sb = Sandbox::new();
        let bin = plugin_bin(sb.path());
        Tok { sb, bin }
    }

    fn path_with_plugin(&self) -> String {
        common::token::path_with(&self.bin).into_string().unwrap()
    }

    /// Makes a token file; returns (recipient, plugin identity line).
    fn token(&self, name: &str, pin: Option<&str>) -> (String, String) {
        make_token(&self.bin, &self.sb.file(name), pin)
    }

    /// The CLI with the plugin on its PATH, token `token` inserted and PIN
    /// lines from a file.
    fn cmd(&self, token: &str, pins: &[&str]) -> assert_cmd::Command {
        let pin_file = self.sb.pass_file(&format!("pins-{}", pins.join("-")), pins);
        let mut c = self.sb.cmd();
        c.env("PATH", self.path_with_plugin())
            .env("CUSTODIANTEST_TOKEN", self.sb.file(token))
            .env("CUSTODIAN_TOKEN_PIN_FILE", pin_file)
            .env_remove("CUSTODIANTEST_TOUCH");
        c
    }

    fn identity_path(&self, name: &str) -> PathBuf {
        self.sb
            .ws()
            .join(format!("identities/{name}.identity.json"))
    }

    /// Creates custodian `name` sealed to token file `token`.
    fn new_token_identity(&self, name: &str, token: &str, recipient: &str) -> Value {
        let p = self.sb.pass_file(&format!("{name}.pass"), &[PASS_A]);
        let out = self
            .cmd(token, &[PIN])
            .args([
                "--json",
                "identity",
                "new",
                "--name",
                name,
                "--token-recipient",
                recipient,
            ])
            .arg("--passphrase-file")
            .arg(&p)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.sb.ws().join("audit.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every file but the audit log (which records the refusals).
    fn files_but_audit(&self) -> Vec<(PathBuf, Vec<u8>)> {
        self.sb
            .snapshot()
            .into_iter()
            .filter(|(p, _)| !p.ends_with("audit.jsonl") && !p.starts_with(self.sb.file("tok")))
            .collect()
    }
}

#[test]
fn a_token_identity_needs_the_passphrase_then_the_token() {
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    let created = t.new_token_identity("Ana", "tok", &recipient);
    let path = t.identity_path("ana");
    assert_eq!(PathBuf::from(created["file"].as_str().unwrap()), path);

    // The file records the token, and the passphrase alone yields only an
    // age file sealed to the token, never the key.
    let file = IdentityFile::load(&path).unwrap();
    assert_eq!(file.token.as_ref().unwrap().recipient, recipient);
    assert_eq!(file.token.as_ref().unwrap().plugin, "custodiantest");
    let inner = file.envelope.open(&SecretString::from(PASS_A)).unwrap();
    assert!(
        inner
            .expose_secret()
            .starts_with(b"age-encryption.org/v1\n-> custodiantest ")
    );
    assert!(!String::from_utf8_lossy(inner.expose_secret()).contains("AGE-SECRET-KEY-1"));

    // The registry records the requirement; show names both factors.
    let reg: Value =
        serde_json::from_slice(&std::fs::read(t.sb.ws().join("registry.json")).unwrap()).unwrap();
    assert_eq!(reg["custodians"][0]["token"], recipient.as_str());
    t.sb.cmd()
        .args(["identity", "show"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "opening needs: passphrase + hardware token (age-plugin-custodiantest, {recipient})"
        )));
    let shown =
        t.sb.cmd()
            .args(["--json", "identity", "show"])
            .arg(&path)
            .output()
            .unwrap();
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["tokenRecipient"], recipient.as_str());
    assert_eq!(shown["factors"].as_array().unwrap().len(), 2);

    // Opening asks the passphrase, then the PIN (masked prompt, here the PIN
    // file) and the touch message, through the plugin.
    let p = t.sb.pass_file("open.pass", &[PASS_A]);
    t.cmd("tok", &[PIN])
        .args(["identity", "open"])
        .arg(&path)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "key matches {}",
            created["recipient"].as_str().unwrap()
        )))
        .stderr(predicate::str::contains(
            "Enter the PIN of your custodiantest token",
        ))
        .stderr(predicate::str::contains(
            "Touch your custodiantest token now",
        ));

    // A wrong passphrase fails before the token is asked at all.
    let wrong = t.sb.pass_file("wrong.pass", &[PASS_B]);
    t.cmd("tok", &[PIN])
        .args(["identity", "open"])
        .arg(&path)
        .arg("--passphrase-file")
        .arg(&wrong)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Enter the PIN").not());

    // Swapping the token requirement out of the file is detected.
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edited.as_object_mut().unwrap().remove("token");
    let stripped = t.sb.file("stripped.identity.json");
    std::fs::write(&stripped, serde_json::to_vec(&edited).unwrap()).unwrap();
    t.cmd("tok", &[PIN])
        .args(["identity", "open"])
        .arg(&stripped)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the file was altered"));
}

/// Each way the token can fail: its own error, audited as FAILED, nothing
/// else on disk changed.
#[test]
fn token_failures_are_specific_audited_and_change_nothing() {
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    t.token("tok-other", Some(PIN));
    t.new_token_identity("Ana", "tok", &recipient);
    let path = t.identity_path("ana");
    let p = t.sb.pass_file("open.pass", &[PASS_A]);

    let open = |c: &mut assert_cmd::Command| {
        c.args(["identity", "open"])
            .arg(&path)
            .arg("--passphrase-file")
            .arg(&p)
            .assert()
            .code(1)
            .get_output()
            .stderr
            .clone()
    };
    let mut cases: Vec<(&str, assert_cmd::Command, &str)> = Vec::new();
    let mut missing = t.cmd("tok", &[PIN]);
    missing.env("PATH", "/usr/bin:/bin");
    cases.push((
        "missing plugin",
        missing,
        "error: the token's plugin program `age-plugin-custodiantest` was not found on the PATH",
    ));
    cases.push((
        "wrong token",
        t.cmd("tok-other", &[PIN]),
        "error: the token did not open this identity: it is not the token the identity was sealed to",
    ));
    cases.push((
        "PIN refused",
        t.cmd("tok", &["000000"]),
        "error: the token refused the PIN:",
    ));
    cases.push((
        "PIN cancelled",
        t.cmd("tok", &[]),
        "error: the token prompt was cancelled",
    ));
    let mut touch = t.cmd("tok", &[PIN]);
    touch.env("CUSTODIANTEST_TOUCH", "timeout");
    cases.push((
        "touch cancelled",
        touch,
        "error: the token was not touched in time:",
    ));
    for (what, mut c, expected) in cases {
        let before = t.files_but_audit();
        let audit_before = t.audit().len();
        let stderr = String::from_utf8(open(&mut c)).unwrap();
        assert!(stderr.contains(expected), "{what}: {stderr}");
        assert!(
            !stderr.contains('\u{2068}'),
            "{what}: isolation marks in {stderr:?}"
        );
        assert_eq!(t.files_but_audit(), before, "{what} changed a file");
        let audit = t.audit();
        assert_eq!(audit.len(), audit_before + 2, "{what}");
        let last = audit.last().unwrap();
        assert_eq!(last["event"], "IDENTITY_OPEN", "{what}");
        assert_eq!(last["status"], "FAILED", "{what}");
    }

    // A locked PIN: the token counts wrong PINs (3 tries).
    for _ in 0..3 {
        let mut c = t.cmd("tok", &["111111"]);
        open(&mut c);
    }
    let before = t.files_but_audit();
    let audit_before = t.audit();
    let mut c = t.cmd("tok", &[PIN]);
    let stderr = String::from_utf8(open(&mut c)).unwrap();
    assert!(
        stderr.contains("error: the token's PIN is locked"),
        "{stderr}"
    );
    assert!(stderr.contains("PUK"), "{stderr}");
    // Audited after the unchanged entries before it; nothing else changed.
    assert_eq!(t.files_but_audit(), before, "a locked PIN changed a file");
    let audit = t.audit();
    assert_eq!(audit[..audit_before.len()], audit_before[..]);
    assert_eq!(audit.len(), audit_before.len() + 2);
    let last = audit.last().unwrap();
    assert_eq!(last["event"], "IDENTITY_OPEN");
    assert_eq!(last["status"], "FAILED");
}

#[test]
fn creating_refuses_bad_token_input_before_anything_is_written() {
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    let p = t.sb.pass_file("a.pass", &[PASS_A]);
    // Not a plugin recipient: refused before the passphrase is asked.
    let x25519 = "age1q8g8js723hhtsflclwr5sjtz6awyguplx2839j4wshac0t46wewqj4k67u";
    let none = t.sb.pass_file("none.pass", &[]);
    t.cmd("tok", &[PIN])
        .args([
            "identity",
            "new",
            "--name",
            "Ana",
            "--token-recipient",
            x25519,
        ])
        .arg("--passphrase-file")
        .arg(&none)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: `age1q8g8js72…` is not an age plugin recipient",
        ));
    assert!(!t.sb.ws().join("registry.json").exists());
    // Plugin missing, wrong token or refused PIN at creation: no identity
    // file, no registry entry; the attempt is audited.
    let (other, _) = t.token("tok-other", Some(PIN));
    let mut missing = t.cmd("tok", &[PIN]);
    missing.env("PATH", "/usr/bin:/bin");
    let cases = [
        (missing, recipient.clone(), "was not found on the PATH"),
        (
            t.cmd("tok", &[PIN]),
            other,
            "not the token the identity was sealed to",
        ),
        (
            t.cmd("tok", &["999999"]),
            recipient.clone(),
            "the token refused the PIN",
        ),
    ];
    for (mut c, r, expected) in cases {
        c.args(["identity", "new", "--name", "Ana", "--token-recipient", &r])
            .arg("--passphrase-file")
            .arg(&p)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(expected));
        assert!(!t.identity_path("ana").exists(), "{expected}");
        let reg: Value = std::fs::read(t.sb.ws().join("registry.json"))
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or(Value::Null);
        assert_eq!(
            reg["custodians"].as_array().map_or(0, Vec::len),
            0,
            "{expected}"
        );
        let last = t.audit().pop().unwrap();
        assert_eq!(last["event"], "IDENTITY_CREATE");
        assert_eq!(last["status"], "FAILED");
    }
}

/// The real `age` CLI, with the same plugin on its PATH, opens what we
/// sealed to the token, and we open what it encrypted to the token.
#[test]
fn the_age_cli_and_custodian_read_each_others_token_files() {
    if missing_tool("age") {
        return;
    }
    let t = Tok::new();
    // No PIN: the age CLI would ask it on a terminal the test does not have.
    let (recipient, plugin_identity) = t.token("tok", None);
    let created = t.new_token_identity("Ana", "tok", &recipient);
    let ana = created["recipient"].as_str().unwrap();

    // Ours → age: the inner file of our identity is an age file to the token.
    let file = IdentityFile::load(&t.identity_path("ana")).unwrap();
    let inner = file.envelope.open(&SecretString::from(PASS_A)).unwrap();
    let sealed = t.sb.file("inner.age");
    std::fs::write(&sealed, inner.expose_secret()).unwrap();
    let id_file = t.sb.file("plugin-identity.txt");
    std::fs::write(&id_file, format!("{plugin_identity}\n")).unwrap();
    let out = Std::new("age")
        .env("PATH", t.path_with_plugin())
        .env("CUSTODIANTEST_TOKEN", t.sb.file("tok"))
        .arg("-d")
        .arg("-i")
        .arg(&id_file)
        .arg(&sealed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    assert!(key.starts_with("AGE-SECRET-KEY-1"));
    let key: age::x25519::Identity = key.trim().parse().unwrap();
    assert_eq!(key.to_public().to_string(), ana);

    // age → ours: age encrypts a fresh key to the token; we seal that as an
    // identity file (the documented format) and `identity open` opens it.
    let fresh = age::x25519::Identity::generate();
    let fresh_recipient = fresh.to_public().to_string();
    let plain = t.sb.file("fresh.key");
    std::fs::write(&plain, fresh.to_string().expose_secret()).unwrap();
    let by_age = t.sb.file("fresh.age");
    let st = Std::new("age")
        .env("PATH", t.path_with_plugin())
        .args(["-r", &recipient, "-o"])
        .arg(&by_age)
        .arg(&plain)
        .status()
        .unwrap();
    assert!(st.success());
    let created_at = "2026-11-30T10:00:00Z";
    let context = json!({
        "kind": "custodian-identity", "name": "Bo", "recipient": fresh_recipient,
        "createdAt": created_at, "tokenRecipient": recipient,
    });
    let env = envelope::seal(
        &std::fs::read(&by_age).unwrap(),
        &SecretString::from(PASS_B),
        envelope::DEFAULT_ITERATIONS,
        Some(context),
    )
    .unwrap();
    let doc = json!({
        "format": "custodian-identity", "version": 1, "name": "Bo",
        "recipient": fresh_recipient, "createdAt": created_at,
        "envelope": serde_json::to_value(&env).unwrap(),
        "token": {"plugin": "custodiantest", "recipient": recipient},
    });
    let bo = t.sb.file("bo.identity.json");
    std::fs::write(&bo, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let p = t.sb.pass_file("bo.pass", &[PASS_B]);
    t.cmd("tok", &[])
        .args(["identity", "open"])
        .arg(&bo)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "key matches {fresh_recipient}"
        )));
}

/// Guardian shares hold the raw key: rebuilding needs no token (the way
/// back from a lost one), and the rebuilt identity is sealed to the
/// registered token again, or to a newly enrolled one.
#[test]
fn a_guardian_rebuild_reseals_with_the_token_requirement() {
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    t.new_token_identity("Vic", "tok", &recipient);
    let identity = t.identity_path("vic");
    let guardians = ["Ana", "Ben", "Cy"];
    let mut lines = vec![PASS_A.to_string()];
    lines.extend(guardians.iter().map(|g| gpass(g)));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let p = t.sb.pass_file("split.pass", &refs);
    // Splitting opens the identity: passphrase and token.
    let out = t
        .cmd("tok", &[PIN])
        .args(["--json", "guardians", "split", "--identity"])
        .arg(&identity)
        .args([
            "--threshold",
            "2",
            "--guardians",
            "Ana,Ben,Cy",
            "--passphrase-file",
        ])
        .arg(&p)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let split: Value = serde_json::from_slice(&out).unwrap();
    let shares: Vec<PathBuf> = split["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| PathBuf::from(s["file"].as_str().unwrap()))
        .collect();

    // Rebuilding needs no token; re-sealing to the registered token checks
    // that token opens the result, so with the token absent nothing is
    // written and the token's error says why.
    let rebuilt = t.sb.file("vic.rebuilt.identity.json");
    let p = t.sb.pass_file(
        "combine.pass",
        &[
            &gpass("Ana"),
            &gpass("Ben"),
            "another strong passphrase for vic rebuilt",
        ],
    );
    t.cmd("no-such-token", &[])
        .args(["guardians", "combine"])
        .args(&shares[..2])
        .arg("--out")
        .arg(&rebuilt)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no token inserted"));
    assert!(!rebuilt.exists());
    // With the token present, the rebuilt identity needs it again.
    t.cmd("tok", &[PIN])
        .args(["guardians", "combine"])
        .args(&shares[..2])
        .arg("--out")
        .arg(&rebuilt)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success();
    let file = IdentityFile::load(&rebuilt).unwrap();
    assert_eq!(file.token.as_ref().unwrap().recipient, recipient);

    // Enrolling a new token: the rebuilt file needs it, and the registry
    // now records it.
    let (new_recipient, _) = t.token("tok-new", Some(PIN));
    let rebuilt2 = t.sb.file("vic.rebuilt2.identity.json");
    let p = t.sb.pass_file(
        "combine2.pass",
        &[
            &gpass("Ben"),
            &gpass("Cy"),
            "another strong passphrase for vic rebuilt",
        ],
    );
    t.cmd("tok-new", &[PIN])
        .args(["guardians", "combine"])
        .args(&shares[1..])
        .arg("--out")
        .arg(&rebuilt2)
        .args(["--token-recipient", &new_recipient])
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success();
    let file2 = IdentityFile::load(&rebuilt2).unwrap();
    assert_eq!(file2.token.as_ref().unwrap().recipient, new_recipient);
    let reg: Value =
        serde_json::from_slice(&std::fs::read(t.sb.ws().join("registry.json")).unwrap()).unwrap();
    assert_eq!(reg["custodians"][0]["token"], new_recipient.as_str());
    let op =
        t.sb.pass_file("open2.pass", &["another strong passphrase for vic rebuilt"]);
    t.cmd("tok-new", &[PIN])
        .args(["identity", "open"])
        .arg(&rebuilt2)
        .arg("--passphrase-file")
        .arg(&op)
        .assert()
        .success();
    t.cmd("tok", &[PIN])
        .args(["identity", "open"])
        .arg(&rebuilt2)
        .arg("--passphrase-file")
        .arg(&op)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "not the token the identity was sealed to",
        ));
}

/// Threat 3 in `custodian check`: custodians without a token are reported
/// while the policy advises a token, and fail the check once it requires one.
#[test]
fn check_reports_custodians_without_a_token_by_policy() {
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    t.new_token_identity("Ana", "tok", &recipient);
    let p = t.sb.pass_file("bo.pass", &[PASS_B]);
    t.sb.cmd()
        .args(["identity", "new", "--name", "Bo", "--passphrase-file"])
        .arg(&p)
        .assert()
        .success();
    let token_check = |out: &[u8]| -> Value {
        let v: Value = serde_json::from_slice(out).unwrap();
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "token-second-factor")
            .unwrap()
            .clone()
    };
    // Advised (the default): reported, passing.
    let out = t.sb.cmd().args(["--json", "check"]).output().unwrap();
    let c = token_check(&out.stdout);
    assert_eq!(c["status"], "pass", "{c}");
    let findings = c["findings"].to_string();
    assert!(
        findings.contains("Bo: the identity opens with a passphrase alone (policy: token advised)"),
        "{c}"
    );
    assert!(!findings.contains("Ana:"), "{c}");
    // Required: the same custodian fails the check; the change is audited.
    t.sb.cmd()
        .args(["check", "--token-policy", "required"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "hardware-token policy: required (was advised)",
        ));
    let last = t.audit().pop().unwrap();
    assert_eq!(last["event"], "TOKEN_POLICY_SET");
    assert_eq!(last["status"], "COMPLETED");
    let out = t.sb.cmd().args(["--json", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let c = token_check(&out.stdout);
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["findings"]
            .to_string()
            .contains("Bo: the identity opens with a passphrase alone (policy: token required)")
    );
    t.sb.cmd()
        .args(["check", "--token-policy", "sometimes"])
        .assert()
        .code(2);
}

/// Rotation of a custodian with a token: the new identity needs the
/// passphrase and the token again — the registered token by default, or a
/// new one enrolled with `--token-recipient` (CLARIFICATIONS 17) — and the
/// registry records it. Opening the old identity asks the token (PIN from
/// the plugin callbacks); the new one is opened once to prove it.
#[test]
fn rotation_keeps_the_token_requirement_or_enrols_a_new_token() {
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    t.new_token_identity("Ana", "tok", &recipient);
    let new_pass = "a new strong passphrase for ana rotated";
    let rotate = |token: &str, pins: &[&str], extra: &[&str], passes: &[&str]| {
        let p = t.sb.pass_file("rotate.pass", passes);
        let mut c = t.cmd(token, pins);
        c.args(["--json", "rotate", "--custodian", "Ana"])
            .args(extra)
            .arg("--passphrase-file")
            .arg(p);
        c.assert()
    };
    // Every file but the audit log and the inputs the calls write.
    let kept = || -> Vec<(PathBuf, Vec<u8>)> {
        t.files_but_audit()
            .into_iter()
            .filter(|(p, _)| {
                let n = p.file_name().unwrap().to_string_lossy();
                !n.ends_with(".pass") && !n.starts_with("pins-") && !n.starts_with("tok")
            })
            .collect()
    };
    // Without the token the old identity does not open: nothing changes.
    let before = kept();
    rotate("no-such-token", &[], &[], &[PASS_A, new_pass])
        .code(1)
        .stderr(predicate::str::contains("no token inserted"));
    assert_eq!(kept(), before, "nothing may change");
    // Same token: the new identity needs it.
    let out = rotate("tok", &[PIN, PIN], &[], &[PASS_A, new_pass])
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let first = PathBuf::from(v["identityFile"].as_str().unwrap());
    let file = IdentityFile::load(&first).unwrap();
    assert_eq!(file.token.as_ref().unwrap().recipient, recipient);
    let reg: Value =
        serde_json::from_slice(&std::fs::read(t.sb.ws().join("registry.json")).unwrap()).unwrap();
    assert_eq!(reg["custodians"][0]["token"], recipient.as_str());
    // The last rotation entry (the refused attempt above has its own).
    let rotated = t
        .audit()
        .into_iter()
        .rfind(|e| e["event"] == "CUSTODIAN_ROTATE" && e["status"] == "INITIATED")
        .unwrap();
    assert_eq!(rotated["details"]["tokenRecipient"], recipient.as_str());
    // The passphrase alone does not open it: the token is asked.
    let op = t.sb.pass_file("open.pass", &[new_pass]);
    t.cmd("no-such-token", &[])
        .args(["identity", "open"])
        .arg(&first)
        .arg("--passphrase-file")
        .arg(&op)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no token inserted"));
    // A custodian without a token enrols one at rotation.
    let bp = t.sb.pass_file("ben.pass", &[PASS_B]);
    t.cmd("tok", &[])
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(&bp)
        .assert()
        .success();
    let p = t.sb.pass_file("rotate-ben.pass", &[PASS_B, new_pass]);
    let out = t
        .cmd("tok", &[PIN])
        .args([
            "--json",
            "rotate",
            "--custodian",
            "Ben",
            "--token-recipient",
            &recipient,
        ])
        .arg("--passphrase-file")
        .arg(p)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let ben = IdentityFile::load(Path::new(v["identityFile"].as_str().unwrap())).unwrap();
    assert_eq!(ben.token.as_ref().unwrap().recipient, recipient);
    // Enrolling a token that is not present: the proof that the new file
    // opens fails with the token's error, and nothing is written.
    let (other, _) = t.token("tok-other", Some(PIN));
    let before = kept();
    let p = t.sb.pass_file("rotate-again.pass", &[new_pass, PASS_B]);
    t.cmd("tok", &[PIN, PIN])
        .args(["rotate", "--custodian", "Ana", "--token-recipient", &other])
        .arg("--passphrase-file")
        .arg(p)
        .assert()
        .code(1);
    assert_eq!(kept(), before, "nothing may change");
    let reg: Value =
        serde_json::from_slice(&std::fs::read(t.sb.ws().join("registry.json")).unwrap()).unwrap();
    assert_eq!(reg["custodians"][0]["token"], recipient.as_str());
}

/// The CLI's masked PIN prompt in a real terminal (tmux, 80x24): with no
/// PIN file, opening a token identity asks the PIN on the terminal
/// (rpassword, echo off); what is typed never appears on screen or in the
/// scrollback, and the identity opens.
#[test]
fn the_terminal_pin_prompt_is_masked_and_opens_the_identity() {
    if common::missing_tool("tmux") {
        return;
    }
    let t = Tok::new();
    let (recipient, _) = t.token("tok", Some(PIN));
    let created = t.new_token_identity("Ana", "tok", &recipient);
    let pass = t.sb.pass_file("open.pass", &[PASS_A]);
    let cmd = format!(
        "env -u CUSTODIAN_WORKSPACE -u CUSTODIAN_TOKEN_PIN_FILE -u CUSTODIANTEST_TOUCH PATH='{}' CUSTODIANTEST_TOKEN='{}' {} --workspace {} identity open {} --passphrase-file {}",
        t.path_with_plugin(),
        t.sb.file("tok").display(),
        env!("CARGO_BIN_EXE_custodian"),
        t.sb.ws().display(),
        t.identity_path("ana").display(),
        pass.display(),
    );
    let tm = common::tmux::Tmux::start_recording_status(t.sb.path(), &cmd, 80, 24);
    tm.wait_for("token: Enter the PIN of your custodiantest token", 60);
    tm.text(PIN);
    // Typed but not yet sent: nothing of it is on the screen.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let typed = tm.screen();
    assert!(!typed.contains(PIN), "the PIN is echoed:\n{typed}");
    tm.keys(&["Enter"]);
    tm.wait_for("Touch your custodiantest token now", 30);
    let done = tm.wait_for("key matches", 60);
    // The recipient wraps at 80 columns.
    assert!(
        done.replace('\n', "")
            .contains(created["recipient"].as_str().unwrap()),
        "{done}"
    );
    assert_eq!(tm.exit_status(10), "0");
    let history = tm.history();
    assert!(
        !history.contains(PIN),
        "the PIN is in the scrollback:\n{history}"
    );
}
