//! The console under stress (issue 12): each finding driven through the real
//! app on a `TestBackend`, at the minimum size (80×24) and a comfortable one
//! (120×40). A claim the console prints (a command to run later) is run here
//! exactly as a user would run it. Snapshots are named `<screen>_<state>_<size>`.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::tui::{self, SCREENS, ctrl, key, key_settled, offline_app, type_text, with_custodians};
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

/// Opens scenario 1, starts its incident as `operator`, confirms the first
/// (people) step and closes the incident. Returns the incident id.
fn close_scenario_1(app: &mut App, workspace: &Workspace, operator: &str) -> String {
    // Nobody here has an identity: the close takes typed names.
    common::accept_typed_approvals(workspace);
    key(app, KeyCode::Char('p'));
    key(app, KeyCode::Char('1'));
    key(app, KeyCode::Enter);
    type_text(app, operator);
    key(app, KeyCode::Enter);
    let inc = incident::open_for_scenario(workspace, 1).unwrap().unwrap();
    type_text(app, operator);
    key(app, KeyCode::Enter);
    key(app, KeyCode::Char('c'));
    type_text(app, operator);
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

// --- Finding 6: playbook steps confirmed with care ---

#[test]
fn a_step_needs_a_typed_name_warns_out_of_order_takes_notes_and_can_be_reopened() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    type_text(&mut app, "p2");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    let id = incident::open_for_scenario(&workspace, 2)
        .unwrap()
        .unwrap()
        .id;
    let steps = |w: &Workspace| incident::load(w, &id).unwrap().steps;

    // The name is not prefilled: Enter alone confirms nothing.
    let screen = small(&app);
    assert!(screen.contains("Your name: ▏"), "{screen}");
    key(&mut app, KeyCode::Enter);
    assert!(small(&app).contains("an operator name is required"));
    assert!(steps(&workspace).is_empty());

    // Notes go with the step, into the record, the audit log and the screen.
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "laptop stolen 09:10, noticed by Ben");
    snap_both!("scenario_2_confirm_notes", app);
    key(&mut app, KeyCode::Enter);
    let done = steps(&workspace);
    assert_eq!(done.len(), 1);
    assert_eq!(
        done[0].notes.as_deref(),
        Some("laptop stolen 09:10, noticed by Ben")
    );
    key(&mut app, KeyCode::Char('k'));
    let screen = small(&app);
    assert!(screen.contains("laptop stolen 09:10"), "{screen}");
    assert!(footer(&screen).contains("u  reopen"), "{screen}");
    assert!(footer(&screen).contains("c  close"), "{screen}");

    // Step 4 while 2 and 3 are open: a warning, and only a second Enter confirms.
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('j'));
    }
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    let screen = small(&app);
    assert!(
        screen.contains("Out of order: not done yet: steps 2, 3"),
        "{screen}"
    );
    snap_both!("scenario_2_out_of_order", app);
    assert_eq!(steps(&workspace).len(), 1);
    key(&mut app, KeyCode::Enter);
    // Step 4 launches a retirement; with no affected custodian named it
    // shows the command line, and Enter records it as done there.
    let screen = small(&app);
    assert!(
        screen.contains("custodian retire --custodian NAME"),
        "{screen}"
    );
    assert_eq!(steps(&workspace).len(), 1);
    key(&mut app, KeyCode::Enter);
    let done = steps(&workspace);
    assert_eq!(done.len(), 2);
    assert_eq!(done[1].out_of_order, ["new-identity", "rewrap"]);

    // That was a mistake: reopen it, naming who and why.
    // (The cursor moved on to the first open step, 2.)
    assert_eq!(app_selected_step(&mut app), 1);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('u'));
    key(&mut app, KeyCode::Enter);
    assert!(small(&app).contains("an operator name is required"));
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    assert!(
        small(&app).contains("a reason is required"),
        "{}",
        small(&app)
    );
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "registry not updated yet");
    snap_both!("scenario_2_reopen", app);
    key(&mut app, KeyCode::Enter);
    let inc = incident::load(&workspace, &id).unwrap();
    assert!(inc.step("update-registry").is_none());
    assert_eq!(inc.reopened.len(), 1);
    assert_eq!(inc.reopened[0].reason, "registry not updated yet");
    let audited = workspace
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "INCIDENT_STEP_REOPEN")
        .count();
    assert_eq!(audited, 2, "INITIATED and COMPLETED");
    assert!(small(&app).contains("1/4 steps done"));
}

