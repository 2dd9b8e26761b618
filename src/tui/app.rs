//! The application: a stack of screens, the help overlay, and the only
//! place where effects happen (reading the workspace, starting workers).
//!
//! The app is driven by [`App::handle`] with one [`Event`] at a time, which
//! makes whole-app tests simple: feed keys, pump worker events, render to a
//! `TestBackend`.

use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::event::{Event, Events, TICK};
use super::screens::audit_view::AuditViewScreen;
use super::screens::checklist::{ChecklistLine, ChecklistScreen};
use super::screens::drill::DrillScreen;
use super::screens::guardians_reconstruct::GuardianReconstructWizard;
use super::screens::guardians_split::GuardianSplitWizard;
use super::screens::home::{HomeScreen, HomeView};
use super::screens::kit_fingerprint::KitFingerprintScreen;
use super::screens::kit_keygen::KitKeygenWizard;
use super::screens::kit_menu::KitMenu;
use super::screens::kit_use::KitUseWizard;
use super::screens::new_identity::NewIdentityWizard;
use super::screens::scenario::{Prefill, ScenarioScreen};
use super::screens::scenarios::{ScenarioListScreen, ScenarioRow};
use super::screens::threats::ThreatsScreen;
use super::screens::{Action, Chrome, Screen};
use super::strings;
use super::widgets;
use super::worker::{self, Checked, JobResult, WorkerMsg};

/// The most rows a notice takes above the footer (a long path wraps).
const NOTICE_ROWS: u16 = 3;
use custodian_core::binary::RunningBinary;
use custodian_core::drkit;
use custodian_core::error::Report;
use custodian_core::netcheck::{self, LiveInterface};
use custodian_core::playbook::incident::{self, StepHow};
use custodian_core::playbook::{Operation, Playbook, checklist, checks};
use custodian_core::workspace::Workspace;

/// A failed kit job: a wrong key passphrase goes back to the passphrase
/// field (retry in place); anything else is the wizard's failure screen.
fn kit_refusal(e: &drkit::DrKitError) -> Result<JobResult, Report> {
    let report = Report::for_console(e);
    match e {
        drkit::DrKitError::WrongPassphrase => Ok(JobResult::KitInputRefused {
            field: super::screens::kit_use::KitField::Passphrase,
            report,
        }),
        _ => Err(report),
    }
}

/// Verifies or recovers a kit's workspace keys (the console's `kit verify`
/// with the mobile secret, and `kit recover`) with its stages as progress.
/// A refused value goes back to the field that fixes it.
fn kit_keys_job(
    ws: &Workspace,
    job: &super::screens::kit_keys::KitKeysJob,
    progress: &worker::ProgressSink,
) -> Result<JobResult, Report> {
    use super::screens::kit_keys::{self as kk, KitKeysFix, MobileInput};
    use drkit::workspace_keys::{self as wk, MobileSecret};
    let refused = |fix, e: &drkit::DrKitError| {
        Ok(JobResult::KitKeysRefused {
            fix,
            report: Report::for_console(e),
        })
    };
    let mobile_key = matches!(job.mobile, MobileInput::Key { .. });
    let fix_of = |e: &drkit::DrKitError| match KitKeysFix::of(e, mobile_key, job.output.as_ref()) {
        Some(fix) => refused(fix, e),
        None => Err(Report::for_console(e)),
    };
    const STAGES: u64 = 3;
    progress.report(0, STAGES, "reading the kit");
    let kit = match drkit::kit::RecoveryKit::open(&job.kit) {
        Ok(k) => k,
        Err(e) => return fix_of(&e),
    };
    let checked = match &job.output {
        Some(output) => wk::check_output(&kit, &job.select, output),
        None => wk::selected_keys(&kit, &job.select).map(|_| ()),
    };
    if let Err(e) = checked {
        return fix_of(&e);
    }
    progress.report(1, STAGES, "opening the owner's secret");
    let mobile = match &job.mobile {
        MobileInput::Passphrase(p) => MobileSecret::Passphrase(p.clone()),
        MobileInput::Key { path, passphrase } => {
            match drkit::keys::load_private_key(path, passphrase.as_ref()) {
                Ok(k) => MobileSecret::RsaKey(Box::new(k)),
                Err(e @ drkit::DrKitError::WrongPassphrase) => {
                    return refused(KitKeysFix::Input(kk::F_MOBILE_KEY_PASS), &e);
                }
                Err(e) => return refused(KitKeysFix::Input(kk::F_MOBILE_KEY), &e),
            }
        }
    };
    progress.report(2, STAGES, "decrypting every share and checking each key");
    let result = match &job.output {
        None => wk::verify_listed_audited(
            ws,
            kit,
            &job.key,
            job.passphrase.as_ref(),
            &mobile,
            &job.select,
        )
        .map(JobResult::KitKeysListed),
        Some(output) => wk::recover_audited(
            ws,
            kit,
            &wk::RecoverRequest {
                key_path: &job.key,
                passphrase: job.passphrase.as_ref(),
                mobile: &mobile,
                select: &job.select,
                output,
                approvals: &job.approvals,
            },
        )
        .map(|o| {
            JobResult::KitKeysRecovered(Box::new(kk::RecoveredKeys {
                keys: o.keys,
                written: o.written,
                manifest: o.manifest,
                audit_op: o.audit_op,
                shown: o.shown_once.map(std::sync::Arc::new),
            }))
        }),
    };
    result.or_else(|e| fix_of(&e))
}

/// The environment variable naming a file where the console writes the
/// moment its first frame reached the terminal (see [`record_first_frame`]).
pub const TRACE_FIRST_FRAME: &str = "CUSTODIAN_TRACE_FIRST_FRAME";

/// The file named by [`TRACE_FIRST_FRAME`], if set.
fn first_frame_trace() -> Option<std::path::PathBuf> {
    std::env::var_os(TRACE_FIRST_FRAME)
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
}

/// Writes `first_frame_unix_ns=N` (wall-clock nanoseconds when the first
/// frame was flushed) to a new file at `path`, for
/// `scripts/bench-console.sh`, which compares it with the moment it started
/// the process. A public timestamp only; an existing file is never
/// overwritten, and a failure is ignored (tracing must not stop the console).
fn record_first_frame(path: &std::path::Path) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        let _ = writeln!(f, "first_frame_unix_ns={ns}");
    }
}

/// How the app learns which network interfaces are up (replaceable in tests).
pub type NetProbe = Box<dyn Fn() -> Result<Vec<LiveInterface>, String> + Send>;

/// How the app learns which binary is running (replaceable in tests).
pub type BinaryProbe = Box<dyn Fn() -> Result<RunningBinary, String> + Send>;

/// The console application.
pub struct App {
    ws: Workspace,
    events: Events,
    screens: Vec<Box<dyn Screen>>,
    help: bool,
    /// How far the help overlay is scrolled, and its largest useful
    /// scroll as of the last drawing (it scrolls when it does not fit).
    help_scroll: u16,
    help_max: std::cell::Cell<u16>,
    notice: Option<String>,
    chrome: Chrome,
    net_probe: NetProbe,
    binary_probe: BinaryProbe,
    running_jobs: usize,
    /// The scenario step that launched the operation now running, so its
    /// completion can be recorded on the incident.
    pending_step: Option<(Operation, Prefill)>,
    /// While the console is in a drill sandbox: the workspace it came from.
    origin: Option<Workspace>,
    /// Quitting was asked for while a wizard held input or a job ran: the
    /// question is on screen until answered.
    confirm_quit: bool,
    /// Background checks started and not yet answered.
    checks_pending: usize,
    /// The last background check request number handed out.
    last_request: u64,
    /// The audit chain check whose answer the screens wait for.
    audit_request: u64,
    /// The threat checks whose answer the threats screen waits for.
    threats_request: u64,
    /// The audit log read whose answer the audit viewer waits for.
    audit_log_request: u64,
    /// The checklist check whose answer the checklist screen waits for.
    checklist_request: u64,
    /// Idle time after which the console locks (None: never).
    idle_lock: Option<Duration>,
    /// The last key or paste.
    last_input: Instant,
    /// Set while the lock screen is up: the idle time that locked it.
    locked: Option<Duration>,
    /// A hardware token's plugin is asking something (PIN, touch): the
    /// modal dialog over every screen until it is answered.
    token_dialog: Option<super::token::TokenDialog>,
    /// A drill, incident or ceremony waits for the operator to confirm the
    /// system's date and time (once a day): the modal question.
    clock_question: Option<super::clock::ClockQuestion>,
    /// The action whose confirmation of the time is being recorded.
    clock_confirming: Option<Action>,
    /// Set when the user asked to quit.
    pub quit: bool,
}

/// The idle time after which the console locks unless told otherwise.
pub const DEFAULT_IDLE_LOCK: Duration = Duration::from_secs(10 * 60);

/// "10 minutes", "1 minute", "45 seconds".
fn idle_words(d: Duration) -> String {
    let secs = d.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs >= 60 && secs.is_multiple_of(60) {
        plural(secs / 60, "minute")
    } else {
        plural(secs, "second")
    }
}

impl App {
    /// An app on `ws`, with the real network probe.
    pub fn new(ws: Workspace) -> Self {
        Self::with_probe(ws, Box::new(netcheck::live_interfaces))
    }

    /// Walks the drill sandbox at `path`, as `o` on a finished drill does
    /// (X on home returns to this workspace).
    pub fn enter_sandbox(&mut self, path: std::path::PathBuf) {
        self.perform(Action::EnterSandbox(path));
    }

    /// Shows `text` in the footer until the next key (what opening the
    /// workspace repaired, for instance).
    pub fn set_notice(&mut self, text: Option<String>) {
        self.notice = text;
    }

    /// An app with a custom network probe (tests use a fixed answer).
    pub fn with_probe(ws: Workspace, net_probe: NetProbe) -> Self {
        Self::with_probes(ws, net_probe, Box::new(crate::cli::running_binary))
    }

