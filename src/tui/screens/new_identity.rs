//! The "new custodian identity" wizard: name → passphrase (with a strength
//! meter and the diceware generator) → generation on a worker thread with a
//! spinner → a summary with the recipient and fingerprint.
//!
//! The wizard is an enum state machine; each step holds exactly what it
//! needs. The passphrase lives only in masked, zeroizing fields until it is
//! handed to the worker in a `SecretString`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::{ExposeSecret, SecretString};

use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::identity::{self, CreatedIdentity};
use custodian_core::passphrase;

/// Which passphrase field has focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Focus {
    First,
    Confirm,
}

/// The wizard's steps.
#[derive(Debug)]
enum Step {
    Name {
        field: TextField,
        error: Option<Report>,
    },
    Passphrase {
        name: String,
        first: TextField,
        confirm: TextField,
        focus: Focus,
        strength: Option<widgets::Meter>,
        generated: Option<TextField>,
        error: Option<Report>,
    },
    Working {
        name: String,
    },
    Done(CreatedIdentity),
    Failed {
        name: String,
        report: Report,
    },
}

/// The wizard screen.
#[derive(Debug)]
pub struct NewIdentityWizard {
    step: Step,
    /// Names already registered, refused at the name step.
    taken: Vec<String>,
}

impl Default for NewIdentityWizard {
    fn default() -> Self {
        Self::new()
    }
}

fn plain_field() -> TextField {
    TextField::default()
}

impl NewIdentityWizard {
    /// A wizard at its first step.
    pub fn new() -> Self {
        NewIdentityWizard {
            step: Step::Name {
                field: plain_field(),
                error: None,
            },
            taken: Vec::new(),
        }
    }

    /// Tells the wizard which names are already registered, so a duplicate
    /// is refused before any passphrase is typed.
    pub fn with_taken(mut self, names: Vec<String>) -> Self {
        self.taken = names;
        self
    }

    /// A wizard with the name already filled in (launched from a playbook step).
    pub fn with_name(name: &str) -> Self {
        let mut w = Self::new();
        if let Step::Name { field, .. } = &mut w.step {
            field.set(name);
        }
        w
    }

    fn passphrase_step(name: String) -> Step {
        Step::Passphrase {
            name,
            first: TextField::masked(),
            confirm: TextField::masked(),
            focus: Focus::First,
            strength: None,
            generated: None,
            error: None,
        }
    }

    /// A short name for the current step (for tests and snapshots).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Name { .. } => "name",
            Step::Passphrase { .. } => "passphrase",
            Step::Working { .. } => "working",
            Step::Done(_) => "done",
            Step::Failed { .. } => "failed",
        }
    }
}

