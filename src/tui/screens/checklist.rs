//! The pre-launch checklist and the institutional policy table (Tab switches
//! between them). Automatic items show what the workspace proves; manual
//! items are ticked or unticked by an operator who types their name.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use custodian_core::error::Report;
use custodian_core::playbook::PlaybookError;
use custodian_core::playbook::checklist::ItemState;
use custodian_core::playbook::model::{ChecklistItem, PolicyRow};

/// One checklist line, with its group heading.
#[derive(Debug, Clone)]
pub struct ChecklistLine {
    /// The group it belongs to.
    pub group: String,
    /// The item.
    pub item: ChecklistItem,
    /// Its state.
    pub state: ItemState,
}

#[derive(Debug)]
enum Mode {
    Browse,
    /// Ticking or unticking: the operator's name in the shared form
    /// (offered as the last name used; Esc after typing asks first).
    Tick {
        operator: Form,
        ticked: bool,
    },
}

/// The checklist and policy screen.
#[derive(Debug)]
pub struct ChecklistScreen {
    lines: Vec<ChecklistLine>,
    policy: Vec<PolicyRow>,
    show_policy: bool,
    nav: ListNav,
    mode: Mode,
    last_operator: String,
    error: Option<Report>,
    policy_scroll: u16,
    policy_max: std::cell::Cell<u16>,
    /// The items are being checked (on a background check).
    checking: bool,
}

impl ChecklistScreen {
    /// The screen on the checklist tab.
    pub fn new(lines: Vec<ChecklistLine>, policy: Vec<PolicyRow>) -> Self {
        ChecklistScreen {
            nav: ListNav::new(lines.len()),
            lines,
            policy,
            show_policy: false,
            mode: Mode::Browse,
            last_operator: String::new(),
            error: None,
            policy_scroll: 0,
            policy_max: std::cell::Cell::new(u16::MAX),
            checking: false,
        }
    }

    /// The screen waiting for its items to be checked.
    pub fn checking(policy: Vec<PolicyRow>) -> Self {
        let mut s = Self::new(Vec::new(), policy);
        s.checking = true;
        s
    }

    /// The items are being checked again (after a tick).
    pub fn set_checking(&mut self) {
        self.checking = true;
        self.mode = Mode::Browse;
        self.error = None;
    }

    /// Replaces the item states after a tick.
    pub fn set_lines(&mut self, lines: Vec<ChecklistLine>) {
        self.checking = false;
        self.nav.set_len(lines.len());
        self.lines = lines;
        self.mode = Mode::Browse;
        self.error = None;
    }

    /// Shows an error from the app's last effect.
    pub fn show_error(&mut self, report: Report) {
        self.error = Some(report);
    }
}

