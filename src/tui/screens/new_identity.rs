//! The "new custodian identity" wizard: name → passphrase (with a strength
//! meter and the diceware generator) → generation on a worker thread with a
//! spinner → a summary with the recipient and fingerprint.
//!
//! The wizard is an enum state machine; each step holds exactly what it
//! needs. The passphrase lives only in masked, zeroizing fields until it is
//! handed to the worker in a `SecretString`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::guardians_split::NewPassEntry;
use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::identity::{self, CreatedIdentity};

/// The name step's fields.
const N_NAME: usize = 0;
const N_TOKEN: usize = 1;

/// The wizard's steps.
#[derive(Debug)]
enum Step {
    /// The name, and the hardware token's recipient when the identity is
    /// to need passphrase + token.
    Name {
        form: Form,
    },
    Passphrase {
        name: String,
        token: Option<String>,
        entry: NewPassEntry,
    },
    Working {
        name: String,
        token: Option<String>,
    },
    Done(CreatedIdentity),
    Failed {
        name: String,
        token: Option<String>,
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

fn name_form(name: &str, token: &str) -> Form {
    Form::new(vec![
        FormField::plain(strings::NEWID_NAME_PROMPT, strings::NEWID_NAME_HINT, name),
        FormField::plain(
            strings::NEWID_TOKEN_PROMPT,
            strings::NEWID_TOKEN_HINT,
            token,
        ),
    ])
}

impl NewIdentityWizard {
    /// A wizard at its first step.
    pub fn new() -> Self {
        NewIdentityWizard {
            step: Step::Name {
                form: name_form("", ""),
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
        NewIdentityWizard {
            step: Step::Name {
                form: name_form(name, ""),
            },
            taken: Vec::new(),
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

    /// The name step's values checked: the name (rules, not registered)
    /// and the token recipient (an age plugin recipient, never a secret).
    fn check_name_step(&self, form: &mut Form) -> Option<(String, Option<String>)> {
        let name = form.value(N_NAME).to_string();
        let checked = identity::validate_name(&name).map_err(|e| Report::for_console(&e));
        let checked = checked.and_then(|()| {
            if self.taken.contains(&name) {
                Err(Report::for_console(
                    &custodian_core::workspace::WorkspaceError::DuplicateCustodian(name.clone()),
                ))
            } else {
                Ok(())
            }
        });
        if let Err(r) = checked {
            form.set_error(N_NAME, r);
            return None;
        }
        check_token_field(form, N_TOKEN).map(|token| (name, token))
    }
}

/// A hardware token recipient field checked (the new-identity wizard's and
/// the rotation's): empty is no token; a pasted secret is dropped from the
/// field and refused; anything else must be an age plugin recipient.
/// `None`: refused, the error under field `i`.
pub(super) fn check_token_field(form: &mut Form, i: usize) -> Option<Option<String>> {
    let token = form.value(i).trim().to_string();
    if token.is_empty() {
        return Some(None);
    }
    if let Some(look) = custodian_core::text::secret_look(&token) {
        // A pasted secret leaves neither the screen nor the field.
        form.set_value(i, "");
        form.set_error(
            i,
            Report::for_console(&identity::IdentityError::SecretInput(
                custodian_core::text::SecretInput {
                    field: "hardware token recipient",
                    look,
                },
            )),
        );
        return None;
    }
    match custodian_core::token::parse_recipient(&token) {
        Ok(_) => Some(Some(token)),
        Err(e) => {
            form.set_error(i, Report::for_console(&e));
            None
        }
    }
}

impl NewIdentityWizard {
    /// The name step is done: on to the passphrase, or the error under
    /// the field at fault.
    fn submit_name(&mut self) -> Option<Action> {
        let Step::Name { form } = &mut self.step else {
            return None;
        };
        let mut form = std::mem::replace(form, name_form("", ""));
        let checked = self.check_name_step(&mut form);
        self.step = match checked {
            Some((name, token)) => Step::Passphrase {
                name,
                token,
                entry: NewPassEntry::default(),
            },
            None => Step::Name { form },
        };
        None
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
            Step::Name { form } => match form.handle_key(key) {
                // Enter on the name goes on unless a token is being given
                // (the token field is reached with Tab or ↓).
                FormEvent::Handled
                    if key.code == KeyCode::Enter
                        && form.focus() == N_TOKEN
                        && form.value(N_TOKEN).is_empty() =>
                {
                    self.submit_name()
                }
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit => self.submit_name(),
            },
            Step::Passphrase { name, token, entry } => {
                if key.code == KeyCode::Esc {
                    if entry.esc() {
                        let token = token.take().unwrap_or_default();
                        self.step = Step::Name {
                            form: name_form(name, &token),
                        };
                    }
                    return None;
                }
                let passphrase = entry.handle_key(key)?;
                let name = std::mem::take(name);
                let token = token.take();
                self.step = Step::Working {
                    name: name.clone(),
                    token: token.clone(),
                };
                Some(Action::CreateIdentity {
                    name,
                    passphrase,
                    token,
                })
            }
            Step::Working { .. } => None,
            Step::Done(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed {
                name,
                token,
                report,
            } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    // Back to the step that fixes it: a token problem goes
                    // under the token field; anything else is tried again
                    // from the passphrase, the name and token kept.
                    let text = report.to_string();
                    self.step = match token.take() {
                        Some(t) if text.contains("token") || text.contains("plugin") => {
                            let mut form = name_form(name, &t);
                            form.set_error(N_TOKEN, report.clone());
                            Step::Name { form }
                        }
                        t => Step::Passphrase {
                            name: std::mem::take(name),
                            token: t,
                            entry: NewPassEntry::default(),
                        },
                    };
                    None
                }
                _ => None,
            },
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Name { form } => {
                form.paste(text);
            }
            Step::Passphrase { entry, .. } => entry.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        matches!(self.step, Step::Name { .. } | Step::Passphrase { .. })
    }

    fn holds_input(&self) -> bool {
        match &self.step {
            Step::Name { form } => form.holds_input(),
            Step::Done(_) => false,
            _ => true,
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Step::Working { name, token }, WorkerMsg::Finished(result)) = (&mut self.step, msg)
        {
            self.step = match result {
                Ok(JobResult::IdentityCreated(c)) => Step::Done(c.clone()),
                Err(report) => Step::Failed {
                    name: std::mem::take(name),
                    token: token.take(),
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
            Step::Name { form } => lines.extend(form.lines()),
            Step::Passphrase { name, token, entry } => {
                lines.push(Line::from(format!("Custodian: {name}")));
                if let Some(t) = token {
                    lines.push(Line::from(format!(
                        "Opening will need: passphrase + hardware token ({})",
                        custodian_core::text::short_prefix(t)
                    )));
                }
                lines.push(Line::from(""));
                lines.extend(entry.lines());
                lines.push(Line::from(Span::styled(
                    strings::NEWID_PASS_HINT,
                    crate::tui::widgets::hint(),
                )));
            }
            Step::Working { name, .. } => {
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
            Step::Name { .. } => vec![
                ("Enter", "next"),
                ("Tab/↓", "next field"),
                ("Esc", "cancel"),
            ],
            Step::Passphrase { .. } => vec![
                ("Tab/↓", "next field"),
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
