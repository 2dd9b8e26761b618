//! The onboarding ceremony from the home screen in a real 80×24 terminal
//! (tmux): the plan typed in, the identity and the guardians' passphrases,
//! one guardian's wrong passphrase refused and typed again, every share
//! proved, the record written; the registry and the record checked after.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::tmux::Tmux;
use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use custodian_core::workspace::Workspace;

#[test]
fn onboarding_ceremony_from_home_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    common::clock_confirmed(&sb.ws()); // the once-a-day time question: tests/clock_tui.rs
    Workspace::open(sb.ws()).unwrap();
    let guardians: Vec<String> = (1..=5).map(|i| format!("G{i}")).collect();
    let gpass = |g: &str| format!("{PASS_B} {g}");
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("onboarding ceremony", 30);
    t.keys(&["O"]);
    t.wait_for("Plan file", 10);
    t.keys(&["Down"]);
    t.text("Olga Reyes");
    t.keys(&["Enter"]);
    t.text("Ana");
    t.keys(&["Enter"]);
    t.text(&guardians.join(", "));
    t.keys(&["Enter", "Enter"]);
    t.wait_for("1. Ana — 3-of-5", 10);
    t.keys(&["Enter"]);
    t.wait_for("choose the passphrase of your new identity", 60);
    for p in std::iter::once(format!("{PASS_A} Ana")).chain(guardians.iter().map(|g| gpass(g))) {
        t.text(&p);
        t.keys(&["Enter"]);
        t.text(&p);
        t.keys(&["Enter"]);
    }
    t.wait_for("Guardian G1: type your passphrase again", 300);
    t.text("not the passphrase of G1");
    t.keys(&["Enter"]);
    t.wait_for("guardian G1:", 60);
    for g in &guardians {
        t.wait_for(&format!("Guardian {g}: type"), 60);
        t.text(&gpass(g));
        t.keys(&["Enter"]);
    }
    let done = t.wait_for("Every custodian is split", 120);
    assert!(done.contains("✔ shares proved 5/5"), "{done}");
    t.keys(&["Enter"]);
    let recorded = t.wait_for("Ceremony record written", 60);
    assert!(recorded.contains("Audit head:"), "{recorded}");
    t.keys(&["Enter"]);
    t.wait_for("onboarding ceremony", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    let history = t.history();
    assert!(
        !history.contains(PASS_A) && !history.contains(PASS_B),
        "a passphrase reached the screen"
    );
    drop(t);
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    let cer = &reg.ceremonies[0];
    let record = std::fs::read_to_string(cer.record_file.as_ref().unwrap()).unwrap();
    assert!(record.contains("Present: Olga Reyes"), "{record}");
    assert!(record.contains(&reg.custodian("Ana").unwrap().recipient));
    assert_eq!(record.matches("| Ana | ").count(), 6, "{record}");
    sb.cmd()
        .args([
            "audit",
            "verify",
            "--expect-head",
            cer.audit_head.as_ref().unwrap(),
        ])
        .assert()
        .success();
}
