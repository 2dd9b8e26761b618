//! The application: a stack of screens, the help overlay, and the only
//! place where effects happen (reading the workspace, starting workers).
//!
//! The app is driven by [`App::handle`] with one [`Event`] at a time, which
//! makes whole-app tests simple: feed keys, pump worker events, render to a
//! `TestBackend`.

use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::event::{Event, Events};
use super::screens::guardians_reconstruct::GuardianReconstructWizard;
use super::screens::guardians_split::GuardianSplitWizard;
use super::screens::home::{HomeScreen, HomeView};
use super::screens::new_identity::NewIdentityWizard;
use super::screens::{Action, Chrome, Screen};
use super::strings;
use super::widgets;
use super::worker::{self, JobResult, WorkerMsg};
use crate::error::Report;
use crate::netcheck::{self, LiveInterface};
use crate::workspace::Workspace;

/// How the app learns which network interfaces are up (replaceable in tests).
pub type NetProbe = Box<dyn Fn() -> Result<Vec<LiveInterface>, String> + Send>;

/// The console application.
pub struct App {
    ws: Workspace,
    events: Events,
    screens: Vec<Box<dyn Screen>>,
    help: bool,
    notice: Option<String>,
    chrome: Chrome,
    net_probe: NetProbe,
    running_jobs: usize,
    /// Set when the user asked to quit.
    pub quit: bool,
}

impl App {
    /// An app on `ws`, with the real network probe.
    pub fn new(ws: Workspace) -> Self {
        Self::with_probe(ws, Box::new(netcheck::live_interfaces))
    }

    /// An app with a custom network probe (tests use a fixed answer).
    pub fn with_probe(ws: Workspace, net_probe: NetProbe) -> Self {
        let mut app = App {
            ws,
            events: Events::new(),
            screens: Vec::new(),
            help: false,
            notice: None,
            chrome: Chrome::default(),
            net_probe,
            running_jobs: 0,
            quit: false,
        };
        let view = app.home_view();
        app.screens.push(Box::new(HomeScreen::new(view)));
        app
    }

    /// The event sender (for the terminal input thread and ticker).
    pub fn events(&self) -> &Events {
        &self.events
    }

    fn sender(&self) -> Sender<Event> {
        self.events.tx.clone()
    }

    /// Gathers what the home screen shows.
    fn home_view(&mut self) -> HomeView {
        let reg = self.ws.registry();
        self.chrome.sandbox = reg.as_ref().map(|r| r.sandbox).unwrap_or(false);
        HomeView {
            workspace: self.ws.root().display().to_string(),
            custodians: reg.map(|r| r.custodians).unwrap_or_default(),
            audit: self
                .ws
                .audit()
                .verify()
                .map(|s| (s.entries, s.head))
                .map_err(|e| e.to_string()),
            network: (self.net_probe)(),
            today: crate::clock::now_string(),
        }
    }

    fn top(&mut self) -> &mut Box<dyn Screen> {
        // The home screen is never popped, so the stack is never empty.
        let last = self.screens.len() - 1;
        &mut self.screens[last]
    }

    /// The title of the screen on top (for tests).
    pub fn current_title(&self) -> String {
        self.screens.last().map(|s| s.title()).unwrap_or_default()
    }

    fn busy(&self) -> bool {
        self.running_jobs > 0 || self.screens.iter().any(|s| s.busy())
    }

