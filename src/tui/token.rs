//! The console's hardware-token dialog (issue 14): how an age plugin's
//! requests — a PIN, "touch your token", a yes/no — reach the person at the
//! console while the identity is opened on a worker.
//!
//! The worker never draws. Its plugin callbacks go to a [`Bridge`] (the
//! core's [`TokenUi`] for that job's thread), which sends one
//! [`Event::Token`] to the UI thread and, for a question, waits on its own
//! channel for the answer, at most the prompt's time plus a little. The UI
//! thread shows a modal [`TokenDialog`]: a masked, zeroizing PIN field, the
//! plugin's message ("touch your token"), a countdown, and Esc to cancel.
//! An unanswered prompt becomes the core's specific error (cancelled, or
//! not answered in time), which the operation audits, changing nothing.
//!
//! Every console flow that opens an identity runs it on a worker started by
//! [`super::worker::spawn`], which gives the job this bridge: recovery,
//! rewrap, rotation, retirement, approvals and the new-identity wizard all
//! reach the token through this one path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use custodian_core::token::{TokenUi, Unanswered};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use secrecy::SecretString;

use super::event::Event;
use super::strings;
use super::widgets::{self, TextField};

/// [`DEFAULT_TIMEOUT`] in milliseconds.
const DEFAULT_TIMEOUT_MS: u64 = 60_000;

/// How long a token prompt waits for its answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(DEFAULT_TIMEOUT_MS);

/// The prompt time for this process's consoles, in milliseconds.
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT_MS);

/// Sets how long the token dialog waits for the user (tests shorten it).
/// The setting is the process's, not one console's: every bridge reads it
/// when it asks, including the workers' of another `App` in this process.
pub fn set_timeout(after: Duration) {
    TIMEOUT_MS.store(
        u64::try_from(after.as_millis()).unwrap_or(u64::MAX).max(1),
        Ordering::SeqCst,
    );
}

fn timeout() -> Duration {
    Duration::from_millis(TIMEOUT_MS.load(Ordering::SeqCst))
}

/// Whole seconds, rounded up (what the countdown and the error say).
fn whole_seconds(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).try_into().unwrap_or(u64::MAX)
}

/// The worker's end waits this much longer than the dialog's countdown, so
/// the dialog's own "timed out" normally arrives first.
const GRACE: Duration = Duration::from_secs(2);

/// What the plugin asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A secret (the PIN), typed masked.
    Secret,
    /// A public value, typed in the clear.
    Public,
    /// Yes or no, with the plugin's words for each.
    Confirm {
        /// The word for yes.
        yes: String,
        /// The word for no.
        no: String,
    },
    /// A message to show while the plugin works ("touch your token").
    Message,
}

/// The UI's answer to a question.
pub enum Answer {
    /// The secret typed (zeroized when dropped).
    Secret(SecretString),
    /// The public value typed.
    Public(String),
    /// Yes (true) or no.
    Confirmed(bool),
    /// No answer: cancelled, or the time ran out.
    Unanswered(Unanswered),
}

/// One request from a plugin, on its way to the UI thread.
pub struct TokenPrompt {
    /// What kind of answer it wants.
    pub ask: Ask,
    /// The plugin's words (never a secret: the plugin's prompt text).
    pub text: String,
    /// How long the user has.
    pub timeout: Duration,
    /// Where the answer goes (None for a message).
    reply: Option<Sender<Answer>>,
    /// The one encryption or decryption this prompt belongs to.
    call: u64,
    /// That call's give-up state, shared with its bridge.
    state: CallState,
}

/// One call's give-up state (see [`Bridge`]).
type CallState = Arc<Mutex<Call>>;

/// What happened to one encryption or decryption on the user's side.
#[derive(Debug, Default)]
struct Call {
    /// Set when the user gives up on a message (Esc while "touch your
    /// token" is shown, or its time runs out).
    gave_up: Option<Unanswered>,
    /// Set once the plugin has answered: giving up is too late then.
    over: bool,
}

/// Numbers the calls, so the dialog knows whose end it is told about.
static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

impl std::fmt::Debug for TokenPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPrompt")
            .field("ask", &self.ask)
            .field("text", &self.text)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A worker job's [`TokenUi`]: each request becomes an [`Event::Token`]
