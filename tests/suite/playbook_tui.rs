//! The playbook console driven through the real app: scenario screens,
//! incidents (with a real new-identity worker), threat checks, the
//! pre-launch checklist and the audit viewer. Snapshots are named
//! `<screen>_<state>`; volatile text (times, ids, hashes, temp paths) is
//! filtered.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use common::tui::{self, key, key_settled, offline_app, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::netcheck::LiveInterface;
use custodian_core::playbook::incident;
use custodian_core::workspace::{CustodianRecord, Workspace};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn ws(sb: &common::Sandbox) -> Workspace {
    Workspace::open(sb.ws()).unwrap()
}

fn draw(app: &App) -> Terminal<TestBackend> {
    tui::draw(app, 100, 30)
}

fn screen_text(app: &App) -> String {
    tui::screen_text(&draw(app))
}

fn snapshot(name: &str, app: &App) {
    snap_both!(name, app);
}

fn custodian(name: &str, due: &str) -> CustodianRecord {
    CustodianRecord {
        name: name.into(),
        recipient: format!("age1{}", name.to_lowercase()),
        fingerprint: format!("fp-{name}"),
        created_at: "2026-01-01T00:00:00Z".into(),
        rotation_due: due.into(),
        identity_file: None,
        token: None,
    }
}

#[test]
fn every_scenario_screen_renders_from_data() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    key(&mut app, KeyCode::Char('p'));
    snapshot("scenarios_list", &app);
    for n in 1..=5u8 {
        type_text(&mut app, &n.to_string());
        assert!(app.current_title().starts_with(&format!("Scenario {n}")));
        snapshot(&format!("scenario_{n}"), &app);
        key(&mut app, KeyCode::Esc);
    }
    // Looking at scenarios opens no incident and writes nothing.
    assert!(incident::list(&ws(&sb)).unwrap().is_empty());
    assert!(!sb.ws().join("audit.jsonl").exists());
}

/// The new-identity wizard a scenario step opened, its name prefilled:
/// the passphrase typed twice, the identity made on the worker, and Enter
/// on the result back to the scenario.
fn create_prefilled_identity(app: &mut App) {
    key(app, KeyCode::Enter);
    type_text(app, common::PASS_A);
    key(app, KeyCode::Enter);
    type_text(app, common::PASS_A);
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    assert!(screen_text(app).contains("Identity created and verified"));
    key(app, KeyCode::Enter);
    assert!(app.current_title().starts_with("Scenario 2"));
}