    /// An app with custom network and running-binary probes.
    pub fn with_probes(ws: Workspace, net_probe: NetProbe, binary_probe: BinaryProbe) -> Self {
        let mut app = App {
            ws,
            events: Events::new(),
            screens: Vec::new(),
            help: false,
            help_scroll: 0,
            help_max: std::cell::Cell::new(u16::MAX),
            notice: None,
            chrome: Chrome::default(),
            net_probe,
            binary_probe,
            running_jobs: 0,
            pending_step: None,
            origin: None,
            confirm_quit: false,
            checks_pending: 0,
            last_request: 0,
            audit_request: 0,
            threats_request: 0,
            audit_log_request: 0,
            checklist_request: 0,
            idle_lock: Some(DEFAULT_IDLE_LOCK),
            last_input: Instant::now(),
            locked: None,
            token_dialog: None,
            clock_question: None,
            clock_confirming: None,
            quit: false,
        };
        let view = app.home_view();
        app.screens.push(Box::new(HomeScreen::new(view)));
        app.start_audit_check();
        app
    }

    /// Sets the idle time after which the console locks (None: never).
    pub fn set_idle_lock(&mut self, after: Option<Duration>) {
        self.idle_lock = after;
    }

    /// Sets how long the hardware-token dialog waits for an answer (the
    /// default is [`super::token::DEFAULT_TIMEOUT`]; tests shorten it).
    /// Process-wide, like the plugin launcher's PATH: it applies to every
    /// console in this process (see [`super::token::set_timeout`]).
    pub fn set_token_timeout(&mut self, after: Duration) {
        super::token::set_timeout(after);
    }

    /// True while the hardware-token dialog is up.
    pub fn token_dialog_open(&self) -> bool {
        self.token_dialog.is_some()
    }

    /// Handles events until the token dialog asks for something typed
    /// (true), or no job is left running or `timeout` passes (false).
    pub fn pump_until_token_prompt(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.token_dialog.as_ref().is_some_and(|d| d.asks()) {
                return true;
            }
            if self.running_jobs == 0 && self.checks_pending == 0 {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.rx.recv_timeout(left) {
                Ok(ev) => self.handle(ev),
                Err(_) => return false,
            }
        }
    }

    /// Handles every event already queued, without waiting (for tests).
    pub fn pump_pending(&mut self) {
        while let Ok(ev) = self.events.rx.try_recv() {
            self.handle(ev);
        }
    }

    /// True while the lock screen is up.
    pub fn is_locked(&self) -> bool {
        self.locked.is_some()
    }

    /// When the console locks if no key comes first (None: it never does,
    /// or it is locked already, or a job runs).
    fn lock_due(&self) -> Option<Instant> {
        if self.locked.is_some() || self.busy() {
            return None;
        }
        self.idle_lock.map(|d| self.last_input + d)
    }

    /// Locks the console if nothing was typed for the idle time by `now`:
    /// every screen records how it ended (a one-time key display as
    /// abandoned) and is dropped with what it held (passphrases are
    /// zeroized as their fields drop), and the lock screen asks for Enter.
    /// Returns true when it locked. Not while a job runs: the lock waits
    /// for its result and then clears it too.
    pub fn lock_if_idle(&mut self, now: Instant) -> bool {
        let (Some(due), Some(after)) = (self.lock_due(), self.idle_lock) else {
            return false;
        };
        if now < due {
            return false;
        }
        let mut closing = Vec::new();
        for s in self.screens.iter_mut().rev() {
            closing.extend(s.on_quit());
        }
        for action in closing {
            self.perform(action);
        }
        self.screens.truncate(1);
        self.pending_step = None;
        self.help = false;
        self.confirm_quit = false;
        self.clock_question = None;
        self.notice = None;
        self.locked = Some(after);
        self.refresh_home();
        true
    }

    /// Numbers a new background check.
    fn next_request(&mut self) -> u64 {
        self.last_request += 1;
        self.checks_pending += 1;
        self.last_request
    }

    /// Verifies the audit chain on a background thread (it grows with the
    /// workspace); the home screen and the banners take the answer.
    fn start_audit_check(&mut self) {
        let request = self.next_request();
        self.audit_request = request;
        let log = self.ws.audit();
        worker::check(&self.sender(), request, move || Checked::AuditChain {
            request,
            result: log
                .verify()
                .map(|s| (s.entries, s.head))
                .map_err(|e| e.to_string()),
        });
    }

    /// Reads the whole audit log and verifies its chain on a background
    /// thread, for the audit viewer (which says "checking…" until then).
    fn start_audit_log_read(&mut self) {
        let request = self.next_request();
        self.audit_log_request = request;
        let log = self.ws.audit();
        worker::check(&self.sender(), request, move || {
            let chain = log
                .verify()
                .map(|s| (s.entries, s.head))
                .map_err(|e| e.to_string());
            Checked::AuditLog {
                request,
                entries: log.entries().unwrap_or_default(),
                chain,
            }
        });
    }

    /// Runs the threat checks on a background thread (they read the whole
    /// workspace); the threats screen shows "checking…" until they report.
    fn start_threat_checks(&mut self) {
        let request = self.next_request();
        self.threats_request = request;
        let ws = self.ws.clone();
        // The probe is cheap and stays on this thread (it is not Send-able
        // as a shared reference); its answer goes to the check.
        let net = (self.net_probe)();
        let binary = (self.binary_probe)();
        worker::check(&self.sender(), request, move || {
            // Checked readable before the screen opened; unreadable since,
            // the check stops rather than report on an empty workspace.
            let Ok(reg) = ws.registry() else {
                return Checked::Stopped { request };
            };
            Checked::Threats {
                request,
                results: checks::run_all(&ws, &reg, custodian_core::clock::now(), &net, &binary),
            }
        });
    }

    /// Takes in a background check's answer; answers to older requests
    /// than the one the screens wait for are dropped.
    fn on_checked(&mut self, found: Checked) {
        self.checks_pending = self.checks_pending.saturating_sub(1);
        let request = found.request();
        match found {
            Checked::AuditChain { result, .. } if request == self.audit_request => {
                self.chrome.audit_broken = result.as_ref().err().cloned();
                if let Some(home) = self.screens.first_mut().and_then(|s| s.as_home()) {
                    home.set_audit(result);
                }
            }
            Checked::AuditLog { entries, chain, .. } if request == self.audit_log_request => {
                self.chrome.audit_broken = chain.as_ref().err().cloned();
                if let Some(s) = self.top_as::<AuditViewScreen>() {
                    s.set_log(entries, Some(chain));
                }
            }
            Checked::Checklist { lines, .. } if request == self.checklist_request => {
                if let Some(s) = self.top_as::<ChecklistScreen>() {
                    s.set_lines(lines);
                }
            }
            Checked::Threats { results, .. } if request == self.threats_request => {
                if let Some(s) = self.top_as::<ThreatsScreen>() {
                    s.set_results(Some(results));
                }
            }
            Checked::Stopped { .. }
                if request == self.audit_request
                    || request == self.threats_request
                    || request == self.audit_log_request
                    || request == self.checklist_request =>
            {
                self.notice = Some(strings::CHECK_STOPPED.into());
            }
            _ => {}
        }
    }

    /// True while a background check has not answered yet (for tests).
    pub fn checking(&self) -> bool {
        self.checks_pending > 0
    }

    /// True while something on screen moves on its own (a spinner, a
    /// countdown): only then does the loop make ticks.
    pub fn animating(&self) -> bool {
        self.running_jobs > 0
            || self.token_dialog.is_some()
            || self.screens.iter().any(|s| s.animating())
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
        let registry_error = reg
            .as_ref()
            .err()
            .map(|e| Report::for_console(e).to_string());
        // The chain is verified by a background check; until it reports,
        // the last answer (if any) stays on screen.
        let audit = self
            .screens
            .first_mut()
            .and_then(|s| s.as_home())
            .and_then(|h| h.view().audit.clone());
        HomeView {
            workspace: self.ws.root().display().to_string(),
            registry_error,
            retired: reg
                .as_ref()
                .map(custodian_core::lifecycle::retired_count)
                .unwrap_or(0),
            stale_outputs: reg
                .as_ref()
                .map(|r| custodian_core::outputs::stale(r, custodian_core::clock::now()).len())
                .unwrap_or(0),
            clock_drift: match &self.origin {
                // In a drill sandbox the time is confirmed in the real workspace.
                Some(real) => real.registry().ok(),
                None => reg.as_ref().ok().cloned(),
            }
            .and_then(|r| super::clock::home_warning(&r, custodian_core::clock::now())),
            custodians: reg.map(|r| r.custodians).unwrap_or_default(),
            audit,
            network: (self.net_probe)(),
            today: custodian_core::clock::now_string(),
            sandbox_origin: self.origin.as_ref().map(|w| w.root().display().to_string()),
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
            Event::Token(prompt) => {
                // A new request replaces an earlier one still on screen
                // (which is answered "cancelled" if it was a question).
                if let Some(mut old) = self.token_dialog.take()
                    && old.asks()
                {
                    old.cancel();
                }
                self.token_dialog = Some(super::token::TokenDialog::new(prompt));
            }
            Event::TokenOver(call) => {
                // The plugin has answered: its "touch your token" is over
                // (and Esc there could no longer cancel anything). A
                // question of that call is one its worker stopped waiting
                // for.
                if self.token_dialog.as_ref().is_some_and(|d| d.call() == call) {
                    self.token_dialog = None;
                }
            }
            Event::Tick => {
                if self
                    .token_dialog
                    .as_mut()
                    .is_some_and(|d| d.tick(Instant::now()))
                {
                    self.token_dialog = None;
                }
                self.chrome.tick = self.chrome.tick.wrapping_add(1);
                let tick = self.chrome.tick;
                if let Some(action) = self.top().on_tick(tick) {
                    self.perform(action);
                }
            }
            Event::Resize => {}
            Event::Checked(found) => self.on_checked(found),
            Event::Key(key) => {
                self.last_input = Instant::now();
                self.handle_key(key);
            }
            Event::Paste(text) => {
                self.last_input = Instant::now();
                self.notice = None;
                if let Some(d) = self.token_dialog.as_mut() {
                    d.paste(&text);
                    return;
                }
                if self.locked.is_some() || self.help || self.confirm_quit {
                    return;
                }
                if let Some(action) = self.top().handle_paste(&text) {
                    self.perform(action);
                }
            }
            Event::Worker(msg) => {
                // A print's outcome is the app's: shown in the footer, never
                // handed to the screen (which is not waiting for it).
                if let WorkerMsg::Finished(Ok(JobResult::Printed(done))) = &msg {
                    self.running_jobs = self.running_jobs.saturating_sub(1);
                    self.notice = Some(match done {
                        Ok(line) => line.clone(),
                        Err(r) => r.to_string(),
                    });
                    return;
                }
                if let WorkerMsg::Finished(Ok(JobResult::ClockConfirmed(done))) = &msg {
                    self.running_jobs = self.running_jobs.saturating_sub(1);
                    let done = done.clone();
                    self.clock_confirmed(done);
                    return;
                }
                if matches!(msg, WorkerMsg::Finished(_)) {
                    self.running_jobs = self.running_jobs.saturating_sub(1);
                    self.notice = None;
                    // The token's message ("touch your token") ends with
                    // the job; a question still open belongs to a job
                    // that has not finished.
                    if self.token_dialog.as_ref().is_some_and(|d| !d.asks()) {
                        self.token_dialog = None;
                    }
                    self.record_launched_step(&msg);
                }
                if let Some(action) = self.top().on_worker(&msg) {
                    self.perform(action);
                }
            }
        }
    }

