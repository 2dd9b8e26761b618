//! The recovery wizard (scenario 5): warning → approvers → shards with
//! their identities and passphrases → one output → confirmation → work on a
//! worker thread → the written output, or the one-time display.
//!
//! The output step and the one-time display are the shared components of
//! [`crate::tui::output`]: the operator types the key id to confirm, then
//! the key is shown with a 60-second countdown; Enter or Esc clears it
//! early. Clearing drops the key (zeroized with its last copy) and asks the
//! app to record the clearing in the audit log. Nothing here writes the key
//! anywhere.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{Action, Chrome, Screen};
use crate::tui::approvers::{Approvers, ApproversEvent};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::output::DisplayEnd;
use crate::tui::output::{
    self, OutputChoice, OutputEvent, OutputWords, SecretPages, ShowOnce, ShowOnceWords,
};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::approvals::{Approval, ApprovalPolicy};
use custodian_core::error::Report;
use custodian_core::recovery::{
    RecoveredKey, RecoveryError, RecoveryOutcome, RecoveryOutput, ShardSource, SourceField,
};

/// Everything a recovery run needs, handed to the worker.
pub struct RecoveryJob {
    /// Shards and identity files, in order.
    pub sources: Vec<ShardSource>,
    /// The approvers.
    pub approvers: Vec<String>,
    /// Their approvals, in the same order: identity opened, or typed.
    pub approvals: Vec<Approval>,
    /// The output.
    pub output: RecoveryOutput,
    /// One passphrase per source.
    pub passphrases: Vec<SecretString>,
}

/// Where a failed recovery goes back to, so the mistake is fixed there
/// with everything else kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryFix {
    /// The approvers.
    Approvers,
    /// The shard list as a whole (too few, or unpaired).
    Shards,
    /// One shard: it is taken off the list and put back in the fields,
    /// the error under the one at fault.
    Shard {
        /// The shard file (for an identity problem, the identity file).
        file: std::path::PathBuf,
        /// The field at fault.
        field: SourceField,
    },
    /// The output: field 0 (key or recipient) or 1 (file).
    Output {
        /// The field at fault.
        field: usize,
    },
    /// Nothing the wizard can point at: back to the confirmation.
    Confirm,
}

impl RecoveryFix {
    /// Where `e` is fixed.
    pub fn of(e: &RecoveryError, output: &RecoveryOutput) -> RecoveryFix {
        use RecoveryError as E;
        let shard = |file: &std::path::PathBuf, field| RecoveryFix::Shard {
            file: file.clone(),
            field,
        };
        match e {
            E::TooFewApprovers { .. } | E::DuplicateApprover(_) | E::BadApprover(_) => {
                RecoveryFix::Approvers
            }
            E::UnpairedInputs { .. } | E::BelowThreshold { .. } | E::VerificationFailed { .. } => {
                RecoveryFix::Shards
            }
            E::OtherKey { file, .. }
            | E::RootKeyMismatch { file, .. }
            | E::ThresholdMismatch { file, .. }
            | E::BadShard { file, .. } => shard(file, SourceField::Shard),
            E::DuplicateIndex { second, .. } => shard(second, SourceField::Shard),
            E::Shard { file, source } => match source {
                custodian_core::shard::ShardError::WrongIdentity { .. }
                | custodian_core::shard::ShardError::Identity(_) => {
                    shard(file, SourceField::Identity)
                }
                _ => shard(file, SourceField::Shard),
            },
            E::IdentityPassphrase { file, .. } => shard(file, SourceField::Passphrase),
            E::IdentityFile { file, .. } => shard(file, SourceField::Identity),
            E::HsmKey { .. } | E::Recipient(_) | E::SecretInput(_) => {
                RecoveryFix::Output { field: 0 }
            }
            E::File(custodian_core::fsutil::FsError::AlreadyExists(p))
                if out_file(output) == Some(p.as_path()) =>
            {
                RecoveryFix::Output { field: 1 }
            }
            _ => RecoveryFix::Confirm,
        }
    }
}

/// The file an output writes, if it writes one.
fn out_file(o: &RecoveryOutput) -> Option<&std::path::Path> {
    match o {
        RecoveryOutput::Hsm { out, .. } | RecoveryOutput::Age { out, .. } => Some(out),
        _ => None,
    }
}

