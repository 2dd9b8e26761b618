//! The quarterly drill from the console: name the participants, run every
//! scenario on synthetic material in a new sandbox (on a worker, with
//! progress), read the per-scenario results, then — if the team wants to
//! walk the scenarios by hand — switch the console into the sandbox, where
//! every screen is marked DRILL.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::drill::run::DrillOutcome;
use custodian_core::drill::sandboxes::{self, SandboxInfo};
use custodian_core::error::Report;

#[derive(Debug)]
enum Step {
    /// The names, in the shared form's field (edited at the cursor; Esc
    /// with names typed asks before leaving).
    Participants {
        field: Form,
        error: Option<String>,
    },
    Running(Progress),
    Done(Box<DrillOutcome>),
    /// The drill did not run (or failed); the names typed are kept, so Esc
    /// goes back to them.
    Failed {
        report: Report,
        names: String,
    },
}

/// The old sandboxes, over the participants step (what was typed there is
/// kept).
#[derive(Debug)]
struct Sandboxes {
    /// None while the list is read (on a worker).
    list: Option<Vec<SandboxInfo>>,
    nav: ListNav,
    /// The delete question is up for the selected sandbox.
    confirm: bool,
    /// A delete is running.
    deleting: bool,
    /// The last sandbox deleted.
    deleted: Option<SandboxInfo>,
    error: Option<Report>,
}

/// The drill screen.
#[derive(Debug)]
pub struct DrillScreen {
    step: Step,
    sandboxes: Option<Sandboxes>,
    /// The participants as typed, kept while the drill runs.
    names: String,
}

impl Default for DrillScreen {
    fn default() -> Self {
        Self::new()
    }
}

impl DrillScreen {
    /// A drill screen asking for participants.
    pub fn new() -> Self {
        DrillScreen {
            step: Step::Participants {
                field: participants_form(""),
                error: None,
            },
            sandboxes: None,
            names: String::new(),
        }
    }

    /// The sandboxes listed (for tests): None while not shown or loading.
    pub fn sandboxes(&self) -> Option<&[SandboxInfo]> {
        self.sandboxes.as_ref()?.list.as_deref()
    }

    fn sandboxes_key(&mut self, key: KeyEvent) -> Option<Action> {
        let view = self.sandboxes.as_mut()?;
        if view.list.is_none() || view.deleting {
            return None;
        }
        if view.confirm {
            match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    view.confirm = false;
                    let path = view.list.as_ref()?.get(view.nav.selected())?.path.clone();
                    view.deleting = true;
                    view.error = None;
                    return Some(Action::DeleteSandbox(path));
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => view.confirm = false,
                _ => {}
            }
            return None;
        }
        if view.nav.handle_key(key) {
            return None;
        }
        match key.code {
            KeyCode::Esc | KeyCode::Tab | KeyCode::BackTab => self.sandboxes = None,
            KeyCode::Char('d') | KeyCode::Delete
                if view.list.as_ref().is_some_and(|l| !l.is_empty()) =>
            {
                view.confirm = true;
                view.deleted = None;
            }
            _ => {}
        }
        None
    }

    fn render_sandboxes(&self, view: &Sandboxes, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut top = vec![
            Line::from(Span::styled(strings::DRILL_SANDBOXES_TITLE, bold)),
            Line::from(Span::styled(strings::DRILL_SANDBOXES_HINT, widgets::hint())),
        ];
        let mut bottom: Vec<Line> = Vec::new();
        if let Some(d) = &view.deleted {
            bottom.push(Line::from(Span::styled(
                format!("{} {}", strings::DRILL_SANDBOX_DELETED, d.path.display()),
                Style::default().fg(Color::Green),
            )));
        }
        if let Some(r) = &view.error {
            bottom.extend(widgets::report_lines(r));
        }
        let selected = view.list.as_ref().and_then(|l| l.get(view.nav.selected()));
        if view.confirm
            && let Some(s) = selected
        {
            bottom.push(Line::from(Span::styled(
                strings::DRILL_SANDBOX_CONFIRM,
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            )));
            bottom.push(Line::from(format!(
                "{} ({})",
                s.path.display(),
                sandboxes::human_size(s.size)
            )));
            bottom.push(Line::from(Span::styled(
                strings::DRILL_SANDBOX_CONFIRM_KEYS,
                bold,
            )));
        } else if let Some(s) = selected {
            // The whole path of the selected one (the list cuts it).
            bottom.push(Line::from(s.path.display().to_string()));
        }
        let list = match &view.list {
            None => {
                top.push(Line::from(format!(
                    "{} {}",
                    widgets::spinner(chrome.tick),
                    strings::DRILL_SANDBOXES_LOADING
                )));
                None
            }
            Some(l) if l.is_empty() => {
                top.push(Line::from(strings::DRILL_SANDBOXES_NONE));
                None
            }
            Some(l) => Some(l),
        };
        if view.deleting {
            bottom.push(Line::from(format!(
                "{} {}",
                widgets::spinner(chrome.tick),
                strings::DRILL_SANDBOXES_LOADING
            )));
        }
        let top = Paragraph::new(top).wrap(Wrap { trim: false });
        let top_h = u16::try_from(top.line_count(area.width)).unwrap_or(2) + 1;
        let bottom = Paragraph::new(bottom).wrap(Wrap { trim: false });
        let bottom_h = u16::try_from(bottom.line_count(area.width))
            .unwrap_or(0)
            .min(area.height / 2);
        let [top_area, header_area, list_area, bottom_area] = Layout::vertical([
            Constraint::Length(top_h),
            Constraint::Length(u16::from(list.is_some())),
            Constraint::Min(1),
            Constraint::Length(bottom_h),
        ])
        .areas(area);
        frame.render_widget(top, top_area);
        frame.render_widget(bottom, bottom_area);
        let Some(list) = list else {
            return;
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    "   {:<24}{:>6}  {:>9}  {}",
                    "Drill", "Age", "Size", "Sandbox"
                ),
                bold,
            )),
            header_area,
        );
        let rows = list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let marker = if view.nav.is_selected(i) { "▶" } else { " " };
                let name = s
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let line = Line::from(format!(
                    "{marker}  {:<24}{:>5}d  {:>9}  {name}",
                    crate::tui::widgets::fit(&s.drill, 23),
                    s.age_days,
                    sandboxes::human_size(s.size)
                ));
                (Some(i), line)
            })
            .collect();
        view.nav.render(frame, list_area, rows);
    }

    /// The current step's name (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Participants { .. } => "participants",
            Step::Running(_) => "running",
            Step::Done(_) => "done",
            Step::Failed { .. } => "failed",
        }
    }
}

