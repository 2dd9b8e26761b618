//! One screen type for all five disaster scenarios: the situation, a decision
//! aid (what to check first, what not to do), and the steps as a checklist
//! tied to the scenario's incident record.
//!
//! Every step is either a people/paper action, confirmed by an operator who
//! types their name, or a local operation: the screen then asks the app to
//! launch it ([`Action::LaunchOperation`]) with what the incident already
//! knows. Whether a wizard exists for the operation is the app's business
//! (one match in `App::perform`); when none does yet, the app puts this
//! screen into "record" mode, which shows the command line that performs the
//! operation and lets the operator record it as done.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::{Keys, ListNav};
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::approvals::{Approval, ApprovalError};
use custodian_core::error::Report;
use custodian_core::playbook::incident::{Incident, StepHow};
use custodian_core::playbook::{Operation, PlaybookError, Scenario};

/// What a launched operation is told by the step that launched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    /// The incident the step belongs to.
    pub incident: String,
    /// The step id.
    pub step: String,
    /// The operator who launched it (recorded on completion).
    pub operator: String,
    /// The custodian the incident concerns, if known.
    pub custodian: Option<String>,
    /// A suggested name for a new identity (`<custodian>-new`).
    pub new_name: Option<String>,
    /// The notes typed when the step was confirmed (recorded with it).
    pub notes: Option<String>,
}

/// Every form here is the shared [`Form`]: fields edit like an editor
/// (cursor, Home/End, word delete, paste), Esc with typed input asks before
/// it discards, and Enter acts from any field (the second is optional).
#[derive(Debug)]
enum Mode {
    Browse,
    /// Opening the incident: the operator, then the custodian concerned.
    Start {
        step: usize,
        form: Form,
    },
    /// Confirming a step: the operator types their name (never prefilled,
    /// so Enter twice cannot confirm) and may add notes.
    Confirm {
        step: usize,
        form: Form,
        /// Earlier steps still open; set once the operator was warned, so
        /// a second Enter confirms out of order.
        warned: Option<Vec<usize>>,
    },
    Record {
        step: usize,
        op: Operation,
        operator: String,
        notes: Option<String>,
    },
    Close {
        /// The operator's name (one field).
        operator: Form,
        /// Under the authenticated policy: the close's approvers.
        approvers: Option<CloseApprovers>,
    },
    /// Taking back a mistaken confirmation: who and why.
    Reopen {
        step: usize,
        form: Form,
    },
}

/// The operator's name: the first field of every form here.
const F_OPERATOR: usize = 0;
/// The second field: the custodian concerned, the notes, or the reason.
const F_MORE: usize = 1;

/// The operator's name and a second, optional field.
fn operator_and(second: &'static str) -> Form {
    Form::new(vec![
        FormField::plain(strings::SCENARIO_OPERATOR, "", ""),
        FormField::plain(second, "", ""),
    ])
    .enter_submits()
}

/// The operator's name alone.
fn operator_form() -> Form {
    Form::new(vec![FormField::plain(strings::SCENARIO_OPERATOR, "", "")])
}

/// The approvers of a close under the workspace policy of authenticated
/// approvals: each opens their own identity (on a worker) before the close
/// is asked for; an empty passphrase adds a typed name, marked as typed.
#[derive(Debug)]
struct CloseApprovers {
    approvals: Vec<Approval>,
    /// Name, passphrase.
    form: Form,
    /// The focus is on the approver form (not the operator's name).
    active: bool,
    /// An identity is being opened on a worker.
    checking: bool,
}

const C_NAME: usize = 0;
const C_PASS: usize = 1;

impl CloseApprovers {
    fn new() -> Self {
        CloseApprovers {
            approvals: Vec::new(),
            form: Form::new(vec![
                FormField::plain(
                    strings::RECOVERY_APPROVER_PROMPT,
                    strings::SCENARIO_CLOSE_APPROVER_HINT,
                    "",
                ),
                FormField::secret(strings::RECOVERY_APPROVER_PASS_PROMPT, ""),
            ]),
            active: false,
            checking: false,
        }
    }

