//! The rewrap wizard (to a new custodian) and the restore-to-node wizard
//! (to a node's import recipient): one state machine, two wordings.
//!
//! identity file → new recipient and name → (the concentration rule, when
//! the new holder would hold two or more shards of the key: their name
//! typed to confirm, or an override by two approvers reaching the threshold,
//! gathered by the shared approver step ([`crate::tui::approvers`]): each
//! registered custodian opens their own identity, typed names only where
//! the workspace policy allows them) → holder's passphrase → work on
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
use crate::tui::approvers::{Approvers, ApproversEvent};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::approvals::{self, ApprovalPolicy};
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

/// Where a rewrap refused on the worker sends the user back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewrapFix {
    /// The holder's identity file is not the one the shard is wrapped to
    /// (or does not read).
    Identity,
    /// The passphrase does not open the identity.
    Passphrase,
    /// The share is encrypted to more keys than its holder's: the user
    /// accepts it explicitly (audited) or goes back.
    MultipleRecipients,
}

#[derive(Debug)]
enum Step {
    Identity {
        form: Form,
    },
    /// The new recipient and name.
    Target {
        form: Form,
    },
    /// Two or more shards of the key: the new holder's name typed back.
    Concentration {
        verdict: Concentration,
        form: Form,
    },
    /// Reaching the key's threshold: the override's approvers
    /// ([`RewrapWizard::approvers`], kept when stepping back).
    Approvers {
        verdict: Concentration,
    },
    Passphrase {
        form: Form,
    },
    Working,
    /// The share can also be read by other keys: accept (y, recorded in
    /// the audit log with the count) or go back (Esc).
    AcceptMultiple(Report),
    Done(RewrapOutcome),
    Failed(Report),
}

/// The rewrap / restore-to-node wizard.
#[derive(Debug)]
pub struct RewrapWizard {
    start: RewrapStart,
    /// The values typed so far (kept when stepping back and forth).
    identity: String,
    to: String,
    name: String,
    step: Step,
    /// The registry as the wizard opened (public facts), for the
    /// concentration rule; None when it could not be read (the rule then
    /// runs on the worker and its refusal is shown there).
    registry: Option<Box<Registry>>,
    approval: ConcentrationApproval,
    /// The override's approvers (reaching the threshold).
    approvers: Approvers,
    /// The target (recipient, name) the approvers approved.
    approved_for: Option<(String, String)>,
    /// The user accepted, on the refusal, a share other keys can read too.
    accept_multiple: bool,
}

fn too_few(given: usize) -> Report {
    Report::for_console(&shard::ShardError::TooFewApprovers(given))
}

fn approvers_for(policy: ApprovalPolicy) -> Approvers {
    Approvers::new(
        policy,
        shard::OVERRIDE_APPROVERS,
        strings::RETIRE_APPROVER_HINT,
        too_few,
    )
}

fn pass_form() -> Form {
    Form::new(vec![FormField::secret(strings::REWRAP_PASS_PROMPT, "")])
}

impl RewrapWizard {
    /// A wizard for `start`, with the holder's identity file suggested when known.
    pub fn new(start: RewrapStart, identity_suggestion: Option<PathBuf>) -> Self {
        let identity = identity_suggestion
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut w = RewrapWizard {
            step: Step::Working,
            start,
            identity,
            to: String::new(),
            name: String::new(),
            registry: None,
            approval: ConcentrationApproval::default(),
            approvers: approvers_for(ApprovalPolicy::Authenticated),
            approved_for: None,
            accept_multiple: false,
        };
        w.step = w.identity_step(None);
        w
    }

    /// The registry the concentration rule is checked against.
    pub fn with_registry(mut self, reg: Registry) -> Self {
        self.approvers = approvers_for(approvals::policy(&reg));
        self.registry = Some(Box::new(reg));
        self
    }

