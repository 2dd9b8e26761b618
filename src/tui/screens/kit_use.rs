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

use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
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

use KitField as Field;

#[derive(Debug)]
enum Step {
    Input(Field),
    Working(Progress),
    Verified(KitReport),
    Derived(DeriveSummary),
    Failed(Report),
}

/// The wizard.
#[derive(Debug)]
pub struct KitUseWizard {
    derive: bool,
    kit: TextField,
    key: TextField,
    pass: TextField,
    wallets_file: TextField,
    /// The pasted list (one id per line); ids are not secret.
    wallets_list: String,
    list_mode: bool,
    out: TextField,
    format: OutputFormat,
    skip_invalid: bool,
    error: Option<Report>,
    /// The field the error belongs to: it is shown under that field.
    error_at: Option<Field>,
    step: Step,
}

impl KitUseWizard {
    /// A wizard to verify (`derive == false`) or derive, with the key path prefilled.
    pub fn new(derive: bool, key_path: &str) -> Self {
        let mut key = TextField::default();
        key.set(key_path);
        KitUseWizard {
            derive,
            kit: TextField::default(),
            key,
            pass: TextField::masked(),
            wallets_file: TextField::default(),
            wallets_list: String::new(),
            list_mode: false,
            out: TextField::default(),
            format: OutputFormat::VendorJson,
            skip_invalid: false,
            error: None,
            error_at: None,
            step: Step::Input(Field::Kit),
        }
    }

    fn next(&self, f: Field) -> Option<Field> {
        match (f, self.derive) {
            (Field::Kit, _) => Some(Field::Key),
            (Field::Key, _) => Some(Field::Passphrase),
            (Field::Passphrase, true) => Some(Field::Wallets),
            (Field::Wallets, _) => Some(Field::Output),
            (Field::Passphrase, false) | (Field::Output, _) => None,
        }
    }

    fn prev(f: Field) -> Option<Field> {
        match f {
            Field::Kit => None,
            Field::Key => Some(Field::Kit),
            Field::Passphrase => Some(Field::Key),
            Field::Wallets => Some(Field::Passphrase),
            Field::Output => Some(Field::Wallets),
        }
    }

