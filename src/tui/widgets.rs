//! Small reusable pieces: text fields (plain and masked), the strength
//! meter, the spinner, error panels and centred popups.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};
use zeroize::Zeroizing;

use custodian_core::error::Report;
use custodian_core::passphrase::Strength;
use custodian_core::text::grouped;

use super::strings;

/// A single-line text input. Secret fields render as bullets and keep their
/// text in a zeroizing buffer.
#[derive(Default)]
pub struct TextField {
    text: Zeroizing<String>,
    /// Render as bullets.
    pub masked: bool,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextField")
            .field("len", &self.text.chars().count())
            .field("masked", &self.masked)
            .finish()
    }
}

impl TextField {
    /// An empty masked field.
    pub fn masked() -> Self {
        TextField {
            text: Zeroizing::new(String::new()),
            masked: true,
        }
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text.
    pub fn set(&mut self, value: &str) {
        self.text.clear();
        self.text.push_str(value);
    }

    /// Applies an editing key; returns true if the text changed.
    pub fn input(&mut self, key: crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        match key.code {
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.text.clear();
                true
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if self.text.len() < 1024 {
                    self.text.push(c);
                }
                true
            }
            KeyCode::Backspace => self.text.pop().is_some(),
            _ => false,
        }
    }

    /// The field as a line: label, then text or bullets, then a cursor.
    pub fn line<'a>(&'a self, label: &'a str, focused: bool) -> Line<'a> {
        let shown = if self.masked {
            "•".repeat(self.text.chars().count())
        } else {
            self.text.to_string()
        };
        let style = if focused {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        let mut spans = vec![Span::styled(format!("{label}: "), style), Span::raw(shown)];
        if focused {
            spans.push(Span::styled("▏", Style::default().fg(Color::Cyan)));
        }
        Line::from(spans)
    }
}

/// The colour a strength score is drawn in.
pub fn strength_color(score: u8) -> Color {
    match score {
        0 | 1 => Color::Red,
        2 => Color::Yellow,
        3 => Color::LightGreen,
        _ => Color::Green,
    }
}

/// A strength meter line: a five-cell bar, the label and the crack-time estimate.
pub fn strength_line(s: &Strength) -> Line<'static> {
    let filled = usize::from(s.score) + 1;
    let bar = format!("{}{}", "█".repeat(filled * 2), "░".repeat((5 - filled) * 2));
    let mut spans = vec![
        Span::raw("Strength: "),
        Span::styled(bar, Style::default().fg(strength_color(s.score))),
        Span::styled(
            format!(" {} ", s.label()),
            Style::default().fg(strength_color(s.score)),
        ),
        Span::raw(format!("· {} chars", s.chars)),
    ];
    if s.diceware_words > 0 {
        spans.push(Span::raw(format!(" · {} diceware words", s.diceware_words)));
    }
    spans.push(Span::raw(format!(" · offline crack time {}", s.crack_time)));
    Line::from(spans)
}

const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// A spinner frame for a tick count.
pub fn spinner(tick: u64) -> &'static str {
    SPINNER[(tick as usize) % SPINNER.len()]
}

/// A progress gauge.
pub fn gauge(done: u64, total: u64, label: &str) -> Gauge<'static> {
    let ratio = if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    };
    Gauge::default()
        .gauge_style(Style::default().fg(Color::Cyan))
        .ratio(ratio)
        .label(format!("{label} {}/{}", grouped(done), grouped(total)))
}

/// The gauge for a worker's [`Progress`](super::worker::Progress).
pub fn progress_gauge(p: &super::worker::Progress) -> Gauge<'static> {
    gauge(p.done, p.total, &p.label)
}

/// Lines describing an error: message, causes, and the remedy.
pub fn report_lines(report: &Report) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        report.message.clone(),
        Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
    ))];
    for c in &report.causes {
        lines.push(Line::from(format!("  caused by: {c}")));
    }
    if let Some(r) = &report.remedy {
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(strings::WHAT_TO_DO, Style::default().bold()),
            Span::raw(r.clone()),
        ]));
    }
    lines
}

/// A failed operation on a wizard screen: the red title, then the report.
pub fn failure_lines(report: &Report) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        strings::FAILED_TITLE,
        Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
    ))];
    lines.extend(report_lines(report));
    lines
}

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// Draws a bordered popup with wrapped text over whatever is below.
pub fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'_>>, color: Color) {
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::default().fg(color))
                .title(format!(" {title} ")),
        ),
        area,
    );
}
