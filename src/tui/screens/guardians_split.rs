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
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::guardians::{self, SplitOutcome};
use custodian_core::identity;
use custodian_core::passphrase;
use custodian_core::workspace::CustodianRecord;

/// A new passphrase typed twice, with a strength meter and Ctrl-G to
/// generate a diceware phrase (shown once so it can be written down).
/// The two fields are a shared [`Form`]: masked, zeroizing, pasted into,
/// each error under the field it belongs to.
#[derive(Debug)]
pub struct NewPassEntry {
    form: Form,
    strength: Option<widgets::Meter>,
    /// A generated phrase, shown until typed over (zeroized when dropped).
    generated: Option<SecretString>,
}

impl Default for NewPassEntry {
    fn default() -> Self {
        NewPassEntry {
            form: Form::new(vec![
                FormField::secret(strings::NEWID_PASS_PROMPT, ""),
                FormField::secret(strings::NEWID_CONFIRM_PROMPT, ""),
            ]),
            strength: None,
            generated: None,
        }
    }
}

impl NewPassEntry {
    /// Handles a key (Esc excepted: see [`NewPassEntry::esc`]); returns the
    /// passphrase once both entries match and pass the policy.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<SecretString> {
        if key.code == KeyCode::Char('g') && key.modifiers.contains(KeyModifiers::CONTROL) {
            match passphrase::generate(passphrase::DEFAULT_WORDS) {
                Ok(p) => {
                    self.form.set_value(0, p.expose_secret());
                    self.form.set_value(1, p.expose_secret());
                    self.generated = Some(p.clone());
                    self.strength = Some(widgets::meter(&p));
                }
                Err(e) => self.form.set_error(0, Report::for_console(&e)),
            }
            return None;
        }
        let before = self.form.value(0).len();
        let on_first = self.form.focus() == 0;
        let event = self.form.handle_key(key);
        if on_first && (self.form.value(0).len() != before || key.code == KeyCode::Backspace) {
            // Typing over a generated phrase hides it again.
            self.generated = None;
            self.strength = Some(widgets::meter(&SecretString::from(self.form.value(0))));
        }
        if event != FormEvent::Submit {
            return None;
        }
        let pass = SecretString::from(self.form.value(0));
        if let Err(e) = passphrase::check_new(&pass) {
            self.form.set_error(0, Report::for_console(&e));
            return None;
        }
        if self.form.value(0) != self.form.value(1) {
            self.form.refuse(
                1,
                Report::for_console(&passphrase::PassphraseError::Mismatch),
            );
            return None;
        }
        Some(pass)
    }

    /// Esc: true when the caller should step back (nothing typed, or Esc
    /// pressed twice); the first Esc over a typed passphrase only asks.
    pub fn esc(&mut self) -> bool {
        self.form.handle_key(KeyEvent::from(KeyCode::Esc)) == FormEvent::Cancel
    }

    /// A bracketed paste into the focused field.
    pub fn paste(&mut self, text: &str) {
        if self.form.paste(text) && self.form.focus() == 0 {
            self.generated = None;
            self.strength = Some(widgets::meter(&SecretString::from(self.form.value(0))));
        }
    }

    /// The block's lines.
    pub fn lines(&self) -> Vec<Line<'static>> {
        let mut lines = self.form.lines();
        lines.push(Line::from(""));
        if let Some(s) = &self.strength {
            lines.push(widgets::strength_line(s));
        }
        if let Some(g) = &self.generated {
            lines.push(Line::from(Span::styled(
                strings::NEWID_GENERATED,
                Style::default().fg(Color::Yellow),
            )));
            lines.push(Line::from(Span::styled(
                format!("  {}", g.expose_secret()),
                Style::default().add_modifier(Modifier::BOLD),
            )));
        }
        lines
    }
}

/// The plan form's fields.
const P_THRESHOLD: usize = 0;
const P_GUARDIANS: usize = 1;

fn unlock_form() -> Form {
    Form::new(vec![FormField::secret(
        strings::GSPLIT_UNLOCK,
        strings::GSPLIT_UNLOCK_HINT,
    )])
}

