//! Workspace key recovery from complete vendor kits built by an independent
//! Python implementation (tests/python/dr_kit_build.py: its own secp256k1
//! and ed25519 arithmetic, `openssl` for RSA-OAEP and AES-CBC): ECDSA and
//! EdDSA, CMP and not, two keysets, a per-key chain code, the old layout,
//! and the mobile RSA key form. `kit verify` with the mobile secret checks
//! every key; `kit recover` writes them to an age file that the `age` CLI
//! opens. Each bad input is its own error with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::pykit::{self, MOBILE_PASS};
use common::{APPROVERS, Sandbox, missing_tool};
use predicates::prelude::*;
use serde_json::Value;

struct Rsa {
    _dir: tempfile::TempDir,
    private: PathBuf,
    public: PathBuf,
    other: PathBuf,
    mobile: PathBuf,
    mobile_public: PathBuf,
    /// An HSM import key pair, and an RSA-1024 public key.
    hsm: PathBuf,
    hsm_public: PathBuf,
    small_public: PathBuf,
}

fn rsa() -> Option<&'static Rsa> {
    static KEYS: OnceLock<Rsa> = OnceLock::new();
    if missing_tool("openssl") || missing_tool("python3") || missing_tool("age") {
        return None;
    }
    Some(KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        for (n, bits) in [
            ("r", 2048),
            ("o", 2048),
            ("m", 2048),
            ("h", 2048),
            ("s", 1024),
        ] {
            pykit::rsa_pair(dir.path(), n, bits);
        }
        Rsa {
            private: p("r.pem"),
            public: p("r.pub"),
            other: p("o.pem"),
            mobile: p("m.pem"),
            mobile_public: p("m.pub"),
            hsm: p("h.pem"),
            hsm_public: p("h.pub"),
            small_public: p("s.pub"),
            _dir: dir,
        }
    }))
}

/// Builds a kit with the Python implementation; returns (kit, expected keys).
fn build(sb: &Sandbox, layout: &str, mobile_pub: Option<&Path>) -> (PathBuf, Vec<Value>) {
    pykit::build(sb.path(), layout, &rsa().unwrap().public, mobile_pub)
}

fn cmd(sb: &Sandbox, sub: &str, kit: &Path, key: &Path) -> assert_cmd::Command {
    let mut c = sb.cmd();
    c.args(["kit", sub]).arg(kit).arg("--key").arg(key);
    c
}

/// `kit recover` approved by the two registered approvers (their
/// passphrases come first from --passphrase-file).
fn recover(sb: &Sandbox, kit: &Path, key: &Path) -> assert_cmd::Command {
    let mut c = cmd(sb, "recover", kit, key);
    let passes: Vec<&str> = APPROVERS.iter().map(|a| a.1).collect();
    c.args(Sandbox::approver_args())
        .arg("--passphrase-file")
        .arg(sb.pass_file("approver-passes", &passes));
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

#[test]
fn every_key_of_a_complete_kit_is_recovered_as_the_independent_builder_made_it() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    sb.register_approvers();
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
    let id = sb.file("out-identity.txt");
    let recipient = common::age_keygen(&id);
    let out = sb.file("keys.age");
    let r = json_out(
        recover(&sb, &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb))
            .args(["--to", &recipient, "--out"])
            .arg(&out),
    );
    same_public(r["keys"].as_array().unwrap(), &want);
    let doc: Value = serde_json::from_slice(&common::age(
        &["-d", "-i", id.to_str().unwrap()],
        Some(&out),
    ))
    .unwrap();
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

