//! The recovery wizard driven through the real app: warning, approvers,
//! shards, output choice, the worker, and the one-time display with its
//! countdown — the key on screen is checked against the root public key,
//! then must be gone from the screen and from every file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::time::Duration;

use common::tui::{self, ctrl, key, screen_text, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian::tui::event::Event;
use custodian_core::identity::OpenedIdentity;
use custodian_core::shard::{self, ShardFile};
use custodian_core::workspace::Workspace;
use k256::elliptic_curve::PrimeField;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use shard_fixture::*;

fn draw(app: &App) -> Terminal<TestBackend> {
    tui::draw(app, 110, 30)
}

/// The shared filters plus the recovered key as shown on screen.
fn settings() -> insta::Settings {
    tui::settings(&[(r"([0-9a-f]{8} ){7}[0-9a-f]{8}", "[PRIVATE KEY]")])
}

/// Walks the wizard to the confirmation step with shards `indices` of
/// drill-alpha; `output` picks 1/2/3 and fills its fields.
fn walk_to_confirm(
    app: &mut App,
    sb: &common::Sandbox,
    indices: &[u32],
    output: &dyn Fn(&mut App),
) {
    key(app, KeyCode::Char('R'));
    key(app, KeyCode::Enter);
    type_text(app, "Officer One");
    key(app, KeyCode::Enter);
    type_text(app, "Legal Two");
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
    for &i in indices {
        type_text(app, shard(sb, "alpha", i).to_str().unwrap());
        key(app, KeyCode::Tab);
        type_text(app, identity(sb, holder(i)).to_str().unwrap());
        key(app, KeyCode::Tab);
        type_text(app, pass_of(holder(i)));
        key(app, KeyCode::Enter);
        // The shard is checked on a worker before it is added.
        assert!(app.pump_until_idle(std::time::Duration::from_secs(120)));
    }
    ctrl(app, 'n');
    output(app);
}

#[test]
fn recovery_to_screen_shows_the_verified_key_once_then_clears_it() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('R'));
    let t = draw(&app);
    // The opening warning is white on red.
    let buf = t.backend().buffer();
    assert!((0..buf.area.width).any(|x| buf[(x, 1)].bg == Color::Red));
    snap_both!("recovery_warning", app, settings settings());
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Officer One");
    key(&mut app, KeyCode::Enter);
    // One approver is not enough.
    key(&mut app, KeyCode::Enter);
    let t = draw(&app);
    assert!(screen_text(&t).contains("recovery needs at least 2 approvers; 1 named"));
    snap_both!("recovery_approvers_too_few", app, settings settings());
    key(&mut app, KeyCode::Esc);
    app = {
        // Start again cleanly through the helper.
        let ws = Workspace::open(sb.ws()).unwrap();
        tui::offline_app(ws)
    };
    walk_to_confirm(&mut app, &sb, &[1, 3], &|app| {
        key(app, KeyCode::Char('3'));
        snap_both!("recovery_output_screen", app, settings settings());
        key(app, KeyCode::Enter);
    });
    let t = draw(&app);
    assert!(!screen_text(&t).contains(pass_of("Ana")));
    snap_both!("recovery_confirm", app, settings settings());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    snap_both!("recovery_confirm_show", app, settings settings());
    // A wrong key id does not show the key.
    type_text(&mut app, "drill-beta");
    key(&mut app, KeyCode::Enter);
    let t = draw(&app);
    assert!(screen_text(&t).contains("That is not the key id"));
    type_text(&mut app, "drill-alpha");
    key(&mut app, KeyCode::Enter);
    app.handle(Event::Tick);
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("Clearing in 60 s"), "{text}");
    snap_both!("recovery_showing", app, settings settings());
    // The key on screen is the key: G·key equals the root public key.
    let line = text
        .lines()
        .filter_map(|l| {
            let t = l.trim_matches(|c: char| c == '│' || c.is_whitespace());
            let ok = t.len() == 71 && t.chars().all(|c| c == ' ' || c.is_ascii_hexdigit());
            ok.then(|| t.replace(' ', ""))
        })
        .next()
        .expect("key line on screen");
    let bytes: [u8; 32] = hex::decode(&line).unwrap().try_into().unwrap();
    let scalar = k256::Scalar::from_repr(bytes.into()).unwrap();
    let root = ShardFile::load(&shard(&sb, "alpha", 1))
        .unwrap()
        .root_public_key;
    assert_eq!(
        shard::public_key_hex(&shard::public_of(&scalar).unwrap()),
        root
    );
    // The countdown runs on ticks: 30 s later, 30 s left.
    for _ in 0..200 {
        app.handle(Event::Tick);
    }
    assert!(screen_text(&draw(&app)).contains("Clearing in 30 s"));
    for _ in 0..200 {
        app.handle(Event::Tick);
    }
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("The screen has been cleared"), "{text}");
    assert!(!text.contains(&line[..8]));
    snap_both!("recovery_cleared", app, settings settings());
    // Canary: the key is in no file; the audit log records the clearing.
    let all = sb.all_text().to_lowercase();
    assert!(!all.contains(&line));
    let events = audit_events(&sb);
    let n = events.len();
    assert_eq!(
        events[n - 3..],
        [
            ("RECOVER_PRIVATE_KEY".into(), "INITIATED".into()),
            ("RECOVER_PRIVATE_KEY".into(), "COMPLETED".into()),
            (
                "RECOVER_PRIVATE_KEY_SCREEN_CLEARED".into(),
                "RECORDED".into()
            ),
        ]
    );
    // It says how the display ended: the countdown cleared it.
    let last = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(last["details"]["ended"], "timed-out");
    assert_eq!(last["details"]["shown"], true);
}

