//! `custodian incident list|show|close` against incidents opened through the
//! library, as the console opens them.
#![allow(clippy::unwrap_used)]

use crate::common;

use custodian_core::playbook::incident;
use custodian_core::workspace::Workspace;
use predicates::prelude::*;

fn opened(sb: &common::Sandbox) -> String {
    common::incident_with_a_step(sb)
}

#[test]
fn list_show_and_close() {
    let sb = common::Sandbox::new();
    let id = opened(&sb);
    sb.cmd()
        .args(["incident", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{id}  scenario 2")).and(
            predicate::str::contains("open    1/4 steps  One custodian shard is lost"),
        ));
    sb.cmd()
        .args(["incident", "show", &id])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("record-loss  by Cy (confirmed by operator)")
                .and(predicate::str::contains("operators: Ana Officer, Cy")),
        );
    let out = sb
        .cmd()
        .args(["--json", "incident", "close", &id, "--operator", "Dee"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let ws = Workspace::open(sb.ws()).unwrap();
    let inc = incident::load(&ws, &id).unwrap();
    let report = inc.report.unwrap();
    assert_eq!(v["auditHead"], report.audit_head.as_str());
    assert!(
        std::fs::read_to_string(&report.path)
            .unwrap()
            .contains(&report.audit_head)
    );
    sb.cmd()
        .args(["incident", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("closed"));
}

#[test]
fn bad_requests_fail_with_a_remedy_and_change_nothing() {
    let sb = common::Sandbox::new();
    let id = opened(&sb);
    let before = sb.snapshot();
    sb.cmd()
        .args(["incident", "show", "INC-20260101-000000"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no incident `INC-20260101-000000`")
                .and(predicate::str::contains("custodian incident list")),
        );
    sb.cmd()
        .args(["incident", "show", "../registry"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no incident"));
    sb.cmd()
        .args(["incident", "close", &id, "--operator", "  "])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("an operator name is required"));
    assert_eq!(sb.snapshot(), before);

    sb.cmd()
        .args(["incident", "close", &id, "--operator", "Dee"])
        .assert()
        .success();
    let before = sb.snapshot();
    sb.cmd()
        .args(["incident", "close", &id, "--operator", "Dee"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("incident {id} is closed")));
    assert_eq!(sb.snapshot(), before);
}
