//! The one output step for recovered key material, shared by the
//! threshold recovery wizard and the DR kit's workspace-key recovery (the
//! way [`super::approvers`] is the one approver step).
//!
//! [`OutputChoice`] is where a recovered key goes: exactly one of an HSM
//! import key (RSA-OAEP), an age recipient, or the screen once. Its two
//! fields (key or recipient, then file or directory) live as long as the
//! wizard, so going back and forward loses nothing; the choice changes by
//! 1/2/3 or ←/→ only while both fields are empty, so a typed path is never
//! moved under another meaning. A pasted age secret in the recipient field
//! leaves both the screen and the field.
//!
//! [`ShowOnce`] is the one-time display: the operator first types what
//! the wizard asks (a key id, a key count) to confirm, then each key is
//! shown on its own page with a countdown driven by ticks; Enter goes to
//! the next page (or clears after the last), Esc clears at once. How it
//! ended ([`DisplayEnd`]) goes back to the wizard, which asks the app to
//! audit it. The keys are dropped (zeroized with their last copy) when
//! the component is; nothing here writes them anywhere.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use zeroize::Zeroizing;

use super::complete::PathKind;
use super::event::TICK;
use super::form::{Form, FormEvent, FormField};
use super::strings;
use super::widgets::TextField;
use custodian_core::error::Report;
use custodian_core::identity;
use custodian_core::recovery::RecoveryOutput;

/// What a key did to the output step.
#[derive(Debug)]
pub enum OutputEvent {
    /// Nothing for the wizard to do.
    None,
    /// Esc: the wizard goes back a step (the fields are kept).
    Back,
    /// An output was chosen and checked: the wizard goes on to confirm.
    /// (The kit's keys read `out` as a directory for the HSM output.)
    Chosen(RecoveryOutput),
}

/// The words that differ between wizards on the output step.
#[derive(Debug, Clone, Copy)]
pub struct OutputWords {
    /// The line above the three choices.
    pub hint: &'static str,
    /// What "show once" will do.
    pub screen: &'static str,
    /// The second field's label when wrapping to an HSM key.
    pub hsm_out: &'static str,
    /// The second field's label when encrypting to an age recipient.
    pub age_out: &'static str,
}

const CHOICES: [&str; 3] = [
    "1 HSM import key",
    "2 age recipient",
    "3 show once on screen",
];
const SCREEN: usize = 2;

/// The output step: one of three outputs and the two fields for it.
pub struct OutputChoice {
    words: OutputWords,
    /// 0 HSM, 1 age, 2 screen.
    choice: usize,
    form: Form,
}

impl std::fmt::Debug for OutputChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputChoice")
            .field("choice", &self.choice)
            .finish_non_exhaustive()
    }
}

fn output_form(words: &OutputWords) -> Form {
    Form::new(vec![
        FormField::path(strings::RECOVERY_OUT_HSM, "", "", PathKind::KeyFile),
        FormField::path(words.hsm_out, "", "", PathKind::Any),
    ])
}

impl OutputChoice {
    /// An output step on its first choice (the HSM key), with `words`.
    pub fn new(words: OutputWords) -> Self {
        OutputChoice {
            form: output_form(&words),
            words,
            choice: 0,
        }
    }