/// The selected step of the scenario screen on top.
fn app_selected_step(app: &mut App) -> usize {
    app.top_screen::<custodian::tui::screens::scenario::ScenarioScreen>()
        .map(|s| s.selected())
        .unwrap()
}

// --- Findings 7 and 9: complete at 80×24, the same keys everywhere ---

/// The last row of the screen (the footer).
fn footer(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

#[test]
fn home_at_80x24_lists_every_menu_entry_and_scrolls_custodians() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(with_custodians(&sb, 12));
    let screen = small(&app);
    for (_, items) in custodian::tui::strings::HOME_MENU {
        for (k, what) in *items {
            assert!(
                screen.contains(&format!(" {k} {what}")),
                "{k} {what} missing:\n{screen}"
            );
        }
    }
    assert!(screen.contains("a audit log"), "{screen}");
    assert!(screen.contains("Custodian 01"), "{screen}");
    assert!(!screen.contains("Custodian 12"), "{screen}");
    assert!(
        screen.contains("more below"),
        "no sign of more rows:\n{screen}"
    );
    snap_both!("home_many_custodians", app);
    // j moves down (k up) and the selection stays in view.
    for _ in 0..11 {
        key(&mut app, KeyCode::Char('j'));
    }
    let screen = small(&app);
    assert!(screen.contains("▶ Custodian 12"), "{screen}");
    assert!(screen.contains("more above"), "{screen}");
    key(&mut app, KeyCode::Char('k'));
    assert!(small(&app).contains("▶ Custodian 11"));
    // k no longer opens the DR kit; v does, and j/k move its menu.
    assert_eq!(app.current_title(), "Home");
    key(&mut app, KeyCode::Char('v'));
    assert_eq!(app.current_title(), "Vendor DR kit");
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Check a public key");
}

#[test]
fn below_80x24_one_screen_asks_for_a_larger_terminal() {
    let sb = common::Sandbox::new();
    let app = offline_app(ws(&sb));
    for (w, h) in [(79, 24), (80, 23), (60, 20)] {
        let screen = text_at(&app, w, h);
        assert!(screen.contains("Make the terminal larger"), "{screen}");
        assert!(screen.contains(&format!("{w}×{h}")), "{screen}");
    }
    snap!("too_small_60x20", tui::draw(&app, 60, 20));
    assert!(!small(&app).contains("Make the terminal larger"));
}

#[test]
fn every_screen_at_80x24_keeps_esc_and_help_in_the_footer() {
    let sb = common::Sandbox::new();
    let workspace = with_custodians(&sb, 3);
    for (keys, title) in SCREENS.iter().chain(tui::MORE_SCREENS) {
        let mut app = offline_app(workspace.clone());
        tui::open_screen(&mut app, keys);
        assert!(
            app.current_title().starts_with(title),
            "{keys}: {}",
            app.current_title()
        );
        let screen = small(&app);
        let bar = footer(&screen);
        assert!(bar.contains("Esc"), "{title}: no Esc in {bar:?}");
        assert!(bar.contains("help"), "{title}: no help in {bar:?}");
        // Where ? would be typed into a field, the footer names F1.
        key(&mut app, KeyCode::Char('?'));
        let opened = small(&app).contains("Everywhere");
        if bar.contains(" ? ") {
            assert!(
                opened,
                "{title}: footer shows ? help but ? does not open help"
            );
        } else {
            assert!(bar.contains("F1"), "{title}: {bar:?}");
        }
    }
    // The drill card, walking a drill sandbox (home C).
    let mut app = offline_app(workspace.clone());
    tui::open_drill_card(&mut app, &workspace);
    let screen = small(&app);
    let bar = footer(&screen);
    assert!(bar.contains("Esc"), "drill card: no Esc in {bar:?}");
    assert!(bar.contains("help"), "drill card: no help in {bar:?}");
    // The lock screen names Esc, which leaves it (home, nothing held).
    let mut app = offline_app(workspace.clone());
    type_text(&mut app, "n");
    let bar = tui::lock_now(&mut app);
    assert!(bar.contains("Esc"), "lock screen: {bar:?}");
    key(&mut app, KeyCode::Esc);
    assert!(!app.is_locked());
    assert_eq!(app.current_title(), "Home");
}