    fn identity_step(&self, error: Option<Report>) -> Step {
        let mut form = Form::new(vec![FormField::path(
            strings::REWRAP_IDENTITY_PROMPT,
            strings::REWRAP_IDENTITY_HINT,
            &self.identity,
            PathKind::Identity,
        )]);
        if let Some(r) = error {
            form.set_error(0, r);
        }
        Step::Identity { form }
    }

    /// After the target is chosen: the concentration step when the rule
    /// asks for a confirmation or an override, else the passphrase.
    fn after_target(&mut self) -> Step {
        self.approval = ConcentrationApproval::default();
        let verdict = self.verdict();
        if !matches!(verdict, Concentration::ReachesThreshold { .. }) {
            self.approvers.reset();
            self.approved_for = None;
        }
        let form = match verdict {
            Concentration::Spread => return Step::Passphrase { form: pass_form() },
            Concentration::Several { .. } => Form::new(vec![FormField::plain(
                strings::CONCENTRATION_CONFIRM_PROMPT,
                strings::CONCENTRATION_CONFIRM_HINT,
                "",
            )]),
            // Approvals approve this move: kept only while the target is
            // the one they approved.
            Concentration::ReachesThreshold { .. } => {
                let target = (self.to.clone(), self.name.clone());
                if self.approved_for.as_ref() != Some(&target) {
                    self.approvers.reset();
                    self.approved_for = Some(target);
                }
                return Step::Approvers { verdict };
            }
        };
        Step::Concentration { verdict, form }
    }

    /// The concentration rule's verdict for the target typed (Spread when
    /// the registry could not be read: the rule then runs on the worker).
    fn verdict(&self) -> Concentration {
        let f = &self.start.file;
        self.registry
            .as_deref()
            .map(|reg| shard::concentration_after(reg, &f.key_id, f.index, &self.to, f.threshold))
            .unwrap_or(Concentration::Spread)
    }

    /// The rule checked against what was approved, before any passphrase.
    fn check_concentration(
        &self,
        approval: &ConcentrationApproval,
    ) -> Result<(), shard::ShardError> {
        match self.registry.as_deref() {
            Some(reg) => shard::check_rewrap_concentration_approved(
                reg,
                &self.start.file,
                &self.to,
                &self.name,
                approval,
                &self.approvers.partition().1,
            )
            .map(|_| ()),
            None => Ok(()),
        }
    }

    fn approvers_must_authenticate(&self) -> bool {
        self.registry
            .as_deref()
            .is_none_or(|r| approvals::policy(r) == ApprovalPolicy::Authenticated)
    }

    fn node(&self) -> bool {
        self.start.kind == RewrapKind::Node
    }