    /// Path fields also complete names in `workspace` and its folders.
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.form = output_form(&self.words).with_workspace(workspace);
        self.set_choice(self.choice);
        self
    }

    fn set_choice(&mut self, choice: usize) {
        self.choice = choice;
        let hsm = choice == 0;
        self.form.set_label(
            0,
            if hsm {
                strings::RECOVERY_OUT_HSM
            } else {
                strings::RECOVERY_OUT_AGE
            },
        );
        self.form.set_label(
            1,
            if hsm {
                self.words.hsm_out
            } else {
                self.words.age_out
            },
        );
    }

    /// Whether "show once" is chosen (no field takes text then).
    pub fn shows_once(&self) -> bool {
        self.choice == SCREEN
    }

    /// A key on the output step.
    pub fn handle_key(&mut self, key: KeyEvent) -> OutputEvent {
        if self.form.picking() {
            self.form.handle_key(key);
            return OutputEvent::None;
        }
        let untouched = self.form.is_empty();
        match key.code {
            KeyCode::Esc => return OutputEvent::Back,
            KeyCode::Left | KeyCode::Right if untouched => {
                let d = if key.code == KeyCode::Left { 2 } else { 1 };
                self.set_choice((self.choice + d) % 3);
            }
            KeyCode::Char(c @ '1'..='3') if untouched => {
                self.set_choice((c as u8 - b'1') as usize);
            }
            KeyCode::Enter if self.shows_once() => {
                return OutputEvent::Chosen(RecoveryOutput::Screen);
            }
            _ if self.shows_once() => {}
            _ => {
                if self.form.handle_key(key) == FormEvent::Submit {
                    return self.submit();
                }
            }
        }
        OutputEvent::None
    }

    /// Enter on the last field: both filled, the recipient parsed.
    fn submit(&mut self) -> OutputEvent {
        let form = &mut self.form;
        for i in 0..2 {
            if form.value(i).trim().is_empty() {
                form.set_error(i, Report::note("fill in both fields", None));
                return OutputEvent::None;
            }
        }
        let first = form.value(0).trim().to_string();
        let out = PathBuf::from(form.value(1).trim());
        if self.choice == 0 {
            return OutputEvent::Chosen(RecoveryOutput::Hsm {
                public_key_pem: first.into(),
                out,
            });
        }
        if let Err(e) = identity::parse_recipient(&first) {
            // A pasted secret leaves neither the screen nor the field.
            if matches!(e, identity::IdentityError::SecretInput(_)) {
                form.set_value(0, "");
            }
            form.set_error(0, Report::for_console(&e));
            return OutputEvent::None;
        }
        OutputEvent::Chosen(RecoveryOutput::Age {
            recipient: first,
            out,
        })
    }

    /// A refusal that field `i` (0 key or recipient, 1 file or directory)
    /// fixes: the error under it, focused.
    pub fn set_error(&mut self, i: usize, report: Report) {
        self.form.set_error(i, report);
    }

    /// Pasted text, into the focused field (none while "show once").
    pub fn paste(&mut self, text: &str) {
        if !self.shows_once() {
            self.form.paste(text);
        }
    }

    /// Whether the step takes typed text.
    pub fn takes_text(&self) -> bool {
        !self.shows_once()
    }

    /// Whether leaving would lose something typed.
    pub fn holds_input(&self) -> bool {
        self.form.holds_input()
    }

    /// The step's lines: the hint, the three choices, then the fields or
    /// what "show once" will do.
    pub fn lines(&self) -> Vec<Line<'static>> {
        let mut lines = vec![Line::from(self.words.hint), Line::from("")];
        for (i, label) in CHOICES.iter().enumerate() {
            let style = if i == self.choice {
                Style::default().fg(Color::Black).bg(Color::Cyan)
            } else {
                Style::default()
            };
            lines.push(Line::from(Span::styled(format!(" {label} "), style)));
        }
        lines.push(Line::from(""));
        if self.shows_once() {
            lines.push(Line::from(Span::styled(
                self.words.screen,
                Style::default().fg(Color::Yellow),
            )));
        } else {
            lines.extend(self.form.lines());
        }
        lines
    }

    /// The help bar.
    pub fn commands(&self) -> Vec<(&'static str, &'static str)> {
        if self.shows_once() {
            vec![("1/2/3", "choose"), ("Enter", "next"), ("Esc", "back")]
        } else {
            vec![
                ("1/2/3", "choose"),
                ("Tab", "complete path / next"),
                ("Enter", "next"),
                ("Esc", "back"),
            ]
        }
    }
}

