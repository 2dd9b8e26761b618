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
