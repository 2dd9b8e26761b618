//! "Verify a kit" and "Derive Key Share #1": the same wizard in two modes.
//! Kit → private key → passphrase (blank when the key is not encrypted) →
//! for derivation, the wallets (a file, or a pasted list) and the output
//! file and format → the work on a worker thread with a progress gauge →
//! a summary that names files and counts, never a key or a share.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::drkit::derive::{DeriveOptions, DeriveSummary, OutputFormat, WalletSource};
use custodian_core::drkit::kit::KitReport;
use custodian_core::error::Report;

/// The wizard's fields, in focus order (wallets and output only when deriving).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KitField {
    /// The kit zip.
    Kit,
    /// The recovery private key file.
    Key,
    /// Its passphrase (masked).
    Passphrase,
    /// The wallet list.
    Wallets,
    /// The output file.
    Output,
}

impl KitField {
    /// The field's place in the form (the kit, key and passphrase are the
    /// first three fields of the workspace-keys form too).
    pub fn index(self) -> usize {
        match self {
            KitField::Kit => 0,
            KitField::Key => 1,
            KitField::Passphrase => 2,
            KitField::Wallets => 3,
            KitField::Output => 4,
        }
    }
}

const F_PASS: usize = 2;
const F_WALLETS: usize = 3;
const F_OUTPUT: usize = 4;

/// The recovery key's file and passphrase, where both kit forms have them.
const F_KEY: usize = 1;

/// The recovery key's passphrase checked on a worker as its field is left
/// (shared by the kit wizards): whether a check runs, and whether the
/// passphrase as typed opens the key. Only a change to the passphrase
/// forgets that it opened, so moving through the fields does not run the
/// key derivation again.
#[derive(Debug, Default)]
pub(crate) struct KeyCheck {
    checking: bool,
    opened: bool,
}

impl KeyCheck {
    /// The key is being opened on a worker.
    pub(crate) fn checking(&self) -> bool {
        self.checking
    }

    /// The passphrase was refused or emptied elsewhere.
    pub(crate) fn forget(&mut self) {
        self.opened = false;
    }

    /// A key on `form` (its key file and passphrase at fields 1 and 2):
    /// the form's event, and when `check` and the passphrase (typed, not
    /// yet known to open the key) was just left forward, the check to run.
    pub(crate) fn handle_key(
        &mut self,
        form: &mut Form,
        key: KeyEvent,
        check: bool,
    ) -> (FormEvent, Option<Action>) {
        let focus = form.focus();
        let before = (focus == F_PASS).then(|| Zeroizing::new(form.value(F_PASS).to_string()));
        let event = form.handle_key(key);
        if before.is_some_and(|b| b.as_str() != form.value(F_PASS)) {
            self.opened = false;
        }
        let left = focus == F_PASS && form.focus() > F_PASS;
        if event == FormEvent::Handled
            && check
            && left
            && !self.opened
            && !form.value(F_PASS).is_empty()
        {
            self.checking = true;
            let action = Action::CheckKitKey {
                key: PathBuf::from(form.value(F_KEY).trim()),
                passphrase: Some(SecretString::from(form.value(F_PASS))),
            };
            return (event, Some(action));
        }
        (event, None)
    }

    /// A paste into `form`.
    pub(crate) fn paste(&mut self, form: &mut Form, text: &str) {
        let before =
            (form.focus() == F_PASS).then(|| Zeroizing::new(form.value(F_PASS).to_string()));
        form.paste(text);
        if before.is_some_and(|b| b.as_str() != form.value(F_PASS)) {
            self.opened = false;
        }
    }

    /// The worker's answer to the check; false when none was waiting.
    pub(crate) fn on_checked(
        &mut self,
        form: &mut Form,
        result: &Result<JobResult, Report>,
    ) -> bool {
        if !self.checking {
            return false;
        }
        self.checking = false;
        match result {
            Ok(JobResult::KitKeyOpened) => self.opened = true,
            Ok(JobResult::KitInputRefused { field, report }) => {
                form.refuse(field.index(), report.clone());
            }
            Err(report) => form.set_error(F_KEY, report.clone()),
            Ok(_) => {}
        }
        true
    }

    /// Under the form: the spinner while the key opens, or that it opened.
    pub(crate) fn line(&self, tick: u64) -> Option<Line<'static>> {
        if self.checking {
            Some(Line::from(format!(
                "{} {}",
                widgets::spinner(tick),
                strings::KIT_CHECKING_KEY
            )))
        } else if self.opened {
            Some(Line::from(Span::styled(
                strings::KIT_KEY_OPENED,
                Style::default().fg(Color::Green),
            )))
        } else {
            None
        }
    }
}