/// Runs `kit recover` to an age file and to an HSM directory: each is
/// refused with `needle`, and nothing is written (no output, no temporary
/// file, the HSM directory still empty).
fn refused(sb: &Sandbox, kit: &Path, key: &Path, mobile: &Path, needle: &str) {
    let k = rsa().unwrap();
    let recipient = common::age_keygen(&sb.file("out-identity.txt"));
    let out = sb.file("never.age");
    let dir = sb.file("hsm-never");
    std::fs::create_dir_all(&dir).unwrap();
    // A new name for the HSM output: it must not be left created.
    let new_dir = sb.file("hsm-never-created");
    for output in ["age", "hsm", "hsm-new"] {
        let mut c = recover(sb, kit, key);
        c.arg("--mobile-passphrase-file").arg(mobile);
        if output == "age" {
            c.args(["--to", &recipient, "--out"]).arg(&out);
        } else {
            c.arg("--hsm-public-key")
                .arg(&k.hsm_public)
                .arg("--out")
                .arg(if output == "hsm" { &dir } else { &new_dir });
        }
        c.assert()
            .failure()
            .code(1)
            .stderr(predicate::str::contains(needle));
        assert!(!out.exists(), "{needle}: output written");
        assert!(!new_dir.exists(), "{needle}: HSM directory created");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{needle}: HSM output written"
        );
        for d in [sb.path(), dir.as_path()] {
            let leftovers = std::fs::read_dir(d)
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(".custodian-tmp-")
                })
                .count();
            assert_eq!(leftovers, 0);
        }
    }
    let _ = std::fs::remove_file(sb.file("out-identity.txt"));
}

/// Decrypts an RSA-OAEP-SHA256 block with openssl and the HSM's private key.
fn openssl_unwrap(hsm: &Path, block: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(["pkeyutl", "-decrypt", "-inkey"])
        .arg(hsm)
        .arg("-in")
        .arg(block)
        .args([
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_hsm_output_is_one_oaep_block_per_key_that_openssl_unwraps_plus_a_public_manifest() {
    hsm_output_checked(false);
}

/// `--hsm-public-key PEM --out F` with F a new name: custodian creates the
/// directory (0700) and writes the same files into it.
#[test]
fn the_hsm_output_to_a_new_name_creates_that_directory_with_the_same_files() {
    hsm_output_checked(true);
}

fn hsm_output_checked(new_dir: bool) {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    sb.register_approvers();
    let (kit, want) = build(&sb, "keys", None);
    let dir = sb.file("hsm-transfer");
    if !new_dir {
        std::fs::create_dir(&dir).unwrap();
    }
    let r = json_out(
        recover(&sb, &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb))
            .arg("--hsm-public-key")
            .arg(&k.hsm_public)
            .arg("--out")
            .arg(&dir),
    );
    // The public manifest is printed (one JSON document) and written.
    same_public(r["keys"].as_array().unwrap(), &want);
    let manifest_path = dir.join("workspace-keys-manifest.json");
    assert_eq!(r["manifest"], manifest_path.to_str().unwrap());
    let manifest: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["format"], "custodian-workspace-keys-hsm");
    assert!(
        manifest["plaintext"]
            .as_str()
            .unwrap()
            .contains("not an RFC 8032 seed")
    );
    same_public(manifest["keys"].as_array().unwrap(), &want);
    if new_dir {
        let mode = std::fs::metadata(&dir).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o700
        );
    }
    // One block per key, named by key id; openssl with the HSM's private
    // key unwraps each to exactly the key's 32-byte scalar.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), want.len() + 1, "{names:?}");
    for w in &want {
        let id = w["keyId"].as_str().unwrap();
        let block = dir.join(format!("{id}.oaep"));
        let meta = std::fs::metadata(&block).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        assert_eq!(meta.len(), 256);
        let scalar = openssl_unwrap(&k.hsm, &block);
        assert_eq!(
            hex::encode(&scalar),
            w["privateKey"].as_str().unwrap(),
            "{id}"
        );
        let listed = manifest["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["keyId"] == id)
            .unwrap();
        assert_eq!(listed["file"], format!("{id}.oaep"));
        assert_eq!(
            listed["fileSha256"].as_str().unwrap(),
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                std::fs::read(&block).unwrap()
            ))
        );
    }
    // No scalar in the manifest, on stdout or in the audit log.
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let printed = r.to_string();
    let manifest_text = std::fs::read_to_string(&manifest_path).unwrap();
    for w in &want {
        let secret = w["privateKey"].as_str().unwrap();
        for (what, text) in [
            ("audit", &audit),
            ("stdout", &printed),
            ("manifest", &manifest_text),
        ] {
            assert!(
                !text.contains(secret),
                "a private scalar reached the {what}"
            );
        }
    }
    // Run again into the same directory: refused before anything, naming
    // the files that exist.
    recover(&sb, &kit, &k.private)
        .arg("--mobile-passphrase-file")
        .arg(mobile_pass(&sb))
        .arg("--hsm-public-key")
        .arg(&k.hsm_public)
        .arg("--out")
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already holds").and(predicate::str::contains(".oaep")));
}

