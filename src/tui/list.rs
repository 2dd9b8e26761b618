//! The one list component: a selection over `len` items moved by the same
//! keys on every screen (j/k and ↑/↓ by one, PgUp/PgDn by a page, Home/End
//! to the ends), a window that scrolls only as far as needed to keep the
//! selected item (all of its lines) in view, and a "more above / more
//! below" sign whenever items are hidden.
//!
//! A screen keeps one [`ListNav`] per list, passes keys to
//! [`ListNav::handle_key`], and draws through [`ListNav::window`] (it picks
//! the items to draw for a given height) or [`ListNav::render`] (a
//! paragraph of tagged lines). The window remembers where it was between
//! frames, so moving the selection inside the view never jumps the view.

use std::cell::Cell;
use std::ops::Range;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::strings;

/// Which keys a list takes. Screens where PgUp/PgDn scroll another pane
/// (the scenario's decision aid) leave them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// j/k, ↑/↓, PgUp/PgDn, Home/End.
    All,
    /// j/k, ↑/↓, Home/End.
    NoPaging,
    /// ↑/↓ and PgUp/PgDn only: a list under a text field, where letters
    /// and Home/End edit the text (the path picker).
    Arrows,
}

/// A selection and its scroll window.
#[derive(Debug, Default)]
pub struct ListNav {
    selected: usize,
    len: usize,
    keys: Option<Keys>,
    /// The first item drawn last time.
    offset: Cell<usize>,
    /// How many items the last drawing showed (the page for PgUp/PgDn).
    page: Cell<usize>,
}

/// What part of a list is drawn: the items, and how many are hidden on
/// each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The items drawn, in order.
    pub items: Range<usize>,
    /// Items hidden above the first drawn.
    pub above: usize,
    /// Items hidden below the last drawn.
    pub below: usize,
}

impl ListNav {
    /// A list of `len` items with the first selected.
    pub fn new(len: usize) -> Self {
        ListNav {
            len,
            ..Self::default()
        }
    }

    /// The same, taking only `keys`.
    pub fn with_keys(len: usize, keys: Keys) -> Self {
        ListNav {
            len,
            keys: Some(keys),
            ..Self::default()
        }
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no items.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The selected item (0 when the list is empty).
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// True when item `i` is the selected one.
    pub fn is_selected(&self, i: usize) -> bool {
        self.len > 0 && i == self.selected
    }

    /// Row `i` of a plain list of one-line items: "▶ " and reversed when
    /// selected, cut to `width` columns with an ellipsis.
    pub fn plain_row(&self, i: usize, text: &str, width: u16) -> (Option<usize>, Line<'static>) {
        let on = self.is_selected(i);
        let style = if on {
            Style::default().add_modifier(ratatui::style::Modifier::REVERSED)
        } else {
            Style::default()
        };
        let marker = if on { "▶ " } else { "  " };
        let text = super::widgets::fit(&format!("{marker}{text}"), usize::from(width));
        (Some(i), Line::from(Span::styled(text, style)))
    }

    /// Selects item `i` (clamped to the list).
    pub fn select(&mut self, i: usize) {
        self.selected = i.min(self.len.saturating_sub(1));
    }

    /// The list now has `len` items; the selection stays where it was, or
    /// moves to the last item when that one is gone.
    pub fn set_len(&mut self, len: usize) {
        self.len = len;
        self.select(self.selected);
    }

    /// Moves the selection for a list key; false when `key` is not one
    /// (so the screen can give it another meaning).
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        let keys = self.keys.unwrap_or(Keys::All);
        let paging = keys != Keys::NoPaging;
        let letters = keys != Keys::Arrows;
        let page = self.page.get().max(1);
        let last = self.len.saturating_sub(1);
        self.selected = match key.code {
            KeyCode::Down => (self.selected + 1).min(last),
            KeyCode::Up => self.selected.saturating_sub(1),
            KeyCode::Char('j') if letters => (self.selected + 1).min(last),
            KeyCode::Char('k') if letters => self.selected.saturating_sub(1),
            KeyCode::PageDown if paging => (self.selected + page).min(last),
            KeyCode::PageUp if paging => self.selected.saturating_sub(page),
            KeyCode::Home if letters => 0,
            KeyCode::End if letters => last,
            _ => return false,
        };
        true
    }