#[test]
fn scenario_screen_at_80x24_shows_do_not_and_keeps_the_selected_step_visible() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    type_text(&mut app, "p5");
    let screen = small(&app);
    assert!(screen.contains("Do NOT"), "{screen}");
    snap_both!("scenario_5_top", app);
    for _ in 0..9 {
        key(&mut app, KeyCode::Char('j'));
    }
    let screen = small(&app);
    assert!(
        screen.contains("▶[ ] 10."),
        "selected step off screen:\n{screen}"
    );
    // Its whole text is shown below the list.
    assert!(
        screen.contains("Recover the workspace keys from the DR kit to the HSM"),
        "{screen}"
    );
    assert!(screen.contains("Do NOT"), "{screen}");
    snap_both!("scenario_5_last_step", app);
    // With an incident open, its progress and the close key fit at 80
    // columns (step 8, a people step, confirmed).
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter); // out of order: confirmed after the warning
    let screen = small(&app);
    assert!(screen.contains("1/10 steps done"), "{screen}");
    assert!(footer(&screen).contains("close incident"), "{screen}");
}

#[test]
fn threats_and_policy_scroll_to_their_last_line_at_80x24() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    let book = custodian_core::playbook::Playbook::builtin();
    key(&mut app, KeyCode::Char('t'));
    for threat in &book.threats {
        let last = threat.mitigations.last().unwrap();
        let tail: String = last
            .chars()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        for _ in 0..40 {
            key(&mut app, KeyCode::Char('j'));
        }
        let screen = small(&app).replace('\n', " ");
        let squeezed: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(tail.trim()),
            "threat {}: {tail:?} not reachable",
            threat.number
        );
        key(&mut app, KeyCode::Right);
    }
    key(&mut app, KeyCode::Esc);
    key_settled(&mut app, KeyCode::Char('l'));
    key(&mut app, KeyCode::Tab);
    snap_both!("policy_top", app);
    // Scrolling is bounded by what the last drawing showed: draw at 80×24.
    small(&app);
    for _ in 0..60 {
        key(&mut app, KeyCode::Char('j'));
    }
    let last = book.policy.last().unwrap();
    let screen: String = small(&app).split_whitespace().collect::<Vec<_>>().join(" ");
    let tail: String = last
        .rule
        .split_whitespace()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(screen.contains(&tail), "{tail:?} not reachable:\n{screen}");
}

#[test]
fn checklist_shows_the_whole_selected_item() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    key_settled(&mut app, KeyCode::Char('l'));
    let book = custodian_core::playbook::Playbook::builtin();
    let items: Vec<_> = book.checklist.iter().flat_map(|g| g.items.iter()).collect();
    for (i, item) in items.iter().enumerate() {
        let screen: String = small(&app).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(screen.contains(item.text.trim()), "item {i} cut:\n{screen}");
        key(&mut app, KeyCode::Char('j'));
    }
    snap_both!("checklist_last", app);
}

#[test]
fn q_quits_outside_text_fields_and_asks_when_work_would_be_lost() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    // From a list screen, q quits at once.
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('t'));
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
    // In a wizard's text field, q is a letter.
    let mut app = offline_app(workspace.clone());
    key(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "qa");
    assert!(!app.quit);
    assert!(small(&app).contains("Custodian name: qa"));
    // Ctrl-C with a wizard open asks first; anything but y stays, keeping the input.
    ctrl(&mut app, 'c');
    assert!(!app.quit);
    assert!(app.asking_to_quit());
    let screen = small(&app);
    assert!(screen.contains("Quit?"), "{screen}");
    snap_both!("quit_confirm", app);
    key(&mut app, KeyCode::Char('n'));
    assert!(!app.quit && !app.asking_to_quit());
    assert!(small(&app).contains("Custodian name: qa"));
    ctrl(&mut app, 'c');
    key(&mut app, KeyCode::Char('y'));
    assert!(app.quit);
    // On home with nothing open, Ctrl-C quits at once.
    let mut app = offline_app(workspace);
    ctrl(&mut app, 'c');
    assert!(app.quit);
}

#[test]
fn hints_are_never_dark_grey() {
    let sb = common::Sandbox::new();
    let workspace = with_custodians(&sb, 2);
    for (keys, _) in SCREENS {
        let mut app = offline_app(workspace.clone());
        type_text(&mut app, keys);
        let t = tui::draw(&app, 80, 24);
        let buf = t.backend().buffer();
        for cell in buf.content() {
            assert_ne!(
                cell.fg,
                ratatui::style::Color::DarkGray,
                "{keys}: dark grey text {:?}",
                cell.symbol()
            );
        }
    }
}

// --- Finding 4 (part): quitting asks, the one-time display records how it ended ---

