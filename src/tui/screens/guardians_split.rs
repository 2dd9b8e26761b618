//! The guardian split wizard: custodian → plan (k and the guardians) →
//! the custodian's passphrase → each guardian's new passphrase in turn →
//! the split on a worker thread with a gauge → a summary of the share files.
//!
//! Also home to [`NewPassEntry`], the "choose a passphrase twice, with a
//! strength meter and a generator" block both guardian wizards use.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::{ExposeSecret, SecretString};

use super::{Action, Chrome, Screen};
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::guardians::{self, SplitOutcome};
use custodian_core::identity;
use custodian_core::passphrase;
use custodian_core::workspace::CustodianRecord;

/// A new passphrase typed twice, with a strength meter and Ctrl-G to
/// generate a diceware phrase (shown once so it can be written down).
#[derive(Debug)]
pub struct NewPassEntry {
    first: TextField,
    confirm: TextField,
    on_confirm: bool,
    strength: Option<widgets::Meter>,
    generated: Option<TextField>,
    /// The last problem, shown under the fields.
    pub error: Option<Report>,
}

impl Default for NewPassEntry {
    fn default() -> Self {
        NewPassEntry {
            first: TextField::masked(),
            confirm: TextField::masked(),
            on_confirm: false,
            strength: None,
            generated: None,
            error: None,
        }
    }
}

impl NewPassEntry {
    /// Handles a key; returns the passphrase once both entries match and
    /// pass the policy.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<SecretString> {
        match key.code {
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.on_confirm = !self.on_confirm;
                None
            }
            KeyCode::Char('g') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                match passphrase::generate(passphrase::DEFAULT_WORDS) {
                    Ok(p) => {
                        self.first.set(p.expose_secret());
                        self.confirm.set(p.expose_secret());
                        let mut shown = TextField::default();
                        shown.set(p.expose_secret());
                        self.generated = Some(shown);
                        self.strength = Some(widgets::meter(&p));
                        self.error = None;
                    }
                    Err(e) => self.error = Some(Report::from_error(&e)),
                }
                None
            }
            KeyCode::Enter => {
                if !self.on_confirm {
                    self.on_confirm = true;
                    return None;
                }
                let pass = SecretString::from(self.first.text());
                if let Err(e) = passphrase::check_new(&pass) {
                    self.error = Some(Report::from_error(&e));
                    self.on_confirm = false;
                    return None;
                }
                if self.first.text() != self.confirm.text() {
                    self.error = Some(Report::from_error(&passphrase::PassphraseError::Mismatch));
                    self.confirm.set("");
                    return None;
                }
                Some(pass)
            }
            _ => {
                let field = if self.on_confirm {
                    &mut self.confirm
                } else {
                    &mut self.first
                };
                if field.input(key) {
                    self.error = None;
                    if !self.on_confirm {
                        self.generated = None;
                        self.strength =
                            Some(widgets::meter(&SecretString::from(self.first.text())));
                    }
                }
                None
            }
        }
    }

    /// The block's lines.
    pub fn lines(&self) -> Vec<Line<'_>> {
        let mut lines = vec![
            self.first
                .line(strings::NEWID_PASS_PROMPT, !self.on_confirm),
            self.confirm
                .line(strings::NEWID_CONFIRM_PROMPT, self.on_confirm),
            Line::from(""),
        ];
        if let Some(s) = &self.strength {
            lines.push(widgets::strength_line(s));
        }
        if let Some(g) = &self.generated {
            lines.push(Line::from(Span::styled(
                strings::NEWID_GENERATED,
                Style::default().fg(Color::Yellow),
            )));
            lines.push(Line::from(Span::styled(
                format!("  {}", g.text()),
                Style::default().add_modifier(Modifier::BOLD),
            )));
        }
        if let Some(r) = &self.error {
            lines.push(Line::from(""));
            lines.extend(widgets::report_lines(r));
        }
        lines
    }
}