    /// The items to draw in `height` lines when item `i` takes
    /// `height_of(i)` lines: the window of the last drawing, moved only as
    /// far as needed for the whole selected item to fit (its top shown
    /// first when it is taller than the space).
    pub fn window(&self, height: usize, height_of: impl Fn(usize) -> usize) -> Window {
        if self.len == 0 || height == 0 {
            return Window {
                items: 0..0,
                above: 0,
                below: 0,
            };
        }
        let h = |i: usize| height_of(i).max(1);
        let fits_from = |start: usize| -> usize {
            // How many items from `start` fit in `height` (at least one).
            let mut used = 0;
            let mut n = 0;
            for i in start..self.len {
                if used + h(i) > height && n > 0 {
                    break;
                }
                used += h(i);
                n += 1;
            }
            n
        };
        let mut start = self.offset.get().min(self.len - 1);
        if self.selected < start {
            start = self.selected;
        } else if start + fits_from(start) <= self.selected {
            // The selection went below the window: it becomes the last
            // item drawn.
            start = self.selected;
            let mut used = h(start);
            while start > 0 && used + h(start - 1) <= height {
                start -= 1;
                used += h(start);
            }
        }
        // No empty space below the last item while items above are hidden
        // (after the list shrank or the area grew).
        let tail = (start..self.len)
            .map(h)
            .scan(0usize, |acc, x| {
                *acc += x;
                Some(*acc)
            })
            .take_while(|acc| *acc <= height)
            .count();
        if start + tail == self.len {
            let mut used: usize = (start..self.len).map(h).sum();
            while start > 0 && used + h(start - 1) <= height {
                start -= 1;
                used += h(start);
            }
        }
        let end = start + fits_from(start);
        self.offset.set(start);
        self.page.set((end - start).max(1));
        Window {
            items: start..end,
            above: start,
            below: self.len - end,
        }
    }