#[test]
fn recovery_to_an_age_recipient_reports_the_written_file() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws);
    let vault = OpenedIdentity::generate("Vault");
    let out = sb.file("key.age");
    walk_to_confirm(&mut app, &sb, &[2, 3], &|app| {
        key(app, KeyCode::Char('2'));
        type_text(app, &vault.recipient);
        key(app, KeyCode::Enter);
        type_text(app, out.to_str().unwrap());
        key(app, KeyCode::Enter);
    });
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("written"), "{text}");
    snap_both!("recovery_written", app, settings settings());
    let plain = age::decrypt(vault.age_identity(), &std::fs::read(&out).unwrap()).unwrap();
    let key_hex = String::from_utf8(plain).unwrap();
    assert!(!text.contains(key_hex.trim()));
}

#[test]
fn recovery_with_a_wrong_passphrase_is_refused_with_nothing_output() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('R'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Officer One");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Legal Two");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    for (i, pass) in [(1, pass_of("Ana")), (2, pass_of("Ana"))] {
        type_text(&mut app, shard(&sb, "alpha", i).to_str().unwrap());
        key(&mut app, KeyCode::Tab);
        type_text(&mut app, identity(&sb, holder(i)).to_str().unwrap());
        key(&mut app, KeyCode::Tab);
        type_text(&mut app, pass);
        key(&mut app, KeyCode::Enter);
        // The shard is checked on a worker before it is added.
        assert!(app.pump_until_idle(std::time::Duration::from_secs(120)));
    }
    // Ben's identity with Ana's passphrase: refused as it is entered,
    // blaming Ben's identity file, with the first shard kept.
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("Ben's passphrase does not open"), "{text}");
    assert!(text.contains("Shards added: 1"), "{text}");
    snap_both!("recovery_failed", app, settings settings());
    let events = audit_events(&sb);
    assert_eq!(
        events.last().unwrap(),
        &("RECOVER_PRIVATE_KEY".into(), "FAILED".into())
    );
}

/// Scenario 5's "recover" step opens this wizard, and the finished
/// recovery is recorded on the incident with its output file.
#[test]
fn scenario_5_recover_step_launches_the_wizard_and_records_the_output() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws.clone());
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('5'));
    for _ in 0..4 {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Officer One");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Officer One");
    // Step 5 before steps 1–4: warned, then confirmed.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        app.current_title(),
        "Recover a raw private key (scenario 5)"
    );
    let vault = OpenedIdentity::generate("Vault");
    let out = sb.file("scenario5.age");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Officer One");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Legal Two");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    for i in [1u32, 2] {
        type_text(&mut app, shard(&sb, "alpha", i).to_str().unwrap());
        key(&mut app, KeyCode::Tab);
        type_text(&mut app, identity(&sb, holder(i)).to_str().unwrap());
        key(&mut app, KeyCode::Tab);
        type_text(&mut app, pass_of(holder(i)));
        key(&mut app, KeyCode::Enter);
        // The shard is checked on a worker before it is added.
        assert!(app.pump_until_idle(std::time::Duration::from_secs(120)));
    }
    ctrl(&mut app, 'n');
    key(&mut app, KeyCode::Char('2'));
    type_text(&mut app, &vault.recipient);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, out.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(screen_text(&draw(&app)).contains("written"));
    key(&mut app, KeyCode::Enter);
    assert!(app.current_title().starts_with("Scenario 5"));
    let inc = custodian_core::playbook::incident::open_for_scenario(&ws, 5)
        .unwrap()
        .unwrap();
    let step = inc.step("recover").expect("recover step recorded");
    assert_eq!(step.files[0].path, out);
}