use crate::shard_fixture;

/// The last audit entry's details.
fn last_audit_details(sb: &common::Sandbox) -> serde_json::Value {
    let text = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(v["event"], "RECOVER_PRIVATE_KEY_SCREEN_CLEARED", "{v}");
    v["details"].clone()
}

/// Walks the recovery wizard with shards 1 and 3 to "show once" and runs it.
fn recover_to_screen(app: &mut App, sb: &common::Sandbox) {
    use shard_fixture::{holder, identity, pass_of, shard};
    key(app, KeyCode::Char('R'));
    key(app, KeyCode::Enter);
    type_text(app, "Officer One");
    key(app, KeyCode::Enter);
    type_text(app, "Legal Two");
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
    for i in [1, 3] {
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
    key(app, KeyCode::Char('3'));
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(120)));
    assert!(small(app).contains("Type the key id"), "{}", small(app));
}

#[test]
fn quitting_from_the_one_time_display_asks_and_is_audited_as_abandoned() {
    let sb = shard_fixture::sandbox();
    let mut app = offline_app(ws(&sb));
    recover_to_screen(&mut app, &sb);
    type_text(&mut app, "drill-alpha");
    key(&mut app, KeyCode::Enter);
    app.handle(custodian::tui::event::Event::Tick);
    assert!(small(&app).contains("PRIVATE KEY"));
    ctrl(&mut app, 'c');
    assert!(!app.quit, "Ctrl-C quit a wizard at once");
    assert!(small(&app).contains("Quit?"));
    key(&mut app, KeyCode::Char('y'));
    assert!(app.quit);
    let d = last_audit_details(&sb);
    assert_eq!(d["ended"], "abandoned");
    assert_eq!(d["shown"], true);
    assert_eq!(d["keyId"], "drill-alpha");
}

#[test]
fn the_one_time_display_records_shown_and_cleared_and_abandoned_unshown() {
    let sb = shard_fixture::sandbox();
    let mut app = offline_app(ws(&sb));
    recover_to_screen(&mut app, &sb);
    // Esc at "type the key id": discarded without being shown.
    key(&mut app, KeyCode::Esc);
    let d = last_audit_details(&sb);
    assert_eq!(d["ended"], "abandoned");
    assert_eq!(d["shown"], false);
    key(&mut app, KeyCode::Enter);
    // Again, shown, then cleared by hand.
    recover_to_screen(&mut app, &sb);
    type_text(&mut app, "drill-alpha");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    let d = last_audit_details(&sb);
    assert_eq!(d["ended"], "shown-and-cleared");
    assert_eq!(d["shown"], true);
}

// --- Finding 10: small bugs ---

/// A long holder name is cut to its column with "…": the recipient and
/// fingerprint columns stay where their headings are, at 80×24 and 120×40.
#[test]
fn long_holder_names_are_cut_to_their_column() {
    let sb = common::Sandbox::new();
    let ws = with_custodians(&sb, 1);
    let long = "Maximiliana Alexandrova-Konstantinopoulou";
    ws.add_custodian(tui::custodian(long)).unwrap();
    let app = offline_app(ws);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = text_at(&app, w, h);
        let lines: Vec<&str> = screen.lines().collect();
        let heading = lines.iter().find(|l| l.contains("Recipient")).unwrap();
        let col = |l: &str, what: &str| l.find(what).map(|b| l[..b].chars().count());
        let at = col(heading, "Recipient").unwrap();
        let row = lines
            .iter()
            .find(|l| l.contains("Maximiliana"))
            .unwrap_or_else(|| panic!("{screen}"));
        assert!(row.contains('…') && !row.contains(long), "{row}");
        assert_eq!(col(row, "age1"), Some(at), "{screen}");
    }
}

#[test]
fn the_strength_meter_never_rates_green_what_the_policy_refuses() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    key(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "correct horse battery");
    let t = tui::draw(&app, 80, 24);
    let screen = tui::screen_text(&t);
    assert!(screen.contains("refused by policy"), "{screen}");
    let buf = t.backend().buffer();
    let y = (0..buf.area.height)
        .find(|&y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .starts_with("Strength:")
        })
        .unwrap();
    for x in 0..buf.area.width {
        let fg = buf[(x, y)].fg;
        assert!(
            fg != ratatui::style::Color::Green && fg != ratatui::style::Color::LightGreen,
            "green meter for a refused passphrase"
        );
    }
    snap_both!("new_identity_refused_passphrase", app);
    // A passphrase the policy accepts still rates green.
    ctrl(&mut app, 'u');
    type_text(&mut app, common::PASS_A);
    assert!(!small(&app).contains("refused by policy"));
}