fn unlock_step(plan: Plan, ready: Vec<(String, SecretString)>) -> Step {
    Step::Unlock {
        plan,
        form: unlock_form(),
        ready,
    }
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
    /// Choosing the custodian ([`GuardianSplitWizard::nav`]).
    Custodian,
    /// k and the guardians' names: a form (k first).
    Plan {
        custodian: CustodianRecord,
        form: Form,
    },
    /// The custodian's passphrase. `ready` holds the guardians' passphrases
    /// when retrying after a failure, so they need not be typed again.
    Unlock {
        plan: Plan,
        form: Form,
        ready: Vec<(String, SecretString)>,
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
    /// The custodian list (the shared list component).
    nav: ListNav,
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
            .collect::<Vec<_>>();
        GuardianSplitWizard {
            nav: ListNav::new(custodians.len()),
            custodians,
            step: Step::Custodian,
        }
    }

    /// A short name for the current step (for tests and snapshots).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Custodian => "custodian",
            Step::Plan { .. } => "plan",
            Step::Unlock { .. } => "unlock",
            Step::Checking { .. } => "checking",
            Step::Guardian { .. } => "guardian",
            Step::Working { .. } => "working",
            Step::Done(_) => "done",
            Step::Failed { .. } => "failed",
        }
    }

    fn plan_step(custodian: CustodianRecord, threshold: &str, names: &str) -> Step {
        let mut form = Form::new(vec![
            FormField::plain(strings::GSPLIT_THRESHOLD, "", threshold),
            FormField::plain(strings::GSPLIT_GUARDIANS, strings::GSPLIT_PLAN_HINT, names),
        ]);
        form.focus_on(P_GUARDIANS);
        Step::Plan { custodian, form }
    }

    /// The custodian step: `head` above the list, which scrolls (the
    /// selection kept in view, "more" signs when some are hidden), and the
    /// selected custodian's recipient under it.
    fn render_custodians(&self, frame: &mut Frame, area: Rect, head: Vec<Line<'static>>) {
        let head_h = u16::try_from(head.len()).unwrap_or(u16::MAX);
        let tail_h = 2u16;
        let room = area.height.saturating_sub(head_h + tail_h).max(1);
        let list_h = u16::try_from(self.custodians.len())
            .unwrap_or(u16::MAX)
            .min(room);
        let [top, list, tail, _] = Layout::vertical([
            Constraint::Length(head_h),
            Constraint::Length(list_h),
            Constraint::Length(tail_h),
            Constraint::Min(0),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(head), top);
        let rows = self
            .custodians
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let chosen = self.nav.is_selected(i);
                let style = if chosen {
                    Style::default().add_modifier(Modifier::BOLD)
                } else {
                    Style::default()
                };
                let marker = if chosen { "▶ " } else { "  " };
                (
                    Some(i),
                    Line::from(Span::styled(
                        format!("{marker}{:<16} fingerprint {}", c.name, c.fingerprint),
                        style,
                    )),
                )
            })
            .collect();
        self.nav.render(frame, list, rows);
        if let Some(c) = self.custodians.get(self.nav.selected()) {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(""),
                    Line::from(format!("Recipient: {}", c.recipient)),
                ])
                .wrap(Wrap { trim: false }),
                tail,
            );
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
            Step::Custodian => 0,
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
            Step::Custodian => match key.code {
                KeyCode::Esc => Some(Action::Back),
                _ if self.nav.handle_key(key) => None,
                KeyCode::Enter => {
                    if let Some(c) = self.custodians.get(self.nav.selected()) {
                        let k = guardians::DEFAULT_THRESHOLD.to_string();
                        self.step = Self::plan_step(c.clone(), &k, "");
                    }
                    None
                }
                _ => None,
            },
            Step::Plan { custodian, form } => match form.handle_key(key) {
                FormEvent::Cancel => {
                    self.step = Step::Custodian;
                    None
                }
                FormEvent::Handled => None,
                FormEvent::Submit => {
                    let list: Vec<String> = form
                        .value(P_GUARDIANS)
                        .split(',')
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .collect();
                    let k = form.value(P_THRESHOLD).trim().parse::<usize>().unwrap_or(0);
                    match guardians::check_plan(k, &list) {
                        Ok(()) => {
                            let plan = Plan {
                                custodian: custodian.clone(),
                                threshold: k,
                                guardians: list,
                            };
                            self.step = unlock_step(plan, Vec::new());
                        }
                        Err(e) => {
                            // A threshold that is not a number of at least 2
                            // is the threshold's fault; the rest is the list's.
                            let at = match e {
                                guardians::GuardianError::BadThreshold { .. } if k < 2 => {
                                    P_THRESHOLD
                                }
                                _ => P_GUARDIANS,
                            };
                            form.set_error(at, Report::for_console(&e));
                        }
                    }
                    None
                }
            },
            Step::Unlock { plan, form, ready } => match form.handle_key(key) {
                FormEvent::Cancel => {
                    let k = plan.threshold.to_string();
                    let names = plan.guardians.join(", ");
                    self.step = Self::plan_step(plan.custodian.clone(), &k, &names);
                    None
                }
                FormEvent::Handled => None,
                FormEvent::Submit if form.value(0).is_empty() => None,
                FormEvent::Submit => {
                    let unlock = SecretString::from(form.value(0));
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
            },
            Step::Guardian {
                plan,
                unlock,
                chosen,
                entry,
            } => {
                if key.code == KeyCode::Esc {
                    // Back one guardian, or back to the custodian's passphrase.
                    if !entry.esc() {
                        return None;
                    }
                    if chosen.pop().is_some() {
                        *entry = NewPassEntry::default();
                    } else {
                        self.step = unlock_step(plan.clone(), Vec::new());
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
                // Their QR codes, which no terminal shows whole, as PNGs.
                KeyCode::Char('w') => Some(Action::WriteShareQrPngs(
                    o.shares.iter().map(|s| s.path.clone()).collect(),
                )),
                _ => None,
            },
            Step::Failed {
                plan, guardians, ..
            } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => {
                    self.step = unlock_step(plan.clone(), std::mem::take(guardians));
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
                    let mut form = unlock_form();
                    form.refuse(0, report.clone());
                    self.step = Step::Unlock {
                        plan: plan.clone(),
                        form,
                        ready: Vec::new(),
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
            Step::Custodian => {
                if self.custodians.is_empty() {
                    lines.push(Line::from(strings::GSPLIT_NO_CUSTODIANS));
                } else {
                    lines.push(Line::from(strings::GSPLIT_PICK));
                    return self.render_custodians(frame, area, lines);
                }
            }
            Step::Plan { custodian, form } => {
                lines.push(Line::from(format!("Custodian: {}", custodian.name)));
                lines.push(Line::from(""));
                lines.extend(form.lines());
            }
            Step::Unlock { plan, form, .. } => {
                lines.push(plan_line(plan));
                lines.push(Line::from(""));
                lines.extend(form.lines());
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
            Step::Custodian => vec![("↑/↓", "choose"), ("Enter", "next"), ("Esc", "cancel")],
            Step::Plan { .. } => vec![("Tab/↓", "next field"), ("Enter", "next"), ("Esc", "back")],
            Step::Unlock { .. } => vec![("Enter", "next"), ("Esc", "back")],
            Step::Guardian { .. } => vec![
                ("Tab", "switch field"),
                ("Ctrl-G", "generate"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Step::Working { .. } | Step::Checking { .. } => vec![],
            Step::Done(_) => vec![
                ("p", "print cards"),
                ("w", "QR codes as PNG"),
                ("Enter", "home"),
            ],
            Step::Failed { .. } => vec![("Enter", "try again"), ("Esc", "home")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Working { .. } | Step::Checking { .. })
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        match &mut self.step {
            Step::Plan { form, .. } | Step::Unlock { form, .. } => {
                form.paste(text);
            }
            Step::Guardian { entry, .. } => entry.paste(text),
            _ => {}
        }
        None
    }

    fn takes_text(&self) -> bool {
        matches!(
            self.step,
            Step::Plan { .. } | Step::Unlock { .. } | Step::Guardian { .. }
        )
    }

    fn holds_input(&self) -> bool {
        !matches!(self.step, Step::Custodian | Step::Done(_))
    }
}
