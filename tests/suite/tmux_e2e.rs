//! A terminal end-to-end run: the real binary in a real terminal (tmux),
//! driven with send-keys and read with capture-pane, through the whole
//! "new custodian identity" wizard and a clean quit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::tmux::Tmux;
use common::{PASS_A, Sandbox, missing_tool};

#[test]
fn new_identity_wizard_in_a_real_terminal() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    let cmd = format!(
        "{} --workspace {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display()
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 120, 36);
    t.wait_for("No custodians yet", 20);
    t.keys(&["n"]);
    t.wait_for("Custodian name", 10);
    t.text("Ana Lopez");
    t.keys(&["Enter"]);
    t.wait_for("Passphrase again", 10);
    t.text(PASS_A);
    let s = t.wait_for("strong", 10);
    assert!(!s.contains(PASS_A), "passphrase visible on screen:\n{s}");
    t.keys(&["Tab"]);
    t.text(PASS_A);
    t.keys(&["Enter"]);
    let done = t.wait_for("Identity created and verified", 60);
    assert!(done.contains("Recipient:    age1"), "{done}");
    t.keys(&["Enter"]);
    t.wait_for("Custodians (1)", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(10), "0");
    // After quitting, the normal screen is back: the alternate screen was left.
    assert!(t.alive());
    let after = t.screen();
    assert!(
        !after.contains("Custodians (1)"),
        "console still on screen:\n{after}"
    );
    drop(t);
    let reg = custodian_core::workspace::Workspace::open(sb.ws())
        .unwrap()
        .registry()
        .unwrap();
    assert_eq!(reg.custodians[0].name, "Ana Lopez");
}

#[test]
fn the_console_repairs_on_open_and_says_what_it_repaired() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    sb.cmd()
        .args(["identity", "new", "--name", "Ana", "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .success();
    // A crash during an audit append left a torn line.
    let log = sb.ws().join("audit.jsonl");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"{\"seq\":9,\"time\":\"20");
    std::fs::write(&log, &bytes).unwrap();

    let cmd = format!(
        "{} --workspace {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display()
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 80, 24);
    let screen = t.wait_for("torn last line", 20);
    assert!(screen.contains("Chain intact"), "{screen}");
    t.keys(&["q"]);
    assert_eq!(t.exit_status(10), "0");
    let entries = custodian_core::audit::AuditLog::new(&log)
        .entries()
        .unwrap();
    assert!(
        entries.iter().any(|e| e.event == "AUDIT_TAIL_REPAIRED"),
        "the repair is on record"
    );
}