/// for the UI thread; questions wait for their answer.
///
/// What the user gives up on belongs to one call (one encryption or
/// decryption): the core asks [`TokenUi::for_one_call`] for a fresh bridge
/// at the start of each, so a touch cancelled in one call never fails the
/// next one of the same job, nor a later job on the process-wide bridge.
/// When the plugin has answered, the call's [`TokenUi::over`] closes its
/// dialog ([`Event::TokenOver`]).
pub struct Bridge {
    tx: Sender<Event>,
    call: u64,
    state: CallState,
}

impl Bridge {
    /// A bridge to the console that owns `tx`.
    pub fn new(tx: Sender<Event>) -> Self {
        Bridge {
            tx,
            call: NEXT_CALL.fetch_add(1, Ordering::Relaxed),
            state: CallState::default(),
        }
    }

    /// What the user gave up on in this call, if anything.
    fn gave_up(&self) -> Option<Unanswered> {
        self.state.lock().ok().and_then(|c| c.gave_up)
    }

    fn ask(&self, ask: Ask, text: &str) -> Result<Answer, Unanswered> {
        // The user gave up on this call already: nothing more is shown.
        if let Some(why) = self.gave_up() {
            return Err(why);
        }
        let limit = timeout();
        let (reply, answers) = mpsc::channel();
        self.tx
            .send(Event::Token(TokenPrompt {
                ask,
                text: text.to_string(),
                timeout: limit,
                reply: Some(reply),
                call: self.call,
                state: self.state.clone(),
            }))
            .map_err(|_| Unanswered::Cancelled)?;
        match answers.recv_timeout(limit + GRACE) {
            Ok(Answer::Unanswered(why)) => Err(why),
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => Err(Unanswered::TimedOut(whole_seconds(limit))),
            // The console went away (quit): nobody will answer.
            Err(RecvTimeoutError::Disconnected) => Err(Unanswered::Cancelled),
        }
    }
}

impl TokenUi for Bridge {
    fn message(&self, text: &str) {
        if self.gave_up().is_some() {
            return;
        }
        let _ = self.tx.send(Event::Token(TokenPrompt {
            ask: Ask::Message,
            text: text.to_string(),
            timeout: timeout(),
            reply: None,
            call: self.call,
            state: self.state.clone(),
        }));
    }

    fn request_secret(&self, prompt: &str) -> Result<SecretString, Unanswered> {
        match self.ask(Ask::Secret, prompt)? {
            Answer::Secret(s) => Ok(s),
            _ => Err(Unanswered::Cancelled),
        }
    }

    fn request_public(&self, prompt: &str) -> Result<String, Unanswered> {
        match self.ask(Ask::Public, prompt)? {
            Answer::Public(s) => Ok(s),
            _ => Err(Unanswered::Cancelled),
        }
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Result<bool, Unanswered> {
        let ask = Ask::Confirm {
            yes: yes.to_string(),
            no: no.unwrap_or("no").to_string(),
        };
        match self.ask(ask, message)? {
            Answer::Confirmed(b) => Ok(b),
            _ => Err(Unanswered::Cancelled),
        }
    }

    fn abandoned(&self) -> Option<Unanswered> {
        self.gave_up()
    }

    fn for_one_call(&self) -> Option<Arc<dyn TokenUi>> {
        Some(Arc::new(Bridge::new(self.tx.clone())))
    }

    fn over(&self) {
        if let Ok(mut c) = self.state.lock() {
            c.over = true;
        }
        let _ = self.tx.send(Event::TokenOver(self.call));
    }
}

/// The modal dialog on the UI thread.
pub struct TokenDialog {
    prompt: TokenPrompt,
    field: TextField,
    deadline: Instant,
    /// A message the user gave up on: shown until the job reports.
    given_up: Option<Unanswered>,
    /// Enter on an empty PIN field: said under it.
    empty: bool,
}

impl std::fmt::Debug for TokenDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenDialog")
            .field("prompt", &self.prompt)
            .finish()
    }
}

/// What a key did to the dialog.
#[derive(Debug, PartialEq, Eq)]
pub enum DialogKey {
    /// The dialog stays.
    Stay,
    /// The question was answered (or cancelled): the dialog closes.
    Closed,
}

impl TokenDialog {
    /// A dialog for `prompt`, its countdown starting now.
    pub fn new(prompt: TokenPrompt) -> Self {
        let field = match prompt.ask {
            Ask::Secret => TextField::masked(),
            _ => TextField::default(),
        };
        TokenDialog {
            deadline: Instant::now() + prompt.timeout,
            prompt,
            field,
            given_up: None,
            empty: false,
        }
    }

