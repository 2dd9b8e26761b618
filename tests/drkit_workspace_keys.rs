//! Workspace key recovery from complete vendor kits built by an independent
//! Python implementation (tests/python/dr_kit_build.py: its own secp256k1
//! and ed25519 arithmetic, `openssl` for RSA-OAEP and AES-CBC): ECDSA and
//! EdDSA, CMP and not, two keysets, a per-key chain code, the old layout,
//! and the mobile RSA key form. `kit verify` with the mobile secret checks
//! every key; `kit recover` writes them to an age file that the `age` CLI
//! opens. Each bad input is its own error with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{Sandbox, missing_tool};
use predicates::prelude::*;
use serde_json::Value;

const MOBILE_PASS: &str = "owner recovery passphrase of the workspace";

struct Rsa {
    _dir: tempfile::TempDir,
    private: PathBuf,
    public: PathBuf,
    other: PathBuf,
    mobile: PathBuf,
    mobile_public: PathBuf,
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rsa() -> Option<&'static Rsa> {
    static KEYS: OnceLock<Rsa> = OnceLock::new();
    if missing_tool("openssl") || missing_tool("python3") || missing_tool("age") {
        return None;
    }
    Some(KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        for n in ["r", "o", "m"] {
            openssl(&[
                "genrsa",
                "-out",
                p(&format!("{n}.pem")).to_str().unwrap(),
                "2048",
            ]);
            openssl(&[
                "rsa",
                "-in",
                p(&format!("{n}.pem")).to_str().unwrap(),
                "-pubout",
                "-out",
                p(&format!("{n}.pub")).to_str().unwrap(),
            ]);
        }
        Rsa {
            private: p("r.pem"),
            public: p("r.pub"),
            other: p("o.pem"),
            mobile: p("m.pem"),
            mobile_public: p("m.pub"),
            _dir: dir,
        }
    }))
}

/// Builds a kit with the Python implementation; returns (kit, expected keys).
fn build(sb: &Sandbox, layout: &str, mobile_pub: Option<&Path>) -> (PathBuf, Vec<Value>) {
    let k = rsa().unwrap();
    let kit = sb.file(&format!("kit-{layout}.zip"));
    let expected = sb.file(&format!("expected-{layout}.json"));
    let pass = sb.pass_file("mobile-pass-build", &[MOBILE_PASS]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/dr_kit_build.py");
    let mut c = Command::new("python3");
    c.arg(script)
        .arg(layout)
        .arg(&k.public)
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

fn cmd(sb: &Sandbox, sub: &str, kit: &Path, key: &Path) -> assert_cmd::Command {
    let mut c = sb.cmd();
    c.args(["kit", sub]).arg(kit).arg("--key").arg(key);
    c
}

fn mobile_pass(sb: &Sandbox) -> PathBuf {
    sb.pass_file("mobile-pass", &[MOBILE_PASS])
}

fn json_out(c: &mut assert_cmd::Command) -> Value {
    let out = c
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// Compares the public facts reported with the independent ones.
fn same_public(got: &[Value], want: &[Value]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for w in want {
        let g = got
            .iter()
            .find(|g| g["keyId"] == w["keyId"])
            .unwrap_or_else(|| panic!("key {} not reported", w["keyId"]));
        for f in ["algo", "keysetId", "publicKey", "chainCode"] {
            assert_eq!(g[f], w[f], "{f} of {}", w["keyId"]);
        }
        let ext = if w["algo"].as_str().unwrap().contains("EDDSA") {
            "fpub"
        } else {
            "xpub"
        };
        assert_eq!(g[ext], w["xpub"], "{ext} of {}", w["keyId"]);
        assert_eq!(g["verified"], true);
    }
}

fn age_identity(sb: &Sandbox) -> (PathBuf, String) {
    let id = sb.file("out-identity.txt");
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&id)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&id).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    (id, recipient)
}

#[test]
fn every_key_of_a_complete_kit_is_recovered_as_the_independent_builder_made_it() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    let (kit, want) = build(&sb, "keys", None);
    assert_eq!(want.len(), 4);
    // kit verify with the mobile secret: every key, no output.
    let v = json_out(
        cmd(&sb, "verify", &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb)),
    );
    same_public(v["keys"].as_array().unwrap(), &want);
    // kit recover to an age file the age CLI opens.
    let (id, recipient) = age_identity(&sb);
    let out = sb.file("keys.age");
    let r = json_out(
        cmd(&sb, "recover", &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb))
            .args(["--to", &recipient, "--out"])
            .arg(&out),
    );
    same_public(r["keys"].as_array().unwrap(), &want);
    let plain = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&id)
        .arg(&out)
        .output()
        .unwrap();
    assert!(plain.status.success());
    let doc: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(doc["format"], "custodian-workspace-keys");
    assert!(
        doc["note"]
            .as_str()
            .unwrap()
            .contains("not an RFC 8032 seed")
    );
    let keys = doc["keys"].as_array().unwrap();
    same_public(keys, &want);
    for w in &want {
        let g = keys.iter().find(|g| g["keyId"] == w["keyId"]).unwrap();
        assert_eq!(g["privateKey"], w["privateKey"], "{}", w["keyId"]);
        let ext = if w["algo"].as_str().unwrap().contains("EDDSA") {
            "fprv"
        } else {
            "xprv"
        };
        assert_eq!(g[ext], w["xprv"], "{ext} of {}", w["keyId"]);
    }
    // The private keys are nowhere else: not on stdout, not in the audit log.
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    for w in &want {
        let secret = w["privateKey"].as_str().unwrap();
        assert!(!audit.contains(secret));
        assert!(!r.to_string().contains(secret));
    }
    // One keyset, one key id.
    let v = json_out(
        cmd(&sb, "verify", &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb))
            .args(["--keyset", "2"]),
    );
    let keyset2: Vec<Value> = want
        .iter()
        .filter(|w| w["keysetId"] == 2)
        .cloned()
        .collect();
    same_public(v["keys"].as_array().unwrap(), &keyset2);
    let one = want[2]["keyId"].as_str().unwrap();
    let v = json_out(
        cmd(&sb, "verify", &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb))
            .args(["--key-id", one]),
    );
    same_public(v["keys"].as_array().unwrap(), &want[2..3]);
}

