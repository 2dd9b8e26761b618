//! The rotation flow, started on a custodian row of the home screen (`o`):
//! the custodian's current passphrase, checked on a worker before anything
//! else is asked (CLARIFICATIONS 4) → the new identity's passphrase → each
//! guardian's new passphrase for the re-split → a confirmation listing
//! exactly what will change → the rotation (one transaction) on a worker
//! with a spinner → the result, with the copies outside the workspace that
//! someone must destroy.
//!
//! Everything the flow shows before the transaction comes from
//! [`rotate::plan`], which a worker makes when the screen opens (it hashes
//! every share file, so never on the UI thread; the screen says "working…"
//! until then); the transaction itself is the core's [`rotate::rotate`],
//! as on the command line.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use super::guardians_split::{NewPassEntry, step_bar};
use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{CheckedIdentity, JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::guardians;
use custodian_core::lifecycle::rotate::{RotationOutcome, RotationPlan};

/// What the rotation job is given: the plan and every passphrase, all
/// collected (and the old one checked) before it starts.
pub struct RotationJob {
    /// The plan the confirmation showed.
    pub plan: RotationPlan,
    /// The custodian's current passphrase (already checked once).
    pub old_passphrase: SecretString,
    /// The old identity when the check opened it (no hardware token).
    pub old_opened: CheckedIdentity,
    /// The new identity's passphrase.
    pub new_passphrase: SecretString,
    /// Guardians and their new passphrases, in share order.
    pub guardians: Vec<(String, SecretString)>,
    /// The re-split's threshold.
    pub threshold: u8,
    /// A hardware token to enrol for the new identity (its age plugin
    /// recipient); None keeps the registered token, if any.
    pub token: Option<String>,
}

impl std::fmt::Debug for RotationJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotationJob")
            .field("custodian", &self.plan.custodian.name)
            .field("guardians", &self.guardians.len())
            .finish_non_exhaustive()
    }
}

enum Step {
    /// The plan is being made on a worker.
    Planning,
    /// The plan could not be made (no identity file, a shard that is not
    /// what the registry says…): nothing can be asked.
    Unplannable(Report),
    OldPass(Form),
    Checking,
    NewPass(NewPassEntry),
    Guardian(usize, NewPassEntry),
    Confirm,
    /// Enrolling a hardware token for the new identity (from the
    /// confirmation, `t`).
    Token(Form),
    Working,
    Done(Box<RotationOutcome>),
    Failed(Report),
}

/// The rotation flow.
pub struct RotateScreen {
    name: String,
    plan: Option<RotationPlan>,
    step: Step,
    old_pass: Option<SecretString>,
    /// What the check of `old_pass` opened, for the rotation.
    old_opened: CheckedIdentity,
    new_pass: Option<SecretString>,
    guardian_passes: Vec<(String, SecretString)>,
    /// A new token to enrol (its recipient), chosen at the confirmation.
    token: Option<String>,
    /// Where Enter goes from the result (the screen under this one).
    back_to: &'static str,
}

impl std::fmt::Debug for RotateScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotateScreen")
            .field("custodian", &self.name)
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

fn token_form(value: &str) -> Form {
    Form::new(vec![FormField::plain(
        strings::ROTATE_TOKEN_PROMPT,
        strings::ROTATE_TOKEN_HINT,
        value,
    )])
}

fn old_pass_form() -> Form {
    Form::new(vec![FormField::secret(
        strings::ROTATE_OLD_PASS,
        strings::ROTATE_OLD_PASS_HINT,
    )])
}

impl RotateScreen {
    /// The flow for custodian `name`, from the plan (or why there is none).
    pub fn new(name: &str, plan: Result<RotationPlan, Report>) -> Self {
        let mut screen = Self::planning(name);
        screen.set_plan(plan);
        screen
    }

    /// The flow for custodian `name` while its plan is made on a worker
    /// ([`Action::OpenRotate`]); the plan arrives as
    /// [`JobResult::RotationPlanned`] (or the job's error).
    pub fn planning(name: &str) -> Self {
        RotateScreen {
            name: name.to_string(),
            plan: None,
            step: Step::Planning,
            old_pass: None,
            old_opened: None,
            new_pass: None,
            guardian_passes: Vec::new(),
            token: None,
            back_to: strings::BACK_TO_HOME,
        }
    }

    /// Says, on the result, that Enter goes back to `back_to` (the screen
    /// that opened the flow: home, or a scenario step).
    pub fn returning_to(mut self, back_to: &'static str) -> Self {
        self.back_to = back_to;
        self
    }