#[test]
fn scenario_2_end_to_end_with_a_real_identity_wizard() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    // The officers here have no identities: the close takes typed names.
    common::accept_typed_approvals(&workspace);
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('2'));

    // Step 1 is a people step: Enter asks to open an incident first.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Ben");
    snapshot("scenario_2_open_incident", &app);
    key(&mut app, KeyCode::Enter);
    let inc = incident::open_for_scenario(&workspace, 2).unwrap().unwrap();
    assert_eq!(inc.operators, ["Ana Officer"]);
    assert_eq!(inc.affected.as_deref(), Some("Ben"));
    // Then straight on to confirming step 1; the name is typed, never
    // prefilled (Enter twice must not confirm a step).
    assert!(screen_text(&app).contains("Confirm step 1: Record what was lost"));
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("an operator name is required"));
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    let inc = incident::load(&workspace, &inc.id).unwrap();
    assert_eq!(inc.steps[0].step, "record-loss");
    assert_eq!(inc.steps[0].operator, "Ana Officer");

    // Step 2 launches the new-identity wizard, pre-filled with the name.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "New custodian identity");
    assert!(screen_text(&app).contains("Custodian name: Ben-new"));
    create_prefilled_identity(&mut app);

    let inc = incident::load(&workspace, &inc.id).unwrap();
    let step = inc.step("new-identity").unwrap();
    assert_eq!(step.operator, "Ana Officer");
    let reg = workspace.registry().unwrap();
    let id_file = reg
        .custodian("Ben-new")
        .unwrap()
        .identity_file
        .clone()
        .unwrap();
    assert_eq!(step.files[0].path, id_file);
    assert_eq!(
        step.files[0].sha256,
        custodian_core::fsutil::file_fingerprint(&id_file).unwrap()
    );
    let text = screen_text(&app);
    assert!(text.contains("[✔] 2. Generate an identity"), "{text}");
    assert!(text.contains("2/4 steps done"), "{text}");
    snapshot("scenario_2_in_progress", &app);

    // Step 3 (rewrap) opens the shards screen, where the rewrap wizard
    // starts from a chosen shard; leaving it keeps the step open.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Shards");
    key(&mut app, KeyCode::Esc);
    assert!(app.current_title().starts_with("Scenario 2"));
    let inc_now = incident::load(&workspace, &inc.id).unwrap();
    assert!(
        inc_now.step("rewrap").is_none(),
        "step recorded without a rewrap"
    );

    // Done elsewhere (the CLI on another machine): Ctrl-R shows the command
    // and the operator records it.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    tui::ctrl(&mut app, 'r');
    let text = screen_text(&app);
    assert!(text.contains("custodian shard rewrap SHARD"), "{text}");
    key(&mut app, KeyCode::Enter);
    let inc = incident::load(&workspace, &inc.id).unwrap();
    assert_eq!(inc.step("rewrap").unwrap().how, incident::StepHow::Command);

    // Close: the report exists and names the audit head.
    key(&mut app, KeyCode::Char('c'));
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    let inc = incident::load(&workspace, &inc.id).unwrap();
    let report = inc.report.clone().unwrap();
    let md = std::fs::read_to_string(&report.path).unwrap();
    let entries = workspace.audit().entries().unwrap();
    let close_initiated = entries
        .iter()
        .rev()
        .find(|e| {
            e.event == "INCIDENT_CLOSE" && e.status == custodian_core::audit::Status::Initiated
        })
        .unwrap();
    assert_eq!(report.audit_head, close_initiated.hash);
    assert!(md.contains(&format!("Audit head at close: `{}`", close_initiated.hash)));
    assert!(md.contains(&id_file.display().to_string()));
    // The identity creation's own audit entries are listed with the incident's.
    assert!(md.contains("| IDENTITY_CREATE | COMPLETED |"), "{md}");
    assert!(md.contains("Update the custodian list"), "open step listed");
    assert!(screen_text(&app).contains("Incident closed. Report written:"));
    // p prints the closed incident's report.
    let (printed, pdfs) = tui::press_print(&mut app, &sb.ws());
    assert_eq!(pdfs.len(), 1);
    assert!(tui::screen_text(&printed).contains("PDF written:"));
    snap!("scenario_printed_80x24", printed);
    snap!("scenario_printed_120x40", tui::draw(&app, 120, 40));
    workspace.audit().verify().unwrap();
    // Every step completion is in the audit log.
    let steps: Vec<&str> = entries
        .iter()
        .filter(|e| {
            e.event == "INCIDENT_STEP" && e.status == custodian_core::audit::Status::Completed
        })
        .map(|e| e.details["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["record-loss", "new-identity", "rewrap"]);
    // Nothing the incident wrote (record, report, audit, registry) holds the passphrase.
    assert!(!sb.all_text().contains(common::PASS_A));
}

#[test]
fn an_incident_resumes_in_a_new_app() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    {
        let mut app = offline_app(workspace.clone());
        key(&mut app, KeyCode::Char('p'));
        key(&mut app, KeyCode::Char('1'));
        key(&mut app, KeyCode::Enter);
        type_text(&mut app, "Cy");
        key(&mut app, KeyCode::Enter);
        type_text(&mut app, "Cy");
        key(&mut app, KeyCode::Enter);
    }
    let id = incident::open_for_scenario(&workspace, 1)
        .unwrap()
        .unwrap()
        .id;
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('p'));
    assert!(screen_text(&app).contains(&format!("{id} open, 1/5 done")));
    key(&mut app, KeyCode::Char('1'));
    let text = screen_text(&app);
    assert!(text.contains(&format!("Incident {id}")), "{text}");
    assert!(text.contains("[✔] 1. Confirm the two remaining"), "{text}");
    // The cursor resumes on the first open step; the name is typed again.
    key(&mut app, KeyCode::Enter);
    assert!(!screen_text(&app).contains("Your name: Cy"));
    type_text(&mut app, "Cy");
    key(&mut app, KeyCode::Enter);
    let inc = incident::load(&workspace, &id).unwrap();
    assert_eq!(inc.steps[1].step, "provision-node");
}