#[test]
fn unusable_outputs_are_refused_before_any_secret_and_nothing_is_written() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    sb.register_approvers();
    let (kit, _) = build(&sb, "keys", None);
    let dir = sb.file("hsm-out");
    std::fs::create_dir(&dir).unwrap();
    let a_file = sb.pass_file("not-a-dir", &["x"]);
    let before = sb.snapshot();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                "--hsm-public-key".into(),
                k.small_public.clone().into(),
                "--out".into(),
                dir.clone().into(),
            ],
            "1024 bits; at least 2048 are required",
        ),
        (
            vec![
                "--hsm-public-key".into(),
                k.hsm.clone().into(),
                "--out".into(),
                dir.clone().into(),
            ],
            "is a PEM private key, not a public value",
        ),
        (
            vec![
                "--hsm-public-key".into(),
                k.hsm_public.clone().into(),
                "--out".into(),
                sb.file("no-such-dir").join("hsm").into(),
            ],
            "cannot be created: the folder",
        ),
        (
            vec![
                "--hsm-public-key".into(),
                k.hsm_public.clone().into(),
                "--out".into(),
                a_file.clone().into(),
            ],
            "exists and is not a directory",
        ),
        // Not a terminal: the one-time display is refused.
        (
            vec!["--show-once".into()],
            "--show-once needs an interactive terminal",
        ),
    ];
    for (args, needle) in cases {
        recover(&sb, &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(mobile_pass(&sb))
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(needle));
        let after: Vec<_> = sb
            .snapshot()
            .into_iter()
            .filter(|(p, _)| !p.ends_with("approver-passes") && !p.ends_with("mobile-pass"))
            .collect();
        let was: Vec<_> = before
            .iter()
            .filter(|(p, _)| !p.ends_with("approver-passes") && !p.ends_with("mobile-pass"))
            .cloned()
            .collect();
        assert_eq!(after, was, "{needle}: something changed");
    }
    // Two outputs at once are a usage error.
    recover(&sb, &kit, &k.private)
        .arg("--mobile-passphrase-file")
        .arg(mobile_pass(&sb))
        .args(["--show-once", "--hsm-public-key"])
        .arg(&k.hsm_public)
        .assert()
        .code(2);
}