/// Which plan field has focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlanFocus {
    Threshold,
    Guardians,
}

/// What the wizard knows once the plan is set.
#[derive(Debug, Clone)]
struct Plan {
    custodian: CustodianRecord,
    threshold: usize,
    guardians: Vec<String>,
}

/// "Custodian: … · k-of-n: guardians", above the passphrase steps.
fn plan_line(plan: &Plan) -> Line<'static> {
    Line::from(format!(
        "Custodian: {} · {}-of-{}: {}",
        plan.custodian.name,
        plan.threshold,
        plan.guardians.len(),
        plan.guardians.join(", ")
    ))
}

/// The wizard's steps; each holds what it needs.
enum Step {
    Custodian {
        selected: usize,
    },
    Plan {
        custodian: CustodianRecord,
        threshold: TextField,
        guardians: TextField,
        focus: PlanFocus,
        error: Option<Report>,
    },
    /// The custodian's passphrase. `ready` holds the guardians' passphrases
    /// when retrying after a failure, so they need not be typed again.
    Unlock {
        plan: Plan,
        field: TextField,
        ready: Vec<(String, SecretString)>,
        error: Option<Report>,
    },
    /// The custodian's passphrase is being checked on a worker.
    Checking {
        plan: Plan,
        unlock: SecretString,
    },
    Guardian {
        plan: Plan,
        unlock: SecretString,
        chosen: Vec<(String, SecretString)>,
        entry: NewPassEntry,
    },
    Working {
        plan: Plan,
        progress: Progress,
        guardians: Vec<(String, SecretString)>,
    },
    Done(SplitOutcome),
    Failed {
        plan: Plan,
        report: Report,
        guardians: Vec<(String, SecretString)>,
    },
}

/// The guardian split wizard.
pub struct GuardianSplitWizard {
    custodians: Vec<CustodianRecord>,
    step: Step,
}

impl std::fmt::Debug for GuardianSplitWizard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardianSplitWizard")
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

impl GuardianSplitWizard {
    /// A wizard offering the registered custodians that have identity files.
    pub fn new(custodians: Vec<CustodianRecord>) -> Self {
        let custodians = custodians
            .into_iter()
            .filter(|c| c.identity_file.is_some())
            .collect();
        GuardianSplitWizard {
            custodians,
            step: Step::Custodian { selected: 0 },
        }
    }

    /// A short name for the current step (for tests and snapshots).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Custodian { .. } => "custodian",
            Step::Plan { .. } => "plan",
            Step::Unlock { .. } => "unlock",
            Step::Checking { .. } => "checking",
            Step::Guardian { .. } => "guardian",
            Step::Working { .. } => "working",
            Step::Done(_) => "done",
            Step::Failed { .. } => "failed",
        }
    }

    fn plan_step(custodian: CustodianRecord) -> Step {
        let mut threshold = TextField::default();
        threshold.set(&guardians::DEFAULT_THRESHOLD.to_string());
        Step::Plan {
            custodian,
            threshold,
            guardians: TextField::default(),
            focus: PlanFocus::Guardians,
            error: None,
        }
    }

    fn start(
        &mut self,
        plan: Plan,
        identity_passphrase: SecretString,
        guardians: Vec<(String, SecretString)>,
    ) -> Action {
        let identity_path = plan.custodian.identity_file.clone().unwrap_or_default();
        let threshold = plan.threshold;
        let steps = plan.guardians.len() as u64 + 2;
        self.step = Step::Working {
            plan,
            progress: Progress::start(steps, "starting"),
            guardians: guardians.clone(),
        };
        Action::StartGuardianSplit {
            identity_path,
            identity_passphrase,
            threshold,
            guardians,
        }
    }

    fn step_index(&self) -> usize {
        match self.step {
            Step::Custodian { .. } => 0,
            Step::Plan { .. } => 1,
            Step::Unlock { .. } | Step::Checking { .. } => 2,
            Step::Guardian { .. } => 3,
            Step::Working { .. } => 4,
            Step::Done(_) | Step::Failed { .. } => 5,
        }
    }
}