/// A refused or failed recovery, as both wizards show it: the error, that
/// nothing was output, and that Enter goes back to fix it.
pub fn failed_lines(report: &Report) -> Vec<Line<'static>> {
    let mut lines = super::widgets::failure_lines(report);
    lines.push(Line::from(""));
    lines.push(Line::from(
        "Nothing was output. The audit log records the attempt and its failure.",
    ));
    lines.push(Line::from(Span::styled(
        strings::RECOVERY_FIX,
        Style::default().add_modifier(Modifier::BOLD),
    )));
    lines
}

/// How a one-time key display ended (audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayEnd {
    /// Shown, then cleared by the user.
    ShownAndCleared,
    /// Shown until the countdown cleared it.
    TimedOut,
    /// Left before the countdown ended: Esc before showing, or the console quit.
    Abandoned {
        /// Whether the key had been shown.
        shown: bool,
    },
}

impl DisplayEnd {
    /// The audit log's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisplayEnd::ShownAndCleared => "shown-and-cleared",
            DisplayEnd::TimedOut => "timed-out",
            DisplayEnd::Abandoned { .. } => "abandoned",
        }
    }

    /// Whether the key reached the screen.
    pub fn was_shown(self) -> bool {
        match self {
            DisplayEnd::ShownAndCleared | DisplayEnd::TimedOut => true,
            DisplayEnd::Abandoned { shown } => shown,
        }
    }
}

/// The secret pages a [`ShowOnce`] shows, one key a page.
pub trait SecretPages: Send {
    /// How many pages.
    fn count(&self) -> usize;
    /// Page `page`'s title (on its border).
    fn title(&self, page: usize) -> String;
    /// Page `page`'s lines, none longer than `width` columns.
    fn lines(&self, page: usize, width: usize) -> Vec<Zeroizing<String>>;
}

/// The words of the confirmation before the keys are shown.
#[derive(Debug, Clone)]
pub struct ShowOnceWords {
    /// The banner: what was recovered.
    pub banner: String,
    /// The prompt of the field the operator types into.
    pub prompt: &'static str,
    /// What must be typed, exactly (after trimming).
    pub expected: String,
    /// Shown when something else was typed.
    pub mismatch: &'static str,
}

enum ShowState {
    Confirm {
        field: TextField,
        error: bool,
    },
    Showing {
        page: usize,
        /// The tick the page was first drawn at.
        started: Option<u64>,
        now: u64,
    },
}

/// The one-time display: confirmation, then one key a page.
pub struct ShowOnce {
    pages: Box<dyn SecretPages>,
    words: ShowOnceWords,
    state: ShowState,
}

impl std::fmt::Debug for ShowOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShowOnce")
            .field("pages", &self.pages.count())
            .field("step", &self.step_name())
            .finish_non_exhaustive()
    }
}

/// Ticks each page stays on the screen.
pub fn page_ticks() -> u64 {
    (strings::RECOVERY_SHOW_SECONDS * 1000).div_ceil(TICK.as_millis() as u64)
}

impl ShowOnce {
    /// A display of `pages`, at its confirmation.
    pub fn new(pages: Box<dyn SecretPages>, words: ShowOnceWords) -> Self {
        ShowOnce {
            pages,
            words,
            state: ShowState::Confirm {
                field: TextField::default(),
                error: false,
            },
        }
    }

