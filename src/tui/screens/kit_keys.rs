//! The DR kit's workspace keys at the console, in two modes on one form:
//! "verify with the owner's mobile secret" (every key recovered in memory,
//! checked against its public key and dropped) and "recover" (approvers →
//! the same fields → exactly one output → confirmation → the keys to an
//! HSM directory, an age file, or shown once).
//!
//! Kit path, recovery key (its passphrase checked on a worker as the field
//! is left), the owner's mobile passphrase or mobile RSA key, and an
//! optional key id or keyset. Every refusal comes back under the field that
//! fixes it with everything typed kept (a refused secret is emptied, to be
//! typed again). The work runs on a worker with its stages as progress.
//! A key that does not reproduce its public key is listed as such and is
//! never output (the core refuses the whole output then).

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;
use serde_json::Value;
use zeroize::Zeroizing;

use super::kit_use::KeyCheck;
use super::{Action, Chrome, Screen};
use crate::tui::approvers::{Approvers, ApproversEvent};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::output::{
    self, DisplayEnd, OutputChoice, OutputEvent, OutputWords, SecretPages, ShowOnce, ShowOnceWords,
};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::approvals::{Approval, ApprovalPolicy};
use custodian_core::drkit::DrKitError;
use custodian_core::drkit::workspace_keys::{KeysOutput, Selection, ShownKey};
use custodian_core::error::Report;
use custodian_core::recovery::RecoveryOutput;

/// Input fields, in focus order.
pub const F_KIT: usize = 0;
/// The recovery private key file.
pub const F_KEY: usize = 1;
/// Its passphrase.
pub const F_PASS: usize = 2;
/// The owner's mobile passphrase.
pub const F_MOBILE_PASS: usize = 3;
/// The mobile RSA key file.
pub const F_MOBILE_KEY: usize = 4;
/// The mobile key's passphrase.
pub const F_MOBILE_KEY_PASS: usize = 5;
/// Key id or keyset.
pub const F_SELECT: usize = 6;

/// The owner's (mobile) secret as typed: a passphrase, or a key file.
pub enum MobileInput {
    /// The owner's recovery passphrase.
    Passphrase(SecretString),
    /// The mobile RSA private key and its passphrase, if encrypted.
    Key {
        /// The PEM file.
        path: PathBuf,
        /// Its passphrase.
        passphrase: Option<SecretString>,
    },
}

/// Everything a verify or recover run needs, handed to the worker.
pub struct KitKeysJob {
    /// The kit zip.
    pub kit: PathBuf,
    /// The recovery private key file.
    pub key: PathBuf,
    /// Its passphrase.
    pub passphrase: Option<SecretString>,
    /// The owner's secret.
    pub mobile: MobileInput,
    /// Which keys.
    pub select: Selection,
    /// None: verify only. Some: recover to this output.
    pub output: Option<KeysOutput>,
    /// The approvals (recover).
    pub approvals: Vec<Approval>,
}

impl std::fmt::Debug for KitKeysJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KitKeysJob")
            .field("kit", &self.kit)
            .field("select", &self.select)
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

/// Where a refused run is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KitKeysFix {
    /// The approvers.
    Approvers,
    /// An input field (`F_*`).
    Input(usize),
    /// The output: 0 the HSM key or recipient, 1 the file or directory.
    Output(usize),
}

