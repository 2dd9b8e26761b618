//! The guardian roll call (`G` on home): pick one current guardian set
//! (the shared list, [`ListNav`]), then walk its guardians one by one. Each opens their own share — its
//! file path (Tab completes) or printed line, and their passphrase, masked —
//! and a worker checks it against the commitment recorded at split time
//! without rebuilding the key ([`roll_call`]). A passed share records that
//! guardian's date at once (one audited transaction per guardian), so an
//! interruption loses nobody's proof. A refusal names what is wrong under
//! the field that fixes it: a superseded set, a share of another set or
//! guardian, bytes that differ from the commitment (under the path), a
//! wrong passphrase (under the passphrase). Enter on an empty form marks a
//! guardian absent. The result says who was seen this quarter and whether
//! the set still reaches its threshold from them.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use secrecy::SecretString;

use super::guardians_split::step_bar;
use super::{Action, Chrome, Screen};
use crate::tui::complete::PathKind;
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::guardians::SplitRecord;
use custodian_core::guardians::roll_call;

/// Share form fields.
pub const F_SHARE: usize = 0;
/// The passphrase field.
pub const F_PASS: usize = 1;

/// One guardian's turn: what they give.
#[derive(Debug)]
pub struct RollCallTurn {
    /// The set being called.
    pub set_id: String,
    /// The guardian whose turn it is, and their index.
    pub guardian: String,
    /// Their share's index.
    pub index: u8,
    /// A share file path or a printed share line.
    pub source: String,
}

/// How one guardian's turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Turn {
    /// Proved their share; the date recorded.
    Passed(String),
    /// Not here (Enter on an empty form).
    Absent,
}

enum Step {
    /// No current guardian set of an active custodian.
    NoSets,
    /// Choosing the set ([`RollCallScreen::nav`]).
    Pick,
    Guardian {
        i: usize,
        form: Form,
        checking: bool,
    },
    Result,
}

/// The roll-call screen.
pub struct RollCallScreen {
    sets: Vec<SplitRecord>,
    /// The selection in the set list.
    nav: ListNav,
    today: time::OffsetDateTime,
    /// The chosen set, refreshed after each passed guardian.
    set: Option<SplitRecord>,
    turns: Vec<Turn>,
    step: Step,
    workspace: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for RollCallScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollCallScreen")
            .field("sets", &self.sets.len())
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

fn short(set: &str) -> String {
    set.get(..8).unwrap_or(set).to_string()
}

impl RollCallScreen {
    /// The screen over the current sets of the active custodians; `today`
    /// decides what "this quarter" means.
    pub fn new(sets: Vec<SplitRecord>, today: time::OffsetDateTime) -> Self {
        let step = if sets.is_empty() {
            Step::NoSets
        } else {
            Step::Pick
        };
        RollCallScreen {
            nav: ListNav::new(sets.len()),
            sets,
            today,
            set: None,
            turns: Vec::new(),
            step,
            workspace: None,
        }
    }

    /// Looks bare share names up in `workspace` too (Tab completion).
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.workspace = Some(workspace.to_path_buf());
        self
    }

