//! Canary: run every foundation command with known passphrases and keys, and
//! check that no secret appears in any command's output, the audit log or
//! the registry — only in the files the user explicitly asked for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use common::{PASS_A, PASS_B, Sandbox};

#[test]
fn no_secret_reaches_output_or_audit() {
    let sb = Sandbox::new();
    let pa = sb.pass_file("a", &[PASS_A]);
    let pb = sb.pass_file("b", &[PASS_B]);
    let mut outputs = String::new();
    let mut run = |args: &[&str], extra: &[&std::path::Path]| {
        let mut c = sb.cmd();
        c.args(args);
        for p in extra {
            c.arg(p);
        }
        let out = c.output().unwrap();
        outputs.push_str(&String::from_utf8_lossy(&out.stdout));
        outputs.push_str(&String::from_utf8_lossy(&out.stderr));
        out.status.success()
    };

    assert!(run(
        &["identity", "new", "--name", "Ana", "--passphrase-file"],
        &[&pa]
    ));
    let id = sb.ws().join("identities/ana.identity.json");
    assert!(run(&["identity", "show"], &[&id]));
    assert!(run(&["--json", "identity", "show"], &[&id]));
    assert!(run(&["identity", "open", "--passphrase-file"], &[&pa, &id]));
    assert!(!run(
        &["identity", "open", "--passphrase-file"],
        &[&pb, &id]
    ));
    let key = sb.file("ana.key");
    assert!(run(
        &[
            "identity",
            "export",
            "--plaintext",
            "--i-understand-this-writes-a-plaintext-key",
            "--passphrase-file"
        ],
        &[&pa, &id, std::path::Path::new("--out"), &key]
    ));
    let secret_key = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    assert!(run(
        &[
            "identity",
            "import",
            "--name",
            "Ana Again",
            "--passphrase-file"
        ],
        &[&pb, &key]
    ));

    let plain = sb.file("plain.txt");
    std::fs::write(&plain, "canary-plaintext-7f3a").unwrap();
    let env = sb.file("plain.env");
    assert!(run(
        &["envelope", "seal", "--passphrase-file"],
        &[&pa, &plain, std::path::Path::new("--out"), &env]
    ));
    let opened = sb.file("opened.txt");
    assert!(run(
        &["envelope", "open", "--passphrase-file"],
        &[&pa, &env, std::path::Path::new("--out"), &opened]
    ));
    assert!(!run(
        &["envelope", "open", "--passphrase-file"],
        &[&pb, &env, std::path::Path::new("--out"), &sb.file("x")]
    ));
    assert!(run(&["audit", "show"], &[]));
    assert!(run(&["--json", "audit", "show"], &[]));
    assert!(run(&["audit", "verify"], &[]));

    // Passphrases from an inherited descriptor work too (and leak nowhere).
    let bin = assert_cmd::cargo::cargo_bin("custodian");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 3< '{}'; '{}' --workspace '{}' identity open --passphrase-fd 3 '{}'",
            pa.display(),
            bin.display(),
            sb.ws().display(),
            id.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    outputs.push_str(&String::from_utf8_lossy(&out.stdout));
    outputs.push_str(&String::from_utf8_lossy(&out.stderr));

    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let registry = std::fs::read_to_string(sb.ws().join("registry.json")).unwrap();
    assert!(audit.lines().count() >= 14);
    for (what, text) in [
        ("command output", &outputs),
        ("audit log", &audit),
        ("registry", &registry),
    ] {
        for secret in [PASS_A, PASS_B, secret_key.as_str(), "canary-plaintext-7f3a"] {
            assert!(!text.contains(secret), "{what} contains a secret");
        }
        // No fragment of the secret key either (e.g. a truncated debug print).
        assert!(
            !text.contains(&secret_key[16..40]),
            "{what} contains part of the key"
        );
    }
    // The secrets are only where the user asked for them.
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap(),
        "canary-plaintext-7f3a"
    );
}

#[test]
fn the_environment_variable_chooses_the_workspace() {
    let sb = Sandbox::new();
    // A read command names the workspace it was pointed at and, as it only
    // reads, does not create it.
    let ws = sb.file("from-env");
    assert_cmd::Command::cargo_bin("custodian")
        .unwrap()
        .env("CUSTODIAN_WORKSPACE", &ws)
        .args(["audit", "verify"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(ws.display().to_string()));
    assert!(!ws.exists());
    custodian_core::workspace::Workspace::open(&ws).unwrap();
    assert_cmd::Command::cargo_bin("custodian")
        .unwrap()
        .env("CUSTODIAN_WORKSPACE", &ws)
        .args(["audit", "verify"])
        .assert()
        .success();
    // The flag wins over the variable.
    let flag = sb.file("from-flag");
    custodian_core::workspace::Workspace::open(&flag).unwrap();
    assert_cmd::Command::cargo_bin("custodian")
        .unwrap()
        .env("CUSTODIAN_WORKSPACE", sb.file("unused"))
        .arg("--workspace")
        .arg(&flag)
        .args(["audit", "verify"])
        .assert()
        .success();
    assert!(!sb.file("unused").exists());
}
