//! The drill screen through the real app and a real worker: participants,
//! the run, the per-scenario summary, and switching into the sandbox and back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::Sandbox;
use crossterm::event::{KeyCode, KeyEvent};
use custodian::tui::app::App;
use custodian::tui::event::Event;
use custodian::workspace::Workspace;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn draw(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(110, 32)).unwrap();
    t.draw(|f| app.render(f)).unwrap();
    format!("{}", t.backend())
}

fn key(app: &mut App, code: KeyCode) {
    app.handle(Event::Key(KeyEvent::from(code)));
}

fn text(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

macro_rules! snap {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({filters => vec![
            (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
            (r"DRILL-\d{8}-[0-9a-f]{6}", "DRILL-[ID]"),
            (r"drill-\d{8}-[0-9a-f]{6}", "drill-[ID]"),
            (r"\d+\.\d s", "[T] s"),
        ]}, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}

#[test]
fn drill_screen_runs_the_drill_and_enters_the_sandbox() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = App::with_probe(ws, Box::new(|| Ok(vec![])));
    key(&mut app, KeyCode::Char('D'));
    assert_eq!(app.current_title(), "Quarterly drill");

    // One participant is not a quorum.
    text(&mut app, "Ana Officer");
    key(&mut app, KeyCode::Enter);
    assert!(draw(&app).contains("at least two participants"));
    text(&mut app, ", Ben Legal");
    snap!("drill_participants", draw(&app));
    key(&mut app, KeyCode::Enter);
    assert!(draw(&app).contains("Preparing the sandbox"));
    assert!(app.pump_until_idle(Duration::from_secs(600)));

    let done = draw(&app);
    snap!("drill_done", done.clone());
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
    key(&mut app, KeyCode::Char('X'));
    let back = draw(&app);
    assert!(!back.contains("DRILL"));
    assert!(back.contains("Custodians (0)"));
}
