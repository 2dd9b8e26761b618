//! The one approver step, shared by every wizard that asks people to
//! approve: recovery, the rewrap/restore concentration override and
//! retirement's override.
//!
//! Each approver types their name and, when they are a registered
//! custodian, their own identity passphrase (masked, zeroized). The
//! identity is opened on a worker ([`Action::CheckRecoveryApprover`]); a
//! refusal sits under the passphrase field and names whose passphrase is
//! wrong, with the name kept. An empty passphrase is a typed name (someone
//! without an identity), recorded as typed; under the workspace's
//! "authenticated approvals" policy Enter on a name goes on to the
//! passphrase, and continuing needs enough opened identities
//! ([`approvals::check`]), so typed names are only possible where the
//! policy allows them. Enter on an empty form continues; Backspace (or
//! Ctrl-H, which some terminals send for it) on an empty form takes back
//! the last approver, saying so; Esc goes back a step.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::Line;
use secrecy::SecretString;

use super::form::{Form, FormField};
use super::screens::Action;
use super::strings;
use super::widgets;
use super::worker::JobResult;
use custodian_core::approvals::{self, Approval, ApprovalError, ApprovalPolicy};
use custodian_core::error::Report;
use custodian_core::identity;

/// Form fields.
const A_NAME: usize = 0;
const A_PASS: usize = 1;

/// What a key did to the approver step.
#[derive(Debug)]
pub enum ApproversEvent {
    /// Nothing for the wizard to do.
    None,
    /// Esc: the wizard goes back a step (the approvers are kept).
    Back,
    /// Enter on an empty form with enough approvers: the wizard moves on.
    Done,
    /// An approver's identity is to be opened on a worker.
    Check(Action),
}

/// The approver step: its form, the approvals gathered so far and the
/// rule for continuing.
pub struct Approvers {
    form: Form,
    approvals: Vec<Approval>,
    checking: bool,
    policy: ApprovalPolicy,
    min: usize,
    too_few: fn(usize) -> Report,
}

