//! # custodian (the binary crate)
//!
//! The two shells over [`custodian_core`]: the command line ([`cli`]: clap
//! commands, exit codes, `--json`) and the full-screen console ([`tui`]:
//! ratatui + crossterm, worker threads, one module per screen). Every
//! operation, file format and check lives in `custodian-core`, which cannot
//! reach a terminal; this crate only asks, shows and calls.
//!
//! It is a library as well as a binary so the console's tests can drive the
//! real app on a `TestBackend`.

#![forbid(unsafe_code)]

pub mod cli;
pub mod tui;
