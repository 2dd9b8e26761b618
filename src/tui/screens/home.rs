//! The home screen: where am I (workspace), who holds keys (custodians,
//! recipients, rotation due dates), is the audit chain intact, and is this
//! machine really offline.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::{Action, Chrome, Screen};
use crate::tui::list::{self, ListNav};
use crate::tui::{strings, widgets};
use custodian_core::netcheck::LiveInterface;
use custodian_core::workspace::CustodianRecord;

/// Everything the home screen shows, gathered by the app.
#[derive(Debug, Clone)]
pub struct HomeView {
    /// Workspace directory, as text.
    pub workspace: String,
    /// Active custodians.
    pub custodians: Vec<CustodianRecord>,
    /// How many custodians retired (kept in the registry's history).
    pub retired: usize,
    /// Audit chain: entries and head, or the problem found; None while a
    /// background check verifies it (the chain grows with the workspace, so
    /// the UI thread never verifies it itself).
    pub audit: Option<Result<(u64, String), String>>,
    /// Live non-loopback interfaces, or why they could not be listed.
    pub network: Result<Vec<LiveInterface>, String>,
    /// Today's date (RFC 3339) to flag overdue rotations.
    pub today: String,
    /// In drill mode: the workspace the console came from.
    pub sandbox_origin: Option<String>,
    /// Why the registry could not be read (then no custodian is listed,
    /// and the screen says so rather than showing an empty workspace).
    pub registry_error: Option<String>,
    /// Plaintext outputs older than a day and not destroyed.
    pub stale_outputs: usize,
    /// The clock is more than a day past the last operator-confirmed time:
    /// the line saying so.
    pub clock_drift: Option<String>,
}

impl Default for HomeView {
    fn default() -> Self {
        HomeView {
            workspace: String::new(),
            custodians: Vec::new(),
            retired: 0,
            audit: None,
            network: Ok(Vec::new()),
            today: String::new(),
            sandbox_origin: None,
            registry_error: None,
            stale_outputs: 0,
            clock_drift: None,
        }
    }
}

/// The home screen.
#[derive(Debug, Default)]
pub struct HomeScreen {
    view: HomeView,
    nav: ListNav,
}

impl HomeScreen {
    /// A home screen showing `view`.
    pub fn new(view: HomeView) -> Self {
        let nav = ListNav::new(view.custodians.len());
        HomeScreen { view, nav }
    }

    /// Replaces what is shown.
    pub fn set_view(&mut self, view: HomeView) {
        self.nav.set_len(view.custodians.len());
        self.view = view;
    }

    /// Takes in the background check of the audit chain.
    pub fn set_audit(&mut self, audit: Result<(u64, String), String>) {
        self.view.audit = Some(audit);
    }

    /// What is shown.
    pub fn view(&self) -> &HomeView {
        &self.view
    }
}

fn network_banner(net: &Result<Vec<LiveInterface>, String>) -> Option<Paragraph<'static>> {
    let warn = Style::default()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD);
    match net {
        Ok(list) if list.is_empty() => None,
        Ok(list) => {
            let names = list
                .iter()
                .map(|i| format!("{} ({})", i.name, i.address))
                .collect::<Vec<_>>()
                .join(", ");
            Some(
                Paragraph::new(Line::from(vec![
                    Span::styled(format!(" {} ", strings::NET_WARNING), warn),
                    Span::styled(format!(" {names} "), warn),
                ]))
                .wrap(Wrap { trim: true }),
            )
        }
        Err(e) => Some(Paragraph::new(Line::from(Span::styled(
            format!(" {}: {e} ", strings::NET_UNKNOWN),
            Style::default().fg(Color::Black).bg(Color::Yellow),
        )))),
    }
}

/// `age1abcdefgh…uvwxyz`: enough to tell recipients apart in a table.
fn abbreviate(recipient: &str) -> String {
    let n = recipient.chars().count();
    if n <= 24 {
        return recipient.to_string();
    }
    let head: String = recipient.chars().take(14).collect();
    let tail: String = recipient.chars().skip(n - 8).collect();
    format!("{head}…{tail}")
}

