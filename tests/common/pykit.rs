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

/// Rewrites a kit zip entry by entry: `f` returns the new bytes or None to
/// leave the entry out.
pub fn rezip(src: &Path, dst: &Path, mut f: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    use std::io::{Read, Write};
    let mut a = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut z = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    for i in 0..a.len() {
        let mut e = a.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        if let Some(b) = f(&name, bytes) {
            z.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(&b).unwrap();
        }
    }
    z.finish().unwrap();
}

/// A drill kit in the sandbox, its recovery key, another RSA key and an
/// HSM import key pair (all openssl, RSA-2048).
pub struct Kit {
    pub kit: PathBuf,
    pub key: PathBuf,
    pub other: PathBuf,
    pub hsm: PathBuf,
    pub hsm_public: PathBuf,
    pub keys: Vec<custodian_core::drkit::kit::DrillKitKey>,
}

/// A workspace under the typed approval policy, with a drill kit.
pub fn drill_kit(sb: &super::Sandbox) -> Kit {
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    custodian_core::approvals::set_policy(
        &ws,
        custodian_core::approvals::ApprovalPolicy::Typed,
        Some("Dee Officer"),
    )
    .unwrap();
    let (key, public) = rsa_pair(sb.path(), "recovery", 2048);
    let (other, _) = rsa_pair(sb.path(), "other", 2048);
    let (hsm, hsm_public) = rsa_pair(sb.path(), "hsm", 2048);
    let kit = sb.file("drill-kit.zip");
    let made = custodian_core::drkit::ops::make_drill_kit_with(
        &ws,
        &public,
        &kit,
        &secrecy::SecretString::from(custodian_core::drkit::kit::DRILL_OWNER_PASSPHRASE),
    )
    .unwrap();
    Kit {
        kit,
        key,
        other,
        hsm,
        hsm_public,
        keys: made.keys,
    }
}
