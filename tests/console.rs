//! The console under stress (issue 12): each finding driven through the real
//! app on a `TestBackend`, at the minimum size (80×24) and a comfortable one
//! (120×40). A claim the console prints (a command to run later) is run here
//! exactly as a user would run it. Snapshots are named `<screen>_<state>_<size>`.
#![allow(clippy::unwrap_used)]

mod common;

use common::tui::{self, ctrl, key, offline_app, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::playbook::incident;
use custodian_core::workspace::Workspace;

fn ws(sb: &common::Sandbox) -> Workspace {
    Workspace::open(sb.ws()).unwrap()
}

/// The screen at `w`×`h` as plain text.
fn text_at(app: &App, w: u16, h: u16) -> String {
    tui::screen_text(&tui::draw(app, w, h))
}

/// The screen at the minimum supported size.
fn small(app: &App) -> String {
    text_at(app, 80, 24)
}

/// Snapshots the screen at 80×24 and at 120×40.
fn snap_both(name: &str, app: &App) {
    snap!(format!("{name}_80x24"), tui::draw(app, 80, 24));
    snap!(format!("{name}_120x40"), tui::draw(app, 120, 40));
}

/// Opens scenario 1, starts its incident as `operator`, confirms the first
/// (people) step and closes the incident. Returns the incident id.
fn close_scenario_1(app: &mut App, workspace: &Workspace, operator: &str) -> String {
    key(app, KeyCode::Char('p'));
    key(app, KeyCode::Char('1'));
    key(app, KeyCode::Enter);
    type_text(app, operator);
    key(app, KeyCode::Enter);
    let inc = incident::open_for_scenario(workspace, 1).unwrap().unwrap();
    key(app, KeyCode::Enter);
    key(app, KeyCode::Char('c'));
    key(app, KeyCode::Enter);
    inc.id
}

/// The `--expect-head` value of the first `custodian audit verify` command in `text`.
fn printed_expect_head(text: &str) -> String {
    let at = text
        .find("custodian audit verify --expect-head ")
        .expect("the report prints the verify command");
    text[at..]
        .split_whitespace()
        .nth(4)
        .unwrap()
        .trim_matches(|c: char| !c.is_ascii_hexdigit())
        .to_string()
}

// --- Finding 1: the incident report's verify command ---

#[test]
fn the_incident_reports_verify_command_passes_when_run_later() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    let id = close_scenario_1(&mut app, &workspace, "Ana Officer");
    let report = incident::load(&workspace, &id).unwrap().report.unwrap();
    let md = std::fs::read_to_string(&report.path).unwrap();
    let head = printed_expect_head(&md);
    assert_eq!(head, report.audit_head);
    // The head the report names is the last entry written before the report:
    // the close's own INITIATED entry.
    let entries = workspace.audit().entries().unwrap();
    let close = entries
        .iter()
        .rev()
        .find(|e| e.event == "INCIDENT_CLOSE" && e.status.as_str() == "INITIATED")
        .unwrap();
    assert_eq!(head, close.hash);
    // The console shows the same hash, whole, at 80×24.
    let screen = small(&app);
    assert!(screen.contains(&head), "{screen}");

    // Run it as a user would, right away and after more work was audited.
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success();
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    assert!(workspace.audit().entries().unwrap().len() > entries.len());
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success()
        .stdout(predicates::str::contains("recorded head"));
}

#[test]
fn expect_head_that_is_not_a_hash_is_a_usage_error() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    close_scenario_1(&mut app, &workspace, "Ana");
    let out = sb
        .cmd()
        .args(["audit", "verify", "--expect-head", "deadbeef"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("64 hexadecimal"), "{err}");
    assert!(!err.contains("security incident"), "{err}");
    // A well-formed hash that is not in the chain is still the alarm.
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &"ab".repeat(32)])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("security incident"));
}