    /// A key on the approver form; `Some(true)` asks to close now.
    fn key(&mut self, key: KeyEvent) -> (Option<Action>, bool) {
        if self.checking {
            return (None, false);
        }
        let form = &mut self.form;
        match key.code {
            KeyCode::Enter
                if form.value(C_NAME).trim().is_empty() && form.value(C_PASS).is_empty() =>
            {
                return (None, true);
            }
            KeyCode::Enter => {
                let name = form.value(C_NAME).trim().to_string();
                if let Err(e) = custodian_core::playbook::validate_operator(&name) {
                    form.focus_on(C_NAME);
                    form.set_error(C_NAME, Report::for_console(&e));
                } else if self
                    .approvals
                    .iter()
                    .any(|a| a.name.eq_ignore_ascii_case(&name))
                {
                    form.clear_all();
                    form.focus_on(C_NAME);
                    form.set_error(
                        C_NAME,
                        Report::for_console(&ApprovalError::SamePerson(name)),
                    );
                } else if form.focus() == C_NAME && form.value(C_PASS).is_empty() {
                    form.focus_on(C_PASS);
                } else if form.value(C_PASS).is_empty() {
                    self.approvals.push(Approval::typed(&name));
                    form.clear_all();
                    form.focus_on(C_NAME);
                } else {
                    self.checking = true;
                    return (
                        Some(Action::CheckRecoveryApprover {
                            name,
                            passphrase: secrecy::SecretString::from(form.value(C_PASS)),
                        }),
                        false,
                    );
                }
            }
            KeyCode::Backspace if form.is_empty() => {
                self.approvals.pop();
            }
            KeyCode::BackTab | KeyCode::Up if form.focus() == C_NAME => self.active = false,
            _ => {
                form.handle_key(key);
            }
        }
        (None, false)
    }

    fn on_worker(&mut self, result: &Result<JobResult, Report>) {
        self.checking = false;
        match result {
            Ok(JobResult::RecoveryApproverChecked(approval)) => {
                if let Some(dup) = self.approvals.iter().find(|a| {
                    a.name.eq_ignore_ascii_case(&approval.name) || a.recipient == approval.recipient
                }) {
                    let e = ApprovalError::SamePerson(dup.name.clone());
                    self.form.clear_all();
                    self.form.focus_on(C_NAME);
                    self.form.set_error(C_NAME, Report::for_console(&e));
                } else {
                    self.approvals.push(approval.clone());
                    self.form.clear_all();
                    self.form.focus_on(C_NAME);
                }
            }
            Ok(JobResult::RecoveryApproverRefused(report)) | Err(report) => {
                self.form.refuse(C_PASS, report.clone());
            }
            Ok(_) => {}
        }
    }

    fn lines(&self) -> Vec<Line<'static>> {
        let mut out = vec![Line::from(strings::SCENARIO_CLOSE_APPROVERS)];
        for a in &self.approvals {
            let how = if a.is_authenticated() {
                "identity opened"
            } else {
                "typed"
            };
            out.push(Line::from(format!("  ✔ {} ({how})", a.name)));
        }
        if self.checking {
            out.push(Line::from(Span::styled(
                strings::RECOVERY_APPROVER_CHECKING,
                widgets::hint(),
            )));
        } else if self.active {
            out.extend(self.form.lines());
        }
        out
    }
}

fn confirm_mode(step: usize) -> Mode {
    Mode::Confirm {
        step,
        form: operator_and(strings::SCENARIO_NOTES),
        warned: None,
    }
}

/// The scenario screen.
#[derive(Debug)]
pub struct ScenarioScreen {
    scenario: Scenario,
    move_assets: Vec<String>,
    incident: Option<Incident>,
    /// The steps list (PgUp/PgDn scroll the decision aid instead).
    nav: ListNav,
    mode: Mode,
    error: Option<Report>,
    /// How far the situation / check-first pane is scrolled.
    aid_scroll: u16,
    /// Its largest useful scroll, as of the last render.
    aid_max: std::cell::Cell<u16>,
    /// The workspace asks the close's approvers to open their identity.
    authenticated_approvals: bool,
}

impl ScenarioScreen {
    /// A screen for `scenario`, resuming `incident` when one is open.
    pub fn new(scenario: Scenario, move_assets: Vec<String>, incident: Option<Incident>) -> Self {
        let selected = incident
            .as_ref()
            .and_then(|inc| {
                scenario
                    .steps
                    .iter()
                    .position(|s| inc.step(&s.id).is_none())
            })
            .unwrap_or(0);
        let mut nav = ListNav::with_keys(scenario.steps.len(), Keys::NoPaging);
        nav.select(selected);
        ScenarioScreen {
            scenario,
            move_assets,
            incident,
            nav,
            mode: Mode::Browse,
            error: None,
            aid_scroll: 0,
            aid_max: std::cell::Cell::new(u16::MAX),
            authenticated_approvals: false,
        }
    }

    /// Under a workspace policy of authenticated approvals, closing the
    /// incident asks for approvers who open their own identity.
    pub fn with_authenticated_approvals(mut self, authenticated: bool) -> Self {
        self.authenticated_approvals = authenticated;
        self
    }

    /// The scenario number.
    pub fn number(&self) -> u8 {
        self.scenario.number
    }

    /// The incident shown, if any.
    pub fn incident(&self) -> Option<&Incident> {
        self.incident.as_ref()
    }

