//! Threats 1–6 from the attack-prevention policy: the risk, the mitigations,
//! and the result of every local check that bears on the threat, coloured
//! green (pass), red (fail) or yellow (could not tell).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::{Action, Chrome, Screen};
use crate::tui::{strings, widgets};
use custodian_core::playbook::checks::{CheckId, CheckResult, CheckStatus};
use custodian_core::playbook::model::Threat;

/// The threat screens (one type, six pages).
#[derive(Debug)]
pub struct ThreatsScreen {
    threats: Vec<Threat>,
    /// The local checks' results; None while they run on a background
    /// thread (the scans read the whole workspace).
    results: Option<Vec<CheckResult>>,
    current: usize,
    /// How far the threat's text is scrolled.
    scroll: u16,
    /// The largest useful scroll, as of the last render.
    max_scroll: std::cell::Cell<u16>,
}

/// The colour a check status is drawn in.
pub fn status_style(status: CheckStatus) -> Style {
    match status {
        CheckStatus::Pass => Style::default().fg(Color::Green),
        CheckStatus::Fail => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        CheckStatus::Unknown => Style::default().fg(Color::Yellow),
    }
}

/// The word for a check status.
pub fn status_word(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "PASS",
        CheckStatus::Fail => "FAIL",
        CheckStatus::Unknown => "N/A ",
    }
}

impl ThreatsScreen {
    /// The screens, opened on threat `number`; `results` is None while the
    /// checks run.
    pub fn new(threats: Vec<Threat>, results: Option<Vec<CheckResult>>, number: u8) -> Self {
        let current = threats.iter().position(|t| t.number == number).unwrap_or(0);
        ThreatsScreen {
            threats,
            results,
            current,
            scroll: 0,
            max_scroll: std::cell::Cell::new(u16::MAX),
        }
    }

    /// Replaces the check results (None: checking again).
    pub fn set_results(&mut self, results: Option<Vec<CheckResult>>) {
        self.results = results;
    }

    /// True when the threat shown lists the "backup newer than the last
    /// sensitive operation" check and that check failed or could not tell:
    /// `b` then opens the backup screen. A passing check (or one still
    /// running) offers no backup.
    fn offers_backup(&self) -> bool {
        self.threats
            .get(self.current)
            .is_some_and(|t| t.checks.contains(&CheckId::BackupOverdue))
            && self
                .results
                .iter()
                .flatten()
                .any(|r| r.id == CheckId::BackupOverdue && r.status != CheckStatus::Pass)
    }

    /// The threat shown.
    pub fn current(&self) -> u8 {
        self.threats
            .get(self.current)
            .map(|t| t.number)
            .unwrap_or(0)
    }
}

impl ThreatsScreen {
    /// Scrolling keys first, then the keys that switch threats.
    fn on_key(&mut self, key: KeyEvent) -> Option<Action> {
        if let Some(s) = widgets::scroll_key(key, self.scroll, self.max_scroll.get()) {
            self.scroll = s;
            return None;
        }
        let before = self.current;
        let action = self.switch_key(key);
        if self.current != before {
            self.scroll = 0;
        }
        action
    }

    /// Keys that change the threat shown (or re-run the checks).
    fn switch_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc => return Some(Action::Back),
            KeyCode::Right | KeyCode::Tab | KeyCode::Char('l') => {
                self.current = (self.current + 1) % self.threats.len().max(1);
            }
            KeyCode::Left | KeyCode::BackTab | KeyCode::Char('h') => {
                let n = self.threats.len().max(1);
                self.current = (self.current + n - 1) % n;
            }
            KeyCode::Char(c @ '1'..='9') => {
                let n = c as u8 - b'0';
                if let Some(i) = self.threats.iter().position(|t| t.number == n) {
                    self.current = i;
                }
            }
            KeyCode::Char('r') => return Some(Action::RefreshThreats),
            KeyCode::Char('b') if self.offers_backup() => return Some(Action::OpenBackup),
            _ => {}
        }
        None
    }
}

impl Screen for ThreatsScreen {
    fn title(&self) -> String {
        strings::THREATS_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        self.on_key(key)
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let Some(threat) = self.threats.get(self.current) else {
            return;
        };
        let mut tabs = Vec::new();
        for (i, t) in self.threats.iter().enumerate() {
            let failing = t.checks.iter().any(|id| {
                self.results
                    .iter()
                    .flatten()
                    .any(|r| r.id == *id && r.status == CheckStatus::Fail)
            });
            let mut style = if failing {
                Style::default().fg(Color::Red)
            } else {
                Style::default()
            };
            if i == self.current {
                style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
            }
            tabs.push(Span::styled(format!(" {} ", t.number), style));
            tabs.push(Span::raw(" "));
        }
        let mut lines = vec![
            Line::from(tabs),
            Line::from(""),
            Line::from(Span::styled(
                format!("Threat {} — {}", threat.number, threat.title),
                bold,
            )),
            Line::from(vec![
                Span::styled(format!("{}: ", strings::THREATS_RISK), bold),
                Span::raw(threat.risk.clone()),
            ]),
            Line::from(""),
            Line::from(Span::styled(strings::THREATS_MITIGATIONS, bold)),
        ];
        for m in &threat.mitigations {
            lines.push(Line::from(format!("• {m}")));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(strings::THREATS_CHECKS, bold)));
        if threat.checks.is_empty() {
            lines.push(Line::from(Span::styled(
                strings::THREATS_NO_CHECKS,
                widgets::hint(),
            )));
        }
        let results = match &self.results {
            Some(results) => results.as_slice(),
            None if threat.checks.is_empty() => &[],
            None => {
                lines.push(Line::from(Span::styled(
                    strings::THREATS_CHECKING,
                    widgets::hint(),
                )));
                &[]
            }
        };
        for id in &threat.checks {
            let Some(r) = results.iter().find(|r| r.id == *id) else {
                continue;
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} ", status_word(r.status)),
                    status_style(r.status),
                ),
                Span::raw(id.title()),
            ]));
            for f in &r.findings {
                lines.push(Line::from(Span::styled(
                    format!("     {f}"),
                    if r.status == CheckStatus::Fail {
                        Style::default().fg(Color::Red)
                    } else {
                        widgets::hint()
                    },
                )));
            }
            if *id == CheckId::BackupOverdue && r.status != CheckStatus::Pass {
                lines.push(Line::from(Span::styled(
                    format!("     {}", strings::THREATS_BACKUP_HINT),
                    Style::default().fg(Color::Cyan),
                )));
            }
        }
        self.max_scroll
            .set(widgets::scrolled(frame, area, lines, self.scroll));
    }

    fn takes_text(&self) -> bool {
        false
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        let mut keys = vec![("←/→ 1-6", "threat"), ("↑/↓ j/k PgUp/PgDn", "scroll")];
        // A failing backup check's remedy comes before re-running the
        // checks (the footer drops keys from the end of the list first).
        if self.offers_backup() {
            keys.push(("b", strings::THREATS_BACKUP_KEY));
        }
        keys.push(("r", "re-run checks"));
        keys.push(("Esc", "back"));
        keys
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
