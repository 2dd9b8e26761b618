//! A sane clock (custody hygiene): the once-a-day question before a drill,
//! an incident and the onboarding ceremony ("is this the right date and
//! time?"), and the home screen's line when the clock is more than a day
//! past the last operator-confirmed time. The rule, the audit entry and the
//! registry record are the core's (`custodian_core::clock`), the same as
//! the command line's `--confirm-time`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use time::OffsetDateTime;

use super::screens::Action;
use super::screens::ceremony::CeremonyJob;
use super::strings;
use super::widgets;
use custodian_core::clock;
use custodian_core::error::Report;
use custodian_core::workspace::Registry;

/// What asked for the time: the audit context (the command line's own for
/// the drill, the incident close and the ceremony) and the operator, when
/// the flow knows them; None for an action the question does not guard.
pub fn guarded(action: &Action) -> Option<(&'static str, Option<String>)> {
    match action {
        Action::RunDrill { .. } => Some(("drill run", None)),
        Action::StartIncident { operator, .. } => Some(("incident open", Some(operator.clone()))),
        Action::CloseIncident { operator, .. } => Some(("incident close", Some(operator.clone()))),
        Action::Ceremony(job)
            if matches!(**job, CeremonyJob::Start(_) | CeremonyJob::StartFile(_)) =>
        {
            Some(("onboarding ceremony", None))
        }
        _ => None,
    }
}

/// `2026-11-30 23:40:12 UTC`: a time as an operator reads it off a clock.
pub fn plain_utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// "2 days", or "over a day" below two.
fn gap_words(gap: time::Duration) -> String {
    match gap.whole_days() {
        d if d >= 2 => format!("{d} days"),
        _ => "over a day".into(),
    }
}

/// Home's one line when the core's drift warning applies (the clock more
/// than a day past the last confirmation), short enough for 80 columns.
pub fn home_warning(reg: &Registry, now: OffsetDateTime) -> Option<String> {
    let last = clock::drifted_since(reg, now)?;
    Some(format!(
        "Clock {}: {} after the last confirmed time; check it",
        clock::format(now),
        gap_words(now - last)
    ))
}

/// The modal question, holding the action it stands before.
pub struct ClockQuestion {
    /// What runs once the time is confirmed (or is told it did not).
    pub action: Action,
    /// The audit context.
    pub context: &'static str,
    /// The operator, when the flow knows them.
    pub operator: Option<String>,
    /// The system time asked about, as shown.
    shown: String,
    /// How far past the last confirmation, when more than a day.
    drift: Option<String>,
}

impl ClockQuestion {
    /// The question before `action` (asked by `context`, for `operator`),
    /// when the core's rule asks for a confirmation at `now`
    /// ([`clock::needs_confirmation`]).
    pub fn new(
        action: Action,
        (context, operator): (&'static str, Option<String>),
        reg: &Registry,
        now: OffsetDateTime,
    ) -> Self {
        let drift = clock::drifted_since(reg, now).map(|last| {
            format!(
                "This is {} after the last operator-confirmed time ({}).",
                gap_words(now - last),
                plain_utc(last)
            )
            .replacen(" time (", " time\n(", 1)
        });
        ClockQuestion {
            action,
            context,
            operator,
            shown: plain_utc(now),
            drift,
        }
    }

    /// What the flow shows when the operator says the clock is wrong.
    pub fn wrong(&self) -> Report {
        Report {
            message: format!("{} ({})", strings::CLOCK_WRONG, self.shown),
            causes: Vec::new(),
            remedy: Some(strings::CLOCK_WRONG_FIX.into()),
        }
    }

    /// The footer while the question is up: its keys only.
    pub fn footer_keys() -> Vec<widgets::FooterKey> {
        vec![
            widgets::FooterKey {
                key: "y",
                what: "yes, record it",
                keep: true,
            },
            widgets::FooterKey {
                key: "n/Esc",
                what: "no, it is wrong",
                keep: true,
            },
        ]
    }

    /// Draws the question over the screen.
    pub fn render(&self, frame: &mut Frame, area: Rect) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut lines = vec![
            Line::from(Span::styled(
                format!("The system clock says {}.", self.shown),
                bold,
            )),
            Line::from(Span::styled(strings::CLOCK_ASK, bold)),
            Line::from(""),
        ];
        if let Some(d) = &self.drift {
            for l in d.lines() {
                lines.push(Line::from(Span::styled(
                    l.to_string(),
                    Style::default().fg(Color::Yellow),
                )));
            }
            lines.push(Line::from(""));
        }
        lines.push(Line::from(strings::CLOCK_CHECK));
        lines.push(Line::from(format!(
            "{} ({}).",
            strings::CLOCK_RECORDED_AS,
            self.context
        )));
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(strings::CLOCK_KEYS, bold)));
        let width = area.width.min(72);
        let height = ratatui::widgets::Paragraph::new(lines.clone())
            .wrap(ratatui::widgets::Wrap { trim: false })
            .line_count(width.saturating_sub(2));
        let popup = widgets::centered(
            area,
            width,
            u16::try_from(height).unwrap_or(u16::MAX).saturating_add(2),
        );
        widgets::popup(frame, popup, strings::CLOCK_TITLE, lines, Color::Yellow);
    }
}