/// The operations menu flowed into `width` columns: each group on its own
/// line(s), its keys wrapping under the group's label, so no entry is ever
/// cut off.
fn menu_lines(width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let label_w = if width >= 100 { 20 } else { 14 };
    let key_style = Style::default()
        .fg(Color::Cyan)
        .add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    for (group, items) in strings::HOME_MENU {
        let label: String = group.chars().take(label_w - 1).collect();
        let mut spans = vec![Span::styled(
            format!("{label:<label_w$}"),
            Style::default().add_modifier(Modifier::BOLD),
        )];
        let mut used = label_w;
        for (k, what) in *items {
            let w = k.chars().count() + what.chars().count() + 4;
            if used + w > width && used > label_w {
                lines.push(Line::from(std::mem::take(&mut spans)));
                spans.push(Span::raw(" ".repeat(label_w)));
                used = label_w;
            }
            spans.push(Span::styled(format!(" {k} "), key_style));
            spans.push(Span::raw(format!("{what} ")));
            used += w;
        }
        lines.push(Line::from(spans));
    }
    lines
}

impl HomeScreen {
    /// "· 2 retired " after the count of active custodians, when any retired.
    fn retired_note(&self) -> String {
        if self.view.retired == 0 {
            String::new()
        } else {
            format!("· {} {} ", self.view.retired, strings::HOME_RETIRED)
        }
    }

    /// The custodians table: rows scroll so the selected one stays visible,
    /// and the title says when rows are hidden above or below.
    fn render_custodians(&self, frame: &mut Frame, area: Rect) {
        if let Some(problem) = &self.view.registry_error {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(format!(" {} ", strings::HOME_CUSTODIANS));
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(Span::styled(
                        strings::HOME_REGISTRY_UNREADABLE,
                        Style::default()
                            .fg(Color::White)
                            .bg(Color::Red)
                            .add_modifier(Modifier::BOLD),
                    )),
                    Line::from(problem.clone()),
                ])
                .wrap(Wrap { trim: true })
                .block(block),
                area,
            );
            return;
        }
        let total = self.view.custodians.len();
        if total == 0 {
            let block = Block::default().borders(Borders::TOP).title(format!(
                " {} (0) {}",
                strings::HOME_CUSTODIANS,
                self.retired_note()
            ));
            frame.render_widget(
                Paragraph::new(strings::HOME_NO_CUSTODIANS)
                    .wrap(Wrap { trim: true })
                    .block(block),
                area,
            );
            return;
        }
        let [list_area, detail_area] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
        // Border line and header row.
        let window = self
            .nav
            .window(usize::from(list_area.height.saturating_sub(2)), |_| 1);
        let (offset, end) = (window.items.start, window.items.end);
        let mut title = format!(
            " {} ({total}) {}",
            strings::HOME_CUSTODIANS,
            self.retired_note()
        );
        if offset > 0 || end < total {
            title.push_str(&format!("rows {}–{end} of {total} ", offset + 1));
            title.push_str(&list::more_text(&window));
        }
        let block = Block::default().borders(Borders::TOP).title(title);
        let rows = self
            .view
            .custodians
            .iter()
            .enumerate()
            .skip(offset)
            .take(end - offset)
            .map(|(i, c)| {
                let overdue = c.rotation_due.as_str() < self.view.today.as_str();
                let due_style = if overdue {
                    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
                } else {
                    Style::default()
                };
                let due = c
                    .rotation_due
                    .get(..10)
                    .unwrap_or(&c.rotation_due)
                    .to_string();
                let due = if overdue {
                    format!("{due} OVERDUE")
                } else {
                    due
                };
                let marker = if self.nav.is_selected(i) { "▶" } else { " " };
                Row::new(vec![
                    Cell::from(marker),
                    Cell::from(widgets::fit(&c.name, 16)),
                    Cell::from(abbreviate(&c.recipient)),
                    Cell::from(c.fingerprint.clone()),
                    Cell::from(due).style(due_style),
                ])
            });
        let table = Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(16),
                Constraint::Length(24),
                Constraint::Length(19),
                Constraint::Length(19),
            ],
        )
        .header(
            Row::new(vec!["", "Name", "Recipient", "Fingerprint", "Rotation due"])
                .style(Style::default().add_modifier(Modifier::BOLD)),
        )
        .block(block);
        frame.render_widget(table, list_area);
        if let Some(c) = self.view.custodians.get(self.nav.selected()) {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("{} — recipient {}", c.name, c.recipient)),
                    Line::from(format!(
                        "created {} · identity file {}",
                        c.created_at,
                        c.identity_file
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| "not recorded".into())
                    )),
                ]),
                detail_area,
            );
        }
    }
}

