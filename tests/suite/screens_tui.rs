//! Every screen at the minimum size (80×24) and a comfortable one (120×40),
//! the one list component walked on every list (issue 12, Deliver 1 and 6),
//! and old drill sandboxes listed and deleted from the console (Deliver 5).
//! Snapshots are named `screen_<title>_<size>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::tui::{self, MORE_SCREENS, SCREENS, key, offline_app, open_screen, with_custodians};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::workspace::Workspace;

/// A workspace with 12 custodians (more than fit at 80×24) and an audit
/// log of 40 entries.
fn busy_workspace(sb: &common::Sandbox) -> Workspace {
    let w = with_custodians(sb, 12);
    for i in 0..40 {
        w.audit()
            .record(
                "SHARD_REWRAP",
                serde_json::json!({ "keyId": format!("key-{i:02}"), "custodian": "Ana" }),
            )
            .unwrap();
    }
    w
}

fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn snap_both(name: &str, app: &App) {
    // Sandbox sizes include a registry written with the time in it.
    snap_both!(
        format!("screen_{name}"),
        app,
        &[(r"\d+(\.\d)? (KB|B)\b", "[SIZE]")]
    );
}

fn small(app: &App) -> String {
    tui::screen_text(&tui::draw(app, 80, 24))
}

fn footer(screen: &str) -> &str {
    screen.lines().last().unwrap_or("")
}