enum Step {
    Warning,
    Approvers,
    Shards,
    Output,
    Confirm,
    Working,
    Written(Box<RecoveryOutcome>),
    /// The one-time display of `key_id`, recovered by operation `op`.
    Show {
        key_id: String,
        op: String,
        show: ShowOnce,
    },
    Cleared {
        shown: bool,
    },
    Failed {
        report: Report,
        fix: RecoveryFix,
    },
}

/// Shard form fields.
const F_SHARD: usize = 0;
const F_IDENTITY: usize = 1;
const F_PASS: usize = 2;

/// The recovery wizard. Every step's form lives as long as the wizard, so
/// going back a step (Esc) and forward again loses nothing.
pub struct RecoveryWizard {
    /// The approvers, in order: their identity opened, or a typed name.
    approvers: Approvers,
    sources: Vec<ShardSource>,
    passphrases: Vec<SecretString>,
    output: Option<RecoveryOutput>,
    shard_form: Form,
    output_choice: OutputChoice,
    /// A shard's inputs are being checked on a worker.
    checking: bool,
    /// Esc on the warning step with work held: the next Esc leaves.
    leave_armed: bool,
    step: Step,
}

impl std::fmt::Debug for RecoveryWizard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryWizard")
            .field("step", &self.step_name())
            .field("approvers", &self.approver_names())
            .finish_non_exhaustive()
    }
}

impl Default for RecoveryWizard {
    fn default() -> Self {
        Self::new()
    }
}

fn report(e: RecoveryError) -> Report {
    Report::for_console(&e)
}

fn too_few(given: usize) -> Report {
    report(RecoveryError::TooFewApprovers { given })
}

fn approvers_for(policy: ApprovalPolicy) -> Approvers {
    Approvers::new(
        policy,
        custodian_core::recovery::MIN_APPROVERS,
        strings::RECOVERY_APPROVER_HINT,
        too_few,
    )
}

fn shard_form() -> Form {
    Form::new(vec![
        FormField::path(strings::RECOVERY_SHARD_PROMPT, "", "", PathKind::Shard),
        FormField::path(
            strings::RECOVERY_IDENTITY_PROMPT,
            "",
            "",
            PathKind::Identity,
        ),
        FormField::secret(strings::RECOVERY_PASS_PROMPT, ""),
    ])
}

fn output_choice() -> OutputChoice {
    OutputChoice::new(OutputWords {
        hint: strings::RECOVERY_OUTPUT_HINT,
        screen: strings::RECOVERY_OUT_SCREEN,
        hsm_out: strings::RECOVERY_OUT_FILE,
        age_out: strings::RECOVERY_OUT_FILE,
    })
}

/// The one recovered key, as the one-time display's single page: the key
/// id on its border, the key in grouped hex between blank lines.
struct OneKey {
    key_id: String,
    key: RecoveredKey,
}

impl SecretPages for OneKey {
    fn count(&self) -> usize {
        1
    }

    fn title(&self, _page: usize) -> String {
        self.key_id.clone()
    }

    fn lines(&self, _page: usize, _width: usize) -> Vec<Zeroizing<String>> {
        let hex = self.key.grouped_hex();
        vec![
            Zeroizing::new(String::new()),
            Zeroizing::new(format!(" {}", hex.as_str())),
            Zeroizing::new(String::new()),
        ]
    }
}

/// The one-time display of `key` and how the operator confirms it.
fn show_once(key_id: &str, key: RecoveredKey) -> ShowOnce {
    ShowOnce::new(
        Box::new(OneKey {
            key_id: key_id.to_string(),
            key,
        }),
        ShowOnceWords {
            banner: format!("Key {key_id} recovered and verified against its root public key."),
            prompt: strings::RECOVERY_TYPE_KEY_ID,
            expected: key_id.to_string(),
            mismatch: "That is not the key id. Type it exactly, or Esc to discard the key.",
        },
    )
}

impl RecoveryWizard {
    /// A wizard at its warning step.
    pub fn new() -> Self {
        RecoveryWizard {
            approvers: approvers_for(ApprovalPolicy::Typed),
            sources: Vec::new(),
            passphrases: Vec::new(),
            output: None,
            shard_form: shard_form(),
            output_choice: output_choice(),
            checking: false,
            leave_armed: false,
            step: Step::Warning,
        }
    }

