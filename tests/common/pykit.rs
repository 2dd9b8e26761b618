//! Complete vendor DR kits made by the independent Python builder
//! (tests/python/dr_kit_build.py), shared by the workspace-key recovery
//! tests and the transaction sweeps.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The owner's (mobile) recovery passphrase the kits are built with.
pub const MOBILE_PASS: &str = "owner recovery passphrase of the workspace";

/// Runs `openssl` with `args`; panics with its stderr on failure.
pub fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An RSA key pair made by openssl in `dir`: (`NAME.pem`, `NAME.pub`).
pub fn rsa_pair(dir: &Path, name: &str, bits: u32) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub"));
    openssl(&[
        "genrsa",
        "-out",
        private.to_str().unwrap(),
        &bits.to_string(),
    ]);
    openssl(&[
        "rsa",
        "-in",
        private.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    (private, public)
}

/// Builds a kit of `layout` ("keys" or "legacy") in `dir` encrypted to
/// `recovery_pub`, the owner's entries under [`MOBILE_PASS`] (or to
/// `mobile_pub`); returns the kit and the builder's expected keys (with
/// their private scalars: keep that file out of any "no secret on disk"
/// scan).
pub fn build(
    dir: &Path,
    layout: &str,
    recovery_pub: &Path,
    mobile_pub: Option<&Path>,
) -> (PathBuf, Vec<Value>) {
    let kit = dir.join(format!("kit-{layout}.zip"));
    let expected = dir.join(format!("expected-{layout}.json"));
    let pass = dir.join("mobile-pass-build");
    std::fs::write(&pass, format!("{MOBILE_PASS}\n")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/dr_kit_build.py");
    let mut c = Command::new("python3");
    c.arg(script)
        .arg(layout)
        .arg(recovery_pub)
        .arg(&pass)
        .arg(&kit)
        .arg(&expected);
    if let Some(m) = mobile_pub {
        c.arg(m);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Vec<Value> = serde_json::from_slice(&std::fs::read(&expected).unwrap()).unwrap();
    (kit, keys)
}