    fn handle_key(&mut self, key: KeyEvent) {
        self.notice = None;
        // The token dialog is modal: it takes every key (Esc or Ctrl-C
        // cancel it; on a "touch your token" the first gives up and a
        // second closes it) until it is answered.
        if let Some(d) = self.token_dialog.as_mut() {
            if d.handle_key(key) == super::token::DialogKey::Closed {
                self.token_dialog = None;
            }
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.locked.is_some() {
            // Enter (or Esc, back to home) unlocks; Ctrl-C still quits
            // (nothing is held).
            if matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
                self.locked = None;
            } else if ctrl && key.code == KeyCode::Char('c') {
                self.request_quit();
            }
            return;
        }
        if self.clock_question.is_some() {
            // The question takes every key: y records the time, n or Esc
            // (or Ctrl-C) says it is wrong; nothing else answers it.
            match key.code {
                KeyCode::Char('y' | 'Y') if !ctrl => self.clock_yes(),
                KeyCode::Char('n' | 'N') if !ctrl => self.clock_no(),
                KeyCode::Esc => self.clock_no(),
                KeyCode::Char('c') if ctrl => self.clock_no(),
                _ => {}
            }
            return;
        }
        if self.confirm_quit {
            // Only an explicit yes quits; anything else stays.
            self.confirm_quit = false;
            if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) && !ctrl {
                self.finish_quit();
            }
            return;
        }
        if ctrl && key.code == KeyCode::Char('c') {
            self.request_quit();
            return;
        }
        // `q` quits from anywhere that does not take it as a character.
        if key.code == KeyCode::Char('q') && !ctrl && !self.help && !self.top_is_typing() {
            self.request_quit();
            return;
        }
        if self.help {
            if matches!(
                key.code,
                KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter | KeyCode::F(1)
            ) {
                self.help = false;
            } else if let Some(s) = widgets::scroll_key(key, self.help_scroll, self.help_max.get())
            {
                self.help_scroll = s;
            }
            return;
        }
        if key.code == KeyCode::F(1) || (key.code == KeyCode::Char('?') && !self.top_is_typing()) {
            self.help = true;
            self.help_scroll = 0;
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

    /// Screens with a text field take '?' as a character (help is F1 there).
    fn top_is_typing(&self) -> bool {
        self.screens.last().is_some_and(|s| s.takes_text())
    }

    /// Why quitting needs a yes first, if it does: a job is running or a
    /// wizard holds what someone typed.
    fn quit_needs_confirming(&self) -> Option<&'static str> {
        if self.busy() {
            Some(strings::QUIT_BUSY)
        } else if self.screens.iter().any(|s| s.holds_input()) {
            Some(strings::QUIT_HOLDS_INPUT)
        } else {
            None
        }
    }

    /// `q` or Ctrl-C: quits at once, or asks first when work would be lost.
    fn request_quit(&mut self) {
        if self.quit_needs_confirming().is_some() {
            self.confirm_quit = true;
        } else {
            self.finish_quit();
        }
    }

    /// Quits, first letting every open screen record how it ends (a
    /// one-time key display is audited as abandoned).
    fn finish_quit(&mut self) {
        if let Some(mut d) = self.token_dialog.take() {
            d.cancel();
        }
        let mut closing = Vec::new();
        for s in self.screens.iter_mut().rev() {
            closing.extend(s.on_quit());
        }
        for action in closing {
            self.perform(action);
        }
        self.quit = true;
    }

    /// True while the console asks whether to quit (for tests).
    pub fn asking_to_quit(&self) -> bool {
        self.confirm_quit
    }

    fn perform(&mut self, action: Action) {
        let depth = self.screens.len();
        self.perform_one(action);
        // A screen was opened: check again what its banners warn about.
        if self.screens.len() > depth {
            self.refresh_guards();
        }
    }

