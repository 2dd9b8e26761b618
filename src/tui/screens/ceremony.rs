//! The onboarding ceremony (`O` on home), one guided flow over the same
//! core operations as `custodian onboard --plan`:
//!
//! 1. the plan: who is present and, custodian by custodian, their
//!    guardians and threshold (default 3-of-5) — or a plan file; an open
//!    ceremony is offered for resuming first;
//! 2. for each custodian in turn: their new identity's passphrase, each
//!    guardian's new passphrase, then the identity is created and split on
//!    a worker ([`identity::create_identity`], [`guardians::split`]);
//! 3. every guardian proves their share by typing their passphrase again:
//!    the share opens and matches its commitment ([`onboard::prove_share`],
//!    on a worker; a refusal names the guardian under the field);
//! 4. the ceremony record (Markdown) is written ([`onboard::complete`]),
//!    its audit head and the checklist items the facts now satisfy shown;
//!    `p` prints the ceremony sheet.
//!
//! Where the ceremony stands is never kept by this screen: every worker
//! job answers with [`onboard::progress`], read from the registry, and the
//! next step follows from it. The only persisted state is the registry's
//! `CeremonyRecord` (with the plan: names and thresholds, no secret), so
//! the console resumes a ceremony after it was closed mid-way exactly as
//! the command line does.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use super::guardians_split::{NewPassEntry, step_bar};
use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::guardians::{self, SplitRequest};
use custodian_core::identity;
use custodian_core::lifecycle::LifecycleError;
use custodian_core::lifecycle::onboard::{self, CeremonyRecord, Plan, PlanCustodian, Step};
use custodian_core::playbook::checklist::ItemState;
use custodian_core::playbook::model::Playbook;
use custodian_core::workspace::Workspace;

/// The plan form's fields.
pub const F_FILE: usize = 0;
/// Who is present.
pub const F_PRESENT: usize = 1;
/// The custodian being added.
pub const F_NAME: usize = 2;
/// Their guardians.
pub const F_GUARDIANS: usize = 3;
/// Their threshold.
pub const F_THRESHOLD: usize = 4;

/// Work the ceremony hands to a worker.
pub enum CeremonyJob {
    /// Start (or resume) a ceremony for a plan entered on the screen, or
    /// kept in an open ceremony's record.
    Start(Box<Plan>),
    /// Start (or resume) a ceremony for a plan file.
    StartFile(PathBuf),
    /// Check a registered custodian's identity passphrase before a split.
    CheckIdentity {
        /// Their identity file.
        path: PathBuf,
        /// The passphrase typed.
        passphrase: SecretString,
    },
    /// Create the custodian's identity (unless it exists) and split it.
    Split {
        /// The custodian.
        name: String,
        /// Their identity file, when it already exists.
        identity_path: Option<PathBuf>,
        /// Its passphrase (new, or checked).
        passphrase: SecretString,
        /// Guardians and their new passphrases, in share order.
        guardians: Vec<(String, SecretString)>,
        /// Shares needed.
        threshold: u8,
    },
    /// A guardian proves their share.
    Prove {
        /// The guardian.
        guardian: String,
        /// The share file.
        file: PathBuf,
        /// Their passphrase, typed again.
        passphrase: SecretString,
    },
    /// Write the ceremony record.
    Complete,
}

impl std::fmt::Debug for CeremonyJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CeremonyJob::Start(_) => "Start",
            CeremonyJob::StartFile(_) => "StartFile",
            CeremonyJob::CheckIdentity { .. } => "CheckIdentity",
            CeremonyJob::Split { .. } => "Split",
            CeremonyJob::Prove { .. } => "Prove",
            CeremonyJob::Complete => "Complete",
        })
    }
}

/// What a ceremony job found (public facts only).
#[derive(Debug, Clone)]
pub enum CeremonyDone {
    /// The ceremony started or resumed; where each custodian stands.
    Started {
        /// Its record.
        ceremony: Box<CeremonyRecord>,
        /// Its plan.
        plan: Box<Plan>,
        /// True when an open ceremony was resumed.
        resumed: bool,
        /// Each custodian's step.
        progress: Vec<(String, Step)>,
    },
    /// A job changed the facts; where each custodian stands now.
    Progressed(Vec<(String, Step)>),
    /// The identity passphrase opens the custodian's identity.
    IdentityChecked,
    /// A value typed into a field was refused.
    Refused {
        /// The field (of the step's form).
        field: usize,
        /// Why.
        report: Report,
    },
    /// The record was written.
    Recorded {
        /// The Markdown file.
        path: PathBuf,
        /// The audit head it carries.
        head: String,
        /// The checklist items the workspace proves, each with its state.
        checklist: Vec<(String, ItemState)>,
    },
}

