//! `custodian recover --show-once` in a real terminal (tmux): the key id
//! must be typed, the key shown is the verified key, a key press clears it,
//! and afterwards it is neither on the screen nor in the scrollback nor in
//! any file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use common::missing_tool;
use common::tmux::Tmux;
use custodian_core::shard::{self, ShardFile};
use k256::elliptic_curve::PrimeField;
use shard_fixture::*;

/// Issue 12: in the console at 80×24, one custodian types the wrong
/// passphrase; the error names their identity file, under the passphrase
/// field, and they type it again there — approvers, the first shard and
/// both paths are kept — and the recovery completes. The shard path goes
/// in as a bracketed paste.
#[test]
fn console_recovery_with_one_wrong_passphrase_fixed_in_place_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    let vault = custodian_core::identity::OpenedIdentity::generate("Vault");
    let out = sb.file("recovered.age");
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.keys(&["R"]);
    t.wait_for("THIS REBUILDS THE RAW PRIVATE KEY", 10);
    t.keys(&["Enter"]);
    t.wait_for("Approver name", 10);
    for name in ["Officer One", "Legal Two"] {
        t.text(name);
        t.keys(&["Enter"]);
    }
    t.keys(&["Enter"]);
    t.wait_for("Shards added: 0", 10);
    let fill = |i: u32, pass: &str| {
        // With a line break at its end: were the paste not bracketed, it
        // would arrive as Enter and move the focus on.
        t.paste(&format!("{}\n", shard(&sb, "alpha", i).display()));
        t.keys(&["Down"]);
        t.text(identity(&sb, holder(i)).to_str().unwrap());
        t.keys(&["Down"]);
        t.text(pass);
        t.keys(&["Enter"]);
    };
    fill(1, pass_of("Ana"));
    t.wait_for("Shards added: 1", 60);
    // Ben types Ana's passphrase.
    fill(2, pass_of("Ana"));
    let s = t.wait_for("does not open", 60);
    assert!(s.contains("Ben's"), "{s}");
    assert!(s.contains("Shards added: 1"), "{s}");
    assert!(
        s.contains("ben.shard.json"),
        "the shard path was lost:\n{s}"
    );
    assert!(!s.contains(pass_of("Ana")), "{s}");
    // Fixed in place: the focus is on the (masked, emptied) passphrase.
    t.text(pass_of("Ben"));
    t.keys(&["Enter"]);
    t.wait_for("Shards added: 2", 60);
    t.keys(&["Enter"]);
    t.wait_for("Choose exactly one output", 10);
    t.keys(&["2"]);
    t.text(&vault.recipient);
    t.keys(&["Enter"]);
    t.text(out.to_str().unwrap());
    t.keys(&["Enter"]);
    t.wait_for("CONFIRM", 10);
    t.keys(&["Enter"]);
    t.wait_for("written", 60);
    t.keys(&["Enter"]);
    t.wait_for("Custodians", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(10), "0");
    let plain = age::decrypt(vault.age_identity(), &std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap().trim().len(), 64);
    let events = audit_events(&sb);
    let n = events.len();
    assert_eq!(
        events[n - 3..],
        [
            ("RECOVER_PRIVATE_KEY".into(), "FAILED".into()),
            ("RECOVER_PRIVATE_KEY".into(), "INITIATED".into()),
            ("RECOVER_PRIVATE_KEY".into(), "COMPLETED".into()),
        ]
    );
}

/// `recover --show-once` of drill-alpha from Ben's and Cy's shards, as a
/// shell command line; `env` goes before it, `redirect` after it.
fn show_once_cmd(sb: &common::Sandbox, env: &str, redirect: &str) -> String {
    let pass = sb.pass_file("p", &[pass_of("Ben"), pass_of("Cy")]);
    format!(
        "{env} {} --workspace {} recover --shard {} --identity {} --shard {} --identity {} --approver 'Officer One' --approver 'Legal Two' --show-once --passphrase-file {} {redirect}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display(),
        shard(sb, "alpha", 2).display(),
        identity(sb, "Ben").display(),
        shard(sb, "alpha", 3).display(),
        identity(sb, "Cy").display(),
        pass.display()
    )
}

/// The key's hex as shown (eight groups of eight).
fn shown_key(screen: &str) -> String {
    screen
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 71 && l.chars().all(|c| c == ' ' || c.is_ascii_hexdigit()))
        .expect("key line")
        .replace(' ', "")
}

/// The alternate screen is off in these runs (see
/// [`Tmux::without_alternate_screen`]): the key really reaches the
/// scrollback while it is shown — asserted — so only the scrollback purge
/// can remove it, and the final check would fail without that purge.
#[test]
fn show_once_in_a_real_terminal_shows_the_verified_key_then_clears_it() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    let cmd = show_once_cmd(&sb, "", "");
    let t = Tmux::start_recording_status(sb.path(), &cmd, 120, 36);
    t.without_alternate_screen();
    t.wait_for("Type the key id (drill-alpha)", 60);
    t.text("drill-alpha");
    t.keys(&["Enter"]);
    let shown = t.wait_for("Clearing in", 10);
    assert!(shown.contains("PRIVATE KEY drill-alpha"), "{shown}");
    let key_hex = shown_key(&shown);
    // Each refresh's clear pushed the page into the scrollback.
    t.wait_for_scrollback(&key_hex[..8], 10);
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
    let cmd = show_once_cmd(&sb, "env CUSTODIAN_FAKE_SHOW_SECONDS=3", "");
    let t = Tmux::start_recording_status(sb.path(), &cmd, 80, 24);
    t.without_alternate_screen();
    t.wait_for("Type the key id (drill-alpha)", 60);
    t.text("drill-alpha");
    t.keys(&["Enter"]);
    let shown = t.wait_for("Clearing in", 10);
    let key_hex = shown_key(&shown);
    t.wait_for_scrollback(&key_hex[..8], 10);
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

/// A real terminal on standard input but standard output redirected to a
/// file (`… --show-once > out.txt`, in tmux): refused with "needs an
/// interactive terminal" before anything is decrypted, and the file holds
/// no key.
#[test]
fn show_once_with_stdout_redirected_to_a_file_is_refused() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    let out = sb.file("out.txt");
    // The refusal is immediate: the shell waits a moment before and after
    // (keeping the exit status), so tmux has set up the pane and read the
    // error before the program is gone.
    let cmd = format!(
        "sleep 0.5; {}; s=$?; sleep 0.5; (exit $s)",
        show_once_cmd(&sb, "", &format!("> {}", out.display()))
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 80, 24);
    assert_eq!(t.exit_status(60), "1");
    // With the scrollback: tmux's "Pane is dead" line can push the first
    // line of the error off the visible screen.
    let screen = t.history();
    assert!(
        screen.contains("--show-once needs an interactive terminal"),
        "{screen}"
    );
    assert!(!screen.contains("Type the key id"), "{screen}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        !written.contains("PRIVATE KEY") && !written.chars().any(|c| c.is_ascii_hexdigit()),
        "out.txt: {written:?}"
    );
    assert!(
        !audit_events(&sb)
            .iter()
            .any(|(e, s)| e == "RECOVER_PRIVATE_KEY" && s == "COMPLETED"),
        "a refused show-once recovered the key"
    );
}