/// The participants field holding `names`.
fn participants_form(names: &str) -> Form {
    let mut form = Form::new(vec![FormField::plain(
        strings::DRILL_PARTICIPANTS,
        strings::DRILL_PARTICIPANTS_HINT,
        "",
    )]);
    form.set_value(0, names);
    form
}

fn parse_participants(text: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if names.len() < 2 {
        return Err(strings::DRILL_NEED_TWO.into());
    }
    for n in &names {
        custodian_core::identity::validate_name(n).map_err(|e| e.to_string())?;
    }
    Ok(names)
}

impl Screen for DrillScreen {
    fn title(&self) -> String {
        strings::DRILL_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.sandboxes.is_some() {
            return self.sandboxes_key(key);
        }
        match &mut self.step {
            Step::Participants { field, error } => match key.code {
                KeyCode::Esc => match field.handle_key(key) {
                    FormEvent::Cancel => Some(Action::Back),
                    _ => None,
                },
                KeyCode::Tab => {
                    field.disarm();
                    self.sandboxes = Some(Sandboxes {
                        list: None,
                        nav: ListNav::new(0),
                        confirm: false,
                        deleting: false,
                        deleted: None,
                        error: None,
                    });
                    Some(Action::ListSandboxes)
                }
                KeyCode::Enter => match parse_participants(field.value(0)) {
                    Ok(participants) => {
                        self.names = field.value(0).to_string();
                        self.step = Step::Running(Progress::start(5, strings::DRILL_STARTING));
                        Some(Action::RunDrill { participants })
                    }
                    Err(e) => {
                        *error = Some(e);
                        None
                    }
                },
                _ => {
                    let before = field.value(0).to_string();
                    field.handle_key(key);
                    if field.value(0) != before {
                        *error = None;
                    }
                    None
                }
            },
            Step::Running(_) => None,
            Step::Done(outcome) => match key.code {
                KeyCode::Char('o') => Some(Action::EnterSandbox(outcome.report.sandbox.clone())),
                KeyCode::Char('p') => {
                    Some(Action::Print(vec![custodian_core::print::What::Drill(
                        outcome.report.id.clone(),
                    )]))
                }
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
            Step::Failed { names, .. } => match key.code {
                KeyCode::Enter => Some(Action::Back),
                KeyCode::Esc => {
                    let field = participants_form(names);
                    self.step = Step::Participants { field, error: None };
                    None
                }
                _ => None,
            },
        }
    }

    /// A bracketed paste goes into the participants field at its cursor.
    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        if self.sandboxes.is_none()
            && let Step::Participants { field, error } = &mut self.step
            && field.paste(text)
        {
            *error = None;
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let Some(view) = &mut self.sandboxes {
            match msg {
                WorkerMsg::Finished(Ok(JobResult::Sandboxes(list))) => {
                    view.nav.set_len(list.len());
                    view.list = Some(list.clone());
                }
                WorkerMsg::Finished(Ok(JobResult::SandboxDeleted(info))) => {
                    view.deleting = false;
                    view.deleted = Some(info.clone());
                    view.list = None;
                    return Some(Action::ListSandboxes);
                }
                WorkerMsg::Finished(Err(report)) => {
                    view.deleting = false;
                    if view.list.is_none() {
                        view.list = Some(Vec::new());
                    }
                    view.error = Some(report.clone());
                }
                _ => {}
            }
            return None;
        }
        if !matches!(self.step, Step::Running(_)) {
            return None;
        }
        match msg {
            WorkerMsg::Progress { .. } => {
                if let Step::Running(progress) = &mut self.step {
                    progress.update(msg);
                }
                None
            }
            WorkerMsg::Finished(Ok(JobResult::DrillFinished(outcome))) => {
                self.step = Step::Done(outcome.clone());
                Some(Action::RefreshHome)
            }
            WorkerMsg::Finished(Err(report)) => {
                self.step = Step::Failed {
                    report: report.clone(),
                    names: std::mem::take(&mut self.names),
                };
                None
            }
            WorkerMsg::Finished(Ok(_)) => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        if let Some(view) = &self.sandboxes {
            self.render_sandboxes(view, frame, area, chrome);
            return;
        }
        let mut lines: Vec<Line> = vec![Line::from(strings::DRILL_INTRO), Line::from("")];
        let mut gauge = None;
        match &self.step {
            Step::Participants { field, error } => {
                lines.extend(field.lines());
                lines.push(Line::from(Span::styled(
                    strings::DRILL_SANDBOXES_TAB,
                    crate::tui::widgets::hint(),
                )));
                if let Some(e) = error {
                    lines.push(Line::from(""));
                    lines.push(Line::from(Span::styled(
                        e.clone(),
                        Style::default().fg(Color::Red),
                    )));
                }
            }
            Step::Running(progress) => {
                lines.push(Line::from(format!(
                    "{} {}",
                    widgets::spinner(chrome.tick),
                    progress.label
                )));
                gauge = Some(widgets::gauge(
                    progress.done,
                    progress.total,
                    strings::DRILL_PROGRESS,
                ));
            }
            Step::Done(outcome) => {
                let r = &outcome.report;
                let (verdict, color) = if r.passed {
                    ("PASSED", Color::Green)
                } else {
                    ("FAILED", Color::Red)
                };
                lines.push(Line::from(Span::styled(
                    format!("Drill {} {verdict}", r.id),
                    Style::default().fg(color).add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!(
                    "Participants: {}",
                    r.participants.join(", ")
                )));
                lines.push(Line::from(""));
                for s in &r.scenarios {
                    let (mark, c) = if s.passed {
                        ("pass", Color::Green)
                    } else {
                        ("FAIL", Color::Red)
                    };
                    lines.push(Line::from(vec![
                        Span::styled(
                            format!(" {mark} "),
                            Style::default().fg(c).add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(format!(
                            " {}. {} — {} checks, {:.1} s",
                            s.number,
                            s.title,
                            s.checks.len(),
                            s.duration_ms as f64 / 1000.0
                        )),
                    ]));
                    if let Some(e) = &s.error {
                        lines.push(Line::from(Span::styled(
                            format!("      stopped: {e}"),
                            Style::default().fg(Color::Red),
                        )));
                    }
                }
                lines.push(Line::from(""));
                lines.push(Line::from(format!(
                    "Report:  {}",
                    outcome.markdown.display()
                )));
                lines.push(Line::from(format!("Sandbox: {}", r.sandbox.display())));
                lines.push(Line::from(""));
                lines.push(Line::from(strings::DRILL_WALK_HINT));
            }
            Step::Failed { report, .. } => {
                lines.extend(widgets::failure_lines(report));
            }
        }
        let [text, bar] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), text);
        if let Some(g) = gauge {
            frame.render_widget(g, bar);
        }
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        if let Some(view) = &self.sandboxes {
            return if view.confirm {
                vec![("y", "delete"), ("n/Esc", "keep")]
            } else {
                vec![
                    ("↑/↓ j/k", "select"),
                    ("d", "delete"),
                    ("Tab/Esc", "back to the drill"),
                ]
            };
        }
        match self.step {
            Step::Participants { .. } => vec![
                ("Enter", "run the drill"),
                ("Tab", "old sandboxes"),
                ("Esc", "back"),
            ],
            Step::Running(_) => vec![],
            Step::Done(_) => vec![
                ("o", "walk the scenarios in the sandbox"),
                ("p", "print PDF"),
                ("Enter", "home"),
            ],
            Step::Failed { .. } => vec![("Enter", "home"), ("Esc", "back to the names")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Running(_))
            || self
                .sandboxes
                .as_ref()
                .is_some_and(|v| v.list.is_none() || v.deleting)
    }

    fn takes_text(&self) -> bool {
        self.sandboxes.is_none()
    }

    fn holds_input(&self) -> bool {
        true
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
