//! A sane clock in the console (issue 18, deliver 4): before a drill, an
//! incident and the onboarding ceremony the console asks the operator,
//! once a day, to confirm the system's date and time (`y` records an
//! audited CLOCK_CONFIRMED, `n`/Esc start nothing and write nothing); home
//! warns when the clock is more than a day past the last confirmed time;
//! and a clock earlier than the newest audit entry is refused with the
//! core's error. A clock "two days later" is a confirmation recorded two
//! days ago; a clock "earlier than the log" is a log whose newest entry was
//! written by the CLI with `CUSTODIAN_FAKE_NOW` a day ahead (the console
//! tests run in-process, where the real clock is the one that is wrong).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::Sandbox;
use common::tmux::Tmux;
use common::tui::{self, key, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::playbook::incident;
use custodian_core::workspace::Workspace;
use serde_json::Value;

/// The modal's time of day is not filtered by the shared filters.
const CLOCK_FILTERS: &[(&str, &str)] = &[(r"\d{2}:\d{2}:\d{2} UTC", "[HH:MM:SS] UTC")];

fn text(app: &App) -> String {
    tui::screen_text(&tui::draw(app, 120, 40))
}

fn idle(app: &mut App) {
    assert!(app.pump_until_idle(Duration::from_secs(300)));
}

fn audit(sb: &Sandbox) -> Vec<Value> {
    std::fs::read_to_string(sb.ws().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The CLOCK_CONFIRMED entries that completed, with their start details.
fn confirmations(sb: &Sandbox) -> Vec<Value> {
    let entries = audit(sb);
    entries
        .iter()
        .filter(|e| e["event"] == "CLOCK_CONFIRMED" && e["status"] == "INITIATED")
        .filter(|s| {
            entries
                .iter()
                .any(|e| e["op"] == s["op"] && e["status"] == "COMPLETED")
        })
        .cloned()
        .collect()
}

/// The console on a workspace nobody confirmed the clock of.
fn unconfirmed_app(sb: &Sandbox) -> App {
    tui::offline_app_as_is(Workspace::open(sb.ws()).unwrap())
}

/// From home: scenario 2, step 1, the incident form filled in, Enter.
fn open_incident(app: &mut App) {
    key(app, KeyCode::Char('p'));
    key(app, KeyCode::Char('2'));
    key(app, KeyCode::Enter);
    type_text(app, "Ana Officer");
    key(app, KeyCode::Tab);
    type_text(app, "Ben");
    key(app, KeyCode::Enter);
}

/// From home: the ceremony plan for one custodian, then Enter to begin.
fn start_ceremony(app: &mut App) {
    key(app, KeyCode::Char('O'));
    key(app, KeyCode::Down); // past the plan file
    type_text(app, "Olga Reyes, Pat Kim");
    key(app, KeyCode::Enter);
    type_text(app, "Ana");
    key(app, KeyCode::Enter);
    type_text(app, "G1, G2, G3, G4, G5");
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter); // threshold 3: adds the custodian
    key(app, KeyCode::Enter); // no more custodians: the ceremony begins
}

fn assert_asks(app: &App) -> String {
    let t = text(app);
    assert!(t.contains("The system clock says"), "{t}");
    assert!(t.contains("Is this the right date and time?"), "{t}");
    t
}

#[test]
fn incident_asks_for_the_time_and_y_records_it_once_then_opens() {
    let sb = Sandbox::new();
    let mut app = unconfirmed_app(&sb);
    open_incident(&mut app);
    let t = assert_asks(&app);
    assert!(
        !t.contains("more than a day"),
        "no drift without a confirmation:\n{t}"
    );
    snap_both!("clock_modal_incident", app, CLOCK_FILTERS);
    let ws = Workspace::open(sb.ws()).unwrap();
    assert!(incident::list(&ws).unwrap().is_empty(), "opened before y");
    key(&mut app, KeyCode::Char('y'));
    idle(&mut app);
    let c = confirmations(&sb);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["details"]["context"], "incident open");
    assert_eq!(c[0]["details"]["operator"], "Ana Officer");
    let reg = ws.registry().unwrap();
    assert_eq!(reg.clock_confirmations.len(), 1);
    assert_eq!(reg.clock_confirmations[0].context, "incident open");
    // The flow went on exactly as before: the incident is open and the
    // first step asks for its confirmation.
    let inc = incident::open_for_scenario(&ws, 2).unwrap().unwrap();
    assert_eq!(inc.operators, ["Ana Officer"]);
    assert!(text(&app).contains("Confirm step 1: Record what was lost"));

    // Within the day: the ceremony asks nothing and starts.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");
    start_ceremony(&mut app);
    assert!(!text(&app).contains("The system clock says"));
    idle(&mut app);
    assert_eq!(ws.registry().unwrap().ceremonies.len(), 1);
    assert_eq!(confirmations(&sb).len(), 1, "asked twice in a day");
}

#[test]
fn ceremony_asks_for_the_time_and_esc_starts_nothing() {
    let sb = Sandbox::new();
    let mut app = unconfirmed_app(&sb);
    start_ceremony(&mut app);
    assert_asks(&app);
    snap_both!("clock_modal_ceremony", app, CLOCK_FILTERS);
    let before = sb.snapshot();
    key(&mut app, KeyCode::Esc);
    idle(&mut app);
    let t = text(&app);
    assert!(!t.contains("Is this the right date and time?"), "{t}");
    assert!(
        t.contains("set the system clock from a trusted clock"),
        "{t}"
    );
    assert!(t.contains("nothing was started"), "{t}");
    assert_eq!(sb.snapshot(), before, "Esc wrote something");
    assert!(
        Workspace::open(sb.ws())
            .unwrap()
            .registry()
            .unwrap()
            .ceremonies
            .is_empty()
    );
    // Asked again at the next start; y records it with the CLI's context.
    key(&mut app, KeyCode::Enter);
    assert_asks(&app);
    key(&mut app, KeyCode::Char('y'));
    idle(&mut app);
    let c = confirmations(&sb);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["details"]["context"], "onboarding ceremony");
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    assert_eq!(
        reg.ceremonies.len(),
        1,
        "the ceremony did not start after y"
    );
}

