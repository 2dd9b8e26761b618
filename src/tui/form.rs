//! The shared form: labelled fields in a focus order, edited in place,
//! each with its own error, and a guard before typed input is discarded.
//!
//! Why one component: wizards that hand-wrote their fields disagreed on
//! what Esc and Tab mean and cleared what was typed after an error. A form
//! here keys the same way everywhere:
//! - Tab/↓ next field, Shift-Tab/↑ previous, Enter next field (on the last
//!   field Enter submits; the screen validates and may [`Form::refuse`]);
//! - plain fields edit like an editor through `tui-input` (←/→, Home/End,
//!   Ctrl-W word delete, Ctrl-U line delete); secret fields are masked and
//!   kept in a zeroizing buffer ([`TextField::masked`]); the mask has a fixed
//!   width ([`widgets::MASK`]), so it never tells a passphrase's length;
//! - an error sits under the field it belongs to and clears when that field
//!   is edited; nothing else is lost;
//! - Esc with typed input first asks (a second Esc discards), so one stray
//!   key never throws work away;
//! - a bracketed paste goes into the focused field (masked and zeroized
//!   for a secret), never into a key handler;
//! - Tab in a path field that holds a partial path (text that is not an
//!   existing file) completes it: one fit is filled in, several open a
//!   small picker (↑/↓ choose, Enter or Tab take, Esc closes). Anywhere
//!   else Tab moves to the next field. ↓ and Enter always move on.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::complete::{self, Completion, PathKind, Roots};
use super::list::{Keys, ListNav};
use super::strings;
use super::widgets::{self, TextField};
use custodian_core::error::Report;

/// One labelled field.
pub struct FormField {
    label: &'static str,
    hint: &'static str,
    /// Public text (paths, names) edited with a cursor, or a secret:
    /// masked, zeroized.
    value: TextField,
    error: Option<Report>,
    /// Set for a path field: the kind of file Tab completes to.
    path: Option<PathKind>,
    /// The text the field was opened with (a suggested default): leaving
    /// with only that in it loses nothing typed.
    initial: String,
}

impl std::fmt::Debug for FormField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormField")
            .field("label", &self.label)
            .field("secret", &self.value.is_masked())
            .finish_non_exhaustive()
    }
}

impl FormField {
    /// A plain field with `initial` text.
    pub fn plain(label: &'static str, hint: &'static str, initial: &str) -> Self {
        FormField {
            label,
            hint,
            value: TextField::plain(initial),
            error: None,
            path: None,
            initial: initial.to_string(),
        }
    }

    /// A plain field holding a path to a file of `kind` (Tab completes).
    pub fn path(label: &'static str, hint: &'static str, initial: &str, kind: PathKind) -> Self {
        FormField {
            path: Some(kind),
            ..Self::plain(label, hint, initial)
        }
    }

    /// A masked secret field.
    pub fn secret(label: &'static str, hint: &'static str) -> Self {
        FormField {
            label,
            hint,
            value: TextField::masked(),
            error: None,
            path: None,
            initial: String::new(),
        }
    }

