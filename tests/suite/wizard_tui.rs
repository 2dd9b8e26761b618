//! Issue 12, the wizard half, through the real app: typed work survives a
//! single mistake (findings 2, 4, 5, 8), passphrases are checked as they
//! are entered and the error blames the right file, bracketed paste and
//! path completion go into the focused field, and the idle lock clears
//! every secret held in screens (Deliver 8).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::time::{Duration, Instant};

use common::tui::{self, ctrl, key, screen_text, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian::tui::event::Event;
use custodian_core::identity::OpenedIdentity;
use custodian_core::workspace::Workspace;
use shard_fixture::*;

fn small(app: &App) -> String {
    screen_text(&tui::draw(app, 80, 24))
}

fn app_on(sb: &common::Sandbox) -> App {
    tui::offline_app(Workspace::open(sb.ws()).unwrap())
}

fn pump(app: &mut App) {
    assert!(app.pump_until_idle(Duration::from_secs(120)));
}

/// R, Enter, two approvers, Enter on the empty field.
fn to_shards(app: &mut App) {
    key(app, KeyCode::Char('R'));
    key(app, KeyCode::Enter);
    type_text(app, "Officer One");
    key(app, KeyCode::Enter);
    type_text(app, "Legal Two");
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
}

/// Fills the three shard fields and submits them, waiting for the check.
fn add_shard(app: &mut App, sb: &common::Sandbox, i: u32, pass: &str) {
    type_text(app, shard(sb, "alpha", i).to_str().unwrap());
    key(app, KeyCode::Down);
    type_text(app, identity(sb, holder(i)).to_str().unwrap());
    key(app, KeyCode::Down);
    type_text(app, pass);
    key(app, KeyCode::Enter);
    pump(app);
}

// --- Finding 8: "named twice" leaves the approver field empty ---

#[test]
fn after_named_twice_the_approver_field_is_cleared() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Lopez");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Lopez");
    key(&mut app, KeyCode::Enter);
    assert!(small(&app).contains("named twice"), "{}", small(&app));
    type_text(&mut app, "Ben Okafor");
    key(&mut app, KeyCode::Enter);
    let s = small(&app);
    assert!(!s.contains("Ana LopezBen Okafor"), "{s}");
    assert!(
        s.contains("Approvers: Ana Lopez (typed), Ben Okafor (typed)"),
        "{s}"
    );
}

// --- Finding 2: passphrases checked as typed, blame the right file ---

#[test]
fn a_wrong_identity_passphrase_is_caught_at_once_and_fixed_in_place() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    // Ben's identity with Ana's passphrase.
    add_shard(&mut app, &sb, 2, pass_of("Ana"));
    let s = small(&app);
    // It names the identity file (Ben's), not the shard's envelope.
    assert!(s.contains("Ben's identity file"), "{s}");
    assert!(s.contains("Shards added: 1"), "{s}");
    // Both paths are kept; the passphrase is asked again, masked.
    assert!(s.contains("drill-alpha.2.ben.shard.json"), "{s}");
    assert!(s.contains("ben.identity.json"), "{s}");
    assert!(!s.contains(pass_of("Ana")), "{s}");
    snap_both!("recovery_wrong_identity_passphrase", app);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let s = small(&app);
    assert!(s.contains("Shards added: 2"), "{s}");
    // The wrong passphrase is audited (as a failed split's is), once, as
    // a passphrase check naming Ben; the right one writes nothing.
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let failed: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "RECOVER_PRIVATE_KEY")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[1]["status"], "FAILED");
    assert_eq!(failed[0]["details"]["stage"], "passphrase-check");
    assert_eq!(failed[0]["details"]["custodian"], "Ben");
    assert!(!log.contains(pass_of("Ana")));
}

#[test]
fn a_mistyped_shard_path_is_kept_with_the_error_under_it() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    let good = shard(&sb, "alpha", 1);
    let typo = good.to_str().unwrap().replace(".shard.json", ".shrd.json");
    type_text(&mut app, &typo);
    key(&mut app, KeyCode::Down);
    type_text(&mut app, identity(&sb, "Ana").to_str().unwrap());
    key(&mut app, KeyCode::Down);
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let s = small(&app);
    assert!(s.contains(".shrd.json"), "the typo was cleared:\n{s}");
    assert!(s.contains("Shards added: 0"), "{s}");
    // The focus is on the shard field: fix it with the cursor.
    key(&mut app, KeyCode::End);
    for _ in 0.."rd.json".len() {
        key(&mut app, KeyCode::Left);
    }
    type_text(&mut app, "a");
    // The passphrase was kept (only the field at fault is touched).
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(small(&app).contains("Shards added: 1"), "{}", small(&app));
}

