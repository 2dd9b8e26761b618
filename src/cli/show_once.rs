//! The one-time display of private keys on the command line, shared by
//! `recover --show-once` and `kit recover --show-once`: refused unless
//! standard input and output are a terminal; the operator types a
//! confirmation first; the keys appear on the alternate screen in raw mode
//! (no echo), page by page, each for a limited time (any key moves on);
//! then the screen *and* the scrollback (`ESC[3J`) are cleared.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::Failure;
use custodian_core::error::Report;

/// Seconds one page of a one-time display stays on screen.
pub const SHOW_SECONDS: u64 = 60;

/// One page: a heading and the lines under it (private values in them).
pub struct Page {
    /// The heading (no secret).
    pub title: String,
    /// The lines, already cut to fit the screen.
    pub lines: Vec<Zeroizing<String>>,
}

/// Refuses a one-time display when stdin or stdout is not a terminal.
pub fn require_terminal(other_outputs: &str) -> Result<(), Failure> {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(Failure {
        report: Report {
            message: "--show-once needs an interactive terminal".into(),
            causes: Vec::new(),
            remedy: Some(format!("run it in a terminal, or use {other_outputs}")),
        },
        code: 1,
    })
}

/// The failure when the terminal broke during the display.
pub fn terminal_failed(e: &std::io::Error) -> Failure {
    Failure {
        report: Report {
            message: format!("the terminal failed during the one-time display: {e}"),
            causes: Vec::new(),
            remedy: Some("the key was not written anywhere; run the recovery again".into()),
        },
        code: 1,
    }
}

/// The terminal's width in columns (80 when unknown).
pub fn width() -> usize {
    crossterm::terminal::size()
        .map(|(w, _)| usize::from(w))
        .unwrap_or(80)
}

/// Asks the operator to type `expected` (shown in `prompt`), then shows
/// the pages once. Returns false, having shown nothing, when the typed
/// text differs.
pub fn show_pages(prompt: &str, expected: &str, pages: &[Page]) -> std::io::Result<bool> {
    use crossterm::{cursor, execute, terminal};
    eprint!("{prompt}: ");
    std::io::stderr().flush()?;
    let mut typed = String::new();
    std::io::stdin().read_line(&mut typed)?;
    if typed.trim() != expected {
        return Ok(false);
    }
    let mut out = std::io::stdout();
    terminal::enable_raw_mode()?;
    execute!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
    let result = (|| {
        let seconds = custodian_core::clock::show_seconds(SHOW_SECONDS);
        for (n, page) in pages.iter().enumerate() {
            let start = Instant::now();
            let last = n + 1 == pages.len();
            loop {
                let left = seconds.saturating_sub(start.elapsed().as_secs());
                if left == 0 {
                    break;
                }
                execute!(
                    out,
                    terminal::Clear(terminal::ClearType::All),
                    cursor::MoveTo(0, 0)
                )?;
                write!(out, "{}\r\n\r\n", page.title)?;
                for line in &page.lines {
                    write!(out, "{}\r\n", line.as_str())?;
                }
                let counter = if pages.len() > 1 {
                    format!("Key {} of {}. ", n + 1, pages.len())
                } else {
                    String::new()
                };
                let next = if last {
                    "clear now"
                } else {
                    "show the next key"
                };
                write!(
                    out,
                    "\r\n{counter}Clearing in {left:>2} s. Press any key to {next}.\r\n"
                )?;
                out.flush()?;
                if crossterm::event::poll(Duration::from_millis(250))?
                    && matches!(crossterm::event::read()?, crossterm::event::Event::Key(_))
                {
                    break;
                }
            }
        }
        Ok(())
    })();
    let _ = execute!(
        out,
        terminal::Clear(terminal::ClearType::All),
        terminal::Clear(terminal::ClearType::Purge),
        cursor::Show,
        terminal::LeaveAlternateScreen
    );
    let _ = terminal::disable_raw_mode();
    result.map(|()| true)
}
