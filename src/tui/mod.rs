//! The full-screen console (ratatui + crossterm).
//!
//! Shape (after the ratatui component templates and gitui):
//! - [`event`]: one channel carries keys, ticks and worker messages;
//! - [`worker`]: long jobs run on threads and report progress plus exactly
//!   one result;
//! - [`screens`]: each screen maps keys to actions without I/O and renders
//!   without side effects;
//! - [`app`]: the screen stack and the only place effects happen.
//!
//! The terminal is restored on quit and, through ratatui's panic hook, after
//! a panic.

pub mod app;
pub mod approvers;
pub mod clock;
pub mod complete;
pub mod event;
pub mod form;
pub mod list;
pub mod output;
pub mod print;
pub mod screens;
pub mod strings;
pub mod token;
pub mod widgets;
pub mod worker;

use custodian_core::error::Explain;
use custodian_core::workspace::Workspace;

/// The console could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TuiError {
    /// Standard input or output is not a terminal (a pipe, a file, a CI job).
    #[error("the console needs a terminal, and standard {0} is not one")]
    NotATerminal(&'static str),
    /// The terminal could not be set up, drawn on or restored.
    #[error("the console could not use the terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

impl Explain for TuiError {
    fn remedy_for(&self, _to: custodian_core::error::Audience) -> Option<String> {
        Some("run custodian in an interactive terminal, or use a subcommand (see --help)".into())
    }
}

/// Opens the console on `ws` and runs it until the user quits. Without a
/// terminal on both standard input and output it stops before touching the
/// terminal, with its own error rather than a panic.
/// `idle_lock` is the idle time after which the console locks (None: the
/// default, [`app::DEFAULT_IDLE_LOCK`]).
pub fn run(
    ws: &Workspace,
    notice: Option<String>,
    idle_lock: Option<std::time::Duration>,
) -> Result<(), TuiError> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(TuiError::NotATerminal("input"));
    }
    if !std::io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal("output"));
    }
    let mut app = app::App::new(ws.clone());
    // A plugin asking from a thread no console job started (a parallel
    // step inside an operation) still reaches this console's dialog.
    custodian_core::token::install_ui(std::sync::Arc::new(token::Bridge::new(
        app.events().tx.clone(),
    )));
    app.set_notice(notice);
    if let Some(after) = idle_lock {
        app.set_idle_lock(Some(after));
    }
    app.run_terminal()?;
    Ok(())
}
