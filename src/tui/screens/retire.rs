//! The retirement flow, started on a custodian row of the home screen
//! (`x`): pick the successor among the other active custodians (the shared
//! list, [`ListNav`]; the plan for the one chosen is made on a worker, as
//! it hashes share files) → the one
//! concentration rule (CLARIFICATIONS 10) → the retiree's passphrase,
//! checked on a worker → a confirmation listing exactly what will change →
//! the retirement (one transaction) on a worker → the result.
//!
//! The concentration rule, as on the command line: when the successor
//! would hold two or more shards of one key, their name is typed back; when
//! they would reach the key's threshold alone, an override names at least
//! two different approvers, gathered by the shared approver step
//! ([`crate::tui::approvers`]): under the workspace's "authenticated
//! approvals" policy each approver opens their own identity (an empty
//! passphrase is a typed name, which the policy then does not count). Every human input is collected before the
//! transaction starts (CLARIFICATIONS 4); the core's [`retire::retire`]
//! applies the rule again and audits what was approved.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use super::guardians_split::step_bar;
use super::rotate::file_name;
use super::{Action, Chrome, Screen};
use crate::tui::approvers::{Approvers, ApproversEvent};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{CheckedIdentity, JobResult, WorkerMsg};
use custodian_core::approvals::{Approval, ApprovalError, ApprovalPolicy};
use custodian_core::error::Report;
use custodian_core::lifecycle::LifecycleError;
use custodian_core::lifecycle::retire::{self, RetirementOutcome, RetirementPlan};
use custodian_core::shard::{Concentration, OVERRIDE_APPROVERS};

/// What the retirement job is given: the plan and every input, all
/// collected (the passphrase and the approvers checked) before it starts.
pub struct RetirementJob {
    /// The plan the confirmation showed.
    pub plan: RetirementPlan,
    /// The retiree's passphrase (already checked once).
    pub passphrase: SecretString,
    /// The retiree's identity when the check opened it (no hardware token).
    pub opened: CheckedIdentity,
    /// The successor's name was typed back (two or more shards of a key).
    pub accept_concentration: bool,
    /// The override's approvals (reaching a key's threshold), in order.
    pub approvals: Vec<Approval>,
}

impl std::fmt::Debug for RetirementJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetirementJob")
            .field("retiree", &self.plan.retiree.name)
            .field("successor", &self.plan.successor.name)
            .field("approvals", &self.approvals.len())
            .finish_non_exhaustive()
    }
}

enum Step {
    /// Nobody can take the shards (no other active custodian).
    NoSuccessor,
    /// Choosing the successor ([`RetireScreen::nav`]); a plan that failed
    /// for the highlighted one is shown under the list. `planning` while
    /// the plan for the chosen one is made on a worker.
    Successor {
        error: Option<Report>,
        planning: bool,
    },
    /// Two or more shards of a key: the successor's name typed back.
    ConfirmHolder(Form),
    /// Reaching a key's threshold: the override's approvers
    /// ([`RetireScreen::approvers`]).
    Approvers,
    /// The retiree's passphrase.
    Passphrase(Form),
    Checking,
    Confirm,
    Working,
    Done(Box<RetirementOutcome>),
    Failed(Report),
}

fn note(message: String, remedy: &str) -> Report {
    Report {
        message,
        causes: Vec::new(),
        remedy: Some(remedy.to_string()),
    }
}

fn holder_form() -> Form {
    Form::new(vec![FormField::plain(
        strings::RETIRE_HOLDER_PROMPT,
        strings::RETIRE_HOLDER_HINT,
        "",
    )])
}

fn too_few(given: usize) -> Report {
    note(
        format!(
            "the override needs at least {OVERRIDE_APPROVERS} different approvers; {given} named"
        ),
        "name another approver, or Esc and choose another successor",
    )
}

fn successor_step() -> Step {
    Step::Successor {
        error: None,
        planning: false,
    }
}

fn pass_form() -> Form {
    Form::new(vec![FormField::secret(
        strings::RETIRE_PASS,
        strings::ROTATE_OLD_PASS_HINT,
    )])
}

/// The retirement flow.
pub struct RetireScreen {
    name: String,
    candidates: Vec<String>,
    /// The selection in the successor list.
    nav: ListNav,
    plan: Option<RetirementPlan>,
    step: Step,
    accept_concentration: bool,
    approvers: Approvers,
    passphrase: Option<SecretString>,
    /// What the check of `passphrase` opened, for the retirement.
    opened: CheckedIdentity,
    /// Where Enter on the result goes (home, or the scenario that
    /// launched the flow), as the footer says.
    back_to: &'static str,
}

