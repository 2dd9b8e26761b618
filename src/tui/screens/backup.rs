//! Backup and restore (`b` on home, and on the threat that flags "no
//! backup newer than the last sensitive operation"): the console's face of
//! `custodian backup` and `custodian restore` ([`custodian_core::backup`]).
//!
//! Backup: choose the officers the archive is encrypted to — the registered
//! custodians' recipients, offered with a check box each, and any other
//! `age1…` typed —, name a new archive file (Tab completes), and a worker
//! writes it as one audited transaction. The result shows the archive's
//! path, size and SHA-256, the audit head recorded in it and every
//! recipient.
//!
//! Restore: the archive, the identity that opens it (a custodian identity
//! file with its passphrase, checked on the worker, or an age key file) and
//! a new directory that must not exist. Everything is verified before a
//! file is written; the result shows the verification read back from the
//! restored directory: the audit chain intact, its head equal to the
//! archive's, every file's SHA-256. A restore never merges into a
//! workspace. Each refusal sits under the field that fixes it: a wrong
//! recipient, a wrong identity or passphrase, a flipped byte, a truncated
//! archive, a head mismatch, a target that exists.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::guardians_split::step_bar;
use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::audit;
use custodian_core::backup::{self, BackupError, BackupRecord, Manifest};
use custodian_core::error::Report;
use custodian_core::fsutil;
use custodian_core::identity::{self, IdentityError, IdentityFile};

/// Backup form: other recipients typed.
pub const F_EXTRA: usize = 0;
/// Backup form: the archive file.
pub const F_OUT: usize = 1;
/// Restore form: the archive.
pub const R_ARCHIVE: usize = 0;
/// Restore form: the identity file.
pub const R_IDENTITY: usize = 1;
/// Restore form: the identity's passphrase.
pub const R_PASS: usize = 2;
/// Restore form: the new directory.
pub const R_INTO: usize = 3;

/// A registered custodian offered as a recipient.
#[derive(Debug, Clone)]
pub struct RecipientChoice {
    /// Their name.
    pub name: String,
    /// Their age recipient.
    pub recipient: String,
}

/// What a backup needs (public values only).
#[derive(Debug, Clone)]
pub struct BackupJob {
    /// Every recipient, chosen custodians first.
    pub recipients: Vec<String>,
    /// The archive file.
    pub out: PathBuf,
}

/// What a restore needs.
pub struct RestoreJob {
    /// The archive.
    pub archive: PathBuf,
    /// A custodian identity file or an age key file.
    pub identity: PathBuf,
    /// The custodian identity's passphrase (empty for an age key file).
    pub passphrase: SecretString,
    /// The new directory.
    pub into: PathBuf,
}

impl std::fmt::Debug for RestoreJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoreJob")
            .field("archive", &self.archive)
            .field("identity", &self.identity)
            .field("into", &self.into)
            .finish_non_exhaustive()
    }
}

/// A backup written: the registry's record and the archive's size.
#[derive(Debug, Clone)]
pub struct BackupDone {
    /// What the registry recorded.
    pub record: BackupRecord,
    /// The archive's size in bytes.
    pub size: u64,
}

/// One restored file, hashed again from the restored directory.
#[derive(Debug, Clone)]
pub struct FileCheck {
    /// Relative path.
    pub path: String,
    /// Its size.
    pub size: u64,
    /// The SHA-256 the archive recorded.
    pub sha256: String,
    /// The file on disk has that SHA-256.
    pub matches: bool,
}

/// A restore done, with its verification read back from disk.
#[derive(Debug, Clone)]
pub struct RestoreDone {
    /// The new directory.
    pub into: PathBuf,
    /// The archive's manifest.
    pub manifest: Manifest,
    /// The recipient of the identity that opened it.
    pub opened_by: String,
    /// The restored audit log: entries and head, or what is wrong.
    pub chain: Result<(u64, String), String>,
    /// Every file, hashed again.
    pub files: Vec<FileCheck>,
}