    /// A short name for the current step (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.step {
            Step::NoSets => "no-sets",
            Step::Pick => "pick",
            Step::Guardian { .. } => "guardian",
            Step::Result => "result",
        }
    }

    fn form_for(&self, i: usize) -> Form {
        // The registered file is offered; the guardian may bring their own
        // copy or the printed line instead.
        let initial = self
            .set
            .as_ref()
            .and_then(|s| s.files.get(i))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let form = Form::new(vec![
            FormField::path(
                strings::ROLL_CALL_SHARE,
                strings::ROLL_CALL_SHARE_HINT,
                &initial,
                PathKind::Any,
            ),
            FormField::secret(strings::ROLL_CALL_PASS, strings::ROLL_CALL_PASS_HINT),
        ]);
        let mut form = match &self.workspace {
            Some(ws) => form.with_workspace(ws),
            None => form,
        };
        if !initial.is_empty() {
            form.focus_on(F_PASS);
        }
        form
    }

    fn guardian_count(&self) -> usize {
        self.set.as_ref().map_or(0, |s| s.guardians.len())
    }

    fn next_turn(&mut self, turn: Turn) {
        self.turns.push(turn);
        let i = self.turns.len();
        self.step = if i < self.guardian_count() {
            Step::Guardian {
                i,
                form: self.form_for(i),
                checking: false,
            }
        } else {
            Step::Result
        };
    }

    fn seen(&self) -> Vec<String> {
        self.set
            .as_ref()
            .map(|s| roll_call::seen_since(s, self.today))
            .unwrap_or_default()
    }

    fn set_line(&self, s: &SplitRecord) -> String {
        format!(
            "{} · set {} · {}-of-{} · seen this quarter: {} of {}",
            s.custodian,
            short(&s.set_id),
            s.threshold,
            s.total,
            roll_call::seen_since(s, self.today).len(),
            s.guardians.len()
        )
    }

    fn result_lines(&self) -> Vec<Line<'static>> {
        let Some(set) = &self.set else {
            return Vec::new();
        };
        let mut lines = vec![Line::from(Span::styled(
            format!(
                "Roll call of {}'s set {}",
                set.custodian,
                short(&set.set_id)
            ),
            Style::default().add_modifier(Modifier::BOLD),
        ))];
        let seen = self.seen();
        for (i, g) in set.guardians.iter().enumerate() {
            let today = match self.turns.get(i) {
                Some(Turn::Passed(_)) => "proved today",
                Some(Turn::Absent) => "absent today",
                None => "not called",
            };
            let last = set
                .roll_call
                .get(g)
                .map(|d| format!("last seen {d}"))
                .unwrap_or_else(|| "never seen".into());
            let (mark, style) = if seen.contains(g) {
                ("✔", Style::default().fg(Color::Green))
            } else {
                ("✘", Style::default().fg(Color::Red))
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {mark} "), style),
                Span::raw(format!("#{} {g}: {today} · {last}", i + 1)),
            ]));
        }
        let enough = seen.len() >= usize::from(set.threshold);
        let verdict = if enough {
            Span::styled(
                format!(
                    "Seen this quarter: {} of {} — the set reaches its threshold of {}",
                    seen.len(),
                    set.guardians.len(),
                    set.threshold
                ),
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            )
        } else {
            Span::styled(
                format!(
                    " Seen this quarter: {} of {} — BELOW the threshold of {}: the set could not rebuild the key from guardians seen this quarter ",
                    seen.len(),
                    set.guardians.len(),
                    set.threshold
                ),
                Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            )
        };
        lines.push(Line::from(""));
        lines.push(Line::from(verdict));
        if !enough {
            lines.push(Line::from(strings::ROLL_CALL_BELOW_HINT));
        }
        lines
    }
}

impl Screen for RollCallScreen {
    fn touches_secrets(&self) -> bool {
        true
    }