    fn target_step(&self) -> Step {
        let (to_label, name_label) = if self.node() {
            (strings::RESTORE_TO_PROMPT, strings::RESTORE_NAME_PROMPT)
        } else {
            (strings::REWRAP_TO_PROMPT, strings::REWRAP_NAME_PROMPT)
        };
        Step::Target {
            form: Form::new(vec![
                FormField::plain(to_label, "", &self.to),
                FormField::plain(name_label, "", &self.name),
            ]),
        }
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Identity { .. } => "identity",
            Step::Target { .. } => "target",
            Step::Concentration { .. } => "concentration",
            Step::Approvers { .. } => "approvers",
            Step::Passphrase { .. } => "passphrase",
            Step::Working => "working",
            Step::AcceptMultiple(_) => "accept-multiple",
            Step::Done(_) => "done",
            Step::Failed(_) => "failed",
        }
    }

    fn target_submitted(&mut self) {
        let Step::Target { form } = &mut self.step else {
            return;
        };
        let to = form.value(0).trim().to_string();
        let name = form.value(1).to_string();
        if let Err(e) = identity::parse_recipient(&to) {
            // A pasted secret leaves neither the screen nor the field.
            if custodian_core::text::secret_look(&to).is_some() {
                form.set_value(0, "");
            }
            form.set_error(0, Report::for_console(&e));
            return;
        }
        if let Err(e) = identity::validate_name(&name) {
            if custodian_core::text::secret_look(&name).is_some() {
                form.set_value(1, "");
            }
            form.set_error(1, Report::for_console(&e));
            return;
        }
        self.to = to;
        self.name = name;
        self.step = self.after_target();
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
            Step::Identity { form } => match form.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).trim().is_empty() => None,
                FormEvent::Submit => {
                    self.identity = form.value(0).trim().to_string();
                    self.step = self.target_step();
                    None
                }
            },
            Step::Target { form } => {
                if key.code == KeyCode::Esc && !form.picking() {
                    // Back one step, what was typed here kept (a value that
                    // looks like a secret is not kept).
                    for (i, slot) in [(0, &mut self.to), (1, &mut self.name)] {
                        let v = form.value(i);
                        *slot = if custodian_core::text::secret_look(v).is_some() {
                            String::new()
                        } else {
                            v.to_string()
                        };
                    }
                    self.step = self.identity_step(None);
                    return None;
                }
                if form.handle_key(key) == FormEvent::Submit {
                    self.target_submitted();
                }
                None
            }
            Step::Concentration { form, .. } => {
                let event = form.handle_key(key);
                let given = form.value(0).trim().to_string();
                match event {
                    FormEvent::Cancel => {
                        self.step = self.target_step();
                        None
                    }
                    FormEvent::Handled => None,
                    FormEvent::Submit => {
                        let approval = ConcentrationApproval {
                            confirm_holder: Some(given),
                            approvers: vec![],
                        };
                        match self.check_concentration(&approval) {
                            Ok(()) => {
                                self.approval = approval;
                                self.step = Step::Passphrase { form: pass_form() };
                            }
                            Err(e) => {
                                if let Step::Concentration { form, .. } = &mut self.step {
                                    form.refuse(0, Report::for_console(&e));
                                }
                            }
                        }
                        None
                    }
                }
            }
            Step::Approvers { .. } => match self.approvers.handle_key(key) {
                ApproversEvent::None => None,
                ApproversEvent::Check(action) => Some(action),
                ApproversEvent::Back => {
                    self.step = self.target_step();
                    None
                }
                ApproversEvent::Done => {
                    let approval = ConcentrationApproval {
                        confirm_holder: None,
                        approvers: self.approvers.partition().0,
                    };
                    match self.check_concentration(&approval) {
                        Ok(()) => {
                            self.approval = approval;
                            self.step = Step::Passphrase { form: pass_form() };
                        }
                        Err(e) => self.approvers.set_error(Report::for_console(&e)),
                    }
                    None
                }
            },
            Step::Passphrase { form } => match form.handle_key(key) {
                FormEvent::Cancel => {
                    // Back to the approvers (kept) when there was an
                    // override; else to the target.
                    self.step = match self.verdict() {
                        verdict @ Concentration::ReachesThreshold { .. } => {
                            Step::Approvers { verdict }
                        }
                        _ => self.target_step(),
                    };
                    None
                }
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let passphrase = SecretString::from(form.value(0));
                    self.step = Step::Working;
                    let (_, authenticated) = self.approvers.partition();
                    Some(Action::StartRewrap(
                        Box::new(RewrapRequest {
                            shard: self.start.shard.clone(),
                            identity: PathBuf::from(&self.identity),
                            passphrase,
                            to: self.to.clone(),
                            name: self.name.clone(),
                            out: None,
                            kind: self.start.kind,
                            accept_multiple_recipients: self.accept_multiple,
                            concentration: self.approval.clone(),
                        }),
                        authenticated,
                    ))
                }
            },
            Step::Working => None,
            Step::AcceptMultiple(_) => match key.code {
                // Accepted: the passphrase is asked again (it was dropped
                // with the refused request) and the rewrap records it.
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    self.accept_multiple = true;
                    self.step = Step::Passphrase { form: pass_form() };
                    None
                }
                KeyCode::Esc | KeyCode::Char('n') => {
                    self.step = self.identity_step(None);
                    None
                }
                _ => None,
            },
            Step::Done(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed(_) => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    // Back to the first step, everything typed kept.
                    self.step = self.identity_step(None);
                    None
                }
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Step::Approvers { .. }, WorkerMsg::Finished(result)) = (&self.step, msg) {
            self.approvers.on_checked(result);
            return None;
        }
        if let (Step::Working, WorkerMsg::Finished(result)) = (&self.step, msg) {
            self.step = match result {
                Ok(JobResult::ShardRewrapped(o)) => Step::Done(o.clone()),
                // Back to the step that fixes it, the error under its field.
                Ok(JobResult::RewrapRefused { fix, report }) => match fix {
                    RewrapFix::Passphrase => {
                        let mut form = pass_form();
                        form.refuse(0, report.clone());
                        Step::Passphrase { form }
                    }
                    RewrapFix::Identity => self.identity_step(Some(report.clone())),
                    RewrapFix::MultipleRecipients => Step::AcceptMultiple(report.clone()),
                },
                Err(report) => Step::Failed(report.clone()),
                Ok(_) => return None,
            };
        }
        None
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Identity { form }
            | Step::Target { form }
            | Step::Concentration { form, .. }
            | Step::Passphrase { form } => {
                form.paste(text);
            }
            Step::Approvers { .. } => self.approvers.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        matches!(
            self.step,
            Step::Identity { .. }
                | Step::Target { .. }
                | Step::Concentration { .. }
                | Step::Approvers { .. }
                | Step::Passphrase { .. }
        )
    }

    fn holds_input(&self) -> bool {
        !matches!(self.step, Step::Done(_))
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let node = self.node();
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
            Step::Identity { form } => lines.extend(form.lines()),
            Step::Target { form } => {
                lines.push(Line::from(format!("Identity: {}", self.identity)));
                lines.push(Line::from(""));
                lines.extend(form.lines());
            }
            Step::Concentration { verdict, .. } | Step::Approvers { verdict } => {
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
                            "{} would hold {holds} shards of key {}, which needs {threshold}: they could rebuild it alone. Refused unless two different approvers override{}; they are recorded in the audit log.",
                            self.name,
                            f.key_id,
                            if self.approvers_must_authenticate() {
                                ", each opening their own identity"
                            } else {
                                ""
                            }
                        ),
                    ),
                    Concentration::Spread => ("", String::new()),
                };
                lines.push(Line::from(Span::styled(format!(" {head} "), warn)));
                lines.push(Line::from(body));
                lines.push(Line::from(""));
                match &self.step {
                    Step::Concentration { form, .. } => lines.extend(form.lines()),
                    _ => lines.extend(self.approvers.lines(chrome.tick)),
                }
            }
            Step::Passphrase { form } => {
                lines.push(Line::from(format!("Identity: {}", self.identity)));
                lines.push(Line::from(format!(
                    "To:       {} — {} ({})",
                    self.name,
                    self.to,
                    identity::fingerprint(&self.to)
                )));
                lines.push(Line::from(""));
                lines.extend(form.lines());
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
            Step::AcceptMultiple(report) => {
                lines.extend(widgets::report_lines(report));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    strings::REWRAP_ACCEPT_MULTIPLE,
                    bold,
                )));
            }
            Step::Failed(report) => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Identity { .. } => vec![
                ("Enter", "next"),
                ("Tab", "complete path"),
                ("Esc", "cancel"),
            ],
            Step::Target { .. } => {
                vec![("Tab/↓", "next field"), ("Enter", "next"), ("Esc", "back")]
            }
            Step::Concentration { .. } => vec![("Enter", "confirm"), ("Esc", "back")],
            Step::Approvers { .. } => Approvers::commands(),
            Step::Passphrase { .. } => vec![("Enter", "rewrap"), ("Esc", "back")],
            Step::Working => vec![],
            Step::AcceptMultiple(_) => vec![("y", "accept (audited)"), ("Esc", "back")],
            Step::Done(_) => vec![("Enter", "back to shards")],
            Step::Failed(_) => vec![("Enter", "try again"), ("Esc", "back")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working)
            || (matches!(self.step, Step::Approvers { .. }) && self.approvers.checking())
    }
}