enum Step {
    Menu {
        selected: usize,
    },
    Recipients,
    Archive {
        form: Form,
        running: bool,
    },
    Backed(Box<BackupDone>),
    Restore {
        form: Form,
        running: bool,
    },
    Restored {
        done: Box<RestoreDone>,
        scroll: u16,
        max: std::cell::Cell<u16>,
    },
}

/// The backup and restore screen.
pub struct BackupScreen {
    choices: Vec<RecipientChoice>,
    chosen: Vec<bool>,
    nav: ListNav,
    step: Step,
    workspace: Option<PathBuf>,
}

impl std::fmt::Debug for BackupScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupScreen")
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

fn missing(message: &str, remedy: &str) -> Report {
    Report {
        message: message.into(),
        causes: Vec::new(),
        remedy: Some(remedy.into()),
    }
}

/// "12.3 KiB" for a size in bytes.
pub fn size_words(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let kib = bytes as f64 / 1024.0;
    if kib < 1024.0 {
        format!("{kib:.1} KiB ({bytes} bytes)")
    } else {
        format!("{:.1} MiB ({bytes} bytes)", kib / 1024.0)
    }
}

impl BackupScreen {
    /// The screen on its menu, offering `choices` as recipients.
    pub fn new(choices: Vec<RecipientChoice>) -> Self {
        BackupScreen {
            chosen: vec![false; choices.len()],
            nav: ListNav::new(choices.len()),
            choices,
            step: Step::Menu { selected: 0 },
            workspace: None,
        }
    }