impl KitKeysFix {
    /// The field that fixes `e`, if any. `mobile_key`: the owner's secret
    /// was a key file (else a passphrase). Errors of the mobile key file
    /// itself are mapped where it is loaded.
    pub fn of(e: &DrKitError, mobile_key: bool, output: Option<&KeysOutput>) -> Option<KitKeysFix> {
        use DrKitError as E;
        let mobile = if mobile_key {
            F_MOBILE_KEY
        } else {
            F_MOBILE_PASS
        };
        Some(match e {
            E::WrongPassphrase => KitKeysFix::Input(F_PASS),
            E::NotAPrivateKey(_)
            | E::UnsupportedKeyEncryption(_)
            | E::KeyTooSmall { .. }
            | E::WrongKeySize { .. }
            | E::WrongRsaKey { .. } => KitKeysFix::Input(F_KEY),
            E::WrongMobileSecret { .. } => KitKeysFix::Input(mobile),
            E::NoSuchWorkspaceKey(_) => KitKeysFix::Input(F_SELECT),
            E::Approval(_) | E::TooFewApprovers { .. } => KitKeysFix::Approvers,
            E::HsmKey(_) | E::Encode(_) => KitKeysFix::Output(0),
            E::OutputDir { .. } | E::KeyIdNotAFileName(_) => KitKeysFix::Output(1),
            E::Fs(custodian_core::fsutil::FsError::AlreadyExists(p))
                if output.is_some_and(|o| match o {
                    KeysOutput::Age { out, .. } => out == p,
                    KeysOutput::Hsm { dir, .. } => p.starts_with(dir),
                    KeysOutput::Screen => false,
                }) =>
            {
                KitKeysFix::Output(1)
            }
            // Everything else about the kit's content (a missing owner
            // entry, a damaged or flipped share, keys that do not
            // reproduce, the zip itself) is fixed by giving another kit.
            E::MissingKeyEntry { .. }
            | E::BadShare { .. }
            | E::DamagedEntry { .. }
            | E::MobileAlgorithmMismatch { .. }
            | E::KeysNotReproduced(_)
            | E::DuplicatePlayerId { .. }
            | E::UnknownKeyAlgorithm { .. }
            | E::EntryOaepSha256 { .. }
            | E::NotAZip { .. }
            | E::MissingMetadata { .. }
            | E::SeveralMetadata(_)
            | E::DuplicateEntry { .. }
            | E::ZipHeadersDisagree { .. }
            | E::UnexpectedEntry { .. }
            | E::BadMetadata(_) => KitKeysFix::Input(F_KIT),
            _ => return None,
        })
    }
}

/// What a recover run produced, as the screen holds it: public facts, and
/// for a one-time display the keys (shared, zeroized when the last holder
/// drops them).
#[derive(Clone)]
pub struct RecoveredKeys {
    /// Every key's public facts.
    pub keys: Vec<Value>,
    /// Files written and their SHA-256.
    pub written: Vec<(PathBuf, String)>,
    /// The HSM manifest, if written.
    pub manifest: Option<PathBuf>,
    /// The recovery's audit operation.
    pub audit_op: String,
    /// The keys to show once.
    pub shown: Option<Arc<Vec<ShownKey>>>,
}

impl std::fmt::Debug for RecoveredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveredKeys")
            .field("keys", &self.keys.len())
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

enum Step {
    Approvers,
    Input,
    Output,
    Confirm,
    Working(Progress),
    Listed(Vec<Value>),
    Recovered(RecoveredKeys),
    /// The one-time display of the keys recovered by operation `op`.
    Show {
        op: String,
        show: ShowOnce,
    },
    Cleared {
        shown: bool,
    },
    Failed(Report),
}

fn too_few(given: usize) -> Report {
    Report::for_console(&DrKitError::TooFewApprovers { given })
}

/// The shared approver step under `policy` (the same step, words and
/// checks as the threshold recovery wizard).
fn approvers_for(policy: ApprovalPolicy) -> Approvers {
    Approvers::new(
        policy,
        custodian_core::recovery::MIN_APPROVERS,
        strings::RECOVERY_APPROVER_HINT,
        too_few,
    )
}

/// "Approvers: …" as the later steps show it.
fn approvers_line(approvers: &Approvers) -> Line<'static> {
    Line::from(format!("Approvers: {}", approvers.summary()))
}

fn input_form(key_path: &str) -> Form {
    Form::new(vec![
        FormField::path(strings::KIT_KIT_PROMPT, "", "", PathKind::Kit),
        FormField::path(strings::KIT_KEY_PROMPT, "", key_path, PathKind::KeyFile),
        FormField::secret(strings::KIT_OPEN_PASS_PROMPT, strings::KIT_OPEN_PASS_HINT),
        FormField::secret(
            strings::KIT_MOBILE_PASS_PROMPT,
            strings::KIT_MOBILE_PASS_HINT,
        ),
        FormField::path(
            strings::KIT_MOBILE_KEY_PROMPT,
            strings::KIT_MOBILE_KEY_HINT,
            "",
            PathKind::KeyFile,
        ),
        FormField::secret(
            strings::KIT_MOBILE_KEY_PASS_PROMPT,
            strings::KIT_MOBILE_KEY_PASS_HINT,
        ),
        FormField::plain(strings::KIT_SELECT_PROMPT, strings::KIT_SELECT_HINT, ""),
    ])
}