#[test]
fn drill_asks_for_the_time_n_starts_nothing_y_runs_it() {
    let sb = Sandbox::new();
    let mut app = unconfirmed_app(&sb);
    key(&mut app, KeyCode::Char('D'));
    type_text(&mut app, "Ana Officer, Ben Legal");
    key(&mut app, KeyCode::Enter);
    assert_asks(&app);
    snap_both!("clock_modal_drill", app, CLOCK_FILTERS);
    let before = sb.snapshot();
    key(&mut app, KeyCode::Char('n'));
    idle(&mut app);
    let t = text(&app);
    assert!(
        t.contains("set the system clock from a trusted clock"),
        "{t}"
    );
    assert!(t.contains("nothing was started"), "{t}");
    assert_eq!(sb.snapshot(), before, "n wrote something");

    // Esc goes back to the names as typed (not home: nothing typed is
    // lost); Enter asks again, and y records it, then the drill runs as
    // before.
    key(&mut app, KeyCode::Esc);
    let t = text(&app);
    assert!(t.contains("Participants: Ana Officer, Ben Legal"), "{t}");
    key(&mut app, KeyCode::Enter);
    assert_asks(&app);
    key(&mut app, KeyCode::Char('y'));
    idle(&mut app);
    let t = text(&app);
    assert!(t.contains("PASSED"), "{t}");
    let c = confirmations(&sb);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0]["details"]["context"], "drill run");
    assert!(
        audit(&sb)
            .iter()
            .any(|e| e["event"] == "DRILL_RUN" && e["status"] == "COMPLETED")
    );
}

#[test]
fn a_clock_two_days_past_the_confirmed_time_warns_on_home_and_in_the_question() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    common::clock_confirmed_at(&ws, custodian_core::clock::now() - time::Duration::days(2));
    let mut app = tui::offline_app_as_is(ws);
    let home = text(&app);
    assert!(
        home.contains("2 days after the last confirmed time"),
        "{home}"
    );
    snap_both!("clock_drift_home", app);
    // The custodian list keeps its place at the minimum size.
    let small = tui::screen_text(&tui::draw(&app, 80, 24));
    assert!(small.contains("Custodians"), "{small}");
    assert!(
        small.contains("2 days after the last confirmed time"),
        "{small}"
    );

    open_incident(&mut app);
    let t = assert_asks(&app);
    assert!(
        t.contains("2 days after the last operator-confirmed time"),
        "{t}"
    );
    snap_both!("clock_modal_drift", app, CLOCK_FILTERS);
    key(&mut app, KeyCode::Char('y'));
    idle(&mut app);
    // Confirmed: home no longer warns.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");
    let home = text(&app);
    assert!(!home.contains("after the last confirmed time"), "{home}");
}

