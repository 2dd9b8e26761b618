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
use crate::tui::list::ListNav;
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
    nav: ListNav,
    /// The log is being read and verified (on a background check).
    checking: bool,
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
            nav: ListNav::new(0),
            checking: false,
        };
        s.set_log(entries, chain);
        s
    }

    /// A viewer waiting for the log to be read and verified.
    pub fn checking() -> Self {
        let mut s = Self::new(Vec::new(), None);
        s.checking = true;
        s
    }

    /// The log is being read and verified again (after `v`).
    pub fn set_checking(&mut self) {
        self.checking = true;
    }

    /// Replaces the entries and verification result.
    pub fn set_log(&mut self, entries: Vec<Entry>, chain: Option<ChainView>) {
        self.checking = false;
        self.entries = entries;
        self.chain = chain;
        self.select_newest();
    }

    /// Selects the newest entry the filter lets through.
    fn select_newest(&mut self) {
        let n = self.visible().len();
        self.nav.set_len(n);
        self.nav.select(n.saturating_sub(1));
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
            self.select_newest();
            return None;
        }
        let key = match key.code {
            KeyCode::Char('g') => KeyEvent::from(KeyCode::Home),
            KeyCode::Char('G') => KeyEvent::from(KeyCode::End),
            _ => key,
        };
        if self.nav.handle_key(key) {
            return None;
        }
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
                self.select_newest();
            }
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
            _ if self.checking => vec![Line::from(Span::styled(
                strings::AUDIT_CHECKING,
                crate::tui::widgets::hint(),
            ))],
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
        // The selected entry stays on screen (the header takes a row).
        let window = self
            .nav
            .window(usize::from(table_area.height.saturating_sub(1)), |_| 1);
        let (start, end) = (window.items.start, window.items.end.min(visible.len()));
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
            if self.nav.is_selected(start + i) {
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
        crate::tui::list::more_signs(
            frame,
            Rect {
                y: table_area.y + 1,
                height: table_area.height.saturating_sub(1),
                ..table_area
            },
            &window,
        );
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        if self.editing {
            vec![("Tab", "event/key id"), ("Enter", "done")]
        } else {
            vec![
                ("↑/↓ PgUp/PgDn", "select"),
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