#[test]
fn a_people_step_needs_an_operator_name() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("an operator name is required"));
    assert!(incident::list(&ws(&sb)).unwrap().is_empty());
}

#[test]
fn move_assets_step_shows_the_paper_checklist() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('5'));
    for _ in 0..6 {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Dee");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Dee");
    // Step 7 before steps 1–6: warned once, then confirmed.
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("Out of order"));
    key(&mut app, KeyCode::Enter);
    snapshot("scenario_5_move_assets", &app);
    key(&mut app, KeyCode::Enter);
    let inc = incident::open_for_scenario(&ws(&sb), 5).unwrap().unwrap();
    assert_eq!(inc.steps[0].step, "move-assets");
}

fn threat_workspace(sb: &common::Sandbox) -> Workspace {
    let w = ws(sb);
    w.add_custodian(custodian("Ana", "2020-01-01T00:00:00Z"))
        .unwrap();
    w.add_custodian(custodian("Ben", "2099-01-01T00:00:00Z"))
        .unwrap();
    w.update_registry(|r| {
        r.guardian_splits
            .splits
            .push(custodian_core::guardians::SplitRecord {
                set_id: "set-ana".into(),
                custodian: "Ana".into(),
                recipient: "age1ana".into(),
                threshold: 3,
                total: 5,
                guardians: (1..=5).map(|i| format!("G{i}")).collect(),
                files: Vec::new(),
                file_sha256: Vec::new(),
                created_at: "2026-01-01T00:00:00Z".into(),
                commitments: Vec::new(),
                superseded: None,
                roll_call: Default::default(),
            });
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    w
}

#[test]
fn every_threat_screen_shows_its_checks() {
    let sb = common::Sandbox::new();
    let w = threat_workspace(&sb);
    let mut app = App::with_probe(
        w,
        Box::new(|| {
            Ok(vec![LiveInterface {
                name: "eth0".into(),
                address: "10.0.0.7".into(),
            }])
        }),
    );
    key(&mut app, KeyCode::Char('t'));
    // The checks run on a background thread; take their answer in.
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    for n in 1..=6 {
        snapshot(&format!("threats_{n}"), &app);
        key(&mut app, KeyCode::Right);
    }
}

/// The cells of the first occurrence of `needle` on screen.
fn find_cells(t: &Terminal<TestBackend>, needle: &str) -> Option<(u16, u16)> {
    let buf = t.backend().buffer();
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(i) = row.find(needle) {
            let x = row[..i].chars().count() as u16;
            return Some((x, y));
        }
    }
    None
}

#[test]
fn threat_check_results_are_colour_coded() {
    let sb = common::Sandbox::new();
    let w = threat_workspace(&sb);
    let mut app = offline_app(w);
    key(&mut app, KeyCode::Char('t'));
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    key(&mut app, KeyCode::Char('3'));
    let t = draw(&app);
    let buf = t.backend().buffer();
    // Guardians: Ben has no split → red FAIL.
    let (x, y) = find_cells(&t, "FAIL Every custodian key split").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Red);
    // Files kept apart → green PASS.
    let (x, y) = find_cells(&t, "PASS Identity and shard files").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Green);
    // No sealed files yet → yellow.
    let (x, y) = find_cells(&t, "N/A  Sealed with at least").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
    // The failing threat's tab is red too.
    let (x, y) = find_cells(&t, " 4 ").unwrap();
    assert_eq!(buf[(x + 1, y)].fg, Color::Red);
    // Offline: threat 1's network check passes in green.
    key(&mut app, KeyCode::Char('1'));
    let t = draw(&app);
    let (x, y) = find_cells(&t, "PASS No network interface up").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].fg, Color::Green);
}