    fn start(&mut self) -> Action {
        let passphrase = if self.pass.text().is_empty() {
            None
        } else {
            Some(SecretString::from(self.pass.text()))
        };
        self.pass.set("");
        let kit = PathBuf::from(self.kit.text().trim());
        let key = PathBuf::from(self.key.text().trim());
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
            WalletSource::File(PathBuf::from(self.wallets_file.text().trim()))
        };
        Action::DeriveShares {
            kit,
            key,
            passphrase,
            wallets,
            out: PathBuf::from(self.out.text().trim()),
            options: DeriveOptions {
                format: self.format,
                skip_invalid: self.skip_invalid,
                threads: None,
            },
        }
    }

    fn field_mut(&mut self, f: Field) -> &mut TextField {
        match f {
            Field::Kit => &mut self.kit,
            Field::Key => &mut self.key,
            Field::Passphrase => &mut self.pass,
            Field::Wallets => &mut self.wallets_file,
            Field::Output => &mut self.out,
        }
    }

    fn input_key(&mut self, f: Field, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => match Self::prev(f) {
                Some(p) => {
                    self.step = Step::Input(p);
                    None
                }
                None => Some(Action::Back),
            },
            // ↓/↑ always move between fields; Tab too, except where it
            // switches a choice (wallet source, output format).
            KeyCode::Down | KeyCode::Tab
                if !(key.code == KeyCode::Tab && matches!(f, Field::Wallets | Field::Output)) =>
            {
                if let Some(n) = self.next(f) {
                    self.step = Step::Input(n);
                }
                None
            }
            KeyCode::Up | KeyCode::BackTab => {
                if let Some(p) = Self::prev(f) {
                    self.step = Step::Input(p);
                }
                None
            }
            KeyCode::Tab if f == Field::Wallets => {
                self.list_mode = !self.list_mode;
                None
            }
            KeyCode::Tab if f == Field::Output => {
                self.format = match self.format {
                    OutputFormat::VendorJson => OutputFormat::Jsonl,
                    OutputFormat::Jsonl => OutputFormat::Csv,
                    OutputFormat::Csv => OutputFormat::VendorJson,
                };
                None
            }
            KeyCode::Char('s') if ctrl && f == Field::Output => {
                self.skip_invalid = !self.skip_invalid;
                None
            }
            // A pasted list: Enter adds a line, Ctrl-D ends the list.
            KeyCode::Enter if f == Field::Wallets && self.list_mode => {
                self.wallets_list.push('\n');
                None
            }
            KeyCode::Char('d') if ctrl && f == Field::Wallets && self.list_mode => {
                self.step = Step::Input(Field::Output);
                None
            }
            KeyCode::Char(c) if f == Field::Wallets && self.list_mode && !ctrl => {
                if self.wallets_list.len() < 1 << 20 {
                    self.wallets_list.push(c);
                }
                self.error = None;
                None
            }
            KeyCode::Backspace if f == Field::Wallets && self.list_mode => {
                self.wallets_list.pop();
                None
            }
            KeyCode::Enter => match self.next(f) {
                Some(n) => {
                    self.step = Step::Input(n);
                    None
                }
                None => Some(self.start()),
            },
            _ => {
                if self.field_mut(f).input(key) {
                    self.error = None;
                    self.error_at = None;
                }
                None
            }
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
            Step::Input(f) => {
                let f = *f;
                self.input_key(f, key)
            }
            Step::Working(_) => None,
            Step::Verified(_) | Step::Derived(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed(_) => match key.code {
                KeyCode::Enter => {
                    self.step = Step::Input(Field::Kit);
                    None
                }
                KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
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
                self.step = Step::Input(*field);
                self.error = Some(report.clone());
                self.error_at = Some(*field);
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
            Step::Input(f) => {
                let f = *f;
                lines.push(self.kit.line(strings::KIT_KIT_PROMPT, f == Field::Kit));
                lines.push(self.key.line(strings::KIT_KEY_PROMPT, f == Field::Key));
                lines.push(
                    self.pass
                        .line(strings::KIT_OPEN_PASS_PROMPT, f == Field::Passphrase),
                );
                if self.error_at == Some(Field::Passphrase)
                    && let Some(r) = &self.error
                {
                    lines.extend(widgets::report_lines(r));
                }
                if f == Field::Passphrase {
                    lines.push(Line::from(Span::styled(strings::KIT_OPEN_PASS_HINT, dim)));
                }
                if self.derive {
                    if self.list_mode {
                        let n = self.wallets_list.lines().count();
                        lines.push(Line::from(format!(
                            "{}: {}{}",
                            strings::KIT_WALLETS_LIST_PROMPT,
                            custodian_core::text::count(n as u64, "line", "lines"),
                            if f == Field::Wallets {
                                " — Ctrl-D when done"
                            } else {
                                ""
                            }
                        )));
                        if f == Field::Wallets {
                            for l in self
                                .wallets_list
                                .lines()
                                .rev()
                                .take(5)
                                .collect::<Vec<_>>()
                                .into_iter()
                                .rev()
                            {
                                lines.push(Line::from(Span::styled(format!("    {l}"), dim)));
                            }
                        }
                    } else {
                        lines.push(
                            self.wallets_file
                                .line(strings::KIT_WALLETS_FILE_PROMPT, f == Field::Wallets),
                        );
                    }
                    if f == Field::Wallets {
                        lines.push(Line::from(Span::styled(strings::KIT_WALLETS_HINT, dim)));
                    }
                    lines.push(self.out.line(strings::KIT_OUT_PROMPT, f == Field::Output));
                    lines.push(Line::from(format!(
                        "Format: {}   Skip invalid lines: {}",
                        self.format.name(),
                        if self.skip_invalid { "yes" } else { "no" }
                    )));
                    if f == Field::Output {
                        lines.push(Line::from(Span::styled(strings::KIT_OUT_HINT, dim)));
                    }
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
        if let Some(r) = self.error.as_ref().filter(|_| self.error_at.is_none()) {
            lines.push(Line::from(""));
            lines.extend(widgets::report_lines(r));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match &self.step {
            Step::Input(Field::Wallets) if self.list_mode => {
                vec![("Ctrl-D", "done"), ("Tab", "use a file"), ("Esc", "back")]
            }
            Step::Input(Field::Wallets) => {
                vec![("Enter", "next"), ("Tab", "paste a list"), ("Esc", "back")]
            }
            Step::Input(Field::Output) => vec![
                ("Enter", "derive"),
                ("Tab", "format"),
                ("Ctrl-S", "skip invalid"),
                ("Esc", "back"),
            ],
            Step::Input(Field::Passphrase) if !self.derive => {
                vec![("Enter", "verify"), ("↑/↓ Tab", "field"), ("Esc", "back")]
            }
            Step::Input(_) => vec![("Enter", "next"), ("↑/↓ Tab", "field"), ("Esc", "back")],
            Step::Working(_) => vec![],
            Step::Verified(_) | Step::Derived(_) => vec![("Enter", "back")],
            Step::Failed(_) => vec![("Enter", "try again"), ("Esc", "back")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working(_))
    }
}
