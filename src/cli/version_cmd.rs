//! `custodian --version --verbose`: which build is running.
//!
//! Threat 6 is a binary that is not the one the team reviewed. The version
//! number says little about that, so this prints the commit the binary was
//! built from (build.rs), the compiler that built it, and the SHA-256 of the
//! executable file actually running — read through `/proc/self/exe`, which
//! names the running image even if the path it was started from has since
//! been replaced. A custodian compares that hash with the team's reviewed
//! hash of the reproducible release build (README, "Know the binary you run").

use std::path::{Path, PathBuf};

use serde_json::json;

use custodian_core::fsutil;

use super::{CmdResult, say, say_json};

/// The crate version, as plain `--version` prints it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the binary was built from, or "unknown".
pub const COMMIT: &str = env!("CUSTODIAN_GIT_COMMIT");
/// `rustc --version` of the compiler that built it.
pub const RUSTC: &str = env!("CUSTODIAN_RUSTC_VERSION");

/// The file the running process was started from, as the kernel sees it.
fn running_executable() -> PathBuf {
    let proc_self = Path::new("/proc/self/exe");
    if proc_self.exists() {
        proc_self.to_path_buf()
    } else {
        std::env::current_exe().unwrap_or_else(|_| proc_self.to_path_buf())
    }
}

/// Prints `custodian VERSION`, and with `verbose` the commit, compiler,
/// executable path and its SHA-256 (as one JSON object with `json`).
pub fn run(verbose: bool, json: bool) -> CmdResult {
    if !verbose {
        say(format!("custodian {VERSION}"));
        return Ok(());
    }
    let sha256 = fsutil::file_fingerprint(&running_executable())?;
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
