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

/// The longest text a field takes.
const MAX_FIELD_CHARS: usize = 1024;

/// A single-line text input, the one every screen and the shared form
/// edit through.
///
/// A plain field (names, paths, notes, filters) edits like an editor
/// through `tui-input`: ←/→, Home/End, Backspace/Delete at the cursor,
/// Ctrl-W word delete, Ctrl-U line delete; a paste goes in at the cursor.
/// It never echoes what looks like a secret key (CLARIFICATIONS 8).
/// A secret field renders as a fixed mask and keeps its text in a
/// zeroizing, locked buffer that never reallocates: it is typed and erased
/// at its end only, since a cursor inside a mask shows nothing.
#[derive(Default)]
pub struct TextField {
    /// A secret field's text.
    secret: Zeroizing<String>,
    /// A plain field's text and cursor.
    plain: tui_input::Input,
    masked: bool,
    /// A secret field's buffer, locked in RAM (None when the memory-lock
    /// limit refused; the binary says so at start).
    locked: Option<custodian_core::hardening::LockedPages>,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextField")
            .field("len", &self.text().chars().count())
            .field("masked", &self.masked)
            .finish()
    }
}

/// A plain field holds no secret (one that looks like a key is never
/// shown), but names and notes need not outlive their screen either: its
/// text is wiped when the field goes, as a masked field's is.
impl Drop for TextField {
    fn drop(&mut self) {
        drop(Zeroizing::new(self.plain.value_and_reset()));
    }
}

/// What a masked field shows once anything is typed, whatever its length.
pub const MASK: &str = "••••••••";

impl TextField {
    /// An empty masked field.
    pub fn masked() -> Self {
        // Room for the longest input (1,024 characters of up to 4 bytes):
        // a secret field never reallocates while typed into, so the locked
        // pages stay the ones that hold it.
        let secret = Zeroizing::new(String::with_capacity(MAX_FIELD_CHARS * 4));
        let locked = custodian_core::hardening::lock_pages(secret.as_ptr(), secret.capacity()).ok();
        TextField {
            secret,
            plain: tui_input::Input::default(),
            masked: true,
            locked,
        }
    }

    /// A plain field holding `text`, the cursor at its end.
    pub fn plain(text: &str) -> Self {
        let mut field = TextField::default();
        field.set(text);
        field
    }

    /// True for a secret (masked) field.
    pub fn is_masked(&self) -> bool {
        self.masked
    }

    /// The current text.
    pub fn text(&self) -> &str {
        if self.masked {
            &self.secret
        } else {
            self.plain.value()
        }
    }

    /// Where the next character goes, in characters from the start.
    pub fn cursor(&self) -> usize {
        if self.masked {
            self.secret.chars().count()
        } else {
            self.plain.cursor()
        }
    }

    /// Replaces the text (cut at the longest a field takes); the cursor
    /// goes to its end.
    pub fn set(&mut self, value: &str) {
        if self.masked {
            self.secret.clear();
            self.secret.extend(value.chars().take(MAX_FIELD_CHARS));
        } else {
            self.plain = tui_input::Input::new(value.chars().take(MAX_FIELD_CHARS).collect());
        }
    }

    /// True when the field's buffer is locked in RAM.
    pub fn is_locked(&self) -> bool {
        self.locked.is_some()
    }

    /// Inserts pasted characters at the cursor (a secret's at its end), up
    /// to the longest a field takes; true when any was added. A secret's
    /// buffer never grows past its capacity, so its text is not copied by
    /// reallocation.
    pub fn push_chars(&mut self, chars: impl Iterator<Item = char>) -> bool {
        let room = MAX_FIELD_CHARS.saturating_sub(self.text().chars().count());
        let mut any = false;
        for c in chars.take(room) {
            if self.masked {
                self.secret.push(c);
            } else {
                self.plain.handle(tui_input::InputRequest::InsertChar(c));
            }
            any = true;
        }
        any
    }

