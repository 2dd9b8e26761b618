//! The test plugin (examples/age-plugin-custodiantest.rs) as the token
//! tests use it: where cargo built it, a `bin/` directory holding it for a
//! PATH, and software tokens made by its `--generate`. A console test
//! that needs the plugin on the PATH (the plugin launcher reads the
//! process's PATH, which a test cannot change in its own process) runs
//! itself again with it: [`run_child`].
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The PIN the tests give their tokens.
pub const PIN: &str = "246810";

/// The built test plugin: the newest of the forms cargo leaves it in
/// (`cargo build --example` names it plainly, `cargo test` adds a hash; it
/// has no test harness, so both are the same program).
pub fn plugin_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/TEST-HASH → target/<profile>/examples/…
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (name == "age-plugin-custodiantest" || name.starts_with("age_plugin_custodiantest-"))
                && !name.ends_with(".d")
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    newest.unwrap_or_else(|| {
        panic!(
            "the test plugin is not built in {}: run `cargo test --release --test suite --example age-plugin-custodiantest -- token::` (scripts/test.sh builds every target)",
            dir.display()
        )
    })
}

/// Makes `dir/bin` holding the plugin as `age-plugin-custodiantest`;
/// returns the directory.
pub fn plugin_bin(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(plugin_binary(), bin.join("age-plugin-custodiantest")).unwrap();
    bin
}

/// A PATH with `bin` first.
pub fn path_with(bin: &Path) -> OsString {
    let mut p = OsString::from(bin);
    p.push(":");
    p.push(std::env::var_os("PATH").unwrap_or_default());
    p
}

/// Makes the software token file `file` (with `pin`, if any) through the
/// plugin in `bin`; returns (recipient, plugin identity line).
pub fn make_token(bin: &Path, file: &Path, pin: Option<&str>) -> (String, String) {
    let mut c = Command::new(bin.join("age-plugin-custodiantest"));
    c.env("CUSTODIANTEST_TOKEN", file).arg("--generate");
    if let Some(pin) = pin {
        c.args(["--pin", pin]);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .unwrap()
        .to_string();
    let identity = text
        .lines()
        .find(|l| l.starts_with("AGE-PLUGIN-CUSTODIANTEST-1"))
        .unwrap()
        .to_string();
    assert!(recipient.starts_with("age1custodiantest1"));
    (recipient, identity)
}
