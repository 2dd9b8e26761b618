//! The rewrap wizard (to a new custodian) and the restore-to-node wizard
//! (to a node's import recipient): one state machine, two wordings.
//!
//! identity file → new recipient and name → holder's passphrase → work on
//! a worker thread → the result, with the old-file warning (rewrap) or the
//! after-import checklist (restore). Fields are checked as they are left
//! (recipient syntax, name rules); everything that needs a file is checked
//! by the library on the worker, before the passphrase is used.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::identity;
use custodian_core::shard::{RewrapKind, RewrapOutcome, RewrapRequest, ShardFile};

/// What the wizard starts from: a shard whose metadata was read.
#[derive(Debug, Clone)]
pub struct RewrapStart {
    /// The shard file.
    pub shard: PathBuf,
    /// Its metadata.
    pub file: Box<ShardFile>,
    /// Custodian rewrap or restore to node.
    pub kind: RewrapKind,
}

#[derive(Debug)]
enum Step {
    Identity {
        field: TextField,
        error: Option<Report>,
    },
    Target {
        to: TextField,
        name: TextField,
        on_name: bool,
        error: Option<Report>,
    },
    Passphrase {
        field: TextField,
    },
    Working,
    Done(RewrapOutcome),
    Failed(Report),
}

/// The rewrap / restore-to-node wizard.
#[derive(Debug)]
pub struct RewrapWizard {
    start: RewrapStart,
    identity: String,
    to: String,
    name: String,
    step: Step,
}

fn field_with(text: &str) -> TextField {
    let mut f = TextField::default();
    f.set(text);
    f
}

impl RewrapWizard {
    /// A wizard for `start`, with the holder's identity file suggested when known.
    pub fn new(start: RewrapStart, identity_suggestion: Option<PathBuf>) -> Self {
        let identity = identity_suggestion
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        RewrapWizard {
            step: Step::Identity {
                field: field_with(&identity),
                error: None,
            },
            start,
            identity,
            to: String::new(),
            name: String::new(),
        }
    }

    fn node(&self) -> bool {
        self.start.kind == RewrapKind::Node
    }

    fn target_step(&self) -> Step {
        Step::Target {
            to: field_with(&self.to),
            name: field_with(&self.name),
            on_name: false,
            error: None,
        }
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Identity { .. } => "identity",
            Step::Target { .. } => "target",
            Step::Passphrase { .. } => "passphrase",
            Step::Working => "working",
            Step::Done(_) => "done",
            Step::Failed(_) => "failed",
        }
    }
}

