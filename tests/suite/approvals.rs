//! Authenticated approvals (custody hygiene): under the "authenticated"
//! policy each `--approver` of a recovery opens their own registered
//! identity; a wrong passphrase, an unregistered name, the same person
//! twice and too few authenticated approvals are each refused by name with
//! nothing written; the audit entry records recipients and "identity
//! opened", typed names marked as typed, and never a secret (canary scan).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

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

/// Ana's recipient (the registry's).
fn recipient_of(sb: &Sandbox, name: &str) -> String {
    let reg: Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    reg["custodians"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["recipient"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The INITIATED audit entry of `event`.
fn initiated(sb: &Sandbox, event: &str) -> Value {
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    log.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"] == event && e["status"] == "INITIATED")
        .unwrap_or_else(|| panic!("no INITIATED {event}"))
}

/// No passphrase and no age secret key in the audit log or any report.
fn canary_scan(sb: &Sandbox) {
    let mut text = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    if let Ok(rd) = std::fs::read_dir(sb.ws().join("incidents")) {
        for e in rd.flatten() {
            text.push_str(&std::fs::read_to_string(e.path()).unwrap());
        }
    }
    for canary in [PASS_A, PASS_B, "AGE-SECRET-KEY-"] {
        assert!(!text.contains(canary), "{canary} was written down");
    }
}

/// Every file but the passphrase file `pp`, for "nothing changed".
fn files_but_pass(sb: &Sandbox) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    sb.snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("pp"))
        .collect()
}

/// `shard rewrap` of Ben's drill-alpha shard to Ana (who would then hold
/// the threshold alone: the override), with approver flags and passphrases
/// (approvers first, then Ben's as the holder).
fn rewrap_to_ana(
    sb: &Sandbox,
    approvers: &[(&str, &str)],
    passes: &[&str],
) -> assert_cmd::assert::Assert {
    let pf = sb.pass_file("pp", passes);
    let mut c = sb.cmd();
    c.args(["shard", "rewrap"])
        .arg(shard(sb, "alpha", 2))
        .arg("--identity")
        .arg(identity(sb, "Ben"))
        .args(["--to", &recipient_of(sb, "Ana"), "--name", "Ana", "--out"])
        .arg(sb.file("to-ana.shard.json"));
    for (flag, name) in approvers {
        c.args([*flag, *name]);
    }
    c.arg("--passphrase-file").arg(pf);
    c.assert()
}

#[test]
fn the_concentration_override_needs_approvers_who_open_their_identity() {
    let sb = sandbox();
    set_authenticated(&sb);
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        // Cy's passphrase is PASS_A.
        (
            vec![("--approver", "Ben"), ("--approver", "Cy")],
            vec![PASS_B, PASS_B, PASS_B],
            "approver `Cy`: the passphrase does not open their identity",
        ),
        (
            vec![("--approver", "Ben"), ("--approver", "Zed")],
            vec![PASS_B, PASS_A, PASS_B],
            "approver `Zed` is not a registered custodian",
        ),
        (
            vec![("--approver", "Cy"), ("--approver", "cy")],
            vec![PASS_A, PASS_A, PASS_B],
            "approver `cy` is named twice",
        ),
        (
            vec![("--approver", "Cy"), ("--typed-approver", "Legal Two")],
            vec![PASS_A, PASS_B],
            "requires authenticated approvals: at least 2",
        ),
        // Typed names alone, as before the policy: refused now.
        (
            vec![
                ("--typed-approver", "Olga Reyes"),
                ("--typed-approver", "Pat Kim"),
            ],
            vec![PASS_B],
            "requires authenticated approvals: at least 2",
        ),
    ];
    for (approvers, passes, expect) in cases {
        let before = files_but_pass(&sb);
        rewrap_to_ana(&sb, &approvers, &passes)
            .code(1)
            .stderr(contains(expect));
        assert_eq!(files_but_pass(&sb), before, "{expect}: something changed");
    }
    rewrap_to_ana(
        &sb,
        &[
            ("--approver", "Ben"),
            ("--approver", "Cy"),
            ("--typed-approver", "Legal Two"),
        ],
        &[PASS_B, PASS_A, PASS_B],
    )
    .success()
    .stderr(contains("override approved by Ben (identity opened, age1"))
    .stderr(contains("Legal Two (typed name)"));
    let entry = initiated(&sb, "SHARD_REWRAP");
    let approvals = &entry["details"]["concentration"]["overrideApprovals"];
    assert_eq!(approvals[0]["name"], "Ben");
    assert_eq!(approvals[0]["recipient"], recipient_of(&sb, "Ben"));
    assert_eq!(approvals[0]["identityOpened"], true);
    assert_eq!(approvals[1]["recipient"], recipient_of(&sb, "Cy"));
    assert_eq!(approvals[2]["name"], "Legal Two");
    assert_eq!(approvals[2]["typed"], true);
    canary_scan(&sb);
}

