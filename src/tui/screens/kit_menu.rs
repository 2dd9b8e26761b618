//! The vendor DR kit menu: one entry per kit operation, each its own screen.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::strings;

/// The menu screen.
#[derive(Debug, Default)]
pub struct KitMenu {
    selected: usize,
}

impl KitMenu {
    /// A menu with the first entry selected.
    pub fn new() -> Self {
        Self::default()
    }

    fn open(index: usize) -> Option<Action> {
        match index {
            0 => Some(Action::OpenKitKeygen),
            1 => Some(Action::OpenKitFingerprint),
            2 => Some(Action::OpenKitUse { derive: false }),
            3 => Some(Action::OpenKitUse { derive: true }),
            _ => None,
        }
    }
}

impl Screen for KitMenu {
    fn title(&self) -> String {
        strings::KIT_MENU_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        let n = strings::KIT_MENU_ITEMS.len();
        match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1) % n;
                None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = (self.selected + n - 1) % n;
                None
            }
            KeyCode::Enter => Self::open(self.selected),
            KeyCode::Char(c) => c
                .to_digit(10)
                .and_then(|d| (d as usize).checked_sub(1))
                .and_then(Self::open),
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let mut lines = vec![Line::from(strings::KIT_MENU_INTRO), Line::from("")];
        for (i, (k, label)) in strings::KIT_MENU_ITEMS.iter().enumerate() {
            let style = if i == self.selected {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let marker = if i == self.selected { "▶" } else { " " };
            lines.push(Line::from(Span::styled(
                format!(" {marker} {k}  {label}"),
                style,
            )));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn takes_text(&self) -> bool {
        false
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("1-4/Enter", "open"),
            ("↑/↓ j/k", "select"),
            ("Esc", "home"),
        ]
    }
}
