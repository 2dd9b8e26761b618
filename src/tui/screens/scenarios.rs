//! The playbook's front page: the five scenarios, how serious each is, and
//! which have an incident open. Pressing a digit or Enter opens one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::list::ListNav;
use crate::tui::strings;

/// One row of the list: computed by core from the workspace.
pub use custodian_core::playbook::incident::ScenarioOverview as ScenarioRow;

/// The scenario list.
#[derive(Debug)]
pub struct ScenarioListScreen {
    rows: Vec<ScenarioRow>,
    nav: ListNav,
}

impl ScenarioListScreen {
    /// A list of `rows`.
    pub fn new(rows: Vec<ScenarioRow>) -> Self {
        let nav = ListNav::new(rows.len());
        ScenarioListScreen { rows, nav }
    }

    /// Replaces the rows (after an incident changed).
    pub fn set_rows(&mut self, rows: Vec<ScenarioRow>) {
        self.nav.set_len(rows.len());
        self.rows = rows;
    }
}

fn severity_style(severity: &str) -> Style {
    match severity {
        "critical" => Style::default().fg(Color::White).bg(Color::Red),
        "urgent" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        "rotation" | "degraded" => Style::default().fg(Color::Yellow),
        _ => Style::default(),
    }
}

impl Screen for ScenarioListScreen {
    fn title(&self) -> String {
        strings::SCENARIOS_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.nav.handle_key(key) {
            return None;
        }
        match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => self
                .rows
                .get(self.nav.selected())
                .map(|r| Action::OpenScenario(r.number)),
            KeyCode::Char(c @ '1'..='9') => {
                let n = c as u8 - b'0';
                self.rows
                    .iter()
                    .any(|r| r.number == n)
                    .then_some(Action::OpenScenario(n))
            }
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let [hint, list] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
        frame.render_widget(
            Paragraph::new(strings::SCENARIOS_HINT).wrap(Wrap { trim: true }),
            hint,
        );
        let mut lines = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            let cursor = if self.nav.is_selected(i) {
                "▶ "
            } else {
                "  "
            };
            let title_style = if self.nav.is_selected(i) {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            let mut spans = vec![
                Span::raw(cursor),
                Span::styled(format!("{}. {:<42}", r.number, r.title), title_style),
                Span::raw(" "),
                Span::styled(format!(" {:<8} ", r.severity), severity_style(&r.severity)),
            ];
            if let Some((id, done, total)) = &r.open_incident {
                spans.push(Span::styled(
                    format!("  {id} open, {done}/{total} done"),
                    Style::default().fg(Color::Cyan),
                ));
            }
            lines.push((Some(i), Line::from(spans)));
            lines.push((Some(i), Line::from("")));
        }
        self.nav.render(frame, list, lines);
    }

    fn takes_text(&self) -> bool {
        false
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        vec![("1-5/Enter", "open scenario"), ("Esc", "back")]
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
