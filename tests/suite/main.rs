//! Every integration test of the root package, as modules of one test
//! binary: the dependency tree is linked once instead of once per file.
//! Written by scripts/consolidate-tests.py (run it again after adding a
//! file under tests/; it moves the file here and rewrites this list).
//! A file's tests alone: `cargo test --release --test suite -- NAME::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;
#[path = "../shard_fixture/mod.rs"]
mod shard_fixture;

mod approvals;
mod audit;
mod backup_tmux;
mod backup_tui;
mod canary;
mod ceremony_tmux;
mod ceremony_tui;
mod clock;
mod clock_tui;
mod console;
mod core_dump;
mod deps;
mod drill_run;
mod drill_tmux;
mod drill_tui;
mod drkit;
mod drkit_keyforms;
mod drkit_tmux;
mod drkit_tui;
mod drkit_workspace_keys;
mod envelope;
mod full_disk;
mod guardians;
mod guardians_cli;
mod guardians_tui;
mod hygiene;
mod identity;
mod incident_cli;
mod kit_keys_tmux;
mod kit_keys_tui;
mod lifecycle;
mod lifecycle_tmux;
mod lifecycle_tui;
mod playbook_tmux;
mod playbook_tui;
mod print;
mod recovery;
mod recovery_tmux;
mod recovery_tui;
mod retire_tmux;
mod screens_tui;
mod shard;
mod shard_drill;
mod shard_set;
mod shard_tui;
mod storage_a;
mod supply;
mod tmux_e2e;
mod token;
mod token_tui;
mod transactions;
mod tui_identity;
mod webcrypto;
mod wizard_forms;
mod wizard_tmux;
mod wizard_tui;