    fn set_plan(&mut self, plan: Result<RotationPlan, Report>) {
        match plan {
            Ok(p) => {
                self.plan = Some(p);
                self.step = Step::OldPass(old_pass_form());
            }
            Err(r) => {
                self.plan = None;
                self.step = Step::Unplannable(r);
            }
        }
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Planning => "planning",
            Step::Unplannable(_) => "unplannable",
            Step::OldPass(_) => "old-passphrase",
            Step::Checking => "checking",
            Step::NewPass(_) => "new-passphrase",
            Step::Guardian(..) => "guardian",
            Step::Confirm => "confirm",
            Step::Token(_) => "token",
            Step::Working => "working",
            Step::Done(_) => "done",
            Step::Failed(_) => "failed",
        }
    }

    fn guardians(&self) -> &[String] {
        self.plan.as_ref().map(|p| &p.guardians[..]).unwrap_or(&[])
    }

    fn threshold(&self) -> u8 {
        match self.plan.as_ref().map(|p| p.threshold) {
            Some(t) if t > 0 => t,
            _ => guardians::DEFAULT_THRESHOLD,
        }
    }

    fn step_index(&self) -> usize {
        match self.step {
            Step::Planning | Step::Unplannable(_) | Step::OldPass(_) | Step::Checking => 0,
            Step::NewPass(_) => 1,
            Step::Guardian(..) => 2,
            Step::Confirm | Step::Token(_) => 3,
            Step::Working | Step::Done(_) | Step::Failed(_) => 4,
        }
    }

    fn after_new_pass(&mut self) -> Step {
        if self.guardians().is_empty() {
            Step::Confirm
        } else {
            Step::Guardian(0, NewPassEntry::default())
        }
    }

    fn start(&mut self) -> Option<Action> {
        let plan = self.plan.clone()?;
        let old_passphrase = self.old_pass.clone()?;
        let new_passphrase = self.new_pass.clone()?;
        let threshold = self.threshold();
        self.step = Step::Working;
        Some(Action::StartRotation(Box::new(RotationJob {
            plan,
            old_passphrase,
            old_opened: self.old_opened.take(),
            new_passphrase,
            guardians: std::mem::take(&mut self.guardian_passes),
            threshold,
            token: self.token.clone(),
        })))
    }

    /// What the rotation will change, as the confirmation lists it.
    fn change_lines(&self, plan: &RotationPlan) -> Vec<Line<'static>> {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut lines = vec![Line::from(Span::styled(
            format!(
                "{} ({}) will change, in one transaction:",
                strings::ROTATE_CONFIRM_HEAD,
                plan.custodian.name
            ),
            bold,
        ))];
        lines.push(Line::from(format!(
            "  new identity for {}; rotation due moves 90 days on",
            plan.custodian.name
        )));
        if plan.shards.is_empty() {
            lines.push(Line::from("  shards to rewrap: none registered"));
        } else {
            lines.push(Line::from(format!(
                "  shards to rewrap to the new recipient: {}",
                plan.shards.len()
            )));
            for h in &plan.shards {
                lines.push(Line::from(format!(
                    "    {} #{} · {}",
                    h.file.key_id,
                    h.file.index,
                    file_name(&h.path)
                )));
            }
        }
        if plan.guardians.is_empty() {
            lines.push(Line::from(
                "  guardians: the key was never split; split the new one afterwards (g)",
            ));
        } else {
            lines.push(Line::from(format!(
                "  guardians re-split {}-of-{}: {}",
                self.threshold(),
                plan.guardians.len(),
                plan.guardians.join(", ")
            )));
        }
        let registered = plan.custodian.token.as_deref();
        lines.push(Line::from(match (&self.token, registered) {
            (Some(t), _) => format!("  hardware token: enrol {t} (the new identity needs it)"),
            (None, Some(t)) => format!("  hardware token: kept, {t} (the new identity needs it)"),
            (None, None) => "  hardware token: none (passphrase only; t enrols one)".to_string(),
        }));
        lines.extend(retirement_lines(
            &plan.current_splits,
            &plan.identity_path,
            plan.shards.len(),
            plan.share_files.len(),
            &plan.missing_shards,
        ));
        lines
    }
}