#[derive(Debug)]
enum Step {
    Input,
    Working(Progress),
    Verified(KitReport),
    Derived(DeriveSummary),
    Failed(Report),
}

/// The wizard.
#[derive(Debug)]
pub struct KitUseWizard {
    derive: bool,
    /// Kit, key, passphrase (masked), and when deriving the wallet list
    /// file and the output file: one shared form.
    form: Form,
    /// The pasted list (one id per line); ids are not secret.
    wallets_list: String,
    list_mode: bool,
    format: OutputFormat,
    skip_invalid: bool,
    /// The key passphrase, checked on a worker as it is left when
    /// deriving (before the wallets are asked).
    key_check: KeyCheck,
    step: Step,
}

impl KitUseWizard {
    /// A wizard to verify (`derive == false`) or derive, with the key path prefilled.
    pub fn new(derive: bool, key_path: &str) -> Self {
        let mut fields = vec![
            FormField::path(strings::KIT_KIT_PROMPT, "", "", PathKind::Kit),
            FormField::path(strings::KIT_KEY_PROMPT, "", key_path, PathKind::KeyFile),
            FormField::secret(strings::KIT_OPEN_PASS_PROMPT, strings::KIT_OPEN_PASS_HINT),
        ];
        if derive {
            fields.push(FormField::path(
                strings::KIT_WALLETS_FILE_PROMPT,
                strings::KIT_WALLETS_HINT,
                "",
                PathKind::WalletList,
            ));
            fields.push(FormField::path(
                strings::KIT_OUT_PROMPT,
                strings::KIT_OUT_HINT,
                "",
                PathKind::Any,
            ));
        }
        KitUseWizard {
            derive,
            form: Form::new(fields),
            wallets_list: String::new(),
            list_mode: false,
            format: OutputFormat::VendorJson,
            skip_invalid: false,
            key_check: KeyCheck::default(),
            step: Step::Input,
        }
    }

    fn passphrase(&self) -> Option<SecretString> {
        let p = self.form.value(F_PASS);
        (!p.is_empty()).then(|| SecretString::from(p))
    }

    fn start(&mut self) -> Action {
        let passphrase = self.passphrase();
        let kit = PathBuf::from(self.form.value(0).trim());
        let key = PathBuf::from(self.form.value(1).trim());
        self.step = Step::Working(Progress::default());
        if !self.derive {
            return Action::VerifyKit {
                kit,
                key,
                passphrase,
            };
        }
        let wallets = if self.list_mode {
            WalletSource::List(self.wallets_list.lines().map(str::to_string).collect())
        } else {
            WalletSource::File(PathBuf::from(self.form.value(F_WALLETS).trim()))
        };
        Action::DeriveShares {
            kit,
            key,
            passphrase,
            wallets,
            out: PathBuf::from(self.form.value(F_OUTPUT).trim()),
            options: DeriveOptions {
                format: self.format,
                skip_invalid: self.skip_invalid,
                threads: None,
            },
        }
    }

    /// Keys while the wallet ids are typed or pasted as a list.
    fn list_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Tab => self.list_mode = false,
            KeyCode::Char('d') if ctrl => self.form.focus_on(F_OUTPUT),
            KeyCode::Up | KeyCode::BackTab => self.form.focus_on(F_PASS),
            KeyCode::Enter => self.wallets_list.push('\n'),
            KeyCode::Char(c) if !ctrl && self.wallets_list.len() < 1 << 20 => {
                self.wallets_list.push(c);
            }
            KeyCode::Backspace => {
                self.wallets_list.pop();
            }
            _ => {}
        }
    }

    fn input_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.key_check.checking() {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let focus = self.form.focus();
        if self.derive && !self.form.picking() {
            if focus == F_WALLETS && self.list_mode && key.code != KeyCode::Esc {
                self.list_key(key);
                return None;
            }
            match key.code {
                // Tab on an empty wallet-file field switches to a pasted list.
                KeyCode::Tab if focus == F_WALLETS && self.form.value(F_WALLETS).is_empty() => {
                    self.list_mode = true;
                    return None;
                }
                KeyCode::Char('f') if ctrl && focus == F_OUTPUT => {
                    self.format = match self.format {
                        OutputFormat::VendorJson => OutputFormat::Jsonl,
                        OutputFormat::Jsonl => OutputFormat::Csv,
                        OutputFormat::Csv => OutputFormat::VendorJson,
                    };
                    return None;
                }
                KeyCode::Char('s') if ctrl && focus == F_OUTPUT => {
                    self.skip_invalid = !self.skip_invalid;
                    return None;
                }
                _ => {}
            }
        }
        // Deriving: the passphrase is checked as it is left, so a wrong
        // one is fixed before the wallets are typed (verifying runs at
        // once, and a wrong one comes back under the field).
        match self.key_check.handle_key(&mut self.form, key, self.derive) {
            (_, Some(check)) => Some(check),
            (FormEvent::Cancel, None) => Some(Action::Back),
            (FormEvent::Submit, None) => Some(self.start()),
            (FormEvent::Handled, None) => None,
        }
    }
}