    /// Re-checks the network interfaces and the audit chain for the
    /// banners above screens that touch secrets.
    fn refresh_guards(&mut self) {
        self.chrome.network_up = match (self.net_probe)() {
            Ok(list) if list.is_empty() => None,
            Ok(list) => Some(
                list.iter()
                    .map(|i| format!("{} ({})", i.name, i.address))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Err(e) => Some(format!("{}: {e}", strings::NET_UNKNOWN)),
        };
        self.start_audit_check();
    }

    fn perform_one(&mut self, action: Action) {
        // A drill, an incident or the ceremony: the time first, once a day.
        let action = match self.ask_clock_first(action) {
            Some(a) => a,
            None => return,
        };
        self.perform_now(action);
    }

    /// Parks `action` behind the clock question when the core's rule asks
    /// for a confirmation (None: the question is up); otherwise gives it back.
    fn ask_clock_first(&mut self, action: Action) -> Option<Action> {
        let Some(asked_by) = super::clock::guarded(&action) else {
            return Some(action);
        };
        let Ok(reg) = self.real_ws().registry() else {
            // Unreadable: the operation itself says so.
            return Some(action);
        };
        let now = custodian_core::clock::now();
        if !custodian_core::clock::needs_confirmation(&reg, now) {
            return Some(action);
        }
        self.clock_question = Some(super::clock::ClockQuestion::new(
            action, asked_by, &reg, now,
        ));
        None
    }

    /// The workspace the console came from (in a drill sandbox), else this one.
    fn real_ws(&self) -> Workspace {
        self.origin.clone().unwrap_or_else(|| self.ws.clone())
    }

    /// `y`: records the confirmation on a worker (audited
    /// CLOCK_CONFIRMED in the real workspace); the action runs once it is.
    fn clock_yes(&mut self) {
        let Some(q) = self.clock_question.take() else {
            return;
        };
        let real = self.real_ws();
        let (context, operator) = (q.context, q.operator.clone());
        self.clock_confirming = Some(q.action);
        self.running_jobs += 1;
        self.notice = Some(strings::CLOCK_RECORDING.into());
        worker::spawn(&self.sender(), move |_| {
            Ok(JobResult::ClockConfirmed(
                custodian_core::clock::confirm(&real, context, operator.as_deref())
                    .map_err(|e| Report::for_console(&e)),
            ))
        });
    }

    /// `n` or Esc: nothing is written and nothing starts; the flow says
    /// what to do.
    fn clock_no(&mut self) {
        if let Some(q) = self.clock_question.take() {
            let report = q.wrong();
            self.refuse_parked(q.action, report);
        }
    }

    /// The confirmation was recorded (the parked action runs, exactly as
    /// it would have) or refused (a clock earlier than the audit log: the
    /// flow shows the core's error).
    fn clock_confirmed(&mut self, done: Result<custodian_core::clock::ClockConfirmation, Report>) {
        self.notice = None;
        let Some(action) = self.clock_confirming.take() else {
            return;
        };
        match done {
            Ok(_) => {
                let depth = self.screens.len();
                self.perform_now(action);
                if self.screens.len() > depth {
                    self.refresh_guards();
                }
            }
            Err(report) => self.refuse_parked(action, report),
        }
    }

    /// Tells the flow that asked that its action did not start, through
    /// its own error path: the incident's screen shows the report; a flow
    /// waiting for a job (the drill, the ceremony) takes it as that job's
    /// failure.
    fn refuse_parked(&mut self, action: Action, report: Report) {
        match action {
            Action::StartIncident { .. } | Action::CloseIncident { .. } => {
                if let Some(s) = self.top_as::<ScenarioScreen>() {
                    s.show_error(report);
                }
            }
            _ => {
                let msg = WorkerMsg::Finished(Err(report));
                if let Some(a) = self.top().on_worker(&msg) {
                    self.perform(a);
                }
            }
        }
    }

    /// Runs `action` (past the clock question).
    fn perform_now(&mut self, action: Action) {
        match action {
            Action::Quit => self.request_quit(),
            Action::Back => {
                if self.screens.len() > 1 {
                    self.screens.pop();
                }
                // Back on the scenario without finishing: its step stays open.
                if self.top_as::<ScenarioScreen>().is_some() {
                    self.pending_step = None;
                }
                self.refresh_home();
                self.refresh_playbook_top();
                // A rewrap or restore adds a shard: the list shows it at once.
                if self
                    .top_as::<super::screens::shard_list::ShardsScreen>()
                    .is_some()
                {
                    let entries = self.shard_entries();
                    if let Some(s) = self.top_as::<super::screens::shard_list::ShardsScreen>() {
                        s.set_entries(entries);
                    }
                }
            }
            Action::OpenNewIdentity => {
                let taken = self.custodian_names();
                self.screens
                    .push(Box::new(NewIdentityWizard::new().with_taken(taken)));
            }
            Action::RefreshHome => self.refresh_home(),
            Action::OpenKitMenu => self.screens.push(Box::new(KitMenu::new())),
            Action::OpenDrill => self.screens.push(Box::new(DrillScreen::new())),
            Action::RunDrill { participants } => {
                // The drill is recorded in the workspace the console came from.
                let real = self.origin.clone().unwrap_or_else(|| self.ws.clone());
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    let id = custodian_core::drill::run::new_drill_id();
                    let opts = custodian_core::drill::run::DrillOptions {
                        sandbox: custodian_core::drill::run::default_sandbox(&real, &id),
                        id,
                        participants,
                        custodian_passphrases: None,
                    };
                    let report = |d, t, what: &str| progress.report(d, t, what);
                    custodian_core::drill::run::run_drill(&real, &opts, &report)
                        .map(|o| JobResult::DrillFinished(Box::new(o)))
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::ListSandboxes => {
                // Sandboxes belong to the workspace the console came from.
                let real = self.origin.clone().unwrap_or_else(|| self.ws.clone());
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_| {
                    custodian_core::drill::sandboxes::list(&real)
                        .map(JobResult::Sandboxes)
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::DeleteSandbox(path) => {
                let real = self.origin.clone().unwrap_or_else(|| self.ws.clone());
                // The sandbox being walked is left first.
                let in_use = self.origin.is_some() && self.ws.root() == path.as_path();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_| {
                    if in_use {
                        return Err(Report {
                            message: strings::DRILL_SANDBOX_IN_USE.into(),
                            causes: Vec::new(),
                            remedy: None,
                        });
                    }
                    custodian_core::drill::sandboxes::delete(&real, &path)
                        .map(JobResult::SandboxDeleted)
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::EnterSandbox(path) => match Workspace::open(&path) {
                Ok(sandbox) => {
                    if self.origin.is_none() {
                        self.origin = Some(self.ws.clone());
                    }
                    self.ws = sandbox;
                    self.screens.truncate(1);
                    self.refresh_home();
                }
                Err(e) => self.notice = Some(Report::for_console(&e).to_string()),
            },
            Action::LeaveSandbox => {
                if let Some(origin) = self.origin.take() {
                    self.ws = origin;
                    self.screens.truncate(1);
                    self.refresh_home();
                }
            }
            Action::OpenKitKeygen => {
                let (private, public) = self.kit_key_paths();
                self.screens
                    .push(Box::new(KitKeygenWizard::new(&private, &public)));
            }
            Action::OpenKitFingerprint => {
                let (_, public) = self.kit_key_paths();
                self.screens
                    .push(Box::new(KitFingerprintScreen::new(&public)));
            }
            Action::OpenKitUse { derive } => {
                let (private, _) = self.kit_key_paths();
                self.screens
                    .push(Box::new(KitUseWizard::new(derive, &private)));
            }
            Action::OpenKitKeys { recover } => {
                let (private, _) = self.kit_key_paths();
                let wizard = super::screens::kit_keys::KitKeysWizard::new(recover, &private)
                    .with_workspace(self.ws.root())
                    .with_authenticated_approvals(self.authenticated_approvals());
                self.screens.push(Box::new(wizard));
            }
            Action::StartKitKeys(job) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    kit_keys_job(&ws, &job, &progress)
                });
            }
            Action::RecordKitDisplayCleared { op, ended } => {
                if let Err(e) = drkit::workspace_keys::record_cleared(
                    &self.ws,
                    &op,
                    ended.was_shown(),
                    Some(ended.as_str()),
                ) {
                    self.notice = Some(format!("audit log: {e}"));
                }
            }
            Action::CreateRecoveryKey {
                private,
                public,
                passphrase,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    let mut stage = |s: custodian_core::drkit::keys::KeygenStage| {
                        let (n, of) = s.step();
                        progress.report(n - 1, of, s.label());
                    };
                    let created = drkit::ops::create_recovery_key(
                        &ws,
                        &private,
                        &public,
                        &passphrase,
                        &mut stage,
                    )
                    .map_err(|e| Report::for_console(&e))?;
                    let qr = drkit::keys::qr_lines(&created.public_pem)
                        .map_err(|e| Report::for_console(&e))?;
                    Ok(JobResult::RecoveryKeyCreated(created, qr))
                });
            }
            Action::Print(what) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                self.notice = Some(strings::PRINTING.into());
                worker::spawn(&self.sender(), move |_| {
                    Ok(JobResult::Printed(crate::tui::print::run(&ws, &what)))
                });
            }
            Action::WriteShareQrPngs(files) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                self.notice = Some(strings::PRINTING.into());
                worker::spawn(&self.sender(), move |_| {
                    Ok(JobResult::Printed(crate::tui::print::share_pngs(
                        &ws, &files,
                    )))
                });
            }
            Action::WriteQrPng { public } => {
                let result = drkit::ops::write_public_key_qr_png(&public)
                    .map_err(|e| Report::for_console(&e));
                if let Some(s) =
                    self.top_as::<super::screens::kit_fingerprint::KitFingerprintScreen>()
                {
                    s.set_png(result);
                }
            }
            Action::CheckPublicKey { path } => {
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_| {
                    drkit::ops::check_public_key(&path)
                        .map(JobResult::PublicKeyChecked)
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::VerifyKit {
                kit,
                key,
                passphrase,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_| {
                    drkit::kit::RecoveryKit::open(&kit)
                        .and_then(|opened| {
                            drkit::ops::verify(&ws, opened, &key, passphrase.as_ref())
                        })
                        .map(JobResult::KitVerified)
                        .or_else(|e| kit_refusal(&e))
                });
            }
            Action::CheckKitKey { key, passphrase } => {
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_| {
                    match drkit::keys::load_private_key(&key, passphrase.as_ref()) {
                        Ok(_) => Ok(JobResult::KitKeyOpened),
                        Err(e @ drkit::DrKitError::WrongPassphrase) => kit_refusal(&e),
                        // Anything else is the key file's.
                        Err(e) => Ok(JobResult::KitInputRefused {
                            field: super::screens::kit_use::KitField::Key,
                            report: Report::for_console(&e),
                        }),
                    }
                });
            }
            Action::DeriveShares {
                kit,
                key,
                passphrase,
                wallets,
                out,
                options,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    drkit::derive::CheckedWallets::check(wallets)
                        .and_then(|checked| {
                            // The list is refused before the kit is opened.
                            checked.require_usable(options.skip_invalid)?;
                            drkit::ops::derive(
                                &ws,
                                drkit::kit::RecoveryKit::open(&kit)?,
                                &key,
                                passphrase.as_ref(),
                                &checked,
                                &out,
                                &options,
                                &mut |p| progress.report(p.done, p.total, "wallets"),
                            )
                        })
                        .map(|s| JobResult::SharesDerived(Box::new(s)))
                        .or_else(|e| kit_refusal(&e))
                });
            }
            Action::OpenShards
            | Action::InspectShard(_)
            | Action::OpenRewrap(_)
            | Action::StartRewrap(..)
            | Action::OpenRecovery
            | Action::StartRecovery(_)
            | Action::CheckRecoveryShard { .. }
            | Action::CheckRecoveryApprover { .. }
            | Action::RecordDisplayCleared { .. } => self.perform_shards(action),
            Action::OpenGuardianSplit => {
                let Some(custodians) = self.registry_or_notice().map(|r| r.custodians) else {
                    return;
                };
                self.screens
                    .push(Box::new(GuardianSplitWizard::new(custodians)));
            }
            Action::OpenGuardianReconstruct => {
                let known = custodian_core::guardians::splits(&self.ws)
                    .map(|s| s.splits)
                    .unwrap_or_default();
                self.screens
                    .push(Box::new(GuardianReconstructWizard::new(known)));
            }
            Action::OpenRotate(name) => {
                // Enter on the result goes back to the screen that opened
                // the flow, and the footer says which.
                let back_to = if self.top_as::<ScenarioScreen>().is_some() {
                    strings::BACK_TO_SCENARIO
                } else {
                    strings::BACK_TO_HOME
                };
                self.screens.push(Box::new(
                    super::screens::rotate::RotateScreen::planning(&name).returning_to(back_to),
                ));
                // The plan reads and hashes every share file: a worker's job.
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    custodian_core::lifecycle::rotate::plan(&ws, &name, None)
                        .map(|p| JobResult::RotationPlanned(Box::new(p)))
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::CheckRotatePassphrase { plan, passphrase } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    custodian_core::lifecycle::rotate::check_old(&ws, &plan, &passphrase)
                        .map(|opened| JobResult::RotatePassphraseChecked(opened.map(Arc::new)))
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::StartRotation(job) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |progress| {
                    use custodian_core::lifecycle::rotate;
                    let report = |done, total, label: &str| progress.report(done, total, label);
                    let job = *job;
                    let token = job
                        .token
                        .as_deref()
                        .map(custodian_core::token::parse_recipient)
                        .transpose()
                        .map_err(|e| Report::for_console(&e))?;
                    // Opened by the check already, unless a token guards it
                    // (then it is opened here, the token asked once).
                    match job.old_opened {
                        Some(old) => Ok(old),
                        None => rotate::open_old(&ws, &job.plan, &job.old_passphrase).map(Arc::new),
                    }
                    .and_then(|old| {
                        rotate::rotate(
                            &ws,
                            rotate::RotationRequest {
                                plan: &job.plan,
                                old: &old,
                                new_passphrase: &job.new_passphrase,
                                guardians: job.guardians,
                                threshold: job.threshold,
                                destroy_old_identity: false,
                                token,
                            },
                            &report,
                        )
                    })
                    .map(|o| JobResult::Rotated(Box::new(o)))
                    .map_err(|e| Report::for_console(&e))
                });
            }
            Action::OpenRollCall | Action::CheckRollCallShare { .. } => {
                self.perform_roll_call(action)
            }
            Action::OpenCeremony => {
                let open = self
                    .registry_or_notice()
                    .map(|r| {
                        custodian_core::lifecycle::onboard::open_ceremonies(&r)
                            .into_iter()
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                let screen = super::screens::ceremony::CeremonyScreen::new(open)
                    .with_workspace(self.ws.root());
                self.screens.push(Box::new(screen));
            }
            Action::Ceremony(job) => {
                let ceremony = self
                    .top_as::<super::screens::ceremony::CeremonyScreen>()
                    .and_then(|s| s.ceremony().cloned());
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_| {
                    super::screens::ceremony::run_job(&ws, ceremony.as_ref(), *job)
                });
            }
            Action::OpenBackup | Action::StartBackup(_) | Action::StartRestore(_) => {
                self.perform_backup(action)
            }
            Action::OpenRetire(_)
            | Action::PlanRetirement { .. }
            | Action::CheckRetireePassphrase { .. }
            | Action::StartRetirement(_) => self.perform_retire(action),
            Action::CheckSplitPassphrase {
                identity_path,
                identity_passphrase,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    custodian_core::guardians::check_split_passphrase(
                        &ws,
                        &identity_path,
                        &identity_passphrase,
                    )
                    .map(|()| JobResult::SplitPassphraseChecked)
                    .map_err(|e| Report::for_console(&e))
                });
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
                    custodian_core::guardians::split(
                        &ws,
                        custodian_core::guardians::SplitRequest {
                            identity_path: &identity_path,
                            identity_passphrase: &identity_passphrase,
                            threshold,
                            guardians,
                            out_dir: None,
                        },
                        &report,
                    )
                    .map(|o| JobResult::GuardianSplit(Box::new(o)))
                    .map_err(|e| Report::for_console(&e))
                });
            }
            Action::LoadGuardianShare { input } => {
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    let loaded = if custodian_core::guardians::printed::looks_printed(&input) {
                        custodian_core::guardians::LoadedShare::from_printed(&input)
                    } else {
                        custodian_core::guardians::LoadedShare::from_path(std::path::Path::new(
                            &input,
                        ))
                    };
                    loaded
                        .map(|s| JobResult::GuardianShareLoaded(Box::new(s)))
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::CheckGuardianShare { share, passphrase } => {
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    share
                        .open(&passphrase)
                        .map(|_opened| JobResult::GuardianShareOpened)
                        .map_err(|e| Report::for_console(&e))
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
                    custodian_core::guardians::combine(
                        &ws,
                        &set,
                        &passphrases,
                        &new_passphrase,
                        None,
                        &report,
                    )
                    .map(|c| JobResult::GuardianCombined(Box::new(c)))
                    .map_err(|e| Report::for_console(&e))
                });
            }
            Action::CreateIdentity {
                name,
                passphrase,
                token,
            } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    use custodian_core::identity::{self, IdentityError};
                    let token = token
                        .as_deref()
                        .map(custodian_core::token::parse_recipient)
                        .transpose()
                        .map_err(IdentityError::from);
                    token
                        .and_then(|t| {
                            identity::create_identity_with_token(&ws, &name, &passphrase, t, None)
                        })
                        .map(JobResult::IdentityCreated)
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::OpenScenarios => {
                let rows = self.scenario_rows();
                self.screens.push(Box::new(ScenarioListScreen::new(rows)));
            }
            Action::OpenScenario(n) => self.open_scenario(n),
            Action::OpenThreats(n) => {
                // An unreadable registry: say so rather than check nothing.
                if self.registry_or_notice().is_none() {
                    return;
                }
                let threats = Playbook::builtin().threats.clone();
                self.screens
                    .push(Box::new(ThreatsScreen::new(threats, None, n)));
                self.start_threat_checks();
            }
            Action::RefreshThreats => {
                if self.registry_or_notice().is_none() {
                    return;
                }
                if let Some(s) = self.top_as::<ThreatsScreen>() {
                    s.set_results(None);
                }
                self.start_threat_checks();
            }
            Action::OpenChecklist => {
                if self.registry_or_notice().is_none() {
                    return;
                }
                let policy = Playbook::builtin().policy.clone();
                self.screens
                    .push(Box::new(ChecklistScreen::checking(policy)));
                self.start_checklist_check();
            }
            Action::TickChecklist {
                item,
                operator,
                ticked,
            } => {
                let result =
                    checklist::set_tick(&self.ws, Playbook::builtin(), &item, &operator, ticked);
                let ticked_ok = result.is_ok();
                if let Some(s) = self.top_as::<ChecklistScreen>() {
                    match result {
                        Ok(()) => s.set_checking(),
                        Err(e) => s.show_error(Report::for_console(&e)),
                    }
                }
                if ticked_ok {
                    self.start_checklist_check();
                }
            }
            Action::OpenAuditView => {
                self.screens.push(Box::new(AuditViewScreen::checking()));
                self.start_audit_log_read();
            }
            Action::OpenDrillCard => {
                match custodian_core::drill::card::read(&self.ws) {
                    Ok(text) => self.screens.push(Box::new(
                        super::screens::drill_card::DrillCardScreen::new(text),
                    )),
                    Err(e) => self.notice = Some(Report::for_console(&e).to_string()),
                }
            }
            Action::VerifyAudit => {
                if let Some(s) = self.top_as::<AuditViewScreen>() {
                    s.set_checking();
                }
                self.start_audit_log_read();
            }
            Action::StartIncident {
                scenario,
                operator,
                affected,
            } => {
                let result = incident::open(
                    &self.ws,
                    Playbook::builtin(),
                    scenario,
                    &operator,
                    affected.as_deref(),
                );
                self.apply_incident(result);
            }
            Action::CompleteStep {
                incident,
                step,
                operator,
                how,
                notes,
            } => {
                let result = incident::confirm_step(
                    &self.ws,
                    Playbook::builtin(),
                    &incident,
                    &incident::StepConfirmation {
                        step: &step,
                        operator: &operator,
                        how,
                        files: &[],
                        notes: notes.as_deref(),
                    },
                );
                self.apply_incident(result);
            }
            Action::ReopenStep {
                incident,
                step,
                operator,
                reason,
            } => {
                let result = incident::reopen_step(
                    &self.ws,
                    Playbook::builtin(),
                    &incident,
                    &step,
                    &operator,
                    &reason,
                );
                self.apply_incident(result);
            }
            Action::CloseIncident {
                incident,
                operator,
                approvals,
            } => {
                let result = incident::close_approved(
                    &self.ws,
                    Playbook::builtin(),
                    &incident,
                    &operator,
                    &approvals,
                );
                self.apply_incident(result);
            }
            Action::LaunchOperation { op, prefill } => self.launch(op, prefill),
        }
    }

    /// The default recovery key paths, as text for the kit screens.
    fn kit_key_paths(&self) -> (String, String) {
        drkit::ops::default_key_paths(&self.ws)
            .map(|(a, b)| (a.display().to_string(), b.display().to_string()))
            .unwrap_or_default()
    }

    /// Effects of the shard, rewrap and recovery screens.
    fn perform_shards(&mut self, action: Action) {
        use super::screens::recovery::RecoveryWizard;
        use super::screens::shard_list::ShardsScreen;
        use super::screens::shard_rewrap::RewrapWizard;
        match action {
            Action::OpenShards => {
                let entries = self.shard_entries();
                self.screens.push(Box::new(ShardsScreen::new(entries)));
            }
            Action::InspectShard(path) => {
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    custodian_core::shard::ShardFile::load(&path)
                        .map(|file| JobResult::ShardInspected {
                            path,
                            file: Box::new(file),
                        })
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::OpenRewrap(start) => {
                // Suggest the identity file of the registered custodian the
                // shard is wrapped to.
                let reg = self.ws.registry().ok();
                let suggestion = reg.as_ref().and_then(|r| {
                    r.identity_file_for(&start.file.recipient)
                        .map(|p| p.to_path_buf())
                });
                let mut wizard = RewrapWizard::new(*start, suggestion);
                if let Some(reg) = reg {
                    wizard = wizard.with_registry(reg);
                }
                self.screens.push(Box::new(wizard));
            }
            Action::StartRewrap(req, authenticated) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    use super::screens::shard_rewrap::RewrapFix;
                    use custodian_core::envelope::EnvelopeError;
                    use custodian_core::identity::IdentityError;
                    use custodian_core::shard::ShardError as E;
                    match custodian_core::shard::rewrap_shard_approved(&ws, &req, &authenticated) {
                        Ok(o) => Ok(JobResult::ShardRewrapped(o)),
                        Err(e) => {
                            let fix = match &e {
                                E::Identity(IdentityError::Envelope(
                                    EnvelopeError::WrongPassphraseOrAltered,
                                )) => Some(RewrapFix::Passphrase),
                                E::Identity(_)
                                | E::WrongIdentity { .. }
                                | E::NotEncryptedToIdentity { .. } => Some(RewrapFix::Identity),
                                E::MultipleRecipients { .. } if !req.accept_multiple_recipients => {
                                    Some(RewrapFix::MultipleRecipients)
                                }
                                _ => None,
                            };
                            let report = Report::for_console(&e);
                            match fix {
                                Some(fix) => Ok(JobResult::RewrapRefused { fix, report }),
                                None => Err(report),
                            }
                        }
                    }
                });
            }
            Action::OpenRecovery => self.screens.push(Box::new(
                RecoveryWizard::new()
                    .with_workspace(self.ws.root())
                    .with_authenticated_approvals(self.authenticated_approvals()),
            )),
            Action::StartRecovery(job) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    use super::screens::recovery::RecoveryFix;
                    let job = *job;
                    let output = job.output.clone();
                    let approvals = job.approvals;
                    let result =
                        custodian_core::recovery::plan(&job.sources, &job.approvers, job.output)
                            .and_then(|mut plan| {
                                // Typed names as planned, replaced by what
                                // the approvers proved in the wizard.
                                if approvals.len() == plan.approvals.len() {
                                    plan.approvals = approvals;
                                }
                                custodian_core::recovery::recover(&ws, &plan, &job.passphrases)
                            });
                    // A failure goes back to the step that fixes it.
                    Ok(match result {
                        Ok(o) => JobResult::Recovered(Box::new(o)),
                        Err(e) => JobResult::RecoveryRefused {
                            fix: RecoveryFix::of(&e, &output),
                            report: Report::for_console(&e),
                        },
                    })
                });
            }
            Action::CheckRecoveryApprover { name, passphrase } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    let checked = ws
                        .registry()
                        .map_err(custodian_core::approvals::ApprovalError::from)
                        .and_then(|reg| {
                            custodian_core::approvals::authenticate(&reg, &name, &passphrase)
                        });
                    Ok(match checked {
                        Ok(a) => JobResult::RecoveryApproverChecked(a),
                        Err(e) => JobResult::RecoveryApproverRefused(Report::for_console(&e)),
                    })
                });
            }
            Action::CheckRecoveryShard { source, passphrase } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    Ok(
                        match custodian_core::recovery::check_source(&ws, &source, &passphrase) {
                            Ok(()) => JobResult::RecoveryShardChecked,
                            Err((field, e)) => JobResult::RecoveryShardRefused {
                                field,
                                report: Report::for_console(&*e),
                            },
                        },
                    )
                });
            }
            Action::RecordDisplayCleared { key_id, op, ended } => {
                if let Err(e) = custodian_core::recovery::record_cleared(
                    &self.ws,
                    &key_id,
                    &op,
                    Some((ended.as_str(), ended.was_shown())),
                ) {
                    self.notice = Some(format!("audit log: {e}"));
                }
            }
            _ => {}
        }
    }

    /// The roll call's actions (see `screens::roll_call`).
    fn perform_roll_call(&mut self, action: Action) {
        use super::screens::roll_call::{F_PASS, F_SHARE, RollCallScreen};
        use custodian_core::guardians::{self, GuardianError, LoadedShare, roll_call};
        match action {
            Action::OpenRollCall => {
                let Some(reg) = self.registry_or_notice() else {
                    return;
                };
                let sets = reg
                    .custodians
                    .iter()
                    .flat_map(|c| reg.guardian_splits.current_for(&c.recipient).cloned())
                    .collect();
                self.screens.push(Box::new(
                    RollCallScreen::new(sets, custodian_core::clock::now())
                        .with_workspace(self.ws.root()),
                ));
            }
            Action::CheckRollCallShare { turn, passphrase } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    let refuse = |field: usize, e: &GuardianError| {
                        let field = match e {
                            GuardianError::WrongPassphrase { .. } => F_PASS,
                            _ => field,
                        };
                        Ok(JobResult::RollCallRefused {
                            field,
                            report: Report::for_console(e),
                        })
                    };
                    let loaded = if guardians::printed::looks_printed(&turn.source) {
                        LoadedShare::from_printed(&turn.source)
                    } else {
                        LoadedShare::from_path(std::path::Path::new(&turn.source))
                    };
                    let call = match loaded.and_then(|l| roll_call::prepare(&ws, vec![l])) {
                        Ok(c) => c,
                        Err(e) => return refuse(F_SHARE, &e),
                    };
                    let short = |s: &str| s.get(..8).unwrap_or(s).to_string();
                    let Some(given) = call.shares.first().map(|m| &m.share) else {
                        return refuse(F_SHARE, &GuardianError::NoShares);
                    };
                    let wrong = if call.split.set_id != turn.set_id {
                        Some(format!(
                            "this share belongs to {}'s set {}, not the set {} being called",
                            call.split.custodian,
                            short(&call.split.set_id),
                            short(&turn.set_id)
                        ))
                    } else if given.index != turn.index || given.guardian != turn.guardian {
                        Some(format!(
                            "this is {}'s share (#{}), not {}'s (#{}): each guardian opens their own",
                            given.guardian, given.index, turn.guardian, turn.index
                        ))
                    } else {
                        None
                    };
                    if let Some(message) = wrong {
                        return Ok(JobResult::RollCallRefused {
                            field: F_SHARE,
                            report: Report {
                                message,
                                causes: Vec::new(),
                                remedy: Some(strings::ROLL_CALL_WRONG_SHARE.into()),
                            },
                        });
                    }
                    match roll_call::run(&ws, &call, &[passphrase], &|_, _, _| {}) {
                        Ok(outcome) => {
                            let split = ws
                                .registry()
                                .ok()
                                .and_then(|r| {
                                    r.guardian_splits
                                        .splits
                                        .into_iter()
                                        .find(|s| s.set_id == outcome.set_id)
                                })
                                .unwrap_or(call.split);
                            Ok(JobResult::RollCallPassed {
                                outcome: Box::new(outcome),
                                split: Box::new(split),
                            })
                        }
                        Err(e) => refuse(F_SHARE, &e),
                    }
                });
            }
            _ => {}
        }
    }

    /// Backup and restore (see `screens::backup`).
    fn perform_backup(&mut self, action: Action) {
        use super::screens::backup::{self as screen, BackupScreen, RecipientChoice};
        match action {
            Action::OpenBackup => {
                let Some(reg) = self.registry_or_notice() else {
                    return;
                };
                let choices = reg
                    .custodians
                    .iter()
                    .map(|c| RecipientChoice {
                        name: c.name.clone(),
                        recipient: c.recipient.clone(),
                    })
                    .collect();
                self.screens.push(Box::new(
                    BackupScreen::new(choices).with_workspace(self.ws.root()),
                ));
            }
            Action::StartBackup(job) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(
                    &self.sender(),
                    move |_progress| match custodian_core::backup::backup(
                        &ws,
                        &job.recipients,
                        &job.out,
                    ) {
                        Ok(record) => {
                            let size = std::fs::metadata(&record.out).map(|m| m.len()).unwrap_or(0);
                            Ok(JobResult::BackupWritten(Box::new(screen::BackupDone {
                                record,
                                size,
                            })))
                        }
                        Err(e) => Ok(JobResult::BackupRefused {
                            field: screen::backup_field(&e),
                            report: Report::for_console(&e),
                        }),
                    },
                );
            }
            Action::StartRestore(job) => {
                let live = self.ws.root().to_path_buf();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    Ok(match screen::restore(&job, &live) {
                        Ok(done) => JobResult::RestoreVerified(Box::new(done)),
                        Err((field, report)) => JobResult::BackupRefused { field, report },
                    })
                });
            }
            _ => {}
        }
    }

    /// The retirement flow's actions (see `screens::retire`).
    fn perform_retire(&mut self, action: Action) {
        use custodian_core::lifecycle::retire;
        match action {
            Action::OpenRetire(name) => self.open_retire(&name, None),
            Action::PlanRetirement { name, successor } => {
                // The plan reads and hashes every share file: a worker's
                // job; the screen says "working…" until it reports.
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    retire::plan(&ws, &name, &successor, None)
                        .map(|p| JobResult::RetirementPlanned(Box::new(p)))
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::CheckRetireePassphrase { plan, passphrase } => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    retire::check_retiree(&ws, &plan, &passphrase)
                        .map(|opened| JobResult::RetireePassphraseChecked(opened.map(Arc::new)))
                        .map_err(|e| Report::for_console(&e))
                });
            }
            Action::StartRetirement(job) => {
                let ws = self.ws.clone();
                self.running_jobs += 1;
                worker::spawn(&self.sender(), move |_progress| {
                    let job = *job;
                    // The policy is read again here: approvals gathered
                    // under another policy do not slip through.
                    if !job.approvals.is_empty() {
                        let reg = ws.registry().map_err(|e| Report::for_console(&e))?;
                        custodian_core::approvals::check(
                            custodian_core::approvals::policy(&reg),
                            &job.approvals,
                        )
                        .map_err(|e| Report::for_console(&e))?;
                    }
                    // Approvers who opened their identity are recorded as
                    // such; the others as typed names.
                    let (typed, authenticated) = super::approvers::partition(&job.approvals);
                    // Opened by the check already, unless a token guards it.
                    match job.opened {
                        Some(opened) => Ok(opened),
                        None => retire::open_retiree(&ws, &job.plan, &job.passphrase).map(Arc::new),
                    }
                    .and_then(|opened| {
                        retire::retire_approved(
                            &ws,
                            &job.plan,
                            &opened,
                            job.accept_concentration,
                            &typed,
                            &authenticated,
                        )
                    })
                    .map(|o| JobResult::Retired(Box::new(o)))
                    .map_err(|e| Report::for_console(&e))
                });
            }
            _ => {}
        }
    }

    /// Opens the retirement flow for `name`, with `successor` highlighted
    /// when it is an active custodian. Enter on the result goes back to
    /// the screen that opened it (home or a scenario), and the footer says
    /// which.
    fn open_retire(&mut self, name: &str, successor: Option<&str>) {
        let Some(reg) = self.registry_or_notice() else {
            return;
        };
        let candidates = reg
            .custodians
            .iter()
            .filter(|c| c.name != name)
            .map(|c| c.name.clone())
            .collect();
        let policy = custodian_core::approvals::policy(&reg);
        let back_to = if self.top_as::<ScenarioScreen>().is_some() {
            strings::BACK_TO_SCENARIO
        } else {
            strings::BACK_TO_HOME
        };
        let mut screen = super::screens::retire::RetireScreen::new(name, candidates, policy)
            .returning_to(back_to);
        if let Some(s) = successor {
            screen = screen.with_successor(s);
        }
        self.screens.push(Box::new(screen));
    }

    /// True when the workspace policy asks approvers to open their own
    /// identity (an unreadable registry reads as typed names here; the
    /// recovery itself re-reads the policy and refuses what it does not allow).
    fn authenticated_approvals(&self) -> bool {
        self.ws.registry().is_ok_and(|r| {
            custodian_core::approvals::policy(&r)
                == custodian_core::approvals::ApprovalPolicy::Authenticated
        })
    }

    /// Starts the wizard for a scenario step's operation. Wiring a new
    /// wizard is one arm here; until then the step shows its command line
    /// and the operator records it.
    fn launch(&mut self, op: Operation, prefill: Prefill) {
        match op {
            Operation::NewIdentity => {
                let name = prefill.new_name.clone().unwrap_or_default();
                self.pending_step = Some((op, prefill));
                let taken = self.custodian_names();
                self.screens.push(Box::new(
                    NewIdentityWizard::with_name(&name).with_taken(taken),
                ));
            }
            Operation::Recover => {
                self.pending_step = Some((op, prefill));
                self.screens.push(Box::new(
                    super::screens::recovery::RecoveryWizard::new()
                        .with_workspace(self.ws.root())
                        .with_authenticated_approvals(self.authenticated_approvals()),
                ));
            }
            Operation::GuardianReconstruct => {
                self.pending_step = Some((op, prefill));
                self.perform(Action::OpenGuardianReconstruct);
            }
            // Both start from the shards screen: pick the shard, then `w`
            // (rewrap to a custodian) or `n` (restore to a node).
            Operation::Rewrap | Operation::RestoreToNode => {
                self.pending_step = Some((op, prefill));
                self.perform_shards(Action::OpenShards);
            }
            Operation::MoveAssetsChecklist => {
                if let Some(s) = self.top_as::<ScenarioScreen>() {
                    s.record_with_command(op, &prefill);
                }
            }
            Operation::KitVerify | Operation::KitRecover => {
                self.pending_step = Some((op, prefill));
                self.perform(Action::OpenKitKeys {
                    recover: op == Operation::KitRecover,
                });
            }
            // The onboarding ceremony (`O`); its written record completes
            // the step.
            Operation::Onboard => {
                self.pending_step = Some((op, prefill));
                self.perform(Action::OpenCeremony);
            }
            // Rotation or retirement of the custodian the incident names;
            // a retirement suggests the replacement's identity (step 2's
            // `<custodian>-new`) as successor when it exists.
            Operation::Rotate | Operation::Retire => match prefill.custodian.clone() {
                Some(name) if self.custodian_names().contains(&name) => {
                    let successor = prefill.new_name.clone();
                    self.pending_step = Some((op, prefill));
                    if op == Operation::Retire {
                        self.open_retire(&name, successor.as_deref());
                    } else {
                        self.perform(Action::OpenRotate(name));
                    }
                }
                // No custodian named: the command line, recorded by hand.
                None => {
                    if let Some(s) = self.top_as::<ScenarioScreen>() {
                        s.record_with_command(op, &prefill);
                    }
                }
                Some(n) => {
                    if let Some(s) = self.top_as::<ScenarioScreen>() {
                        s.show_error(Report {
                            message: format!("`{n}` is not an active custodian of this workspace"),
                            causes: Vec::new(),
                            remedy: Some(
                                if op == Operation::Retire {
                                    strings::RETIRE_NOT_ACTIVE_HINT
                                } else {
                                    strings::ROTATE_NOT_ACTIVE_HINT
                                }
                                .into(),
                            ),
                        });
                    }
                }
            },
        }
    }

    /// When an operation launched from a scenario step finishes, records
    /// the step as done with the files it produced.
    fn record_launched_step(&mut self, msg: &WorkerMsg) {
        let Some((op, _)) = &self.pending_step else {
            return;
        };
        // Only the launched operation's own result completes the step:
        // intermediate jobs (reading a shard or a guardian share) and
        // failures leave it open, so the wizard can be retried.
        let files = match (op, msg) {
            (Operation::NewIdentity, WorkerMsg::Finished(Ok(JobResult::IdentityCreated(c)))) => {
                vec![c.path.clone()]
            }
            (Operation::Recover, WorkerMsg::Finished(Ok(JobResult::Recovered(o)))) => {
                o.written.iter().map(|w| w.0.clone()).collect()
            }
            (
                Operation::GuardianReconstruct,
                WorkerMsg::Finished(Ok(JobResult::GuardianCombined(c))),
            ) => vec![c.path.clone()],
            (
                Operation::Rewrap | Operation::RestoreToNode,
                WorkerMsg::Finished(Ok(JobResult::ShardRewrapped(o))),
            ) => vec![o.path.clone()],
            // Verified only when every key reproduces its public key.
            (Operation::KitVerify, WorkerMsg::Finished(Ok(JobResult::KitKeysListed(keys))))
                if keys.iter().all(|k| k["verified"] == true) =>
            {
                Vec::new()
            }
            (Operation::KitRecover, WorkerMsg::Finished(Ok(JobResult::KitKeysRecovered(r)))) => {
                r.written.iter().map(|w| w.0.clone()).collect()
            }
            (Operation::Rotate, WorkerMsg::Finished(Ok(JobResult::Rotated(o)))) => {
                std::iter::once(o.identity_file.clone())
                    .chain(o.shards.iter().map(|s| s.2.clone()))
                    .collect()
            }
            (Operation::Retire, WorkerMsg::Finished(Ok(JobResult::Retired(o)))) => {
                o.shards.iter().map(|s| s.2.clone()).collect()
            }
            (Operation::Onboard, WorkerMsg::Finished(Ok(JobResult::Ceremony(done)))) => {
                match &**done {
                    super::screens::ceremony::CeremonyDone::Recorded { path, .. } => {
                        vec![path.clone()]
                    }
                    _ => return,
                }
            }
            _ => return,
        };
        let Some((_, prefill)) = self.pending_step.take() else {
            return;
        };
        if let Err(e) = incident::confirm_step(
            &self.ws,
            Playbook::builtin(),
            &prefill.incident,
            &incident::StepConfirmation {
                step: &prefill.step,
                operator: &prefill.operator,
                how: StepHow::Console,
                files: &files,
                notes: prefill.notes.as_deref(),
            },
        ) {
            self.notice = Some(Report::for_console(&e).to_string());
        }
    }

    /// The registered shard files that still exist, for the shards screen.
    fn shard_entries(&self) -> Vec<super::screens::shard_list::ShardEntry> {
        let records: Vec<custodian_core::shard::ShardRecord> =
            self.ws.registry().map(|r| r.shards).unwrap_or_default();
        records
            .into_iter()
            .filter(|r| r.file.exists())
            .map(|r| super::screens::shard_list::ShardEntry {
                path: r.file,
                key_id: r.key_id,
                index: r.index,
                holder: r.custodian,
            })
            .collect()
    }

    fn custodian_names(&self) -> Vec<String> {
        self.ws
            .registry()
            .map(|r| r.custodians.into_iter().map(|c| c.name).collect())
            .unwrap_or_default()
    }

    /// The top screen as a concrete screen type, if it is one (for tests
    /// that look at a screen's state).
    pub fn top_screen<T: 'static>(&mut self) -> Option<&mut T> {
        self.top_as::<T>()
    }

    /// The top screen as a concrete playbook screen type.
    fn top_as<T: 'static>(&mut self) -> Option<&mut T> {
        self.screens
            .last_mut()
            .and_then(|s| s.as_any())
            .and_then(|a| a.downcast_mut::<T>())
    }

    fn apply_incident(
        &mut self,
        result: Result<incident::Incident, custodian_core::playbook::PlaybookError>,
    ) {
        if let Some(s) = self.top_as::<ScenarioScreen>() {
            match result {
                Ok(inc) => s.set_incident(inc),
                Err(e) => s.show_error(Report::for_console(&e)),
            }
        }
    }

    /// After a screen above it closed, re-reads what a playbook screen shows.
    fn refresh_playbook_top(&mut self) {
        let shown = self
            .top_as::<ScenarioScreen>()
            .and_then(|s| s.incident().map(|i| i.id.clone()));
        if let Some(id) = shown {
            let loaded = incident::load(&self.ws, &id);
            if let (Ok(inc), Some(s)) = (loaded, self.top_as::<ScenarioScreen>()) {
                s.set_incident(inc);
            }
        }
        if self.top_as::<ScenarioListScreen>().is_some() {
            let rows = self.scenario_rows();
            if let Some(s) = self.top_as::<ScenarioListScreen>() {
                s.set_rows(rows);
            }
        }
    }

    fn open_scenario(&mut self, n: u8) {
        let book = Playbook::builtin();
        let Some(scenario) = book.scenario(n) else {
            return;
        };
        let resumed = match incident::open_for_scenario(&self.ws, n) {
            Ok(i) => i,
            Err(e) => {
                self.notice = Some(Report::for_console(&e).to_string());
                None
            }
        };
        let authenticated = self.authenticated_approvals();
        self.screens.push(Box::new(
            ScenarioScreen::new(
                scenario.clone(),
                book.move_assets_checklist.clone(),
                resumed,
            )
            .with_authenticated_approvals(authenticated),
        ));
    }

    fn scenario_rows(&self) -> Vec<ScenarioRow> {
        incident::scenario_overview(&self.ws)
    }

    /// The registry, or None with the reason in the footer: a screen that
    /// would show an empty workspace instead of an unreadable one must not
    /// open.
    fn registry_or_notice(&mut self) -> Option<custodian_core::workspace::Registry> {
        match self.ws.registry() {
            Ok(r) => Some(r),
            Err(e) => {
                self.notice = Some(Report::for_console(&e).to_string());
                None
            }
        }
    }

    /// Checks every checklist item against the workspace on a background
    /// thread (one item verifies the whole audit chain); the checklist
    /// screen says "checking…" until the answer comes.
    fn start_checklist_check(&mut self) {
        let request = self.next_request();
        self.checklist_request = request;
        let ws = self.ws.clone();
        worker::check(&self.sender(), request, move || {
            let book = Playbook::builtin();
            let Ok(reg) = ws.registry() else {
                return Checked::Stopped { request };
            };
            let mut states =
                checklist::status(&ws, book, &reg, custodian_core::clock::now()).into_iter();
            let mut lines = Vec::new();
            for g in &book.checklist {
                for item in &g.items {
                    let state = states
                        .next()
                        .map(|(_, s)| s)
                        .unwrap_or(checklist::ItemState::Open);
                    lines.push(ChecklistLine {
                        group: g.group.clone(),
                        item: item.clone(),
                        state,
                    });
                }
            }
            Checked::Checklist { request, lines }
        });
    }

    fn refresh_home(&mut self) {
        let view = self.home_view();
        if let Some(home) = self.screens.first_mut().and_then(|s| s.as_home()) {
            home.set_view(view);
        }
        self.start_audit_check();
    }

    /// Waits for worker messages and background checks until no job is
    /// running, no check is pending, or `timeout` passes, handling each
    /// (ticks are handled too). Returns false on timeout.
    pub fn pump_until_idle(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.running_jobs > 0 || self.checks_pending > 0 {
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
        if area.width < strings::MIN_WIDTH || area.height < strings::MIN_HEIGHT {
            self.render_too_small(frame);
            return;
        }
        // A notice (a print's outcome, a refusal) sits above the footer,
        // never in its place: the footer always names Esc and help.
        let notice = self.notice.as_ref().map(|n| {
            Paragraph::new(Line::from(Span::styled(
                n.clone(),
                Style::default().fg(Color::Yellow),
            )))
            .wrap(ratatui::widgets::Wrap { trim: false })
        });
        let notice_h = notice.as_ref().map_or(0, |p| {
            u16::try_from(p.line_count(area.width))
                .unwrap_or(u16::MAX)
                .min(NOTICE_ROWS)
        });
        let [header, body, notice_area, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(notice_h),
            Constraint::Length(1),
        ])
        .areas(area);

        let Some(screen) = self.screens.last() else {
            return;
        };
        if let Some(after) = self.locked {
            self.render_locked(frame, after);
            return;
        }
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

        // The banners wrap so the whole warning is always readable.
        let banners = Paragraph::new(self.banners(screen.as_ref()))
            .wrap(ratatui::widgets::Wrap { trim: false });
        let banner_h = u16::try_from(banners.line_count(body.width))
            .unwrap_or(0)
            .min(body.height / 3);
        let [banner_area, body_inner] =
            Layout::vertical([Constraint::Length(banner_h), Constraint::Min(1)]).areas(body);
        frame.render_widget(banners, banner_area);
        screen.render(frame, body_inner, &self.chrome);

        if let Some(n) = notice {
            frame.render_widget(ratatui::widgets::Clear, notice_area);
            frame.render_widget(n, notice_area);
        }
        let footer_line = if let Some(d) = &self.token_dialog {
            // The dialog takes every key: the footer names its keys only.
            widgets::footer_line(&d.footer_keys(), footer.width)
        } else if self.clock_question.is_some() {
            widgets::footer_line(&super::clock::ClockQuestion::footer_keys(), footer.width)
        } else {
            widgets::footer_line(
                &self.footer_keys(screen.as_ref(), footer.width),
                footer.width,
            )
        };
        frame.render_widget(Paragraph::new(footer_line), footer);

        if self.help {
            let mut lines = vec![Line::from(Span::styled(
                screen.title(),
                Style::default().add_modifier(Modifier::BOLD),
            ))];
            for (k, what) in screen.commands() {
                lines.push(Line::from(format!("  {k:<9} {what}")));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "Everywhere",
                Style::default().add_modifier(Modifier::BOLD),
            )));
            for (k, what) in strings::HELP_GLOBAL {
                lines.push(Line::from(format!("  {k:<9} {what}")));
            }
            // Taller than the terminal: it scrolls (j/k, PgUp/PgDn) with a
            // "more below" sign, and nothing runs off the screen.
            let wrapped = Paragraph::new(lines.clone())
                .wrap(ratatui::widgets::Wrap { trim: false })
                .line_count(area.width.min(80).saturating_sub(2));
            let popup = widgets::centered(
                area,
                80,
                u16::try_from(wrapped).unwrap_or(u16::MAX).saturating_add(2),
            );
            let block = ratatui::widgets::Block::default()
                .borders(ratatui::widgets::Borders::ALL)
                .border_style(Style::default().fg(Color::Cyan))
                .title(format!(" {} ", strings::HELP_TITLE));
            let inner = block.inner(popup);
            frame.render_widget(ratatui::widgets::Clear, popup);
            frame.render_widget(block, popup);
            self.help_max
                .set(widgets::scrolled(frame, inner, lines, self.help_scroll));
        }
        if self.confirm_quit {
            let why = self
                .quit_needs_confirming()
                .unwrap_or(strings::QUIT_HOLDS_INPUT);
            let lines = vec![
                Line::from(why),
                Line::from(""),
                Line::from(Span::styled(
                    strings::QUIT_ASK,
                    Style::default().add_modifier(Modifier::BOLD),
                )),
            ];
            let popup = widgets::centered(area, 60, 8);
            widgets::popup(frame, popup, strings::QUIT_TITLE, lines, Color::Yellow);
        }
        if let Some(q) = &self.clock_question {
            q.render(frame, area);
        }
        if let Some(d) = &self.token_dialog {
            d.render(frame, area);
        }
    }

    /// The footer's keys, most important last: the screen's own keys, then
    /// the sandbox exit, quit, Esc and help, which are dropped last.
    fn footer_keys(&self, screen: &dyn Screen, width: u16) -> Vec<widgets::FooterKey> {
        let typing = screen.takes_text();
        let mut keys: Vec<widgets::FooterKey> = screen
            .footer()
            .into_iter()
            .map(|(k, what)| widgets::FooterKey {
                key: k,
                what,
                keep: k.contains("Esc") || k == "X",
            })
            .collect();
        let is_home = self.screens.len() == 1;
        if is_home && self.origin.is_some() && !keys.iter().any(|k| k.key == "X") {
            keys.push(widgets::FooterKey {
                key: "X",
                what: "leave sandbox",
                keep: true,
            });
        }
        if !is_home && !keys.iter().any(|k| k.keep) {
            keys.push(widgets::FooterKey {
                key: "Esc",
                what: "back",
                keep: true,
            });
        }
        if !typing && !keys.iter().any(|k| k.key == "q") {
            // From a usual width (120 columns) quitting is never hidden
            // behind the "…": the screen's own keys go first. At the
            // minimum width those keys come first and q is in the help.
            keys.push(widgets::FooterKey {
                key: "q",
                what: "quit",
                keep: width >= strings::FOOTER_KEEPS_QUIT,
            });
        }
        keys.push(widgets::FooterKey {
            key: if typing { "F1" } else { "?" },
            what: "help",
            keep: true,
        });
        keys
    }

    /// The warnings above a screen that touches secrets: the air-gap banner
    /// while a network interface is up, and a broken audit chain.
    fn banners(&self, screen: &dyn Screen) -> Vec<Line<'static>> {
        if !screen.touches_secrets() {
            return Vec::new();
        }
        let warn = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        let mut lines = Vec::new();
        if let Some(net) = &self.chrome.network_up {
            lines.push(Line::from(Span::styled(
                format!(" {} {net} ", strings::NET_WARNING_SHORT),
                warn,
            )));
        }
        if let Some(problem) = &self.chrome.audit_broken {
            lines.push(Line::from(Span::styled(
                format!(" {} {problem} ", strings::AUDIT_BROKEN_WARNING),
                warn,
            )));
        }
        lines
    }

    /// The lock screen: nothing of what the screens held, one key to go on.
    fn render_locked(&self, frame: &mut Frame, after: Duration) {
        let [area, footer] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
        let keys = [
            widgets::FooterKey {
                key: "Enter",
                what: "continue",
                keep: true,
            },
            widgets::FooterKey {
                key: "Esc",
                what: "home",
                keep: true,
            },
            widgets::FooterKey {
                key: "Ctrl-C",
                what: "quit",
                keep: true,
            },
        ];
        frame.render_widget(
            Paragraph::new(widgets::footer_line(&keys, footer.width)),
            footer,
        );
        let lines = vec![
            Line::from(Span::styled(
                format!(" {} ", strings::APP_TITLE),
                Style::default().fg(Color::Black).bg(Color::Cyan),
            )),
            Line::from(""),
            Line::from(Span::styled(
                format!("Locked after {} idle.", idle_words(after)),
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            )),
            Line::from(""),
            Line::from(strings::LOCKED_CLEARED),
            Line::from(""),
            Line::from(Span::styled(
                strings::LOCKED_ENTER,
                Style::default().add_modifier(Modifier::BOLD),
            )),
        ];
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
    }

    /// Below the minimum size: one screen saying so, nothing cut.
    fn render_too_small(&self, frame: &mut Frame) {
        let area = frame.area();
        let lines = vec![
            Line::from(Span::styled(
                strings::TOO_SMALL_TITLE,
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            )),
            Line::from(""),
            Line::from(format!(
                "{} {}×{}.",
                strings::TOO_SMALL,
                area.width,
                area.height
            )),
            Line::from(""),
            Line::from(strings::TOO_SMALL_HINT),
        ];
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
    }

    /// Runs the interactive loop on the real terminal until quit.
    pub fn run_terminal(mut self) -> std::io::Result<()> {
        self.events.start_terminal_sources();
        // ratatui::try_init installs a panic hook that restores the terminal,
        // and reports (rather than panics on) a terminal it cannot set up.
        let mut terminal = ratatui::try_init()?;
        // Pastes arrive as one event (into the focused field), not as keys.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste);
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
            previous_hook(info);
        }));
        let mut trace = first_frame_trace();
        // When the next tick is due; None while nothing animates, so an
        // idle console blocks until the next event or the idle lock: no
        // timer fires (CLARIFICATIONS 14), the lock is the wait's timeout.
        let mut next_tick: Option<Instant> = None;
        let result = (|| {
            loop {
                terminal.draw(|f| self.render(f))?;
                if let Some(path) = trace.take() {
                    record_first_frame(&path);
                }
                if self.quit {
                    return Ok(());
                }
                if self.animating() {
                    next_tick.get_or_insert_with(|| Instant::now() + TICK);
                } else {
                    next_tick = None;
                }
                let lock_at = self.lock_due();
                let wake = match (next_tick, lock_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let event = match wake {
                    Some(at) => match self
                        .events
                        .rx
                        .recv_timeout(at.saturating_duration_since(Instant::now()))
                    {
                        Ok(ev) => Some(ev),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return Ok(()),
                    },
                    None => match self.events.rx.recv() {
                        Ok(ev) => Some(ev),
                        Err(_) => return Ok(()),
                    },
                };
                match event {
                    Some(ev) => self.handle(ev),
                    None => {
                        let now = Instant::now();
                        if !self.lock_if_idle(now)
                            && let Some(due) = next_tick.filter(|t| *t <= now)
                        {
                            next_tick = Some(due + TICK);
                            self.handle(Event::Tick);
                        }
                    }
                }
                // Drain whatever else is queued before redrawing.
                while let Ok(ev) = self.events.rx.try_recv() {
                    self.handle(ev);
                }
            }
        })();
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
        ratatui::restore();
        result
    }
}
