//! A terminal end-to-end run of the DR kit's "create the recovery key
//! pair" wizard: the real binary in tmux, driven with send-keys and read
//! with capture-pane, including the QR view and a clean quit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::tmux::Tmux;
use common::{PASS_A, Sandbox, missing_tool};

#[test]
fn recovery_key_pair_wizard_in_a_real_terminal() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    let cmd = format!(
        "{} --workspace {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display()
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 140, 70);
    t.wait_for("No custodians yet", 20);
    t.keys(&["v"]);
    t.wait_for("Create the recovery key pair", 10);
    t.keys(&["1"]);
    t.wait_for("Private key file", 10);
    t.keys(&["Enter"]);
    t.keys(&["Enter"]);
    t.wait_for("Passphrase again", 10);
    t.text(PASS_A);
    t.keys(&["Tab"]);
    t.text(PASS_A);
    let s = t.screen();
    assert!(!s.contains(PASS_A), "passphrase visible on screen:\n{s}");
    t.keys(&["Enter"]);
    let done = t.wait_for("Recovery key pair created and checked", 300);
    let public = sb.ws().join("drkit/recovery-public.pem");
    let phrase = custodian_core::drkit::keys::verification_phrase(
        &std::fs::read_to_string(&public).unwrap(),
    );
    assert!(
        done.contains(&format!("Verification phrase: {phrase}")),
        "{done}"
    );
    // The QR code fits a 140x70 terminal.
    t.keys(&["v"]);
    let qr = t.wait_for("█", 10);
    assert!(!qr.contains("too small"), "{qr}");
    t.keys(&["v"]);
    t.wait_for("Verification phrase", 10);
    t.keys(&["Enter"]);
    t.wait_for("Derive Key Share #1 for wallets", 10);
    t.keys(&["Escape"]);
    t.wait_for("No custodians yet", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(10), "0");
    assert!(t.alive());
}