    fn text(&self) -> &str {
        self.value.text()
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormEvent {
    /// Nothing the screen needs to act on (edited, moved, or ignored).
    Handled,
    /// Enter on the last field: the screen validates and starts its work.
    Submit,
    /// Leave the form: nothing was typed, or Esc was pressed twice.
    Cancel,
}

/// The candidates Tab found for a path, one of them selected (the shared
/// list component, on ↑/↓ and PgUp/PgDn only: letters edit the path).
#[derive(Debug)]
struct Picker {
    candidates: Vec<String>,
    nav: ListNav,
}

/// A form: fields, the focused one, and the discard guard.
#[derive(Debug)]
pub struct Form {
    fields: Vec<FormField>,
    focus: usize,
    discard_armed: bool,
    /// Where bare names in path fields are looked up.
    roots: Roots,
    picker: Option<Picker>,
    /// Tab found no file for the partial path.
    no_match: bool,
    /// What the screen holds beyond these fields (shares collected in
    /// earlier rounds…), named in the discard question; Esc asks first
    /// while it is set, even with every field empty.
    held: Option<String>,
    /// Enter submits from any field (a short form whose later fields are
    /// optional: a name, then notes).
    enter_submits: bool,
}

impl Form {
    /// A form over `fields`, focused on the first.
    pub fn new(fields: Vec<FormField>) -> Self {
        Form {
            fields,
            focus: 0,
            discard_armed: false,
            roots: Roots::here(None),
            picker: None,
            no_match: false,
            held: None,
            enter_submits: false,
        }
    }

    /// Enter submits from any field, not only the last (Tab and ↓ still
    /// move on): for forms whose later fields are optional.
    pub fn enter_submits(mut self) -> Self {
        self.enter_submits = true;
        self
    }

    /// Takes back the discard question (the screen used the key for
    /// something else: the question is answered "keep").
    pub fn disarm(&mut self) {
        self.discard_armed = false;
    }

    /// Tells the form what its screen holds beyond the fields (`None` when
    /// nothing): leaving then asks first, naming it.
    pub fn set_held(&mut self, held: Option<String>) {
        self.held = held;
    }

    /// Looks bare names up in `workspace` too (and its folders).
    pub fn with_workspace(mut self, workspace: &std::path::Path) -> Self {
        self.roots.workspace = Some(workspace.to_path_buf());
        self
    }

    /// Sets where bare names are looked up (tests).
    pub fn set_roots(&mut self, roots: Roots) {
        self.roots = roots;
    }

    /// Moves the focus to field `i`.
    pub fn focus_on(&mut self, i: usize) {
        if i < self.fields.len() {
            self.focus = i;
            self.picker = None;
        }
    }

    /// Replaces field `i`'s text (the cursor goes to its end).
    pub fn set_value(&mut self, i: usize, text: &str) {
        if let Some(f) = self.fields.get_mut(i) {
            f.value.set(text);
        }
    }

    /// Empties every field and clears every error.
    pub fn clear_all(&mut self) {
        for i in 0..self.fields.len() {
            self.set_value(i, "");
            self.fields[i].error = None;
        }
        self.focus = 0;
        self.picker = None;
        self.discard_armed = false;
    }

    /// Clears every field's error, keeping the text (the screen accepted
    /// what was typed: an older error no longer applies).
    pub fn clear_errors(&mut self) {
        for f in &mut self.fields {
            f.error = None;
        }
    }

    /// Changes field `i`'s label (a field whose meaning follows a choice).
    pub fn set_label(&mut self, i: usize, label: &'static str) {
        if let Some(f) = self.fields.get_mut(i) {
            f.label = label;
        }
    }

    /// Puts `report` under field `i` and focuses it, keeping every text
    /// (a secret included: it was not what was wrong).
    pub fn set_error(&mut self, i: usize, report: Report) {
        if let Some(f) = self.fields.get_mut(i) {
            f.error = Some(report);
            self.focus = i;
        }
    }

    /// True when every field is empty.
    pub fn is_empty(&self) -> bool {
        self.fields.iter().all(|f| f.text().is_empty())
    }

    /// True while the path picker is open.
    pub fn picking(&self) -> bool {
        self.picker.is_some()
    }

    /// A bracketed paste: the text goes into the focused field at the
    /// cursor, one line (line breaks at its end are dropped, others become
    /// spaces); returns true when something was inserted.
    pub fn paste(&mut self, text: &str) -> bool {
        self.picker = None;
        self.discard_armed = false;
        let Some(f) = self.fields.get_mut(self.focus) else {
            return false;
        };
        let line = text.trim_end_matches(['\r', '\n']);
        let clean = line.chars().map(|c| if c.is_control() { ' ' } else { c });
        let changed = f.value.push_chars(clean);
        if changed {
            f.error = None;
        }
        changed
    }

    /// Tab in a path field: true when it completed (or tried to) rather
    /// than moving the focus.
    fn tab_completes(&mut self) -> bool {
        let Some(f) = self.fields.get(self.focus) else {
            return false;
        };
        let Some(kind) = f.path.filter(|_| !f.value.is_masked()) else {
            return false;
        };
        let text = f.value.text().to_string();
        if text.trim().is_empty() || std::path::Path::new(&text).is_file() {
            return false;
        }
        match complete::complete(&text, kind, &self.roots) {
            Completion::NoMatch => self.no_match = true,
            Completion::Unique(path) => self.set_value(self.focus, &path),
            Completion::Several { common, candidates } => {
                self.set_value(self.focus, &common);
                self.picker = Some(Picker {
                    nav: ListNav::with_keys(candidates.len(), Keys::Arrows),
                    candidates,
                });
            }
        }
        true
    }

    /// A key while the picker is open; false when the picker closed and
    /// the key should be handled as usual.
    fn picker_key(&mut self, key: KeyEvent) -> bool {
        let Some(p) = &mut self.picker else {
            return false;
        };
        if p.nav.handle_key(key) {
            return true;
        }
        match key.code {
            KeyCode::Enter | KeyCode::Tab => {
                let chosen = p.candidates[p.nav.selected()].clone();
                self.picker = None;
                self.set_value(self.focus, &chosen);
                if let Some(f) = self.fields.get_mut(self.focus) {
                    f.error = None;
                }
            }
            KeyCode::Esc => self.picker = None,
            _ => {
                self.picker = None;
                return false;
            }
        }
        true
    }

    /// The focused field's index.
    pub fn focus(&self) -> usize {
        self.focus
    }

    /// Field `i`'s text (a secret's too: the caller wraps it at once).
    pub fn value(&self, i: usize) -> &str {
        self.fields.get(i).map(FormField::text).unwrap_or("")
    }

    /// True when something was typed in any field (a field holding only
    /// the default it was opened with does not count).
    pub fn holds_input(&self) -> bool {
        self.fields.iter().any(|f| f.text() != f.initial)
    }

    /// The screen refused field `i`'s value: the error goes under it and
    /// the focus moves there; every field keeps its text (a secret is
    /// cleared so it is typed again, masked).
    pub fn refuse(&mut self, i: usize, report: Report) {
        if let Some(f) = self.fields.get_mut(i) {
            if f.value.is_masked() {
                f.value.set("");
            }
            f.error = Some(report);
            self.focus = i;
        }
    }

    /// Applies a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> FormEvent {
        self.no_match = false;
        if self.picker_key(key) {
            return FormEvent::Handled;
        }
        let armed = std::mem::take(&mut self.discard_armed);
        let last = self.fields.len().saturating_sub(1);
        if key.code == KeyCode::Tab && self.tab_completes() {
            return FormEvent::Handled;
        }
        match key.code {
            KeyCode::Esc => {
                if (self.holds_input() || self.held.is_some()) && !armed {
                    self.discard_armed = true;
                    return FormEvent::Handled;
                }
                return FormEvent::Cancel;
            }
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1).min(last),
            KeyCode::BackTab | KeyCode::Up => self.focus = self.focus.saturating_sub(1),
            KeyCode::Enter if self.focus < last && !self.enter_submits => self.focus += 1,
            KeyCode::Enter => return FormEvent::Submit,
            _ => {
                let Some(f) = self.fields.get_mut(self.focus) else {
                    return FormEvent::Handled;
                };
                if f.value.input(key) {
                    f.error = None;
                }
            }
        }
        FormEvent::Handled
    }