/// The workspace line in `width` columns. In a drill sandbox it says so
/// and where X returns to; paths too long for the line are cut in the
/// middle (their start and last components kept), so the sandbox sign is
/// never cut off.
fn workspace_line(workspace: &str, origin: Option<&str>, width: usize) -> Vec<Span<'static>> {
    let Some(origin) = origin else {
        return vec![Span::raw(widgets::fit_path(workspace, width))];
    };
    let sign = format!("  {} ", strings::DRILL_SANDBOX_BANNER);
    let room = width.saturating_sub(sign.chars().count());
    // The sandbox path (where the console is) comes first; the origin
    // keeps at least "/…/" and its last component.
    let (a, b) = (workspace.chars().count(), origin.chars().count());
    let last = origin
        .rsplit('/')
        .find(|c| !c.is_empty())
        .map_or(0, |c| c.chars().count());
    let for_ws = a.min(room.saturating_sub(b.min(last + 3)));
    vec![
        Span::raw(widgets::fit_path(workspace, for_ws)),
        Span::styled(
            format!("{sign}{}", widgets::fit_path(origin, room - for_ws)),
            Style::default().fg(Color::Yellow),
        ),
    ]
}

impl Screen for HomeScreen {
    fn title(&self) -> String {
        strings::HOME_TITLE.into()
    }

    fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if self.nav.handle_key(key) {
            return None;
        }
        match key.code {
            KeyCode::Char('n') => Some(Action::OpenNewIdentity),
            KeyCode::Char('g') => Some(Action::OpenGuardianSplit),
            KeyCode::Char('c') => Some(Action::OpenGuardianReconstruct),
            KeyCode::Char('o') => self
                .view
                .custodians
                .get(self.nav.selected())
                .map(|c| Action::OpenRotate(c.name.clone())),
            KeyCode::Char('x') => self
                .view
                .custodians
                .get(self.nav.selected())
                .map(|c| Action::OpenRetire(c.name.clone())),
            KeyCode::Char('G') => Some(Action::OpenRollCall),
            KeyCode::Char('O') => Some(Action::OpenCeremony),
            KeyCode::Char('r') => Some(Action::RefreshHome),
            KeyCode::Char('s') => Some(Action::OpenShards),
            KeyCode::Char('R') => Some(Action::OpenRecovery),
            KeyCode::Char('p') => Some(Action::OpenScenarios),
            KeyCode::Char('t') => Some(Action::OpenThreats(1)),
            KeyCode::Char('l') => Some(Action::OpenChecklist),
            KeyCode::Char('a') => Some(Action::OpenAuditView),
            KeyCode::Char('v') => Some(Action::OpenKitMenu),
            KeyCode::Char('D') => Some(Action::OpenDrill),
            KeyCode::Char('b') => Some(Action::OpenBackup),
            KeyCode::Char('X') if self.view.sandbox_origin.is_some() => Some(Action::LeaveSandbox),
            KeyCode::Char('C') if self.view.sandbox_origin.is_some() => Some(Action::OpenDrillCard),
            _ => None,
        }
    }

    fn render(&self, frame: &mut Frame, area: Rect, _chrome: &Chrome) {
        let banner = network_banner(&self.view.network);
        let banner_h = if banner.is_some() { 2 } else { 0 };
        let menu = menu_lines(area.width);
        let [banner_area, ws_area, table_area, menu_area, audit_area] = Layout::vertical([
            Constraint::Length(banner_h),
            Constraint::Length(
                3 + u16::from(self.view.stale_outputs > 0)
                    + u16::from(self.view.clock_drift.is_some()),
            ),
            Constraint::Min(5),
            Constraint::Length(menu.len() as u16 + 1),
            Constraint::Length(3),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(menu).block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(format!(" {} ", strings::HOME_OPERATIONS)),
            ),
            menu_area,
        );
        if let Some(b) = banner {
            frame.render_widget(b, banner_area);
        }

        let net_line = match &self.view.network {
            Ok(l) if l.is_empty() => {
                Span::styled(strings::NET_OK, Style::default().fg(Color::Green))
            }
            _ => Span::raw(""),
        };
        // Custody hygiene: plaintext secrets left lying around, in one
        // line of its own (only then: the usual layout is unchanged).
        let stale_line = (self.view.stale_outputs > 0).then(|| {
            Line::from(Span::styled(
                format!(
                    "{} {}",
                    self.view.stale_outputs,
                    strings::HOME_STALE_OUTPUTS
                ),
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ))
        });
        // A sane clock: more than a day past the last confirmed time.
        let drift_line = self.view.clock_drift.as_ref().map(|w| {
            Line::from(Span::styled(
                widgets::fit(w, usize::from(area.width)),
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ))
        });
        frame.render_widget(
            Paragraph::new(
                vec![
                    Line::from(workspace_line(
                        &self.view.workspace,
                        self.view.sandbox_origin.as_deref(),
                        usize::from(area.width),
                    )),
                    Line::from(net_line),
                ]
                .into_iter()
                .chain(stale_line)
                .chain(drift_line)
                .collect::<Vec<_>>(),
            )
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(format!(" {} ", strings::HOME_WORKSPACE)),
            ),
            ws_area,
        );

        self.render_custodians(frame, table_area);

        let audit_lines = match &self.view.audit {
            None => vec![Line::from(Span::styled(
                strings::HOME_AUDIT_CHECKING,
                widgets::hint(),
            ))],
            Some(Ok((n, head))) => vec![Line::from(vec![
                Span::styled(
                    format!("Chain intact: {n} entries"),
                    Style::default().fg(Color::Green),
                ),
                Span::raw(" · "),
                Span::raw(format!("Head: {head}")),
            ])],
            Some(Err(problem)) => vec![Line::from(Span::styled(
                format!("CHAIN BROKEN: {problem}"),
                Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ))],
        };
        frame.render_widget(
            Paragraph::new(audit_lines).wrap(Wrap { trim: true }).block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(format!(" {} ", strings::HOME_AUDIT)),
            ),
            audit_area,
        );
    }

    fn commands(&self) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<(&'static str, &'static str)> = strings::HOME_MENU
            .iter()
            .flat_map(|(_, items)| items.iter().copied())
            .collect();
        if self.view.sandbox_origin.is_some() {
            all.push(("C", "drill card: this sandbox's passphrases"));
            all.push(("X", "leave the drill sandbox"));
        }
        // The footer's ↑/↓ j/k is the global "move in lists" line, and its
        // C and X are listed just above: only refresh is left to add.
        all.push(("r", "refresh"));
        all
    }

    fn footer(&self) -> Vec<(&'static str, &'static str)> {
        let mut keys = vec![
            ("↑/↓ j/k", "select custodian"),
            ("r", "refresh"),
            ("b", "backup"),
        ];
        if self.view.sandbox_origin.is_some() {
            keys.push(("C", "drill card"));
            keys.push(("X", "leave sandbox"));
        }
        keys
    }

    fn takes_text(&self) -> bool {
        false
    }

    fn as_home(&mut self) -> Option<&mut HomeScreen> {
        Some(self)
    }
}