impl std::fmt::Debug for RetireScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetireScreen")
            .field("retiree", &self.name)
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

impl RetireScreen {
    /// The flow for custodian `name`; `candidates` are the other active
    /// custodians (possible successors), `policy` the workspace's approval
    /// policy.
    pub fn new(name: &str, candidates: Vec<String>, policy: ApprovalPolicy) -> Self {
        let step = if candidates.is_empty() {
            Step::NoSuccessor
        } else {
            successor_step()
        };
        RetireScreen {
            name: name.to_string(),
            nav: ListNav::new(candidates.len()),
            candidates,
            plan: None,
            step,
            accept_concentration: false,
            approvers: Approvers::new(
                policy,
                OVERRIDE_APPROVERS,
                strings::RETIRE_APPROVER_HINT,
                too_few,
            ),
            passphrase: None,
            opened: None,
            back_to: strings::BACK_TO_HOME,
        }
    }

    /// Says, on the result, that Enter goes back to `back_to` (the screen
    /// that opened the flow).
    pub fn returning_to(mut self, back_to: &'static str) -> Self {
        self.back_to = back_to;
        self
    }

    /// Starts with `successor` highlighted when it is one of the
    /// candidates (a scenario step suggests the replacement's identity);
    /// the operator still chooses with Enter.
    pub fn with_successor(mut self, successor: &str) -> Self {
        if let Some(i) = self.candidates.iter().position(|c| c == successor) {
            self.nav.select(i);
        }
        self
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::NoSuccessor => "no-successor",
            Step::Successor { .. } => "successor",
            Step::ConfirmHolder(_) => "confirm-holder",
            Step::Approvers => "approvers",
            Step::Passphrase(_) => "passphrase",
            Step::Checking => "checking",
            Step::Confirm => "confirm",
            Step::Working => "working",
            Step::Done(_) => "done",
            Step::Failed(_) => "failed",
        }
    }

    /// The worker's answer to [`Action::PlanRetirement`]: the plan for
    /// the chosen successor, or why there is none (shown under the list).
    pub fn set_plan(&mut self, plan: Result<RetirementPlan, Report>) {
        match plan {
            Ok(p) => {
                self.plan = Some(p);
                self.accept_concentration = false;
                self.approvers.reset();
                self.step = self.after_successor();
            }
            Err(r) => {
                if let Step::Successor { error, planning } = &mut self.step {
                    *error = Some(r);
                    *planning = false;
                }
            }
        }
    }

    fn several(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| {
            p.concentration
                .iter()
                .any(|k| !matches!(k.verdict, Concentration::Spread))
        })
    }

    fn reaches(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| {
            p.concentration
                .iter()
                .any(|k| matches!(k.verdict, Concentration::ReachesThreshold { .. }))
        })
    }

    fn successor_name(&self) -> String {
        self.plan
            .as_ref()
            .map(|p| p.successor.name.clone())
            .unwrap_or_default()
    }

    fn after_successor(&self) -> Step {
        if self.several() {
            Step::ConfirmHolder(holder_form())
        } else {
            Step::Passphrase(pass_form())
        }
    }

    fn after_holder(&self) -> Step {
        if self.reaches() {
            Step::Approvers
        } else {
            Step::Passphrase(pass_form())
        }
    }

    /// Back to the step before the passphrase.
    fn before_passphrase(&mut self) -> Step {
        if self.reaches() {
            Step::Approvers
        } else if self.several() {
            self.accept_concentration = false;
            Step::ConfirmHolder(holder_form())
        } else {
            successor_step()
        }
    }

    fn step_index(&self) -> usize {
        match self.step {
            Step::NoSuccessor | Step::Successor { .. } => 0,
            Step::ConfirmHolder(_) | Step::Approvers => 1,
            Step::Passphrase(_) | Step::Checking => 2,
            Step::Confirm => 3,
            Step::Working | Step::Done(_) | Step::Failed(_) => 4,
        }
    }

    fn successor_key(&mut self, key: KeyEvent) -> Option<Action> {
        let Step::Successor { error, planning } = &mut self.step else {
            return None;
        };
        if *planning {
            return None;
        }
        if self.nav.handle_key(key) {
            *error = None;
            return None;
        }
        match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => {
                let successor = self.candidates.get(self.nav.selected())?.clone();
                *error = None;
                *planning = true;
                Some(Action::PlanRetirement {
                    name: self.name.clone(),
                    successor,
                })
            }
            _ => None,
        }
    }

    /// The successor list under its heading, drawn by the shared list
    /// (the selection kept in view, "more" signs when rows are hidden),
    /// with the plan's error or the "working…" line under it.
    fn render_successors(
        &self,
        frame: &mut Frame,
        area: Rect,
        head: Vec<Line<'static>>,
        error: Option<&Report>,
        planning: bool,
        tick: u64,
    ) {
        let mut below = Vec::new();
        if planning {
            below.push(Line::from(format!(
                "{} {}",
                widgets::spinner(tick),
                strings::RETIRE_PLANNING
            )));
        }
        if let Some(r) = error {
            below.push(Line::from(""));
            below.extend(widgets::failure_lines(r));
        }
        let head_h = u16::try_from(head.len()).unwrap_or(u16::MAX);
        let below_p = Paragraph::new(below).wrap(Wrap { trim: false });
        let below_h = u16::try_from(below_p.line_count(area.width)).unwrap_or(u16::MAX);
        // The list keeps at least three rows; what is under it gets the rest.
        let below_h = below_h.min(area.height.saturating_sub(head_h + 3));
        let [head_area, list_area, below_area] = Layout::vertical([
            Constraint::Length(head_h),
            Constraint::Min(1),
            Constraint::Length(below_h),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(head), head_area);
        let rows = self
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| self.nav.plain_row(i, c, area.width))
            .collect();
        self.nav.render(frame, list_area, rows);
        frame.render_widget(below_p, below_area);
    }

    fn holder_key(&mut self, key: KeyEvent) -> Option<Action> {
        let successor = self.successor_name();
        let Step::ConfirmHolder(form) = &mut self.step else {
            return None;
        };
        match form.handle_key(key) {
            FormEvent::Cancel => {
                self.step = successor_step();
            }
            FormEvent::Handled => {}
            FormEvent::Submit => {
                if form.value(0).trim() == successor {
                    self.accept_concentration = true;
                    self.step = self.after_holder();
                } else {
                    form.set_error(
                        0,
                        note(
                            format!(
                                "`{}` is not the successor's name; type `{successor}` exactly to confirm",
                                form.value(0).trim()
                            ),
                            "the successor's name, as registered, confirms they may hold several shards of one key; Esc chooses another successor",
                        ),
                    );
                }
            }
        }
        None
    }

    fn approvers_key(&mut self, key: KeyEvent) -> Option<Action> {
        match self.approvers.handle_key(key) {
            ApproversEvent::None => None,
            ApproversEvent::Check(action) => Some(action),
            ApproversEvent::Back => {
                // Back to the typed-back name; the approvers given are kept.
                self.accept_concentration = false;
                self.step = Step::ConfirmHolder(holder_form());
                None
            }
            ApproversEvent::Done => {
                if self.approvals_refused() {
                    return None;
                }
                self.step = Step::Passphrase(pass_form());
                None
            }
        }
    }

    /// The core's rule on the approvals, before the retiree's passphrase is
    /// asked: the retiree or the successor approving their own override
    /// stays here, that approval dropped and the reason under the name;
    /// any other refusal stays here with its reason. True when refused.
    fn approvals_refused(&mut self) -> bool {
        let Some(plan) = &self.plan else {
            return false;
        };
        let (typed, authenticated) = self.approvers.partition();
        match retire::check_approvals(plan, self.accept_concentration, &typed, &authenticated) {
            Ok(_) => false,
            Err(LifecycleError::Approval(e)) => {
                let report = Report::for_console(e.as_ref());
                match e.as_ref() {
                    ApprovalError::SelfApproval { name, .. } => self.approvers.refuse(name, report),
                    _ => self.approvers.set_error(report),
                }
                true
            }
            Err(e) => {
                self.approvers.set_error(Report::for_console(&e));
                true
            }
        }
    }

    fn start(&mut self) -> Option<Action> {
        let plan = self.plan.clone()?;
        let passphrase = self.passphrase.clone()?;
        self.step = Step::Working;
        Some(Action::StartRetirement(Box::new(RetirementJob {
            plan,
            passphrase,
            opened: self.opened.take(),
            accept_concentration: self.accept_concentration,
            approvals: self.approvers.approvals().to_vec(),
        })))
    }

    fn concentration_lines(&self, plan: &RetirementPlan) -> Vec<Line<'static>> {
        let warn = Style::default()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD);
        let red = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        let mut lines = Vec::new();
        for k in &plan.concentration {
            match k.verdict {
                Concentration::Spread => {}
                Concentration::Several { holds } => lines.push(Line::from(Span::styled(
                    format!(
                        " {} would hold {holds} shards of key {} ",
                        plan.successor.name, k.key_id
                    ),
                    warn,
                ))),
                Concentration::ReachesThreshold { holds, threshold } => {
                    lines.push(Line::from(Span::styled(
                        format!(
                            " {} would hold {holds} shards of key {}, which needs {threshold}: enough to rebuild it alone ",
                            plan.successor.name, k.key_id
                        ),
                        red,
                    )))
                }
            }
        }
        lines
    }

    fn change_lines(&self, plan: &RetirementPlan) -> Vec<Line<'static>> {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut lines = vec![Line::from(Span::styled(
            format!(
                "{} {} will change, in one transaction:",
                strings::RETIRE_CONFIRM_HEAD,
                plan.retiree.name
            ),
            bold,
        ))];
        lines.push(Line::from(format!(
            "  {} leaves the active custodians (kept in the history, successor {})",
            plan.retiree.name, plan.successor.name
        )));
        if plan.shards.is_empty() {
            lines.push(Line::from("  shards to rewrap: none registered"));
        } else {
            lines.push(Line::from(format!(
                "  shards rewrapped to {}: {}",
                plan.successor.name,
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
        lines.extend(super::rotate::retirement_lines(
            &plan.current_splits,
            &plan.identity_path,
            plan.shards.len(),
            plan.share_files.len(),
            &plan.missing_shards,
        ));
        if self.accept_concentration {
            lines.push(Line::from(format!(
                "  {} confirmed to hold several shards of one key (audited)",
                plan.successor.name
            )));
        }
        if !self.approvers.approvals().is_empty() {
            lines.push(Line::from(format!(
                "  override approved by {} (audited)",
                self.approvers.summary()
            )));
        }
        lines
    }
}

impl Screen for RetireScreen {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        format!("{} — {}", strings::RETIRE_TITLE, self.name)
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::NoSuccessor | Step::Done(_) | Step::Failed(_) => match key.code {
                KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                _ => None,
            },
            Step::Successor { .. } => self.successor_key(key),
            Step::ConfirmHolder(_) => self.holder_key(key),
            Step::Approvers => self.approvers_key(key),
            Step::Passphrase(form) => match form.handle_key(key) {
                FormEvent::Cancel => {
                    self.step = self.before_passphrase();
                    None
                }
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let pass = SecretString::from(form.value(0));
                    let plan = self.plan.clone()?;
                    self.passphrase = Some(pass.clone());
                    self.step = Step::Checking;
                    Some(Action::CheckRetireePassphrase {
                        plan: Box::new(plan),
                        passphrase: pass,
                    })
                }
            },
            Step::Checking | Step::Working => None,
            Step::Confirm => match key.code {
                KeyCode::Enter => self.start(),
                KeyCode::Esc => {
                    self.passphrase = None;
                    self.opened = None;
                    self.step = Step::Passphrase(pass_form());
                    None
                }
                _ => None,
            },
        }
    }

    /// Bracketed paste goes into the focused field of the step's form,
    /// as on every other form screen (a successor's name typed back, an
    /// approver, the retiree's passphrase).
    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::ConfirmHolder(form) | Step::Passphrase(form) => {
                form.paste(text);
            }
            Step::Approvers => self.approvers.paste(text),
            _ => {}
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        if matches!(self.step, Step::Approvers) && self.approvers.on_checked(result) {
            return None;
        }
        match (&mut self.step, result) {
            (Step::Successor { planning: true, .. }, Ok(JobResult::RetirementPlanned(p))) => {
                self.set_plan(Ok((**p).clone()));
                None
            }
            (Step::Successor { planning: true, .. }, Err(report)) => {
                self.set_plan(Err(report.clone()));
                None
            }
            (Step::Checking, Ok(JobResult::RetireePassphraseChecked(opened))) => {
                self.opened = opened.clone();
                self.step = Step::Confirm;
                None
            }
            (Step::Checking, Err(report)) => {
                self.passphrase = None;
                self.opened = None;
                let mut form = pass_form();
                form.refuse(0, report.clone());
                self.step = Step::Passphrase(form);
                None
            }
            (Step::Working, Ok(JobResult::Retired(o))) => {
                self.passphrase = None;
                self.opened = None;
                self.step = Step::Done(o.clone());
                Some(Action::RefreshHome)
            }
            (Step::Working, Err(report)) => {
                self.passphrase = None;
                self.opened = None;
                self.step = Step::Failed(report.clone());
                Some(Action::RefreshHome)
            }
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines = vec![
            step_bar(&strings::RETIRE_STEPS, self.step_index()),
            Line::from(""),
        ];
        if let Some(plan) = &self.plan {
            lines.push(Line::from(format!(
                "{} ({}) → successor {} · {} shard(s) to move",
                plan.retiree.name,
                plan.retiree.fingerprint,
                plan.successor.name,
                plan.shards.len()
            )));
            lines.push(Line::from(""));
        }
        match &self.step {
            Step::NoSuccessor => {
                lines.extend(widgets::failure_lines(&note(
                    format!(
                        "{} is the only active custodian: nobody can take their shards",
                        self.name
                    ),
                    "create the successor's identity first (n on the home screen), then retire",
                )));
            }
            Step::Successor { error, planning } => {
                lines.push(Line::from(Span::styled(
                    format!("{} {}:", strings::RETIRE_PICK, self.name),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                self.render_successors(frame, area, lines, error.as_ref(), *planning, chrome.tick);
                return;
            }
            Step::ConfirmHolder(form) => {
                if let Some(plan) = &self.plan {
                    lines.extend(self.concentration_lines(plan));
                }
                lines.push(Line::from(format!(
                    "Type {}'s name to confirm they may hold several shards of one key (audited).",
                    self.successor_name()
                )));
                lines.extend(form.lines());
            }
            Step::Approvers => {
                if let Some(plan) = &self.plan {
                    lines.extend(self.concentration_lines(plan));
                }
                lines.push(Line::from(strings::RETIRE_OVERRIDE));
                lines.extend(self.approvers.lines(chrome.tick));
            }
            Step::Passphrase(form) => lines.extend(form.lines()),
            Step::Checking => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::ROTATE_CHECKING
            ))),
            Step::Confirm => {
                if let Some(plan) = &self.plan {
                    lines.extend(self.change_lines(plan));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    strings::RETIRE_CONFIRM_HINT,
                    widgets::hint(),
                )));
            }
            Step::Working => lines.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::RETIRE_WORKING
            ))),
            Step::Done(o) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ retired {}; successor {}", o.retiree, o.successor),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!(
                    "Shards rewrapped to {} and verified: {}",
                    o.successor,
                    o.shards.len()
                )));
                for (k, i, f) in &o.shards {
                    lines.push(Line::from(format!("  {k} #{i} → {}", file_name(f))));
                }
                if !o.superseded_sets.is_empty() {
                    lines.push(Line::from(format!(
                        "Guardian sets superseded: {}",
                        o.superseded_sets.join(", ")
                    )));
                }
                lines.push(Line::from(format!(
                    "Moved to retired/: {} file(s)",
                    o.retired_files.iter().filter(|r| r.to.is_some()).count()
                )));
                if !o.approvers.is_empty() {
                    lines.push(Line::from(format!(
                        "Override approved by {} (audited)",
                        o.approvers.join(", ")
                    )));
                }
                if !o.destroy_elsewhere.is_empty() {
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
            }
            Step::Failed(r) => lines.extend(widgets::failure_lines(r)),
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::NoSuccessor | Step::Failed(_) => vec![("Enter/Esc", "back")],
            Step::Successor { planning: true, .. } => vec![],
            Step::Successor { .. } => {
                vec![
                    ("↑/↓ j/k", "choose"),
                    ("Enter", "successor"),
                    ("Esc", "cancel"),
                ]
            }
            Step::ConfirmHolder(_) => vec![("Enter", "confirm"), ("Esc", "back")],
            Step::Approvers => Approvers::commands(),
            Step::Passphrase(_) => vec![("Enter", "check"), ("Esc", "back")],
            Step::Confirm => vec![("Enter", "retire"), ("Esc", "back")],
            Step::Checking | Step::Working => vec![],
            Step::Done(_) => vec![("Enter", self.back_to)],
        }
    }

    fn takes_text(&self) -> bool {
        matches!(
            self.step,
            Step::ConfirmHolder(_) | Step::Approvers | Step::Passphrase(_)
        )
    }

    fn holds_input(&self) -> bool {
        !matches!(
            self.step,
            Step::NoSuccessor | Step::Successor { .. } | Step::Done(_) | Step::Failed(_)
        )
    }

    fn busy(&self) -> bool {
        matches!(
            self.step,
            Step::Checking | Step::Working | Step::Successor { planning: true, .. }
        ) || self.approvers.checking()
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