pub(super) fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// The confirmation lines rotation and retirement share: guardian sets
/// superseded, the files moving to `retired/`, and registered shards not
/// where they were registered. Every count comes from the plan, worked out
/// once when it was made: drawing never looks at the disk.
pub(super) fn retirement_lines(
    current_splits: &[custodian_core::guardians::SplitRecord],
    identity_path: &std::path::Path,
    shard_count: usize,
    shares: usize,
    missing_shards: &[std::path::PathBuf],
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for s in current_splits {
        lines.push(Line::from(format!(
            "  guardian set {} superseded: its shares are refused from then on",
            s.set_id
        )));
    }
    lines.push(Line::from(format!(
        "  moving to retired/: the identity file {}, {} shard file(s), {} share file(s)",
        file_name(identity_path),
        shard_count,
        shares
    )));
    for m in missing_shards {
        lines.push(Line::from(format!(
            "  not where registered (listed to destroy by hand): {}",
            m.display()
        )));
    }
    lines
}

impl Screen for RotateScreen {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        format!("{} — {}", strings::ROTATE_TITLE, self.name)
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Unplannable(_) => match key.code {
                KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                _ => None,
            },
            Step::OldPass(form) => match form.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let pass = SecretString::from(form.value(0));
                    let plan = self.plan.clone()?;
                    self.old_pass = Some(pass.clone());
                    self.step = Step::Checking;
                    Some(Action::CheckRotatePassphrase {
                        plan: Box::new(plan),
                        passphrase: pass,
                    })
                }
            },
            Step::Checking | Step::Working => None,
            // Esc leaves while the plan is made (nothing typed yet); the
            // late plan goes to no screen.
            Step::Planning => (key.code == KeyCode::Esc).then_some(Action::Back),
            Step::NewPass(entry) => {
                if key.code == KeyCode::Esc {
                    if !entry.esc() {
                        return None;
                    }
                    self.old_pass = None;
                    self.old_opened = None;
                    self.step = Step::OldPass(old_pass_form());
                    return None;
                }
                if let Some(p) = entry.handle_key(key) {
                    self.new_pass = Some(p);
                    self.step = self.after_new_pass();
                }
                None
            }
            Step::Guardian(i, entry) => {
                let i = *i;
                if key.code == KeyCode::Esc {
                    if !entry.esc() {
                        return None;
                    }
                    self.guardian_passes.clear();
                    self.step = Step::NewPass(NewPassEntry::default());
                    return None;
                }
                if let Some(p) = entry.handle_key(key) {
                    let name = self.guardians().get(i).cloned().unwrap_or_default();
                    self.guardian_passes.push((name, p));
                    self.step = if i + 1 < self.guardians().len() {
                        Step::Guardian(i + 1, NewPassEntry::default())
                    } else {
                        Step::Confirm
                    };
                }
                None
            }
            Step::Token(form) => match form.handle_key(key) {
                FormEvent::Cancel => {
                    self.step = Step::Confirm;
                    None
                }
                FormEvent::Handled => None,
                FormEvent::Submit => {
                    if let Some(token) = super::new_identity::check_token_field(form, 0) {
                        self.token = token;
                        self.step = Step::Confirm;
                    }
                    None
                }
            },
            Step::Confirm => match key.code {
                KeyCode::Enter => self.start(),
                KeyCode::Char('t') => {
                    self.step = Step::Token(token_form(self.token.as_deref().unwrap_or("")));
                    None
                }
                KeyCode::Esc => {
                    // Every passphrase is asked again: nothing typed is kept
                    // longer than the flow needs it.
                    self.guardian_passes.clear();
                    self.new_pass = None;
                    self.old_pass = None;
                    self.old_opened = None;
                    self.step = Step::OldPass(old_pass_form());
                    None
                }
                _ => None,
            },
            Step::Done(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        match (&mut self.step, result) {
            (Step::Planning, Ok(JobResult::RotationPlanned(plan))) => {
                self.set_plan(Ok((**plan).clone()));
                None
            }
            (Step::Planning, Err(report)) => {
                self.set_plan(Err(report.clone()));
                None
            }
            (Step::Checking, Ok(JobResult::RotatePassphraseChecked(opened))) => {
                self.old_opened = opened.clone();
                self.step = Step::NewPass(NewPassEntry::default());
                None
            }
            (Step::Checking, Err(report)) => {
                // Refused in place: the field is cleared, the error under it.
                self.old_pass = None;
                self.old_opened = None;
                let mut form = old_pass_form();
                form.refuse(0, report.clone());
                self.step = Step::OldPass(form);
                None
            }
            (Step::Working, Ok(JobResult::Rotated(o))) => {
                self.old_pass = None;
                self.old_opened = None;
                self.new_pass = None;
                self.step = Step::Done(o.clone());
                Some(Action::RefreshHome)
            }
            (Step::Working, Err(report)) => {
                self.old_pass = None;
                self.old_opened = None;
                self.new_pass = None;
                self.step = Step::Failed(report.clone());
                Some(Action::RefreshHome)
            }
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines = vec![
            step_bar(&strings::ROTATE_STEPS, self.step_index()),
            Line::from(""),
        ];
        if let Some(plan) = &self.plan {
            lines.push(Line::from(format!(
                "{} ({}) · {} shard(s) · guardians: {}",
                plan.custodian.name,
                plan.custodian.fingerprint,
                plan.shards.len(),
                if plan.guardians.is_empty() {
                    "none".to_string()
                } else {
                    format!("{}-of-{}", self.threshold(), plan.guardians.len())
                }
            )));
            lines.push(Line::from(""));
        }
        match &self.step {
            Step::Planning => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::ROTATE_PLANNING
            ))),
            Step::Unplannable(r) => lines.extend(widgets::failure_lines(r)),
            Step::OldPass(form) => lines.extend(form.lines()),
            Step::Checking => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::ROTATE_CHECKING
            ))),
            Step::NewPass(entry) => {
                lines.push(Line::from(format!(
                    "{} {}",
                    strings::ROTATE_NEW_PASS_FOR,
                    self.name
                )));
                lines.extend(entry.lines());
            }
            Step::Guardian(i, entry) => {
                let name = self.guardians().get(*i).cloned().unwrap_or_default();
                lines.push(Line::from(format!(
                    "Guardian {} of {}: {name} — choose a new passphrase for your share of the new key",
                    i + 1,
                    self.guardians().len()
                )));
                lines.extend(entry.lines());
            }
            Step::Token(form) => {
                lines.push(Line::from(strings::ROTATE_TOKEN_HEAD));
                lines.push(Line::from(""));
                lines.extend(form.lines());
            }
            Step::Confirm => {
                if let Some(plan) = &self.plan {
                    lines.extend(self.change_lines(plan));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    strings::ROTATE_CONFIRM_HINT,
                    widgets::hint(),
                )));
            }
            Step::Working => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::ROTATE_WORKING
            ))),
            Step::Done(o) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ rotated {}", o.custodian),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!(
                    "New recipient: {} ({})",
                    o.new_recipient, o.new_fingerprint
                )));
                lines.push(Line::from(format!(
                    "Identity: {} · rotation due {}",
                    o.identity_file.display(),
                    o.rotation_due
                )));
                lines.push(Line::from(format!(
                    "Shards rewrapped and verified: {}",
                    o.shards.len()
                )));
                if let Some(s) = &o.split {
                    lines.push(Line::from(format!(
                        "Guardians: new set {} ({}-of-{}); superseded: {}",
                        s.set_id,
                        s.threshold,
                        s.total,
                        o.superseded_sets.join(", ")
                    )));
                }
                lines.push(Line::from(format!(
                    "Moved to retired/: {} file(s)",
                    o.retired_files.iter().filter(|r| r.to.is_some()).count()
                )));
                if o.destroy_elsewhere.is_empty() {
                    lines.push(Line::from(strings::ROTATE_NOTHING_ELSEWHERE));
                } else {
                    let warn = Style::default()
                        .fg(Color::Black)
                        .bg(Color::Yellow)
                        .add_modifier(Modifier::BOLD);
                    lines.push(Line::from(Span::styled(
                        format!(" {} ", strings::ROTATE_DESTROY_HEAD),
                        warn,
                    )));
                    for p in &o.destroy_elsewhere {
                        lines.push(Line::from(format!("  {}", p.display())));
                    }
                }
                lines.push(Line::from(strings::ROTATE_COPIES_HINT));
            }
            Step::Failed(r) => lines.extend(widgets::failure_lines(r)),
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Unplannable(_) | Step::Failed(_) => vec![("Enter/Esc", "back")],
            Step::OldPass(_) => vec![("Enter", "check"), ("Esc", "cancel")],
            Step::NewPass(_) | Step::Guardian(..) => vec![
                ("Tab", "switch field"),
                ("Ctrl-G", "generate"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Step::Confirm => vec![
                ("Enter", "rotate"),
                ("t", "hardware token"),
                ("Esc", "start over"),
            ],
            Step::Token(_) => vec![("Enter", "use"), ("Esc", "back")],
            Step::Planning => vec![("Esc", "cancel")],
            Step::Checking | Step::Working => vec![],
            Step::Done(_) => vec![("Enter", self.back_to)],
        }
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Planning | Step::Checking | Step::Working)
    }
}
