//! The console's hardware-token dialog (issue 14, Deliver 1 and 3), through
//! the real `App` and the test plugin (examples/age-plugin-custodiantest.rs:
//! the real age plugin protocol over a software key, a PIN and a touch
//! message).
//!
//! The plugin is found on the PATH, which a test cannot change in its own
//! process: the tests that need it set up a sandbox, then run themselves
//! again in a child process with the plugin's PATH and token file
//! (`common::token::run_child`). A targeted run needs the plugin built:
//! `cargo test --release --test suite --example age-plugin-custodiantest -- token_tui::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::tui::{self, key, text, text_at, type_text};
use common::{PASS_A, PASS_B};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use custodian::tui::app::App;
use custodian::tui::event::Event;
use custodian::tui::worker::WorkerMsg;
use custodian_core::identity::IdentityFile;
use custodian_core::token::TokenUi;
use custodian_core::workspace::Workspace;

use common::token::{PIN, make_token, path_with, plugin_bin};
use common::{in_child, run_child};

/// The sandbox a child run works in (its parent made it).
const DIR: &str = "TOKEN_TUI_DIR";

fn dir() -> PathBuf {
    PathBuf::from(std::env::var_os(DIR).unwrap())
}

fn ws_dir(dir: &Path) -> PathBuf {
    dir.join("ws")
}

/// A sandbox with the plugin in `bin/` and a token with a PIN in `tok`;
/// returns the sandbox and the token's recipient.
fn token_sandbox() -> (common::Sandbox, PathBuf, String) {
    let sb = common::Sandbox::new();
    let bin = plugin_bin(sb.path());
    let (recipient, _) = make_token(&bin, &sb.file("tok"), Some(PIN));
    std::fs::write(sb.file("recipient"), &recipient).unwrap();
    (sb, bin, recipient)
}

/// Runs `test` in a child with the plugin on its PATH and the token in.
fn run_with_plugin(test: &str, sb: &common::Sandbox, bin: &Path) {
    run_with_token(test, sb, bin, &sb.file("tok"));
}

/// Runs `test` in a child with the plugin on its PATH and the token file
/// `token` in (another token than `tok`, for a wrong token).
fn run_with_token(test: &str, sb: &common::Sandbox, bin: &Path, token: &Path) {
    run_child(
        test,
        &[
            ("PATH", path_with(bin)),
            ("CUSTODIANTEST_TOKEN", token.into()),
            (DIR, sb.path().into()),
        ],
    );
}

/// Runs `test` like [`run_with_plugin`], its plugin waiting for each touch
/// until the sandbox's file `touched` exists.
fn run_with_slow_touch(test: &str, sb: &common::Sandbox, bin: &Path) {
    let mut touch = std::ffi::OsString::from("wait:");
    touch.push(sb.file("touched"));
    run_child(
        test,
        &[
            ("PATH", path_with(bin)),
            ("CUSTODIANTEST_TOKEN", sb.file("tok").into()),
            ("CUSTODIANTEST_TOUCH", touch),
            (DIR, sb.path().into()),
        ],
    );
}

/// Handles events until `until` holds (false if nothing more comes
/// within 120 s).
fn pump_until(app: &mut App, until: impl Fn(&App) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !until(app) {
        let left = deadline.saturating_duration_since(Instant::now());
        match app.events().rx.recv_timeout(left) {
            Ok(ev) => app.handle(ev),
            Err(_) => return false,
        }
    }
    true
}

/// The dialog asks for the token's PIN.
fn asks_pin(app: &App) -> bool {
    app.token_dialog_open() && text(app).contains("Token PIN")
}

/// The dialog shows the plugin's "touch your token".
fn shows_touch(app: &App) -> bool {
    app.token_dialog_open() && text(app).contains("Touch your custodiantest token now")
}