#[test]
fn a_retirement_override_needs_approvers_who_open_their_identity() {
    let sb = sandbox();
    set_authenticated(&sb);
    // Ana retires to Ben, who would then hold both keys' threshold alone.
    let retire = |approvers: &[(&str, &str)], passes: &[&str]| {
        let pf = sb.pass_file("pp", passes);
        let mut c = sb.cmd();
        c.args(["retire", "--custodian", "Ana", "--successor", "Ben"]);
        for (flag, name) in approvers {
            c.args([*flag, *name]);
        }
        c.arg("--passphrase-file").arg(pf);
        c.assert()
    };
    let before = files_but_pass(&sb);
    retire(
        &[("--approver", "Cy"), ("--approver", "Ben")],
        &[PASS_A, PASS_A, PASS_A],
    )
    .code(1)
    .stderr(contains(
        "approver `Ben`: the passphrase does not open their identity",
    ));
    retire(
        &[
            ("--typed-approver", "Olga Reyes"),
            ("--typed-approver", "Pat Kim"),
        ],
        &[PASS_A],
    )
    .code(1)
    .stderr(contains("requires authenticated approvals: at least 2"));
    // The successor opening their own identity does not make them an
    // approver of their own override.
    retire(
        &[("--approver", "Cy"), ("--approver", "Ben")],
        &[PASS_A, PASS_B, PASS_A],
    )
    .code(1)
    .stderr(contains(
        "approver `Ben` is the successor of this operation and cannot approve their own override",
    ));
    assert_eq!(files_but_pass(&sb), before, "nothing changed");
    sb.register_approvers();
    let (other, other_pass) = common::APPROVERS[0];
    retire(
        &[("--approver", "Cy"), ("--approver", other)],
        &[PASS_A, other_pass, PASS_A],
    )
    .success()
    .stdout(contains("retired Ana; successor Ben"));
    let entry = initiated(&sb, "CUSTODIAN_RETIRE");
    let approvals = &entry["details"]["overrideApprovals"];
    assert_eq!(entry["details"]["approvalPolicy"], "authenticated");
    assert_eq!(approvals[0]["name"], "Cy");
    assert_eq!(approvals[0]["identityOpened"], true);
    assert_eq!(approvals[1]["name"], other);
    assert_eq!(approvals[1]["identityOpened"], true);
    canary_scan(&sb);
}

#[test]
fn an_incident_close_needs_approvers_who_open_their_identity() {
    let sb = sandbox();
    set_authenticated(&sb);
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    let book = custodian_core::playbook::Playbook::builtin();
    let id = custodian_core::playbook::incident::open(&ws, book, 2, "Ana", None)
        .unwrap()
        .id;
    let close = |approvers: &[(&str, &str)], passes: &[&str]| {
        let pf = sb.pass_file("pp", passes);
        let mut c = sb.cmd();
        c.args([
            "incident",
            "close",
            &id,
            "--operator",
            "Dee",
            "--confirm-time",
        ]);
        for (flag, name) in approvers {
            c.args([*flag, *name]);
        }
        c.arg("--passphrase-file").arg(pf);
        c.assert()
    };
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![],
            vec![],
            "requires authenticated approvals: at least 2",
        ),
        (
            vec![("--approver", "Ana"), ("--approver", "Ben")],
            vec![PASS_B, PASS_B],
            "approver `Ana`: the passphrase does not open their identity",
        ),
        (
            vec![("--approver", "Ana"), ("--approver", "Zed")],
            vec![PASS_A, PASS_A],
            "approver `Zed` is not a registered custodian",
        ),
        (
            vec![("--approver", "Ana"), ("--typed-approver", "ana")],
            vec![PASS_A],
            "approver `ana` is named twice",
        ),
        (
            vec![("--approver", "Ana"), ("--typed-approver", "Legal Two")],
            vec![PASS_A],
            "requires authenticated approvals: at least 2",
        ),
    ];
    for (approvers, passes, expect) in cases {
        let before = files_but_pass(&sb);
        close(&approvers, &passes).code(1).stderr(contains(expect));
        assert_eq!(files_but_pass(&sb), before, "{expect}: something changed");
    }
    close(
        &[
            ("--approver", "Ana"),
            ("--approver", "Ben"),
            ("--typed-approver", "Legal Two"),
        ],
        &[PASS_A, PASS_B],
    )
    .success()
    .stdout(contains("approved by Legal Two (typed name)"));
    let entry = initiated(&sb, "INCIDENT_CLOSE");
    let approvals = &entry["details"]["approvals"];
    assert_eq!(entry["details"]["approvalPolicy"], "authenticated");
    assert_eq!(approvals[0]["recipient"], recipient_of(&sb, "Ana"));
    assert_eq!(approvals[0]["identityOpened"], true);
    assert_eq!(approvals[1]["recipient"], recipient_of(&sb, "Ben"));
    assert_eq!(approvals[2]["typed"], true);
    let report =
        std::fs::read_to_string(sb.ws().join("incidents").join(format!("{id}.md"))).unwrap();
    assert!(
        report.contains("| Close approved by | Ana (identity opened, age1")
            && report.contains("Legal Two (typed name)"),
        "{report}"
    );
    canary_scan(&sb);
}

