//! The drill screen through the real app and a real worker: participants,
//! the run, the per-scenario summary, and switching into the sandbox and back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::Sandbox;
use common::tui::{self, key, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::workspace::Workspace;

/// The screen as `TestBackend` prints it (one quoted line per row).
fn draw(app: &App) -> String {
    format!("{}", tui::draw(app, 110, 32).backend())
}

/// The shared filters, and a scenario's duration without the padding
/// after it: a scenario that took 10 s or more on a loaded machine is one
/// character wider, which moved the row's trailing spaces.
fn durations_unpadded() -> insta::Settings {
    common::tui::settings(&[(r#"\d+\.\d s +""#, r#"[T] s""#)])
}

#[test]
fn drill_screen_runs_the_drill_and_enters_the_sandbox() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('D'));
    assert_eq!(app.current_title(), "Quarterly drill");

    // One participant is not a quorum.
    type_text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    assert!(draw(&app).contains("at least two participants"));
    type_text(&mut app, ", Ben Legal");
    snap_both!("drill_participants", app);
    key(&mut app, KeyCode::Enter);
    assert!(draw(&app).contains("Preparing the sandbox"));
    assert!(app.pump_until_idle(Duration::from_secs(600)));

    let done = draw(&app);
    snap_both!("drill_done", app, settings durations_unpadded());
    // p prints the drill report.
    let (printed, pdfs) = tui::press_print(&mut app, &sb.ws());
    assert_eq!(pdfs.len(), 1);
    snap!(
        "drill_printed_80x24",
        format!("{}", printed.backend()),
        durations_unpadded()
    );
    snap!(
        "drill_printed_120x40",
        tui::draw(&app, 120, 40),
        durations_unpadded()
    );
    assert!(done.contains("PASSED"));
    for n in 1..=5 {
        assert!(
            done.contains(&format!(" pass  {n}.")),
            "scenario {n}:\n{done}"
        );
    }

    key(&mut app, KeyCode::Char('o'));
    let home = draw(&app);
    assert!(home.contains("DRILL"));
    assert!(home.contains("Drill Ana"));
    assert!(home.contains("X returns to"));
    // At 80 columns the sandbox line still says where X returns to: the
    // paths are cut in the middle, never the end of the line.
    let at80 = tui::screen_text(&tui::draw(&app, 80, 24));
    let line = at80
        .lines()
        .find(|l| l.contains("In a drill sandbox. X returns to"))
        .unwrap_or_else(|| panic!("{at80}"))
        .trim_end();
    assert!(line.ends_with("/ws"), "{line}");
    assert!(line.contains("/ws-drill-"), "{line}");
    // The footer names X too, and keeps it at the minimum width.
    let footer = tui::screen_text(&tui::draw(&app, 80, 24));
    let footer = footer.lines().last().unwrap();
    assert!(footer.contains(" X  leave sandbox"), "{footer}");
    // At 80×24 in the sandbox the help overlay is taller than the screen:
    // it stays inside it and scrolls to its last lines (C and X included).
    key(&mut app, KeyCode::Char('?'));
    let top = tui::screen_text(&tui::draw(&app, 80, 24));
    assert!(top.lines().any(|l| l.contains('└')), "{top}");
    key(&mut app, KeyCode::End);
    let bottom = tui::screen_text(&tui::draw(&app, 80, 24));
    assert!(bottom.lines().any(|l| l.contains('└')), "{bottom}");
    let both = format!("{top}\n{bottom}");
    for needle in ["drill card", "leave the drill sandbox", "Everywhere"] {
        assert!(both.contains(needle), "{needle:?} not reachable:\n{both}");
    }
    key(&mut app, KeyCode::Esc);
    // The drill card: the sandbox's passphrases, marked DRILL (finding 3).
    key(&mut app, KeyCode::Char('C'));
    assert_eq!(app.current_title(), "Drill card");
    let card = tui::screen_text(&tui::draw(&app, 80, 24));
    assert!(card.contains("DRILL — synthetic passphrases"), "{card}");
    assert!(card.contains("DRILL CARD"), "{card}");
    // Nothing cut at 80 columns: the banner and the hint are whole.
    assert!(card.contains("never for real keys"), "{card}");
    assert!(card.contains("recovery key's passphrase."), "{card}");
    for _ in 0..12 {
        key(&mut app, KeyCode::Char('j'));
    }
    let card = tui::screen_text(&tui::draw(&app, 80, 24));
    assert!(card.contains("Drill Ana"), "{card}");
    assert!(card.lines().last().unwrap().contains("Esc"), "{card}");
    key(&mut app, KeyCode::Esc);
    assert!(app.current_title() != "Drill card");
    key(&mut app, KeyCode::Char('X'));
    let back = draw(&app);
    assert!(!back.contains("DRILL"));
    assert!(back.contains("Custodians (0)"));
    // Outside a sandbox there is no card to show.
    key(&mut app, KeyCode::Char('C'));
    assert!(app.current_title() != "Drill card");
}

/// The participants field edits at the cursor and takes a paste there; Esc
/// with names typed asks before leaving (the names stay), and a second Esc
/// in a row leaves.
#[test]
fn drill_participants_edit_at_the_cursor_and_esc_asks_before_leaving() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('D'));
    type_text(&mut app, "Ana, Bn");
    tui::left(&mut app, 1);
    type_text(&mut app, "e");
    key(&mut app, KeyCode::Home);
    tui::paste(&mut app, "Cy Dee, ");
    key(&mut app, KeyCode::End);
    let s = tui::text_at(&app, 80, 24);
    assert!(s.contains("Participants: Cy Dee, Ana, Ben"), "{s}");
    key(&mut app, KeyCode::Esc);
    snap_both!("drill_participants_discard_question", app);
    let s = tui::text_at(&app, 80, 24);
    assert_eq!(app.current_title(), "Quarterly drill");
    assert!(s.contains("Esc again discards"), "{s}");
    assert!(s.contains("Participants: Cy Dee, Ana, Ben"), "{s}");
    // Any other key keeps the names and goes on editing.
    key(&mut app, KeyCode::End);
    type_text(&mut app, "!");
    key(&mut app, KeyCode::Backspace);
    assert!(tui::text_at(&app, 80, 24).contains("Participants: Cy Dee, Ana, Ben"));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert_ne!(app.current_title(), "Quarterly drill");
    // Nothing typed: Esc leaves at once.
    key(&mut app, KeyCode::Char('D'));
    key(&mut app, KeyCode::Esc);
    assert_ne!(app.current_title(), "Quarterly drill");
}