/// The command line on the sandbox `dir`'s workspace with `path` as the
/// PATH, the token `tok` in and `pin` as the answer to its PIN prompt.
fn cli(dir: &Path, path: &std::ffi::OsStr, pin: &str) -> assert_cmd::Command {
    let pins = dir.join("pins");
    std::fs::write(&pins, format!("{pin}\n")).unwrap();
    let mut c = assert_cmd::Command::cargo_bin("custodian").unwrap();
    c.env_remove("CUSTODIAN_WORKSPACE")
        .env("PATH", path)
        .env("CUSTODIANTEST_TOKEN", dir.join("tok"))
        .env("CUSTODIAN_TOKEN_PIN_FILE", &pins)
        .arg("--workspace")
        .arg(ws_dir(dir));
    c
}

/// Registers Tia with passphrase + token through the command line (its
/// PIN from a file), with `path` as the PATH.
fn tia_with_token(dir: &Path, path: &std::ffi::OsStr) {
    let recipient = std::fs::read_to_string(dir.join("recipient")).unwrap();
    let pass = dir.join("tia.pass");
    std::fs::write(&pass, format!("{PASS_A}\n")).unwrap();
    cli(dir, path, PIN)
        .args(["identity", "new", "--name", "Tia", "--token-recipient"])
        .arg(recipient.trim())
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .success();
}

/// The filters of this file's snapshots: the countdown and the short
/// form of a recipient vary.
const TOKEN_FILTERS: &[(&str, &str)] = &[
    (r"\d+ s left", "[N] s left"),
    (r"`age1[0-9a-z]{8}…`", "`age1[SHORT]…`"),
];

/// Answers every PIN request with `pin` until the job ends; returns how
/// many were asked. The plugin's "touch your token" closes when the plugin
/// answers, not when the job ends: no dialog is left up when it does.
fn answer_pins(app: &mut App, pin: &str) -> usize {
    let mut asked = 0;
    loop {
        if asks_pin(app) {
            asked += 1;
            type_text(app, pin);
            key(app, KeyCode::Enter);
            continue;
        }
        let ev = app
            .events()
            .rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the job went quiet");
        let finished = matches!(ev, Event::Worker(WorkerMsg::Finished(_)));
        if finished {
            assert!(
                !app.token_dialog_open(),
                "the token's dialog outlived the plugin's answer:\n{}",
                text(app)
            );
        }
        app.handle(ev);
        if finished {
            break;
        }
    }
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    asked
}

/// From home, the rotation of Tia (the only custodian) up to its
/// confirmation, then Enter: the rotation job starts, and opens Tia's
/// identity with its token.
fn start_rotation(app: &mut App) {
    to_confirmation(app);
    key(app, KeyCode::Enter);
}

/// From home, the rotation of Tia up to its confirmation.
fn to_confirmation(app: &mut App) {
    tui::key_settled(app, KeyCode::Char('o'));
    assert_eq!(app.current_title(), "Rotate custodian — Tia");
    type_text(app, PASS_A);
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    for _ in 0..2 {
        type_text(app, PASS_B);
        key(app, KeyCode::Enter);
    }
    let t = text(app);
    assert!(t.contains("Rotation of"), "{t}");
    assert!(
        t.contains("hardware token: kept, age1custodiantest1"),
        "{t}"
    );
}

/// The audit entries of `event` with `status`, as JSON.
fn audit(dir: &Path, event: &str, status: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(ws_dir(dir).join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == event && v["status"] == status)
        .collect()
}

