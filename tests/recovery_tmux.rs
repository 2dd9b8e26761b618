//! `custodian recover --show-once` in a real terminal (tmux): the key id
//! must be typed, the key shown is the verified key, a key press clears it,
//! and afterwards it is neither on the screen nor in the scrollback nor in
//! any file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod shard_fixture;

use common::missing_tool;
use common::tmux::Tmux;
use custodian_core::shard::{self, ShardFile};
use k256::elliptic_curve::PrimeField;
use shard_fixture::*;

#[test]
fn show_once_in_a_real_terminal_shows_the_verified_key_then_clears_it() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    let pass = sb.pass_file("p", &[pass_of("Ben"), pass_of("Cy")]);
    let cmd = format!(
        "{} --workspace {} recover --shard {} --identity {} --shard {} --identity {} --approver 'Officer One' --approver 'Legal Two' --show-once --passphrase-file {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display(),
        shard(&sb, "alpha", 2).display(),
        identity(&sb, "Ben").display(),
        shard(&sb, "alpha", 3).display(),
        identity(&sb, "Cy").display(),
        pass.display()
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 120, 36);
    t.wait_for("Type the key id (drill-alpha)", 60);
    t.text("drill-alpha");
    t.keys(&["Enter"]);
    let shown = t.wait_for("Clearing in", 10);
    assert!(shown.contains("PRIVATE KEY drill-alpha"), "{shown}");
    let key_hex: String = shown
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 71 && l.chars().all(|c| c == ' ' || c.is_ascii_hexdigit()))
        .expect("key line")
        .replace(' ', "");
    let bytes: [u8; 32] = hex::decode(&key_hex).unwrap().try_into().unwrap();
    let scalar = k256::Scalar::from_repr(bytes.into()).unwrap();
    let root = ShardFile::load(&shard(&sb, "alpha", 2))
        .unwrap()
        .root_public_key;
    assert_eq!(
        shard::public_key_hex(&shard::public_of(&scalar).unwrap()),
        root
    );
    // Any key clears it early.
    t.keys(&["x"]);
    t.wait_for("the screen has been cleared", 10);
    assert_eq!(t.exit_status(10), "0");
    let first_group = &key_hex[..8];
    let history = t.history();
    assert!(
        !history.contains(first_group),
        "key still visible or in scrollback:\n{history}"
    );
    drop(t);
    assert!(!sb.all_text().to_lowercase().contains(&key_hex));
    let events = audit_events(&sb);
    assert_eq!(
        events.last().unwrap(),
        &(
            "RECOVER_PRIVATE_KEY_SCREEN_CLEARED".into(),
            "RECORDED".into()
        )
    );
}

/// The countdown running out (shortened to 3 s by the test-only
/// `CUSTODIAN_FAKE_SHOW_SECONDS`) clears the screen and the scrollback
/// (`ESC[3J`) without a key press, at 80x24; the key is then in neither.
#[test]
fn show_once_clears_screen_and_scrollback_when_the_countdown_ends() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    let pass = sb.pass_file("p", &[pass_of("Ben"), pass_of("Cy")]);
    let cmd = format!(
        "env CUSTODIAN_FAKE_SHOW_SECONDS=3 {} --workspace {} recover --shard {} --identity {} --shard {} --identity {} --approver 'Officer One' --approver 'Legal Two' --show-once --passphrase-file {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display(),
        shard(&sb, "alpha", 2).display(),
        identity(&sb, "Ben").display(),
        shard(&sb, "alpha", 3).display(),
        identity(&sb, "Cy").display(),
        pass.display()
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 80, 24);
    t.wait_for("Type the key id (drill-alpha)", 60);
    t.text("drill-alpha");
    t.keys(&["Enter"]);
    let shown = t.wait_for("Clearing in", 10);
    let key_hex: String = shown
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 71 && l.chars().all(|c| c == ' ' || c.is_ascii_hexdigit()))
        .expect("key line")
        .replace(' ', "");
    // No key is pressed: the countdown ends on its own.
    t.wait_for("the screen has been cleared", 15);
    assert_eq!(t.exit_status(10), "0");
    let history = t.history();
    for group in key_hex.as_bytes().chunks(8) {
        let group = std::str::from_utf8(group).unwrap();
        assert!(
            !history.contains(group),
            "key group {group} still on screen or in scrollback:\n{history}"
        );
    }
    drop(t);
    assert!(!sb.all_text().to_lowercase().contains(&key_hex));
}
