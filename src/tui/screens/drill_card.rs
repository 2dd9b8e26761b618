//! The drill card, shown while the console walks a drill sandbox (home `C`):
//! the synthetic passphrases the drill generated, so every scenario can be
//! walked by hand. The text is held in a zeroizing buffer and dropped when
//! the screen closes; the app refuses to open it outside a sandbox.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use zeroize::Zeroizing;

use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets;

/// The drill card screen.
pub struct DrillCardScreen {
    text: Zeroizing<String>,
    scroll: u16,
    max: std::cell::Cell<u16>,
}

impl std::fmt::Debug for DrillCardScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrillCardScreen").finish_non_exhaustive()
    }
}

impl DrillCardScreen {
    /// A screen showing `text` (the card's Markdown).
    pub fn new(text: String) -> Self {
        DrillCardScreen {
            text: Zeroizing::new(text),
            scroll: 0,
            max: std::cell::Cell::new(u16::MAX),
        }
    }
}

impl Screen for DrillCardScreen {
    fn title(&self) -> String {
        strings::DRILL_CARD_TITLE.into()
    }

    fn touches_secrets(&self) -> bool {
        true
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if key.code == KeyCode::Esc {
            return Some(Action::Back);
        }
        if let Some(s) = widgets::scroll_key(key, self.scroll, self.max.get()) {
            self.scroll = s;
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        // The hint wraps (at 80 columns it takes two lines); a margin for
        // word wrapping keeps it whole.
        let width = usize::from(area.width.max(1));
        let hint_lines = strings::DRILL_CARD_HINT
            .chars()
            .count()
            .div_ceil(width.saturating_sub(8).max(1));
        let head_h = u16::try_from(1 + hint_lines).unwrap_or(3);
        let [head, body] =
            Layout::vertical([Constraint::Length(head_h), Constraint::Min(1)]).areas(area);
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled(
                    strings::DRILL_CARD_BANNER,
                    Style::default()
                        .fg(Color::Black)
                        .bg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                )),
                Line::from(Span::styled(strings::DRILL_CARD_HINT, widgets::hint())),
            ])
            .wrap(Wrap { trim: false }),
            head,
        );
        let lines: Vec<Line> = self
            .text
            .lines()
            .map(|l| Line::from(l.to_string()))
            .collect();
        self.max
            .set(widgets::scrolled(frame, body, lines, self.scroll));
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("↑/↓ j/k", "scroll"),
            ("PgUp/PgDn", "page"),
            ("Esc", "back"),
        ]
    }

    fn takes_text(&self) -> bool {
        false
    }

    fn holds_input(&self) -> bool {
        false
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