    /// Path fields also complete names in `workspace` and its folders.
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.shard_form = shard_form().with_workspace(workspace);
        self.output_choice = output_choice().with_workspace(workspace);
        self
    }

    /// Under a workspace policy of authenticated approvals, Enter on an
    /// approver's name goes on to their passphrase; otherwise it adds the
    /// name (the passphrase field stays reachable with Tab/↓).
    pub fn with_authenticated_approvals(mut self, authenticated: bool) -> Self {
        self.approvers = approvers_for(if authenticated {
            ApprovalPolicy::Authenticated
        } else {
            ApprovalPolicy::Typed
        });
        self
    }

    /// The approvers' names, in order.
    fn approver_names(&self) -> Vec<String> {
        self.approvers
            .approvals()
            .iter()
            .map(|a| a.name.clone())
            .collect()
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Warning => "warning",
            Step::Approvers => "approvers",
            Step::Shards => "shards",
            Step::Output => "output",
            Step::Confirm => "confirm",
            Step::Working => "working",
            Step::Written(_) => "written",
            Step::Show { ref show, .. } => show.step_name(),
            Step::Cleared { .. } => "cleared",
            Step::Failed { .. } => "failed",
        }
    }

    /// True when leaving would lose something typed or chosen.
    fn holds_state(&self) -> bool {
        self.approvers.holds_state()
            || !self.sources.is_empty()
            || self.shard_form.holds_input()
            || self.output_choice.holds_input()
    }

    fn clear(&mut self, ended: DisplayEnd) -> Option<Action> {
        let old = std::mem::replace(
            &mut self.step,
            Step::Cleared {
                shown: ended.was_shown(),
            },
        );
        match old {
            Step::Show { key_id, op, .. } => {
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
            approvers: self.approver_names(),
            approvals: self.approvers.approvals().to_vec(),
            output,
            passphrases: self.passphrases.clone(),
        })))
    }

    fn approvers_key(&mut self, key: KeyEvent) -> Option<Action> {
        match self.approvers.handle_key(key) {
            ApproversEvent::None => None,
            ApproversEvent::Check(action) => Some(action),
            ApproversEvent::Back => {
                self.step = Step::Warning;
                None
            }
            ApproversEvent::Done => {
                self.step = Step::Shards;
                None
            }
        }
    }

    fn continue_from_shards(&mut self) {
        if self.sources.len() < 2 {
            self.shard_form.set_error(
                F_SHARD,
                Report::note(
                    "add at least two shards first",
                    Some("each custodian enters their shard, identity file and passphrase"),
                ),
            );
        } else {
            self.step = Step::Output;
        }
    }

    fn shards_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.checking {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let form = &mut self.shard_form;
        if form.picking() {
            form.handle_key(key);
            return None;
        }
        match key.code {
            KeyCode::Esc => {
                self.step = Step::Approvers;
                None
            }
            KeyCode::Char('n') if ctrl => {
                self.continue_from_shards();
                None
            }
            KeyCode::Enter if form.is_empty() => {
                self.continue_from_shards();
                None
            }
            _ => match form.handle_key(key) {
                FormEvent::Submit => self.submit_shard(),
                FormEvent::Handled | FormEvent::Cancel => None,
            },
        }
    }

    /// Enter on the passphrase: every field filled, then the check runs.
    fn submit_shard(&mut self) -> Option<Action> {
        let form = &mut self.shard_form;
        let missing = Report::note(
            "fill in the shard file, the identity file and the passphrase",
            None,
        );
        for i in [F_SHARD, F_IDENTITY, F_PASS] {
            if form.value(i).trim().is_empty() {
                form.set_error(i, missing);
                return None;
            }
        }
        let source = ShardSource {
            shard: form.value(F_SHARD).trim().into(),
            identity: form.value(F_IDENTITY).trim().into(),
        };
        if self.sources.iter().any(|s| s.shard == source.shard) {
            form.set_error(
                F_SHARD,
                Report::note(
                    "this shard is already on the list",
                    Some("enter another custodian's shard"),
                ),
            );
            return None;
        }
        self.checking = true;
        Some(Action::CheckRecoveryShard {
            source,
            passphrase: SecretString::from(form.value(F_PASS)),
        })
    }

    fn output_key(&mut self, key: KeyEvent) -> Option<Action> {
        match self.output_choice.handle_key(key) {
            OutputEvent::None => {}
            OutputEvent::Back => self.step = Step::Shards,
            OutputEvent::Chosen(output) => {
                self.output = Some(output);
                self.step = Step::Confirm;
            }
        }
        None
    }

    /// Back to the step that can fix a failure, with its error in place.
    fn go_fix(&mut self) {
        let Step::Failed { report, fix } = std::mem::replace(&mut self.step, Step::Confirm) else {
            return;
        };
        match fix {
            RecoveryFix::Approvers => {
                self.approvers.set_error(report);
                self.step = Step::Approvers;
            }
            RecoveryFix::Shards => {
                self.shard_form.set_error(F_SHARD, report);
                self.step = Step::Shards;
            }
            RecoveryFix::Shard { file, field } => {
                let at = self
                    .sources
                    .iter()
                    .position(|s| s.shard == file || s.identity == file);
                if let Some(at) = at {
                    // Off the list and back into the fields, with its
                    // passphrase (asked again if it was at fault).
                    let s = self.sources.remove(at);
                    let pass = self.passphrases.remove(at);
                    self.shard_form.clear_all();
                    self.shard_form
                        .set_value(F_SHARD, &s.shard.display().to_string());
                    self.shard_form
                        .set_value(F_IDENTITY, &s.identity.display().to_string());
                    {
                        use secrecy::ExposeSecret;
                        self.shard_form.set_value(F_PASS, pass.expose_secret());
                    }
                }
                let i = match field {
                    SourceField::Shard => F_SHARD,
                    SourceField::Identity => F_IDENTITY,
                    SourceField::Passphrase => F_PASS,
                };
                if field == SourceField::Passphrase {
                    self.shard_form.refuse(i, report);
                } else {
                    self.shard_form.set_error(i, report);
                }
                self.step = Step::Shards;
            }
            RecoveryFix::Output { field } => {
                self.output_choice.set_error(field, report);
                self.step = Step::Output;
            }
            RecoveryFix::Confirm => {
                self.step = Step::Confirm;
            }
        }
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
        let leave_armed = std::mem::take(&mut self.leave_armed);
        match &mut self.step {
            Step::Warning => match key.code {
                KeyCode::Esc if self.holds_state() && !leave_armed => {
                    self.leave_armed = true;
                    None
                }
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    self.step = Step::Approvers;
                    None
                }
                _ => None,
            },
            Step::Approvers => self.approvers_key(key),
            Step::Shards => self.shards_key(key),
            Step::Output => self.output_key(key),
            Step::Confirm => match key.code {
                KeyCode::Esc => {
                    self.step = Step::Output;
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
            Step::Show { show, .. } => {
                let ended = show.handle_key(key)?;
                self.clear(ended)
            }
            Step::Failed { .. } => match key.code {
                KeyCode::Esc | KeyCode::Enter => {
                    self.go_fix();
                    None
                }
                _ => None,
            },
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        self.leave_armed = false;
        match &mut self.step {
            Step::Show { show, .. } => show.paste(text),
            Step::Approvers => self.approvers.paste(text),
            Step::Shards if !self.checking => {
                self.shard_form.paste(text);
            }
            Step::Output => self.output_choice.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        match self.step {
            Step::Approvers | Step::Shards => true,
            Step::Show { ref show, .. } => show.takes_text(),
            Step::Output => self.output_choice.takes_text(),
            _ => false,
        }
    }

    fn holds_input(&self) -> bool {
        match self.step {
            Step::Show { .. } | Step::Working => true,
            Step::Written(_) | Step::Cleared { .. } => false,
            _ => self.holds_state(),
        }
    }

    fn on_tick(&mut self, tick: u64) -> Option<Action> {
        if let Step::Show { show, .. } = &mut self.step
            && let Some(ended) = show.on_tick(tick)
        {
            return self.clear(ended);
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        if self.approvers.on_checked(result) {
            return None;
        }
        if self.checking {
            self.checking = false;
            match result {
                Ok(JobResult::RecoveryShardChecked) => {
                    let form = &mut self.shard_form;
                    self.sources.push(ShardSource {
                        shard: form.value(F_SHARD).trim().into(),
                        identity: form.value(F_IDENTITY).trim().into(),
                    });
                    self.passphrases
                        .push(SecretString::from(form.value(F_PASS)));
                    form.clear_all();
                }
                Ok(JobResult::RecoveryShardRefused { field, report }) => {
                    let form = &mut self.shard_form;
                    match field {
                        SourceField::Shard => form.set_error(F_SHARD, report.clone()),
                        SourceField::Identity => form.set_error(F_IDENTITY, report.clone()),
                        SourceField::Passphrase => form.refuse(F_PASS, report.clone()),
                    }
                }
                Err(report) => self.shard_form.set_error(F_SHARD, report.clone()),
                Ok(_) => {}
            }
            return None;
        }
        if !matches!(self.step, Step::Working) {
            return None;
        }
        self.step = match result {
            Ok(JobResult::Recovered(outcome)) => {
                // The passphrases have done their job.
                self.passphrases.clear();
                match &outcome.shown_once {
                    Some(key) => Step::Show {
                        key_id: outcome.key_id.clone(),
                        op: outcome.audit_op.clone(),
                        show: show_once(&outcome.key_id, key.clone()),
                    },
                    None => Step::Written(outcome.clone()),
                }
            }
            // Everything is kept: Enter goes back to where it is fixed.
            Ok(JobResult::RecoveryRefused { fix, report }) => Step::Failed {
                report: report.clone(),
                fix: fix.clone(),
            },
            Err(report) => Step::Failed {
                report: report.clone(),
                fix: RecoveryFix::Confirm,
            },
            Ok(_) => return None,
        };
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
        let approvers = || Line::from(format!("Approvers: {}", self.approvers.summary()));
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
                if self.leave_armed {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        strings::RECOVERY_LEAVE,
                        Style::default()
                            .fg(Color::Black)
                            .bg(Color::Yellow)
                            .add_modifier(Modifier::BOLD),
                    )));
                }
            }
            Step::Approvers => lines.extend(self.approvers.lines(chrome.tick)),
            Step::Shards => {
                lines.push(approvers());
                lines.push(Line::from(format!("Shards added: {}", self.sources.len())));
                shard_lines(&mut lines);
                lines.push(Line::from(""));
                lines.extend(self.shard_form.lines());
                if self.checking {
                    lines.push(Line::from(format!(
                        "{} {}",
                        widgets::spinner(chrome.tick),
                        strings::RECOVERY_CHECKING
                    )));
                } else {
                    lines.push(Line::from(Span::styled(strings::RECOVERY_SHARDS_HINT, dim)));
                }
            }
            Step::Output => lines.extend(self.output_choice.lines()),
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
            Step::Show { show, .. } => return show.render(frame, area),
            Step::Cleared { shown } => {
                lines.push(Line::from(if *shown {
                    strings::RECOVERY_CLEARED
                } else {
                    strings::RECOVERY_DISCARDED
                }));
            }
            Step::Failed { report, .. } => lines.extend(output::failed_lines(report)),
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Warning => vec![("Enter", "continue"), ("Esc", "leave")],
            Step::Approvers => Approvers::commands(),
            Step::Shards => vec![
                ("Enter", "next / add shard"),
                ("Tab", "complete path / next"),
                ("Enter (empty)", "continue"),
                ("Esc", "back"),
            ],
            Step::Output => self.output_choice.commands(),
            Step::Confirm => vec![("Enter", "start"), ("Esc", "back")],
            Step::Working => vec![],
            Step::Written(_) | Step::Cleared { .. } => vec![("Enter", "home")],
            Step::Failed { .. } => vec![("Enter", "back to fix it")],
            Step::Show { ref show, .. } => show.commands(),
        }
    }

    fn animating(&self) -> bool {
        // The one-time key display counts down to clearing itself.
        self.busy() || matches!(&self.step, Step::Show { show, .. } if show.showing())
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working) || self.checking || self.approvers.checking()
    }

    fn on_quit(&mut self) -> Option<Action> {
        let Step::Show { show, .. } = &self.step else {
            return None;
        };
        let ended = show.abandoned();
        self.clear(ended)
    }
}