#[test]
fn checklist_and_policy_screens() {
    let sb = common::Sandbox::new();
    let w = threat_workspace(&sb);
    let mut app = offline_app(w.clone());
    key_settled(&mut app, KeyCode::Char('l'));
    snapshot("checklist_initial", &app);
    // An automatic item cannot be ticked.
    for _ in 0..3 {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("verified automatically"));
    // A manual item is ticked by name and audited.
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Dee Officer");
    snapshot("checklist_tick_prompt", &app);
    key_settled(&mut app, KeyCode::Enter);
    let text = screen_text(&app);
    assert!(text.contains("Dee Officer"), "{text}");
    let e = w.audit().entries().unwrap();
    assert_eq!(e.last().unwrap().event, "CHECKLIST_TICK");
    assert_eq!(e.last().unwrap().details["item"], "root-key-verified");
    // Persisted: a new app shows it ticked.
    let app2 = offline_app(w.clone());
    let mut app2 = app2;
    key_settled(&mut app2, KeyCode::Char('l'));
    assert!(screen_text(&app2).contains("Dee Officer"));
    key(&mut app, KeyCode::Tab);
    snapshot("policy", &app);
}

#[test]
fn audit_viewer_scrolls_filters_and_verifies() {
    let sb = common::Sandbox::new();
    let w = ws(&sb);
    let log = w.audit();
    for i in 0..30 {
        let key = if i % 3 == 0 { "key-alpha" } else { "key-beta" };
        log.record(
            "SHARD_REWRAP",
            serde_json::json!({"keyId": key, "custodian": "Ana"}),
        )
        .unwrap();
    }
    log.record(
        "CHECKLIST_TICK",
        serde_json::json!({"item": "allow-list", "operator": "Dee"}),
    )
    .unwrap();
    let head = log.verify().unwrap().head;
    let mut app = offline_app(w.clone());
    key_settled(&mut app, KeyCode::Char('a'));
    let text = screen_text(&app);
    assert!(text.contains(&format!("Head: {head}")));
    assert!(text.contains("31 of 31 entries"));
    snapshot("audit_view", &app);

    // Scroll to the top.
    key(&mut app, KeyCode::Home);
    let text = screen_text(&app);
    assert!(text.lines().any(|l| l.starts_with("1     ")), "{text}");
    assert!(!text.contains("CHECKLIST_TICK"), "{text}");
    // Filter by event.
    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "checklist");
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("1 of 31 entries"));
    // Switch to key id: 10 entries are about key-alpha.
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Char('u'));
    for _ in 0.."checklist".len() + 1 {
        key(&mut app, KeyCode::Backspace);
    }
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "key-alpha");
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("10 of 31 entries"));
    snapshot("audit_view_filtered", &app);

    // Tamper with the log, then verify again: the break is shown.
    let path = sb.ws().join("audit.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("Ana", "Eve", 1);
    std::fs::write(&path, text).unwrap();
    key_settled(&mut app, KeyCode::Char('v'));
    let t = draw(&app);
    let (x, y) = find_cells(&t, "CHAIN BROKEN").unwrap();
    assert_eq!(t.backend().buffer()[(x, y)].bg, Color::Red);
    assert!(screen_text(&app).contains("entry 1 was edited"));
}