#[test]
fn screens_that_touch_secrets_show_the_air_gap_banner_and_a_broken_audit_log() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = App::with_probe(
        workspace.clone(),
        Box::new(|| {
            Ok(vec![custodian_core::netcheck::LiveInterface {
                name: "wlan0".into(),
                address: "192.0.2.7".into(),
            }])
        }),
    );
    for keys in ["n", "g", "c", "R", "v1", "v3", "v4"] {
        type_text(&mut app, keys);
        let screen = small(&app);
        assert!(screen.contains("NETWORK UP"), "{keys}:\n{screen}");
        assert!(screen.contains("wlan0"), "{keys}:\n{screen}");
        key(&mut app, KeyCode::Esc);
        if keys.starts_with('v') {
            key(&mut app, KeyCode::Esc);
        }
        assert_eq!(app.current_title(), "Home", "{keys}");
    }
    type_text(&mut app, "n");
    snap_both!("new_identity_network_up", app);

    // A tampered audit log is named on the screen that starts an operation.
    let mut app = offline_app(workspace.clone());
    close_scenario_1(&mut app, &workspace, "Ana");
    let log = sb.ws().join("audit.jsonl");
    let text = std::fs::read_to_string(&log)
        .unwrap()
        .replacen("Ana", "Eve", 1);
    std::fs::write(&log, text).unwrap();
    let mut app = offline_app(workspace);
    key(&mut app, KeyCode::Char('n'));
    let screen = small(&app);
    assert!(screen.contains("AUDIT LOG BROKEN"), "{screen}");
    snap_both!("new_identity_audit_broken", app);
}