    /// The form as lines: each field (the focused one bold, with a cursor
    /// where the next character goes), its hint when focused, its error
    /// under it, and the discard question when it is asked.
    pub fn lines(&self) -> Vec<Line<'static>> {
        self.lines_with_focus(true)
    }

    /// The form as lines with no field focused (the screen's focus is
    /// elsewhere, e.g. on a second form below this one).
    pub fn lines_idle(&self) -> Vec<Line<'static>> {
        self.lines_with_focus(false)
    }

    fn lines_with_focus(&self, active: bool) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            let focused = active && i == self.focus;
            out.push(owned(f.value.line(f.label, focused)));
            if let Some(r) = &f.error {
                out.extend(widgets::report_lines(r));
            }
            if focused && self.no_match {
                out.push(Line::from(Span::styled(
                    strings::FORM_NO_MATCH,
                    Style::default().fg(Color::Yellow),
                )));
            }
            if let (true, Some(p)) = (focused, &self.picker) {
                out.extend(picker_lines(p));
            }
            if focused && !f.hint.is_empty() {
                out.push(Line::from(Span::styled(f.hint, widgets::hint())));
            }
        }
        if self.discard_armed {
            let text = match &self.held {
                Some(what) => {
                    format!(" Esc again leaves and discards {what}; any other key keeps it. ")
                }
                None => strings::FORM_DISCARD.to_string(),
            };
            out.push(Line::from(""));
            out.push(Line::from(Span::styled(
                text,
                Style::default()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            )));
        }
        out
    }
}

/// Rows of the picker shown at once.
const PICKER_ROWS: usize = 6;

/// The picker under its field: a window of candidates that keeps the
/// selected one visible, names shown after their common folder.
fn picker_lines(p: &Picker) -> Vec<Line<'static>> {
    let common = p
        .candidates
        .iter()
        .skip(1)
        .fold(p.candidates[0].as_str(), |acc, c| {
            let n = acc
                .char_indices()
                .zip(c.chars())
                .take_while(|((_, a), b)| a == b)
                .map(|((i, a), _)| i + a.len_utf8())
                .last()
                .unwrap_or(0);
            &acc[..n]
        });
    let dir_len = common.rfind('/').map_or(0, |i| i + 1);
    let n = p.candidates.len();
    let window = p.nav.window(PICKER_ROWS, |_| 1);
    let mut head = format!("  {n} in {} — {}", &common[..dir_len], strings::FORM_PICKER);
    if window.above > 0 {
        head.push_str(&format!(" {}", crate::tui::list::more_text(&window)));
    }
    let mut out = vec![Line::from(Span::styled(head, widgets::hint()))];
    for (i, c) in p
        .candidates
        .iter()
        .enumerate()
        .skip(window.items.start)
        .take(window.items.len())
    {
        let style = if p.nav.is_selected(i) {
            Style::default().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::default()
        };
        out.push(Line::from(vec![
            Span::raw("    "),
            Span::styled(c[dir_len..].to_string(), style),
        ]));
    }
    if window.below > 0 {
        out.push(Line::from(Span::styled(
            format!("    … {} more (↓)", window.below),
            widgets::hint(),
        )));
    }
    out
}