#[test]
fn playbook_screens_survive_tiny_terminals_and_show_drill() {
    let sb = common::Sandbox::new();
    let w = threat_workspace(&sb);
    w.update_registry(|r| {
        r.sandbox = true;
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let mut app = offline_app(w);
    let tiny = |app: &App| {
        for (w, h) in [(40, 10), (20, 5), (100, 30)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| app.render(f)).unwrap();
        }
    };
    for key in ['p', 't', 'l', 'a'] {
        tui::key(&mut app, KeyCode::Char(key));
        tiny(&app);
        assert!(screen_text(&app).contains("DRILL"), "{key}");
        if key == 'p' {
            tui::key(&mut app, KeyCode::Char('5'));
            tiny(&app);
            assert!(screen_text(&app).contains("DRILL"));
            tui::key(&mut app, KeyCode::Esc);
        }
        tui::key(&mut app, KeyCode::Esc);
    }
}

#[test]
fn operation_steps_open_their_wizards_and_only_their_own_result_completes_them() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter); // confirm step 1 (convene)
    let inc = incident::open_for_scenario(&workspace, 3).unwrap().unwrap();

    // Step 2: guardians reconstruct → the reconstruct wizard.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Rebuild a key from guardian shares");
    key(&mut app, KeyCode::Esc);
    assert!(app.current_title().starts_with("Scenario 3"));

    // Step 3: restore to a node → the shards screen (out of order: step 2
    // is still open, so a second Enter confirms).
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Shards");
    key(&mut app, KeyCode::Esc);

    // Leaving the wizards recorded nothing beyond step 1.
    let inc = incident::load(&workspace, &inc.id).unwrap();
    let done: Vec<&str> = inc.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(done, ["convene"]);
}

/// Threat 6 shows the running-binary check from the same core function as
/// `custodian check`: passing for the accepted binary, failing with both
/// hashes and the remedy for another one.
#[test]
fn threat_6_flags_a_binary_other_than_the_accepted_one() {
    use custodian_core::binary::{self, RunningBinary};
    let running = |fill: &str| RunningBinary {
        sha256: fill.repeat(64),
        version: "0.1.0".into(),
        commit: "0123456789abcdef".repeat(2) + "01234567",
    };
    let sb = common::Sandbox::new();
    let w = ws(&sb);
    binary::record_if_unset(&w, &running("a"), "workspace created").unwrap();

    let accepted = running("a");
    let mut app = App::with_probes(
        w.clone(),
        Box::new(|| Ok(vec![])),
        Box::new(move || Ok(accepted.clone())),
    );
    key(&mut app, KeyCode::Char('t'));
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    for _ in 1..6 {
        key(&mut app, KeyCode::Right);
    }
    let text = tui::screen_text(&tui::draw(&app, 120, 40));
    assert!(
        text.contains("PASS Running binary is the one the workspace accepted"),
        "{text}"
    );

    let other = running("b");
    let mut app = App::with_probes(
        w,
        Box::new(|| Ok(vec![])),
        Box::new(move || Ok(other.clone())),
    );
    key(&mut app, KeyCode::Char('t'));
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    for _ in 1..6 {
        key(&mut app, KeyCode::Right);
    }
    let t = tui::draw(&app, 120, 40);
    let text = tui::screen_text(&t);
    assert!(
        text.contains("FAIL Running binary is the one the workspace accepted"),
        "{text}"
    );
    assert!(
        text.contains(&"b".repeat(64)) && text.contains(&"a".repeat(64)),
        "{text}"
    );
    snap!("threats_6_binary_changed_120x40", t);
    snap!("threats_6_binary_changed_80x24", tui::draw(&app, 80, 24));
    // The remedy is reachable by scrolling at 80x24.
    for _ in 0..30 {
        key(&mut app, KeyCode::Down);
    }
    let text = tui::screen_text(&tui::draw(&app, 80, 24));
    assert!(text.contains("--accept-binary"), "{text}");
}