    /// "confirm-show" or "showing" (for tests).
    pub fn step_name(&self) -> &'static str {
        match self.state {
            ShowState::Confirm { .. } => "confirm-show",
            ShowState::Showing { .. } => "showing",
        }
    }

    /// Whether a key is on the screen.
    pub fn showing(&self) -> bool {
        matches!(self.state, ShowState::Showing { .. })
    }

    /// Whether the step takes typed text (the confirmation does).
    pub fn takes_text(&self) -> bool {
        !self.showing()
    }

    /// How the display ends if the console quits now.
    pub fn abandoned(&self) -> DisplayEnd {
        DisplayEnd::Abandoned {
            shown: self.showing(),
        }
    }

    /// A key; `Some` when the display has ended and is to be cleared.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<DisplayEnd> {
        match &mut self.state {
            ShowState::Confirm { field, error } => match key.code {
                KeyCode::Esc => Some(DisplayEnd::Abandoned { shown: false }),
                KeyCode::Enter => {
                    if field.text().trim() == self.words.expected {
                        self.state = ShowState::Showing {
                            page: 0,
                            started: None,
                            now: 0,
                        };
                    } else {
                        *error = true;
                        field.set("");
                    }
                    None
                }
                _ => {
                    if field.input(key) {
                        *error = false;
                    }
                    None
                }
            },
            ShowState::Showing { .. } => match key.code {
                KeyCode::Enter => self.next_page(DisplayEnd::ShownAndCleared),
                KeyCode::Esc => Some(DisplayEnd::ShownAndCleared),
                _ => None,
            },
        }
    }

    /// Pasted text, into the confirmation.
    pub fn paste(&mut self, text: &str) {
        if let ShowState::Confirm { field, error } = &mut self.state
            && field.push_chars(text.trim().chars().filter(|c| !c.is_control()))
        {
            *error = false;
        }
    }

    /// A tick: the page counts down; `Some` when the last page's time is up.
    pub fn on_tick(&mut self, tick: u64) -> Option<DisplayEnd> {
        if let ShowState::Showing { started, now, .. } = &mut self.state {
            let start = *started.get_or_insert(tick);
            *now = tick;
            if tick.saturating_sub(start) >= page_ticks() {
                return self.next_page(DisplayEnd::TimedOut);
            }
        }
        None
    }

    /// On to the next page with a fresh countdown, or the end as `ended`.
    fn next_page(&mut self, ended: DisplayEnd) -> Option<DisplayEnd> {
        if let ShowState::Showing { page, started, .. } = &mut self.state
            && *page + 1 < self.pages.count()
        {
            *page += 1;
            *started = None;
            return None;
        }
        Some(ended)
    }

    /// The help bar.
    pub fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.state {
            ShowState::Confirm { .. } => vec![("Enter", "show once"), ("Esc", "discard")],
            ShowState::Showing { .. } if self.pages.count() > 1 => {
                vec![("Enter", "next / clear"), ("Esc", "clear now")]
            }
            ShowState::Showing { .. } => vec![("Enter/Esc", "clear now")],
        }
    }

    /// Draws the confirmation, or the current page with its countdown.
    pub fn render(&self, frame: &mut Frame, area: Rect) {
        let red = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        let bold = Style::default().add_modifier(Modifier::BOLD);
        match &self.state {
            ShowState::Confirm { field, error } => {
                let mut lines = vec![
                    Line::from(Span::styled(
                        format!(" {} ", self.words.banner),
                        Style::default().fg(Color::Black).bg(Color::Green),
                    )),
                    Line::from(""),
                    field.line(self.words.prompt, true),
                ];
                if *error {
                    lines.push(Line::from(Span::styled(
                        self.words.mismatch,
                        Style::default().fg(Color::Red),
                    )));
                }
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
            }
            ShowState::Showing { page, started, now } => {
                let elapsed = started.map(|s| now.saturating_sub(s)).unwrap_or(0);
                let left_ms = page_ticks().saturating_sub(elapsed) * TICK.as_millis() as u64;
                let left = left_ms.div_ceil(1000);
                let count = self.pages.count();
                let width = usize::from(area.width.saturating_sub(6)).max(20);
                let key_lines: Vec<Line> = self
                    .pages
                    .lines(*page, width)
                    .iter()
                    .map(|l| {
                        Line::from(Span::styled(
                            format!(" {}", l.as_str()),
                            Style::default()
                                .fg(Color::Yellow)
                                .add_modifier(Modifier::BOLD),
                        ))
                    })
                    .collect();
                let h = u16::try_from(key_lines.len() + 2).unwrap_or(u16::MAX);
                let [warn_area, key_area, rest] = Layout::vertical([
                    Constraint::Length(2),
                    Constraint::Length(h),
                    Constraint::Min(1),
                ])
                .areas(area);
                frame.render_widget(
                    Paragraph::new(Line::from(Span::styled(
                        format!(" {} ", strings::RECOVERY_SHOW_WARNING),
                        red,
                    )))
                    .wrap(Wrap { trim: false }),
                    warn_area,
                );
                frame.render_widget(
                    Paragraph::new(key_lines).block(
                        Block::default()
                            .borders(Borders::ALL)
                            .border_style(Style::default().fg(Color::Red))
                            .title(format!(" {} ", self.pages.title(*page))),
                    ),
                    key_area,
                );
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::from(Span::styled(format!("Clearing in {left:>2} s"), bold)),
                        Line::from(if page + 1 < count {
                            "Enter: next key. Esc: clear now."
                        } else {
                            "Press Enter or Esc to clear now."
                        }),
                    ]),
                    rest,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    struct Pages(usize);

    impl SecretPages for Pages {
        fn count(&self) -> usize {
            self.0
        }
        fn title(&self, page: usize) -> String {
            format!("page {page}")
        }
        fn lines(&self, page: usize, _width: usize) -> Vec<Zeroizing<String>> {
            vec![Zeroizing::new(format!("secret {page}"))]
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn shown(n: usize) -> ShowOnce {
        let mut s = ShowOnce::new(
            Box::new(Pages(n)),
            ShowOnceWords {
                banner: "b".into(),
                prompt: "p",
                expected: "ok".into(),
                mismatch: "m",
            },
        );
        for c in "ok".chars() {
            assert_eq!(s.handle_key(key(KeyCode::Char(c))), None);
        }
        assert_eq!(s.handle_key(key(KeyCode::Enter)), None);
        assert!(s.showing());
        s
    }

    #[test]
    fn enter_pages_through_every_key_and_esc_clears_at_once() {
        let mut s = shown(3);
        assert_eq!(s.handle_key(key(KeyCode::Enter)), None);
        assert_eq!(s.handle_key(key(KeyCode::Enter)), None);
        assert_eq!(
            s.handle_key(key(KeyCode::Enter)),
            Some(DisplayEnd::ShownAndCleared)
        );
        let mut s = shown(3);
        assert_eq!(
            s.handle_key(key(KeyCode::Esc)),
            Some(DisplayEnd::ShownAndCleared)
        );
    }

    #[test]
    fn each_page_counts_down_afresh_and_the_last_times_out() {
        let mut s = shown(2);
        let t = page_ticks();
        assert_eq!(s.on_tick(10), None);
        assert_eq!(s.on_tick(10 + t), None, "page 1 times out into page 2");
        assert_eq!(s.on_tick(20 + t), None);
        assert_eq!(s.on_tick(20 + 2 * t), Some(DisplayEnd::TimedOut));
    }

    #[test]
    fn a_wrong_confirmation_is_refused_and_esc_abandons_unshown() {
        let mut s = ShowOnce::new(
            Box::new(Pages(1)),
            ShowOnceWords {
                banner: "b".into(),
                prompt: "p",
                expected: "ok".into(),
                mismatch: "m",
            },
        );
        s.paste("no");
        assert_eq!(s.handle_key(key(KeyCode::Enter)), None);
        assert!(!s.showing());
        assert_eq!(s.abandoned(), DisplayEnd::Abandoned { shown: false });
        assert_eq!(
            s.handle_key(key(KeyCode::Esc)),
            Some(DisplayEnd::Abandoned { shown: false })
        );
    }
}