    /// Draws `lines` (each tagged with the item it belongs to, or None for
    /// a heading that belongs to the next item) in `area`: the window that
    /// keeps the selected item in view, and the "more" signs on the right
    /// edge. A heading is drawn with the item after it.
    pub fn render(&self, frame: &mut Frame, area: Rect, lines: Vec<(Option<usize>, Line<'_>)>) {
        // Each line's owner: headings belong to the next item.
        let mut owner = vec![0usize; lines.len()];
        let mut next = self.len.saturating_sub(1);
        for (i, (item, _)) in lines.iter().enumerate().rev() {
            if let Some(it) = item {
                next = *it;
            }
            owner[i] = next;
        }
        let mut heights = vec![0usize; self.len];
        for o in &owner {
            if let Some(h) = heights.get_mut(*o) {
                *h += 1;
            }
        }
        let w = self.window(usize::from(area.height), |i| heights[i]);
        let shown: Vec<Line<'_>> = lines
            .into_iter()
            .zip(owner)
            .filter(|(_, o)| w.items.contains(o))
            .map(|((_, l), _)| l)
            .collect();
        frame.render_widget(Paragraph::new(shown), area);
        more_signs(frame, area, &w);
    }
}

/// The signs as text, for a list drawn as a table whose title carries them:
/// "· ↑ N more above · ↓ N more below " (the parts that apply).
pub fn more_text(w: &Window) -> String {
    let mut text = String::new();
    if w.above > 0 {
        text.push_str(&format!("· ↑ {} {} ", w.above, strings::MORE_ABOVE));
    }
    if w.below > 0 {
        text.push_str(&format!("· ↓ {} {} ", w.below, strings::MORE_BELOW));
    }
    text
}

/// Draws the "↑ N more above" / "↓ N more below" signs at the top and
/// bottom of the right edge of `area` for window `w`.
pub fn more_signs(frame: &mut Frame, area: Rect, w: &Window) {
    if area.height == 0 {
        return;
    }
    let style = Style::default().fg(Color::Black).bg(Color::Yellow);
    if w.above > 0 {
        let text = format!(" ↑ {} {} ", w.above, strings::MORE_ABOVE);
        sign(frame, area, area.y, text, style);
    }
    if w.below > 0 {
        let text = format!(" ↓ {} {} ", w.below, strings::MORE_BELOW);
        sign(frame, area, area.bottom() - 1, text, style);
    }
}

fn sign(frame: &mut Frame, area: Rect, y: u16, text: String, style: Style) {
    let w = u16::try_from(text.chars().count())
        .unwrap_or(u16::MAX)
        .min(area.width);
    let r = Rect::new(area.right() - w, y, w, 1);
    frame.render_widget(Clear, r);
    frame.render_widget(Paragraph::new(Span::styled(text, style)), r);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(nav: &mut ListNav, code: KeyCode) -> bool {
        nav.handle_key(KeyEvent::from(code))
    }

    #[test]
    fn keys_move_the_selection_within_the_list() {
        let mut nav = ListNav::new(30);
        assert!(press(&mut nav, KeyCode::Char('j')));
        assert!(press(&mut nav, KeyCode::Down));
        assert_eq!(nav.selected(), 2);
        assert!(press(&mut nav, KeyCode::Char('k')));
        assert_eq!(nav.selected(), 1);
        press(&mut nav, KeyCode::End);
        assert_eq!(nav.selected(), 29);
        press(&mut nav, KeyCode::Down);
        assert_eq!(nav.selected(), 29);
        press(&mut nav, KeyCode::Home);
        assert_eq!(nav.selected(), 0);
        press(&mut nav, KeyCode::Up);
        assert_eq!(nav.selected(), 0);
        // A page is what the last drawing showed.
        nav.window(10, |_| 1);
        press(&mut nav, KeyCode::PageDown);
        assert_eq!(nav.selected(), 10);
        press(&mut nav, KeyCode::PageUp);
        assert_eq!(nav.selected(), 0);
        assert!(!press(&mut nav, KeyCode::Char('x')));
        let mut no_paging = ListNav::with_keys(30, Keys::NoPaging);
        assert!(!press(&mut no_paging, KeyCode::PageDown));
        assert!(press(&mut no_paging, KeyCode::End));
        // Under a text field, letters and Home/End are the field's.
        let mut arrows = ListNav::with_keys(30, Keys::Arrows);
        for code in [
            KeyCode::Char('j'),
            KeyCode::Char('k'),
            KeyCode::Home,
            KeyCode::End,
        ] {
            assert!(!press(&mut arrows, code));
        }
        assert!(press(&mut arrows, KeyCode::Down));
        assert!(press(&mut arrows, KeyCode::PageDown));
    }

    #[test]
    fn the_window_keeps_the_selection_visible_and_moves_only_when_needed() {
        let mut nav = ListNav::new(20);
        let w = nav.window(5, |_| 1);
        assert_eq!(
            w,
            Window {
                items: 0..5,
                above: 0,
                below: 15
            }
        );
        for _ in 0..5 {
            press(&mut nav, KeyCode::Down);
        }
        assert_eq!(nav.window(5, |_| 1).items, 1..6);
        // Moving back up inside the window does not move it.
        press(&mut nav, KeyCode::Up);
        assert_eq!(nav.window(5, |_| 1).items, 1..6);
        press(&mut nav, KeyCode::End);
        let w = nav.window(5, |_| 1);
        assert_eq!((w.items, w.above, w.below), (15..20, 15, 0));
        press(&mut nav, KeyCode::Home);
        assert_eq!(nav.window(5, |_| 1).items, 0..5);
    }

    #[test]
    fn a_tall_selected_item_is_shown_whole_and_an_empty_list_draws_nothing() {
        let mut nav = ListNav::new(10);
        nav.select(9);
        // Item 9 takes 3 lines; 4 lines fit it and one more.
        let w = nav.window(4, |i| if i == 9 { 3 } else { 1 });
        assert_eq!(w.items, 8..10);
        let empty = ListNav::new(0);
        assert_eq!(empty.window(10, |_| 1).items, 0..0);
        assert!(!empty.is_selected(0));
    }

    #[test]
    fn a_shrinking_list_keeps_the_selection_inside_it() {
        let mut nav = ListNav::new(10);
        nav.select(9);
        nav.set_len(4);
        assert_eq!(nav.selected(), 3);
        nav.set_len(0);
        assert_eq!(nav.selected(), 0);
    }
}