/// The scenario's fields edit like the shared form's (←/→, Home/End,
/// Delete at the cursor, paste at the cursor), and Esc with typed input
/// asks before it discards: the first Esc keeps every character, any other
/// key keeps going, a second Esc in a row leaves.
#[test]
fn scenario_fields_edit_at_the_cursor_and_esc_asks_before_discarding() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('2'));
    // Opening the incident: a typo fixed in the middle of the name.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Oficer");
    tui::left(&mut app, 4);
    type_text(&mut app, "f");
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Delete);
    type_text(&mut app, "A");
    key(&mut app, KeyCode::End);
    type_text(&mut app, "!");
    key(&mut app, KeyCode::Backspace);
    assert!(
        screen_text(&app).contains("Your name: Ana Officer"),
        "{}",
        screen_text(&app)
    );
    // One Esc keeps the name and asks; another key keeps going.
    key(&mut app, KeyCode::Esc);
    let s = screen_text(&app);
    assert!(s.contains("Esc again discards"), "{s}");
    assert!(s.contains("Your name: Ana Officer"), "{s}");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    let inc = incident::open_for_scenario(&workspace, 2).unwrap().unwrap();
    assert_eq!(inc.operators, ["Ana Officer"]);

    // Confirming step 1 with notes: edited at the cursor, pasted into.
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "laptop lost at the airport");
    tui::left(&mut app, 19);
    tui::paste(&mut app, "work ");
    key(&mut app, KeyCode::End);
    assert!(
        screen_text(&app).contains("Notes (optional): laptop work lost at the airport"),
        "{}",
        screen_text(&app)
    );
    key(&mut app, KeyCode::Esc);
    snapshot("scenario_2_confirm_discard_question", &app);
    let s = screen_text(&app);
    assert!(s.contains("Esc again discards"), "{s}");
    assert!(s.contains("laptop work lost at the airport"), "{s}");
    // A second Esc in a row discards and goes back to the steps.
    key(&mut app, KeyCode::Esc);
    let s = screen_text(&app);
    assert!(!s.contains("Notes (optional)"), "{s}");
    assert!(!s.contains("Esc again"), "{s}");
    assert!(app.current_title().starts_with("Scenario 2"));
    // Nothing typed: one Esc leaves the form at once.
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("Confirm step 1"));
    key(&mut app, KeyCode::Esc);
    assert!(!screen_text(&app).contains("Confirm step 1"));
    let inc = incident::load(&workspace, &inc.id).unwrap();
    assert!(inc.steps.is_empty());

    // Reopening keeps its reason the same way.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Char('u'));
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "wrong step");
    key(&mut app, KeyCode::Esc);
    let s = screen_text(&app);
    assert!(s.contains("Why it was a mistake: wrong step"), "{s}");
    assert!(s.contains("Esc again discards"), "{s}");
}

/// The checklist tick's name field edits at the cursor; Esc after typing
/// asks first; the name it was opened with (the last operator) is not
/// "typed", so Esc on it alone leaves at once.
#[test]
fn checklist_tick_field_edits_and_esc_asks_before_discarding() {
    let sb = common::Sandbox::new();
    let w = threat_workspace(&sb);
    let mut app = offline_app(w.clone());
    key_settled(&mut app, KeyCode::Char('l'));
    for _ in 0..2 {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Dee Oficer");
    tui::left(&mut app, 4);
    type_text(&mut app, "f");
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Esc);
    snapshot("checklist_tick_discard_question", &app);
    let s = screen_text(&app);
    assert!(s.contains("Dee Officer"), "{s}");
    assert!(s.contains("Esc again discards"), "{s}");
    key_settled(&mut app, KeyCode::Enter);
    let e = w.audit().entries().unwrap();
    assert_eq!(e.last().unwrap().event, "CHECKLIST_TICK");
    assert_eq!(e.last().unwrap().details["operator"], "Dee Officer");
    // Opened again: the last name is offered; Esc alone leaves.
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("Dee Officer"));
    key(&mut app, KeyCode::Esc);
    assert!(!screen_text(&app).contains("Esc again"));
    // Typed into, then Esc twice: discarded, nothing ticked.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "x");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert!(!screen_text(&app).contains("Esc again"));
    assert_eq!(w.audit().entries().unwrap().len(), e.len());
}

