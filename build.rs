//! Build script of the `custodian` binary: records which commit and which
//! compiler built it, for `custodian --version --verbose`.
//!
//! The commit comes from `git rev-parse HEAD` when the source is a git
//! checkout, else from the `commit:` line of the source bundle's BUILD-INFO
//! (scripts/release.sh), else it is "unknown". Nothing that changes from one
//! build to the next (a time, a path, a host name) is embedded, so two builds
//! of one commit stay byte-identical (scripts/check-reproducible.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=BUILD-INFO");
    let commit = git_commit(&root)
        .or_else(|| bundle_commit(&root))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=CUSTODIAN_GIT_COMMIT={commit}");
    println!(
        "cargo:rustc-env=CUSTODIAN_RUSTC_VERSION={}",
        rustc_version()
    );
}

/// Runs git in `root` and returns its trimmed output, if it succeeded.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// The commit checked out in `root`, when `root` itself is a git checkout (a
/// `.git` directory, or a `.git` file in a worktree) — not when it merely
/// sits inside some other repository, as an unpacked bundle might.
fn git_commit(root: &Path) -> Option<String> {
    if !root.join(".git").exists() {
        return None;
    }
    let commit = git(root, &["rev-parse", "HEAD"])?;
    if !is_commit_id(&commit) {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself, the branch it names, packed refs.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        if let Some(path) = git(root, &["rev-parse", "--git-path", &name]) {
            let path = root.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    Some(commit)
}

/// The `commit:` line of an unpacked source bundle's BUILD-INFO.
fn bundle_commit(root: &Path) -> Option<String> {
    let info = std::fs::read_to_string(root.join("BUILD-INFO")).ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("commit: "))
        .map(str::trim)
        .filter(|c| is_commit_id(c))
        .map(str::to_string)
}

fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `rustc --version` of the compiler cargo is using.
fn rustc_version() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}
