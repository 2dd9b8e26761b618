//! The one event stream the console reacts to: key presses, resizes, timer
//! ticks (for spinners and countdowns), messages from worker threads and the
//! results of background checks, all over a single channel so the loop
//! blocks on one `recv` and never polls.
//!
//! There is no ticker thread: the loop makes a tick itself (a `recv` with a
//! timeout) only while something on screen animates, so an idle console
//! sleeps in `recv` and uses no CPU at all (see `App::run_terminal`).

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use crossterm::event::{self as ct, KeyEvent, KeyEventKind};

use super::worker::{Checked, WorkerMsg};

/// How often a tick arrives while something animates (spinners, countdowns).
pub const TICK: Duration = Duration::from_millis(150);

/// Something the app must react to.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// Text was pasted (bracketed paste): it goes into the focused field,
    /// never through the key handlers. Zeroized when dropped, as it may
    /// be a passphrase (CLARIFICATIONS 7: crossterm hands it over as a
    /// `String`, which is moved here without a copy).
    Paste(zeroize::Zeroizing<String>),
    /// The terminal was resized.
    Resize,
    /// Time passed.
    Tick,
    /// A worker reported.
    Worker(WorkerMsg),
    /// A background check finished (audit chain, threat scans).
    Checked(Checked),
    /// A hardware token's plugin asks something (a PIN, a touch) of the
    /// user, from the worker opening an identity (see [`super::token`]).
    Token(super::token::TokenPrompt),
    /// The plugin has answered one call (see [`super::token::Bridge`]):
    /// its dialog, if still up, closes.
    TokenOver(u64),
}

/// The channel pair every event flows through.
pub struct Events {
    /// Senders are handed to the input thread, workers and background checks.
    pub tx: Sender<Event>,
    /// The app's end.
    pub rx: Receiver<Event>,
}

impl Events {
    /// A new channel with nothing attached.
    pub fn new() -> Self {
        let (tx, rx) = mpsc::channel();
        Events { tx, rx }
    }

    /// Starts the terminal input reader (a thread blocked in `read`).
    pub fn start_terminal_sources(&self) {
        let tx = self.tx.clone();
        thread::spawn(move || {
            loop {
                let event = match ct::read() {
                    Ok(ct::Event::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                    Ok(ct::Event::Resize(..)) => Event::Resize,
                    Ok(ct::Event::Paste(text)) => Event::Paste(zeroize::Zeroizing::new(text)),
                    Ok(_) => continue,
                    Err(_) => break,
                };
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}