/// Scenario 2's last step ("retire the old holder") launches the
/// retirement flow for the affected custodian with the identity step 2
/// created (`<affected>-new`) chosen as successor; the retirement's own
/// result records the step, Enter goes back to the scenario, and the
/// checklist's offboarding item is verified from the audited retirement.
#[test]
fn scenario_2_retire_step_launches_retirement_to_the_new_identity_and_records_it() {
    use crate::shard_fixture;
    use custodian_core::playbook::{Playbook, checklist};
    let sb = shard_fixture::sandbox();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('2'));
    // Open the incident naming Ana; confirm step 1.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Enter);
    // Step 2: the replacement's identity, Ana-new.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Enter);
    assert!(screen_text(&app).contains("Custodian name: Ana-new"));
    create_prefilled_identity(&mut app);
    // Step 3 (rewrap) done elsewhere: recorded with its command line.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Olga Officer");
    tui::ctrl(&mut app, 'r');
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&app);
    assert!(text.contains("3/4 steps done"), "{text}");
    // The checklist's offboarding item is not met before a retirement.
    let offboarding = |ws: &Workspace| {
        let reg = ws.registry().unwrap();
        checklist::status(ws, Playbook::builtin(), &reg, custodian_core::clock::now())
            .into_iter()
            .find(|(id, _)| id == "offboarding")
            .unwrap()
            .1
    };
    assert!(!offboarding(&workspace).done());

    // Step 4 launches the retirement of Ana, Ana-new chosen as successor.
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&app);
    assert!(
        text.contains("Confirm step 4: Update the custodian list"),
        "{text}"
    );
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Retire custodian — Ana");
    let text = screen_text(&app);
    assert!(text.contains("▶ Ana-new"), "{text}");
    snapshot("scenario_2_retire_launched", &app);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    // Ana-new holds no shard yet: one of each key is no concentration.
    assert!(screen_text(&app).contains("Retiree's passphrase"));
    type_text(&mut app, shard_fixture::pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(screen_text(&app).contains("Retirement of Ana will change"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let text = screen_text(&app);
    assert!(text.contains("✔ retired Ana; successor Ana-new"), "{text}");
    let footer = text.lines().last().unwrap();
    assert!(footer.contains(" Enter  back to the scenario"), "{footer}");
    key(&mut app, KeyCode::Enter);
    assert!(app.current_title().starts_with("Scenario 2"));
    let text = screen_text(&app);
    assert!(text.contains("[✔] 4. Update the custodian list"), "{text}");
    assert!(text.contains("4/4 steps done"), "{text}");

    // The incident records the step with the files the retirement wrote.
    let inc = incident::open_for_scenario(&workspace, 2).unwrap().unwrap();
    let step = inc.step("update-registry").unwrap();
    assert_eq!(step.operator, "Olga Officer");
    assert_eq!(step.how, incident::StepHow::Console);
    let reg = workspace.registry().unwrap();
    assert!(reg.custodian("Ana").is_none());
    let new = reg.custodian("Ana-new").unwrap();
    let moved: Vec<_> = reg
        .shards
        .iter()
        .filter(|s| s.recipient == new.recipient)
        .map(|s| s.file.clone())
        .collect();
    assert_eq!(moved.len(), 2);
    let recorded: Vec<_> = step.files.iter().map(|f| f.path.clone()).collect();
    for f in &moved {
        assert!(recorded.contains(f), "{recorded:?} lacks {}", f.display());
    }
    let entries = workspace.audit().entries().unwrap();
    assert!(entries.iter().any(|e| {
        e.event == "CUSTODIAN_RETIRE" && e.status == custodian_core::audit::Status::Completed
    }));
    // The audited retirement is the fact that ticks offboarding.
    match offboarding(&workspace) {
        checklist::ItemState::Verified(why) => {
            assert!(why.contains("Ana") && why.contains("Ana-new"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}
