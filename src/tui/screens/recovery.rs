//! The recovery wizard (scenario 5): warning → approvers → shards with
//! their identities and passphrases → one output → confirmation → work on a
//! worker thread → the written output, or the one-time display.
//!
//! The one-time display is its own pair of states: the operator types the
//! key id to confirm, then the key is shown with a 60-second countdown
//! driven by ticks; Enter or Esc clears it early. Clearing drops the key
//! (zeroized with its last copy) and asks the app to record the clearing in
//! the audit log. Nothing here writes the key anywhere.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use secrecy::SecretString;

use super::{Action, Chrome, Screen};
use crate::tui::event::TICK;
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::identity;
use custodian_core::recovery::{
    RecoveredKey, RecoveryError, RecoveryOutcome, RecoveryOutput, ShardSource,
};

/// Everything a recovery run needs, handed to the worker.
pub struct RecoveryJob {
    /// Shards and identity files, in order.
    pub sources: Vec<ShardSource>,
    /// The approvers.
    pub approvers: Vec<String>,
    /// The output.
    pub output: RecoveryOutput,
    /// One passphrase per source.
    pub passphrases: Vec<SecretString>,
}

/// Ticks in the one-time display.
fn show_ticks() -> u64 {
    (strings::RECOVERY_SHOW_SECONDS * 1000).div_ceil(TICK.as_millis() as u64)
}

/// How a one-time key display ended (audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayEnd {
    /// Shown, then cleared by the user.
    ShownAndCleared,
    /// Shown until the countdown cleared it.
    TimedOut,
    /// Left before the countdown ended: Esc before showing, or the console quit.
    Abandoned {
        /// Whether the key had been shown.
        shown: bool,
    },
}

impl DisplayEnd {
    /// The audit log's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisplayEnd::ShownAndCleared => "shown-and-cleared",
            DisplayEnd::TimedOut => "timed-out",
            DisplayEnd::Abandoned { .. } => "abandoned",
        }
    }

    /// Whether the key reached the screen.
    pub fn was_shown(self) -> bool {
        match self {
            DisplayEnd::ShownAndCleared | DisplayEnd::TimedOut => true,
            DisplayEnd::Abandoned { shown } => shown,
        }
    }
}

enum Step {
    Warning,
    Approvers {
        field: TextField,
        error: Option<Report>,
    },
    Shards {
        shard: TextField,
        identity: TextField,
        pass: TextField,
        focus: usize,
        error: Option<Report>,
    },
    Output {
        choice: usize,
        first: TextField,
        file: TextField,
        on_file: bool,
        error: Option<Report>,
    },
    Confirm,
    Working,
    Written(Box<RecoveryOutcome>),
    ConfirmShow {
        key_id: String,
        op: String,
        key: RecoveredKey,
        field: TextField,
        error: bool,
    },
    Showing {
        key_id: String,
        op: String,
        key: RecoveredKey,
        started: Option<u64>,
        now: u64,
    },
    Cleared {
        shown: bool,
    },
    Failed(Report),
}

/// The recovery wizard.
pub struct RecoveryWizard {
    approvers: Vec<String>,
    sources: Vec<ShardSource>,
    passphrases: Vec<SecretString>,
    output: Option<RecoveryOutput>,
    step: Step,
}

impl std::fmt::Debug for RecoveryWizard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryWizard")
            .field("step", &self.step_name())
            .field("approvers", &self.approvers)
            .finish_non_exhaustive()
    }
}

impl Default for RecoveryWizard {
    fn default() -> Self {
        Self::new()
    }
}

fn report(e: RecoveryError) -> Report {
    Report::from_error(&e)
}

fn shards_step() -> Step {
    Step::Shards {
        shard: TextField::default(),
        identity: TextField::default(),
        pass: TextField::masked(),
        focus: 0,
        error: None,
    }
}

fn output_step() -> Step {
    Step::Output {
        choice: 0,
        first: TextField::default(),
        file: TextField::default(),
        on_file: false,
        error: None,
    }
}