    /// Looks bare names up in `workspace` too (Tab completion).
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.workspace = Some(workspace.to_path_buf());
        self
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Menu { .. } => "menu",
            Step::Recipients => "recipients",
            Step::Archive { .. } => "archive",
            Step::Backed(_) => "backed-up",
            Step::Restore { .. } => "restore",
            Step::Restored { .. } => "restored",
        }
    }

    fn with_roots(&self, form: Form) -> Form {
        match &self.workspace {
            Some(ws) => form.with_workspace(ws),
            None => form,
        }
    }

    fn archive_form(&self) -> Form {
        self.with_roots(Form::new(vec![
            FormField::plain(strings::BACKUP_EXTRA, strings::BACKUP_EXTRA_HINT, ""),
            FormField::path(
                strings::BACKUP_OUT,
                strings::BACKUP_OUT_HINT,
                "",
                PathKind::Any,
            ),
        ]))
    }

    fn restore_form(&self) -> Form {
        self.with_roots(Form::new(vec![
            FormField::path(
                strings::RESTORE_ARCHIVE,
                strings::RESTORE_ARCHIVE_HINT,
                "",
                PathKind::Any,
            ),
            FormField::path(
                strings::RESTORE_IDENTITY,
                strings::RESTORE_IDENTITY_HINT,
                "",
                PathKind::Any,
            ),
            FormField::secret(strings::RESTORE_PASS, strings::RESTORE_PASS_HINT),
            FormField::path(
                strings::RESTORE_INTO,
                strings::RESTORE_INTO_HINT,
                "",
                PathKind::Any,
            ),
        ]))
    }

    /// The chosen custodians' recipients, then the typed ones; or the
    /// refusal to put under the typed field.
    fn recipients(&self, typed: &str) -> Result<Vec<String>, Report> {
        let mut all: Vec<String> = self
            .choices
            .iter()
            .zip(&self.chosen)
            .filter(|(_, on)| **on)
            .map(|(c, _)| c.recipient.clone())
            .collect();
        for word in typed
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            if let Err(e) = custodian_core::identity::parse_recipient(word) {
                let message = match e {
                    IdentityError::BadRecipient(_) => {
                        format!("{word:?} is not an age recipient (age1…)")
                    }
                    other => other.to_string(),
                };
                return Err(Report {
                    message,
                    causes: Vec::new(),
                    remedy: Some(strings::BACKUP_BAD_RECIPIENT_HINT.into()),
                });
            }
            if !all.iter().any(|r| r == word) {
                all.push(word.to_string());
            }
        }
        if all.is_empty() {
            return Err(missing(
                strings::BACKUP_NONE_CHOSEN,
                strings::BACKUP_NONE_CHOSEN_HINT,
            ));
        }
        Ok(all)
    }

    /// The name a recipient is registered under, if any.
    fn who(&self, recipient: &str) -> Option<&str> {
        self.choices
            .iter()
            .find(|c| c.recipient == recipient)
            .map(|c| c.name.as_str())
    }

    fn submit_backup(&mut self) -> Option<Action> {
        let Step::Archive { form, .. } = &self.step else {
            return None;
        };
        let typed = form.value(F_EXTRA).to_string();
        let out = form.value(F_OUT).trim().to_string();
        let recipients = self.recipients(&typed);
        let Step::Archive { form, running } = &mut self.step else {
            return None;
        };
        match recipients {
            Err(report) => {
                form.refuse(F_EXTRA, report);
                None
            }
            Ok(_) if out.is_empty() => {
                form.refuse(
                    F_OUT,
                    missing(
                        strings::BACKUP_OUT_MISSING,
                        strings::BACKUP_OUT_MISSING_HINT,
                    ),
                );
                None
            }
            Ok(recipients) => {
                *running = true;
                Some(Action::StartBackup(BackupJob {
                    recipients,
                    out: PathBuf::from(out),
                }))
            }
        }
    }

    fn submit_restore(&mut self) -> Option<Action> {
        let Step::Restore { form, running } = &mut self.step else {
            return None;
        };
        for (i, hint) in [
            (R_ARCHIVE, strings::RESTORE_ARCHIVE_HINT),
            (R_IDENTITY, strings::RESTORE_IDENTITY_HINT),
            (R_INTO, strings::RESTORE_INTO_HINT),
        ] {
            if form.value(i).trim().is_empty() {
                form.refuse(i, missing(strings::RESTORE_MISSING, hint));
                return None;
            }
        }
        *running = true;
        Some(Action::StartRestore(Box::new(RestoreJob {
            archive: PathBuf::from(form.value(R_ARCHIVE).trim()),
            identity: PathBuf::from(form.value(R_IDENTITY).trim()),
            passphrase: SecretString::from(form.value(R_PASS)),
            into: PathBuf::from(form.value(R_INTO).trim()),
        })))
    }

    fn recipient_lines(&self) -> Vec<(Option<usize>, Line<'static>)> {
        self.choices
            .iter()
            .zip(&self.chosen)
            .enumerate()
            .map(|(i, (c, on))| {
                let mark = if *on { "[✔]" } else { "[ ]" };
                let pointer = if self.nav.is_selected(i) {
                    "▶ "
                } else {
                    "  "
                };
                let line = Line::from(vec![
                    Span::raw(pointer),
                    Span::styled(
                        format!("{mark} "),
                        if *on {
                            Style::default().fg(Color::Green)
                        } else {
                            Style::default()
                        },
                    ),
                    Span::raw(format!("{} — {}", c.name, c.recipient)),
                ]);
                let line = if self.nav.is_selected(i) {
                    line.style(Style::default().add_modifier(Modifier::REVERSED))
                } else {
                    line
                };
                (Some(i), line)
            })
            .collect()
    }

    fn backed_lines(&self, done: &BackupDone) -> Vec<Line<'static>> {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let r = &done.record;
        let mut lines = vec![
            Line::from(Span::styled(strings::BACKUP_DONE, bold.fg(Color::Green))),
            Line::from(format!("Archive: {}", r.out.display())),
            Line::from(format!(
                "Size: {} · {} files",
                size_words(done.size),
                r.files
            )),
            Line::from(format!("SHA-256: {}", r.sha256)),
            Line::from(format!(
                "Audit head recorded (entry {}): {}",
                r.audit_seq, r.audit_head
            )),
            Line::from(Span::styled(
                format!("Encrypted to {} recipient(s):", r.recipients.len()),
                bold,
            )),
        ];
        for rec in &r.recipients {
            let who = self.who(rec).unwrap_or("not registered here");
            lines.push(Line::from(format!("  {who} — {rec}")));
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            strings::BACKUP_DONE_HINT,
            widgets::hint(),
        )));
        lines
    }
}