    /// True while it waits for something typed (not a message).
    pub fn asks(&self) -> bool {
        self.prompt.reply.is_some()
    }

    /// The call (one encryption or decryption) it belongs to.
    pub fn call(&self) -> u64 {
        self.prompt.call
    }

    fn answer(&mut self, answer: Answer) {
        if let Some(reply) = self.prompt.reply.take() {
            let _ = reply.send(answer);
        }
    }

    /// Closes the dialog unanswered (another prompt replaced it, or the
    /// console is quitting).
    pub fn cancel(&mut self) {
        self.answer(Answer::Unanswered(Unanswered::Cancelled));
        self.give_up(Unanswered::Cancelled);
    }

    /// Gives up on the call; false when it is over already (the plugin
    /// answered: there is nothing left to give up on).
    fn give_up(&mut self, why: Unanswered) -> bool {
        let Ok(mut call) = self.prompt.state.lock() else {
            return false;
        };
        if call.over {
            return false;
        }
        call.gave_up.get_or_insert(why);
        self.given_up = Some(why);
        true
    }

    /// A key press while the dialog is up: it takes every key.
    pub fn handle_key(&mut self, key: KeyEvent) -> DialogKey {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if key.code == KeyCode::Esc || (ctrl && key.code == KeyCode::Char('c')) {
            if self.asks() {
                self.answer(Answer::Unanswered(Unanswered::Cancelled));
                return DialogKey::Closed;
            }
            // A message: the first Esc gives up (the job's result will not
            // be used); a second one closes the dialog, so a plugin that
            // never answers does not hold the console. When the plugin has
            // answered already there is nothing to cancel: it just closes.
            if self.given_up.is_some() || !self.give_up(Unanswered::Cancelled) {
                return DialogKey::Closed;
            }
            return DialogKey::Stay;
        }
        match self.prompt.ask.clone() {
            Ask::Message => DialogKey::Stay,
            Ask::Confirm { .. } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    self.answer(Answer::Confirmed(true));
                    DialogKey::Closed
                }
                KeyCode::Char('n') | KeyCode::Char('N') => {
                    self.answer(Answer::Confirmed(false));
                    DialogKey::Closed
                }
                _ => DialogKey::Stay,
            },
            Ask::Secret | Ask::Public => {
                if key.code == KeyCode::Enter {
                    if self.field.text().is_empty() {
                        self.empty = true;
                        return DialogKey::Stay;
                    }
                    let answer = if self.prompt.ask == Ask::Secret {
                        Answer::Secret(SecretString::from(self.field.text()))
                    } else {
                        Answer::Public(self.field.text().to_string())
                    };
                    self.field.set("");
                    self.answer(answer);
                    return DialogKey::Closed;
                }
                if self.field.input(key) {
                    self.empty = false;
                }
                DialogKey::Stay
            }
        }
    }

    /// Pasted text goes into the field (masked for a PIN).
    pub fn paste(&mut self, text: &str) {
        if matches!(self.prompt.ask, Ask::Secret | Ask::Public) {
            self.field
                .push_chars(text.chars().filter(|c| *c != '\n' && *c != '\r'));
            self.empty = false;
        }
    }

    /// Time passed: at the deadline a question is answered "timed out"
    /// (and closes); a message is given up on. Returns true when it closed.
    pub fn tick(&mut self, now: Instant) -> bool {
        if now < self.deadline || self.given_up.is_some() {
            return false;
        }
        let why = Unanswered::TimedOut(whole_seconds(self.prompt.timeout));
        if self.asks() {
            self.answer(Answer::Unanswered(why));
            return true;
        }
        // Given up on (it stays, saying so); closed when already over.
        !self.give_up(why)
    }

    /// The footer's keys while the dialog is up.
    pub fn footer_keys(&self) -> Vec<widgets::FooterKey> {
        let key = |key, what| widgets::FooterKey {
            key,
            what,
            keep: true,
        };
        match (&self.prompt.ask, self.asks()) {
            (Ask::Confirm { .. }, true) => {
                vec![key("y/Enter", "yes"), key("n", "no"), key("Esc", "cancel")]
            }
            (_, true) => vec![key("Enter", "send"), key("Esc", "cancel")],
            (_, false) if self.given_up.is_some() => vec![key("Esc", "close")],
            (_, false) => vec![key("Esc", "cancel")],
        }
    }

    fn left(&self) -> u64 {
        whole_seconds(self.deadline.saturating_duration_since(Instant::now()))
    }

    /// Draws the dialog over `area` (the whole terminal).
    pub fn render(&self, frame: &mut Frame, area: Rect) {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut lines = Vec::new();
        match &self.prompt.ask {
            Ask::Message => {
                lines.push(Line::from(Span::styled(
                    self.prompt.text.clone(),
                    bold.fg(Color::Yellow),
                )));
                lines.push(Line::from(""));
                lines.push(Line::from(strings::TOKEN_TOUCH_HINT));
            }
            Ask::Confirm { yes, no } => {
                lines.push(Line::from(Span::styled(self.prompt.text.clone(), bold)));
                lines.push(Line::from(""));
                lines.push(Line::from(format!("y / Enter: {yes} · n: {no}")));
            }
            Ask::Secret | Ask::Public => {
                lines.push(Line::from(Span::styled(self.prompt.text.clone(), bold)));
                lines.push(Line::from(""));
                let label = if self.prompt.ask == Ask::Secret {
                    strings::TOKEN_PIN_LABEL
                } else {
                    strings::TOKEN_VALUE_LABEL
                };
                lines.push(self.field.line(label, true));
                if self.empty {
                    lines.push(Line::from(Span::styled(
                        strings::TOKEN_PIN_EMPTY,
                        Style::default().fg(Color::Red),
                    )));
                }
            }
        }
        lines.push(Line::from(""));
        match self.given_up {
            Some(Unanswered::Cancelled) => {
                lines.push(Line::from(Span::styled(
                    strings::TOKEN_GIVEN_UP,
                    Style::default().fg(Color::Red),
                )));
                lines.push(Line::from(strings::TOKEN_CLOSE_HINT));
            }
            Some(Unanswered::TimedOut(s)) => {
                lines.push(Line::from(Span::styled(
                    format!("{} ({s} s).", strings::TOKEN_TIMED_OUT),
                    Style::default().fg(Color::Red),
                )));
                lines.push(Line::from(strings::TOKEN_CLOSE_HINT));
            }
            None => lines.push(Line::from(vec![
                Span::styled(
                    format!("{} s left", self.left()),
                    Style::default().fg(Color::Cyan),
                ),
                Span::raw(if self.asks() {
                    strings::TOKEN_KEYS_ASK
                } else {
                    strings::TOKEN_KEYS_WAIT
                }),
            ])),
        }
        let width = area.width.saturating_sub(4).min(72);
        let inner = width.saturating_sub(2).max(1);
        let height = lines
            .iter()
            .map(|l| {
                u16::try_from(l.width())
                    .unwrap_or(u16::MAX)
                    .div_ceil(inner)
                    .max(1)
            })
            .sum::<u16>()
            .saturating_add(2);
        let popup = widgets::centered(area, width, height);
        widgets::popup(frame, popup, strings::TOKEN_TITLE, lines, Color::Yellow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(ask: Ask, reply: Option<Sender<Answer>>, after: Duration) -> TokenPrompt {
        TokenPrompt {
            ask,
            text: "Enter the PIN".into(),
            timeout: after,
            reply,
            call: 0,
            state: CallState::default(),
        }
    }

    #[test]
    fn a_pin_is_sent_once_enter_is_pressed_and_an_empty_one_is_refused() {
        let (tx, rx) = mpsc::channel();
        let mut d = TokenDialog::new(prompt(Ask::Secret, Some(tx), DEFAULT_TIMEOUT));
        assert_eq!(
            d.handle_key(KeyEvent::from(KeyCode::Enter)),
            DialogKey::Stay
        );
        assert!(d.empty);
        for c in "1234".chars() {
            d.handle_key(KeyEvent::from(KeyCode::Char(c)));
        }
        assert_eq!(
            d.handle_key(KeyEvent::from(KeyCode::Enter)),
            DialogKey::Closed
        );
        match rx.try_recv() {
            Ok(Answer::Secret(s)) => {
                assert_eq!(secrecy::ExposeSecret::expose_secret(&s), "1234")
            }
            _ => panic!("no PIN sent"),
        }
        assert_eq!(d.field.text(), "", "the field is cleared once sent");
    }

    #[test]
    fn esc_cancels_a_question_and_gives_up_on_a_message() {
        let (tx, rx) = mpsc::channel();
        let mut d = TokenDialog::new(prompt(Ask::Secret, Some(tx), DEFAULT_TIMEOUT));
        assert_eq!(
            d.handle_key(KeyEvent::from(KeyCode::Esc)),
            DialogKey::Closed
        );
        assert!(matches!(
            rx.try_recv(),
            Ok(Answer::Unanswered(Unanswered::Cancelled))
        ));
        let p = prompt(Ask::Message, None, DEFAULT_TIMEOUT);
        let state = p.state.clone();
        let mut d = TokenDialog::new(p);
        assert_eq!(d.handle_key(KeyEvent::from(KeyCode::Esc)), DialogKey::Stay);
        assert_eq!(state.lock().unwrap().gave_up, Some(Unanswered::Cancelled));
        // A second Esc closes it (a plugin that never answers does not
        // hold the console); the call stays given up.
        assert_eq!(
            d.handle_key(KeyEvent::from(KeyCode::Esc)),
            DialogKey::Closed
        );
        assert_eq!(state.lock().unwrap().gave_up, Some(Unanswered::Cancelled));
    }

    #[test]
    fn esc_on_a_message_whose_call_is_over_closes_it_without_giving_up() {
        let p = prompt(Ask::Message, None, DEFAULT_TIMEOUT);
        let state = p.state.clone();
        state.lock().unwrap().over = true;
        let mut d = TokenDialog::new(p);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(d.handle_key(ctrl_c), DialogKey::Closed);
        assert_eq!(state.lock().unwrap().gave_up, None);
        assert_eq!(d.given_up, None, "it never claims a cancel");
        // Its deadline passing after the answer closes it too.
        let mut d = TokenDialog::new(prompt(Ask::Message, None, Duration::from_secs(1)));
        d.prompt.state.lock().unwrap().over = true;
        assert!(d.tick(Instant::now() + Duration::from_secs(2)));
    }

    #[test]
    fn giving_up_belongs_to_one_call_and_over_closes_its_dialog() {
        let (tx, rx) = mpsc::channel();
        let bridge = Bridge::new(tx);
        let first = bridge.for_one_call().unwrap();
        first.message("Touch your token");
        let Ok(Event::Token(p)) = rx.try_recv() else {
            panic!("no message sent")
        };
        let mut d = TokenDialog::new(p);
        assert_eq!(d.handle_key(KeyEvent::from(KeyCode::Esc)), DialogKey::Stay);
        assert_eq!(first.abandoned(), Some(Unanswered::Cancelled));
        // The rest of a call given up on is not shown: it is cancelled.
        assert_eq!(
            first.request_secret("PIN").map(|_| ()),
            Err(Unanswered::Cancelled)
        );
        first.over();
        assert!(matches!(rx.try_recv(), Ok(Event::TokenOver(c)) if c == d.call()));
        assert!(rx.try_recv().is_err(), "nothing else was shown");
        // The next call, and the bridge itself, start afresh.
        for next in [
            bridge.for_one_call().unwrap(),
            bridge.for_one_call().unwrap(),
        ] {
            assert_eq!(next.abandoned(), None);
            next.message("Touch your token");
            let Ok(Event::Token(p)) = rx.try_recv() else {
                panic!("no message sent")
            };
            assert_ne!(p.call, d.call());
        }
        assert_eq!(bridge.abandoned(), None);
    }

    #[test]
    fn the_deadline_answers_timed_out() {
        let (tx, rx) = mpsc::channel();
        let mut d = TokenDialog::new(prompt(Ask::Secret, Some(tx), Duration::from_secs(3)));
        assert!(!d.tick(Instant::now()));
        assert!(d.tick(Instant::now() + Duration::from_secs(4)));
        assert!(matches!(
            rx.try_recv(),
            Ok(Answer::Unanswered(Unanswered::TimedOut(3)))
        ));
    }

    #[test]
    fn the_bridge_gives_up_when_nobody_answers() {
        let (tx, rx) = mpsc::channel();
        set_timeout(Duration::from_millis(10));
        let bridge = Bridge::new(tx);
        // The UI end never answers: the worker's own wait ends it.
        let got = std::thread::spawn(move || bridge.request_secret("PIN").map(|_| ()));
        let prompt = rx.recv().unwrap();
        assert!(matches!(prompt, Event::Token(_)));
        assert_eq!(got.join().unwrap(), Err(Unanswered::TimedOut(1)));
        set_timeout(DEFAULT_TIMEOUT);
    }
}