#[test]
fn the_old_layout_and_the_mobile_rsa_key_form_are_recovered() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    let (kit, want) = build(&sb, "legacy", None);
    let v = json_out(
        cmd(&sb, "verify", &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb)),
    );
    same_public(v["keys"].as_array().unwrap(), &want);
    let sb2 = Sandbox::new();
    let (kit, want) = build(&sb2, "keys", Some(&k.mobile_public));
    let v = json_out(
        cmd(&sb2, "verify", &kit, &k.private)
            .arg("--mobile-key")
            .arg(&k.mobile),
    );
    same_public(v["keys"].as_array().unwrap(), &want);
}

/// Rewrites a kit zip entry by entry: `f` returns the new bytes or None to
/// leave the entry out.
fn rezip(src: &Path, dst: &Path, mut f: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
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

fn refused(sb: &Sandbox, kit: &Path, key: &Path, mobile: &Path, needle: &str) {
    let (_, recipient) = age_identity(sb);
    let out = sb.file("never.age");
    cmd(sb, "recover", kit, key)
        .arg("--mobile-passphrase-file")
        .arg(mobile)
        .args(["--to", &recipient, "--out"])
        .arg(&out)
        .assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(needle));
    assert!(!out.exists(), "{needle}: output written");
    let leftovers = std::fs::read_dir(sb.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".custodian-tmp-")
        })
        .count();
    assert_eq!(leftovers, 0);
    let _ = std::fs::remove_file(sb.file("out-identity.txt"));
}

#[test]
fn bad_inputs_are_each_their_own_error_and_nothing_is_written() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    let (kit, want) = build(&sb, "keys", None);
    let good_pass = mobile_pass(&sb);
    // Wrong mobile passphrase.
    let wrong = sb.pass_file("wrong-mobile", &["not the owner's passphrase at all"]);
    refused(
        &sb,
        &kit,
        &k.private,
        &wrong,
        "the owner's recovery passphrase does not open the owner's share entry",
    );
    // Wrong RSA key.
    refused(
        &sb,
        &kit,
        &k.other,
        &good_pass,
        "it was encrypted to a different RSA key",
    );
    // A cloud share entry with one byte flipped.
    let key0 = want[0]["keyId"].as_str().unwrap().to_string();
    let flipped = sb.file("flipped.zip");
    let mut done = false;
    rezip(&kit, &flipped, |name, mut b| {
        if !done && name.ends_with(&key0) && !name.starts_with("MOBILE") {
            b[100] ^= 1;
            done = true;
        }
        Some(b)
    });
    refused(&sb, &flipped, &k.private, &good_pass, "is damaged");
    // A missing mobile entry.
    let missing = sb.file("missing.zip");
    let mobile_entry = format!("MOBILE_{key0}");
    rezip(&kit, &missing, |name, b| {
        (name != mobile_entry).then_some(b)
    });
    refused(
        &sb,
        &missing,
        &k.private,
        &good_pass,
        &format!("key {key0}: the kit has no mobile (owner's) share entry MOBILE_{key0}"),
    );
    // A key whose shares do not reproduce its public key: the metadata
    // names another (valid) public key.
    let other_pub = want[1]["publicKey"].as_str().unwrap().to_string();
    let own_pub = want[0]["publicKey"].as_str().unwrap().to_string();
    let mismatched = sb.file("mismatched.zip");
    rezip(&kit, &mismatched, |name, b| {
        if name == "metadata.json" {
            let text = String::from_utf8(b).unwrap();
            Some(text.replacen(&own_pub, &other_pub, 1).into_bytes())
        } else {
            Some(b)
        }
    });
    refused(
        &sb,
        &mismatched,
        &k.private,
        &good_pass,
        &format!("this key does not reproduce its public key from its shares: {key0}"),
    );
    // kit verify reports the same, without writing anything.
    cmd(&sb, "verify", &mismatched, &k.private)
        .arg("--mobile-passphrase-file")
        .arg(&good_pass)
        .assert()
        .failure()
        .stderr(predicate::str::contains("does not reproduce"));
}