/// A workspace whose newest audit entry is a day ahead of the real clock.
fn log_from_tomorrow(sb: &Sandbox) {
    let tomorrow =
        custodian_core::clock::format(custodian_core::clock::now() + time::Duration::days(1));
    sb.cmd()
        .env("CUSTODIAN_FAKE_NOW", &tomorrow)
        .args(["identity", "new", "--name", "Ana", "--passphrase-file"])
        .arg(sb.pass_file("a", &[common::PASS_A]))
        .assert()
        .success();
}

#[test]
fn a_clock_earlier_than_the_audit_log_is_refused_with_the_cores_error() {
    let sb = Sandbox::new();
    log_from_tomorrow(&sb);
    let mut app = unconfirmed_app(&sb);
    let before = sb.snapshot();
    open_incident(&mut app);
    assert_asks(&app);
    key(&mut app, KeyCode::Char('y'));
    idle(&mut app);
    let t = text(&app);
    assert!(t.contains("earlier than the newest audit entry"), "{t}");
    assert!(
        t.contains("set the system clock to the correct date"),
        "{t}"
    );
    assert_eq!(sb.snapshot(), before, "a refused operation changed files");
    let ws = Workspace::open(sb.ws()).unwrap();
    assert!(incident::list(&ws).unwrap().is_empty());

    // Confirmed earlier (so not asked): the operation itself is refused.
    common::clock_confirmed_at(&ws, custodian_core::clock::now());
    let before = sb.snapshot();
    let mut app = tui::offline_app_as_is(ws.clone());
    start_ceremony(&mut app);
    idle(&mut app);
    let t = text(&app);
    assert!(!t.contains("Is this the right date and time?"), "{t}");
    assert!(t.contains("earlier than the newest audit entry"), "{t}");
    assert_eq!(sb.snapshot(), before, "a refused operation changed files");
}

/// At 80×24 in a real terminal: home warns about a clock two days past its
/// last confirmation; opening an incident asks, naming the drift; `y`
/// records it and the incident opens. Then a console whose clock is faked
/// earlier than the log refuses the next incident's confirmation.
#[test]
fn the_clock_question_in_a_real_terminal_at_80x24() {
    if common::missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    common::accept_typed_approvals(&ws);
    common::clock_confirmed_at(&ws, custodian_core::clock::now() - time::Duration::days(2));
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    let home = t.wait_for("Custodians", 30);
    assert!(
        home.contains("2 days after the last confirmed time"),
        "{home}"
    );
    t.keys(&["p"]);
    t.wait_for("disaster scenarios", 10);
    t.keys(&["2"]);
    t.wait_for("One custodian shard is lost", 10);
    t.keys(&["Enter"]);
    t.wait_for("Open an incident", 10);
    t.text("Ana Officer");
    t.keys(&["Enter"]);
    let modal = t.wait_for("Is this the right date", 10);
    assert!(modal.contains("The system clock says"), "{modal}");
    assert!(modal.contains("2 days after the last"), "{modal}");
    t.keys(&["y"]);
    t.wait_for("Confirm step 1", 10);
    assert_eq!(confirmations(&sb).len(), 1);
    for _ in 0..3 {
        t.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    let home = t.wait_for("Custodians", 10);
    assert!(!home.contains("after the last confirmed time"), "{home}");
    t.keys(&["q"]);
    t.wait_exit(10);
    drop(t);

    // A clock set a year back: the question is asked (the clock is before
    // the last confirmation), and y is refused by the audit log.
    let before = ws_files(&sb);
    let back =
        custodian_core::clock::format(custodian_core::clock::now() - time::Duration::days(365));
    let t = Tmux::console_with_env(
        sb.path(),
        &sb.ws(),
        80,
        24,
        &[("CUSTODIAN_FAKE_NOW", std::ffi::OsStr::new(&back))],
    );
    t.wait_for("Custodians", 30);
    t.keys(&["O"]);
    t.wait_for("Onboarding ceremony", 10);
    t.keys(&["Down"]);
    t.text("Olga Reyes, Pat Kim");
    t.keys(&["Enter"]);
    t.text("Cy");
    t.keys(&["Enter"]);
    t.text("G1, G2, G3, G4, G5");
    t.keys(&["Enter", "Enter", "Enter"]);
    t.wait_for("Is this the right date", 10);
    t.keys(&["y"]);
    let refused = t.wait_for("earlier than the newest audit", 30);
    assert!(refused.contains("set the system clock"), "{refused}");
    assert_eq!(ws_files(&sb), before, "a refused operation changed files");
}

/// The registry and the audit log (the sandbox also holds tmux's socket).
fn ws_files(sb: &Sandbox) -> Vec<Vec<u8>> {
    ["registry.json", "audit.jsonl"]
        .iter()
        .map(|f| std::fs::read(sb.ws().join(f)).unwrap())
        .collect()
}