/// A failure at the end (the output file already exists) returns to the
/// output step with approvers, shards, passphrases and output kept.
#[test]
fn a_failure_at_the_end_returns_to_the_step_that_fixes_it() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    add_shard(&mut app, &sb, 3, pass_of("Cy"));
    key(&mut app, KeyCode::Enter); // empty form: continue
    let vault = OpenedIdentity::generate("Vault");
    let taken = sb.file("taken.age");
    std::fs::write(&taken, b"already here").unwrap();
    key(&mut app, KeyCode::Char('2'));
    type_text(&mut app, &vault.recipient);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, taken.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let s = small(&app);
    assert!(s.contains("taken.age"), "{s}");
    // Enter goes back to the output step with the path kept.
    key(&mut app, KeyCode::Enter);
    let s = small(&app);
    assert!(s.contains("Output file: "), "{s}");
    assert!(s.contains("taken.age"), "{s}");
    ctrl(&mut app, 'u');
    let out = sb.file("fresh.age");
    type_text(&mut app, out.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(small(&app).contains("written"), "{}", small(&app));
    assert!(out.exists());
}

// --- Finding 4: Esc is one step back; leaving with state asks once ---

#[test]
fn esc_steps_back_keeping_everything_and_leaving_asks_once() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    key(&mut app, KeyCode::Esc);
    let s = small(&app);
    assert!(
        s.contains("Approvers: Officer One (typed), Legal Two (typed)"),
        "{s}"
    );
    key(&mut app, KeyCode::Enter);
    assert!(small(&app).contains("Shards added: 1"), "{}", small(&app));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    // On the warning step: leaving would lose the approvers and a shard.
    key(&mut app, KeyCode::Esc);
    let s = small(&app);
    assert!(s.contains("Esc again"), "{s}");
    assert!(app.current_title().starts_with("Recover"));
    key(&mut app, KeyCode::Esc);
    assert!(!app.current_title().starts_with("Recover"));
}

#[test]
fn ctrl_c_at_type_the_key_id_asks_and_records_abandoned() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    add_shard(&mut app, &sb, 3, pass_of("Cy"));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(small(&app).contains("Type the key id"));
    ctrl(&mut app, 'c');
    assert!(!app.quit);
    assert!(small(&app).contains("discard"), "{}", small(&app));
    key(&mut app, KeyCode::Char('y'));
    assert!(app.quit);
    let text = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(v["event"], "RECOVER_PRIVATE_KEY_SCREEN_CLEARED");
    assert_eq!(v["details"]["ended"], "abandoned");
    assert_eq!(v["details"]["shown"], false);
}

// --- Finding 8: paste and path completion ---

#[test]
fn bracketed_paste_goes_into_the_focused_field_masked_for_secrets() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    app.handle(Event::Paste(
        shard(&sb, "alpha", 1).display().to_string().into(),
    ));
    key(&mut app, KeyCode::Down);
    app.handle(Event::Paste(
        identity(&sb, "Ana").display().to_string().into(),
    ));
    key(&mut app, KeyCode::Down);
    app.handle(Event::Paste(pass_of("Ana").to_string().into()));
    let s = small(&app);
    assert!(
        !s.contains(pass_of("Ana")),
        "a pasted passphrase is shown:\n{s}"
    );
    assert!(s.contains("drill-alpha.1.ana.shard.json"), "{s}");
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(small(&app).contains("Shards added: 1"), "{}", small(&app));
}

#[test]
fn tab_completes_a_partial_path_and_lists_candidates_when_ambiguous() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    let dir = sb.ws().join("shards");
    // Unique: drill-alpha.3 is the only one starting so.
    type_text(&mut app, &format!("{}/drill-alpha.3", dir.display()));
    key(&mut app, KeyCode::Tab);
    let s = small(&app);
    assert!(s.contains("drill-alpha.3.cy.shard.json"), "{s}");
    // Still on the shard field (Tab completed, it did not move on).
    ctrl(&mut app, 'u');
    type_text(&mut app, &format!("{}/drill-alpha.", dir.display()));
    key(&mut app, KeyCode::Tab);
    let s = small(&app);
    assert!(s.contains("drill-alpha.1.ana.shard.json"), "{s}");
    assert!(s.contains("drill-alpha.2.ben.shard.json"), "{s}");
    snap_both!("recovery_path_picker", app);
    // ↓ picks the second; Enter takes it.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    type_text(&mut app, identity(&sb, "Ben").to_str().unwrap());
    key(&mut app, KeyCode::Down);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(small(&app).contains("Shards added: 1"), "{}", small(&app));
    assert!(small(&app).contains("drill-alpha.2.ben"), "{}", small(&app));
}

