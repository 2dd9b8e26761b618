//! The audit viewer: every entry of the hash-chained log, newest last,
//! filterable by event or key id, with the chain's verification result and
//! the head hash people write down. `v` re-reads and re-verifies.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets::TextField;
use custodian_core::audit::Entry;

/// What verification found: entries and head, or the problem.
pub type ChainView = Result<(u64, String), String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterKind {
    Event,
    KeyId,
}

/// The audit viewer.
#[derive(Debug)]
pub struct AuditViewScreen {
    entries: Vec<Entry>,
    chain: Option<ChainView>,
    filter: TextField,
    kind: FilterKind,
    editing: bool,
    scroll: usize,
}

/// A one-line summary of an entry's public details.
fn summary(e: &Entry) -> String {
    let mut parts = Vec::new();
    if let Some(obj) = e.details.as_object() {
        for key in [
            "keyId",
            "incident",
            "custodian",
            "step",
            "item",
            "operator",
            "error",
        ] {
            if let Some(v) = obj.get(key).and_then(|v| v.as_str()) {
                parts.push(format!("{key}={v}"));
            }
        }
    }
    parts.join(" ")
}

impl AuditViewScreen {
    /// A viewer over `entries` with the chain's status.
    pub fn new(entries: Vec<Entry>, chain: Option<ChainView>) -> Self {
        let mut s = AuditViewScreen {
            entries: Vec::new(),
            chain: None,
            filter: TextField::default(),
            kind: FilterKind::Event,
            editing: false,
            scroll: 0,
        };
        s.set_log(entries, chain);
        s
    }

    /// Replaces the entries and verification result (after `v`).
    pub fn set_log(&mut self, entries: Vec<Entry>, chain: Option<ChainView>) {
        self.entries = entries;
        self.chain = chain;
        self.scroll = self.visible().len().saturating_sub(1);
    }

    fn visible(&self) -> Vec<&Entry> {
        let needle = self.filter.text().trim().to_lowercase();
        self.entries
            .iter()
            .filter(|e| {
                needle.is_empty()
                    || match self.kind {
                        FilterKind::Event => e.event.to_lowercase().contains(&needle),
                        FilterKind::KeyId => e
                            .key_id()
                            .is_some_and(|k| k.to_lowercase().contains(&needle)),
                    }
            })
            .collect()
    }

    /// The number of entries the filter lets through (for tests).
    pub fn visible_count(&self) -> usize {
        self.visible().len()
    }
}

impl Screen for AuditViewScreen {
    fn title(&self) -> String {
        strings::AUDIT_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.editing {
            match key.code {
                KeyCode::Enter | KeyCode::Esc => self.editing = false,
                KeyCode::Tab => {
                    self.kind = if self.kind == FilterKind::Event {
                        FilterKind::KeyId
                    } else {
                        FilterKind::Event
                    }
                }
                _ => {
                    self.filter.input(key);
                }
            }
            self.scroll = self.visible().len().saturating_sub(1);
            return None;
        }
        let last = self.visible().len().saturating_sub(1);
        match key.code {
            KeyCode::Esc => return Some(Action::Back),
            KeyCode::Char('v') => return Some(Action::VerifyAudit),
            KeyCode::Char('/') => self.editing = true,
            KeyCode::Tab => {
                self.kind = if self.kind == FilterKind::Event {
                    FilterKind::KeyId
                } else {
                    FilterKind::Event
                };
                self.scroll = self.visible().len().saturating_sub(1);
            }
            KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll = (self.scroll + 1).min(last),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::PageDown => self.scroll = (self.scroll + 10).min(last),
            KeyCode::Home | KeyCode::Char('g') => self.scroll = 0,
            KeyCode::End | KeyCode::Char('G') => self.scroll = last,
            _ => {}
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let [chain_area, filter_area, table_area] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Min(2),
        ])
        .areas(area);
        let chain = match &self.chain {
            None => vec![Line::from(Span::styled(
                strings::AUDIT_NOT_VERIFIED,
                Style::default().fg(Color::Yellow),
            ))],
            Some(Ok((n, head))) => vec![
                Line::from(Span::styled(
                    format!("Chain intact: {n} entries"),
                    Style::default().fg(Color::Green),
                )),
                Line::from(format!("Head: {head}")),
            ],
            Some(Err(problem)) => vec![Line::from(Span::styled(
                format!("CHAIN BROKEN: {problem}"),
                Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ))],
        };
        frame.render_widget(Paragraph::new(chain).wrap(Wrap { trim: true }), chain_area);

        let label = match self.kind {
            FilterKind::Event => strings::AUDIT_FILTER_EVENT,
            FilterKind::KeyId => strings::AUDIT_FILTER_KEY,
        };
        let visible = self.visible();
        let mut filter_line = self.filter.line(label, self.editing);
        filter_line.push_span(Span::styled(
            format!("   {} of {} entries", visible.len(), self.entries.len()),
            crate::tui::widgets::hint(),
        ));
        frame.render_widget(Paragraph::new(filter_line), filter_area);

        if visible.is_empty() {
            frame.render_widget(Paragraph::new(strings::AUDIT_EMPTY), table_area);
            return;
        }
        // Keep the scrolled-to entry on screen: the window starts at the
        // top until the cursor passes the first screenful.
        let rows_fit = usize::from(table_area.height.saturating_sub(1)).max(1);
        let start = (self.scroll + 1).saturating_sub(rows_fit);
        let end = (start + rows_fit).min(visible.len());
        let rows = visible[start..end].iter().enumerate().map(|(i, e)| {
            let status_style = match e.status {
                custodian_core::audit::Status::Failed => Style::default().fg(Color::Red),
                custodian_core::audit::Status::Completed => Style::default().fg(Color::Green),
                _ => Style::default(),
            };
            let row = Row::new(vec![
                Cell::from(e.seq.to_string()),
                Cell::from(e.time.clone()),
                Cell::from(e.event.clone()),
                Cell::from(e.status.as_str()).style(status_style),
                Cell::from(summary(e)),
            ]);
            if start + i == self.scroll {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(5),
                Constraint::Length(20),
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new(vec!["Seq", "Time (UTC)", "Event", "Status", "Details"])
                .style(Style::default().add_modifier(Modifier::BOLD)),
        );
        frame.render_widget(table, table_area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        if self.editing {
            vec![("Tab", "event/key id"), ("Enter", "done")]
        } else {
            vec![
                ("↑/↓ PgUp/PgDn", "scroll"),
                ("/", "filter"),
                ("Tab", "event/key id"),
                ("v", "verify"),
                ("Esc", "back"),
            ]
        }
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