impl std::fmt::Debug for Approvers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvers")
            .field("approvers", &self.summary())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Approvers {
    /// An empty step under `policy`: at least `min` different people, with
    /// `too_few(n)` the error when only `n` were named; `hint` is shown
    /// under the name field.
    pub fn new(
        policy: ApprovalPolicy,
        min: usize,
        hint: &'static str,
        too_few: fn(usize) -> Report,
    ) -> Self {
        Approvers {
            form: Form::new(vec![
                FormField::plain(strings::RECOVERY_APPROVER_PROMPT, hint, ""),
                FormField::secret(
                    strings::RECOVERY_APPROVER_PASS_PROMPT,
                    strings::RECOVERY_APPROVER_PASS_HINT,
                ),
            ]),
            approvals: Vec::new(),
            checking: false,
            policy,
            min,
            too_few,
        }
    }

    /// The approvals gathered, in order.
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }

    /// Forgets every approver and clears the form.
    pub fn reset(&mut self) {
        self.approvals.clear();
        self.form.clear_all();
        self.form.focus_on(A_NAME);
    }

    /// Drops the approval given by `name` (case-insensitive) and shows
    /// `report` under the name field: a rule the core applies as the step
    /// ends (self-approval) keeps the wizard here with that one removed.
    pub fn refuse(&mut self, name: &str, report: Report) {
        self.approvals
            .retain(|a| !a.name.eq_ignore_ascii_case(name));
        self.set_error(report);
    }

    /// An identity is being opened on a worker.
    pub fn checking(&self) -> bool {
        self.checking
    }

    /// True when leaving would lose something typed or gathered.
    pub fn holds_state(&self) -> bool {
        !self.approvals.is_empty() || self.form.holds_input()
    }

    /// Shows `report` under the name field (a failure the wizard sends back here).
    pub fn set_error(&mut self, report: Report) {
        self.form.focus_on(A_NAME);
        self.form.set_error(A_NAME, report);
    }

    /// A paste goes into the focused field.
    pub fn paste(&mut self, text: &str) {
        self.form.paste(text);
    }

    /// "Ana (identity opened), Legal Two (typed)", or "none yet".
    pub fn summary(&self) -> String {
        if self.approvals.is_empty() {
            return "none yet".into();
        }
        self.approvals
            .iter()
            .map(|a| {
                if a.is_authenticated() {
                    format!("{} (identity opened)", a.name)
                } else {
                    format!("{} (typed)", a.name)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A key on the step.
    pub fn handle_key(&mut self, key: KeyEvent) -> ApproversEvent {
        if self.checking {
            return ApproversEvent::None;
        }
        let ctrl_h =
            key.code == KeyCode::Char('h') && key.modifiers.contains(KeyModifiers::CONTROL);
        let form = &mut self.form;
        match key.code {
            KeyCode::Esc => return ApproversEvent::Back,
            KeyCode::Enter
                if form.value(A_NAME).trim().is_empty() && form.value(A_PASS).is_empty() =>
            {
                return self.finish();
            }
            KeyCode::Enter => return self.submit(),
            KeyCode::Backspace if form.is_empty() => self.remove_last(),
            _ if ctrl_h && form.is_empty() => self.remove_last(),
            _ => {
                form.handle_key(key);
            }
        }
        ApproversEvent::None
    }

    /// Enter on an empty form: enough different people, and the policy met.
    fn finish(&mut self) -> ApproversEvent {
        let given = self.approvals.len();
        let refused = if given < self.min {
            Some((self.too_few)(given))
        } else {
            approvals::check(self.policy, &self.approvals)
                .err()
                .map(|e| Report::for_console(&e))
        };
        match refused {
            Some(r) => {
                self.set_error(r);
                ApproversEvent::None
            }
            None => ApproversEvent::Done,
        }
    }

    /// Enter with a name: to the passphrase, a typed name, or a check.
    fn submit(&mut self) -> ApproversEvent {
        let form = &mut self.form;
        let name = form.value(A_NAME).trim().to_string();
        if let Err(e) = identity::validate_name(&name) {
            form.focus_on(A_NAME);
            form.set_error(A_NAME, Report::for_console(&e));
        } else if self
            .approvals
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(&name))
        {
            // Cleared, so the next name is not typed onto this one.
            self.same_person(&name);
        } else if form.focus() == A_NAME
            && self.policy == ApprovalPolicy::Authenticated
            && form.value(A_PASS).is_empty()
        {
            form.focus_on(A_PASS);
        } else if form.value(A_PASS).is_empty() {
            // A typed name: someone without an identity (recorded as
            // typed; the workspace policy decides if it counts).
            self.approvals.push(Approval::typed(&name));
            form.clear_all();
            form.focus_on(A_NAME);
        } else {
            self.checking = true;
            return ApproversEvent::Check(Action::CheckRecoveryApprover {
                name,
                passphrase: SecretString::from(form.value(A_PASS)),
            });
        }
        ApproversEvent::None
    }

    fn same_person(&mut self, name: &str) {
        self.form.clear_all();
        self.set_error(Report::for_console(&ApprovalError::SamePerson(
            name.to_string(),
        )));
    }

    fn remove_last(&mut self) {
        if let Some(gone) = self.approvals.pop() {
            self.set_error(Report {
                message: format!("{} is no longer an approver", gone.name),
                causes: Vec::new(),
                remedy: Some("type the name again to add them back".into()),
            });
        }
    }

    /// The worker's answer to [`ApproversEvent::Check`]; false when the
    /// step was not waiting for one or the result is another job's (the
    /// step keeps waiting for its own).
    pub fn on_checked(&mut self, result: &Result<JobResult, Report>) -> bool {
        if !self.checking {
            return false;
        }
        match result {
            Ok(JobResult::RecoveryApproverChecked(approval)) => {
                self.checking = false;
                if self
                    .approvals
                    .iter()
                    .any(|a| a.recipient.is_some() && a.recipient == approval.recipient)
                {
                    // The same identity under another name.
                    self.same_person(&approval.name);
                } else {
                    self.approvals.push(approval.clone());
                    self.form.clear_all();
                    self.form.focus_on(A_NAME);
                }
            }
            Ok(JobResult::RecoveryApproverRefused(report)) | Err(report) => {
                self.checking = false;
                self.form.refuse(A_PASS, report.clone());
            }
            Ok(_) => return false,
        }
        true
    }

    /// The approvals split as the core records them: the typed names, and
    /// the approvals whose identity was opened, each in the order given.
    pub fn partition(&self) -> (Vec<String>, Vec<Approval>) {
        partition(&self.approvals)
    }

    /// "Approvers: …", the form, and the spinner while an identity opens.
    pub fn lines(&self, tick: u64) -> Vec<Line<'static>> {
        let mut lines = vec![Line::from(format!("Approvers: {}", self.summary()))];
        lines.extend(self.form.lines());
        if self.checking {
            lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(tick),
                strings::RECOVERY_APPROVER_CHECKING
            )));
        }
        lines
    }

    /// The footer's keys on this step.
    pub fn commands() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Enter", "add / continue"),
            ("Backspace", "drop last approver"),
            ("Esc", "back"),
        ]
    }
}

/// [`Approvers::partition`] of approvals already taken from the step (a
/// job's).
pub fn partition(approvals: &[Approval]) -> (Vec<String>, Vec<Approval>) {
    let (authenticated, typed): (Vec<_>, Vec<_>) = approvals
        .iter()
        .cloned()
        .partition(Approval::is_authenticated);
    (typed.into_iter().map(|a| a.name).collect(), authenticated)
}