impl Screen for KitUseWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        if self.derive {
            strings::KIT_DERIVE_TITLE.into()
        } else {
            strings::KIT_VERIFY_TITLE.into()
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &self.step {
            Step::Input => self.input_key(key),
            Step::Working(_) => None,
            Step::Verified(_) | Step::Derived(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            // Back to the fields, everything kept (the kit path is the
            // usual culprit: the focus goes there).
            Step::Failed(_) => match key.code {
                KeyCode::Enter => {
                    self.step = Step::Input;
                    self.form.focus_on(0);
                    None
                }
                KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        if !matches!(self.step, Step::Input) || self.key_check.checking() {
            return None;
        }
        if self.derive && self.list_mode && self.form.focus() == F_WALLETS {
            // A pasted list keeps its lines.
            self.wallets_list.push_str(text);
            return None;
        }
        self.key_check.paste(&mut self.form, text);
        None
    }

    fn takes_text(&self) -> bool {
        matches!(self.step, Step::Input)
    }

    fn holds_input(&self) -> bool {
        matches!(self.step, Step::Input | Step::Working(_) | Step::Failed(_))
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let WorkerMsg::Finished(result) = msg
            && self.key_check.on_checked(&mut self.form, result)
        {
            return None;
        }
        if !matches!(self.step, Step::Working(_)) {
            return None;
        }
        match msg {
            WorkerMsg::Progress { .. } => {
                if let Step::Working(progress) = &mut self.step {
                    progress.update(msg);
                }
                None
            }
            WorkerMsg::Finished(Ok(JobResult::KitVerified(r))) => {
                self.step = Step::Verified(r.clone());
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Ok(JobResult::SharesDerived(s))) => {
                self.step = Step::Derived(s.as_ref().clone());
                Some(Action::RefreshHome)
            }
            // A value the user typed was refused: back to that field, the
            // error under it, everything else kept.
            WorkerMsg::Finished(Ok(JobResult::KitInputRefused { field, report })) => {
                self.step = Step::Input;
                // The field is focused with the error under it; a secret
                // is emptied, to be typed again masked.
                self.form.refuse(field.index(), report.clone());
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Err(report)) => {
                self.step = Step::Failed(report.clone());
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Ok(_)) => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let dim = crate::tui::widgets::hint();
        let ok = Style::default()
            .fg(Color::Green)
            .add_modifier(Modifier::BOLD);
        let mut lines: Vec<Line> = Vec::new();
        match &self.step {
            Step::Input => {
                let mut form = self.form.lines();
                if self.derive && self.list_mode {
                    // The wallet field shows the pasted list instead.
                    let at = form
                        .iter()
                        .position(|l| l.to_string().starts_with(strings::KIT_WALLETS_FILE_PROMPT))
                        .unwrap_or(form.len());
                    let on = self.form.focus() == F_WALLETS;
                    let n = self.wallets_list.lines().count();
                    let mut list = vec![Line::from(format!(
                        "{}: {}{}",
                        strings::KIT_WALLETS_LIST_PROMPT,
                        custodian_core::text::count(n as u64, "line", "lines"),
                        if on { " — Ctrl-D when done" } else { "" }
                    ))];
                    if on {
                        let last: Vec<&str> = self.wallets_list.lines().rev().take(5).collect();
                        for l in last.into_iter().rev() {
                            list.push(Line::from(Span::styled(format!("    {l}"), dim)));
                        }
                        list.push(Line::from(Span::styled(strings::KIT_WALLETS_HINT, dim)));
                    }
                    let end = if on { at + 2 } else { at + 1 };
                    form.splice(at..end.min(form.len()), list);
                }
                lines.extend(form);
                lines.extend(self.key_check.line(chrome.tick));
                if self.derive {
                    lines.push(Line::from(format!(
                        "Format: {}   Skip invalid lines: {}",
                        self.format.name(),
                        if self.skip_invalid { "yes" } else { "no" }
                    )));
                }
            }
            Step::Working(progress) => {
                let [top, gauge] =
                    Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(area);
                let what = if self.derive {
                    strings::KIT_DERIVE_WORKING
                } else {
                    strings::KIT_VERIFY_WORKING
                };
                frame.render_widget(
                    Paragraph::new(format!("{} {what}", widgets::spinner(chrome.tick))),
                    top,
                );
                if progress.total > 0 {
                    frame.render_widget(widgets::progress_gauge(progress), gauge);
                }
                return;
            }
            Step::Verified(r) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::KIT_VERIFY_DONE),
                    ok,
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(format!("Kit:     {}", r.kit.display())));
                lines.push(Line::from(format!("SHA-256: {}", r.kit_sha256)));
                lines.push(Line::from(format!(
                    "Tenant:  {}   layout: {:?}",
                    r.tenant_id.as_deref().unwrap_or("(not given)"),
                    r.layout
                )));
                lines.push(Line::from(format!("Signing keys: {}", r.keys.len())));
                for k in &r.keys {
                    lines.push(Line::from(format!(
                        "  {}  {}",
                        k.key_id,
                        k.algo.as_deref().unwrap_or("")
                    )));
                }
                lines.push(Line::from(format!("Master keys: {}", r.master_keys.len())));
                for m in &r.master_keys {
                    lines.push(Line::from(format!("  {}  {}", m.id, m.kind)));
                }
                for d in &r.decrypted {
                    lines.push(Line::from(format!(
                        "Decrypted: cloud cosigner {} (entry {}, 32 bytes)",
                        d.cosigner_id, d.entry
                    )));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(strings::KIT_NO_SECRET));
            }
            Step::Derived(s) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::KIT_DERIVE_DONE),
                    ok,
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(s.counts()));
                lines.push(Line::from(format!(
                    "File:    {} ({})",
                    s.out.display(),
                    s.format
                )));
                lines.push(Line::from(format!("SHA-256: {}", s.out_sha256)));
                for note in s.list_notes() {
                    lines.push(Line::from(note));
                }
                if !s.skipped.is_empty() {
                    lines.push(Line::from(Span::styled(
                        format!(
                            "Skipped {}:",
                            custodian_core::text::count(
                                s.skipped.len() as u64,
                                "invalid line",
                                "invalid lines"
                            )
                        ),
                        Style::default().fg(Color::Yellow),
                    )));
                    for b in s.skipped.iter().take(8) {
                        lines.push(Line::from(format!("  line {}: {}", b.line, b.reason)));
                    }
                    if s.skipped.len() > 8 {
                        lines.push(Line::from(format!("  … and {} more", s.skipped.len() - 8)));
                    }
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    strings::KIT_OUT_HINT,
                    Style::default().fg(Color::Yellow),
                )));
            }
            Step::Failed(report) => {
                lines.push(Line::from(Span::styled(
                    strings::FAILED_TITLE,
                    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                )));
                // The bad-wallet-id message lists one line per refused id.
                let mut first = report.clone();
                let mut rest = Vec::new();
                if let Some((head, tail)) = report.message.split_once('\n') {
                    first.message = head.to_string();
                    rest = tail.lines().map(str::to_string).collect();
                }
                let mut shown = widgets::report_lines(&first);
                let at = 1.min(shown.len());
                for (i, l) in rest.into_iter().enumerate() {
                    shown.insert(at + i, Line::from(l));
                }
                lines.extend(shown);
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        let focus = self.form.focus();
        match &self.step {
            Step::Input if focus == F_WALLETS && self.list_mode => {
                vec![("Ctrl-D", "done"), ("Tab", "use a file"), ("Esc", "leave")]
            }
            Step::Input if focus == F_WALLETS => vec![
                ("Enter", "next"),
                ("Tab", "complete / paste a list"),
                ("Esc", "leave"),
            ],
            Step::Input if focus == F_OUTPUT => vec![
                ("Enter", "derive"),
                ("Ctrl-F", "format"),
                ("Ctrl-S", "skip invalid"),
                ("Esc", "leave"),
            ],
            Step::Input if focus == F_PASS && !self.derive => {
                vec![("Enter", "verify"), ("↑/↓ Tab", "field"), ("Esc", "leave")]
            }
            Step::Input => vec![("Enter", "next"), ("↑/↓ Tab", "field"), ("Esc", "leave")],
            Step::Working(_) => vec![],
            Step::Verified(_) | Step::Derived(_) => vec![("Enter", "back")],
            Step::Failed(_) => vec![("Enter", "back to the fields"), ("Esc", "back")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working(_)) || self.key_check.checking()
    }
}