/// Every error whose command-line remedy names a flag or a `custodian …`
/// command (and the wrappers that pass a remedy on), as the console words
/// and draws it.
fn errors_with_command_line_remedies() -> Vec<Box<dyn custodian_core::error::Explain>> {
    use custodian_core::approvals::ApprovalError;
    use custodian_core::audit::AuditError;
    use custodian_core::backup::BackupError;
    use custodian_core::binary::BinaryError;
    use custodian_core::drill::key::DrillKeyError;
    use custodian_core::drill::run::DrillError;
    use custodian_core::drkit::DrKitError;
    use custodian_core::guardians::GuardianError;
    use custodian_core::identity::IdentityError;
    use custodian_core::lifecycle::LifecycleError as L;
    use custodian_core::outputs::OutputsError;
    use custodian_core::passphrase::PassphraseError;
    use custodian_core::playbook::PlaybookError;
    use custodian_core::print::PrintError;
    use custodian_core::recovery::RecoveryError;
    use custodian_core::shard::ShardError;
    use custodian_core::workspace::WorkspaceError;
    use std::path::PathBuf;
    let p = || PathBuf::from("/media/x");
    let s = |t: &str| t.to_string();
    let authenticated = || ApprovalError::NotEnoughAuthenticated { have: 1, typed: 1 };
    vec![
        Box::new(GuardianError::MixedSets {
            first: s("a"),
            first_set: s("1"),
            second: s("b"),
            second_set: s("2"),
        }),
        Box::new(GuardianError::UnknownSet { set: s("1") }),
        Box::new(GuardianError::NoCommitments {
            set: s("1"),
            custodian: s("Ana"),
        }),
        Box::new(DrKitError::NotAPublicKey(s("k"))),
        Box::new(DrKitError::NoSuchWorkspaceKey(s("k"))),
        Box::new(DrKitError::KeyTooSmall { bits: 2048 }),
        Box::new(DrKitError::WrongRsaKey { entry: s("e") }),
        Box::new(DrKitError::InvalidWalletIds(Vec::new())),
        Box::new(DrKitError::NoSuchColumn {
            name: s("id"),
            columns: s("a,b"),
        }),
        Box::new(DrKitError::NoWalletIdColumn { columns: s("a,b") }),
        Box::new(DrKitError::TooManyBadLines { limit: 10 }),
        Box::new(DrKitError::NoWallets),
        Box::new(DrKitError::TooFewApprovers { given: 1 }),
        Box::new(DrKitError::OutputDir {
            path: p(),
            reason: s("holds files"),
        }),
        Box::new(DrKitError::Approval(authenticated())),
        Box::new(BackupError::NoRecipient),
        Box::new(BackupError::BadRecipient {
            index: 0,
            reason: s("bad"),
        }),
        Box::new(BackupError::SourceAudit(AuditError::Io {
            path: p(),
            source: std::io::Error::other("x"),
        })),
        Box::new(BackupError::NotAnArchive(p())),
        Box::new(BackupError::BadDocument(s("x"))),
        Box::new(BackupError::NotForThisIdentity {
            path: p(),
            recipient: s("age1"),
        }),
        Box::new(BackupError::TargetNotEmpty(p())),
        Box::new(BackupError::RestoreInsideWorkspace {
            into: p(),
            workspace: p(),
        }),
        Box::new(PassphraseError::TooShort { chars: 3, words: 1 }),
        Box::new(PassphraseError::Predictable {
            score: 1,
            hint: s("h"),
        }),
        Box::new(ApprovalError::NotRegistered(s("Eve"))),
        Box::new(ApprovalError::NoIdentity {
            name: s("Eve"),
            reason: s("r"),
        }),
        Box::new(ApprovalError::NotTheirIdentity(s("Eve"))),
        Box::new(authenticated()),
        Box::new(IdentityError::UnsupportedRecipient {
            prefix: "age1pq",
            kind: "pq",
            why: "w",
        }),
        // A hardware-tag recipient has its own remedy.
        Box::new(
            custodian_core::identity::parse_recipient(
                "age1tag1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs8ykvp9",
            )
            .unwrap_err(),
        ),
        Box::new(IdentityError::UnsupportedKey {
            line: 1,
            kind: "pq",
        }),
        Box::new(IdentityError::BadRecipient(s("r"))),
        Box::new(IdentityError::ConfirmationRequired),
        Box::new(DrillKeyError::BadSplit {
            threshold: 3,
            total: 2,
        }),
        Box::new(DrillKeyError::UnknownCustodian(s("Eve"))),
        Box::new(DrillError::SandboxNotEmpty(p())),
        Box::new(DrillError::SandboxIsWorkspace),
        Box::new(DrillError::TooFewParticipants(1)),
        Box::new(WorkspaceError::NoDefault),
        Box::new(WorkspaceError::Missing { path: p() }),
        Box::new(OutputsError::NotTracked(p())),
        Box::new(OutputsError::Gone(p())),
        Box::new(OutputsError::Changed {
            path: p(),
            expected: s("a"),
            actual: s("b"),
        }),
        Box::new(OutputsError::StillHere(p())),
        Box::new(OutputsError::BadOperator(s(""), s("empty"))),
        Box::new(BinaryError::BadHash(s("x"))),
        Box::new(PlaybookError::UnknownIncident(s("INC-1"))),
        Box::new(PlaybookError::AuditBroken(s("x"))),
        Box::new(RecoveryError::UnpairedInputs {
            shards: 2,
            identities: 1,
        }),
        Box::new(RecoveryError::NotInSet {
            key_id: s("k"),
            shards: vec![(1, p())],
        }),
        Box::new(RecoveryError::Approval(authenticated())),
        Box::new(PrintError::NoCeremony(s("c"))),
        Box::new(PrintError::NoReport(s("INC-1"))),
        Box::new(PrintError::ReportAltered {
            path: p(),
            expected: s("h"),
        }),
        Box::new(L::UnknownCustodian(s("Eve"))),
        Box::new(L::TokenNotSupported(s("Ana"))),
        Box::new(L::NoIdentityFile(s("Ana"))),
        Box::new(L::WrongIdentity {
            path: p(),
            name: s("Ana"),
            found: s("a"),
            registered: s("b"),
        }),
        Box::new(L::ResplitRequired(s("Ana"))),
        Box::new(L::NotListed(p())),
        Box::new(L::CeremonyIncomplete(s("c"))),
        Box::new(L::SelfSuccession(s("Ana"))),
        Box::new(L::ReachesThreshold {
            holder: s("Ben"),
            key_id: s("k"),
            holds: 2,
            threshold: 2,
        }),
        Box::new(L::Concentration {
            holder: s("Ben"),
            key_id: s("k"),
            holds: 2,
        }),
        Box::new(L::TooFewApprovers(1)),
        Box::new(ShardError::WrongIdentity {
            shard_recipient: s("a"),
            identity_name: s("Ana"),
            identity_recipient: s("b"),
        }),
        Box::new(ShardError::MultipleRecipients {
            count: 2,
            recipient: s("age1"),
        }),
        Box::new(ShardError::ConcentrationUnconfirmed {
            holder: s("Ben"),
            key_id: s("k"),
            holds: 2,
            threshold: 3,
        }),
        Box::new(ShardError::ConcentrationWrongName {
            given: s("Bn"),
            holder: s("Ben"),
        }),
        Box::new(ShardError::ReachesThreshold {
            holder: s("Ben"),
            key_id: s("k"),
            holds: 2,
            threshold: 2,
        }),
        Box::new(ShardError::TooFewApprovers(1)),
        Box::new(ShardError::Approval(Box::new(authenticated()))),
    ]
}