/// The step bar both guardian wizards draw.
pub fn step_bar(labels: &[&str], active: usize) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("→"));
        }
        let style = if i == active {
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            crate::tui::widgets::hint()
        };
        spans.push(Span::styled(format!(" {}. {label} ", i + 1), style));
    }
    Line::from(spans)
}

fn hint(text: &str) -> Line<'_> {
    Line::from(Span::styled(text, crate::tui::widgets::hint()))
}

impl Screen for GuardianSplitWizard {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        strings::GSPLIT_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::Custodian { selected } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Down | KeyCode::Char('j') => {
                    if *selected + 1 < self.custodians.len() {
                        *selected += 1;
                    }
                    None
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    *selected = selected.saturating_sub(1);
                    None
                }
                KeyCode::Enter => {
                    if let Some(c) = self.custodians.get(*selected) {
                        self.step = Self::plan_step(c.clone());
                    }
                    None
                }
                _ => None,
            },
            Step::Plan {
                custodian,
                threshold,
                guardians: names,
                focus,
                error,
            } => match key.code {
                KeyCode::Esc => {
                    self.step = Step::Custodian { selected: 0 };
                    None
                }
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                    *focus = match focus {
                        PlanFocus::Threshold => PlanFocus::Guardians,
                        PlanFocus::Guardians => PlanFocus::Threshold,
                    };
                    None
                }
                KeyCode::Enter => {
                    let list: Vec<String> = names
                        .text()
                        .split(',')
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .collect();
                    let k = threshold.text().trim().parse::<usize>().unwrap_or(0);
                    match guardians::check_plan(k, &list) {
                        Ok(()) => {
                            self.step = Step::Unlock {
                                plan: Plan {
                                    custodian: custodian.clone(),
                                    threshold: k,
                                    guardians: list,
                                },
                                field: TextField::masked(),
                                ready: Vec::new(),
                                error: None,
                            };
                        }
                        Err(e) => *error = Some(Report::from_error(&e)),
                    }
                    None
                }
                _ => {
                    let field = match focus {
                        PlanFocus::Threshold => threshold,
                        PlanFocus::Guardians => names,
                    };
                    if field.input(key) {
                        *error = None;
                    }
                    None
                }
            },
            Step::Unlock {
                plan,
                field,
                ready,
                error,
            } => match key.code {
                KeyCode::Esc => {
                    let mut step = Self::plan_step(plan.custodian.clone());
                    if let Step::Plan {
                        threshold,
                        guardians,
                        ..
                    } = &mut step
                    {
                        threshold.set(&plan.threshold.to_string());
                        guardians.set(&plan.guardians.join(", "));
                    }
                    self.step = step;
                    None
                }
                KeyCode::Enter if !field.text().is_empty() => {
                    let unlock = SecretString::from(field.text());
                    if ready.len() == plan.guardians.len() {
                        // A retry: the split itself checks the passphrase.
                        let guardians = std::mem::take(ready);
                        let plan = plan.clone();
                        return Some(self.start(plan, unlock, guardians));
                    }
                    let identity_path = plan.custodian.identity_file.clone().unwrap_or_default();
                    self.step = Step::Checking {
                        plan: plan.clone(),
                        unlock: unlock.clone(),
                    };
                    Some(Action::CheckSplitPassphrase {
                        identity_path,
                        identity_passphrase: unlock,
                    })
                }
                _ => {
                    *error = None;
                    field.input(key);
                    None
                }
            },
            Step::Guardian {
                plan,
                unlock,
                chosen,
                entry,
            } => {
                if key.code == KeyCode::Esc {
                    // Back one guardian, or back to the custodian's passphrase.
                    if chosen.pop().is_some() {
                        *entry = NewPassEntry::default();
                    } else {
                        self.step = Step::Unlock {
                            plan: plan.clone(),
                            field: TextField::masked(),
                            ready: Vec::new(),
                            error: None,
                        };
                    }
                    return None;
                }
                let pass = entry.handle_key(key)?;
                let name = plan.guardians[chosen.len()].clone();
                chosen.push((name, pass));
                *entry = NewPassEntry::default();
                if chosen.len() < plan.guardians.len() {
                    return None;
                }
                let plan = plan.clone();
                let guardians = std::mem::take(chosen);
                let unlock = unlock.clone();
                Some(self.start(plan, unlock, guardians))
            }
            Step::Working { .. } | Step::Checking { .. } => None,
            Step::Done(o) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                // Every guardian's share card.
                KeyCode::Char('p') => Some(Action::Print(
                    o.shares
                        .iter()
                        .map(|s| custodian_core::print::What::Share(s.path.clone()))
                        .collect(),
                )),
                _ => None,
            },
            Step::Failed {
                plan, guardians, ..
            } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    self.step = Step::Unlock {
                        plan: plan.clone(),
                        field: TextField::masked(),
                        ready: std::mem::take(guardians),
                        error: None,
                    };
                    None
                }
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let Step::Checking { plan, unlock } = &self.step {
            match msg {
                WorkerMsg::Finished(Ok(JobResult::SplitPassphraseChecked)) => {
                    self.step = Step::Guardian {
                        plan: plan.clone(),
                        unlock: unlock.clone(),
                        chosen: Vec::new(),
                        entry: NewPassEntry::default(),
                    };
                }
                WorkerMsg::Finished(Err(report)) => {
                    self.step = Step::Unlock {
                        plan: plan.clone(),
                        field: TextField::masked(),
                        ready: Vec::new(),
                        error: Some(report.clone()),
                    };
                }
                _ => {}
            }
            return None;
        }
        let Step::Working {
            plan,
            progress,
            guardians,
        } = &mut self.step
        else {
            return None;
        };
        match msg {
            WorkerMsg::Progress { .. } => {
                progress.update(msg);
                None
            }
            WorkerMsg::Finished(Ok(JobResult::GuardianSplit(outcome))) => {
                self.step = Step::Done(outcome.as_ref().clone());
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Err(report)) => {
                self.step = Step::Failed {
                    plan: plan.clone(),
                    report: report.clone(),
                    guardians: std::mem::take(guardians),
                };
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Ok(_)) => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines: Vec<Line> = vec![
            step_bar(strings::GSPLIT_STEPS, self.step_index()),
            Line::from(""),
        ];
        let mut gauge = None;
        match &self.step {
            Step::Custodian { selected } => {
                if self.custodians.is_empty() {
                    lines.push(Line::from(strings::GSPLIT_NO_CUSTODIANS));
                } else {
                    lines.push(Line::from(strings::GSPLIT_PICK));
                    for (i, c) in self.custodians.iter().enumerate() {
                        let marker = if i == *selected { "▶ " } else { "  " };
                        let style = if i == *selected {
                            Style::default().add_modifier(Modifier::BOLD)
                        } else {
                            Style::default()
                        };
                        lines.push(Line::from(Span::styled(
                            format!("{marker}{:<16} fingerprint {}", c.name, c.fingerprint),
                            style,
                        )));
                    }
                    if let Some(c) = self.custodians.get(*selected) {
                        lines.push(Line::from(""));
                        lines.push(Line::from(format!("Recipient: {}", c.recipient)));
                    }
                }
            }
            Step::Plan {
                custodian,
                threshold,
                guardians: names,
                focus,
                error,
            } => {
                lines.push(Line::from(format!("Custodian: {}", custodian.name)));
                lines.push(Line::from(""));
                lines.push(
                    threshold.line(strings::GSPLIT_THRESHOLD, *focus == PlanFocus::Threshold),
                );
                lines.push(names.line(strings::GSPLIT_GUARDIANS, *focus == PlanFocus::Guardians));
                lines.push(Line::from(""));
                lines.push(hint(strings::GSPLIT_PLAN_HINT));
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Unlock {
                plan, field, error, ..
            } => {
                lines.push(plan_line(plan));
                lines.push(Line::from(""));
                lines.push(field.line(strings::GSPLIT_UNLOCK, true));
                lines.push(hint(strings::GSPLIT_UNLOCK_HINT));
                if let Some(r) = error {
                    lines.push(Line::from(""));
                    lines.extend(widgets::report_lines(r));
                }
            }
            Step::Checking { plan, .. } => {
                lines.push(plan_line(plan));
                lines.push(Line::from(""));
                lines.push(Line::from(format!(
                    "{} {}",
                    widgets::spinner(chrome.tick),
                    strings::GSPLIT_CHECKING
                )));
            }
            Step::Guardian {
                plan,
                chosen,
                entry,
                ..
            } => {
                let total = plan.guardians.len();
                let current = &plan.guardians[chosen.len().min(total - 1)];
                lines.push(Line::from(Span::styled(
                    format!(
                        "Guardian {} of {total}: {current} — choose your passphrase",
                        chosen.len() + 1
                    ),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                let mut status = Vec::new();
                for (i, g) in plan.guardians.iter().enumerate() {
                    let mark = if i < chosen.len() { "✔" } else { "·" };
                    status.push(format!("{mark} #{} {g}", i + 1));
                }
                lines.push(Line::from(status.join("   ")));
                lines.push(Line::from(""));
                lines.extend(entry.lines());
                lines.push(hint(strings::GSPLIT_GUARDIAN_HINT));
            }
            Step::Working { plan, progress, .. } => {
                lines.push(Line::from(format!(
                    "{} {} ({}, {}-of-{})",
                    widgets::spinner(chrome.tick),
                    strings::GSPLIT_WORKING,
                    plan.custodian.name,
                    plan.threshold,
                    plan.guardians.len()
                )));
                gauge = Some(progress);
            }
            Step::Done(o) => {
                lines.push(Line::from(Span::styled(
                    format!("✔ {}", strings::GSPLIT_DONE),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(format!(
                    "Custodian:   {} · {}-of-{} · set {}",
                    o.custodian, o.threshold, o.total, o.set_id
                )));
                lines.push(Line::from(format!("Recipient:   {}", o.recipient)));
                lines.push(Line::from(format!(
                    "Fingerprint: {}",
                    identity::fingerprint(&o.recipient)
                )));
                lines.push(Line::from(format!(
                    "Proved:      shares {} rebuilt the same key in memory",
                    o.proved_with
                        .iter()
                        .map(|i| format!("#{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
                lines.push(Line::from(""));
                for s in &o.shares {
                    lines.push(Line::from(format!(
                        "  #{} {:<12} {}",
                        s.index,
                        s.guardian,
                        s.path.display()
                    )));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(strings::GSPLIT_DONE_HINT));
            }
            Step::Failed { report, .. } => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        let [body, bar] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        if let Some(progress) = gauge {
            frame.render_widget(widgets::progress_gauge(progress), bar);
        }
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::Custodian { .. } => vec![("↑/↓", "choose"), ("Enter", "next"), ("Esc", "cancel")],
            Step::Plan { .. } => vec![("Tab", "switch field"), ("Enter", "next"), ("Esc", "back")],
            Step::Unlock { .. } => vec![("Enter", "next"), ("Esc", "back")],
            Step::Guardian { .. } => vec![
                ("Tab", "switch field"),
                ("Ctrl-G", "generate"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Step::Working { .. } | Step::Checking { .. } => vec![],
            Step::Done(_) => vec![("p", "print cards"), ("Enter", "home")],
            Step::Failed { .. } => vec![("Enter", "try again"), ("Esc", "home")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working { .. } | Step::Checking { .. })
    }
}