    fn title(&self) -> String {
        match &self.set {
            Some(s) => format!("{} — {}", strings::ROLL_CALL_TITLE, s.custodian),
            None => strings::ROLL_CALL_TITLE.into(),
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.step {
            Step::NoSets | Step::Result => match key.code {
                KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
                _ => None,
            },
            Step::Pick => {
                if self.nav.handle_key(key) {
                    return None;
                }
                match key.code {
                    KeyCode::Esc => return Some(Action::Back),
                    KeyCode::Enter => {
                        self.set = self.sets.get(self.nav.selected()).cloned();
                        self.turns.clear();
                        if self.guardian_count() > 0 {
                            self.step = Step::Guardian {
                                i: 0,
                                form: self.form_for(0),
                                checking: false,
                            };
                        }
                    }
                    _ => {}
                }
                None
            }
            Step::Guardian { i, form, checking } => {
                if *checking {
                    return None;
                }
                let i = *i;
                let empty = form.value(F_SHARE).trim().is_empty() && form.value(F_PASS).is_empty();
                if key.code == KeyCode::Enter && empty {
                    self.next_turn(Turn::Absent);
                    return None;
                }
                match form.handle_key(key) {
                    FormEvent::Cancel => {
                        // Back to the set list; guardians already recorded
                        // stay recorded.
                        self.step = Step::Pick;
                        None
                    }
                    FormEvent::Handled => None,
                    FormEvent::Submit if form.value(F_PASS).is_empty() => {
                        form.focus_on(F_PASS);
                        None
                    }
                    FormEvent::Submit => {
                        let set = self.set.as_ref()?;
                        let turn = RollCallTurn {
                            set_id: set.set_id.clone(),
                            guardian: set.guardians.get(i)?.clone(),
                            index: u8::try_from(i + 1).ok()?,
                            source: form.value(F_SHARE).trim().to_string(),
                        };
                        let passphrase = SecretString::from(form.value(F_PASS));
                        *checking = true;
                        Some(Action::CheckRollCallShare {
                            turn: Box::new(turn),
                            passphrase,
                        })
                    }
                }
            }
        }
    }

    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        if let Step::Guardian { form, .. } = &mut self.step {
            form.paste(text);
        }
        None
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        let WorkerMsg::Finished(result) = msg else {
            return None;
        };
        let Step::Guardian { form, checking, .. } = &mut self.step else {
            return None;
        };
        if !*checking {
            return None;
        }
        *checking = false;
        match result {
            Ok(JobResult::RollCallPassed { outcome, split }) => {
                self.set = Some((**split).clone());
                self.next_turn(Turn::Passed(outcome.date.clone()));
                Some(Action::RefreshHome)
            }
            Ok(JobResult::RollCallRefused { field, report }) => {
                form.refuse(*field, report.clone());
                None
            }
            Err(report) => {
                form.refuse(F_SHARE, report.clone());
                None
            }
            Ok(_) => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let active = match self.step {
            Step::NoSets | Step::Pick => 0,
            Step::Guardian { .. } => 1,
            Step::Result => 2,
        };
        let mut lines = vec![step_bar(&strings::ROLL_CALL_STEPS, active), Line::from("")];
        match &self.step {
            Step::NoSets => lines.extend(widgets::failure_lines(&Report {
                message: strings::ROLL_CALL_NO_SETS.into(),
                causes: Vec::new(),
                remedy: Some(strings::ROLL_CALL_NO_SETS_HINT.into()),
            })),
            Step::Pick => {
                lines.push(Line::from(Span::styled(
                    strings::ROLL_CALL_PICK,
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                // The heading above, the shared list below it: the
                // selection kept in view, "more" signs when sets are hidden.
                let head_h = u16::try_from(lines.len()).unwrap_or(u16::MAX);
                let [head, list] =
                    Layout::vertical([Constraint::Length(head_h), Constraint::Min(1)]).areas(area);
                frame.render_widget(Paragraph::new(lines), head);
                let rows = self
                    .sets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.nav.plain_row(i, &self.set_line(s), area.width))
                    .collect();
                self.nav.render(frame, list, rows);
                return;
            }
            Step::Guardian { i, form, checking } => {
                if let Some(set) = &self.set {
                    lines.push(Line::from(self.set_line(set)));
                    let name = set.guardians.get(*i).cloned().unwrap_or_default();
                    lines.push(Line::from(Span::styled(
                        format!(
                            "Guardian {} of {}: {name} — open your own share",
                            i + 1,
                            set.guardians.len()
                        ),
                        Style::default().add_modifier(Modifier::BOLD),
                    )));
                    for (j, t) in self.turns.iter().enumerate() {
                        let g = set.guardians.get(j).cloned().unwrap_or_default();
                        lines.push(Line::from(match t {
                            Turn::Passed(d) => format!("  ✔ {g} proved their share ({d})"),
                            Turn::Absent => format!("  – {g} absent"),
                        }));
                    }
                    lines.push(Line::from(""));
                }
                lines.extend(form.lines());
                if *checking {
                    lines.push(Line::from(format!(
                        "{} {}",
                        widgets::spinner(chrome.tick),
                        strings::ROLL_CALL_CHECKING
                    )));
                }
            }
            Step::Result => lines.extend(self.result_lines()),
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.step {
            Step::NoSets | Step::Result => vec![("Enter/Esc", "back")],
            Step::Pick => vec![("↑/↓ j/k", "choose"), ("Enter", "call"), ("Esc", "back")],
            Step::Guardian { .. } => vec![
                ("Enter", "check / next"),
                ("Enter (empty)", "absent"),
                ("Tab", "complete path / next"),
                ("Esc", "sets"),
            ],
        }
    }

    fn takes_text(&self) -> bool {
        matches!(self.step, Step::Guardian { .. })
    }

    fn holds_input(&self) -> bool {
        matches!(&self.step, Step::Guardian { form, .. } if form.holds_input())
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn busy(&self) -> bool {
        matches!(self.step, Step::Guardian { checking: true, .. })
    }
}