impl RecoveryWizard {
    /// A wizard at its warning step.
    pub fn new() -> Self {
        RecoveryWizard {
            approvers: Vec::new(),
            sources: Vec::new(),
            passphrases: Vec::new(),
            output: None,
            step: Step::Warning,
        }
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Warning => "warning",
            Step::Approvers { .. } => "approvers",
            Step::Shards { .. } => "shards",
            Step::Output { .. } => "output",
            Step::Confirm => "confirm",
            Step::Working => "working",
            Step::Written(_) => "written",
            Step::ConfirmShow { .. } => "confirm-show",
            Step::Showing { .. } => "showing",
            Step::Cleared { .. } => "cleared",
            Step::Failed(_) => "failed",
        }
    }

    fn clear(&mut self, ended: DisplayEnd) -> Option<Action> {
        let old = std::mem::replace(
            &mut self.step,
            Step::Cleared {
                shown: ended.was_shown(),
            },
        );
        match old {
            Step::Showing { key_id, op, .. } | Step::ConfirmShow { key_id, op, .. } => {
                Some(Action::RecordDisplayCleared { key_id, op, ended })
            }
            _ => None,
        }
    }

    fn start(&mut self) -> Option<Action> {
        let output = self.output.clone()?;
        self.step = Step::Working;
        Some(Action::StartRecovery(Box::new(RecoveryJob {
            sources: self.sources.clone(),
            approvers: self.approvers.clone(),
            output,
            passphrases: self.passphrases.clone(),
        })))
    }

    fn approvers_key(&mut self, key: KeyEvent) -> Option<Action> {
        let Step::Approvers { field, error } = &mut self.step else {
            return None;
        };
        match key.code {
            KeyCode::Esc => self.step = Step::Warning,
            KeyCode::Enter if field.text().trim().is_empty() => {
                if self.approvers.len() < custodian_core::recovery::MIN_APPROVERS {
                    *error = Some(report(RecoveryError::TooFewApprovers {
                        given: self.approvers.len(),
                    }));
                } else {
                    self.step = shards_step();
                }
            }
            KeyCode::Enter => {
                let name = field.text().trim().to_string();
                if let Err(e) = identity::validate_name(&name) {
                    *error = Some(report(RecoveryError::BadApprover(e)));
                } else if self.approvers.contains(&name) {
                    *error = Some(report(RecoveryError::DuplicateApprover(name)));
                } else {
                    self.approvers.push(name);
                    field.set("");
                    *error = None;
                }
            }
            KeyCode::Backspace if field.text().is_empty() => {
                self.approvers.pop();
            }
            _ => {
                if field.input(key) {
                    *error = None;
                }
            }
        }
        None
    }

    fn shards_key(&mut self, key: KeyEvent) -> Option<Action> {
        let Step::Shards {
            shard,
            identity,
            pass,
            focus,
            error,
        } = &mut self.step
        else {
            return None;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {
                self.step = Step::Approvers {
                    field: TextField::default(),
                    error: None,
                };
            }
            KeyCode::Char('n') if ctrl => {
                if self.sources.len() < 2 {
                    *error = Some(Report {
                        message: "add at least two shards first".into(),
                        causes: Vec::new(),
                        remedy: Some(
                            "each custodian enters their shard, identity file and passphrase"
                                .into(),
                        ),
                    });
                } else {
                    self.step = output_step();
                }
            }
            KeyCode::Tab | KeyCode::Down => *focus = (*focus + 1) % 3,
            KeyCode::BackTab | KeyCode::Up => *focus = (*focus + 2) % 3,
            KeyCode::Enter if *focus < 2 => *focus += 1,
            KeyCode::Enter => {
                if shard.text().trim().is_empty()
                    || identity.text().trim().is_empty()
                    || pass.text().is_empty()
                {
                    *error = Some(Report {
                        message: "fill in the shard file, the identity file and the passphrase"
                            .into(),
                        causes: Vec::new(),
                        remedy: None,
                    });
                    return None;
                }
                self.sources.push(ShardSource {
                    shard: shard.text().trim().into(),
                    identity: identity.text().trim().into(),
                });
                self.passphrases.push(SecretString::from(pass.text()));
                self.step = shards_step();
            }
            _ => {
                let f = match focus {
                    0 => shard,
                    1 => identity,
                    _ => pass,
                };
                if f.input(key) {
                    *error = None;
                }
            }
        }
        None
    }

    fn output_key(&mut self, key: KeyEvent) -> Option<Action> {
        let Step::Output {
            choice,
            first,
            file,
            on_file,
            error,
        } = &mut self.step
        else {
            return None;
        };
        match key.code {
            KeyCode::Esc => self.step = shards_step(),
            KeyCode::F(1) => {}
            KeyCode::Left | KeyCode::Right if first.text().is_empty() && file.text().is_empty() => {
                *choice = if key.code == KeyCode::Left {
                    (*choice + 2) % 3
                } else {
                    (*choice + 1) % 3
                };
            }
            KeyCode::Char(c @ '1'..='3') if first.text().is_empty() && file.text().is_empty() => {
                *choice = (c as u8 - b'1') as usize;
            }
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                *on_file = !*on_file;
            }
            KeyCode::Enter if *choice != 2 && !*on_file => *on_file = true,
            KeyCode::Enter => {
                let out = std::path::PathBuf::from(file.text().trim());
                let output = match choice {
                    0 => RecoveryOutput::Hsm {
                        public_key_pem: first.text().trim().into(),
                        out,
                    },
                    1 => {
                        if let Err(e) = identity::parse_recipient(first.text()) {
                            // A pasted secret leaves neither the screen nor the field.
                            if matches!(e, identity::IdentityError::SecretInput(_)) {
                                first.set("");
                            }
                            *error = Some(Report::from_error(&e));
                            return None;
                        }
                        RecoveryOutput::Age {
                            recipient: first.text().trim().into(),
                            out,
                        }
                    }
                    _ => RecoveryOutput::Screen,
                };
                if *choice != 2 && (first.text().trim().is_empty() || file.text().trim().is_empty())
                {
                    *error = Some(Report {
                        message: "fill in both fields".into(),
                        causes: Vec::new(),
                        remedy: None,
                    });
                    return None;
                }
                self.output = Some(output);
                self.step = Step::Confirm;
            }
            _ if *choice != 2 => {
                let f = if *on_file { file } else { first };
                if f.input(key) {
                    *error = None;
                }
            }
            _ => {}
        }
        None
    }
}