    /// Applies an editing key; returns true if the text changed.
    pub fn input(&mut self, key: crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let full = self.text().chars().count() >= MAX_FIELD_CHARS;
        if !self.masked {
            if full && matches!(key.code, KeyCode::Char(_)) && !ctrl {
                return false;
            }
            let event = crossterm::event::Event::Key(key);
            return tui_input::backend::crossterm::to_input_request(&event)
                .and_then(|r| self.plain.handle(r))
                .is_some_and(|c| c.value);
        }
        match key.code {
            KeyCode::Char('u') if ctrl => {
                self.secret.clear();
                true
            }
            KeyCode::Char(c) if !ctrl => {
                if !full {
                    self.secret.push(c);
                }
                true
            }
            KeyCode::Backspace => self.secret.pop().is_some(),
            _ => false,
        }
    }

    /// The field as a line: label, then the text (or, masked, a fixed
    /// [`MASK`] once anything is typed; a plain field holding what looks
    /// like a secret key, a note saying so), with a cursor where the next
    /// character goes when focused.
    pub fn line<'a>(&'a self, label: &'a str, focused: bool) -> Line<'a> {
        let style = if focused {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        let cursor = || Span::styled("▏", Style::default().fg(Color::Cyan));
        let mut spans = vec![Span::styled(format!("{label}: "), style)];
        let text = self.text();
        if self.masked {
            // One dot per character would tell an onlooker (or a screen
            // recording) the passphrase's length; the mask only says
            // whether the field is empty.
            if !text.is_empty() {
                spans.push(Span::raw(MASK));
            }
            if focused {
                spans.push(cursor());
            }
        } else if custodian_core::text::secret_look(text).is_some() {
            spans.push(Span::styled(
                strings::FORM_SECRET_HIDDEN,
                Style::default().fg(Color::Yellow),
            ));
            if focused {
                spans.push(cursor());
            }
        } else if focused {
            let at = text
                .char_indices()
                .nth(self.plain.cursor())
                .map(|(b, _)| b)
                .unwrap_or(text.len());
            spans.push(Span::raw(&text[..at]));
            spans.push(cursor());
            spans.push(Span::raw(&text[at..]));
        } else {
            spans.push(Span::raw(text));
        }
        Line::from(spans)
    }
}

/// `text` cut to `width` columns with an ellipsis, so it never runs into
/// the next column.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A path cut to `width` columns by an ellipsis in the middle: the start
/// (where it is) and as many of the last components as fit (what it is)
/// stay readable. A path that fits is returned whole; when not even the
/// last component fits, its end is kept after a leading "…".
pub fn fit_path(path: &str, width: usize) -> String {
    let len = path.chars().count();
    if len <= width {
        return path.to_string();
    }
    if width == 0 {
        return String::new();
    }
    // The longest tail made of whole components ("/name/…") that leaves
    // room for the ellipsis and a head of at least one character.
    let chars: Vec<char> = path.chars().collect();
    let tail_start = (1..len)
        .filter(|&i| chars[i] == '/')
        .find(|&i| len - i + 2 <= width);
    match tail_start {
        Some(t) => {
            let tail: String = chars[t..].iter().collect();
            let room = width - (len - t) - 1;
            let head: String = chars[..room].iter().collect();
            format!("{head}…{tail}")
        }
        None => {
            let keep = width - 1;
            let tail: String = chars[len - keep..].iter().collect();
            format!("…{tail}")
        }
    }
}

/// The style of hints and secondary text: readable on a dark background
/// (dark grey on black is not).
pub fn hint() -> Style {
    Style::default().fg(Color::Gray)
}

/// One key in the footer bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FooterKey {
    /// The key, as shown.
    pub key: &'static str,
    /// What it does.
    pub what: &'static str,
    /// Kept when space runs out (Esc, help, leaving the sandbox).
    pub keep: bool,
}

fn footer_width(k: &FooterKey) -> usize {
    k.key.chars().count() + k.what.chars().count() + 5
}

