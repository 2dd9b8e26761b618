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
//! a new directory that must not exist, or be empty, outside the open
//! workspace (the core's rule, [`backup::restore`]). Everything is
//! verified before a file is written; the result shows what the restore
//! verified: the audit chain intact, its head equal to the archive's, every
//! file's SHA-256 read back after writing. A restore never merges into a
//! workspace. Each refusal sits under the field that fixes it: a wrong
//! recipient, a wrong identity or passphrase, a flipped byte, a truncated
//! archive, a head mismatch, a target that is not empty or lies inside the
//! workspace.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::{ExposeSecret, SecretString};

use super::guardians_split::step_bar;
use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::{Keys, ListNav};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::backup::{self, BackupError, BackupRecord};
use custodian_core::error::Report;
use custodian_core::fsutil::FsError;
use custodian_core::identity::{IdentityError, KeyFile};

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

/// A restore done: what [`backup::restore`] verified, and who opened it.
#[derive(Debug, Clone)]
pub struct RestoreDone {
    /// The restore and its verification: the audit chain and every file's
    /// SHA-256 as read back after writing.
    pub restored: backup::Restored,
    /// The recipient of the identity that opened it.
    pub opened_by: String,
}

enum Step {
    Menu,
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
    /// The menu's selection (backup, restore).
    menu: ListNav,
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
            menu: ListNav::with_keys(strings::BACKUP_MENU.len(), Keys::NoPaging),
            step: Step::Menu,
            workspace: None,
        }
    }

    /// Looks bare names up in `workspace` too (Tab completion).
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.workspace = Some(workspace.to_path_buf());
        self
    }

    /// Opens menu item `i`: 0 backup (its recipients), 1 restore.
    fn open(&mut self, i: usize) {
        self.menu.select(i);
        self.step = if i == 0 {
            Step::Recipients
        } else {
            Step::Restore {
                form: self.restore_form(),
                running: false,
            }
        };
    }

    /// Back to the menu with item `i` selected.
    fn back_to_menu(&mut self, i: usize) {
        self.menu.select(i);
        self.step = Step::Menu;
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Menu => "menu",
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
    /// refusal to put under the typed field, and whether the field held a
    /// secret (to be emptied: it leaves neither the screen nor the field).
    fn recipients(&self, typed: &str) -> Result<Vec<String>, (Report, bool)> {
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
                let secret = matches!(e, IdentityError::SecretInput(_));
                let message = match e {
                    IdentityError::BadRecipient(_) => {
                        format!("{word:?} is not an age recipient (age1…)")
                    }
                    other => other.to_string(),
                };
                return Err((
                    Report {
                        message,
                        causes: Vec::new(),
                        remedy: Some(strings::BACKUP_BAD_RECIPIENT_HINT.into()),
                    },
                    secret,
                ));
            }
            if !all.iter().any(|r| r == word) {
                all.push(word.to_string());
            }
        }
        if all.is_empty() {
            return Err((
                missing(
                    strings::BACKUP_NONE_CHOSEN,
                    strings::BACKUP_NONE_CHOSEN_HINT,
                ),
                false,
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
            Err((report, secret)) => {
                if secret {
                    form.set_value(F_EXTRA, "");
                }
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

/// The restore form's field a refused restore goes back to, and what it
/// says there (the console's words for a target it refuses).
fn restore_refusal(e: &BackupError, into: &Path) -> (usize, Report) {
    let report = Report::for_console(e);
    match e {
        BackupError::NotForThisIdentity { .. } => (R_IDENTITY, report),
        BackupError::TargetNotEmpty(_) => (
            R_INTO,
            Report {
                remedy: Some(strings::RESTORE_INTO_EXISTS_HINT.into()),
                ..report
            },
        ),
        BackupError::RestoreInsideWorkspace { into, workspace } => (
            R_INTO,
            Report {
                message: format!(
                    "{} is inside the workspace open in this console ({})",
                    into.display(),
                    workspace.display()
                ),
                causes: Vec::new(),
                remedy: Some(strings::RESTORE_INTO_LIVE_HINT.into()),
            },
        ),
        BackupError::File(FsError::Symlink(p)) if p == into => (R_INTO, report),
        _ => (R_ARCHIVE, report),
    }
}

/// Runs a restore (on the worker, never the UI thread): opens the identity
/// (a custodian identity with its passphrase, or an age key file), then
/// restores after every check ([`backup::restore`]: a target that is new
/// or empty and outside the `live` workspace, the archive, its files and
/// audit chain, each file read back after writing). A refusal names the
/// form field that fixes it.
pub fn restore(job: &RestoreJob, live: &Path) -> Result<RestoreDone, (usize, Report)> {
    let identity_refusal = |e: IdentityError| {
        let field = match e {
            IdentityError::Envelope(_) => R_PASS,
            _ => R_IDENTITY,
        };
        (field, Report::for_console(&e))
    };
    let opened;
    let plain;
    let key = match KeyFile::read(&job.identity).map_err(identity_refusal)? {
        KeyFile::Sealed(file) => {
            if job.passphrase.expose_secret().is_empty() {
                return Err((
                    R_PASS,
                    Report {
                        message: format!("{} ({})", strings::RESTORE_NEEDS_PASS, file.name),
                        causes: Vec::new(),
                        remedy: Some(strings::RESTORE_NEEDS_PASS_HINT.into()),
                    },
                ));
            }
            opened = file.open(&job.passphrase).map_err(identity_refusal)?;
            opened.age_identity()
        }
        KeyFile::Plain(key) => {
            plain = key;
            &plain
        }
    };
    let opened_by = key.to_public().to_string();
    let restored = backup::restore(&job.archive, key, &job.into, live)
        .map_err(|e| restore_refusal(&e, &job.into))?;
    Ok(RestoreDone {
        restored,
        opened_by,
    })
}

/// The spinner line under a form whose job runs on the worker.
fn working(tick: u64, what: &str) -> Line<'static> {
    Line::from(format!("{} {what}", widgets::spinner(tick)))
}

fn restored_lines(done: &RestoreDone) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let ok = Style::default().fg(Color::Green);
    let r = &done.restored;
    let mut lines = vec![
        Line::from(Span::styled(strings::RESTORE_DONE, bold.fg(Color::Green))),
        Line::from(format!("Into: {}", r.into.display())),
        Line::from(format!(
            "Archive made at {} · opened by {}",
            r.manifest.created_at, done.opened_by
        )),
        Line::from(Span::styled(
            format!("✔ Audit chain intact: {} entries", r.audit_entries),
            ok,
        )),
        Line::from(Span::styled(
            format!("✔ Head equals the archive's: {}", r.audit_head),
            ok,
        )),
        Line::from(Span::styled(
            format!(
                "✔ Every file's SHA-256 read back: {0} of {0} match",
                r.files.len()
            ),
            ok,
        )),
        Line::from(Span::styled(
            format!(
                "✔ Recorded in the copy's audit log: {} · head {}",
                backup::RESTORE_EVENT,
                r.head_after
            ),
            ok,
        )),
    ];
    for f in &r.files {
        lines.push(Line::from(format!(
            "  ✔ {} · {} bytes · {}",
            f.path, f.size, f.sha256
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
            Step::Menu => {
                if self.menu.handle_key(key) {
                    return None;
                }
                match key.code {
                    KeyCode::Esc => return Some(Action::Back),
                    KeyCode::Char('1') | KeyCode::Char('b') => self.open(0),
                    KeyCode::Char('2') | KeyCode::Char('r') => self.open(1),
                    KeyCode::Enter => self.open(self.menu.selected()),
                    _ => {}
                }
                None
            }
            Step::Recipients => {
                if self.nav.handle_key(key) {
                    return None;
                }
                match key.code {
                    KeyCode::Esc => self.back_to_menu(0),
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
                        self.back_to_menu(1);
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
            Step::Menu => Line::from(""),
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
            Step::Menu => {
                let mut lines = Vec::new();
                for (i, (what, why)) in strings::BACKUP_MENU.iter().enumerate() {
                    let on = self.menu.is_selected(i);
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
                    lines.push(working(chrome.tick, strings::BACKUP_WORKING));
                }
                frame.render_widget(paragraph(lines), body);
            }
            Step::Backed(done) => frame.render_widget(paragraph(self.backed_lines(done)), body),
            Step::Restore { form, running } => {
                let mut lines = form.lines();
                if *running {
                    lines.push(working(chrome.tick, strings::RESTORE_WORKING));
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
            Step::Menu => vec![("↑/↓ 1-2", "choose"), ("Enter", "open"), ("Esc", "home")],
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