impl Screen for RecoveryWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        strings::RECOVERY_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Warning => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    self.step = Step::Approvers {
                        field: TextField::default(),
                        error: None,
                    };
                    None
                }
                _ => None,
            },
            Step::Approvers { .. } => self.approvers_key(key),
            Step::Shards { .. } => self.shards_key(key),
            Step::Output { .. } => self.output_key(key),
            Step::Confirm => match key.code {
                KeyCode::Esc => {
                    self.step = output_step();
                    None
                }
                KeyCode::Enter => self.start(),
                _ => None,
            },
            Step::Working => None,
            Step::Written(_) | Step::Cleared { .. } => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::ConfirmShow {
                key_id,
                field,
                error,
                ..
            } => match key.code {
                KeyCode::Esc => self.clear(DisplayEnd::Abandoned { shown: false }),
                KeyCode::Enter => {
                    if field.text().trim() == key_id.as_str() {
                        let Step::ConfirmShow {
                            key_id, op, key, ..
                        } = std::mem::replace(&mut self.step, Step::Working)
                        else {
                            return None;
                        };
                        self.step = Step::Showing {
                            key_id,
                            op,
                            key,
                            started: None,
                            now: 0,
                        };
                    } else {
                        *error = true;
                        field.set("");
                    }
                    None
                }
                _ => {
                    if field.input(key) {
                        *error = false;
                    }
                    None
                }
            },
            Step::Showing { .. } => match key.code {
                KeyCode::Enter | KeyCode::Esc => self.clear(DisplayEnd::ShownAndCleared),
                _ => None,
            },
            Step::Failed(_) => match key.code {
                KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn on_tick(&mut self, tick: u64) -> Option<Action> {
        if let Step::Showing { started, now, .. } = &mut self.step {
            let start = *started.get_or_insert(tick);
            *now = tick;
            if tick.saturating_sub(start) >= show_ticks() {
                return self.clear(DisplayEnd::TimedOut);
            }
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Step::Working, WorkerMsg::Finished(result)) = (&self.step, msg) {
            // The passphrases have done their job.
            self.passphrases.clear();
            self.step = match result {
                Ok(JobResult::Recovered(outcome)) => match &outcome.shown_once {
                    Some(key) => Step::ConfirmShow {
                        key_id: outcome.key_id.clone(),
                        op: outcome.audit_op.clone(),
                        key: key.clone(),
                        field: TextField::default(),
                        error: false,
                    },
                    None => Step::Written(outcome.clone()),
                },
                Err(report) => Step::Failed(report.clone()),
                Ok(_) => return None,
            };
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let red = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        let dim = crate::tui::widgets::hint();
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut lines: Vec<Line> = Vec::new();
        let approvers = || Line::from(format!("Approvers: {}", self.approvers.join(", ")));
        let shard_lines = |lines: &mut Vec<Line>| {
            for (i, s) in self.sources.iter().enumerate() {
                lines.push(Line::from(format!(
                    "  {}. {}  (identity {})",
                    i + 1,
                    s.shard.display(),
                    s.identity.display()
                )));
            }
        };
        match &self.step {
            Step::Warning => {
                for (i, l) in strings::RECOVERY_WARNING.iter().enumerate() {
                    lines.push(if i == 0 {
                        Line::from(Span::styled(format!(" {l} "), red))
                    } else {
                        Line::from(*l)
                    });
                }
                lines.push(Line::from(""));
                lines.push(Line::from(
                    "Press Enter to name the approvers, Esc to leave.",
                ));
            }
            Step::Approvers { field, error } => {
                lines.push(approvers());
                lines.push(Line::from(""));
                lines.push(field.line(strings::RECOVERY_APPROVER_PROMPT, true));
                lines.push(Line::from(Span::styled(
                    strings::RECOVERY_APPROVER_HINT,
                    dim,
                )));
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Shards {
                shard,
                identity,
                pass,
                focus,
                error,
            } => {
                lines.push(approvers());
                lines.push(Line::from(format!("Shards added: {}", self.sources.len())));
                shard_lines(&mut lines);
                lines.push(Line::from(""));
                lines.push(shard.line(strings::RECOVERY_SHARD_PROMPT, *focus == 0));
                lines.push(identity.line(strings::RECOVERY_IDENTITY_PROMPT, *focus == 1));
                lines.push(pass.line(strings::RECOVERY_PASS_PROMPT, *focus == 2));
                lines.push(Line::from(Span::styled(strings::RECOVERY_SHARDS_HINT, dim)));
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Output {
                choice,
                first,
                file,
                on_file,
                error,
            } => {
                lines.push(Line::from(strings::RECOVERY_OUTPUT_HINT));
                lines.push(Line::from(""));
                for (i, label) in [
                    "1 HSM import key",
                    "2 age recipient",
                    "3 show once on screen",
                ]
                .iter()
                .enumerate()
                {
                    let style = if i == *choice {
                        Style::default().fg(Color::Black).bg(Color::Cyan)
                    } else {
                        Style::default()
                    };
                    lines.push(Line::from(Span::styled(format!(" {label} "), style)));
                }
                lines.push(Line::from(""));
                match choice {
                    0 | 1 => {
                        let label = if *choice == 0 {
                            strings::RECOVERY_OUT_HSM
                        } else {
                            strings::RECOVERY_OUT_AGE
                        };
                        lines.push(first.line(label, !*on_file));
                        lines.push(file.line(strings::RECOVERY_OUT_FILE, *on_file));
                    }
                    _ => lines.push(Line::from(Span::styled(
                        strings::RECOVERY_OUT_SCREEN,
                        Style::default().fg(Color::Yellow),
                    ))),
                }
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Confirm => {
                lines.push(Line::from(Span::styled(
                    " CONFIRM: THE RAW PRIVATE KEY WILL BE REBUILT ",
                    red,
                )));
                lines.push(Line::from(""));
                lines.push(approvers());
                lines.push(Line::from("Shards:"));
                shard_lines(&mut lines);
                let out = match &self.output {
                    Some(RecoveryOutput::Hsm {
                        public_key_pem,
                        out,
                    }) => format!(
                        "wrapped to HSM key {} → {}",
                        public_key_pem.display(),
                        out.display()
                    ),
                    Some(RecoveryOutput::Age { recipient, out }) => {
                        format!("age-encrypted to {recipient} → {}", out.display())
                    }
                    _ => "shown once on this screen".into(),
                };
                lines.push(Line::from(format!("Output: {out}")));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(strings::RECOVERY_CONFIRM, bold)));
            }
            Step::Working => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::RECOVERY_WORKING
            ))),
            Step::Written(o) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::RECOVERY_DONE),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!("Key id:          {}", o.key_id)));
                lines.push(Line::from(format!(
                    "Root public key: {}",
                    o.root_public_key
                )));
                lines.push(Line::from(format!("Shares used:     {:?}", o.indices)));
                if let Some((p, sha)) = &o.written {
                    lines.push(Line::from(format!("Output:          {}", p.display())));
                    lines.push(Line::from(format!("SHA-256:         {sha}")));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(strings::RECOVERY_NOT_ELSEWHERE));
            }
            Step::ConfirmShow {
                key_id,
                field,
                error,
                ..
            } => {
                lines.push(Line::from(Span::styled(
                    format!(" Key {key_id} recovered and verified against its root public key. "),
                    Style::default().fg(Color::Black).bg(Color::Green),
                )));
                lines.push(Line::from(""));
                lines.push(field.line(strings::RECOVERY_TYPE_KEY_ID, true));
                if *error {
                    lines.push(Line::from(Span::styled(
                        "That is not the key id. Type it exactly, or Esc to discard the key.",
                        Style::default().fg(Color::Red),
                    )));
                }
            }
            Step::Showing {
                key_id,
                key,
                started,
                now,
                ..
            } => {
                let elapsed = started.map(|s| now.saturating_sub(s)).unwrap_or(0);
                let left_ms = show_ticks().saturating_sub(elapsed) * TICK.as_millis() as u64;
                let left = left_ms.div_ceil(1000);
                let [warn_area, key_area, rest] = Layout::vertical([
                    Constraint::Length(2),
                    Constraint::Length(5),
                    Constraint::Min(1),
                ])
                .areas(area);
                frame.render_widget(
                    Paragraph::new(Line::from(Span::styled(
                        format!(" {} ", strings::RECOVERY_SHOW_WARNING),
                        red,
                    ))),
                    warn_area,
                );
                let hex = key.grouped_hex();
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::from(""),
                        Line::from(Span::styled(
                            format!("  {}", hex.as_str()),
                            Style::default()
                                .fg(Color::Yellow)
                                .add_modifier(Modifier::BOLD),
                        )),
                    ])
                    .block(
                        Block::default()
                            .borders(Borders::ALL)
                            .border_style(Style::default().fg(Color::Red))
                            .title(format!(" {key_id} ")),
                    ),
                    key_area,
                );
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::from(Span::styled(format!("Clearing in {left:>2} s"), bold)),
                        Line::from("Press Enter or Esc to clear now."),
                    ]),
                    rest,
                );
                return;
            }
            Step::Cleared { shown } => {
                lines.push(Line::from(if *shown {
                    strings::RECOVERY_CLEARED
                } else {
                    strings::RECOVERY_DISCARDED
                }));
            }
            Step::Failed(report) => {
                lines.extend(widgets::failure_lines(report));
                lines.push(Line::from(""));
                lines.push(Line::from(
                    "Nothing was output. The audit log records the attempt and its failure.",
                ));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Warning => vec![("Enter", "continue"), ("Esc", "leave")],
            Step::Approvers { .. } => vec![
                ("Enter", "add / continue"),
                ("Backspace", "remove last"),
                ("Esc", "back"),
            ],
            Step::Shards { .. } => vec![
                ("Tab", "next field"),
                ("Enter", "add shard"),
                ("Ctrl-N", "continue"),
                ("Esc", "back"),
            ],
            Step::Output { .. } => vec![
                ("1/2/3", "choose"),
                ("Tab", "switch field"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Step::Confirm => vec![("Enter", "start"), ("Esc", "back")],
            Step::Working => vec![],
            Step::Written(_) | Step::Cleared { .. } | Step::Failed(_) => vec![("Enter", "home")],
            Step::ConfirmShow { .. } => vec![("Enter", "show once"), ("Esc", "discard")],
            Step::Showing { .. } => vec![("Enter/Esc", "clear now")],
        }
    }

    fn animating(&self) -> bool {
        // The one-time key display counts down to clearing itself.
        self.busy() || matches!(self.step, Step::Showing { .. })
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working)
    }

    fn on_quit(&mut self) -> Option<Action> {
        let shown = matches!(self.step, Step::Showing { .. });
        self.clear(DisplayEnd::Abandoned { shown })
    }
}