impl Screen for NewIdentityWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        strings::NEWID_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Name { field, error } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    let name = field.text().to_string();
                    let checked =
                        identity::validate_name(&name).map_err(|e| Report::from_error(&e));
                    let checked = checked.and_then(|()| {
                        if self.taken.contains(&name) {
                            Err(Report::from_error(
                                &custodian_core::workspace::WorkspaceError::DuplicateCustodian(
                                    name.clone(),
                                ),
                            ))
                        } else {
                            Ok(())
                        }
                    });
                    match checked {
                        Ok(()) => self.step = Self::passphrase_step(name),
                        Err(r) => *error = Some(r),
                    }
                    None
                }
                _ => {
                    if field.input(key) {
                        *error = None;
                    }
                    None
                }
            },
            Step::Passphrase {
                name,
                first,
                confirm,
                focus,
                strength,
                generated,
                error,
            } => match key.code {
                KeyCode::Esc => {
                    let name = std::mem::take(name);
                    self.step = Step::Name {
                        field: {
                            let mut f = plain_field();
                            f.set(&name);
                            f
                        },
                        error: None,
                    };
                    None
                }
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                    *focus = if *focus == Focus::First {
                        Focus::Confirm
                    } else {
                        Focus::First
                    };
                    None
                }
                KeyCode::Char('g') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    match passphrase::generate(passphrase::DEFAULT_WORDS) {
                        Ok(p) => {
                            first.set(p.expose_secret());
                            confirm.set(p.expose_secret());
                            let mut shown = plain_field();
                            shown.set(p.expose_secret());
                            *generated = Some(shown);
                            *strength = Some(widgets::meter(&p));
                            *error = None;
                        }
                        Err(e) => *error = Some(Report::from_error(&e)),
                    }
                    None
                }
                KeyCode::Enter => {
                    if *focus == Focus::First {
                        *focus = Focus::Confirm;
                        return None;
                    }
                    let pass = SecretString::from(first.text());
                    if let Err(e) = passphrase::check_new(&pass) {
                        *error = Some(Report::from_error(&e));
                        *focus = Focus::First;
                        return None;
                    }
                    if first.text() != confirm.text() {
                        *error = Some(Report::from_error(&passphrase::PassphraseError::Mismatch));
                        confirm.set("");
                        return None;
                    }
                    let name = std::mem::take(name);
                    self.step = Step::Working { name: name.clone() };
                    Some(Action::CreateIdentity {
                        name,
                        passphrase: pass,
                    })
                }
                _ => {
                    let field = if *focus == Focus::First {
                        first
                    } else {
                        confirm
                    };
                    if field.input(key) {
                        *error = None;
                        if *focus == Focus::First {
                            // Typing over a generated phrase hides it again.
                            *generated = None;
                            *strength = Some(widgets::meter(&SecretString::from(field.text())));
                        }
                    }
                    None
                }
            },
            Step::Working { .. } => None,
            Step::Done(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed { name, .. } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    self.step = Self::passphrase_step(std::mem::take(name));
                    None
                }
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Step::Working { name }, WorkerMsg::Finished(result)) = (&mut self.step, msg) {
            self.step = match result {
                Ok(JobResult::IdentityCreated(c)) => Step::Done(c.clone()),
                Err(report) => Step::Failed {
                    name: std::mem::take(name),
                    report: report.clone(),
                },
                Ok(_) => return None,
            };
            return Some(Action::RefreshHome);
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines: Vec<Line> = Vec::new();
        let step_label = |n: u8, label: &str, active: bool| {
            let style = if active {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                crate::tui::widgets::hint()
            };
            Span::styled(format!(" {n}. {label} "), style)
        };
        let idx = match self.step {
            Step::Name { .. } => 1,
            Step::Passphrase { .. } => 2,
            Step::Working { .. } => 3,
            Step::Done(_) | Step::Failed { .. } => 4,
        };
        lines.push(Line::from(vec![
            step_label(1, "Name", idx == 1),
            Span::raw("→"),
            step_label(2, "Passphrase", idx == 2),
            Span::raw("→"),
            step_label(3, "Generate", idx == 3),
            Span::raw("→"),
            step_label(4, "Summary", idx == 4),
        ]));
        lines.push(Line::from(""));
        match &self.step {
            Step::Name { field, error } => {
                lines.push(field.line(strings::NEWID_NAME_PROMPT, true));
                lines.push(Line::from(Span::styled(
                    strings::NEWID_NAME_HINT,
                    crate::tui::widgets::hint(),
                )));
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Passphrase {
                name,
                first,
                confirm,
                focus,
                strength,
                generated,
                error,
            } => {
                lines.push(Line::from(format!("Custodian: {name}")));
                lines.push(Line::from(""));
                lines.push(first.line(strings::NEWID_PASS_PROMPT, *focus == Focus::First));
                lines.push(confirm.line(strings::NEWID_CONFIRM_PROMPT, *focus == Focus::Confirm));
                lines.push(Line::from(""));
                if let Some(s) = strength {
                    lines.push(widgets::strength_line(s));
                }
                lines.push(Line::from(Span::styled(
                    strings::NEWID_PASS_HINT,
                    crate::tui::widgets::hint(),
                )));
                if let Some(g) = generated {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        strings::NEWID_GENERATED,
                        Style::default().fg(Color::Yellow),
                    )));
                    lines.push(Line::from(Span::styled(
                        format!("  {}", g.text()),
                        Style::default().add_modifier(Modifier::BOLD),
                    )));
                }
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Working { name } => {
                lines.push(Line::from(format!(
                    "{} {} ({name})",
                    widgets::spinner(chrome.tick),
                    strings::NEWID_WORKING
                )));
            }
            Step::Done(c) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::NEWID_DONE),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(format!("Name:         {}", c.name)));
                lines.push(Line::from(format!("Recipient:    {}", c.recipient)));
                lines.push(Line::from(format!("Fingerprint:  {}", c.fingerprint)));
                lines.push(Line::from(format!("File:         {}", c.path.display())));
                lines.push(Line::from(format!("Rotation due: {}", c.rotation_due)));
                lines.push(Line::from(""));
                lines.push(Line::from(strings::NEWID_DONE_HINT));
            }
            Step::Failed { report, .. } => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        let [body] = Layout::vertical([Constraint::Min(1)]).areas(area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Name { .. } => vec![("Enter", "next"), ("Esc", "cancel")],
            Step::Passphrase { .. } => vec![
                ("Tab", "switch field"),
                ("Ctrl-G", "generate"),
                ("Enter", "create"),
                ("Esc", "back"),
            ],
            Step::Working { .. } => vec![],
            Step::Done(_) => vec![("Enter", "home")],
            Step::Failed { .. } => vec![("Enter", "try again"), ("Esc", "home")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working { .. })
    }
}