#[test]
fn console_errors_give_no_command_line_advice() {
    use custodian_core::error::Report;
    let errors = errors_with_command_line_remedies();
    for e in &errors {
        let cli = Report::from_error(e.as_ref());
        let console = Report::for_console(e.as_ref());
        // Each has a remedy on the command line and one in the console.
        assert!(cli.remedy.is_some(), "{cli}");
        assert!(console.remedy.is_some(), "no remedy in the console: {cli}");
        assert_eq!(cli.message, console.message);
        let shown: String = custodian::tui::widgets::report_lines(&console)
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        tui::assert_no_command_line_advice(&shown);
    }
}

#[test]
fn custodian_without_a_terminal_says_so_instead_of_panicking() {
    let sb = common::Sandbox::new();
    let out = sb.cmd().assert().failure().get_output().clone();
    let code = out.status.code().unwrap();
    assert!(code == 1 || code == 2, "exit {code}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn passphrase_generate_with_too_few_words_is_a_usage_error() {
    let sb = common::Sandbox::new();
    sb.cmd()
        .args(["passphrase", "generate", "--words", "3"])
        .assert()
        .code(2);
    sb.cmd()
        .args(["passphrase", "generate", "--words", "6"])
        .assert()
        .success();
}

#[test]
fn json_is_one_document_for_lists_and_lines_for_streams() {
    let sb = common::Sandbox::new();
    let workspace = ws(&sb);
    let mut app = offline_app(workspace.clone());
    close_scenario_1(&mut app, &workspace, "Ana");
    let list = sb
        .cmd()
        .args(["--json", "incident", "list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let shown = sb
        .cmd()
        .args(["--json", "audit", "show"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(shown)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), workspace.audit().entries().unwrap().len());
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("JSON lines only for streams"));
}

#[test]
fn the_help_overlay_fits_80x24_and_documents_the_keys() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(with_custodians(&sb, 2));
    key(&mut app, KeyCode::Char('?'));
    let screen = small(&app);
    for needle in [
        "v         vendor DR kit",
        "a         audit log",
        "j/k",
        "q / Ctrl-C quit",
        "Enter     continue",
    ] {
        assert!(screen.contains(needle), "{needle:?} missing:\n{screen}");
    }
    snap_both!("home_help", app);
}

// --- Deliver 1 (start): the shared form, on "Check a public key" ---

#[test]
fn a_mistyped_public_key_path_is_fixed_in_place() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    type_text(&mut app, "v2");
    // The default path is prefilled; replace it with a mistyped one.
    ctrl(&mut app, 'u');
    let wrong = sb.file("recovry-public.pem");
    type_text(&mut app, wrong.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    let screen = small(&app);
    // The path is kept, the error under it.
    assert!(screen.contains("recovry-public.pem"), "{screen}");
    snap_both!("kit_fingerprint_path_error", app);
    // Fix the typo where it is: move the cursor left and insert the letter.
    for _ in 0.."ry-public.pem".len() {
        key(&mut app, KeyCode::Left);
    }
    type_text(&mut app, "e");
    key(&mut app, KeyCode::End);
    let screen = small(&app);
    assert!(screen.contains("recovery-public.pem▏"), "{screen}");
    // Esc with typed input asks first; a second Esc leaves.
    key(&mut app, KeyCode::Esc);
    assert!(small(&app).contains("Esc again discards"));
    assert_eq!(app.current_title(), "Check a public key");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Vendor DR kit");
}

#[test]
fn an_unreadable_registry_is_said_on_home_and_no_screen_shows_an_empty_workspace() {
    let sb = common::Sandbox::new();
    let workspace = with_custodians(&sb, 2);
    // A section of the wrong shape: the registry cannot be read.
    let reg = sb.ws().join("registry.json");
    let text = std::fs::read_to_string(&reg).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["guardianSplits"] = serde_json::json!(7);
    std::fs::write(&reg, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let before = std::fs::read(&reg).unwrap();

    let mut app = offline_app(workspace);
    let home = small(&app);
    assert!(home.contains("REGISTRY UNREADABLE"), "{home}");
    assert!(home.contains("guardianSplits"), "{home}");
    assert!(!home.contains("No custodians yet"), "{home}");
    snap_both!("home_registry_unreadable", app);

    // The threat and checklist screens would say "no custodian", "no split":
    // they stay closed and the footer says why.
    for k in ['t', 'l'] {
        key(&mut app, KeyCode::Char(k));
        let shown = small(&app);
        assert!(shown.contains("guardianSplits"), "{k}: {shown}");
        assert_eq!(app.current_title(), "Home", "{k} opened a screen");
    }
    assert_eq!(
        std::fs::read(&reg).unwrap(),
        before,
        "the registry was rewritten"
    );
}

#[test]
fn passphrase_fields_are_locked_in_memory() {
    let field = custodian::tui::widgets::TextField::masked();
    assert!(field.is_locked(), "mlock of the field's buffer failed");
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let locked_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(locked_kb >= 4, "VmLck {locked_kb} kB");
}

// --- Issue 16 item 5: responsiveness ---

/// A workspace whose audit log has a few real entries (a closed incident).
fn with_audit_entries(sb: &common::Sandbox) -> Workspace {
    let workspace = ws(sb);
    let mut app = offline_app(workspace.clone());
    close_scenario_1(&mut app, &workspace, "Ana Officer");
    workspace
}

#[test]
fn home_says_checking_until_the_background_audit_check_reports() {
    let sb = common::Sandbox::new();
    let workspace = with_audit_entries(&sb);
    // As the first frame shows it: the chain is not verified on the UI
    // thread, so nothing about it is claimed yet.
    let mut app = tui::offline_app_unchecked(workspace.clone());
    assert!(app.checking());
    let screen = small(&app);
    assert!(screen.contains("checking the audit chain…"), "{screen}");
    assert!(!screen.contains("Chain intact"), "{screen}");
    snap_both!("home_audit_checking", app);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    let entries = workspace.audit().verify().unwrap().entries;
    let screen = small(&app);
    assert!(
        screen.contains(&format!("Chain intact: {entries} entries")),
        "{screen}"
    );
    snap_both!("home_audit_checked", app);

    // A broken chain found by the background check is shown as broken.
    let log = sb.ws().join("audit.jsonl");
    let text = std::fs::read_to_string(&log)
        .unwrap()
        .replacen("Ana", "Eve", 1);
    std::fs::write(&log, text).unwrap();
    key(&mut app, KeyCode::Char('r'));
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    let screen = small(&app);
    assert!(screen.contains("CHAIN BROKEN"), "{screen}");
}

#[test]
fn threats_say_checking_until_the_background_scans_report() {
    let sb = common::Sandbox::new();
    let mut app = offline_app(ws(&sb));
    key(&mut app, KeyCode::Char('t'));
    // Threat 1 has local checks; none is claimed before the scans report.
    let screen = small(&app);
    assert!(screen.contains("checking…"), "{screen}");
    assert!(
        !screen.contains("PASS") && !screen.contains("FAIL"),
        "{screen}"
    );
    snap_both!("threats_checking", app);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    let screen = small(&app);
    assert!(!screen.contains("checking…"), "{screen}");
    assert!(
        screen.contains("PASS") || screen.contains("FAIL"),
        "{screen}"
    );
    snap_both!("threats_checked", app);
    // Re-running shows "checking…" again until the new answer.
    key(&mut app, KeyCode::Char('r'));
    assert!(small(&app).contains("checking…"));
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    assert!(!small(&app).contains("checking…"));
}

#[test]
fn an_idle_console_asks_for_no_ticks_and_a_countdown_does() {
    let sb = shard_fixture::sandbox();
    let mut app = offline_app(ws(&sb));
    // Home, idle: nothing moves, so no timer may fire (clarification 14).
    assert!(!app.animating());
    // A background check shows static text and asks for no ticks either.
    key(&mut app, KeyCode::Char('t'));
    assert!(app.checking());
    assert!(!app.animating());
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    key(&mut app, KeyCode::Esc);
    // The one-time key display counts down to clearing itself: it ticks.
    recover_to_screen(&mut app, &sb);
    type_text(&mut app, "drill-alpha");
    key(&mut app, KeyCode::Enter);
    assert!(app.animating(), "the countdown needs ticks");
    key(&mut app, KeyCode::Enter);
    assert!(!app.animating());
}