#[test]
fn bad_inputs_are_each_their_own_error_and_nothing_is_written() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    sb.register_approvers();
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
    pykit::rezip(&kit, &flipped, |name, mut b| {
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
    pykit::rezip(&kit, &missing, |name, b| {
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
    pykit::rezip(&kit, &mismatched, |name, b| {
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

/// `kit recover` with approvals given as (flag, name) and the passphrases
/// in the order asked, to an age file.
fn recover_approved_by(
    sb: &Sandbox,
    kit: &Path,
    approvers: &[(&str, &str)],
    passes: &[&str],
    out: &Path,
) -> assert_cmd::assert::Assert {
    let k = rsa().unwrap();
    let recipient = common::age_keygen(&sb.file("out-identity.txt"));
    let _ = std::fs::remove_file(sb.file("out-identity.txt"));
    let mut c = cmd(sb, "recover", kit, &k.private);
    for (flag, name) in approvers {
        c.args([*flag, *name]);
    }
    c.arg("--passphrase-file")
        .arg(sb.pass_file("approval-passes", passes))
        .arg("--mobile-passphrase-file")
        .arg(mobile_pass(sb))
        .args(["--to", &recipient, "--out"])
        .arg(out);
    c.assert()
}

#[test]
fn kit_recover_takes_only_authenticated_approvals_where_the_policy_says_so() {
    let Some(_) = rsa() else { return };
    let sb = Sandbox::new();
    sb.register_approvers();
    let (kit, want) = build(&sb, "keys", None);
    let (ana, ben) = (APPROVERS[0].0, APPROVERS[1].0);
    let (pa, pb) = (APPROVERS[0].1, APPROVERS[1].1);
    let out = sb.file("keys.age");
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, String);
    let cases: Vec<Case> = vec![
        (
            vec![("--approver", ana), ("--approver", ben)],
            vec![pb, pb],
            format!("approver `{ana}`: the passphrase does not open their identity"),
        ),
        (
            vec![("--approver", ana), ("--approver", "Zed Nobody")],
            vec![pa, pa],
            "approver `Zed Nobody` is not a registered custodian".into(),
        ),
        (
            vec![("--approver", ana), ("--approver", ana)],
            vec![pa, pa],
            format!("approver `{ana}` is named twice"),
        ),
        (
            vec![("--approver", ana), ("--typed-approver", "Legal Two")],
            vec![pa],
            "requires authenticated approvals: at least 2".into(),
        ),
    ];
    let keep = |v: Vec<(PathBuf, Vec<u8>)>| -> Vec<(PathBuf, Vec<u8>)> {
        v.into_iter()
            .filter(|(p, _)| {
                !p.ends_with("approval-passes")
                    && !p.ends_with("mobile-pass")
                    && !p.ends_with("out-identity.txt")
            })
            .collect()
    };
    for (approvers, passes, expect) in cases {
        let before = keep(sb.snapshot());
        recover_approved_by(&sb, &kit, &approvers, &passes, &out)
            .code(1)
            .stderr(predicate::str::contains(expect.as_str()));
        assert_eq!(keep(sb.snapshot()), before, "{expect}: something changed");
        assert!(!out.exists());
    }
    // Two who open their identity, and a typed name marked as typed.
    recover_approved_by(
        &sb,
        &kit,
        &[
            ("--approver", ana),
            ("--approver", ben),
            ("--typed-approver", "Legal Two"),
        ],
        &[pa, pb],
        &out,
    )
    .success()
    .stdout(predicate::str::contains(
        "approved by Legal Two (typed name)",
    ));
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let entry: Value = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"] == "DRKIT_RECOVER_WORKSPACE_KEYS" && e["status"] == "INITIATED")
        .unwrap();
    let reg: Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    let recipient_of = |name: &str| {
        reg["custodians"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["recipient"]
            .clone()
    };
    let approvals = &entry["details"]["approvals"];
    assert_eq!(entry["details"]["approvalPolicy"], "authenticated");
    assert_eq!(approvals[0]["name"], ana);
    assert_eq!(approvals[0]["recipient"], recipient_of(ana));
    assert_eq!(approvals[0]["identityOpened"], true);
    assert_eq!(approvals[1]["recipient"], recipient_of(ben));
    assert_eq!(approvals[2]["name"], "Legal Two");
    assert_eq!(approvals[2]["typed"], true);
    // Canary scan of the audit log: no passphrase, no secret key, no
    // recovered private scalar.
    let mut canaries: Vec<String> = vec![
        pa.into(),
        pb.into(),
        MOBILE_PASS.into(),
        "AGE-SECRET-KEY-".into(),
    ];
    canaries.extend(
        want.iter()
            .map(|w| w["privateKey"].as_str().unwrap().to_string()),
    );
    for canary in &canaries {
        assert!(
            !log.contains(canary.as_str()),
            "{canary} reached the audit log"
        );
    }
    // Under the typed policy, typed names count, but still two people.
    sb.cmd()
        .args([
            "policy",
            "set",
            "approvals",
            "typed",
            "--operator",
            "Dee Officer",
        ])
        .assert()
        .success();
    let out2 = sb.file("keys-typed.age");
    recover_approved_by(&sb, &kit, &[("--approver", "Legal Two")], &[], &out2)
        .code(1)
        .stderr(predicate::str::contains(
            "needs at least 2 approvers; 1 named",
        ));
    assert!(!out2.exists());
    recover_approved_by(
        &sb,
        &kit,
        &[
            ("--approver", "Legal Two"),
            ("--typed-approver", "Legal Three"),
        ],
        &[],
        &out2,
    )
    .success()
    .stdout(predicate::str::contains(
        "approved by Legal Two (typed name)",
    ));
}

/// `kit recover --show-once` in a real terminal (tmux, 80x24): after the
/// number of keys is typed, one key a page (a key press moves on, the
/// countdown — shortened by the test-only `CUSTODIAN_FAKE_SHOW_SECONDS` —
/// does too); afterwards neither the screen nor the scrollback holds any
/// part of a private scalar, and the clearing is audited.
#[test]
fn show_once_shows_each_key_once_then_clears_screen_and_scrollback() {
    let Some(k) = rsa() else { return };
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    sb.register_approvers();
    let (kit, want) = build(&sb, "keys", None);
    let passes: Vec<&str> = APPROVERS.iter().map(|a| a.1).collect();
    let pf = sb.pass_file("approver-passes", &passes);
    let cmd = format!(
        "env CUSTODIAN_FAKE_SHOW_SECONDS=3 {} --workspace {} kit recover {} --key {} --mobile-passphrase-file {} --approver '{}' --approver '{}' --passphrase-file {} --show-once",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display(),
        kit.display(),
        k.private.display(),
        mobile_pass(&sb).display(),
        APPROVERS[0].0,
        APPROVERS[1].0,
        pf.display(),
    );
    let t = common::tmux::Tmux::start_recording_status(sb.path(), &cmd, 80, 24);
    // Off, so each page really reaches the scrollback (asserted below) and
    // only the final purge (ESC[3J) can remove it.
    t.without_alternate_screen();
    t.wait_for("Type the number of keys (4)", 60);
    t.text("4");
    t.keys(&["Enter"]);
    let first = t.wait_for("Key 1 of 4", 10);
    assert!(first.contains("shown once"), "{first}");
    assert!(
        first.lines().all(|l| l.trim_end().chars().count() <= 80),
        "{first}"
    );
    // The first key's scalar is on screen, in groups of 8.
    let shown_key = want
        .iter()
        .find(|w| first.contains(w["keyId"].as_str().unwrap()))
        .expect("a key id on the first page");
    let scalar = shown_key["privateKey"].as_str().unwrap();
    assert!(first.contains(&scalar[..8]), "{first}");
    t.wait_for_scrollback(&scalar[..8], 10);
    t.keys(&["Space"]);
    t.wait_for("Key 2 of 4", 10);
    t.wait_for("the screen and its scrollback have been cleared", 30);
    assert_eq!(t.exit_status(10), "0");
    let history = t.history();
    for w in &want {
        let s = w["privateKey"].as_str().unwrap();
        for group in s.as_bytes().chunks(8) {
            let group = std::str::from_utf8(group).unwrap();
            assert!(
                !history.contains(group),
                "scalar group {group} still on screen or in scrollback:\n{history}"
            );
        }
    }
    drop(t);
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(log.contains("DRKIT_RECOVER_SCREEN_CLEARED"));
    // Nothing under the workspace (or the tmux socket dir) holds a scalar;
    // the builder's expected-keys file is the test's own.
    let ws_text: String = sb
        .snapshot()
        .into_iter()
        .filter(|(p, _)| p.starts_with(sb.ws()))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    for w in &want {
        assert!(!ws_text.contains(w["privateKey"].as_str().unwrap()));
    }
}

/// `drill make-kit` writes a complete vendor kit: the independent Python
/// recovery (tests/python/dr_kit_recover.py, following the vendor's
/// format with its own arithmetic) recovers every key of it, and
/// `kit recover` gives the same keys, key by key and xprv by xprv; the NCW
/// master key still opens.
#[test]
fn a_drill_kit_is_complete_and_an_independent_tool_recovers_every_key_as_we_do() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    sb.register_approvers();
    let kit = sb.file("drill-kit.zip");
    let made = json_out(
        sb.cmd()
            .args(["drill", "make-kit", "--public"])
            .arg(&k.public)
            .arg("--out")
            .arg(&kit),
    );
    let made_keys = made["keys"].as_array().unwrap();
    let algos: Vec<&str> = made_keys
        .iter()
        .map(|m| m["algo"].as_str().unwrap())
        .collect();
    assert_eq!(
        algos,
        [
            "MPC_ECDSA_SECP256K1",
            "MPC_EDDSA_ED25519",
            "MPC_CMP_ECDSA_SECP256K1"
        ]
    );
    assert_eq!(made_keys[2]["keysetId"], 2);
    // The independent tool, with the published drill passphrase.
    let drill_pass = sb.pass_file("drill-pass", &["drill kit owner passphrase"]);
    let theirs_path = sb.file("python-recovered.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/dr_kit_recover.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&kit)
        .arg(&k.private)
        .arg(&drill_pass)
        .arg(&theirs_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Value> = serde_json::from_slice(&std::fs::read(&theirs_path).unwrap()).unwrap();
    assert_eq!(theirs.len(), 3);
    // Ours, to an age file.
    let id = sb.file("out-identity.txt");
    let recipient = common::age_keygen(&id);
    let age_out = sb.file("drill-keys.age");
    let r = json_out(
        recover(&sb, &kit, &k.private)
            .arg("--mobile-passphrase-file")
            .arg(&drill_pass)
            .args(["--to", &recipient, "--out"])
            .arg(&age_out),
    );
    same_public(r["keys"].as_array().unwrap(), &theirs);
    let doc: Value = serde_json::from_slice(&common::age(
        &["-d", "-i", id.to_str().unwrap()],
        Some(&age_out),
    ))
    .unwrap();
    let ours = doc["keys"].as_array().unwrap();
    for t in &theirs {
        let o = ours.iter().find(|o| o["keyId"] == t["keyId"]).unwrap();
        assert_eq!(o["privateKey"], t["privateKey"], "{}", t["keyId"]);
        let ext = if t["algo"].as_str().unwrap().contains("EDDSA") {
            "fprv"
        } else {
            "xprv"
        };
        assert_eq!(o[ext], t["xprv"], "{ext} of {}", t["keyId"]);
    }
    // The NCW master key opens as before (`kit verify` without the mobile secret).
    cmd(&sb, "verify", &kit, &k.private)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "OK: the recovery key opens this kit",
        ));
    // A wrong owner passphrase is refused by the independent tool too.
    let wrong = sb.pass_file("wrong-drill-pass", &["not the drill passphrase"]);
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/dr_kit_recover.py"))
        .arg(&kit)
        .arg(&k.private)
        .arg(&wrong)
        .arg(sb.file("python-wrong.json"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Finding 1 of the DR kit issue: on a kit with workspace keys, `kit
/// verify` with the recovery key alone (no mobile secret) tells the right
/// RSA key from a wrong one.
#[test]
fn kit_verify_without_the_mobile_secret_tells_a_wrong_rsa_key_from_the_right_one() {
    let Some(k) = rsa() else { return };
    let sb = Sandbox::new();
    let (kit, _) = build(&sb, "keys", None);
    cmd(&sb, "verify", &kit, &k.private).assert().success();
    cmd(&sb, "verify", &kit, &k.other)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "it was encrypted to a different RSA key",
        ));
}