fn report(e: &LifecycleError) -> Report {
    Report::for_console(e)
}

/// Runs a ceremony job on a worker (the app's only part is spawning it).
pub fn run_job(
    ws: &Workspace,
    ceremony: Option<&CeremonyRecord>,
    job: CeremonyJob,
) -> Result<JobResult, Report> {
    let done = |d| Ok(JobResult::Ceremony(Box::new(d)));
    let progress = |ws: &Workspace| -> Result<Vec<(String, Step)>, Report> {
        let reg = ws.registry().map_err(|e| Report::for_console(&e))?;
        let (Some(c), Some(plan)) = (ceremony, ceremony.and_then(|c| c.plan.as_ref())) else {
            return Ok(Vec::new());
        };
        Ok(onboard::progress(&reg, plan, &c.started_at))
    };
    match job {
        CeremonyJob::Start(plan) => start(ws, *plan, None),
        CeremonyJob::StartFile(path) => match Plan::load(&path) {
            Ok((plan, sha)) => start(ws, plan, Some(sha)),
            Err(e) => done(CeremonyDone::Refused {
                field: F_FILE,
                report: report(&e),
            }),
        },
        CeremonyJob::CheckIdentity { path, passphrase } => {
            match guardians::check_split_passphrase(ws, &path, &passphrase) {
                Ok(()) => done(CeremonyDone::IdentityChecked),
                Err(e) => done(CeremonyDone::Refused {
                    field: 0,
                    report: Report::for_console(&e),
                }),
            }
        }
        CeremonyJob::Split {
            name,
            identity_path,
            passphrase,
            guardians: passes,
            threshold,
        } => {
            let path = match identity_path {
                Some(p) => p,
                None => identity::create_identity(ws, &name, &passphrase, None)
                    .map_err(|e| Report::for_console(&e))?
                    .path
                    .clone(),
            };
            guardians::split(
                ws,
                SplitRequest {
                    identity_path: &path,
                    identity_passphrase: &passphrase,
                    threshold: threshold.into(),
                    guardians: passes,
                    out_dir: None,
                },
                &|_, _, _| {},
            )
            .map_err(|e| Report::for_console(&e))?;
            done(CeremonyDone::Progressed(progress(ws)?))
        }
        CeremonyJob::Prove {
            guardian,
            file,
            passphrase,
        } => match onboard::prove_share(ws, &file, passphrase) {
            Ok(_) => done(CeremonyDone::Progressed(progress(ws)?)),
            Err(e) => {
                let mut r = report(&e);
                r.message = format!("guardian {guardian}: {}", r.message);
                done(CeremonyDone::Refused {
                    field: 0,
                    report: r,
                })
            }
        },
        CeremonyJob::Complete => {
            let (Some(c), Some(plan)) = (ceremony, ceremony.and_then(|c| c.plan.as_ref())) else {
                return Err(report(&LifecycleError::Changed("the ceremony".into())));
            };
            // The checklist shown is the one the record ticks (one evaluation).
            let onboard::Completed {
                path,
                head,
                checklist,
            } = onboard::complete(ws, plan, c, Some(Playbook::builtin()))
                .map_err(|e| report(&e))?;
            done(CeremonyDone::Recorded {
                path,
                head,
                checklist,
            })
        }
    }
}

fn start(ws: &Workspace, plan: Plan, sha: Option<String>) -> Result<JobResult, Report> {
    let sha = sha.unwrap_or_else(|| plan.sha256());
    let (ceremony, resumed) = onboard::start_or_resume(ws, &plan, &sha).map_err(|e| report(&e))?;
    // As on the command line: the ceremony fixes which binary the team runs.
    if let Ok(bin) = crate::cli::running_binary() {
        let _ = custodian_core::binary::record_if_unset(ws, &bin, "onboarding ceremony");
    }
    let reg = ws.registry().map_err(|e| Report::for_console(&e))?;
    // A resumed ceremony keeps the plan it was begun with.
    let plan = ceremony.plan.clone().unwrap_or(plan);
    let progress = onboard::progress(&reg, &plan, &ceremony.started_at);
    Ok(JobResult::Ceremony(Box::new(CeremonyDone::Started {
        ceremony: Box::new(ceremony),
        plan: Box::new(plan),
        resumed,
        progress,
    })))
}

