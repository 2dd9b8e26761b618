//! Audit log tests through the CLI: verify prints the head, every kind of
//! tampering is caught with the line named, and two processes appending at
//! once leave a valid chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use common::{PASS_A, Sandbox};
use custodian_core::audit::AuditLog;
use predicates::prelude::*;
use serde_json::json;

const CHILD_ENV: &str = "CUSTODIAN_TEST_AUDIT_CHILD";
const PER_CHILD: usize = 150;

/// Run as a child process by `two_processes_append_without_corrupting`:
/// appends PER_CHILD entries to the log named in the environment.
#[test]
fn audit_append_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return; // not running as a child
    };
    let log = AuditLog::new(path);
    let me = std::process::id();
    for i in 0..PER_CHILD {
        log.record("CHILD_APPEND", json!({ "pid": me, "i": i }))
            .unwrap();
    }
}

#[test]
fn two_processes_append_without_corrupting() {
    let sb = Sandbox::new();
    let path = sb.file("audit.jsonl");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .arg("--exact")
                .arg(common::harness_name(module_path!(), "audit_append_child"))
                .arg("--test-threads=1")
                .env(CHILD_ENV, &path)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let status = AuditLog::new(&path).verify().unwrap();
    assert_eq!(status.entries, 2 * PER_CHILD as u64);
    // Both children really interleaved their writes into one chain.
    let pids: std::collections::BTreeSet<u64> = AuditLog::new(&path)
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.details["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
}

fn workspace_with_entries(sb: &Sandbox) {
    for name in ["Ana", "Ben"] {
        sb.cmd()
            .args(["identity", "new", "--name", name, "--passphrase-file"])
            .arg(sb.pass_file("p", &[PASS_A]))
            .assert()
            .success();
    }
}

#[test]
fn verify_prints_the_head_and_show_filters() {
    let sb = Sandbox::new();
    workspace_with_entries(&sb);
    let log = AuditLog::new(sb.ws().join("audit.jsonl"));
    let head = log.verify().unwrap().head;
    sb.cmd()
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("audit log intact: 6 entries"))
        .stdout(predicate::str::contains(format!("head: {head}")));
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success();
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &"ab".repeat(32)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not in the audit log"));
    let shown = sb
        .cmd()
        .args(["audit", "show", "--event", "identity_create"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(shown).unwrap().lines().count(), 4);
}

#[test]
fn cli_verify_names_the_tampered_line() {
    let sb = Sandbox::new();
    workspace_with_entries(&sb);
    let path = sb.ws().join("audit.jsonl");
    let original = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = original.lines().collect();

    let edited = original.replacen("\"Ben\"", "\"Mallory\"", 1);
    let mut deleted = lines.clone();
    deleted.remove(1);
    let mut reordered = lines.clone();
    reordered.swap(1, 2);
    let mut inserted = lines.clone();
    inserted.insert(2, lines[1]);

    for (what, text, expect) in [
        ("edited", edited, "was edited"),
        ("deleted", deleted.join("\n") + "\n", "missing (deleted)"),
        ("reordered", reordered.join("\n") + "\n", "line 2"),
        ("inserted", inserted.join("\n") + "\n", "line 3"),
    ] {
        std::fs::write(&path, &text).unwrap();
        sb.cmd()
            .args(["audit", "verify"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(expect))
            .stderr(predicate::str::contains("security incident"));
        eprintln!("{what}: detected");
    }
    std::fs::write(&path, original).unwrap();
    sb.cmd().args(["audit", "verify"]).assert().success();
}
