//! The shards screen: the shard files this workspace knows, a path field for
//! any other file, and the inspect view of one shard's public metadata, from
//! which the rewrap and restore-to-node wizards start.
//!
//! Reading a file is the app's job (on a worker); this screen only holds
//! what it was given and turns keys into actions.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::shard_rewrap::RewrapStart;
use super::{Action, Chrome, Screen};
use crate::tui::form::{Form, FormEvent, FormField};
use crate::tui::list::ListNav;
use crate::tui::strings;
use crate::tui::widgets;
use crate::tui::worker::{JobResult, WorkerMsg};
use custodian_core::error::Report;
use custodian_core::identity;
use custodian_core::shard::{self, RewrapKind, ShardFile};

/// A shard file listed on the screen (public facts from the registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardEntry {
    /// The file.
    pub path: PathBuf,
    /// Its key.
    pub key_id: String,
    /// Its index.
    pub index: u32,
    /// Its holder.
    pub holder: String,
}

#[derive(Debug)]
enum Mode {
    List,
    Path,
    Loading { path: PathBuf },
    Inspect { path: PathBuf, file: Box<ShardFile> },
    Failed { path: PathBuf, report: Report },
}

/// The shards screen.
#[derive(Debug)]
pub struct ShardsScreen {
    entries: Vec<ShardEntry>,
    nav: ListNav,
    mode: Mode,
    /// "Open a file by path" (the shared form): kept when the file is
    /// refused, so a mistyped path is corrected in place.
    path_form: Form,
    /// The shard being read was typed into the path form.
    from_path: bool,
}

impl ShardsScreen {
    /// A screen listing `entries`.
    pub fn new(entries: Vec<ShardEntry>) -> Self {
        ShardsScreen {
            nav: ListNav::new(entries.len()),
            entries,
            mode: Mode::List,
            path_form: Form::new(vec![FormField::plain(strings::SHARDS_PATH_PROMPT, "", "")]),
            from_path: false,
        }
    }

    /// Replaces the listed shards (after an operation added one), keeping
    /// the selection in range.
    pub fn set_entries(&mut self, entries: Vec<ShardEntry>) {
        self.nav.set_len(entries.len());
        self.entries = entries;
    }

    /// The listed shards (for tests).
    pub fn entries(&self) -> &[ShardEntry] {
        &self.entries
    }

    fn load(&mut self, path: PathBuf) -> Option<Action> {
        self.mode = Mode::Loading { path: path.clone() };
        Some(Action::InspectShard(path))
    }
}

/// The inspect view's lines for a shard (public metadata only).
pub fn metadata_lines(path: &std::path::Path, file: &ShardFile) -> Vec<Line<'static>> {
    let stanzas = match shard::payload_kind(&file.wrapped_key_share) {
        Ok(kind) => format!("age, ASCII-armored, {}", kind.describe()),
        Err(e) => format!("header unreadable: {e}"),
    };
    let row = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(
                format!("{label:<18}"),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(value),
        ])
    };
    vec![
        row("File", path.display().to_string()),
        row("Key id", file.key_id.clone()),
        row("Holder", file.custodian.clone()),
        row("Recipient", file.recipient.clone()),
        row("Fingerprint", identity::fingerprint(&file.recipient)),
        row("Scheme", file.scheme.clone()),
        row(
            "Threshold / index",
            format!("{} needed · this is share {}", file.threshold, file.index),
        ),
        row("Root public key", file.root_public_key.clone()),
        row("Share public key", file.share_public_key.clone()),
        row("Created", file.created_at.clone()),
        row("Wrapped share", stanzas),
    ]
}

impl ShardsScreen {
    /// The header, the shards (scrolling with the selection) and, while a
    /// path is typed, the path form below them.
    fn render_list(&self, frame: &mut Frame, area: Rect) {
        let form: Vec<Line> = if matches!(self.mode, Mode::Path) {
            std::iter::once(Line::from(""))
                .chain(self.path_form.lines())
                .collect()
        } else {
            Vec::new()
        };
        let form_h = u16::try_from(
            Paragraph::new(form.clone())
                .wrap(Wrap { trim: false })
                .line_count(area.width),
        )
        .unwrap_or(0)
        .min(area.height.saturating_sub(2));
        // The form right under the list; the list takes what is left.
        let rows_h = u16::try_from(self.entries.len())
            .unwrap_or(u16::MAX)
            .min(area.height.saturating_sub(1 + form_h))
            .max(1);
        let [header, list_area, form_area, _] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(rows_h),
            Constraint::Length(form_h),
            Constraint::Min(0),
        ])
        .areas(area);
        // Columns as wide as their longest entry (within bounds), so the
        // file name keeps the rest of the line; what still does not fit is
        // cut with "…", never silently.
        let width_of = |f: &dyn Fn(&ShardEntry) -> usize, min: usize, max: usize| {
            self.entries
                .iter()
                .map(f)
                .max()
                .unwrap_or(0)
                .clamp(min, max)
        };
        let key_w = width_of(&|e| e.key_id.chars().count(), 6, 23) + 1;
        let holder_w = width_of(&|e| e.holder.chars().count(), 6, 17) + 1;
        let name_w = usize::from(area.width).saturating_sub(3 + key_w + 6 + 2 + holder_w);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!(
                    "{:<3}{:<key_w$}{:>6}  {:<holder_w$}{}",
                    "", "Key id", "Index", "Holder", "File"
                ),
                Style::default().add_modifier(Modifier::BOLD),
            ))),
            header,
        );
        let rows = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let marker = if self.nav.is_selected(i) { "▶" } else { " " };
                let name = e
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // Long ids and names are cut to their column.
                let line = Line::from(format!(
                    "{marker:<3}{:<key_w$}{:>6}  {:<holder_w$}{}",
                    crate::tui::widgets::fit(&e.key_id, key_w - 1),
                    e.index,
                    crate::tui::widgets::fit(&e.holder, holder_w - 1),
                    crate::tui::widgets::fit(&name, name_w.max(8)),
                ));
                (Some(i), line)
            })
            .collect();
        self.nav.render(frame, list_area, rows);
        frame.render_widget(Paragraph::new(form).wrap(Wrap { trim: false }), form_area);
    }
}