/// The footer bar for `keys` in `width` columns. When they do not all fit,
/// the least important go first: keys not marked `keep`, from the end of
/// the list (screens list their keys most important first), and a "…"
/// before the last key (help) says that some were left out.
pub fn footer_line(keys: &[FooterKey], width: u16) -> Line<'static> {
    let width = usize::from(width);
    let mut shown: Vec<bool> = vec![true; keys.len()];
    let mut used: usize = keys.iter().map(footer_width).sum();
    // When something must go, room is kept for the "…" sign.
    let budget = if used <= width {
        width
    } else {
        width.saturating_sub(2)
    };
    for i in (0..keys.len()).rev() {
        if used <= budget {
            break;
        }
        if !keys[i].keep {
            shown[i] = false;
            used -= footer_width(&keys[i]);
        }
    }
    let key_style = Style::default()
        .fg(Color::Black)
        .bg(Color::Gray)
        .add_modifier(Modifier::BOLD);
    // Keys that did not fit are never dropped silently: a "…" before the
    // last key (help, which lists them all) says some are left out.
    let dropped = shown.iter().any(|s| !s);
    let last = shown.iter().rposition(|s| *s);
    let mut spans = Vec::new();
    for (i, (k, _)) in keys
        .iter()
        .zip(&shown)
        .enumerate()
        .filter(|(_, (_, s))| **s)
    {
        if dropped && Some(i) == last && used + 2 <= width {
            spans.push(Span::styled("… ", hint()));
        }
        spans.push(Span::styled(format!(" {} ", k.key), key_style));
        spans.push(Span::raw(format!(" {}  ", k.what)));
    }
    Line::from(spans)
}

/// Draws `lines` wrapped in `area`, scrolled down by `scroll` lines
/// (clamped so the last line can reach the bottom), with "more above" /
/// "more below" marks on the right edge when text is hidden. Returns the
/// largest useful scroll, for the screen's key handling.
pub fn scrolled(frame: &mut Frame, area: Rect, lines: Vec<Line<'_>>, scroll: u16) -> u16 {
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = u16::try_from(paragraph.line_count(area.width)).unwrap_or(u16::MAX);
    let max = total.saturating_sub(area.height);
    let top = scroll.min(max);
    frame.render_widget(paragraph.scroll((top, 0)), area);
    let mark = Style::default().fg(Color::Black).bg(Color::Yellow);
    if top > 0 {
        let text = format!(" ↑ {top} {} ", strings::MORE_ABOVE);
        corner(frame, area, area.y, text, mark);
    }
    if top < max && area.height > 0 {
        let text = format!(" ↓ {} {} (PgDn) ", max - top, strings::MORE_BELOW);
        corner(frame, area, area.bottom() - 1, text, mark);
    }
    max
}

fn corner(frame: &mut Frame, area: Rect, y: u16, text: String, style: Style) {
    let w = u16::try_from(text.chars().count())
        .unwrap_or(u16::MAX)
        .min(area.width);
    let r = Rect::new(area.right() - w, y, w, 1);
    frame.render_widget(Clear, r);
    frame.render_widget(Paragraph::new(Span::styled(text, style)), r);
}

