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
use crate::tui::strings;
use crate::tui::widgets::{self, TextField};
use crate::tui::worker::{JobResult, Progress, WorkerMsg};
use custodian_core::drill::run::DrillOutcome;
use custodian_core::error::Report;

#[derive(Debug)]
enum Step {
    Participants {
        field: TextField,
        error: Option<String>,
    },
    Running(Progress),
    Done(Box<DrillOutcome>),
    Failed(Report),
}

/// The drill screen.
#[derive(Debug)]
pub struct DrillScreen {
    step: Step,
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
                field: TextField::default(),
                error: None,
            },
        }
    }

    /// The current step's name (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::Participants { .. } => "participants",
            Step::Running(_) => "running",
            Step::Done(_) => "done",
            Step::Failed(_) => "failed",
        }
    }
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
        match &mut self.step {
            Step::Participants { field, error } => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Enter => match parse_participants(field.text()) {
                    Ok(participants) => {
                        self.step = Step::Running(Progress::start(5, strings::DRILL_STARTING));
                        Some(Action::RunDrill { participants })
                    }
                    Err(e) => {
                        *error = Some(e);
                        None
                    }
                },
                _ => {
                    if field.input(key) {
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
            Step::Failed(_) => match key.code {
                KeyCode::Enter | KeyCode::Esc => Some(Action::Back),
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
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
                self.step = Step::Failed(report.clone());
                None
            }
            WorkerMsg::Finished(Ok(_)) => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines: Vec<Line> = vec![Line::from(strings::DRILL_INTRO), Line::from("")];
        let mut gauge = None;
        match &self.step {
            Step::Participants { field, error } => {
                lines.push(field.line(strings::DRILL_PARTICIPANTS, true));
                lines.push(Line::from(Span::styled(
                    strings::DRILL_PARTICIPANTS_HINT,
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
            Step::Failed(report) => {
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
        match self.step {
            Step::Participants { .. } => vec![("Enter", "run the drill"), ("Esc", "back")],
            Step::Running(_) => vec![],
            Step::Done(_) => vec![
                ("o", "walk the scenarios in the sandbox"),
                ("p", "print PDF"),
                ("Enter", "home"),
            ],
            Step::Failed(_) => vec![("Enter", "home")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Running(_))
    }
}