// --- Deliver 8: idle lock ---

#[test]
fn the_idle_lock_clears_wizards_and_asks_for_enter() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    app.set_idle_lock(Some(Duration::from_secs(60)));
    to_shards(&mut app);
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    type_text(&mut app, "half typed");
    // Not idle long enough: nothing happens.
    assert!(!app.lock_if_idle(Instant::now() + Duration::from_secs(30)));
    assert!(app.lock_if_idle(Instant::now() + Duration::from_secs(61)));
    let s = small(&app);
    assert!(s.contains("Locked after 1 minute idle"), "{s}");
    assert!(!s.contains("half typed"), "{s}");
    snap_both!("idle_lock", app);
    // Keys other than Enter do nothing.
    type_text(&mut app, "x");
    assert!(small(&app).contains("Locked"));
    key(&mut app, KeyCode::Enter);
    assert!(!small(&app).contains("Locked"));
    assert_eq!(app.current_title(), "Home");
    // The wizard and what it held are gone.
    key(&mut app, KeyCode::Char('R'));
    assert!(!small(&app).contains("Officer One"));
}

#[test]
fn the_idle_lock_records_an_unshown_one_time_display_as_abandoned() {
    let sb = sandbox();
    let mut app = app_on(&sb);
    to_shards(&mut app);
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    add_shard(&mut app, &sb, 3, pass_of("Cy"));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    // The default idle time is ten minutes.
    assert!(!app.lock_if_idle(Instant::now() + Duration::from_secs(9 * 60)));
    assert!(app.lock_if_idle(Instant::now() + Duration::from_secs(10 * 60 + 1)));
    let text = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(v["details"]["ended"], "abandoned");
}

// --- Issue 18, item 1, in the console: approvers prove presence ---

/// Under a workspace policy of authenticated approvals (the default of a
/// new workspace), each approver types their own identity passphrase in the
/// recovery wizard: a wrong one is refused in place naming them, an
/// unregistered name is refused, a typed name stays possible (marked), and
/// the recovery's audit entry records the recipients of those who opened
/// their identity — never a passphrase.
#[test]
fn approvers_open_their_own_identity_under_the_authenticated_policy() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    custodian_core::approvals::set_policy(
        &ws,
        custodian_core::approvals::ApprovalPolicy::Authenticated,
        Some("Officer One"),
    )
    .unwrap();
    let mut app = app_on(&sb);
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Enter);
    // Ana, with Ben's passphrase: refused under the field, naming Ana.
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let s = small(&app);
    assert!(
        s.contains("approver `Ana`: the passphrase does not open"),
        "{s}"
    );
    assert!(!s.contains(pass_of("Ben")), "{s}");
    // The name is kept; the passphrase is typed again, masked.
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(
        small(&app).contains("Ana (identity opened)"),
        "{}",
        small(&app)
    );
    // Someone who is not a registered custodian cannot open an identity.
    type_text(&mut app, "Mallory");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(
        small(&app).contains("`Mallory` is not a registered custodian"),
        "{}",
        small(&app)
    );
    ctrl(&mut app, 'u');
    key(&mut app, KeyCode::Up);
    ctrl(&mut app, 'u');
    // Ben opens his; Legal (no identity) is a typed name.
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    type_text(&mut app, "Legal Two");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter); // empty passphrase: a typed name
    let s = small(&app);
    assert!(
        s.contains("Approvers: Ana (identity opened), Ben (identity opened), Legal Two (typed)"),
        "{s}"
    );
    key(&mut app, KeyCode::Enter); // empty form: continue
    add_shard(&mut app, &sb, 1, pass_of("Ana"));
    add_shard(&mut app, &sb, 3, pass_of("Cy"));
    key(&mut app, KeyCode::Enter);
    let vault = OpenedIdentity::generate("Vault");
    let out = sb.file("recovered.age");
    key(&mut app, KeyCode::Char('2'));
    type_text(&mut app, &vault.recipient);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, out.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(small(&app).contains("written"), "{}", small(&app));
    assert!(out.exists());
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let done: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "RECOVER_PRIVATE_KEY" && v["status"] == "COMPLETED")
        .collect();
    assert_eq!(done.len(), 1, "{log}");
    let approvals = done[0]["details"]["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 3, "{approvals:?}");
    assert_eq!(approvals[0]["name"], "Ana");
    assert_eq!(approvals[0]["identityOpened"], true);
    assert!(
        approvals[0]["recipient"]
            .as_str()
            .unwrap()
            .starts_with("age1")
    );
    assert_eq!(approvals[2]["typed"], true);
    for p in [pass_of("Ana"), pass_of("Ben")] {
        assert!(!log.contains(p));
    }
}