    /// A short name for the current mode (for tests).
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            Mode::Browse => "browse",
            Mode::Start { .. } => "start",
            Mode::Confirm { .. } => "confirm",
            Mode::Record { .. } => "record",
            Mode::Close { .. } => "close",
            Mode::Reopen { .. } => "reopen",
        }
    }

    /// The index of the selected step (for tests).
    pub fn selected(&self) -> usize {
        self.nav.selected()
    }

    /// Indices of the steps before `step` that the incident has not done.
    fn open_before(&self, step: usize) -> Vec<usize> {
        let Some(inc) = &self.incident else {
            return Vec::new();
        };
        self.scenario
            .steps
            .iter()
            .take(step)
            .enumerate()
            .filter(|(_, s)| inc.step(&s.id).is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// Shows the incident after the app changed it. A freshly opened
    /// incident goes straight on to confirming the step that asked for it.
    pub fn set_incident(&mut self, incident: Incident) {
        let next = match &self.mode {
            Mode::Start { step, .. } => Some(*step),
            _ => None,
        };
        let reopened = self.incident.as_ref().map(|i| &i.id) != Some(&incident.id);
        self.incident = Some(incident);
        self.error = None;
        self.mode = match next {
            Some(step) => confirm_mode(step),
            None => Mode::Browse,
        };
        if next.is_none() && !reopened {
            self.advance();
        }
    }

    /// Moves the selection to the first step not yet done.
    fn advance(&mut self) {
        if let Some(inc) = &self.incident
            && let Some(i) = self
                .scenario
                .steps
                .iter()
                .position(|s| inc.step(&s.id).is_none())
        {
            self.nav.select(i);
        }
    }

    /// Shows an error from the app's last effect, keeping the current form.
    pub fn show_error(&mut self, report: Report) {
        self.error = Some(report);
    }

    /// No wizard exists for `op` yet: show its command line and let the
    /// operator record the step as done.
    pub fn record_with_command(&mut self, op: Operation, prefill: &Prefill) {
        if let Some(step) = self
            .scenario
            .steps
            .iter()
            .position(|s| s.id == prefill.step)
        {
            self.mode = Mode::Record {
                step,
                op,
                operator: prefill.operator.clone(),
                notes: prefill.notes.clone(),
            };
        }
    }

    /// Step `step` and its prefill, once a named operator confirms it; a
    /// missing name is shown as the error instead.
    ///
    /// Notes are checked here too (as the core will), so a refused note is
    /// fixed in place before a wizard is launched. A step confirmed while
    /// earlier ones are open is refused once with a warning; the second
    /// Enter goes ahead.
    fn confirmed(&mut self) -> Option<(custodian_core::playbook::Step, Prefill)> {
        let Mode::Confirm {
            step, form, warned, ..
        } = &self.mode
        else {
            return None;
        };
        let step = *step;
        let name = form.value(F_OPERATOR).trim().to_string();
        if custodian_core::playbook::validate_operator(&name).is_err() {
            if let Mode::Confirm { form, .. } = &mut self.mode {
                form.focus_on(F_OPERATOR);
            }
            self.error = Some(Report::for_console(&PlaybookError::MissingOperator));
            return None;
        }
        let notes = match custodian_core::playbook::validate_notes(form.value(F_MORE)) {
            Ok(n) => n,
            Err(e) => {
                if let Mode::Confirm { form, .. } = &mut self.mode {
                    form.focus_on(F_MORE);
                }
                self.error = Some(Report::for_console(&e));
                return None;
            }
        };
        let open = self.open_before(step);
        if !open.is_empty() && warned.as_ref() != Some(&open) {
            if let Mode::Confirm { warned, .. } = &mut self.mode {
                *warned = Some(open);
            }
            self.error = None;
            return None;
        }
        let def = self.scenario.steps.get(step)?.clone();
        let mut prefill = self.prefill(step, name)?;
        prefill.notes = notes;
        Some((def, prefill))
    }

    fn prefill(&self, step: usize, operator: String) -> Option<Prefill> {
        let inc = self.incident.as_ref()?;
        Some(Prefill {
            incident: inc.id.clone(),
            step: self.scenario.steps.get(step)?.id.clone(),
            operator,
            custodian: inc.affected.clone(),
            new_name: inc.affected.as_ref().map(|a| format!("{a}-new")),
            notes: None,
        })
    }

    fn refuse(&mut self, err: PlaybookError) {
        self.error = Some(Report::for_console(&err));
    }

    /// Esc in a form: back one step, never silently dropping what was
    /// typed. A form holding input asks first (a second Esc in a row
    /// discards); approvers who already opened their identity are held by
    /// the close, so the first Esc only leaves the approver form.
    fn esc(&mut self, key: KeyEvent) {
        let leave = match &mut self.mode {
            Mode::Browse => false,
            Mode::Start { form, .. } | Mode::Confirm { form, .. } | Mode::Reopen { form, .. } => {
                form.handle_key(key) == FormEvent::Cancel
            }
            // Back to the confirmation it came from, as typed.
            Mode::Record {
                step,
                operator,
                notes,
                ..
            } => {
                let mut form = operator_and(strings::SCENARIO_NOTES);
                form.set_value(F_OPERATOR, operator);
                form.set_value(F_MORE, notes.as_deref().unwrap_or(""));
                self.mode = Mode::Confirm {
                    step: *step,
                    form,
                    warned: None,
                };
                self.error = None;
                return;
            }
            Mode::Close {
                approvers: Some(ap),
                ..
            } if ap.active => {
                if !ap.checking && ap.form.handle_key(key) == FormEvent::Cancel {
                    ap.form.clear_all();
                    ap.active = false;
                }
                false
            }
            Mode::Close {
                operator,
                approvers,
            } => {
                let n = approvers.as_ref().map_or(0, |a| a.approvals.len());
                operator.set_held((n > 0).then(|| strings::scenario_approvals_held(n)));
                operator.handle_key(key) == FormEvent::Cancel
            }
        };
        if leave {
            self.mode = Mode::Browse;
            self.error = None;
        }
    }

    fn browse_key(&mut self, key: KeyEvent) -> Option<Action> {
        match key.code {
            KeyCode::Esc => return Some(Action::Back),
            _ if self.nav.handle_key(key) => {}
            KeyCode::PageDown | KeyCode::PageUp => {
                if let Some(s) = widgets::scroll_key(key, self.aid_scroll, self.aid_max.get()) {
                    self.aid_scroll = s;
                }
            }
            KeyCode::Char('c') => match &self.incident {
                Some(inc) if inc.is_closed() => {
                    self.refuse(PlaybookError::IncidentClosed(inc.id.clone()))
                }
                Some(_) => {
                    self.mode = Mode::Close {
                        operator: operator_form(),
                        approvers: self.authenticated_approvals.then(CloseApprovers::new),
                    }
                }
                None => {}
            },
            // The closed incident's report as a PDF sheet.
            KeyCode::Char('p') => match &self.incident {
                Some(inc) if inc.is_closed() => {
                    return Some(Action::Print(vec![custodian_core::print::What::Incident(
                        inc.id.clone(),
                    )]));
                }
                _ => {}
            },
            // Take back a mistaken confirmation.
            KeyCode::Char('u') => {
                let step = self.nav.selected();
                let id = self.scenario.steps.get(step)?.id.clone();
                match &self.incident {
                    Some(inc) if inc.is_closed() => {
                        self.refuse(PlaybookError::IncidentClosed(inc.id.clone()))
                    }
                    Some(inc) if inc.step(&id).is_some() => {
                        self.mode = Mode::Reopen {
                            step,
                            form: operator_and(strings::SCENARIO_REASON),
                        }
                    }
                    _ => self.refuse(PlaybookError::StepNotDone(id)),
                }
            }
            KeyCode::Enter => {
                let step = self.nav.selected();
                let id = self.scenario.steps.get(step)?.id.clone();
                match &self.incident {
                    None => {
                        self.mode = Mode::Start {
                            step,
                            form: operator_and(strings::SCENARIO_AFFECTED),
                        }
                    }
                    Some(inc) if inc.is_closed() => {
                        self.refuse(PlaybookError::IncidentClosed(inc.id.clone()))
                    }
                    Some(inc) if inc.step(&id).is_some() => {
                        self.refuse(PlaybookError::StepAlreadyDone(id))
                    }
                    Some(_) => self.mode = confirm_mode(step),
                }
            }
            _ => {}
        }
        None
    }
}

impl Screen for ScenarioScreen {
    fn title(&self) -> String {
        format!(
            "{} {} — {}",
            strings::SCENARIO_TITLE,
            self.scenario.number,
            self.scenario.title
        )
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        // Typing fixes what the error was about: it goes once a key edits.
        if matches!(
            key.code,
            KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete
        ) && !matches!(self.mode, Mode::Browse | Mode::Record { .. })
        {
            self.error = None;
        }
        if key.code == KeyCode::Esc && !matches!(self.mode, Mode::Browse) {
            self.esc(key);
            return None;
        }
        let number = self.scenario.number;
        match &mut self.mode {
            Mode::Browse => {
                self.error = None;
                self.browse_key(key)
            }
            Mode::Start { form, .. } => match key.code {
                KeyCode::Enter => {
                    if form.value(F_OPERATOR).trim().is_empty() {
                        form.focus_on(F_OPERATOR);
                        self.error = Some(Report::for_console(&PlaybookError::MissingOperator));
                        return None;
                    }
                    let affected = form.value(F_MORE).trim();
                    Some(Action::StartIncident {
                        scenario: number,
                        operator: form.value(F_OPERATOR).trim().to_string(),
                        affected: (!affected.is_empty()).then(|| affected.to_string()),
                    })
                }
                _ => {
                    form.handle_key(key);
                    None
                }
            },
            Mode::Confirm { form, .. } => match key.code {
                // An operation done elsewhere (the CLI on another machine):
                // show its command and let the operator record it.
                KeyCode::Char('r') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    let (def, prefill) = self.confirmed()?;
                    if let Some(op) = def.op {
                        self.record_with_command(op, &prefill);
                    }
                    None
                }
                KeyCode::Enter => {
                    let (def, prefill) = self.confirmed()?;
                    match def.op {
                        None => Some(Action::CompleteStep {
                            incident: prefill.incident,
                            step: prefill.step,
                            operator: prefill.operator,
                            how: StepHow::Attested,
                            notes: prefill.notes,
                        }),
                        Some(op) => {
                            self.mode = Mode::Browse;
                            Some(Action::LaunchOperation { op, prefill })
                        }
                    }
                }
                _ => {
                    let before = (
                        form.value(F_OPERATOR).to_string(),
                        form.value(F_MORE).to_string(),
                    );
                    form.handle_key(key);
                    let changed =
                        before.0 != form.value(F_OPERATOR) || before.1 != form.value(F_MORE);
                    if changed {
                        // What was confirmed changed: warn again if needed.
                        if let Mode::Confirm { warned, .. } = &mut self.mode {
                            *warned = None;
                        }
                    }
                    None
                }
            },
            Mode::Record {
                step,
                operator,
                notes,
                ..
            } => match key.code {
                KeyCode::Enter => {
                    let (step, operator, notes) = (*step, operator.clone(), notes.clone());
                    let prefill = self.prefill(step, operator)?;
                    Some(Action::CompleteStep {
                        incident: prefill.incident,
                        step: prefill.step,
                        operator: prefill.operator,
                        how: StepHow::Command,
                        notes,
                    })
                }
                _ => None,
            },
            Mode::Reopen { step, form } => match key.code {
                KeyCode::Enter => {
                    let incident = self.incident.as_ref()?.id.clone();
                    let step = self.scenario.steps.get(*step)?.id.clone();
                    Some(Action::ReopenStep {
                        incident,
                        step,
                        operator: form.value(F_OPERATOR).trim().to_string(),
                        reason: form.value(F_MORE).trim().to_string(),
                    })
                }
                _ => {
                    form.handle_key(key);
                    None
                }
            },
            Mode::Close {
                operator,
                approvers: Some(ap),
            } if ap.active => {
                let (action, close) = ap.key(key);
                if !close {
                    return action;
                }
                if ap.approvals.len() < custodian_core::approvals::MIN_AUTHENTICATED {
                    let have = ap.approvals.iter().filter(|a| a.is_authenticated()).count();
                    let e = ApprovalError::NotEnoughAuthenticated {
                        have,
                        typed: ap.approvals.len() - have,
                    };
                    ap.form.set_error(C_NAME, Report::for_console(&e));
                    return None;
                }
                let incident = self.incident.as_ref()?.id.clone();
                Some(Action::CloseIncident {
                    incident,
                    operator: operator.value(F_OPERATOR).trim().to_string(),
                    approvals: ap.approvals.clone(),
                })
            }
            Mode::Close {
                operator,
                approvers,
            } => match key.code {
                KeyCode::Enter | KeyCode::Tab | KeyCode::Down if approvers.is_some() => {
                    operator.disarm();
                    if let Some(ap) = approvers {
                        ap.active = true;
                    }
                    None
                }
                KeyCode::Enter => {
                    let incident = self.incident.as_ref()?.id.clone();
                    Some(Action::CloseIncident {
                        incident,
                        operator: operator.value(F_OPERATOR).trim().to_string(),
                        approvals: Vec::new(),
                    })
                }
                _ => {
                    operator.handle_key(key);
                    None
                }
            },
        }
    }

    /// A bracketed paste goes into the focused field at its cursor.
    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        let form = match &mut self.mode {
            Mode::Start { form, .. } | Mode::Confirm { form, .. } | Mode::Reopen { form, .. } => {
                form
            }
            Mode::Close {
                approvers: Some(ap),
                ..
            } if ap.active => {
                if ap.checking {
                    return None;
                }
                &mut ap.form
            }
            Mode::Close { operator, .. } => operator,
            Mode::Browse | Mode::Record { .. } => return None,
        };
        if form.paste(text) {
            self.error = None;
            if let Mode::Confirm { warned, .. } = &mut self.mode {
                *warned = None;
            }
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let dim = widgets::hint();
        // Bottom: the selected step's detail, the active form, or an error.
        let mut bottom: Vec<Line> = Vec::new();
        let step = match &self.mode {
            Mode::Start { step, .. }
            | Mode::Confirm { step, .. }
            | Mode::Record { step, .. }
            | Mode::Reopen { step, .. } => *step,
            _ => self.nav.selected(),
        };
        let def = self.scenario.steps.get(step);
        match &self.mode {
            Mode::Browse => {
                if let Some(inc) = self.incident.as_ref().filter(|i| i.is_closed()) {
                    if let Some(r) = &inc.report {
                        bottom.push(Line::from(Span::styled(
                            format!("{} {}", strings::SCENARIO_CLOSED, r.path.display()),
                            Style::default().fg(Color::Green),
                        )));
                        bottom.push(Line::from(strings::SCENARIO_HEAD));
                        bottom.push(Line::from(Span::styled(r.audit_head.clone(), bold)));
                    }
                } else if let Some(def) = def {
                    bottom.push(Line::from(vec![
                        Span::styled(format!("{}. ", step + 1), bold),
                        Span::raw(def.text.clone()),
                    ]));
                    let done = self.incident.as_ref().and_then(|i| i.step(&def.id));
                    if let Some(r) = done {
                        let green = Style::default().fg(Color::Green);
                        bottom.push(Line::from(Span::styled(
                            format!(
                                "Done by {} at {} ({})",
                                r.operator,
                                r.completed_at,
                                r.how.describe()
                            ),
                            green,
                        )));
                        if let Some(n) = &r.notes {
                            bottom.push(Line::from(vec![
                                Span::styled(format!("{}: ", strings::SCENARIO_NOTES_SHOWN), bold),
                                Span::raw(n.clone()),
                            ]));
                        }
                    }
                    let reopened = self
                        .incident
                        .as_ref()
                        .map(|i| {
                            i.reopened
                                .iter()
                                .filter(|r| r.record.step == def.id)
                                .count()
                        })
                        .unwrap_or(0);
                    if reopened > 0 {
                        bottom.push(Line::from(Span::styled(
                            format!(
                                "Reopened {reopened}× before (the report keeps each confirmation)"
                            ),
                            Style::default().fg(Color::Yellow),
                        )));
                    }
                    // How to do it, for a step not done yet.
                    if done.is_none() {
                        match def.op {
                            None => bottom.push(Line::from(strings::SCENARIO_PEOPLE_STEP)),
                            Some(op) => {
                                bottom.push(Line::from(vec![
                                    Span::raw(strings::SCENARIO_LAUNCHES),
                                    Span::styled(op.label(), bold),
                                ]));
                                if let Some(cli) = op.cli() {
                                    bottom.push(Line::from(vec![
                                        Span::styled(strings::SCENARIO_CLI, dim),
                                        Span::styled(cli, dim),
                                    ]));
                                }
                            }
                        }
                    }
                }
            }
            Mode::Start { form, .. } => {
                bottom.push(Line::from(Span::styled(
                    strings::SCENARIO_START_PROMPT,
                    bold,
                )));
                bottom.extend(form.lines());
            }
            Mode::Confirm { form, warned, .. } => {
                bottom.push(Line::from(Span::styled(
                    format!(
                        "{} {}: {}",
                        strings::SCENARIO_CONFIRM_PROMPT,
                        step + 1,
                        def.map(|d| d.text.as_str()).unwrap_or("")
                    ),
                    bold,
                )));
                bottom.extend(form.lines());
                if let Some(open) = warned {
                    let yellow = Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD);
                    let steps: Vec<String> = open.iter().map(|i| (i + 1).to_string()).collect();
                    bottom.push(Line::from(Span::styled(
                        format!(
                            "⚠ {} {} {}. {}",
                            strings::SCENARIO_OUT_OF_ORDER,
                            if steps.len() == 1 { "step" } else { "steps" },
                            steps.join(", "),
                            strings::SCENARIO_OUT_OF_ORDER_AGAIN
                        ),
                        yellow,
                    )));
                }
            }
            Mode::Reopen { form, .. } => {
                bottom.push(Line::from(Span::styled(
                    format!(
                        "{} {}: {}",
                        strings::SCENARIO_REOPEN_PROMPT,
                        step + 1,
                        def.map(|d| d.text.as_str()).unwrap_or("")
                    ),
                    bold,
                )));
                bottom.extend(form.lines());
            }
            Mode::Record { op, operator, .. } => {
                bottom.push(Line::from(vec![
                    Span::raw(strings::SCENARIO_LAUNCHES),
                    Span::styled(op.label(), bold),
                ]));
                match op.cli() {
                    Some(cli) => bottom.push(Line::from(vec![
                        Span::raw(strings::SCENARIO_CLI),
                        Span::styled(cli, Style::default().fg(Color::Cyan)),
                    ])),
                    None => {
                        bottom.push(Line::from(strings::SCENARIO_NO_CLI));
                        for item in &self.move_assets {
                            bottom.push(Line::from(format!("  ☐ {item}")));
                        }
                    }
                }
                bottom.push(Line::from(Span::styled(
                    format!("{} {operator}", strings::SCENARIO_RECORD_PROMPT),
                    bold,
                )));
            }
            Mode::Close {
                operator,
                approvers,
            } => {
                bottom.push(Line::from(Span::styled(
                    strings::SCENARIO_CLOSE_PROMPT,
                    bold,
                )));
                let on_operator = approvers.as_ref().is_none_or(|a| !a.active);
                if on_operator {
                    bottom.extend(operator.lines());
                } else {
                    bottom.extend(operator.lines_idle());
                }
                if let Some(ap) = approvers {
                    bottom.extend(ap.lines());
                }
            }
        }
        if let Some(r) = &self.error {
            bottom.extend(widgets::report_lines(r));
        }
        // Seven rows, more when a long error (a clock behind the audit
        // log, say) would not fit with the form: what to do stays readable.
        let bottom_rows = Paragraph::new(bottom.clone())
            .wrap(Wrap { trim: false })
            .line_count(area.width);
        let bottom_h = if self.error.is_some() {
            u16::try_from(bottom_rows + 1)
                .unwrap_or(u16::MAX)
                .clamp(7, area.height.saturating_sub(7).max(7))
        } else {
            7
        };
        let [status_area, main_area, bottom_area] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(bottom_h),
        ])
        .areas(area);

        // Incident status line.
        let status = match &self.incident {
            None => Line::from(Span::styled(strings::SCENARIO_NO_INCIDENT, dim)),
            Some(inc) => {
                let done = self
                    .scenario
                    .steps
                    .iter()
                    .filter(|s| inc.step(&s.id).is_some())
                    .count();
                let state = if inc.is_closed() { "closed" } else { "open" };
                // Progress first: at 80 columns the end of this line is cut.
                Line::from(vec![
                    Span::styled(format!("Incident {} ", inc.id), bold),
                    Span::raw(format!(
                        "({state}) · {done}/{} steps done · opened {} by {}",
                        self.scenario.steps.len(),
                        inc.started_at,
                        inc.operators.first().map(String::as_str).unwrap_or(""),
                    )),
                ])
            }
        };
        frame.render_widget(Paragraph::new(status), status_area);

        let [left, right] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(main_area);
        let left = Rect {
            width: left.width.saturating_sub(1),
            ..left
        };
        frame.render_widget(
            Block::default().borders(Borders::RIGHT),
            Rect {
                x: left.right(),
                width: 1,
                ..main_area
            },
        );

        // Decision aid: "Do NOT" pinned at the top, where it cannot scroll
        // away; the situation and what to check first scroll below it.
        let red = Style::default().fg(Color::Red);
        let mut do_not = vec![Line::from(Span::styled(
            strings::SCENARIO_DO_NOT,
            red.add_modifier(Modifier::BOLD),
        ))];
        for d in &self.scenario.do_not {
            do_not.push(Line::from(Span::styled(format!("✘ {d}"), red)));
        }
        let do_not = Paragraph::new(do_not).wrap(Wrap { trim: true });
        let do_not_h = u16::try_from(do_not.line_count(left.width))
            .unwrap_or(u16::MAX)
            .min(left.height / 2 + 2);
        let [do_not_area, aid_area] =
            Layout::vertical([Constraint::Length(do_not_h + 1), Constraint::Min(1)]).areas(left);
        frame.render_widget(
            do_not.block(Block::default().borders(Borders::BOTTOM)),
            do_not_area,
        );
        let mut aid = vec![
            Line::from(Span::styled(strings::SCENARIO_SITUATION, bold)),
            Line::from(self.scenario.situation.clone()),
            Line::from(""),
            Line::from(Span::styled(strings::SCENARIO_CHECK_FIRST, bold)),
        ];
        for c in &self.scenario.check_first {
            aid.push(Line::from(format!("• {c}")));
        }
        self.aid_max
            .set(widgets::scrolled(frame, aid_area, aid, self.aid_scroll));

        // Steps: one line each (the selected one's full text is below), the
        // selection always in view.
        let width = usize::from(right.width);
        let mut rows: Vec<(Option<usize>, Line)> = Vec::new();
        for (i, s) in self.scenario.steps.iter().enumerate() {
            let record = self.incident.as_ref().and_then(|inc| inc.step(&s.id));
            let (mark, mark_style) = match record {
                Some(_) => ("[✔]", Style::default().fg(Color::Green)),
                None => ("[ ]", Style::default()),
            };
            let selected = self.nav.is_selected(i);
            let cursor = if selected { "▶" } else { " " };
            let text_style = if selected {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            let op = s.op.map(|op| format!(" ⟶ {op}")).unwrap_or_default();
            let room = width.saturating_sub(4 + op.chars().count());
            let mut spans = vec![
                Span::raw(cursor),
                Span::styled(mark, mark_style),
                Span::styled(
                    crate::tui::widgets::fit(&format!(" {}. {}", i + 1, s.text), room),
                    text_style,
                ),
            ];
            if !op.is_empty() {
                spans.push(Span::styled(op, Style::default().fg(Color::Cyan)));
            }
            rows.push((Some(i), Line::from(spans)));
            if let Some(r) = record {
                rows.push((
                    Some(i),
                    Line::from(Span::styled(
                        crate::tui::widgets::fit(
                            &format!(
                                "       done by {} at {}{}{}",
                                r.operator,
                                r.completed_at,
                                if r.notes.is_some() { " · notes" } else { "" },
                                if r.out_of_order.is_empty() {
                                    ""
                                } else {
                                    " · out of order"
                                }
                            ),
                            width,
                        ),
                        Style::default().fg(Color::Green),
                    )),
                ));
            }
        }
        // The selected step and its "done by" line stay in view.
        let [steps_title, steps_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(right);
        frame.render_widget(
            Paragraph::new(Span::styled(strings::SCENARIO_STEPS, bold)),
            steps_title,
        );
        self.nav.render(frame, steps_area, rows);

        let bottom_area = if matches!(
            self.mode,
            Mode::Record {
                op: Operation::MoveAssetsChecklist,
                ..
            } | Mode::Close {
                approvers: Some(_),
                ..
            }
        ) {
            // The paper list needs more room than a command line.
            let [_, b] = Layout::vertical([Constraint::Min(0), Constraint::Length(12)]).areas(area);
            frame.render_widget(ratatui::widgets::Clear, b);
            b
        } else {
            bottom_area
        };
        frame.render_widget(
            Paragraph::new(bottom)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::TOP)),
            bottom_area,
        );
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.mode {
            Mode::Browse => {
                let mut c = vec![("↑/↓ j/k", "step"), ("Enter", "do step")];
                let open = self.incident.as_ref().filter(|i| !i.is_closed());
                if let Some(inc) = open {
                    let selected_done = self
                        .scenario
                        .steps
                        .get(self.nav.selected())
                        .is_some_and(|s| inc.step(&s.id).is_some());
                    // Both fit an 80-column footer only with short words.
                    if selected_done {
                        c.push(("u", "reopen"));
                        c.push(("c", "close"));
                    } else {
                        c.push(("c", "close incident"));
                    }
                }
                if self.incident.as_ref().is_some_and(|i| i.is_closed()) {
                    c.push(("p", "print report"));
                }
                c.push(("PgUp/PgDn", "scroll"));
                c.push(("Esc", "back"));
                c
            }
            Mode::Start { .. } => vec![("Tab", "next field"), ("Enter", "open"), ("Esc", "cancel")],
            Mode::Confirm { step, .. }
                if self
                    .scenario
                    .steps
                    .get(step)
                    .is_some_and(|s| s.op.is_some()) =>
            {
                vec![
                    ("Enter", "open the wizard"),
                    ("Tab", "notes"),
                    ("Ctrl-R", "done elsewhere: record it"),
                    ("Esc", "cancel"),
                ]
            }
            Mode::Confirm { .. } => {
                vec![("Enter", "confirm"), ("Tab", "notes"), ("Esc", "cancel")]
            }
            Mode::Close {
                approvers: Some(ref ap),
                ..
            } if ap.active => vec![
                ("Enter", "next / add"),
                ("Enter on empty", "close"),
                ("Esc", "back to your name"),
            ],
            Mode::Close {
                approvers: Some(_), ..
            } => vec![("Enter", "approvers"), ("Esc", "cancel")],
            Mode::Close { .. } => vec![("Enter", "confirm"), ("Esc", "cancel")],
            Mode::Reopen { .. } => {
                vec![
                    ("Enter", "reopen"),
                    ("Tab", "next field"),
                    ("Esc", "cancel"),
                ]
            }
            Mode::Record { .. } => vec![("Enter", "record as done"), ("Esc", "cancel")],
        }
    }

    fn takes_text(&self) -> bool {
        !matches!(self.mode, Mode::Browse | Mode::Record { .. })
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (
            WorkerMsg::Finished(result),
            Mode::Close {
                approvers: Some(ap),
                ..
            },
        ) = (msg, &mut self.mode)
            && ap.checking
        {
            ap.on_worker(result);
        }
        None
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