fn output_choice() -> OutputChoice {
    OutputChoice::new(OutputWords {
        hint: strings::KIT_KEYS_OUTPUT_HINT,
        screen: strings::KIT_KEYS_OUT_SCREEN,
        hsm_out: strings::KIT_KEYS_OUT_DIR,
        age_out: strings::RECOVERY_OUT_FILE,
    })
}

/// The recovered workspace keys as the one-time display's pages: one key a
/// page, its number on the border.
struct KeyPages(Arc<Vec<ShownKey>>);

impl SecretPages for KeyPages {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn title(&self, page: usize) -> String {
        format!("key {} of {}", page + 1, self.0.len())
    }

    fn lines(&self, page: usize, width: usize) -> Vec<Zeroizing<String>> {
        self.0.get(page).map(|k| k.lines(width)).unwrap_or_default()
    }
}

/// The one-time display of `keys`, confirmed by typing how many there are.
fn show_once(keys: Arc<Vec<ShownKey>>) -> ShowOnce {
    let n = keys.len();
    ShowOnce::new(
        Box::new(KeyPages(keys)),
        ShowOnceWords {
            banner: format!(
                "{} recovered and verified against their public keys.",
                custodian_core::text::count(n as u64, "workspace key", "workspace keys")
            ),
            prompt: strings::KIT_KEYS_TYPE_COUNT,
            expected: n.to_string(),
            mismatch: "That is not the number of keys. Type it exactly, or Esc to discard the keys.",
        },
    )
}

/// The key id or keyset typed, read.
fn selection(text: &str) -> Option<Selection> {
    let t = text.trim();
    if t.is_empty() {
        return Some(Selection::All);
    }
    if let Ok(n) = t.parse::<u64>() {
        return Some(Selection::Keyset(n));
    }
    let uuid = t.len() == 36
        && t.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    uuid.then(|| Selection::KeyId(t.to_ascii_lowercase()))
}

/// The wizard.
pub struct KitKeysWizard {
    recover: bool,
    approvers: Approvers,
    /// Esc on the approver step with approvers or typing held: the next
    /// Esc leaves.
    leave_armed: bool,
    form: Form,
    output_choice: OutputChoice,
    output: Option<KeysOutput>,
    /// The recovery key passphrase, checked on a worker as it is left
    /// when recovering.
    key_check: KeyCheck,
    /// Lines scrolled in a result's key list (a kit may hold many keys).
    scroll: u16,
    /// The furthest the list scrolls, as last drawn.
    scroll_max: std::cell::Cell<u16>,
    step: Step,
}

impl std::fmt::Debug for KitKeysWizard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KitKeysWizard")
            .field("recover", &self.recover)
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

impl KitKeysWizard {
    /// A wizard to verify (`recover == false`) or recover, with the
    /// recovery key path prefilled.
    pub fn new(recover: bool, key_path: &str) -> Self {
        KitKeysWizard {
            recover,
            approvers: approvers_for(ApprovalPolicy::Typed),
            leave_armed: false,
            form: input_form(key_path),
            output_choice: output_choice(),
            output: None,
            key_check: KeyCheck::default(),
            scroll: 0,
            scroll_max: std::cell::Cell::new(u16::MAX),
            step: if recover {
                Step::Approvers
            } else {
                Step::Input
            },
        }
    }