enum Stage {
    /// Open ceremonies to resume, and "start a new one" last (the shared
    /// list: arrows, j/k, PgUp/PgDn, Home/End, "N more" signs).
    Resume(ListNav),
    Plan(Form),
    /// The plan form it was started from (none when an open ceremony is
    /// resumed), given back with the error when the start is refused.
    Starting(Option<Form>),
    /// A new identity's passphrase.
    IdentityPass(NewPassEntry),
    /// A registered custodian's identity passphrase (split not begun).
    SplitPass(Form),
    CheckingIdentity,
    Guardian(usize, NewPassEntry),
    Splitting,
    /// A guardian types their passphrase again.
    Proof(Form),
    Proving,
    /// Every custodian done: Enter writes the record.
    Complete,
    Recording,
    Recorded {
        path: PathBuf,
        head: String,
        checklist: Vec<(String, ItemState)>,
    },
    Failed(Report),
}

/// The ceremony screen.
pub struct CeremonyScreen {
    workspace: Option<PathBuf>,
    open: Vec<CeremonyRecord>,
    /// The plan being entered, or the ceremony's.
    plan: Plan,
    ceremony: Option<CeremonyRecord>,
    resumed: bool,
    progress: Vec<(String, Step)>,
    passphrase: Option<SecretString>,
    guardian_passes: Vec<(String, SecretString)>,
    stage: Stage,
    /// How far the step's text is scrolled; None until a scroll key moves
    /// it (then a form's step shows its bottom, where the field is, and
    /// the others their top).
    scroll: Option<u16>,
    /// The largest useful scroll, as of the last render.
    max_scroll: std::cell::Cell<u16>,
}

impl std::fmt::Debug for CeremonyScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CeremonyScreen")
            .field("stage", &self.stage_name())
            .finish_non_exhaustive()
    }
}

fn plan_form() -> Form {
    Form::new(vec![
        FormField::path(strings::CER_FILE, strings::CER_FILE_HINT, "", PathKind::Any),
        FormField::plain(strings::CER_PRESENT, strings::CER_PRESENT_HINT, ""),
        FormField::plain(strings::CER_NAME, strings::CER_NAME_HINT, ""),
        FormField::plain(strings::CER_GUARDIANS, strings::CER_GUARDIANS_HINT, ""),
        FormField::plain(
            strings::CER_THRESHOLD,
            strings::CER_THRESHOLD_HINT,
            &guardians::DEFAULT_THRESHOLD.to_string(),
        ),
    ])
}

fn split_pass_form() -> Form {
    Form::new(vec![FormField::secret(
        strings::CER_IDENTITY_PASS,
        strings::CER_IDENTITY_PASS_HINT,
    )])
}

fn proof_form() -> Form {
    Form::new(vec![FormField::secret(
        strings::CER_PROOF,
        strings::CER_PROOF_HINT,
    )])
}

fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl CeremonyScreen {
    /// The screen; `open` are the ceremonies begun and not completed (the
    /// registry's records that keep their plan).
    pub fn new(open: Vec<CeremonyRecord>) -> Self {
        let stage = if open.is_empty() {
            Stage::Plan(plan_form())
        } else {
            Stage::Resume(ListNav::new(open.len() + 1))
        };
        CeremonyScreen {
            workspace: None,
            open,
            plan: Plan {
                present: Vec::new(),
                custodians: Vec::new(),
            },
            ceremony: None,
            resumed: false,
            progress: Vec::new(),
            passphrase: None,
            guardian_passes: Vec::new(),
            stage,
            scroll: None,
            max_scroll: std::cell::Cell::new(u16::MAX),
        }
    }

    /// Looks bare plan-file names up in `workspace` too.
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.workspace = Some(workspace.to_path_buf());
        if let Stage::Plan(form) = &mut self.stage {
            *form = std::mem::replace(form, plan_form()).with_workspace(workspace);
        }
        self
    }

    /// The ceremony being run (for the app's worker jobs).
    pub fn ceremony(&self) -> Option<&CeremonyRecord> {
        self.ceremony.as_ref()
    }

    /// A short name for the current step (for tests).
    pub fn stage_name(&self) -> &'static str {
        match self.stage {
            Stage::Resume(_) => "resume",
            Stage::Plan(_) => "plan",
            Stage::Starting(_) => "starting",
            Stage::IdentityPass(_) => "identity",
            Stage::SplitPass(_) => "identity-passphrase",
            Stage::CheckingIdentity => "checking-identity",
            Stage::Guardian(..) => "guardian",
            Stage::Splitting => "splitting",
            Stage::Proof(_) => "proof",
            Stage::Proving => "proving",
            Stage::Complete => "complete",
            Stage::Recording => "recording",
            Stage::Recorded { .. } => "recorded",
            Stage::Failed(_) => "failed",
        }
    }

    fn new_plan_form(&self) -> Form {
        match &self.workspace {
            Some(ws) => plan_form().with_workspace(ws),
            None => plan_form(),
        }
    }

    /// The custodian the ceremony is at (the first not done) and their step.
    fn current(&self) -> Option<(&PlanCustodian, &Step)> {
        self.progress
            .iter()
            .find(|(_, s)| !matches!(s, Step::Done { .. }))
            .and_then(|(n, s)| {
                self.plan
                    .custodians
                    .iter()
                    .find(|c| &c.name == n)
                    .map(|c| (c, s))
            })
    }

    /// The stage the facts call for next.
    fn follow_progress(&mut self) {
        self.passphrase = None;
        self.guardian_passes.clear();
        self.stage = match self.current().map(|(_, s)| s) {
            None => Stage::Complete,
            Some(Step::NeedsIdentity) => Stage::IdentityPass(NewPassEntry::default()),
            Some(Step::NeedsSplit { .. }) => Stage::SplitPass(split_pass_form()),
            Some(Step::NeedsProof { .. }) => Stage::Proof(proof_form()),
            Some(Step::Done { .. }) => Stage::Complete,
        };
    }

    /// A refused start: the plan form it came from (or a new one, for a
    /// resumed ceremony) with `report` under `field`, the custodians
    /// entered still held.
    fn back_to_plan(&mut self, form: Option<Form>, field: usize, report: Report) {
        let mut form = form.unwrap_or_else(|| self.new_plan_form());
        form.set_held(held(&self.plan));
        form.set_error(field, report);
        self.stage = Stage::Plan(form);
    }

    fn job(&mut self, stage: Stage, job: CeremonyJob) -> Option<Action> {
        self.stage = stage;
        Some(Action::Ceremony(Box::new(job)))
    }

    /// Enter on the plan form: a plan file, a custodian to add, or (with
    /// an empty name) the ceremony begins.
    fn plan_submit(&mut self) -> Option<Action> {
        let Stage::Plan(form) = &mut self.stage else {
            return None;
        };
        let file = form.value(F_FILE).trim().to_string();
        let name = form.value(F_NAME).trim().to_string();
        if !file.is_empty() {
            if !self.plan.custodians.is_empty() || !name.is_empty() {
                form.set_error(
                    F_FILE,
                    Report::note(
                        strings::CER_FILE_OR_ENTERED,
                        Some(strings::CER_FILE_OR_ENTERED_FIX),
                    ),
                );
                return None;
            }
            let form = std::mem::replace(form, plan_form());
            return self.job(
                Stage::Starting(Some(form)),
                CeremonyJob::StartFile(PathBuf::from(file)),
            );
        }
        self.plan.present = names(form.value(F_PRESENT));
        if !name.is_empty() {
            let threshold = match form.value(F_THRESHOLD).trim().parse::<u8>() {
                Ok(t) => t,
                Err(_) => {
                    form.set_error(
                        F_THRESHOLD,
                        Report::note(
                            strings::CER_THRESHOLD_BAD,
                            Some(strings::CER_THRESHOLD_HINT),
                        ),
                    );
                    return None;
                }
            };
            let c = PlanCustodian {
                name,
                guardians: names(form.value(F_GUARDIANS)),
                threshold: Some(threshold),
            };
            match Plan::check_custodian(&self.plan.custodians, &c) {
                Ok(()) => {
                    self.plan.custodians.push(c);
                    form.clear_errors();
                    form.set_held(held(&self.plan));
                    form.set_value(F_NAME, "");
                    form.set_value(F_GUARDIANS, "");
                    form.set_value(F_THRESHOLD, &guardians::DEFAULT_THRESHOLD.to_string());
                    form.focus_on(F_NAME);
                }
                Err(e @ LifecycleError::Guardian(_)) => form.set_error(F_GUARDIANS, report(&e)),
                Err(e) => form.set_error(F_NAME, report(&e)),
            }
            return None;
        }
        match self.plan.check() {
            Ok(()) => {
                let plan = self.plan.clone();
                let form = std::mem::replace(form, plan_form());
                self.job(
                    Stage::Starting(Some(form)),
                    CeremonyJob::Start(Box::new(plan)),
                )
            }
            Err(e @ LifecycleError::PlanInvalid(_)) if self.plan.present.is_empty() => {
                form.set_error(F_PRESENT, report(&e));
                None
            }
            Err(e @ LifecycleError::Identity(_)) => {
                form.set_error(F_PRESENT, report(&e));
                None
            }
            Err(e) => {
                form.set_error(F_NAME, report(&e));
                None
            }
        }
    }

    fn plan_key(&mut self, key: KeyEvent) -> Option<Action> {
        let Stage::Plan(form) = &mut self.stage else {
            return None;
        };
        // Enter on a filled plan-file field, or on an empty custodian name
        // once custodians are listed, acts at once.
        let at = form.focus();
        let start_now = key.code == KeyCode::Enter
            && ((at == F_FILE && !form.value(F_FILE).trim().is_empty())
                || (at == F_NAME
                    && form.value(F_NAME).trim().is_empty()
                    && !self.plan.custodians.is_empty()));
        if start_now {
            return self.plan_submit();
        }
        if key.code == KeyCode::Backspace
            && at == F_NAME
            && form.value(F_NAME).is_empty()
            && self.plan.custodians.pop().is_some()
        {
            form.set_held(held(&self.plan));
            return None;
        }
        match form.handle_key(key) {
            FormEvent::Cancel => Some(Action::Back),
            FormEvent::Handled => None,
            FormEvent::Submit => self.plan_submit(),
        }
    }

    /// Where the step's text starts when no key scrolled it: a step that
    /// takes text at its bottom (its field), the others at their top.
    fn default_scroll(&self) -> u16 {
        if self.takes_text() { u16::MAX } else { 0 }
    }

    /// The resume step: `head` (the step bar and the question) on top,
    /// then the open ceremonies and "start a new one" as the shared list,
    /// which keeps the selection in view and signs what is hidden.
    fn render_resume(&self, frame: &mut Frame, area: Rect, head: Vec<Line<'_>>, nav: &ListNav) {
        let head = Paragraph::new(head).wrap(Wrap { trim: false });
        let head_h = u16::try_from(head.line_count(area.width))
            .unwrap_or(u16::MAX)
            .min(area.height.saturating_sub(1));
        let [head_area, list_area] =
            Layout::vertical([Constraint::Length(head_h), Constraint::Min(1)]).areas(area);
        frame.render_widget(head, head_area);
        let mut rows: Vec<(Option<usize>, Line)> = self
            .open
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let text = format!(
                    "{} · started {} · {}",
                    c.id,
                    c.started_at,
                    c.custodians.join(", ")
                );
                nav.plain_row(i, &text, list_area.width)
            })
            .collect();
        rows.push(nav.plain_row(self.open.len(), strings::CER_NEW, list_area.width));
        nav.render(frame, list_area, rows);
        self.max_scroll.set(0);
    }

    /// The scroll a key asks for: PgUp/PgDn anywhere, and ↑/↓ j/k
    /// Home/End/Space where they are not typed or choosing.
    fn scroll_by(&self, key: KeyEvent) -> Option<u16> {
        let page = matches!(key.code, KeyCode::PageUp | KeyCode::PageDown);
        // The resume list takes every list key itself.
        if matches!(self.stage, Stage::Resume(_)) || (!page && self.takes_text()) {
            return None;
        }
        let max = self.max_scroll.get();
        let at = self
            .scroll
            .unwrap_or_else(|| self.default_scroll())
            .min(max);
        widgets::scroll_key(key, at, max)
    }

    /// A key for the step (not a scroll).
    fn stage_key(&mut self, key: KeyEvent) -> Option<Action> {
        // The custodian the ceremony is at, and their identity file when
        // they are registered but not yet split.
        let (cur_name, cur_identity) = match self.current() {
            Some((c, Step::NeedsSplit { identity_file })) => {
                (c.name.clone(), Some(identity_file.clone()))
            }
            Some((c, _)) => (c.name.clone(), None),
            None => (String::new(), None),
        };
        match &mut self.stage {
            Stage::Resume(nav) => {
                if nav.handle_key(key) {
                    return None;
                }
                match key.code {
                    KeyCode::Esc => return Some(Action::Back),
                    KeyCode::Char('n') => self.stage = Stage::Plan(self.new_plan_form()),
                    KeyCode::Enter => {
                        match self.open.get(nav.selected()).and_then(|c| c.plan.clone()) {
                            Some(plan) => {
                                return self.job(
                                    Stage::Starting(None),
                                    CeremonyJob::Start(Box::new(plan)),
                                );
                            }
                            None => self.stage = Stage::Plan(self.new_plan_form()),
                        }
                    }
                    _ => {}
                }
                None
            }
            Stage::Plan(_) => self.plan_key(key),
            Stage::IdentityPass(entry) => {
                if key.code == KeyCode::Esc {
                    return entry.esc().then_some(Action::Back);
                }
                let p = entry.handle_key(key)?;
                self.passphrase = Some(p);
                self.stage = Stage::Guardian(0, NewPassEntry::default());
                None
            }
            Stage::SplitPass(form) => match form.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let passphrase = SecretString::from(form.value(0));
                    let identity_file = cur_identity?;
                    let Some(path) = identity_file else {
                        form.refuse(0, report(&LifecycleError::NoIdentityFile(cur_name)));
                        return None;
                    };
                    self.passphrase = Some(passphrase.clone());
                    self.job(
                        Stage::CheckingIdentity,
                        CeremonyJob::CheckIdentity { path, passphrase },
                    )
                }
            },
            Stage::Guardian(i, entry) => {
                let i = *i;
                if key.code == KeyCode::Esc {
                    if entry.esc() {
                        // Every passphrase of this custodian is asked again.
                        self.follow_progress();
                    }
                    return None;
                }
                let p = entry.handle_key(key)?;
                let (c, _) = self.current()?;
                let (c_name, guardians, threshold) =
                    (c.name.clone(), c.guardians.clone(), c.threshold());
                let identity_path = match self.current() {
                    Some((_, Step::NeedsSplit { identity_file })) => identity_file.clone(),
                    _ => None,
                };
                self.guardian_passes
                    .push((guardians.get(i).cloned().unwrap_or_default(), p));
                if i + 1 < guardians.len() {
                    self.stage = Stage::Guardian(i + 1, NewPassEntry::default());
                    return None;
                }
                let passphrase = self.passphrase.take()?;
                let passes = std::mem::take(&mut self.guardian_passes);
                self.job(
                    Stage::Splitting,
                    CeremonyJob::Split {
                        name: c_name,
                        identity_path,
                        passphrase,
                        guardians: passes,
                        threshold,
                    },
                )
            }
            Stage::Proof(form) => match form.handle_key(key) {
                FormEvent::Cancel => Some(Action::Back),
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let passphrase = SecretString::from(form.value(0));
                    let Some((_, Step::NeedsProof { pending, .. })) = self.current() else {
                        return None;
                    };
                    let (guardian, file) = pending.first()?.clone();
                    self.job(
                        Stage::Proving,
                        CeremonyJob::Prove {
                            guardian,
                            file,
                            passphrase,
                        },
                    )
                }
            },
            Stage::Complete => match key.code {
                KeyCode::Enter => self.job(Stage::Recording, CeremonyJob::Complete),
                KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Stage::Recorded { .. } => match key.code {
                KeyCode::Char('p') => {
                    Some(Action::Print(vec![custodian_core::print::What::Ceremony(
                        self.ceremony.as_ref().map(|c| c.id.clone()),
                    )]))
                }
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Stage::Failed(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Stage::Starting(_)
            | Stage::CheckingIdentity
            | Stage::Splitting
            | Stage::Proving
            | Stage::Recording => None,
        }
    }

    fn progress_lines(&self) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        let Some(c) = &self.ceremony else {
            return lines;
        };
        lines.push(Line::from(format!(
            "{} {} · {} · present: {}",
            if self.resumed {
                strings::CER_RESUMED
            } else {
                strings::CER_STARTED
            },
            c.id,
            c.started_at,
            c.present.join(", ")
        )));
        for (name, step) in &self.progress {
            let (id, split, proved, total) = match step {
                Step::NeedsIdentity => (false, None, 0, 0),
                Step::NeedsSplit { .. } => (true, None, 0, 0),
                Step::NeedsProof { split, pending } => (
                    true,
                    Some((split.threshold, split.total)),
                    split.guardians.len() - pending.len(),
                    split.guardians.len(),
                ),
                Step::Done { split } => (
                    true,
                    Some((split.threshold, split.total)),
                    split.guardians.len(),
                    split.guardians.len(),
                ),
            };
            let done = matches!(step, Step::Done { .. });
            let tick = |ok: bool| if ok { "✔" } else { "○" };
            let (mark, style) = if done {
                ("✔", Style::default().fg(Color::Green))
            } else {
                ("…", Style::default().fg(Color::Yellow))
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {mark} "), style),
                Span::raw(format!(
                    "{name}: {} identity · {} split{} · {} shares proved {proved}/{total}",
                    tick(id),
                    tick(split.is_some()),
                    split
                        .map(|(k, n)| format!(" {k}-of-{n}"))
                        .unwrap_or_default(),
                    tick(total > 0 && proved == total),
                )),
            ]));
        }
        lines.push(Line::from(""));
        lines
    }

    fn plan_lines(&self, form: &Form) -> Vec<Line<'static>> {
        let mut lines = vec![Line::from(Span::styled(
            strings::CER_PLAN_HEAD,
            Style::default().add_modifier(Modifier::BOLD),
        ))];
        for (i, c) in self.plan.custodians.iter().enumerate() {
            lines.push(Line::from(format!(
                "  {}. {} — {}-of-{}: {}",
                i + 1,
                c.name,
                c.threshold(),
                c.guardians.len(),
                c.guardians.join(", ")
            )));
        }
        if !self.plan.custodians.is_empty() {
            lines.push(Line::from(Span::styled(
                strings::CER_PLAN_READY,
                widgets::hint(),
            )));
        }
        lines.push(Line::from(""));
        lines.extend(form.lines());
        lines
    }
}

