//! Trustworthy storage, as a user meets it through the command line: a torn
//! audit tail repaired rather than called tampering, a typed registry that
//! refuses wrong shapes, read commands that never create a workspace,
//! inspect commands that validate like open, secrets never echoed, a
//! hardened process and `custodian check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASS_A, Sandbox};
use custodian_core::audit::AuditLog;
use predicates::prelude::*;

fn new_identity(sb: &Sandbox, name: &str) {
    sb.cmd()
        .args(["identity", "new", "--name", name, "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .success();
}

#[test]
fn a_torn_audit_tail_is_reported_then_repaired_not_called_tampering() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    let path = sb.ws().join("audit.jsonl");
    let head = AuditLog::new(&path).verify().unwrap().head;
    // What a full disk leaves: part of an entry, no newline.
    let torn = br#"{"seq":3,"time":"2026-11-30T04:00:00Z","event":"IDENT"#;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(torn);
    std::fs::write(&path, &bytes).unwrap();

    // A read-only command reports the pending repair and writes nothing.
    sb.cmd()
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("audit log intact: 2 entries"))
        .stdout(predicate::str::contains("repair pending"))
        .stdout(predicate::str::contains("not tampering"))
        .stdout(predicate::str::contains("security incident").not());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    // The next audited command succeeds and records the repair.
    new_identity(&sb, "Ben");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n') && !text.contains("\"IDENT{"));
    let sha = custodian_core::fsutil::sha256_hex(torn);
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success()
        .stdout(predicate::str::contains("audit log intact: 5 entries"))
        .stdout(predicate::str::contains(
            "repaired: entry 3 records a torn final line",
        ))
        .stdout(predicate::str::contains(format!(
            "{} bytes, sha256 {sha}",
            torn.len()
        )))
        .stdout(predicate::str::contains("repair pending").not());
    let json = sb
        .cmd()
        .args(["--json", "audit", "verify"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["tailRepairs"][0]["removedBytes"], torn.len() as u64);
    assert_eq!(v["tailRepairs"][0]["removedSha256"], sha);
    assert!(v["pendingTailRepair"].is_null());
}

#[test]
fn a_bad_audit_line_is_numbered_from_one() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    let path = sb.ws().join("audit.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("garbage\n");
    std::fs::write(&path, &text).unwrap();
    sb.cmd()
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("audit log line 3"))
        .stderr(predicate::str::contains("line 0").not());
}

/// A real 3-of-5 split through the CLI, then the threat check and the
/// checklist item read the guardians' own section type.
#[test]
fn after_a_real_split_the_check_and_checklist_see_it() {
    use custodian_core::playbook::checklist::{AutoCheck, ItemState, evaluate};
    use custodian_core::playbook::checks::{CheckId, CheckStatus, run_all};
    use custodian_core::workspace::Workspace;

    let sb = Sandbox::new();
    new_identity(&sb, "Vic");
    let identity = sb.ws().join("identities/vic.identity.json");
    let mut lines = vec![PASS_A.to_string()];
    lines.extend((1..=5).map(|i| format!("{} guardian {i}", common::PASS_B)));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let ws = Workspace::open(sb.ws()).unwrap();
    let now = custodian_core::clock::now();
    let guardians_check = |ws: &Workspace| {
        let reg = ws.registry().unwrap();
        let r = run_all(ws, &reg, now, &Ok(vec![]))
            .into_iter()
            .find(|r| r.id == CheckId::GuardiansNotSplit)
            .unwrap();
        let item = evaluate(AutoCheck::GuardianSplits3Of5, ws, &reg, now);
        (r, item)
    };
    let (before, item) = guardians_check(&ws);
    assert_eq!(before.status, CheckStatus::Fail);
    assert!(matches!(item, ItemState::NotMet(_)));

    sb.cmd()
        .args(["guardians", "split", "--identity"])
        .arg(&identity)
        .args(["--threshold", "3", "--guardians", "Ana,Ben,Cy,Dee,Eli"])
        .arg("--passphrase-file")
        .arg(sb.pass_file("split.pass", &refs))
        .assert()
        .success();
    let (after, item) = guardians_check(&ws);
    assert_eq!(after.status, CheckStatus::Pass, "{:?}", after.findings);
    assert!(matches!(item, ItemState::Verified(_)), "{item:?}");
}

#[test]
fn a_wrong_shape_section_is_refused_by_name_and_left_alone() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    let path = sb.ws().join("registry.json");
    let mut reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    reg["guardianSplits"] = serde_json::json!(7);
    std::fs::write(&path, serde_json::to_vec_pretty(&reg).unwrap()).unwrap();
    let before = std::fs::read(&path).unwrap();
    sb.cmd()
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`guardianSplits`"))
        .stderr(predicate::str::contains("wrong shape"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