    /// Path fields also complete names in `workspace` and its folders.
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        let key = self.form.value(F_KEY).to_string();
        self.form = input_form(&key).with_workspace(workspace);
        self.output_choice = output_choice().with_workspace(workspace);
        self
    }

    /// Under a policy of authenticated approvals, Enter on an approver's
    /// name goes on to their passphrase.
    pub fn with_authenticated_approvals(mut self, on: bool) -> Self {
        self.approvers = approvers_for(if on {
            ApprovalPolicy::Authenticated
        } else {
            ApprovalPolicy::Typed
        });
        self
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Approvers => "approvers",
            Step::Input => "input",
            Step::Output => "output",
            Step::Confirm => "confirm",
            Step::Working(_) => "working",
            Step::Listed(_) => "listed",
            Step::Recovered(_) => "recovered",
            Step::Show { ref show, .. } => show.step_name(),
            Step::Cleared { .. } => "cleared",
            Step::Failed(_) => "failed",
        }
    }

    fn secret(&self, i: usize) -> Option<SecretString> {
        let v = self.form.value(i);
        (!v.is_empty()).then(|| SecretString::from(v))
    }

    /// A key on the approver step; Esc with approvers or typing held asks
    /// for a second Esc before leaving.
    fn approvers_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.approvers.checking() {
            return None;
        }
        let armed = std::mem::take(&mut self.leave_armed);
        match self.approvers.handle_key(key) {
            ApproversEvent::None => None,
            ApproversEvent::Check(action) => Some(action),
            ApproversEvent::Back if self.approvers.holds_state() && !armed => {
                self.leave_armed = true;
                None
            }
            ApproversEvent::Back => Some(Action::Back),
            ApproversEvent::Done => {
                self.step = Step::Input;
                None
            }
        }
    }

    fn input_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.key_check.checking() {
            return None;
        }
        // Recovering, the recovery key's passphrase is checked as it is
        // left; verifying runs at once and a wrong one comes back under it.
        match self.key_check.handle_key(&mut self.form, key, self.recover) {
            (_, Some(check)) => Some(check),
            (FormEvent::Cancel, None) if self.recover => {
                self.step = Step::Approvers;
                None
            }
            (FormEvent::Cancel, None) => Some(Action::Back),
            (FormEvent::Submit, None) => self.submit_input(),
            (FormEvent::Handled, None) => None,
        }
    }

    /// Enter on the last field: checks what needs no secret, then verifies
    /// (verify) or goes on to the output (recover).
    fn submit_input(&mut self) -> Option<Action> {
        let form = &mut self.form;
        for (i, what) in [
            (F_KIT, "give the kit zip"),
            (F_KEY, "give the recovery private key file"),
        ] {
            if form.value(i).trim().is_empty() {
                form.focus_on(i);
                form.set_error(i, Report::note(what, None));
                return None;
            }
        }
        let has_pass = !form.value(F_MOBILE_PASS).is_empty();
        let has_key = !form.value(F_MOBILE_KEY).trim().is_empty();
        if has_pass == has_key {
            let (at, what) = if has_pass {
                (F_MOBILE_KEY, strings::KIT_KEYS_BOTH_MOBILE)
            } else {
                (F_MOBILE_PASS, strings::KIT_KEYS_NO_MOBILE)
            };
            form.focus_on(at);
            form.set_error(at, Report::note(what, None));
            return None;
        }
        if selection(form.value(F_SELECT)).is_none() {
            form.focus_on(F_SELECT);
            form.set_error(
                F_SELECT,
                Report::note(strings::KIT_KEYS_BAD_SELECT, Some(strings::KIT_SELECT_HINT)),
            );
            return None;
        }
        if self.recover {
            self.step = Step::Output;
            None
        } else {
            self.start(None)
        }
    }

    fn job(&self, output: Option<KeysOutput>) -> Box<KitKeysJob> {
        let mobile = match self.secret(F_MOBILE_PASS) {
            Some(p) => MobileInput::Passphrase(p),
            None => MobileInput::Key {
                path: PathBuf::from(self.form.value(F_MOBILE_KEY).trim()),
                passphrase: self.secret(F_MOBILE_KEY_PASS),
            },
        };
        Box::new(KitKeysJob {
            kit: PathBuf::from(self.form.value(F_KIT).trim()),
            key: PathBuf::from(self.form.value(F_KEY).trim()),
            passphrase: self.secret(F_PASS),
            mobile,
            select: selection(self.form.value(F_SELECT)).unwrap_or(Selection::All),
            output,
            approvals: self.approvers.approvals().to_vec(),
        })
    }

    fn start(&mut self, output: Option<KeysOutput>) -> Option<Action> {
        let job = self.job(output);
        self.step = Step::Working(Progress::default());
        Some(Action::StartKitKeys(job))
    }

    fn output_key(&mut self, key: KeyEvent) {
        match self.output_choice.handle_key(key) {
            OutputEvent::None => {}
            OutputEvent::Back => self.step = Step::Input,
            OutputEvent::Chosen(target) => {
                self.output = Some(match target {
                    RecoveryOutput::Hsm {
                        public_key_pem,
                        out,
                    } => KeysOutput::Hsm {
                        public_key_pem,
                        dir: out,
                    },
                    RecoveryOutput::Age { recipient, out } => KeysOutput::Age { recipient, out },
                    RecoveryOutput::Screen => KeysOutput::Screen,
                });
                self.step = Step::Confirm;
            }
        }
    }

    /// Back to the field that fixes a refusal, the error under it.
    fn go_fix(&mut self, fix: KitKeysFix, report: Report) {
        match fix {
            KitKeysFix::Approvers => {
                self.approvers.set_error(report);
                self.step = Step::Approvers;
            }
            KitKeysFix::Input(i) => {
                if matches!(i, F_PASS | F_MOBILE_PASS | F_MOBILE_KEY_PASS) {
                    self.form.refuse(i, report);
                } else {
                    self.form.focus_on(i);
                    self.form.set_error(i, report);
                }
                if i == F_PASS {
                    self.key_check.forget();
                }
                self.step = Step::Input;
            }
            KitKeysFix::Output(i) => {
                self.output_choice.set_error(i, report);
                self.step = Step::Output;
            }
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
            Step::Show { op, .. } => Some(Action::RecordKitDisplayCleared { op, ended }),
            _ => None,
        }
    }

    fn holds_state(&self) -> bool {
        self.approvers.holds_state() || self.form.holds_input() || self.output_choice.holds_input()
    }

    /// Every key's public facts, long values cut to `width` columns on
    /// their own lines (never wrapped mid-line).
    fn key_lines(keys: &[Value], width: usize, lines: &mut Vec<Line<'_>>) {
        for k in keys {
            let s = |f: &str| k[f].as_str().unwrap_or_default().to_string();
            let (ext_name, ext) = if k.get("fpub").is_some() {
                ("fpub", s("fpub"))
            } else {
                ("xpub", s("xpub"))
            };
            let ok = k["verified"] == true;
            lines.push(Line::from(vec![
                Span::styled(
                    if ok { "✔ " } else { "✘ " },
                    Style::default().fg(if ok { Color::Green } else { Color::Red }),
                ),
                Span::styled(
                    format!("{}  {}  keyset {}", s("keyId"), s("algo"), k["keysetId"]),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
            ]));
            lines.extend(value_lines("public key", &s("publicKey"), width));
            lines.extend(value_lines(ext_name, &ext, width));
            lines.push(Line::from(if ok {
                Span::styled(
                    "    verified: the shares reproduce this public key",
                    Style::default().fg(Color::Green),
                )
            } else {
                Span::styled(
                    "    NOT verified: the shares do not reproduce this public key; never output",
                    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                )
            }));
        }
    }
}