/// What the plan form holds beyond its fields (named when Esc asks).
fn held(plan: &Plan) -> Option<String> {
    (!plan.custodians.is_empty())
        .then(|| format!("the {} custodian(s) entered", plan.custodians.len()))
}

impl Screen for CeremonyScreen {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        strings::CER_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if let Some(top) = self.scroll_by(key) {
            self.scroll = Some(top);
            return None;
        }
        let before = self.stage_name();
        let action = self.stage_key(key);
        if self.stage_name() != before {
            self.scroll = None;
        }
        action
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.stage {
            Stage::Plan(f) | Stage::SplitPass(f) | Stage::Proof(f) => {
                f.paste(text);
            }
            Stage::IdentityPass(e) | Stage::Guardian(_, e) => e.paste(text),
            _ => {}
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        if !self.busy() {
            return None;
        }
        self.scroll = None;
        let done = match result {
            Ok(JobResult::Ceremony(d)) => (**d).clone(),
            Ok(_) => return None,
            Err(r) => {
                // A failed split or record: the facts say where to go on.
                match &mut self.stage {
                    Stage::Starting(form) => {
                        let form = form.take();
                        self.back_to_plan(form, F_NAME, r.clone());
                    }
                    _ => self.stage = Stage::Failed(r.clone()),
                }
                return Some(Action::RefreshHome);
            }
        };
        match done {
            CeremonyDone::Started {
                ceremony,
                plan,
                resumed,
                progress,
            } => {
                self.ceremony = Some(*ceremony);
                self.plan = *plan;
                self.resumed = resumed;
                self.progress = progress;
                self.follow_progress();
                Some(Action::RefreshHome)
            }
            CeremonyDone::Progressed(progress) => {
                self.progress = progress;
                self.follow_progress();
                Some(Action::RefreshHome)
            }
            CeremonyDone::IdentityChecked => {
                self.stage = Stage::Guardian(0, NewPassEntry::default());
                None
            }
            CeremonyDone::Refused { field, report } => {
                match &mut self.stage {
                    Stage::Starting(form) => {
                        let form = form.take();
                        self.back_to_plan(form, field, report);
                    }
                    Stage::CheckingIdentity => {
                        self.passphrase = None;
                        let mut form = split_pass_form();
                        form.refuse(0, report);
                        self.stage = Stage::SplitPass(form);
                    }
                    _ => {
                        let mut form = proof_form();
                        form.refuse(0, report);
                        self.stage = Stage::Proof(form);
                    }
                }
                None
            }
            CeremonyDone::Recorded {
                path,
                head,
                checklist,
            } => {
                self.stage = Stage::Recorded {
                    path,
                    head,
                    checklist,
                };
                Some(Action::RefreshHome)
            }
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let active = match &self.stage {
            Stage::Resume(_) | Stage::Plan(_) | Stage::Starting(_) => 0,
            Stage::IdentityPass(_) | Stage::SplitPass(_) | Stage::CheckingIdentity => 1,
            Stage::Guardian(..) | Stage::Splitting => 2,
            Stage::Proof(_) | Stage::Proving => 3,
            _ => 4,
        };
        let mut lines = vec![step_bar(&strings::CER_STEPS, active), Line::from("")];
        lines.extend(self.progress_lines());
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let current = self
            .current()
            .map(|(c, _)| c.name.clone())
            .unwrap_or_default();
        let spin = |what: &str| Line::from(format!("{} {what}", widgets::spinner(chrome.tick)));
        match &self.stage {
            Stage::Resume(nav) => {
                lines.push(Line::from(Span::styled(strings::CER_RESUME_HEAD, bold)));
                self.render_resume(frame, area, lines, nav);
                return;
            }
            Stage::Plan(form) => lines.extend(self.plan_lines(form)),
            Stage::Starting(_) => lines.push(spin(strings::CER_STARTING)),
            Stage::IdentityPass(entry) => {
                lines.push(Line::from(Span::styled(
                    format!("{current}: {}", strings::CER_NEW_IDENTITY),
                    bold,
                )));
                lines.extend(entry.lines());
            }
            Stage::SplitPass(form) => {
                lines.push(Line::from(Span::styled(
                    format!("{current}: {}", strings::CER_SPLIT_EXISTING),
                    bold,
                )));
                lines.extend(form.lines());
            }
            Stage::CheckingIdentity => lines.push(spin(strings::CER_CHECKING)),
            Stage::Guardian(i, entry) => {
                let (gs, k) = self
                    .current()
                    .map(|(c, _)| (c.guardians.clone(), c.threshold()))
                    .unwrap_or_default();
                lines.push(Line::from(Span::styled(
                    format!(
                        "{current} · split {k}-of-{} · guardian {} of {}: {} — choose the passphrase for your share",
                        gs.len(),
                        i + 1,
                        gs.len(),
                        gs.get(*i).cloned().unwrap_or_default()
                    ),
                    bold,
                )));
                lines.extend(entry.lines());
            }
            Stage::Splitting => lines.push(spin(strings::CER_SPLITTING)),
            Stage::Proof(form) => {
                if let Some((_, Step::NeedsProof { split, pending })) = self.current()
                    && let Some((g, _)) = pending.first()
                {
                    let index = split.guardians.iter().position(|x| x == g).unwrap_or(0) + 1;
                    lines.push(Line::from(Span::styled(
                        format!(
                            "Guardian {g}: type your passphrase again to prove share #{index} of {current}"
                        ),
                        bold,
                    )));
                    lines.push(Line::from(Span::styled(
                        format!(
                            "{} of {} proved · still to prove: {}",
                            split.guardians.len() - pending.len(),
                            split.guardians.len(),
                            pending
                                .iter()
                                .map(|(g, _)| g.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        widgets::hint(),
                    )));
                }
                lines.extend(form.lines());
            }
            Stage::Proving => lines.push(spin(strings::CER_PROVING)),
            Stage::Complete => {
                lines.push(Line::from(Span::styled(strings::CER_ALL_DONE, bold)));
                lines.push(Line::from(Span::styled(
                    strings::CER_ALL_DONE_HINT,
                    widgets::hint(),
                )));
            }
            Stage::Recording => lines.push(spin(strings::CER_RECORDING)),
            Stage::Recorded {
                path,
                head,
                checklist,
            } => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {} {}", strings::CER_RECORDED, path.display()),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!("Audit head: {head}")));
                lines.push(Line::from(Span::styled(
                    strings::CER_HEAD_HINT,
                    widgets::hint(),
                )));
                lines.push(Line::from(Span::styled(strings::CER_CHECKLIST, bold)));
                for (text, state) in checklist {
                    let (mark, style) = if state.done() {
                        ("[x]", Style::default().fg(Color::Green))
                    } else {
                        ("[ ]", Style::default().fg(Color::Yellow))
                    };
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {mark} "), style),
                        Span::raw(text.clone()),
                    ]));
                }
            }
            Stage::Failed(r) => lines.extend(widgets::failure_lines(r)),
        }
        let top = self.scroll.unwrap_or_else(|| self.default_scroll());
        self.max_scroll
            .set(widgets::scrolled(frame, area, lines, top));
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.stage {
            Stage::Resume(_) => vec![
                ("↑/↓ j/k", "choose"),
                ("Enter", "resume"),
                ("n", "new ceremony"),
                ("Esc", "back"),
            ],
            Stage::Plan(_) => vec![
                ("Enter", "next / add"),
                ("Tab", "complete path / next"),
                ("Backspace", "drop last custodian"),
                ("Esc", "back"),
            ],
            Stage::IdentityPass(_) | Stage::Guardian(..) => vec![
                ("Tab", "switch field"),
                ("Ctrl-G", "generate"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Stage::SplitPass(_) | Stage::Proof(_) => {
                vec![("Enter", "check"), ("Esc", "pause (resumable)")]
            }
            Stage::Complete => vec![("Enter", "write the record"), ("Esc", "pause")],
            Stage::Recorded { .. } => vec![
                ("p", "print sheet"),
                ("↑/↓ PgUp/PgDn", "scroll"),
                ("Enter/Esc", "back"),
            ],
            Stage::Failed(_) => vec![("Enter/Esc", "back")],
            Stage::Starting(_)
            | Stage::CheckingIdentity
            | Stage::Splitting
            | Stage::Proving
            | Stage::Recording => vec![],
        }
    }

    fn takes_text(&self) -> bool {
        matches!(
            self.stage,
            Stage::Plan(_)
                | Stage::IdentityPass(_)
                | Stage::SplitPass(_)
                | Stage::Guardian(..)
                | Stage::Proof(_)
        )
    }

    fn holds_input(&self) -> bool {
        match &self.stage {
            Stage::Plan(f) => f.holds_input() || !self.plan.custodians.is_empty(),
            Stage::SplitPass(f) | Stage::Proof(f) => f.holds_input(),
            Stage::IdentityPass(_) | Stage::Guardian(..) => true,
            _ => false,
        }
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn busy(&self) -> bool {
        matches!(
            self.stage,
            Stage::Starting(_)
                | Stage::CheckingIdentity
                | Stage::Splitting
                | Stage::Proving
                | Stage::Recording
        )
    }
}