    /// Handles one event.
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Tick => self.chrome.tick = self.chrome.tick.wrapping_add(1),
            Event::Resize => {}
            Event::Key(key) => self.handle_key(key),
            Event::Worker(msg) => {
                if matches!(msg, WorkerMsg::Finished(_)) {
                    self.running_jobs = self.running_jobs.saturating_sub(1);
                    self.notice = None;
                }
                if let Some(action) = self.top().on_worker(&msg) {
                    self.perform(action);
                }
            }
        }
    }

    fn handle_key(&mut self, key: KeyEvent) {
        self.notice = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            if self.busy() {
                self.notice = Some(strings::BUSY_REFUSE.into());
            } else {
                self.quit = true;
            }
            return;
        }
        if self.help {
            if matches!(key.code, KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter) {
                self.help = false;
            }
            return;
        }
        if key.code == KeyCode::F(1) || (key.code == KeyCode::Char('?') && !self.top_is_typing()) {
            self.help = true;
            return;
        }
        if key.code == KeyCode::Esc && self.busy() {
            self.notice = Some(strings::BUSY_REFUSE.into());
            return;
        }
        if let Some(action) = self.top().handle_key(key) {
            self.perform(action);
        }
    }

    /// Screens whose first step is a text field take '?' as text.
    fn top_is_typing(&self) -> bool {
        self.screens
            .last()
            .map(|s| s.title() != strings::HOME_TITLE)
            .unwrap_or(false)
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Quit => {
                if self.busy() {
                    self.notice = Some(strings::BUSY_REFUSE.into());
                } else {
                    self.quit = true;
                }
            }
            Action::Back => {
                if self.screens.len() > 1 {
                    self.screens.pop();
                }
                self.refresh_home();
            }
            Action::OpenNewIdentity => {
                let taken = self
                    .ws
                    .registry()
                    .map(|r| r.custodians.into_iter().map(|c| c.name).collect())
                    .unwrap_or_default();
                self.screens
                    .push(Box::new(NewIdentityWizard::new().with_taken(taken)));
            }
            Action::RefreshHome => self.refresh_home(),
            Action::OpenGuardianSplit => {
                let custodians = self.ws.registry().map(|r| r.custodians).unwrap_or_default();
                self.screens
                    .push(Box::new(GuardianSplitWizard::new(custodians)));
            }
            Action::OpenGuardianReconstruct => {
                let known = crate::guardians::splits(&self.ws)
                    .map(|s| s.splits)
                    .unwrap_or_default();
                self.screens
                    .push(Box::new(GuardianReconstructWizard::new(known)));
            }
            Action::StartGuardianSplit {
                identity_path,
                identity_passphrase,
                threshold,
                guardians,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    let report = |done, total, label: &str| progress.report(done, total, label);
                    crate::guardians::split(
                        &ws,
                        crate::guardians::SplitRequest {
                            identity_path: &identity_path,
                            identity_passphrase: &identity_passphrase,
                            threshold,
                            guardians,
                            out_dir: None,
                        },
                        &report,
                    )
                    .map(|o| JobResult::GuardianSplit(Box::new(o)))
                    .map_err(|e| Report::from_error(&e))
                });
            }
            Action::LoadGuardianShare { input } => {
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    let loaded = if crate::guardians::printed::looks_printed(&input) {
                        crate::guardians::LoadedShare::from_printed(&input)
                    } else {
                        crate::guardians::LoadedShare::from_path(std::path::Path::new(&input))
                    };
                    loaded
                        .map(|s| JobResult::GuardianShareLoaded(Box::new(s)))
                        .map_err(|e| Report::from_error(&e))
                });
            }
            Action::StartGuardianCombine {
                set,
                passphrases,
                new_passphrase,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    let report = |done, total, label: &str| progress.report(done, total, label);
                    crate::guardians::combine(
                        &ws,
                        &set,
                        &passphrases,
                        &new_passphrase,
                        None,
                        &report,
                    )
                    .map(|c| JobResult::GuardianCombined(Box::new(c)))
                    .map_err(|e| Report::from_error(&e))
                });
            }
            Action::CreateIdentity { name, passphrase } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    crate::identity::create_identity(&ws, &name, &passphrase, None)
                        .map(JobResult::IdentityCreated)
                        .map_err(|e| Report::from_error(&e))
                });
            }
        }
    }

    fn refresh_home(&mut self) {
        let view = self.home_view();
        if let Some(home) = self.screens.first_mut().and_then(|s| s.as_home()) {
            home.set_view(view);
        }
    }

    /// Waits for worker messages until no job is running or `timeout`
    /// passes, handling each (ticks are handled too). Returns false on timeout.
    pub fn pump_until_idle(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.running_jobs > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.rx.recv_timeout(left) {
                Ok(ev) => self.handle(ev),
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        true
    }

    /// Draws the whole app. Pure with respect to the workspace.
    pub fn render(&self, frame: &mut Frame) {
        let area = frame.area();
        let [header, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);

        let Some(screen) = self.screens.last() else {
            return;
        };
        let mut title = vec![
            Span::styled(
                format!(" {} ", strings::APP_TITLE),
                Style::default().fg(Color::Black).bg(Color::Cyan),
            ),
            Span::raw(format!(" {} ", screen.title())),
        ];
        if self.chrome.sandbox {
            title.push(Span::styled(
                strings::DRILL_MARK,
                Style::default()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(title)), header);

        let inner = Block::default().borders(Borders::NONE);
        let body_inner = inner.inner(body);
        screen.render(frame, body_inner, &self.chrome);

        let footer_line = if let Some(n) = &self.notice {
            Line::from(Span::styled(n.clone(), Style::default().fg(Color::Yellow)))
        } else {
            let mut spans = Vec::new();
            for (k, what) in screen.commands() {
                spans.push(Span::styled(
                    format!(" {k} "),
                    Style::default().bg(Color::DarkGray),
                ));
                spans.push(Span::raw(format!(" {what}  ")));
            }
            spans.push(Span::styled(" ? ", Style::default().bg(Color::DarkGray)));
            spans.push(Span::raw(" help"));
            Line::from(spans)
        };
        frame.render_widget(Paragraph::new(footer_line), footer);

        if self.help {
            let mut lines = vec![Line::from(Span::styled(
                screen.title(),
                Style::default().add_modifier(Modifier::BOLD),
            ))];
            for (k, what) in screen.commands() {
                lines.push(Line::from(format!("  {k:<8} {what}")));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "Everywhere",
                Style::default().add_modifier(Modifier::BOLD),
            )));
            for (k, what) in strings::HELP_GLOBAL {
                lines.push(Line::from(format!("  {k:<8} {what}")));
            }
            let popup = widgets::centered(area, 60, lines.len() as u16 + 2);
            widgets::popup(frame, popup, strings::HELP_TITLE, lines, Color::Cyan);
        }
    }

    /// Runs the interactive loop on the real terminal until quit.
    pub fn run_terminal(mut self) -> std::io::Result<()> {
        self.events.start_terminal_sources();
        // ratatui::init installs a panic hook that restores the terminal.
        let mut terminal = ratatui::init();
        let result = (|| {
            loop {
                terminal.draw(|f| self.render(f))?;
                if self.quit {
                    return Ok(());
                }
                match self.events.rx.recv() {
                    Ok(ev) => self.handle(ev),
                    Err(_) => return Ok(()),
                }
                // Drain whatever else is queued before redrawing.
                while let Ok(ev) = self.events.rx.try_recv() {
                    self.handle(ev);
                }
            }
        })();
        ratatui::restore();
        result
    }
}