impl Screen for RewrapWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        if self.node() {
            strings::RESTORE_TITLE.into()
        } else {
            strings::REWRAP_TITLE.into()
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Identity { field, error } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter if !field.text().trim().is_empty() => {
                    self.identity = field.text().trim().to_string();
                    self.step = self.target_step();
                    None
                }
                _ => {
                    if field.input(key) {
                        *error = None;
                    }
                    None
                }
            },
            Step::Target {
                to,
                name,
                on_name,
                error,
            } => match key.code {
                KeyCode::Esc => {
                    self.step = Step::Identity {
                        field: field_with(&self.identity),
                        error: None,
                    };
                    None
                }
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                    *on_name = !*on_name;
                    None
                }
                KeyCode::Enter if !*on_name => {
                    *on_name = true;
                    None
                }
                KeyCode::Enter => {
                    let checked = identity::parse_recipient(to.text())
                        .and_then(|_| identity::validate_name(name.text()));
                    match checked {
                        Ok(()) => {
                            self.to = to.text().trim().to_string();
                            self.name = name.text().to_string();
                            self.step = Step::Passphrase {
                                field: TextField::masked(),
                            };
                        }
                        Err(e) => {
                            // A pasted secret leaves neither the screen nor the field.
                            if matches!(e, identity::IdentityError::SecretInput(_)) {
                                if custodian_core::text::secret_look(to.text()).is_some() {
                                    to.set("");
                                }
                                if custodian_core::text::secret_look(name.text()).is_some() {
                                    name.set("");
                                }
                            }
                            *error = Some(Report::from_error(&e));
                        }
                    }
                    None
                }
                _ => {
                    let f = if *on_name { name } else { to };
                    if f.input(key) {
                        *error = None;
                    }
                    None
                }
            },
            Step::Passphrase { field } => match key.code {
                KeyCode::Esc => {
                    self.step = self.target_step();
                    None
                }
                KeyCode::Enter if !field.text().is_empty() => {
                    let passphrase = SecretString::from(field.text());
                    self.step = Step::Working;
                    Some(Action::StartRewrap(Box::new(RewrapRequest {
                        shard: self.start.shard.clone(),
                        identity: PathBuf::from(&self.identity),
                        passphrase,
                        to: self.to.clone(),
                        name: self.name.clone(),
                        out: None,
                        kind: self.start.kind,
                        accept_multiple_recipients: false,
                    })))
                }
                _ => {
                    field.input(key);
                    None
                }
            },
            Step::Working => None,
            Step::Done(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed(_) => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    self.step = Step::Identity {
                        field: field_with(&self.identity),
                        error: None,
                    };
                    None
                }
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Step::Working, WorkerMsg::Finished(result)) = (&self.step, msg) {
            self.step = match result {
                Ok(JobResult::ShardRewrapped(o)) => Step::Done(o.clone()),
                Err(report) => Step::Failed(report.clone()),
                Ok(_) => return None,
            };
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let node = self.node();
        let (to_label, name_label) = if node {
            (strings::RESTORE_TO_PROMPT, strings::RESTORE_NAME_PROMPT)
        } else {
            (strings::REWRAP_TO_PROMPT, strings::REWRAP_NAME_PROMPT)
        };
        let f = &self.start.file;
        let mut lines = vec![
            Line::from(format!(
                "Shard {} · key {} · index {} · held by {} ({})",
                self.start
                    .shard
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                f.key_id,
                f.index,
                f.custodian,
                identity::fingerprint(&f.recipient)
            )),
            Line::from(""),
        ];
        let bold = Style::default().add_modifier(Modifier::BOLD);
        match &self.step {
            Step::Identity { field, error } => {
                lines.push(field.line(strings::REWRAP_IDENTITY_PROMPT, true));
                lines.push(Line::from(Span::styled(
                    strings::REWRAP_IDENTITY_HINT,
                    crate::tui::widgets::hint(),
                )));
                if let Some(r) = error {
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Target {
                to,
                name,
                on_name,
                error,
            } => {
                lines.push(Line::from(format!("Identity: {}", self.identity)));
                lines.push(Line::from(""));
                lines.push(to.line(to_label, !*on_name));
                lines.push(name.line(name_label, *on_name));
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Passphrase { field } => {
                lines.push(Line::from(format!("Identity: {}", self.identity)));
                lines.push(Line::from(format!(
                    "To:       {} — {} ({})",
                    self.name,
                    self.to,
                    identity::fingerprint(&self.to)
                )));
                lines.push(Line::from(""));
                lines.push(field.line(strings::REWRAP_PASS_PROMPT, true));
            }
            Step::Working => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::REWRAP_WORKING
            ))),
            Step::Done(o) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::REWRAP_DONE),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!("New file:  {}", o.path.display())));
                lines.push(Line::from(format!("SHA-256:   {}", o.file_sha256)));
                lines.push(Line::from(format!(
                    "Holder:    {} — {} ({})",
                    o.name,
                    o.recipient,
                    identity::fingerprint(&o.recipient)
                )));
                lines.push(Line::from(strings::REWRAP_VERIFIED));
                lines.push(Line::from(""));
                if node {
                    lines.push(Line::from(Span::styled(strings::RESTORE_CHECKLIST, bold)));
                    lines.push(Line::from(format!(
                        "  [ ] import the file on node {}",
                        o.name
                    )));
                    lines.push(Line::from(format!(
                        "  [ ] the node reports key id        {}",
                        o.key_id
                    )));
                    lines.push(Line::from(format!(
                        "  [ ] the node reports root pub key  {}",
                        o.root_public_key
                    )));
                    lines.push(Line::from(format!(
                        "  [ ] the node reports share index   {}",
                        o.index
                    )));
                    lines.push(Line::from(strings::RESTORE_KEEP));
                } else {
                    let warn = Style::default()
                        .fg(Color::Black)
                        .bg(Color::Yellow)
                        .add_modifier(Modifier::BOLD);
                    lines.push(Line::from(Span::styled(
                        format!(" {} ", strings::REWRAP_OLD_LEFT),
                        warn,
                    )));
                    lines.push(Line::from(format!("  {}", o.old_path.display())));
                    lines.push(Line::from(strings::REWRAP_OLD_HINT));
                }
            }
            Step::Failed(report) => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Identity { .. } => vec![("Enter", "next"), ("Esc", "cancel")],
            Step::Target { .. } => {
                vec![("Tab", "switch field"), ("Enter", "next"), ("Esc", "back")]
            }
            Step::Passphrase { .. } => vec![("Enter", "rewrap"), ("Esc", "back")],
            Step::Working => vec![],
            Step::Done(_) => vec![("Enter", "back to shards")],
            Step::Failed(_) => vec![("Enter", "try again"), ("Esc", "back")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working)
    }
}
