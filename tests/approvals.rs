//! Authenticated approvals (custody hygiene): under the "authenticated"
//! policy each `--approver` of a recovery opens their own registered
//! identity; a wrong passphrase, an unregistered name, the same person
//! twice and too few authenticated approvals are each refused by name with
//! nothing written; the audit entry records recipients and "identity
//! opened", typed names marked as typed, and never a secret (canary scan).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod shard_fixture;

use common::{PASS_A, PASS_B, Sandbox};
use predicates::str::contains;
use serde_json::Value;
use shard_fixture::*;

fn set_authenticated(sb: &Sandbox) {
    sb.cmd()
        .args([
            "policy",
            "set",
            "approvals",
            "authenticated",
            "--operator",
            "Dee Officer",
        ])
        .assert()
        .success()
        .stdout(contains("was typed"));
}

/// `recover` of drill-alpha from shards 2 and 3 to Ana's recipient, with
/// `approvers` (flag, name) and passphrases `passes` (approvers first).
fn recover(
    sb: &Sandbox,
    approvers: &[(&str, &str)],
    passes: &[&str],
) -> assert_cmd::assert::Assert {
    let reg: Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    let to = reg["custodians"][0]["recipient"]
        .as_str()
        .unwrap()
        .to_string();
    let pf = sb.pass_file("pp", passes);
    let mut c = sb.cmd();
    c.arg("recover");
    for i in [2u32, 3] {
        c.arg("--shard")
            .arg(shard(sb, "alpha", i))
            .arg("--identity")
            .arg(identity(sb, holder(i)));
    }
    for (flag, name) in approvers {
        c.args([*flag, *name]);
    }
    c.args(["--to", &to, "--out"])
        .arg(sb.file("key.age"))
        .arg("--passphrase-file")
        .arg(pf);
    c.assert()
}

#[test]
fn a_new_workspace_requires_authenticated_approvals_and_an_old_one_keeps_typed() {
    let sb = Sandbox::new();
    sb.cmd()
        .args(["identity", "new", "--name", "Ana", "--passphrase-file"])
        .arg(sb.pass_file("a", &[PASS_A]))
        .assert()
        .success();
    let out = sb
        .cmd()
        .args(["--json", "policy", "show"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["approvals"], "authenticated");
    assert_eq!(v["explicit"], true);
    // A registry written before the setting existed reads as typed.
    let path = sb.ws().join("registry.json");
    let mut reg: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    reg.as_object_mut().unwrap().remove("policy");
    std::fs::write(&path, serde_json::to_vec_pretty(&reg).unwrap()).unwrap();
    let out = sb
        .cmd()
        .args(["--json", "policy", "show"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["approvals"], "typed");
    assert_eq!(v["explicit"], false);
}

#[test]
fn each_bad_approval_is_refused_by_name_and_nothing_is_written() {
    let sb = sandbox();
    set_authenticated(&sb);
    let policy_entry = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(policy_entry.contains("POLICY_SET") && policy_entry.contains("Dee Officer"));
    let shards = [pass_of(holder(2)), pass_of(holder(3))];
    // (approver flags and names, passphrases in the order asked, the error).
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        // Ana's passphrase is PASS_A; PASS_B does not open her identity.
        (
            vec![("--approver", "Ana"), ("--approver", "Ben")],
            vec![PASS_B, PASS_B, shards[0], shards[1]],
            "approver `Ana`: the passphrase does not open their identity",
        ),
        (
            vec![("--approver", "Ana"), ("--approver", "Zed")],
            vec![PASS_A, PASS_A, shards[0], shards[1]],
            "approver `Zed` is not a registered custodian",
        ),
        (
            vec![("--approver", "Ana"), ("--approver", "Ana")],
            vec![PASS_A, PASS_A, shards[0], shards[1]],
            "approver `Ana` is named twice",
        ),
        (
            vec![("--approver", "Ana"), ("--typed-approver", "Legal Two")],
            vec![PASS_A, shards[0], shards[1]],
            "requires authenticated approvals: at least 2",
        ),
    ];
    for (approvers, passes, expect) in cases {
        let before = sb.snapshot();
        recover(&sb, &approvers, &passes)
            .code(1)
            .stderr(contains(expect));
        // The pass file is new; everything else is as it was.
        let after: Vec<_> = sb
            .snapshot()
            .into_iter()
            .filter(|(p, _)| !p.ends_with("pp"))
            .collect();
        let before: Vec<_> = before
            .into_iter()
            .filter(|(p, _)| !p.ends_with("pp"))
            .collect();
        assert_eq!(after, before, "{expect}: something changed");
        assert!(!sb.file("key.age").exists());
    }
}

#[test]
fn the_audit_entry_records_recipients_and_presence_never_a_secret() {
    let sb = sandbox();
    set_authenticated(&sb);
    recover(
        &sb,
        &[
            ("--approver", "Ana"),
            ("--approver", "Ben"),
            ("--typed-approver", "Legal Two"),
        ],
        &[PASS_A, PASS_B, pass_of(holder(2)), pass_of(holder(3))],
    )
    .success();
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let entry: Value = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"] == "RECOVER_PRIVATE_KEY" && e["status"] == "INITIATED")
        .unwrap();
    let reg: Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    let recipient_of = |name: &str| {
        reg["custodians"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["recipient"]
            .clone()
    };
    let approvals = &entry["details"]["approvals"];
    assert_eq!(entry["details"]["approvalPolicy"], "authenticated");
    assert_eq!(approvals[0]["name"], "Ana");
    assert_eq!(approvals[0]["recipient"], recipient_of("Ana"));
    assert_eq!(approvals[0]["identityOpened"], true);
    assert_eq!(approvals[1]["recipient"], recipient_of("Ben"));
    assert_eq!(approvals[2]["name"], "Legal Two");
    assert_eq!(approvals[2]["typed"], true);
    assert!(approvals[2].get("recipient").is_none());
    // Canary scan: no passphrase, no age secret key in the log.
    for canary in [PASS_A, PASS_B, "AGE-SECRET-KEY-"] {
        assert!(!log.contains(canary), "{canary} reached the audit log");
    }
}