/// `    label: value` on one line when it fits `width`, else the label and
/// the value cut into pieces on the lines under it.
fn value_lines(label: &str, value: &str, width: usize) -> Vec<Line<'static>> {
    let one = format!("    {label}: {value}");
    if one.chars().count() <= width {
        return vec![Line::from(one)];
    }
    let chars: Vec<char> = value.chars().collect();
    let mut out = vec![Line::from(format!("    {label}:"))];
    for piece in chars.chunks(width.saturating_sub(6).max(20)) {
        out.push(Line::from(format!(
            "      {}",
            piece.iter().collect::<String>()
        )));
    }
    out
}

impl Screen for KitKeysWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        if self.recover {
            strings::KIT_KEYS_RECOVER_TITLE.into()
        } else {
            strings::KIT_KEYS_VERIFY_TITLE.into()
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Approvers => self.approvers_key(key),
            Step::Input => self.input_key(key),
            Step::Output => {
                self.output_key(key);
                None
            }
            Step::Confirm => match key.code {
                KeyCode::Esc => {
                    self.step = Step::Output;
                    None
                }
                KeyCode::Enter => {
                    let output = self.output.clone();
                    self.start(output)
                }
                _ => None,
            },
            Step::Working(_) => None,
            Step::Listed(_) | Step::Recovered(_) => {
                if let Some(s) = widgets::scroll_key(key, self.scroll, self.scroll_max.get()) {
                    self.scroll = s;
                    return None;
                }
                match key.code {
                    KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                    _ => None,
                }
            }
            Step::Cleared { .. } => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Show { show, .. } => {
                let ended = show.handle_key(key)?;
                self.clear(ended)
            }
            // Back to the fields, everything kept.
            Step::Failed(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => {
                    self.step = Step::Input;
                    None
                }
                _ => None,
            },
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Show { show, .. } => show.paste(text),
            Step::Approvers if !self.approvers.checking() => {
                self.leave_armed = false;
                self.approvers.paste(text);
            }
            Step::Input if !self.key_check.checking() => {
                self.key_check.paste(&mut self.form, text);
            }
            Step::Output => self.output_choice.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        match self.step {
            Step::Approvers | Step::Input => true,
            Step::Show { ref show, .. } => show.takes_text(),
            Step::Output => self.output_choice.takes_text(),
            _ => false,
        }
    }

    fn holds_input(&self) -> bool {
        match self.step {
            Step::Show { .. } | Step::Working(_) => true,
            Step::Listed(_) | Step::Recovered(_) | Step::Cleared { .. } => false,
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
        if let (WorkerMsg::Progress { .. }, Step::Working(p)) = (msg, &mut self.step) {
            p.update(msg);
            return None;
        }
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        if self.approvers.on_checked(result) {
            return None;
        }
        if self.key_check.on_checked(&mut self.form, result) {
            return None;
        }
        if !matches!(self.step, Step::Working(_)) {
            return None;
        }
        match result {
            Ok(JobResult::KitKeysListed(keys)) => {
                self.scroll = 0;
                self.step = Step::Listed(keys.clone());
            }
            Ok(JobResult::KitKeysRecovered(r)) => {
                self.step = match &r.shown {
                    Some(keys) => Step::Show {
                        op: r.audit_op.clone(),
                        show: show_once(keys.clone()),
                    },
                    None => Step::Recovered(r.as_ref().clone()),
                };
            }
            Ok(JobResult::KitKeysRefused { fix, report }) => self.go_fix(*fix, report.clone()),
            Err(report) => self.step = Step::Failed(report.clone()),
            Ok(_) => return None,
        }
        Some(Action::RefreshHome)
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let dim = widgets::hint();
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let ok = Style::default()
            .fg(Color::Green)
            .add_modifier(Modifier::BOLD);
        let red = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        let mut lines: Vec<Line> = Vec::new();
        match &self.step {
            Step::Approvers => {
                lines.push(Line::from(Span::styled(
                    strings::KIT_KEYS_INTRO_RECOVER,
                    dim,
                )));
                lines.extend(self.approvers.lines(chrome.tick));
                if self.leave_armed {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        strings::KIT_KEYS_LEAVE,
                        Style::default()
                            .fg(Color::Black)
                            .bg(Color::Yellow)
                            .add_modifier(Modifier::BOLD),
                    )));
                }
            }
            Step::Input => {
                lines.push(Line::from(Span::styled(
                    if self.recover {
                        strings::KIT_KEYS_INTRO_RECOVER
                    } else {
                        strings::KIT_KEYS_INTRO_VERIFY
                    },
                    dim,
                )));
                if self.recover {
                    lines.push(approvers_line(&self.approvers));
                }
                lines.extend(self.form.lines());
                lines.extend(self.key_check.line(chrome.tick));
            }
            Step::Output => lines.extend(self.output_choice.lines()),
            Step::Confirm => {
                lines.push(Line::from(Span::styled(
                    " CONFIRM: THE WORKSPACE'S PRIVATE KEYS WILL BE REBUILT ",
                    red,
                )));
                lines.push(Line::from(""));
                lines.push(approvers_line(&self.approvers));
                lines.push(Line::from(format!(
                    "Kit: {}",
                    self.form.value(F_KIT).trim()
                )));
                match &self.output {
                    Some(KeysOutput::Hsm {
                        public_key_pem,
                        dir,
                    }) => {
                        lines.push(Line::from("Output: wrapped to the HSM key"));
                        lines.push(Line::from(format!("  {}", public_key_pem.display())));
                        lines.push(Line::from(format!("  → {}/", dir.display())));
                    }
                    Some(KeysOutput::Age { recipient, out }) => {
                        lines.push(Line::from("Output: age file, encrypted to"));
                        lines.push(Line::from(format!("  {recipient}")));
                        lines.push(Line::from(format!("  → {}", out.display())));
                    }
                    _ => lines.push(Line::from("Output: shown once on this screen")),
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(strings::KIT_KEYS_CONFIRM, bold)));
            }
            Step::Working(progress) => {
                let [top, gauge] =
                    Layout::vertical([Constraint::Length(3), Constraint::Length(1)]).areas(area);
                let what = if self.recover {
                    strings::KIT_KEYS_WORKING_RECOVER
                } else {
                    strings::KIT_KEYS_WORKING_VERIFY
                };
                frame.render_widget(
                    Paragraph::new(format!("{} {what}…", widgets::spinner(chrome.tick)))
                        .wrap(Wrap { trim: false }),
                    top,
                );
                if progress.total > 0 {
                    frame.render_widget(widgets::progress_gauge(progress), gauge);
                }
                return;
            }
            Step::Listed(keys) => {
                if keys.iter().all(|k| k["verified"] == true) {
                    lines.push(Line::from(Span::styled(
                        format!("✔ {}", strings::KIT_KEYS_VERIFIED),
                        ok,
                    )));
                } else {
                    lines.push(Line::from(Span::styled(
                        strings::KIT_KEYS_NOT_ALL,
                        Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                    )));
                }
                Self::key_lines(keys, usize::from(area.width), &mut lines);
                lines.push(Line::from(strings::KIT_NO_SECRET));
            }
            Step::Recovered(r) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::KIT_KEYS_RECOVERED),
                    ok,
                )));
                Self::key_lines(&r.keys, usize::from(area.width), &mut lines);
                for (p, sha) in &r.written {
                    lines.push(Line::from(format!("wrote {}", p.display())));
                    lines.push(Line::from(Span::styled(format!("  sha256 {sha}"), dim)));
                }
                lines.push(Line::from(strings::KIT_KEYS_EDDSA_NOTE));
                lines.push(Line::from(strings::RECOVERY_NOT_ELSEWHERE));
            }
            Step::Show { show, .. } => return show.render(frame, area),
            Step::Cleared { shown } => {
                lines.push(Line::from(if *shown {
                    strings::KIT_KEYS_CLEARED
                } else {
                    strings::KIT_KEYS_DISCARDED
                }));
            }
            Step::Failed(report) => lines.extend(output::failed_lines(report)),
        }
        if matches!(self.step, Step::Listed(_) | Step::Recovered(_)) {
            self.scroll_max
                .set(widgets::scrolled(frame, area, lines, self.scroll));
        } else {
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
        }
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Approvers => {
                let mut keys = Approvers::commands();
                for k in &mut keys {
                    if k.0 == "Esc" {
                        k.1 = "leave";
                    }
                }
                keys
            }
            Step::Input if self.form.focus() == F_SELECT => vec![
                ("Enter", if self.recover { "next" } else { "verify" }),
                ("↑/↓ Tab", "field"),
                ("Esc", "back"),
            ],
            Step::Input => vec![("Enter", "next"), ("↑/↓ Tab", "field"), ("Esc", "back")],
            Step::Output => self.output_choice.commands(),
            Step::Confirm => vec![("Enter", "start"), ("Esc", "back")],
            Step::Working(_) => vec![],
            Step::Listed(_) | Step::Recovered(_) => {
                vec![("Enter", "back"), ("↑/↓ PgUp/PgDn", "scroll")]
            }
            Step::Cleared { .. } => vec![("Enter", "back")],
            Step::Show { ref show, .. } => show.commands(),
            Step::Failed(_) => vec![("Enter", "back to the fields"), ("Esc", "back")],
        }
    }

    fn animating(&self) -> bool {
        self.busy() || matches!(&self.step, Step::Show { show, .. } if show.showing())
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working(_))
            || self.key_check.checking()
            || self.approvers.checking()
    }

    fn on_quit(&mut self) -> Option<Action> {
        let Step::Show { show, .. } = &self.step else {
            return None;
        };
        let ended = show.abandoned();
        self.clear(ended)
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_every_key_a_keyset_or_a_key_id() {
        assert!(matches!(selection(""), Some(Selection::All)));
        assert!(matches!(selection(" 2 "), Some(Selection::Keyset(2))));
        assert!(matches!(
            selection("69C4E0DE-2A3B-4C5D-8E9F-0123456789AB"),
            Some(Selection::KeyId(id)) if id == "69c4e0de-2a3b-4c5d-8e9f-0123456789ab"
        ));
        assert!(selection("keyset two").is_none());
        assert!(selection("69c4e0de").is_none());
    }
}