#[test]
fn every_screen_at_80x24_and_120x40() {
    let sb = common::Sandbox::new();
    let w = busy_workspace(&sb);
    let app = offline_app(w.clone());
    snap_both("home", &app);
    for (keys, title) in SCREENS {
        let mut app = offline_app(w.clone());
        open_screen(&mut app, keys);
        assert!(app.current_title().starts_with(title), "{keys}");
        snap_both(&slug(title), &app);
    }
    // The drill screen's list of old sandboxes.
    common::tui::recorded_drill_sandbox(&w, "ws-drill-20260101-aaaaaa", "DRILL-20260101-aaaaaa");
    let mut app = offline_app(w.clone());
    open_screen(&mut app, "D");
    key(&mut app, KeyCode::Tab);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    snap_both("drill_sandboxes", &app);
    // The drill card, walking a drill sandbox (home C).
    let mut app = offline_app(w.clone());
    tui::open_drill_card(&mut app, &w);
    snap_both!(
        "screen_drill_card",
        app,
        &[(r#"/[^\s"|`]*/ws-drill-card"#, "[SANDBOX]")]
    );
}

/// List screens: the keys that open them from home, and what the selected
/// last row shows.
fn lists(w: &Workspace, last_shard: &str) -> Vec<(&'static str, String)> {
    let book = custodian_core::playbook::Playbook::builtin();
    let last_item = book
        .checklist
        .iter()
        .flat_map(|g| g.items.iter())
        .last()
        .unwrap();
    let entries = w.audit().entries().unwrap().len();
    vec![
        ("", "▶ Custodian 12".to_string()),
        ("p", "▶ 5. ".to_string()),
        ("p5", "▶[ ] 10.".to_string()),
        ("l", last_item.text.chars().take(30).collect::<String>()),
        ("a", format!("{entries} ")),
        ("v", "▶ 6".to_string()),
        ("s", last_shard.chars().take(20).collect::<String>()),
    ]
}

/// Esc (back) and help in the footer of the screen `app` shows at 80×24.
#[track_caller]
fn assert_footer_keeps_esc(app: &App, title: &str) {
    let bar = small(app);
    let bar = footer(&bar);
    assert!(bar.contains("Esc"), "{title}: no Esc in {bar:?}");
    assert!(bar.contains("help"), "{title}: no help in {bar:?}");
}

#[test]
fn every_list_keeps_its_last_row_visible_and_every_screen_keeps_esc_at_80x24() {
    let sb = common::Sandbox::new();
    let w = busy_workspace(&sb);
    // Every screen: Esc (back) and help are in the footer, whatever else
    // had to go.
    for (keys, title) in SCREENS.iter().chain(MORE_SCREENS) {
        let mut app = offline_app(w.clone());
        open_screen(&mut app, keys);
        assert!(
            app.current_title().starts_with(title),
            "{keys}: {}",
            app.current_title()
        );
        for _ in 0..40 {
            key(&mut app, KeyCode::Down);
        }
        assert_footer_keeps_esc(&app, title);
    }
    // The drill card, walking a drill sandbox, scrolled to its end.
    let mut app = offline_app(w.clone());
    tui::open_drill_card(&mut app, &w);
    key(&mut app, KeyCode::End);
    assert!(small(&app).contains("Drill 12"), "{}", small(&app));
    assert_footer_keeps_esc(&app, "Drill card");
    // The lock screen: Esc is named, and leaves it.
    let mut app = offline_app(w.clone());
    open_screen(&mut app, "n");
    let bar = tui::lock_now(&mut app);
    assert!(bar.contains("Esc"), "lock screen: {bar:?}");
    key(&mut app, KeyCode::Esc);
    assert!(!app.is_locked());
    // Every list below, the shards list too.
    let last_shard = tui::with_shards(&w, 15);
    // Every list: End selects the last row, which is on screen, with a sign
    // that more is above; Home goes back to the top.
    for (keys, last) in lists(&w, &last_shard) {
        let mut app = offline_app(w.clone());
        open_screen(&mut app, keys);
        key(&mut app, KeyCode::End);
        let screen = small(&app);
        // The audit viewer marks its selection in reverse video, the
        // others with ▶.
        assert!(
            screen
                .lines()
                .any(|l| l.contains(last.as_str()) && (keys == "a" || l.contains('▶'))),
            "{keys:?}: selected last row {last:?} not on screen:\n{screen}"
        );
        if keys.is_empty() {
            assert!(footer(&screen).contains("quit"), "{screen}");
        } else {
            assert!(footer(&screen).contains("Esc"), "{keys:?}:\n{screen}");
        }
        // j/k and PgUp move it back; it stays in view all the way.
        for _ in 0..3 {
            key(&mut app, KeyCode::PageUp);
            let screen = small(&app);
            assert!(
                screen.contains('▶') || keys == "a",
                "{keys:?}: selection lost:\n{screen}"
            );
        }
        key(&mut app, KeyCode::Home);
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Char('k'));
        let screen = small(&app);
        assert!(
            !screen.contains("more above"),
            "{keys:?}: Home did not go to the top:\n{screen}"
        );
    }
    // A long list shows that more is above once the selection moved down.
    let mut app = offline_app(w.clone());
    key(&mut app, KeyCode::End);
    let screen = small(&app);
    assert!(screen.contains("more above"), "{screen}");
    assert!(!screen.contains("more below"), "{screen}");
}

#[test]
fn old_drill_sandboxes_are_listed_and_deleted_with_confirmation_and_an_audit_entry() {
    let sb = common::Sandbox::new();
    let w = Workspace::open(sb.ws()).unwrap();
    let old = common::tui::recorded_drill_sandbox(&w, "ws-drill-old", "DRILL-20250101-000001");
    let newer = common::tui::recorded_drill_sandbox(&w, "ws-drill-new", "DRILL-20260101-000002");
    // A directory a drill entry names but that is not a sandbox workspace:
    // never listed, never deleted.
    let plain = sb.path().join("ws-drill-plain");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("keep.txt"), b"keep").unwrap();
    w.audit()
        .record(
            "DRILL_RUN",
            serde_json::json!({ "drill": "DRILL-X", "sandbox": plain }),
        )
        .unwrap();

    let mut app = offline_app(w.clone());
    open_screen(&mut app, "D");
    assert!(
        small(&app).contains("Tab"),
        "the drill screen offers the list"
    );
    key(&mut app, KeyCode::Tab);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    let screen = small(&app);
    assert!(screen.contains("DRILL-20250101-000001"), "{screen}");
    assert!(screen.contains("DRILL-20260101-000002"), "{screen}");
    assert!(!screen.contains("DRILL-X"), "{screen}");
    assert!(screen.contains(" KB"), "sizes shown:\n{screen}");
    assert!(screen.contains("0d"), "ages shown:\n{screen}");
    assert!(footer(&screen).contains("Esc"), "{screen}");

    // d asks; n keeps it.
    key(&mut app, KeyCode::Char('d'));
    let screen = small(&app);
    assert!(screen.contains("cannot be undone"), "{screen}");
    snap_both("drill_sandbox_confirm", &app);
    key(&mut app, KeyCode::Char('n'));
    assert!(old.exists());
    // d then y deletes the selected one (the first) and lists again.
    key(&mut app, KeyCode::Char('d'));
    key(&mut app, KeyCode::Char('y'));
    assert!(app.pump_until_idle(std::time::Duration::from_secs(30)));
    assert!(!old.exists(), "the sandbox is gone");
    assert!(newer.join("material.bin").exists(), "the other is kept");
    assert_eq!(std::fs::read(plain.join("keep.txt")).unwrap(), b"keep");
    let screen = small(&app);
    assert!(screen.contains("Deleted"), "{screen}");
    assert!(!screen.contains("DRILL-20250101-000001"), "{screen}");
    let entries = w.audit().entries().unwrap();
    let deleted: Vec<_> = entries
        .iter()
        .filter(|e| e.event == "DRILL_SANDBOX_DELETE")
        .collect();
    assert_eq!(deleted.len(), 2, "initiated and completed");
    assert_eq!(deleted[1].status, custodian_core::audit::Status::Completed);
    assert_eq!(deleted[0].details["drill"], "DRILL-20250101-000001");
    w.audit().verify().unwrap();
    // Tab returns to the participants, Esc from there goes home.
    key(&mut app, KeyCode::Tab);
    assert!(small(&app).contains("Participants"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");
}

/// The drill sandbox's workspace line on home, with paths too long for
/// the line: both are cut in the middle (their last components kept), the
/// line fits and still says it is a sandbox and where X returns to.
#[test]
fn the_sandbox_line_on_home_cuts_long_paths_in_the_middle_and_says_sandbox() {
    use custodian::tui::screens::home::{HomeScreen, HomeView};
    use custodian::tui::screens::{Chrome, Screen};
    use ratatui::{Terminal, backend::TestBackend, layout::Rect};
    let origin = "/media/custody-usb/archive-2026/quarterly-drills/treasury";
    let sandbox = format!("{origin}-drill-20261130-abcdef");
    let home = HomeScreen::new(HomeView {
        workspace: sandbox,
        sandbox_origin: Some(origin.into()),
        audit: Some(Ok((3, "ab".repeat(32)))),
        ..HomeView::default()
    });
    let chrome = Chrome {
        sandbox: true,
        ..Chrome::default()
    };
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        // Where the app draws a screen: under the header, above the footer.
        t.draw(|f| home.render(f, Rect::new(0, 1, w, h - 2), &chrome))
            .unwrap();
        let text = tui::screen_text(&t);
        let line = text
            .lines()
            .find(|l| l.contains("In a drill sandbox. X returns to"))
            .unwrap_or_else(|| panic!("no sandbox line:\n{text}"));
        let line = line.trim_end();
        assert!(line.ends_with("/treasury"), "{line}");
        assert!(
            line.contains("/treasury-drill-20261130-abcdef  In a drill sandbox"),
            "{line}"
        );
        assert!(line.starts_with("/m"), "{line}");
        assert_eq!(line.matches('…').count(), 2, "{line}");
        snap!(format!("home_sandbox_line_{w}x{h}"), t);
    }
}