/// The backup form's field a refused backup goes back to.
pub fn backup_field(e: &BackupError) -> usize {
    match e {
        BackupError::NoRecipient | BackupError::BadRecipient { .. } => F_EXTRA,
        _ => F_OUT,
    }
}

/// The restore form's field a refused restore goes back to.
fn restore_field(e: &BackupError) -> usize {
    match e {
        BackupError::NotForThisIdentity { .. } => R_IDENTITY,
        BackupError::TargetNotEmpty(_) => R_INTO,
        _ => R_ARCHIVE,
    }
}

/// Runs a restore (on the worker, never the UI thread): refuses a target
/// that exists or lies inside the `live` workspace, opens the identity (a
/// custodian identity with its passphrase, or an age key file), restores
/// after every check ([`backup::restore`]), then reads the restored
/// directory back: the audit chain and every file's SHA-256. A refusal
/// names the form field that fixes it.
pub fn restore(job: &RestoreJob, live: &Path) -> Result<RestoreDone, (usize, Report)> {
    let refuse = |field: usize, message: String, remedy: &str| {
        (
            field,
            Report {
                message,
                causes: Vec::new(),
                remedy: Some(remedy.into()),
            },
        )
    };
    let into = custodian_core::outputs::absolute(&job.into);
    if job.into.symlink_metadata().is_ok() {
        return Err(refuse(
            R_INTO,
            format!("{} already exists", job.into.display()),
            strings::RESTORE_INTO_EXISTS_HINT,
        ));
    }
    let live = custodian_core::outputs::absolute(live);
    let real_live = std::fs::canonicalize(&live).unwrap_or_else(|_| live.clone());
    let real_parent = into
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .unwrap_or_else(|| into.clone());
    if into.starts_with(&live) || real_parent.starts_with(&real_live) {
        return Err(refuse(
            R_INTO,
            format!(
                "{} is inside the workspace open in this console ({})",
                into.display(),
                live.display()
            ),
            strings::RESTORE_INTO_LIVE_HINT,
        ));
    }
    let bytes = fsutil::read_limited(&job.identity, 1 << 20)
        .map(Zeroizing::new)
        .map_err(|e| (R_IDENTITY, Report::from_error(&e)))?;
    let opened;
    let plain;
    let key = if String::from_utf8_lossy(&bytes)
        .trim_start()
        .starts_with('{')
    {
        let file =
            IdentityFile::from_bytes(&bytes).map_err(|e| (R_IDENTITY, Report::from_error(&e)))?;
        if job.passphrase.expose_secret().is_empty() {
            return Err(refuse(
                R_PASS,
                format!("{} ({})", strings::RESTORE_NEEDS_PASS, file.name),
                strings::RESTORE_NEEDS_PASS_HINT,
            ));
        }
        opened = file.open(&job.passphrase).map_err(|e| {
            let field = match e {
                IdentityError::Envelope(_) => R_PASS,
                _ => R_IDENTITY,
            };
            (field, Report::from_error(&e))
        })?;
        opened.age_identity()
    } else {
        let text = SecretString::from(String::from_utf8_lossy(&bytes).into_owned());
        plain = identity::parse_age_key_file(text.expose_secret())
            .map_err(|e| (R_IDENTITY, Report::from_error(&e)))?;
        &plain
    };
    let opened_by = key.to_public().to_string();
    let done = backup::restore(&job.archive, key, &job.into)
        .map_err(|e| (restore_field(&e), Report::from_error(&e)))?;
    // The verification, read back from the restored directory.
    let chain = fsutil::read_limited(
        &done.into.join(custodian_core::workspace::AUDIT_FILE),
        backup::MAX_ARCHIVE,
    )
    .map_err(|e| e.to_string())
    .and_then(|log| audit::verify(&log).map_err(|e| e.to_string()))
    .map(|c| (c.entries, c.head));
    let files = done
        .manifest
        .files
        .iter()
        .map(|f| {
            let on_disk = fsutil::read_limited(&done.into.join(&f.path), backup::MAX_ARCHIVE)
                .map(|b| fsutil::sha256_hex(&Zeroizing::new(b)));
            FileCheck {
                path: f.path.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                matches: on_disk.is_ok_and(|h| h == f.sha256),
            }
        })
        .collect();
    Ok(RestoreDone {
        into: done.into,
        manifest: done.manifest,
        opened_by,
        chain,
        files,
    })
}

