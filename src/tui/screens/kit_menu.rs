//! The vendor DR kit menu: one entry per kit operation, each its own screen.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::list::ListNav;
use crate::tui::strings;

/// The menu screen.
#[derive(Debug)]
pub struct KitMenu {
    nav: ListNav,
}

impl Default for KitMenu {
    fn default() -> Self {
        Self::new()
    }
}

impl KitMenu {
    /// A menu with the first entry selected.
    pub fn new() -> Self {
        KitMenu {
            nav: ListNav::new(strings::KIT_MENU_ITEMS.len()),
        }
    }

    fn open(index: usize) -> Option<Action> {
        match index {
            0 => Some(Action::OpenKitKeygen),
            1 => Some(Action::OpenKitFingerprint),
            2 => Some(Action::OpenKitUse { derive: false }),
            3 => Some(Action::OpenKitUse { derive: true }),
            4 => Some(Action::OpenKitKeys { recover: false }),
            5 => Some(Action::OpenKitKeys { recover: true }),
            _ => None,
        }
    }
}

impl Screen for KitMenu {
    fn title(&self) -> String {
        strings::KIT_MENU_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.nav.handle_key(key) {
            return None;
        }
        match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Self::open(self.nav.selected()),
            KeyCode::Char(c) => c
                .to_digit(10)
                .and_then(|d| (d as usize).checked_sub(1))
                .and_then(Self::open),
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let intro = Paragraph::new(strings::KIT_MENU_INTRO).wrap(Wrap { trim: false });
        let intro_h = u16::try_from(intro.line_count(area.width))
            .unwrap_or(1)
            .saturating_add(1);
        let [intro_area, list_area] =
            Layout::vertical([Constraint::Length(intro_h), Constraint::Min(1)]).areas(area);
        frame.render_widget(intro, intro_area);
        let mut lines = Vec::new();
        for (i, (k, label)) in strings::KIT_MENU_ITEMS.iter().enumerate() {
            let style = if self.nav.is_selected(i) {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let marker = if self.nav.is_selected(i) { "▶" } else { " " };
            lines.push((
                Some(i),
                Line::from(Span::styled(format!(" {marker} {k}  {label}"), style)),
            ));
        }
        self.nav.render(frame, list_area, lines);
    }

    fn takes_text(&self) -> bool {
        false
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("1-6/Enter", "open"),
            ("↑/↓ j/k", "select"),
            ("Esc", "home"),
        ]
    }
}