/// Every file of the workspace but the audit log, for "nothing changed".
fn files_but_audit(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![ws_dir(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.ends_with("audit.jsonl") && !p.to_string_lossy().contains(".lock") {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn new_identity_with_a_token_asks_the_pin_in_the_dialog_and_completes() {
    let name = common::this_test!();
    if !in_child(&name) {
        let (sb, bin, _) = token_sandbox();
        return run_with_plugin(&name, &sb, &bin);
    }
    let dir = dir();
    let recipient = std::fs::read_to_string(dir.join("recipient")).unwrap();
    let mut app = tui::offline_app_as_is(Workspace::open(ws_dir(&dir)).unwrap());
    key(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "Tia");
    key(&mut app, KeyCode::Down);
    type_text(&mut app, recipient.trim());
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, PASS_A);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, PASS_A);
    key(&mut app, KeyCode::Enter);
    // The worker seals the key to the token and opens it once to prove it:
    // the plugin asks for the PIN, in the console's dialog.
    assert!(app.pump_until_token_prompt(Duration::from_secs(120)));
    let t = text_at(&app, 80, 24);
    assert!(t.contains("Hardware token"), "{t}");
    assert!(
        t.contains("Enter the PIN of your custodiantest token"),
        "{t}"
    );
    assert!(t.contains("s left"), "{t}");
    assert!(t.contains("Esc cancel"), "{t}");
    type_text(&mut app, "24");
    // Masked: the digits are never on screen.
    let t = text(&app);
    assert!(t.contains("Token PIN: ••"), "{t}");
    snap_both!("token_dialog_pin", app, TOKEN_FILTERS);
    type_text(&mut app, &PIN[2..]);
    key(&mut app, KeyCode::Enter);
    assert!(!app.token_dialog_open() || !text_at(&app, 80, 24).contains("Token PIN"));
    assert_eq!(answer_pins(&mut app, PIN), 0, "the PIN is asked once");
    let t = text(&app);
    assert!(t.contains("Tia"), "{t}");
    assert!(!t.contains("Failed"), "{t}");
    assert!(!t.contains(PIN), "{t}");
    // The identity is registered and needs both factors.
    let reg = Workspace::open(ws_dir(&dir)).unwrap().registry().unwrap();
    let tia = reg.custodian("Tia").unwrap();
    let file = IdentityFile::load(tia.identity_file.as_ref().unwrap()).unwrap();
    assert_eq!(file.token.unwrap().recipient, recipient.trim());
    assert_eq!(audit(&dir, "IDENTITY_CREATE", "COMPLETED").len(), 1);
}

#[test]
fn rotating_a_token_identity_asks_its_pin_and_refuses_each_failure_specifically() {
    let name = common::this_test!();
    if !in_child(&name) {
        let (sb, bin, _) = token_sandbox();
        tia_with_token(sb.path(), &path_with(&bin));
        return run_with_plugin(&name, &sb, &bin);
    }
    let dir = dir();
    let ws = Workspace::open(ws_dir(&dir)).unwrap();
    let before = files_but_audit(&dir);
    let old_recipient = ws
        .registry()
        .unwrap()
        .custodian("Tia")
        .unwrap()
        .recipient
        .clone();

    // (1) A wrong PIN: the token's own refusal, audited, nothing changed.
    let mut app = tui::offline_app_as_is(ws.clone());
    start_rotation(&mut app);
    assert!(app.pump_until_token_prompt(Duration::from_secs(120)));
    type_text(&mut app, "000000");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(t.contains("the token refused the PIN"), "{t}");
    assert!(t.contains("wrong PIN (2 tries left)"), "{t}");
    assert_eq!(audit(&dir, "CUSTODIAN_ROTATE", "FAILED").len(), 1);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");

    // (2) Esc in the dialog: the specific "cancelled" error.
    start_rotation(&mut app);
    assert!(app.pump_until_token_prompt(Duration::from_secs(120)));
    type_text(&mut app, "12");
    key(&mut app, KeyCode::Esc);
    assert!(!app.token_dialog_open());
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(t.contains("the token prompt was cancelled"), "{t}");
    assert!(t.contains("nothing was changed"), "{t}");
    snap_both!("token_cancelled", app, TOKEN_FILTERS);
    assert_eq!(audit(&dir, "CUSTODIAN_ROTATE", "FAILED").len(), 2);
    key(&mut app, KeyCode::Enter);

    // (3) Nobody answers: the countdown ends it, "not answered in time".
    app.set_token_timeout(Duration::from_secs(1));
    start_rotation(&mut app);
    assert!(app.pump_until_token_prompt(Duration::from_secs(120)));
    std::thread::sleep(Duration::from_millis(1100));
    app.handle(custodian::tui::event::Event::Tick);
    assert!(!app.token_dialog_open());
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(
        t.contains("the token prompt was not answered within 1 s"),
        "{t}"
    );
    assert_eq!(audit(&dir, "CUSTODIAN_ROTATE", "FAILED").len(), 3);
    key(&mut app, KeyCode::Enter);
    app.set_token_timeout(custodian::tui::token::DEFAULT_TIMEOUT);
    assert_eq!(files_but_audit(&dir), before, "a refusal changed a file");

    // (4) The right PIN: the old identity opens, the new one is sealed to
    // the token enrolled at the confirmation (`t`: here the same one) and
    // proved (the PIN asked again), and Tia is rotated.
    let recipient = std::fs::read_to_string(dir.join("recipient")).unwrap();
    to_confirmation(&mut app);
    key(&mut app, KeyCode::Char('t'));
    type_text(&mut app, recipient.trim());
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(
        t.contains("hardware token: enrol age1custodiantest1"),
        "{t}"
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(answer_pins(&mut app, PIN), 2);
    let t = text(&app);
    assert!(t.contains("✔ rotated Tia"), "{t}");
    let reg = ws.registry().unwrap();
    let tia = reg.custodian("Tia").unwrap();
    assert_ne!(tia.recipient, old_recipient);
    let file = IdentityFile::load(tia.identity_file.as_ref().unwrap()).unwrap();
    assert!(file.token.is_some(), "the rotation kept the token");
}

/// Without the plugin program on the PATH (this process's PATH has none),
/// opening a token identity in the console says which program is missing,
/// audited, nothing changed.
#[test]
fn a_missing_plugin_program_is_named_and_changes_nothing() {
    let (sb, bin, _) = token_sandbox();
    tia_with_token(sb.path(), &path_with(&bin));
    let before = files_but_audit(sb.path());
    let mut app = tui::offline_app_as_is(Workspace::open(sb.ws()).unwrap());
    // The confirmation's token step takes only a plugin recipient.
    to_confirmation(&mut app);
    key(&mut app, KeyCode::Char('t'));
    let x25519 = custodian_core::identity::OpenedIdentity::generate("x").recipient;
    type_text(&mut app, &x25519);
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(t.contains("is not an age plugin recipient"), "{t}");
    snap_both!("rotate_token_refused", app, TOKEN_FILTERS);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    let t = text(&app);
    assert!(t.contains("hardware token: kept"), "{t}");
    key(&mut app, KeyCode::Enter);
    assert!(!app.pump_until_token_prompt(Duration::from_secs(120)));
    let t = text(&app);
    assert!(
        t.contains(
            "the token's plugin program `age-plugin-custodiantest` was not found on the PATH"
        ),
        "{t}"
    );
    assert!(t.contains("install `age-plugin-custodiantest`"), "{t}");
    assert_eq!(audit(sb.path(), "CUSTODIAN_ROTATE", "FAILED").len(), 1);
    assert_eq!(files_but_audit(sb.path()), before);
}

/// The plugin's "touch your token" message: shown with its countdown while
/// the plugin waits; Esc gives up (the key the token then opens is not
/// used) and says so until the job ends.
#[test]
fn the_touch_message_shows_a_countdown_and_esc_gives_up() {
    let sb = common::Sandbox::new();
    let mut app = tui::offline_app_as_is(Workspace::open(sb.ws()).unwrap());
    let bridge = custodian::tui::token::Bridge::new(app.events().tx.clone());
    bridge.message("Touch your custodiantest token now");
    app.pump_pending();
    assert!(app.token_dialog_open());
    let t = text_at(&app, 80, 24);
    assert!(t.contains("Touch your custodiantest token now"), "{t}");
    assert!(t.contains("s left"), "{t}");
    snap_both!("token_dialog_touch", app, TOKEN_FILTERS);
    // Other keys do nothing; Esc gives up and says so.
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(bridge.abandoned(), None);
    key(&mut app, KeyCode::Esc);
    assert_eq!(
        bridge.abandoned(),
        Some(custodian_core::token::Unanswered::Cancelled)
    );
    let t = text_at(&app, 80, 24);
    assert!(t.contains("Cancelled: waiting for the token"), "{t}");
}

/// The real binary in tmux at 80×24 with the plugin on its PATH: the new
/// identity wizard with a token asks the PIN in the dialog (masked, with
/// its countdown, all of it on an 80×24 screen) and completes; then a
/// rotation of that identity, cancelled with Esc in the dialog, fails with
/// the specific error and changes nothing.
#[test]
fn token_dialog_in_tmux_at_80x24() {
    if common::missing_tool("tmux") {
        return;
    }
    let (sb, bin, recipient) = token_sandbox();
    let path = path_with(&bin);
    let tok = sb.file("tok");
    let t = common::tmux::Tmux::console_with_env(
        sb.path(),
        &sb.ws(),
        80,
        24,
        &[("PATH", &path), ("CUSTODIANTEST_TOKEN", tok.as_os_str())],
    );
    t.keys(&["n"]);
    t.wait_for("Custodian name", 30);
    t.text("Tia");
    t.keys(&["Down"]);
    t.text(&recipient);
    t.keys(&["Enter"]);
    t.wait_for("passphrase + hardware token", 30);
    t.text(PASS_A);
    t.keys(&["Enter"]);
    t.text(PASS_A);
    t.keys(&["Enter"]);
    let s = t.wait_for("Enter the PIN of your custodiantest token", 120);
    assert!(s.contains("Hardware token"), "{s}");
    assert!(s.contains("s left"), "{s}");
    assert!(s.contains("Esc cancel"), "{s}");
    t.text(PIN);
    let s = t.wait_for("Token PIN: ••••••", 30);
    assert!(!s.contains(PIN), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("Identity created and verified", 120);
    assert!(!s.contains(PIN), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("Custodians (1)", 30);

    let before = files_but_audit(sb.path());
    t.keys(&["o"]);
    t.wait_for("Current passphrase", 30);
    t.text(PASS_A);
    t.keys(&["Enter"]);
    t.wait_for("New identity passphrase", 120);
    for _ in 0..2 {
        t.text(PASS_B);
        t.keys(&["Enter"]);
    }
    t.wait_for("Rotation of", 30);
    t.keys(&["Enter"]);
    t.wait_for("Enter the PIN of your custodiantest token", 120);
    t.keys(&["Escape"]);
    let s = t.wait_for("the token prompt was cancelled", 120);
    assert!(!s.contains("Token PIN"), "{s}");
    assert_eq!(files_but_audit(sb.path()), before);
    assert_eq!(audit(sb.path(), "CUSTODIAN_ROTATE", "FAILED").len(), 1);
    t.keys(&["Enter"]);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(30).trim(), "0");
}

/// Giving up on one call's touch fails that call only: the same job's next
/// decryptions (a rotation opens the old identity, then proves the new
/// seal) open when answered.
#[test]
fn a_touch_given_up_on_fails_only_its_own_decryption() {
    let name = common::this_test!();
    if !in_child(&name) {
        let (sb, bin, _) = token_sandbox();
        return run_with_slow_touch(&name, &sb, &bin);
    }
    let dir = dir();
    let recipient = std::fs::read_to_string(dir.join("recipient")).unwrap();
    let req = custodian_core::token::parse_recipient(recipient.trim()).unwrap();
    let mut app = tui::offline_app_as_is(Workspace::open(ws_dir(&dir)).unwrap());
    let tx = app.events().tx.clone();
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ui =
            custodian_core::token::thread_ui(Arc::new(custodian::tui::token::Bridge::new(tx)));
        let sealed = custodian_core::token::encrypt(&req, b"the key").unwrap();
        for _ in 0..3 {
            let got = custodian_core::token::decrypt(&req, &sealed)
                .map(|plain| plain.to_vec())
                .map_err(|e| e.to_string());
            done_tx.send(got).unwrap();
        }
    });
    // (1) The PIN, then the touch the user gives up on; it comes later.
    assert!(pump_until(&mut app, asks_pin));
    type_text(&mut app, PIN);
    key(&mut app, KeyCode::Enter);
    assert!(pump_until(&mut app, shows_touch));
    key(&mut app, KeyCode::Esc);
    let t = text(&app);
    assert!(t.contains("Cancelled: waiting for the token"), "{t}");
    std::fs::write(dir.join("touched"), "").unwrap();
    let first = done.recv_timeout(Duration::from_secs(120)).unwrap();
    assert_eq!(first, Err("the token prompt was cancelled".to_string()));
    // (2), (3) Answered: both open.
    for n in 2..=3 {
        assert!(
            pump_until(&mut app, asks_pin),
            "decryption {n} asked nothing"
        );
        type_text(&mut app, PIN);
        key(&mut app, KeyCode::Enter);
        let got = done.recv_timeout(Duration::from_secs(120)).unwrap();
        assert_eq!(got, Ok(b"the key".to_vec()), "decryption {n}");
    }
}

/// A plugin that never answers does not hold the console: Esc on its
/// "touch your token" gives up, a second Esc closes the dialog, and the
/// console can be used (and quit) while the job waits; when the plugin
/// answers at last, the job fails cancelled and nothing changed.
#[test]
fn a_touch_that_never_comes_does_not_hold_the_console() {
    let name = common::this_test!();
    if !in_child(&name) {
        let (sb, bin, _) = token_sandbox();
        tia_with_token(sb.path(), &path_with(&bin));
        return run_with_slow_touch(&name, &sb, &bin);
    }
    let dir = dir();
    let ws = Workspace::open(ws_dir(&dir)).unwrap();
    let before = files_but_audit(&dir);
    let mut app = tui::offline_app_as_is(ws);
    start_rotation(&mut app);
    assert!(pump_until(&mut app, asks_pin));
    type_text(&mut app, PIN);
    key(&mut app, KeyCode::Enter);
    assert!(pump_until(&mut app, shows_touch));
    key(&mut app, KeyCode::Esc);
    assert!(app.token_dialog_open());
    let t = text_at(&app, 80, 24);
    assert!(t.contains("Cancelled: waiting for the token"), "{t}");
    assert!(t.contains("Esc again closes this window"), "{t}");
    key(&mut app, KeyCode::Esc);
    assert!(!app.token_dialog_open(), "a second Esc closes it");
    // The console answers again: Ctrl-C asks whether to quit (a job runs).
    app.handle(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.asking_to_quit());
    key(&mut app, KeyCode::Char('n'));
    assert!(!app.asking_to_quit());
    // The touch comes at last: the job's result is not used.
    std::fs::write(dir.join("touched"), "").unwrap();
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    assert!(!app.token_dialog_open());
    let t = text(&app);
    assert!(t.contains("the token prompt was cancelled"), "{t}");
    assert_eq!(audit(&dir, "CUSTODIAN_ROTATE", "FAILED").len(), 1);
    assert_eq!(files_but_audit(&dir), before);
}

/// A rotation of Tia the token refuses, after `pin` is typed in the token
/// dialog (None: before any PIN is asked): no dialog is left up, the result
/// shows each of `expected` (the command line's own words for it,
/// tests/token.rs), the audit log gains the attempt and
/// its FAILED outcome after the unchanged entries before it, and no other
/// file of the workspace changed.
fn refused_rotation(dir: &Path, pin: Option<&str>, expected: &[&str]) {
    let log = || std::fs::read_to_string(ws_dir(dir).join("audit.jsonl")).unwrap();
    let before = files_but_audit(dir);
    let log_before = log();
    let mut app = tui::offline_app_as_is(Workspace::open(ws_dir(dir)).unwrap());
    start_rotation(&mut app);
    match pin {
        Some(pin) => assert_eq!(answer_pins(&mut app, pin), 1),
        None => {
            if app.pump_until_token_prompt(Duration::from_secs(120)) {
                panic!("the token asked:\n{}", text(&app));
            }
            assert!(app.pump_until_idle(Duration::from_secs(120)));
        }
    }
    assert!(!app.token_dialog_open());
    for t in [text(&app), text_at(&app, 80, 24)] {
        // Wrapped at 80 columns: compared with the line breaks out.
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(t.contains("Operation failed"), "{t}");
        for e in expected {
            assert!(t.contains(e), "{e:?} is not on the result:\n{t}");
        }
        assert!(!t.contains(PIN), "{t}");
    }
    let log_after = log();
    assert!(
        log_after.starts_with(&log_before),
        "the entries before the attempt changed"
    );
    let new: Vec<serde_json::Value> = log_after[log_before.len()..]
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<(&str, &str)> = new
        .iter()
        .map(|v| (v["event"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes.last(),
        Some(&("CUSTODIAN_ROTATE", "FAILED")),
        "{new:?}"
    );
    assert_eq!(new.len(), 2, "the attempt and its failure only: {new:?}");
    assert_eq!(files_but_audit(dir), before, "a refusal changed a file");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");
}

/// Another token than the one Tia's identity was sealed to: the console's
/// result names it, audited, nothing changed (as `identity open` on the
/// command line, tests/token.rs).
#[test]
fn a_wrong_token_is_named_in_the_console_audited_and_changes_nothing() {
    let name = common::this_test!();
    if !in_child(&name) {
        let (sb, bin, _) = token_sandbox();
        tia_with_token(sb.path(), &path_with(&bin));
        make_token(&bin, &sb.file("tok-other"), Some(PIN));
        return run_with_token(&name, &sb, &bin, &sb.file("tok-other"));
    }
    // The inserted token asks its own PIN, then finds it is not the one.
    refused_rotation(
        &dir(),
        Some(PIN),
        &["the token did not open this identity: it is not the token the identity was sealed to"],
    );
}

/// A token whose PIN is locked (three wrong PINs on the command line): the
/// console's result says so and points to the PUK, audited, nothing
/// changed; the right PIN does not help.
#[test]
fn a_locked_pin_is_named_in_the_console_audited_and_changes_nothing() {
    let name = common::this_test!();
    if !in_child(&name) {
        let (sb, bin, _) = token_sandbox();
        let path = path_with(&bin);
        tia_with_token(sb.path(), &path);
        let identity = Workspace::open(sb.ws())
            .unwrap()
            .registry()
            .unwrap()
            .custodian("Tia")
            .unwrap()
            .identity_file
            .clone()
            .unwrap();
        for _ in 0..3 {
            cli(sb.path(), &path, "111111")
                .args(["identity", "open"])
                .arg(&identity)
                .arg("--passphrase-file")
                .arg(sb.file("tia.pass"))
                .assert()
                .code(1);
        }
        return run_with_plugin(&name, &sb, &bin);
    }
    refused_rotation(
        &dir(),
        None,
        &[
            "the token's PIN is locked",
            "PIN locked: no tries left on this token",
            "unlock the token with its PUK",
        ],
    );
}

/// The name a child run is started with is the harness's own, in a file's
/// own test binary (`f`) and as a module of the consolidated `suite`
/// (`token_tui::f`): `--exact` finds it either way.
#[test]
fn a_child_run_names_its_test_as_the_harness_does() {
    let name = common::this_test!();
    assert_eq!(
        name,
        common::harness_name(
            module_path!(),
            "a_child_run_names_its_test_as_the_harness_does"
        )
    );
    // The harness lists it under that name, exactly.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--exact", &name])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(&format!("{name}: test")), "{listed}");
    assert_eq!(
        common::harness_name("suite::token_tui", "f"),
        "token_tui::f"
    );
    assert_eq!(common::harness_name("token_tui", "f"), "f");
}

/// The threat 3 screen reports custodians whose identity opens with a
/// passphrase alone (issue 14, Deliver 2): reported under the default
/// policy (advised), a failure once the workspace requires a token.
#[test]
fn the_threat_3_screen_names_custodians_without_a_token_by_policy() {
    let sb = common::Sandbox::new();
    let ws = tui::with_custodians(&sb, 1);
    let title = "Every custodian identity also needs a hardware token";
    let finding = "Custodian 01: the identity opens with a passphrase alone (policy: token";
    let shown = |app: &mut App| {
        for _ in 0..10 {
            let t = text(app);
            if t.contains(title) {
                return t;
            }
            key(app, KeyCode::PageDown);
        }
        panic!("the token check is not on threat 3:\n{}", text(app));
    };
    let mut app = tui::offline_app(ws.clone());
    tui::open_screen(&mut app, "t3");
    let t = shown(&mut app);
    assert!(t.contains(&format!("{finding} advised)")), "{t}");
    assert!(!t.contains(&format!("FAIL {title}")), "{t}");

    ws.update_registry(|r| {
        r.token_policy = custodian_core::token::TokenPolicy::Required;
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let mut app = tui::offline_app(ws);
    tui::open_screen(&mut app, "t3");
    let t = shown(&mut app);
    assert!(t.contains(&format!("FAIL {title}")), "{t}");
    assert!(t.contains(&format!("{finding} required)")), "{t}");
}
