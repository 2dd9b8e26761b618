//! The rewrap wizard (to a new custodian) and the restore-to-node wizard
//! (to a node's import recipient): one state machine, two wordings.
//!
//! identity file → new recipient and name → (the concentration rule, when
//! the new holder would hold two or more shards of the key: their name
//! typed to confirm, or two approvers to override reaching the threshold)
//! → holder's passphrase → work on
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
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::identity;
use custodian_core::shard::{
    self, Concentration, ConcentrationApproval, RewrapKind, RewrapOutcome, RewrapRequest, ShardFile,
};
use custodian_core::workspace::Registry;

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
    Concentration {
        verdict: Concentration,
        form: Form,
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
    /// The registry as the wizard opened (public facts), for the
    /// concentration rule; None when it could not be read (the rule then
    /// runs on the worker and its refusal is shown there).
    registry: Option<Box<Registry>>,
    approval: ConcentrationApproval,
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
            registry: None,
            approval: ConcentrationApproval::default(),
        }
    }

    /// The registry the concentration rule is checked against.
    pub fn with_registry(mut self, reg: Registry) -> Self {
        self.registry = Some(Box::new(reg));
        self
    }

    /// After the target is chosen: the concentration step when the rule
    /// asks for a confirmation or an override, else the passphrase.
    fn after_target(&mut self) -> Step {
        self.approval = ConcentrationApproval::default();
        let f = &self.start.file;
        let verdict = self
            .registry
            .as_deref()
            .map(|reg| shard::concentration_after(reg, &f.key_id, f.index, &self.to, f.threshold))
            .unwrap_or(Concentration::Spread);
        let form = match verdict {
            Concentration::Spread => {
                return Step::Passphrase {
                    field: TextField::masked(),
                };
            }
            Concentration::Several { .. } => Form::new(vec![FormField::plain(
                strings::CONCENTRATION_CONFIRM_PROMPT,
                strings::CONCENTRATION_CONFIRM_HINT,
                "",
            )]),
            Concentration::ReachesThreshold { .. } => Form::new(vec![
                FormField::plain(
                    strings::CONCENTRATION_APPROVER1,
                    strings::CONCENTRATION_APPROVER_HINT,
                    "",
                ),
                FormField::plain(
                    strings::CONCENTRATION_APPROVER2,
                    strings::CONCENTRATION_APPROVER_HINT,
                    "",
                ),
            ]),
        };
        Step::Concentration { verdict, form }
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
            Step::Concentration { .. } => "concentration",
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
                            self.step = self.after_target();
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
            Step::Concentration { verdict, form } => match form.handle_key(key) {
                FormEvent::Cancel => {
                    self.step = self.target_step();
                    None
                }
                FormEvent::Handled => None,
                FormEvent::Submit => {
                    let approval = match verdict {
                        Concentration::Several { .. } => ConcentrationApproval {
                            confirm_holder: Some(form.value(0).trim().to_string()),
                            approvers: vec![],
                        },
                        _ => ConcentrationApproval {
                            confirm_holder: None,
                            approvers: vec![
                                form.value(0).trim().to_string(),
                                form.value(1).trim().to_string(),
                            ],
                        },
                    };
                    let checked = match self.registry.as_deref() {
                        Some(reg) => shard::check_rewrap_concentration(
                            reg,
                            &self.start.file,
                            &self.to,
                            &self.name,
                            &approval,
                        )
                        .map(|_| ()),
                        None => Ok(()),
                    };
                    match checked {
                        Ok(()) => {
                            self.approval = approval;
                            self.step = Step::Passphrase {
                                field: TextField::masked(),
                            };
                        }
                        Err(e) => {
                            let at = match e {
                                shard::ShardError::TooFewApprovers(_) => 1,
                                _ => 0,
                            };
                            form.refuse(at, Report::from_error(&e));
                        }
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
                        concentration: self.approval.clone(),
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
            Step::Concentration { verdict, form } => {
                lines.push(Line::from(format!(
                    "To:       {} — {} ({})",
                    self.name,
                    self.to,
                    identity::fingerprint(&self.to)
                )));
                lines.push(Line::from(""));
                let warn = Style::default()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD);
                let (head, body) = match verdict {
                    Concentration::Several { holds } => (
                        strings::CONCENTRATION_SEVERAL_HEAD,
                        format!(
                            "{} would hold {holds} shards of key {} (it needs {} to rebuild). Type their name to confirm; the confirmation is recorded in the audit log.",
                            self.name, f.key_id, f.threshold
                        ),
                    ),
                    Concentration::ReachesThreshold { holds, threshold } => (
                        strings::CONCENTRATION_REACHES_HEAD,
                        format!(
                            "{} would hold {holds} shards of key {}, which needs {threshold}: they could rebuild it alone. Refused unless two approvers override; both names are recorded in the audit log.",
                            self.name, f.key_id
                        ),
                    ),
                    Concentration::Spread => ("", String::new()),
                };
                lines.push(Line::from(Span::styled(format!(" {head} "), warn)));
                lines.push(Line::from(body));
                lines.push(Line::from(""));
                lines.extend(form.lines());
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
            Step::Concentration { .. } => {
                vec![("Tab", "next field"), ("Enter", "confirm"), ("Esc", "back")]
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
