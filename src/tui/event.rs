//! The one event stream the console reacts to: key presses, resizes, timer
//! ticks (for spinners) and messages from worker threads, all over a single
//! channel so the loop blocks on one `recv` and never polls.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use crossterm::event::{self as ct, KeyEvent, KeyEventKind};

use super::worker::WorkerMsg;

/// How often a tick arrives (drives spinners and countdowns).
pub const TICK: Duration = Duration::from_millis(150);

/// Something the app must react to.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal was resized.
    Resize,
    /// Time passed.
    Tick,
    /// A worker reported.
    Worker(WorkerMsg),
}

/// The channel pair every event flows through.
pub struct Events {
    /// Senders are handed to the input thread, the ticker and workers.
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

    /// Starts the terminal input reader and the ticker.
    pub fn start_terminal_sources(&self) {
        let tx = self.tx.clone();
        thread::spawn(move || {
            loop {
                let event = match ct::read() {
                    Ok(ct::Event::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                    Ok(ct::Event::Resize(..)) => Event::Resize,
                    Ok(_) => continue,
                    Err(_) => break,
                };
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        let tx = self.tx.clone();
        thread::spawn(move || {
            while tx.send(Event::Tick).is_ok() {
                thread::sleep(TICK);
            }
        });
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}