impl Screen for ChecklistScreen {
    fn title(&self) -> String {
        if self.show_policy {
            strings::POLICY_TITLE.into()
        } else {
            strings::CHECKLIST_TITLE.into()
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.mode {
            Mode::Tick { operator, ticked } => match key.code {
                KeyCode::Esc => {
                    if operator.handle_key(key) == FormEvent::Cancel {
                        self.mode = Mode::Browse;
                        self.error = None;
                    }
                    None
                }
                KeyCode::Enter => {
                    let name = operator.value(0).trim().to_string();
                    let ticked = *ticked;
                    if name.is_empty() {
                        self.error = Some(Report::for_console(&PlaybookError::MissingOperator));
                        return None;
                    }
                    self.last_operator = name.clone();
                    let item = self.lines.get(self.nav.selected())?.item.id.clone();
                    Some(Action::TickChecklist {
                        item,
                        operator: name,
                        ticked,
                    })
                }
                _ => {
                    let before = operator.value(0).to_string();
                    operator.handle_key(key);
                    if operator.value(0) != before {
                        self.error = None;
                    }
                    None
                }
            },
            Mode::Browse => {
                self.error = None;
                match key.code {
                    KeyCode::Esc => return Some(Action::Back),
                    KeyCode::Tab | KeyCode::BackTab => self.show_policy = !self.show_policy,
                    _ if self.show_policy => {
                        if let Some(s) =
                            widgets::scroll_key(key, self.policy_scroll, self.policy_max.get())
                        {
                            self.policy_scroll = s;
                        }
                    }
                    _ if self.nav.handle_key(key) => {}
                    KeyCode::Enter | KeyCode::Char(' ') if !self.show_policy => {
                        let line = self.lines.get(self.nav.selected())?;
                        if line.item.auto.is_some() {
                            self.error = Some(Report::for_console(&PlaybookError::AutomaticItem(
                                line.item.id.clone(),
                            )));
                        } else {
                            let operator = Form::new(vec![FormField::plain(
                                strings::SCENARIO_OPERATOR,
                                "",
                                &self.last_operator,
                            )]);
                            let ticked = !matches!(line.state, ItemState::Ticked(_));
                            self.mode = Mode::Tick { operator, ticked };
                        }
                    }
                    _ => {}
                }
                None
            }
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        if self.show_policy {
            // Each rule wrapped in full under its concern, scrolling.
            let mut lines = Vec::new();
            for p in &self.policy {
                lines.push(Line::from(Span::styled(
                    p.concern.clone(),
                    bold.fg(Color::Cyan),
                )));
                lines.push(Line::from(format!("  {}", p.rule)));
            }
            self.policy_max
                .set(widgets::scrolled(frame, area, lines, self.policy_scroll));
            return;
        }
        let dim = crate::tui::widgets::hint();
        if self.checking && self.lines.is_empty() {
            frame.render_widget(
                Paragraph::new(Span::styled(strings::CHECKLIST_CHECKING, dim)),
                area,
            );
            return;
        }
        let bottom_h = if self.error.is_some() { 7 } else { 5 };
        let [list_area, bottom_area] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(bottom_h)]).areas(area);
        let mut items = Vec::new();
        let mut group = "";
        for (i, l) in self.lines.iter().enumerate() {
            if l.group != group {
                group = &l.group;
                items.push((
                    None,
                    Line::from(Span::styled(format!("  {}", l.group), bold.fg(Color::Cyan))),
                ));
            }
            let (mark, style) = match &l.state {
                ItemState::Verified(_) | ItemState::Ticked(_) => {
                    ("[✔]", Style::default().fg(Color::Green))
                }
                ItemState::NotMet(_) => ("[✘]", Style::default().fg(Color::Red)),
                ItemState::Open => ("[ ]", Style::default()),
            };
            let note = match &l.state {
                ItemState::Ticked(t) => {
                    format!("  {} {}", t.operator, t.at.get(..10).unwrap_or(&t.at))
                }
                _ if l.item.auto.is_some() => "  auto".to_string(),
                _ => String::new(),
            };
            let selected = self.nav.is_selected(i);
            let line = Line::from(vec![
                Span::raw(if selected { "▶ " } else { "  " }),
                Span::styled(format!("{mark} "), style),
                Span::raw(l.item.text.clone()),
                Span::styled(note, style),
            ]);
            let line = if selected {
                line.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                line
            };
            items.push((Some(i), line));
        }
        let done = self.lines.iter().filter(|l| l.state.done()).count();
        let [title_area, rows_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(list_area);
        frame.render_widget(
            Paragraph::new(format!(" {done}/{} done ", self.lines.len())),
            title_area,
        );
        self.nav.render(frame, rows_area, items);

        let mut bottom = Vec::new();
        match &self.mode {
            Mode::Tick { operator, ticked } => {
                let prompt = if *ticked {
                    strings::CHECKLIST_TICK_PROMPT
                } else {
                    strings::CHECKLIST_UNTICK_PROMPT
                };
                bottom.push(Line::from(Span::styled(prompt, bold)));
                bottom.extend(operator.lines());
            }
            Mode::Browse => match self.lines.get(self.nav.selected()).map(|l| {
                // The list cuts long items at the edge; the whole text is here.
                bottom.push(Line::from(Span::styled(l.item.text.clone(), bold)));
                &l.state
            }) {
                Some(ItemState::Verified(d)) => {
                    bottom.push(Line::from(Span::styled(
                        format!("Verified: {d}"),
                        Style::default().fg(Color::Green),
                    )));
                    bottom.push(Line::from(Span::styled(strings::CHECKLIST_AUTO, dim)));
                }
                Some(ItemState::NotMet(d)) => {
                    bottom.push(Line::from(Span::styled(
                        format!("Not met: {d}"),
                        Style::default().fg(Color::Red),
                    )));
                    bottom.push(Line::from(Span::styled(strings::CHECKLIST_AUTO, dim)));
                }
                Some(ItemState::Ticked(t)) => {
                    bottom.push(Line::from(format!("Ticked by {} at {}", t.operator, t.at)))
                }
                _ => {}
            },
        }
        if let Some(r) = &self.error {
            bottom.extend(widgets::report_lines(r));
        }
        frame.render_widget(
            Paragraph::new(bottom)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::TOP)),
            bottom_area,
        );
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match (&self.mode, self.show_policy) {
            (Mode::Tick { .. }, _) => vec![("Enter", "confirm"), ("Esc", "cancel")],
            (Mode::Browse, true) => vec![
                ("↑/↓ j/k PgUp/PgDn", "scroll"),
                ("Tab", "checklist"),
                ("Esc", "back"),
            ],
            (Mode::Browse, false) => vec![
                ("↑/↓ j/k", "select"),
                ("Enter", "tick/untick"),
                ("Tab", "policy"),
                ("Esc", "back"),
            ],
        }
    }

    fn takes_text(&self) -> bool {
        matches!(self.mode, Mode::Tick { .. })
    }

    fn holds_input(&self) -> bool {
        matches!(&self.mode, Mode::Tick { operator, .. } if operator.holds_input())
    }

    /// A bracketed paste goes into the name at its cursor.
    fn handle_paste(&mut self, text: &str) -> Option<Action> {
        if let Mode::Tick { operator, .. } = &mut self.mode
            && operator.paste(text)
        {
            self.error = None;
        }
        None
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