fn restored_lines(done: &RestoreDone) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let ok = Style::default().fg(Color::Green);
    let bad = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
    let m = &done.manifest;
    let all_match = done.files.iter().all(|f| f.matches);
    let head_ok =
        matches!(&done.chain, Ok((n, head)) if *head == m.audit_head && *n == m.audit_entries);
    let mut lines = vec![
        Line::from(Span::styled(
            strings::RESTORE_DONE,
            if all_match && head_ok {
                bold.fg(Color::Green)
            } else {
                bad
            },
        )),
        Line::from(format!("Into: {}", done.into.display())),
        Line::from(format!(
            "Archive made at {} · opened by {}",
            m.created_at, done.opened_by
        )),
    ];
    match &done.chain {
        Ok((n, head)) if head_ok => {
            lines.push(Line::from(Span::styled(
                format!("✔ Audit chain intact: {n} entries"),
                ok,
            )));
            lines.push(Line::from(Span::styled(
                format!("✔ Head equals the archive's: {head}"),
                ok,
            )));
        }
        Ok((n, head)) => lines.push(Line::from(Span::styled(
            format!(
                "✘ Restored log ends at {head} ({n} entries); the archive recorded {} ({} entries)",
                m.audit_head, m.audit_entries
            ),
            bad,
        ))),
        Err(problem) => lines.push(Line::from(Span::styled(
            format!("✘ Restored audit log does not verify: {problem}"),
            bad,
        ))),
    }
    let matching = done.files.iter().filter(|f| f.matches).count();
    lines.push(Line::from(Span::styled(
        format!(
            "{} Every file's SHA-256 read back: {matching} of {} match",
            if all_match { "✔" } else { "✘" },
            done.files.len()
        ),
        if all_match { ok } else { bad },
    )));
    for f in &done.files {
        let (mark, style) = if f.matches {
            ("✔", Style::default())
        } else {
            ("✘", bad)
        };
        lines.push(Line::from(Span::styled(
            format!("  {mark} {} · {} bytes · {}", f.path, f.size, f.sha256),
            style,
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        strings::RESTORE_DONE_HINT,
        widgets::hint(),
    )));
    lines
}

impl Screen for BackupScreen {
    fn touches_secrets(&self) -> bool {
        matches!(self.step, Step::Restore { .. })
    }