fn owned(line: Line<'_>) -> Line<'static> {
    Line::from(
        line.spans
            .into_iter()
            .map(|s| Span::styled(s.content.into_owned(), s.style))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::from(code)
    }

    fn typed(form: &mut Form, text: &str) {
        for c in text.chars() {
            form.handle_key(k(KeyCode::Char(c)));
        }
    }

    fn form() -> Form {
        Form::new(vec![
            FormField::plain("Path", "", ""),
            FormField::secret("Passphrase", ""),
        ])
    }

    #[test]
    fn plain_fields_edit_at_the_cursor() {
        let mut f = form();
        typed(&mut f, "/tmp/kt.zip");
        for _ in 0..5 {
            f.handle_key(k(KeyCode::Left));
        }
        typed(&mut f, "i");
        assert_eq!(f.value(0), "/tmp/kit.zip");
        f.handle_key(k(KeyCode::End));
        f.handle_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(f.value(0), "/tmp/");
    }

    #[test]
    fn focus_moves_and_enter_submits_on_the_last_field() {
        let mut f = form();
        assert_eq!(f.handle_key(k(KeyCode::Enter)), FormEvent::Handled);
        assert_eq!(f.focus(), 1);
        f.handle_key(k(KeyCode::Up));
        assert_eq!(f.focus(), 0);
        f.handle_key(k(KeyCode::Tab));
        typed(&mut f, "secret words");
        assert_eq!(f.value(1), "secret words");
        let shown: String = f.lines().iter().map(|l| l.to_string()).collect();
        assert!(!shown.contains("secret words"));
        assert_eq!(f.handle_key(k(KeyCode::Enter)), FormEvent::Submit);
    }

    #[test]
    fn a_refusal_keeps_the_rest_and_focuses_the_field() {
        let mut f = form();
        typed(&mut f, "/tmp/kit.zip");
        f.handle_key(k(KeyCode::Tab));
        typed(&mut f, "wrong");
        f.handle_key(k(KeyCode::Up));
        let report = Report {
            message: "the passphrase does not open the key".into(),
            causes: vec![],
            remedy: None,
        };
        f.refuse(1, report);
        assert_eq!(f.focus(), 1);
        assert_eq!(f.value(0), "/tmp/kit.zip");
        assert_eq!(f.value(1), "");
        let shown: Vec<String> = f.lines().iter().map(|l| l.to_string()).collect();
        let at = shown
            .iter()
            .position(|l| l.starts_with("Passphrase"))
            .unwrap();
        assert!(shown[at + 1].contains("does not open"));
        typed(&mut f, "x");
        assert!(
            !f.lines()
                .iter()
                .any(|l| l.to_string().contains("does not open"))
        );
    }

    #[test]
    fn a_masked_field_never_shows_the_length() {
        let shown = |text: &str| {
            let mut f = form();
            f.handle_key(k(KeyCode::Tab));
            typed(&mut f, text);
            f.lines()
                .iter()
                .map(|l| l.to_string())
                .find(|l| l.starts_with("Passphrase"))
                .unwrap()
        };
        assert_eq!(shown("a"), shown("a much longer passphrase of many words"));
        assert!(shown("abc").contains(widgets::MASK));
        assert!(!shown("").contains('•'), "an empty field shows no mask");
    }

    #[test]
    fn esc_asks_before_discarding_typed_input() {
        let mut f = form();
        assert_eq!(f.handle_key(k(KeyCode::Esc)), FormEvent::Cancel);
        typed(&mut f, "a");
        assert_eq!(f.handle_key(k(KeyCode::Esc)), FormEvent::Handled);
        let shown: String = f.lines().iter().map(|l| l.to_string()).collect();
        assert!(shown.contains(strings::FORM_DISCARD));
        // Any other key keeps everything.
        typed(&mut f, "b");
        assert_eq!(f.value(0), "ab");
        f.handle_key(k(KeyCode::Esc));
        assert_eq!(f.handle_key(k(KeyCode::Esc)), FormEvent::Cancel);
    }
}