impl Screen for ShardsScreen {
    fn title(&self) -> String {
        strings::SHARDS_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        match &mut self.mode {
            Mode::List if self.nav.handle_key(key) => None,
            Mode::List => match key.code {
                KeyCode::Esc => Some(Action::Back),
                KeyCode::Char('o') => {
                    self.mode = Mode::Path;
                    None
                }
                // The policy's printed copy: every key id, root public key
                // and recipient in the workspace (`custodian print keys`).
                KeyCode::Char('p') => Some(Action::Print(vec![custodian_core::print::What::Keys])),
                KeyCode::Enter | KeyCode::Char('i') => {
                    let path = self.entries.get(self.nav.selected())?.path.clone();
                    self.from_path = false;
                    self.load(path)
                }
                _ => None,
            },
            Mode::Path => match self.path_form.handle_key(key) {
                FormEvent::Cancel => {
                    self.mode = Mode::List;
                    None
                }
                FormEvent::Submit if !self.path_form.value(0).trim().is_empty() => {
                    let path = PathBuf::from(self.path_form.value(0).trim());
                    self.from_path = true;
                    self.load(path)
                }
                FormEvent::Submit | FormEvent::Handled => None,
            },
            Mode::Loading { .. } => None,
            Mode::Inspect { path, file } => {
                let kind = match key.code {
                    KeyCode::Esc => {
                        self.mode = Mode::List;
                        return None;
                    }
                    KeyCode::Char('w') => RewrapKind::Custodian,
                    KeyCode::Char('n') => RewrapKind::Node,
                    _ => return None,
                };
                Some(Action::OpenRewrap(Box::new(RewrapStart {
                    shard: path.clone(),
                    file: file.clone(),
                    kind,
                })))
            }
            Mode::Failed { .. } => match key.code {
                KeyCode::Esc | KeyCode::Enter => {
                    self.mode = Mode::List;
                    None
                }
                _ => None,
            },
        }
    }

    fn on_worker(&mut self, msg: &WorkerMsg) -> Option<Action> {
        if let (Mode::Loading { path }, WorkerMsg::Finished(result)) = (&mut self.mode, msg) {
            self.mode = match result {
                Ok(JobResult::ShardInspected { path, file }) => Mode::Inspect {
                    path: path.clone(),
                    file: file.clone(),
                },
                // A typed path that was refused: back to it, error under it.
                Err(report) if self.from_path => {
                    self.path_form.refuse(0, report.clone());
                    Mode::Path
                }
                Err(report) => Mode::Failed {
                    path: std::mem::take(path),
                    report: report.clone(),
                },
                Ok(_) => return None,
            };
        }
        None
    }

    fn render(&self, frame: &mut Frame, area: Rect, chrome: &Chrome) {
        let mut lines: Vec<Line> = Vec::new();
        match &self.mode {
            Mode::List | Mode::Path => {
                if self.entries.is_empty() {
                    lines.push(Line::from(strings::SHARDS_NONE));
                } else {
                    self.render_list(frame, area);
                    return;
                }
                if matches!(self.mode, Mode::Path) {
                    lines.push(Line::from(""));
                    lines.extend(self.path_form.lines());
                }
            }
            Mode::Loading { path } => lines.push(Line::from(format!(
                "{} {} {}",
                widgets::spinner(chrome.tick),
                strings::SHARDS_LOADING,
                path.display()
            ))),
            Mode::Inspect { path, file } => {
                lines.extend(metadata_lines(path, file));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    strings::SHARDS_NO_SECRET,
                    Style::default().fg(Color::Green),
                )));
            }
            Mode::Failed { path, report } => {
                lines.push(Line::from(Span::styled(
                    format!("{} — {}", strings::FAILED_TITLE, path.display()),
                    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                )));
                lines.extend(widgets::report_lines(report));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        match self.mode {
            Mode::List => vec![
                ("↑/↓ j/k", "select"),
                ("Enter", "inspect"),
                ("o", "open a file by path"),
                ("p", "print keys"),
                ("Esc", "home"),
            ],
            Mode::Path => vec![("Enter", "inspect"), ("Esc", "back")],
            Mode::Loading { .. } => vec![],
            Mode::Inspect { .. } => vec![
                ("w", "rewrap to a new custodian"),
                ("n", "restore to a node"),
                ("Esc", "back"),
            ],
            Mode::Failed { .. } => vec![("Enter", "back")],
        }
    }

    fn busy(&self) -> bool {
        matches!(self.mode, Mode::Loading { .. })
    }

    fn takes_text(&self) -> bool {
        matches!(self.mode, Mode::Path)
    }

    fn holds_input(&self) -> bool {
        matches!(self.mode, Mode::Path) && self.path_form.holds_input()
    }

    fn as_any(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
