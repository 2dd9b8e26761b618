//! `custodian --version --verbose`: which build is running.
//!
//! Threat 6 is a binary that is not the one the team reviewed. The version
//! number says little about that, so this prints the commit the binary was
//! built from (build.rs), the compiler that built it, and the SHA-256 of the
//! executable file actually running — read through `/proc/self/exe`, which
//! names the running image even if the path it was started from has since
//! been replaced. A custodian compares that hash with the team's reviewed
//! hash of the reproducible release build (README, "Know the binary you run").

use std::sync::OnceLock;

use serde_json::json;

use custodian_core::binary::{self, RunningBinary};

use super::{CmdResult, say, say_json};

/// The crate version, as plain `--version` prints it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the binary was built from, or "unknown".
pub const COMMIT: &str = env!("CUSTODIAN_GIT_COMMIT");
/// `rustc --version` of the compiler that built it.
pub const RUSTC: &str = env!("CUSTODIAN_RUSTC_VERSION");

/// This process's executable: its SHA-256 (through `/proc/self/exe`, the
/// running image), version and commit. Hashed once per process: the image
/// a process runs never changes. The error is the reason, for a check that
/// "could not tell".
pub fn running_binary() -> Result<RunningBinary, String> {
    static RUNNING: OnceLock<Result<RunningBinary, String>> = OnceLock::new();
    RUNNING
        .get_or_init(|| RunningBinary::current(VERSION, COMMIT).map_err(|e| e.to_string()))
        .clone()
}

/// Prints `custodian VERSION`, and with `verbose` the commit, compiler,
/// executable path and its SHA-256 (as one JSON object with `json`).
pub fn run(verbose: bool, json: bool) -> CmdResult {
    if !verbose {
        say(format!("custodian {VERSION}"));
        return Ok(());
    }
    let sha256 = match running_binary() {
        Ok(b) => b.sha256,
        // Hash again for the typed error and its remedy.
        Err(_) => binary::running_executable_sha256()?,
    };
    let path = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "unknown".to_string());
    if json {
        say_json(&json!({
            "version": VERSION,
            "commit": COMMIT,
            "rustc": RUSTC,
            "executable": path,
            "sha256": sha256,
        }));
    } else {
        say(format!("custodian {VERSION}"));
        say(format!("commit: {COMMIT}"));
        say(format!("rustc: {RUSTC}"));
        say(format!("executable: {path}"));
        say(format!("sha256: {sha256}"));
    }
    Ok(())
}
