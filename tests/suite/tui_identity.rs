//! Whole-app console tests on a fixed-size `TestBackend`: the home screen in
//! its states, the help overlay, and the "new custodian identity" wizard
//! driven key by key through the real app and a real worker thread.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::tui::{self, ctrl, key, type_text};
use common::{PASS_A, Sandbox};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::netcheck::LiveInterface;
use custodian_core::workspace::Workspace;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn online() -> custodian::tui::app::NetProbe {
    Box::new(|| {
        Ok(vec![LiveInterface {
            name: "wlan0".into(),
            address: "192.0.2.7".into(),
        }])
    })
}

fn draw(app: &App) -> Terminal<TestBackend> {
    tui::draw(app, 110, 30)
}

fn row_text(t: &Terminal<TestBackend>, y: u16) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

#[test]
fn home_empty_offline() {
    let sb = Sandbox::new();
    let app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    snap_both!("home_empty", app);
}

#[test]
fn home_warns_in_red_when_a_network_interface_is_up() {
    let sb = Sandbox::new();
    let mut app = App::with_probe(Workspace::open(sb.ws()).unwrap(), online());
    // The audit chain line comes from a background check; take it in.
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    let t = draw(&app);
    snap_both!("home_network_up", app);
    // The banner is on row 1 (below the title bar), white on red.
    let row = row_text(&t, 1);
    assert!(row.contains("NETWORK UP"), "{row}");
    assert!(row.contains("wlan0"));
    let cell = &t.backend().buffer()[(2, 1)];
    assert_eq!(cell.bg, Color::Red);
}

#[test]
fn home_lists_custodians_and_flags_overdue_rotation() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    for name in ["Ana", "Ben"] {
        custodian_core::identity::create_identity(&ws, name, &PASS_A.into(), None).unwrap();
    }
    ws.update_registry(|r| {
        r.custodians[1].rotation_due = "2020-01-01T00:00:00Z".into();
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let app = tui::offline_app(ws);
    let t = draw(&app);
    // Recipients shortened to the column (random per run).
    snap_both!(
        "home_custodians",
        app,
        &[(r"age1[0-9a-z]{10}…[0-9a-z]{4,8}", "age1[SHORT]")]
    );
    let buf = t.backend().buffer();
    let (y, row) = (0..buf.area.height)
        .map(|y| (y, row_text(&t, y)))
        .find(|(_, r)| r.contains("OVERDUE"))
        .expect("an OVERDUE row");
    assert!(row.contains("Ben"));
    let x = row.find("2020").unwrap() as u16;
    assert_eq!(buf[(x, y)].fg, Color::Red);
    // The audit chain is reported intact with its four entries.
    assert!((0..buf.area.height).any(|y| row_text(&t, y).contains("Chain intact: 4 entries")));
}

#[test]
fn help_overlay_opens_and_closes() {
    let sb = Sandbox::new();
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('?'));
    snap_both!("home_help", app);
    key(&mut app, KeyCode::Esc);
    assert!(!format!("{}", draw(&app).backend()).contains(" Help "));
}

#[test]
fn new_identity_wizard_end_to_end() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws.clone());

    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.current_title(), "New custodian identity");
    // A bad name is explained and the wizard stays on the name step.
    type_text(&mut app, "Ana/");
    key(&mut app, KeyCode::Enter);
    snap_both!("new_identity_name_error", app);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Enter);

    // A weak passphrase shows a red meter and is refused on Enter.
    type_text(&mut app, "password123");
    snap_both!("new_identity_passphrase_weak", app);
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "password123");
    key(&mut app, KeyCode::Enter);
    let t = draw(&app);
    assert!(format!("{}", t.backend()).contains("too short"));
    // Nothing written yet.
    assert!(ws.registry().unwrap().custodians.is_empty());

    // Generate a diceware phrase: it is shown once, and fills both fields.
    ctrl(&mut app, 'g');
    let shown = format!("{}", draw(&app).backend());
    assert!(shown.contains("write it down now"));
    assert!(shown.contains("strong"));
    // Clear and type our own strong passphrase instead, twice.
    ctrl(&mut app, 'u');
    type_text(&mut app, PASS_A);
    key(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    type_text(&mut app, PASS_A);
    let t = draw(&app);
    assert!(
        !format!("{}", t.backend()).contains(PASS_A),
        "passphrase shown in clear"
    );
    snap_both!("new_identity_passphrase_strong", app);
    key(&mut app, KeyCode::Enter);

    // Working: the worker runs; Esc is refused while it does.
    snap_both!("new_identity_working", app);
    key(&mut app, KeyCode::Esc);
    assert!(format!("{}", draw(&app).backend()).contains("wait for it to finish"));
    assert!(app.pump_until_idle(Duration::from_secs(60)));

    let t = draw(&app);
    snap_both!("new_identity_done", app);
    let reg = ws.registry().unwrap();
    assert_eq!(reg.custodians.len(), 1);
    assert!(format!("{}", t.backend()).contains(&reg.custodians[0].recipient));

    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");
    assert!(format!("{}", draw(&app).backend()).contains("Ana"));
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn wizard_refuses_a_registered_name_before_asking_for_a_passphrase() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    custodian_core::identity::create_identity(&ws, "Ana", &PASS_A.into(), None).unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    let screen = format!("{}", draw(&app).backend());
    assert!(screen.contains("already registered"), "{screen}");
    assert!(screen.contains("Custodian name"));
    assert!(!screen.contains("Passphrase again"));
}