/// The console's close step under the authenticated policy: each approver
/// opens their own identity on a worker; a wrong passphrase is refused in
/// place naming them; one approver is not enough; the close records both.
#[test]
fn the_console_close_asks_approvers_to_open_their_identity() {
    use common::tui::{self, key, screen_text, type_text};
    use crossterm::event::KeyCode;
    let sb = sandbox();
    set_authenticated(&sb);
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    let book = custodian_core::playbook::Playbook::builtin();
    let id = custodian_core::playbook::incident::open(&ws, book, 2, "Ana", None)
        .unwrap()
        .id;
    let mut app = tui::offline_app(ws.clone());
    let small = |app: &custodian::tui::app::App| screen_text(&tui::draw(app, 80, 24));
    let pump = |app: &mut custodian::tui::app::App| {
        assert!(app.pump_until_idle(std::time::Duration::from_secs(120)));
    };
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Char('c'));
    type_text(&mut app, "Dee");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, PASS_B);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let s = small(&app);
    assert!(s.contains("approver `Ana`: the passphrase does not"), "{s}");
    type_text(&mut app, PASS_A);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(
        small(&app).contains("✔ Ana (identity opened)"),
        "{}",
        small(&app)
    );
    // One Esc never loses an approver who opened their identity: it goes
    // back to the operator's name; a second asks, naming what it would
    // discard; any other key keeps everything.
    key(&mut app, KeyCode::Esc);
    let s = small(&app);
    assert!(s.contains("✔ Ana (identity opened)"), "{s}");
    assert!(s.contains("Your name: Dee"), "{s}");
    key(&mut app, KeyCode::Esc);
    let s = small(&app);
    assert!(s.contains("✔ Ana (identity opened)"), "{s}");
    assert!(s.contains("Esc again leaves and discards"), "{s}");
    assert!(s.contains("1 approval"), "{s}");
    key(&mut app, KeyCode::End);
    assert!(!small(&app).contains("Esc again"));
    key(&mut app, KeyCode::Enter);
    // One approver is not enough: refused in place, nothing closed.
    key(&mut app, KeyCode::Enter);
    let s = small(&app);
    assert!(s.contains("requires authenticated approvals"), "{s}");
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, PASS_B);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    type_text(&mut app, "Legal Two");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    for (w, h) in [(80, 24), (120, 40)] {
        crate::snap!(
            format!("scenario_close_approvers_{w}x{h}"),
            tui::draw(&app, w, h)
        );
    }
    key(&mut app, KeyCode::Enter);
    let inc = custodian_core::playbook::incident::load(&ws, &id).unwrap();
    assert!(inc.is_closed(), "{}", small(&app));
    let names: Vec<(&str, bool)> = inc
        .close_approvals
        .iter()
        .map(|a| (a.name.as_str(), a.is_authenticated()))
        .collect();
    assert_eq!(names, [("Ana", true), ("Ben", true), ("Legal Two", false)]);
    canary_scan(&sb);
}
