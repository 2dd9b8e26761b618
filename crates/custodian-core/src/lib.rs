//! # custodian-core
//!
//! Every operation of `custodian`, an offline toolkit for the people who hold
//! an institution's signing-key material: custodians, their Shamir guardians
//! and incident responders.
//!
//! This crate is the library; the `custodian` binary crate is a thin shell
//! over it, either as a command line (`cli/`) or as a full-screen console
//! (`tui/`). This crate never touches a terminal, and the compiler keeps it
//! that way: it does not depend on ratatui, crossterm or clap (CI checks
//! `cargo tree -p custodian-core -e normal`). Long operations take a progress
//! callback and return typed results, and every error enum implements
//! [`error::Explain`] so a shell can show what went wrong and what to do
//! about it.
//!
//! Rules every module keeps:
//! - secrets live in `secrecy`/`zeroize` types and never reach `Debug`,
//!   `Display`, logs, panics or the audit log;
//! - files are written through [`fsutil`]: atomic, 0600, never overwritten,
//!   read back and checked before success is reported;
//! - every operation that writes is a [`transaction::Transaction`], so a
//!   crash at any instant is finished or rolled back on the next start;
//! - every sensitive operation is bracketed by [`audit`] entries, the first
//!   written before any secret is touched.

#![forbid(unsafe_code)]

pub mod approvals;
pub mod audit;
pub mod backup;
pub mod binary;
pub mod clock;
pub mod drill;
pub mod drkit;
pub mod envelope;
pub mod error;
pub mod fileformat;
pub mod fsutil;
pub mod guardians;
pub mod hardening;
pub mod identity;
pub mod lifecycle;
pub mod netcheck;
pub mod outputs;
pub mod passphrase;
pub mod playbook;
pub mod print;
pub mod recovery;
pub mod rng;
pub mod shard;
pub mod text;
pub mod token;
pub mod transaction;
pub mod workspace;