    fn title(&self) -> String {
        strings::BACKUP_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Menu { selected } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Down | KeyCode::Char('j') => {
                    *selected = (*selected + 1).min(strings::BACKUP_MENU.len() - 1);
                    None
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    *selected = selected.saturating_sub(1);
                    None
                }
                KeyCode::Char('1') | KeyCode::Char('b') => {
                    self.step = Step::Recipients;
                    None
                }
                KeyCode::Char('2') | KeyCode::Char('r') => {
                    self.step = Step::Restore {
                        form: self.restore_form(),
                        running: false,
                    };
                    None
                }
                KeyCode::Enter => {
                    self.step = if *selected == 0 {
                        Step::Recipients
                    } else {
                        Step::Restore {
                            form: self.restore_form(),
                            running: false,
                        }
                    };
                    None
                }
                _ => None,
            },
            Step::Recipients => {
                if self.nav.handle_key(key) {
                    return None;
                }
                match key.code {
                    KeyCode::Esc => self.step = Step::Menu { selected: 0 },
                    KeyCode::Char(' ') | KeyCode::Char('x') => {
                        if let Some(on) = self.chosen.get_mut(self.nav.selected()) {
                            *on = !*on;
                        }
                    }
                    KeyCode::Enter => {
                        self.step = Step::Archive {
                            form: self.archive_form(),
                            running: false,
                        }
                    }
                    _ => {}
                }
                None
            }
            Step::Archive { form, running } => {
                if *running {
                    return None;
                }
                match form.handle_key(key) {
                    FormEvent::Cancel => {
                        self.step = Step::Recipients;
                        None
                    }
                    FormEvent::Handled => None,
                    FormEvent::Submit => self.submit_backup(),
                }
            }
            Step::Restore { form, running } => {
                if *running {
                    return None;
                }
                match form.handle_key(key) {
                    FormEvent::Cancel => {
                        self.step = Step::Menu { selected: 1 };
                        None
                    }
                    FormEvent::Handled => None,
                    FormEvent::Submit => self.submit_restore(),
                }
            }
            Step::Backed(_) => match key.code {
                KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                _ => None,
            },
            Step::Restored { scroll, max, .. } => {
                if let Some(s) = widgets::scroll_key(key, *scroll, max.get()) {
                    *scroll = s;
                    return None;
                }
                match key.code {
                    KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                    _ => None,
                }
            }
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Archive {
                form,
                running: false,
            }
            | Step::Restore {
                form,
                running: false,
            } => {
                form.paste(text);
            }
            _ => {}
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        match (&mut self.step, result) {
            (Step::Archive { running: true, .. }, Ok(JobResult::BackupWritten(done))) => {
                self.step = Step::Backed(done.clone());
                Some(Action::RefreshHome)
            }
            (Step::Restore { running: true, .. }, Ok(JobResult::RestoreVerified(done))) => {
                self.step = Step::Restored {
                    done: done.clone(),
                    scroll: 0,
                    max: std::cell::Cell::new(u16::MAX),
                };
                None
            }
            (
                Step::Archive {
                    form,
                    running: running @ true,
                }
                | Step::Restore {
                    form,
                    running: running @ true,
                },
                result,
            ) => {
                *running = false;
                let (field, report) = match result {
                    Ok(JobResult::BackupRefused { field, report }) => (*field, report.clone()),
                    Err(report) => (form.focus(), report.clone()),
                    Ok(_) => return None,
                };
                form.refuse(field, report);
                None
            }
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let bar = match &self.step {
            Step::Menu { .. } => Line::from(""),
            Step::Recipients => step_bar(&strings::BACKUP_STEPS, 0),
            Step::Archive { .. } => step_bar(&strings::BACKUP_STEPS, 1),
            Step::Backed(_) => step_bar(&strings::BACKUP_STEPS, 2),
            Step::Restore { .. } => step_bar(&strings::RESTORE_STEPS, 0),
            Step::Restored { .. } => step_bar(&strings::RESTORE_STEPS, 1),
        };
        let [bar_area, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
        frame.render_widget(Paragraph::new(bar), bar_area);
        let paragraph =
            |lines: Vec<Line<'static>>| Paragraph::new(lines).wrap(Wrap { trim: false });
        match &self.step {
            Step::Menu { selected } => {
                let mut lines = Vec::new();
                for (i, (what, why)) in strings::BACKUP_MENU.iter().enumerate() {
                    let on = i == *selected;
                    let style = if on {
                        bold.add_modifier(Modifier::REVERSED)
                    } else {
                        bold
                    };
                    let pointer = if on { "▶" } else { " " };
                    lines.push(Line::from(Span::styled(
                        format!("{pointer} {}. {what}", i + 1),
                        style,
                    )));
                    lines.push(Line::from(Span::styled(
                        format!("     {why}"),
                        widgets::hint(),
                    )));
                    lines.push(Line::from(""));
                }
                frame.render_widget(paragraph(lines), body);
            }
            Step::Recipients => {
                let [head, list, foot] = Layout::vertical([
                    Constraint::Length(1),
                    Constraint::Min(1),
                    Constraint::Length(2),
                ])
                .areas(body);
                frame.render_widget(
                    Paragraph::new(Span::styled(strings::BACKUP_RECIPIENTS_HEAD, bold)),
                    head,
                );
                if self.choices.is_empty() {
                    frame.render_widget(
                        paragraph(vec![Line::from(strings::BACKUP_NO_CUSTODIANS)]),
                        list,
                    );
                } else {
                    self.nav.render(frame, list, self.recipient_lines());
                }
                let n = self.chosen.iter().filter(|c| **c).count();
                frame.render_widget(
                    paragraph(vec![
                        Line::from(format!("{n} chosen")),
                        Line::from(Span::styled(
                            strings::BACKUP_RECIPIENTS_HINT,
                            widgets::hint(),
                        )),
                    ]),
                    foot,
                );
            }
            Step::Archive { form, running } => {
                let chosen: Vec<&str> = self
                    .choices
                    .iter()
                    .zip(&self.chosen)
                    .filter(|(_, on)| **on)
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                let mut lines = vec![
                    Line::from(format!(
                        "Chosen custodians: {}",
                        if chosen.is_empty() {
                            "none".to_string()
                        } else {
                            chosen.join(", ")
                        }
                    )),
                    Line::from(""),
                ];
                lines.extend(form.lines());
                if *running {
                    lines.push(Line::from(format!(
                        "{} {}",
                        widgets::spinner(chrome.tick),
                        strings::BACKUP_WORKING
                    )));
                }
                frame.render_widget(paragraph(lines), body);
            }
            Step::Backed(done) => frame.render_widget(paragraph(self.backed_lines(done)), body),
            Step::Restore { form, running } => {
                let mut lines = form.lines();
                if *running {
                    lines.push(Line::from(format!(
                        "{} {}",
                        widgets::spinner(chrome.tick),
                        strings::RESTORE_WORKING
                    )));
                }
                frame.render_widget(paragraph(lines), body);
            }
            Step::Restored { done, scroll, max } => {
                max.set(widgets::scrolled(
                    frame,
                    body,
                    restored_lines(done),
                    *scroll,
                ));
            }
        }
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Menu { .. } => vec![("↑/↓ 1-2", "choose"), ("Enter", "open"), ("Esc", "home")],
            Step::Recipients => vec![
                ("↑/↓ j/k", "move"),
                ("Space", "choose"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Step::Archive { .. } => vec![
                ("Tab", "complete / next"),
                ("Enter", "next / write"),
                ("Esc", "recipients"),
            ],
            Step::Restore { .. } => vec![
                ("Tab", "complete / next"),
                ("Enter", "next / restore"),
                ("Esc", "back"),
            ],
            Step::Backed(_) => vec![("Enter/Esc", "home")],
            Step::Restored { .. } => vec![("↑/↓ PgUp/PgDn", "scroll"), ("Enter/Esc", "home")],
        }
    }

    fn takes_text(&self) -> bool {
        matches!(self.step, Step::Archive { .. } | Step::Restore { .. })
    }

    fn holds_input(&self) -> bool {
        match &self.step {
            Step::Archive { form, .. } | Step::Restore { form, .. } => form.holds_input(),
            _ => false,
        }
    }

    fn busy(&self) -> bool {
        matches!(
            self.step,
            Step::Archive { running: true, .. } | Step::Restore { running: true, .. }
        )
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