/// A scroll position moved by a key (j/k/↑/↓ by one, PgUp/PgDn by a
/// page); None when the key does not scroll.
pub fn scroll_key(key: crossterm::event::KeyEvent, scroll: u16, max: u16) -> Option<u16> {
    use crossterm::event::KeyCode;
    let next = match key.code {
        KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => scroll.saturating_add(10),
        KeyCode::PageUp => scroll.saturating_sub(10),
        KeyCode::Home => 0,
        KeyCode::End => max,
        _ => return None,
    };
    Some(next.min(max))
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

/// What the strength meter shows for a passphrase being chosen: the
/// estimate, and whether the creation policy refuses it (so the meter never
/// rates green what the policy will refuse).
#[derive(Debug, Clone)]
pub struct Meter {
    /// The zxcvbn estimate.
    pub strength: Strength,
    /// Set when the policy refuses the passphrase.
    pub refused: bool,
}

/// The meter for `p`: the estimate and the policy's verdict.
pub fn meter(p: &secrecy::SecretString) -> Meter {
    let refused = custodian_core::passphrase::check_new(p).is_err();
    Meter {
        strength: custodian_core::passphrase::estimate(p),
        refused,
    }
}

/// A strength meter line: a five-cell bar, the label and the crack-time
/// estimate; red and "refused by policy" when the policy refuses it.
pub fn strength_line(m: &Meter) -> Line<'static> {
    let s = &m.strength;
    let score = if m.refused { s.score.min(1) } else { s.score };
    let filled = usize::from(score) + 1;
    let bar = format!("{}{}", "█".repeat(filled * 2), "░".repeat((5 - filled) * 2));
    let label = if m.refused {
        strings::STRENGTH_REFUSED.to_string()
    } else {
        s.label().to_string()
    };
    let mut spans = vec![
        Span::raw("Strength: "),
        Span::styled(bar, Style::default().fg(strength_color(score))),
        Span::styled(
            format!(" {label} "),
            Style::default().fg(strength_color(score)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_plain_field_edits_at_the_cursor_and_a_secret_only_at_its_end() {
        use crossterm::event::{KeyCode, KeyEvent};
        let key = |f: &mut TextField, code| f.input(KeyEvent::from(code));
        let mut plain = TextField::plain("Ana Oficer");
        for _ in 0..4 {
            key(&mut plain, KeyCode::Left);
        }
        key(&mut plain, KeyCode::Char('f'));
        assert_eq!(plain.text(), "Ana Officer");
        assert_eq!(text(&plain.line("Name", true)), "Name: Ana Off▏icer");
        key(&mut plain, KeyCode::Home);
        key(&mut plain, KeyCode::Delete);
        plain.push_chars("Jo".chars());
        assert_eq!(plain.text(), "Jona Officer");
        key(&mut plain, KeyCode::End);
        key(&mut plain, KeyCode::Backspace);
        assert_eq!(plain.text(), "Jona Office");
        // The longest a field takes, typed or pasted.
        plain.set(&"x".repeat(MAX_FIELD_CHARS + 5));
        assert_eq!(plain.text().chars().count(), MAX_FIELD_CHARS);
        assert!(!key(&mut plain, KeyCode::Char('y')));
        assert!(!plain.push_chars("y".chars()));
        // A public field never echoes what looks like a secret key.
        let secretish = TextField::plain("AGE-SECRET-KEY-1QQQQ");
        assert!(!text(&secretish.line("Name", false)).contains("AGE-SECRET"));

        let mut secret = TextField::masked();
        secret.push_chars("abc".chars());
        key(&mut secret, KeyCode::Left);
        key(&mut secret, KeyCode::Char('d'));
        assert_eq!(secret.text(), "abcd");
        assert_eq!(text(&secret.line("Pass", false)), format!("Pass: {MASK}"));
    }

    #[test]
    fn fit_cuts_at_the_width_with_an_ellipsis() {
        assert_eq!(fit("Ana", 16), "Ana");
        assert_eq!(fit("Alexandria Ocasio", 8), "Alexand…");
        assert_eq!(fit("Alexandria", 8).chars().count(), 8);
    }

    #[test]
    fn fit_path_keeps_the_start_and_the_last_components() {
        let p = "/media/custody/archive-2026/quarterly/ws-drill-20261130-abcdef";
        assert_eq!(fit_path(p, 200), p);
        let cut = fit_path(p, 40);
        assert_eq!(cut.chars().count(), 40, "{cut}");
        assert!(cut.starts_with("/med"), "{cut}");
        assert!(
            cut.ends_with("/quarterly/ws-drill-20261130-abcdef"),
            "{cut}"
        );
        assert!(cut.contains('…'), "{cut}");
        // Not even the last component fits: its end is kept.
        let cut = fit_path(p, 12);
        assert_eq!(cut.chars().count(), 12, "{cut}");
        assert!(cut.starts_with('…') && cut.ends_with("abcdef"), "{cut}");
        assert_eq!(fit_path(p, 0), "");
    }

    #[test]
    fn the_footer_keeps_esc_and_help_and_says_when_keys_are_left_out() {
        let k = |key, keep| FooterKey {
            key,
            what: "x",
            keep,
        };
        let keys = [
            k("a", false),
            k("b", false),
            k("c", false),
            k("Esc", true),
            k("q", false),
            k("?", true),
        ];
        let wide = text(&footer_line(&keys, 400));
        assert!(!wide.contains('…'), "{wide}");
        let narrow = text(&footer_line(&keys, 32));
        assert!(narrow.chars().count() <= 32, "{narrow}");
        assert!(narrow.contains(" Esc "), "{narrow}");
        assert!(narrow.contains(" ? "), "{narrow}");
        assert!(narrow.contains("… "), "{narrow}");
        // The most important keys (listed first) are the ones kept.
        assert!(narrow.contains(" a "), "{narrow}");
        assert!(!narrow.contains(" q "), "{narrow}");
    }
}
