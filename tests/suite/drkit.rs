//! The vendor DR kit against real peers: keys written by `openssl`, master
//! keys encrypted by `openssl pkeyutl`, kits zipped by hand, and an
//! independent Python derivation. Every bad input is a specific error that
//! leaves no output file behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use predicates::prelude::*;
use serde_json::{Value, json};

const VECTOR_WALLET: &str = "2d33e419-4c84-44b1-9d9a-3598f96642b0";
const VECTOR_SEED: &str = "3c590f865cdf272d9e0490f5918b1a5e4904b07e7c0beccf40ad33d82ba26102";
const VECTOR_M: &str = "0de5a6cf9a4b2f6ba69a7f8348b9fb54df48d5af176c2564d9349425a7efe31c";
const VECTOR_SHARE: &str = "f357ec43a3aba03aeccd4727db2ab43afb472b12fe690c2266dbf8e9294ad25d";
const COSIGNER: &str = "21926ecc-4a8a-4614-bbac-7c591aa7efdd";
const COSIGNER_PREFIX: &str = "3429798433";
const MASTER_ID: &str = "9b6a5b3e-6f1c-4a7e-8d52-1f0c2b3a4d5e";

/// Two RSA-4096 keys made by OpenSSL once per test binary (RSA keygen is
/// slow in debug builds): plain PKCS#8 and public PEM for each.
struct Keys {
    _dir: tempfile::TempDir,
    a_private: PathBuf,
    a_public: PathBuf,
    b_private: PathBuf,
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keys() -> Option<&'static Keys> {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    if missing_tool("openssl") {
        return None;
    }
    Some(KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        for name in ["a", "b"] {
            let private = p(&format!("{name}.pem"));
            openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:4096",
                "-out",
                private.to_str().unwrap(),
            ]);
            openssl(&[
                "pkey",
                "-in",
                private.to_str().unwrap(),
                "-pubout",
                "-out",
                p(&format!("{name}.pub.pem")).to_str().unwrap(),
            ]);
        }
        Keys {
            a_private: p("a.pem"),
            a_public: p("a.pub.pem"),
            b_private: p("b.pem"),
            _dir: dir,
        }
    }))
}

/// Encrypts `plain` to `public` with `openssl pkeyutl` RSA-OAEP (OpenSSL's
/// default OAEP digest and MGF1 digest are SHA-1).
fn openssl_oaep(sb: &Sandbox, public: &Path, plain: &[u8]) -> Vec<u8> {
    let input = sb.file("m.bin");
    let output = sb.file("m.enc");
    std::fs::write(&input, plain).unwrap();
    let _ = std::fs::remove_file(&output);
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        public.to_str().unwrap(),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-in",
        input.to_str().unwrap(),
        "-out",
        output.to_str().unwrap(),
    ]);
    std::fs::read(output).unwrap()
}

fn ncw_master(id: &str, seed: &str) -> (String, Value) {
    (
        id.to_string(),
        json!({
            "type": "NON_CUSTODIAL_WALLET_MASTER",
            "walletSeed": seed,
            "assetSeed": "11".repeat(32),
            "cosigners": [{"id": COSIGNER, "type": "cloud"}, {"id": "7a2b8ef1-d964-4c51-93e2-56f1f1bbce3c", "type": "mobile"}],
        }),
    )
}

/// The legacy metadata layout (top-level keyId/publicKey) with the given
/// master keys.
fn metadata(masters: &[(String, Value)]) -> Vec<u8> {
    let mut mk = serde_json::Map::new();
    for (id, v) in masters {
        mk.insert(id.clone(), v.clone());
    }
    serde_json::to_vec(&json!({
        "tenantId": "5d1c3a1e-0b1f-4f4e-9a5e-2c7d8e9f0a1b",
        "keyId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "publicKey": "02".to_string() + &"ab".repeat(32),
        "chainCode": "22".repeat(32),
        "masterKeys": mk,
    }))
    .unwrap()
}

fn zip_kit(path: &Path, entries: &[(&str, &[u8])]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

fn entry_name() -> String {
    format!("{COSIGNER_PREFIX}_{MASTER_ID}")
}

/// A kit holding the published vector's master key, encrypted by OpenSSL.
fn vector_kit(sb: &Sandbox, k: &Keys) -> PathBuf {
    let blob = openssl_oaep(sb, &k.a_public, &hex::decode(VECTOR_M).unwrap());
    let kit = sb.file("vector-kit.zip");
    zip_kit(
        &kit,
        &[
            (
                "metadata.json",
                &metadata(&[ncw_master(MASTER_ID, VECTOR_SEED)]),
            ),
            (&entry_name(), &blob),
        ],
    );
    kit
}

/// Asserts the command failed with `needle` on stderr and `out` (and no
/// temporary file beside it) exists.
fn fails_without_output(cmd: &mut assert_cmd::Command, needle: &str, out: &Path) {
    cmd.assert()
        .failure()
        .code(1)
        .stderr(predicate::str::contains(needle));
    assert!(!out.exists(), "{} must not exist", out.display());
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".custodian-tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn derive_cmd(sb: &Sandbox, kit: &Path, key: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = sb.cmd();
    c.args(["kit", "derive"])
        .arg(kit)
        .arg("--key")
        .arg(key)
        .arg("--out")
        .arg(out);
    c
}

#[test]
fn openssl_encrypted_vector_kit_derives_the_published_share() {
    let Some(k) = keys() else { return };
    let sb = Sandbox::new();
    let kit = vector_kit(&sb, k);
    let out = sb.file("shares.json");
    derive_cmd(&sb, &kit, &k.a_private, &out)
        .args(["--wallet", VECTOR_WALLET])
        .assert()
        .success()
        .stdout(predicate::str::contains("derived 1 share for 1 wallet"))
        .stdout(predicate::str::contains(VECTOR_SHARE).not());
    let written = std::fs::read(&out).unwrap();
    // Plaintext key shares: recorded among the workspace's plaintext
    // outputs (custody hygiene) with their size and hash, until destroyed.
    let listed = sb.cmd().args(["--json", "outputs"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["path"], out.to_str().unwrap());
    assert_eq!(listed[0]["kind"], "key-shares");
    assert_eq!(listed[0]["size"], written.len());
    assert_eq!(
        listed[0]["sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&written))
    );
    let v: Value = serde_json::from_slice(&written).unwrap();
    let w = &v[VECTOR_WALLET];
    assert_eq!(w["shares"][0]["cosigner"], COSIGNER);
    assert_eq!(w["shares"][0]["MPC_CMP_ECDSA_SECP256K1"], VECTOR_SHARE);
    // Only the cloud cosigner gets a share; the chain code is SHA-256(W ‖ assetSeed).
    assert_eq!(w["shares"].as_array().unwrap().len(), 1);
    let mut h = sha2::Sha256::default();
    sha2::Digest::update(&mut h, VECTOR_WALLET.as_bytes());
    sha2::Digest::update(&mut h, [0x11u8; 32]);
    assert_eq!(w["chaincode"], hex::encode(sha2::Digest::finalize(h)));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // verify reports the entry without printing the key.
    sb.cmd()
        .args(["kit", "verify"])
        .arg(&kit)
        .arg("--key")
        .arg(&k.a_private)
        .assert()
        .success()
        .stdout(predicate::str::contains(entry_name()))
        .stdout(predicate::str::contains("Legacy"))
        .stdout(predicate::str::contains(VECTOR_M).not());
    // The audit log records the derivation, not the share or the master key.
    let log_only: String = sb
        .snapshot()
        .into_iter()
        .filter(|(p, _)| p.starts_with(sb.ws()))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(log_only.contains("DRKIT_DERIVE") && log_only.contains("DRKIT_VERIFY"));
    assert!(!log_only.contains(VECTOR_SHARE) && !log_only.contains(VECTOR_M));
}

#[test]
fn private_keys_from_openssl_load_in_every_form() {
    let Some(k) = keys() else { return };
    let sb = Sandbox::new();
    let kit = vector_kit(&sb, k);
    let pass = sb.pass_file("pass", &[PASS_A]);
    let src = k.a_private.to_str().unwrap();
    let pkcs8_enc = sb.file("pkcs8-enc.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        src,
        "-passout",
        &format!("file:{}", pass.display()),
        "-out",
        pkcs8_enc.to_str().unwrap(),
    ]);
    let legacy = sb.file("legacy.pem");
    openssl(&[
        "rsa",
        "-aes256",
        "-traditional",
        "-in",
        src,
        "-passout",
        &format!("file:{}", pass.display()),
        "-out",
        legacy.to_str().unwrap(),
    ]);
    let pkcs1 = sb.file("pkcs1.pem");
    openssl(&[
        "rsa",
        "-traditional",
        "-in",
        src,
        "-out",
        pkcs1.to_str().unwrap(),
    ]);
    assert!(
        std::fs::read_to_string(&legacy)
            .unwrap()
            .contains("DEK-Info: AES-256-CBC,")
    );
    assert!(
        std::fs::read_to_string(&pkcs1)
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    for (key, encrypted) in [
        (&k.a_private, false),
        (&pkcs8_enc, true),
        (&legacy, true),
        (&pkcs1, false),
    ] {
        let mut c = sb.cmd();
        c.args(["kit", "verify"]).arg(&kit).arg("--key").arg(key);
        if encrypted {
            c.arg("--passphrase-file").arg(&pass);
        }
        c.assert().success().stdout(predicate::str::contains(
            "OK: the recovery key opens this kit",
        ));
    }
    // A wrong passphrase is named as such, for both encrypted forms.
    let wrong = sb.pass_file("wrong", &[PASS_B]);
    for key in [&pkcs8_enc, &legacy] {
        let out = sb.file("never.json");
        fails_without_output(
            derive_cmd(&sb, &kit, key, &out)
                .args(["--wallet", VECTOR_WALLET, "--passphrase-file"])
                .arg(&wrong),
            "the passphrase does not open the private key",
            &out,
        );
    }
}

#[test]
fn keygen_writes_a_key_openssl_opens_and_never_overwrites() {
    if missing_tool("openssl") {
        return;
    }
    let sb = Sandbox::new();
    let pass = sb.pass_file("pass", &[PASS_A]);
    let private = sb.file("rec.pem");
    let public = sb.file("rec.pub.pem");
    let run = || {
        let mut c = sb.cmd();
        c.args(["kit", "keygen", "--private"])
            .arg(&private)
            .arg("--public")
            .arg(&public)
            .arg("--passphrase-file")
            .arg(&pass);
        c
    };
    let out = run().assert().success().get_output().stdout.clone();
    let stdout = String::from_utf8(out).unwrap();
    let pem = std::fs::read_to_string(&private).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    // OpenSSL opens it and derives the same public key.
    let got = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-passin")
        .arg(format!("file:{}", pass.display()))
        .output()
        .unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let public_text = std::fs::read_to_string(&public).unwrap();
    assert_eq!(String::from_utf8(got.stdout).unwrap(), public_text);
    let text = Command::new("openssl")
        .args(["rsa", "-pubin", "-text", "-noout", "-in"])
        .arg(&public)
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Public-Key: (4096 bit)") && text.contains("Exponent: 65537"));
    // PBES2 with PBKDF2-HMAC-SHA256, 600,000 (0x0927C0) iterations, AES-256-CBC.
    let asn1 = Command::new("openssl")
        .args(["asn1parse", "-in"])
        .arg(&private)
        .output()
        .unwrap();
    let asn1 = String::from_utf8(asn1.stdout).unwrap();
    for needle in [
        "PBES2",
        "PBKDF2",
        "hmacWithSHA256",
        "aes-256-cbc",
        "INTEGER           :0927C0",
    ] {
        assert!(asn1.contains(needle), "{needle} missing from\n{asn1}");
    }
    // The phrase is base64(SHA-256(public PEM))[..8], checked with openssl.
    let digest = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl dgst -sha256 -binary {} | openssl base64",
            public.display()
        ))
        .output()
        .unwrap();
    let phrase = &String::from_utf8(digest.stdout).unwrap()[..8];
    assert!(
        stdout.contains(&format!("verification phrase: {phrase}")),
        "{stdout}"
    );
    sb.cmd()
        .args(["kit", "fingerprint"])
        .arg(&public)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "verification phrase: {phrase}"
        )));

    // Never overwrite: a second run fails and both files are unchanged.
    let before = sb.snapshot();
    run()
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));
    let after: Vec<_> = sb
        .snapshot()
        .into_iter()
        .filter(|(p, _)| !p.starts_with(sb.ws()))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(sb.ws()))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn python_derivation_agrees_on_1000_random_wallets_of_a_drill_kit() {
    let Some(k) = keys() else { return };
    if missing_tool("python3") {
        return;
    }
    let sb = Sandbox::new();
    let kit = sb.file("drill.zip");
    sb.cmd()
        .args(["kit", "make-drill-kit", "--public"])
        .arg(&k.a_public)
        .arg("--out")
        .arg(&kit)
        .assert()
        .success();
    // The master key, decrypted by OpenSSL (also checks our OAEP-SHA1 output).
    let z = zip::ZipArchive::new(std::fs::File::open(&kit).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().to_string()).collect();
    let entry = names
        .iter()
        .find(|n| *n != "metadata.json")
        .unwrap()
        .clone();
    let mut z = z;
    let mut blob = Vec::new();
    std::io::Read::read_to_end(&mut z.by_name(&entry).unwrap(), &mut blob).unwrap();
    std::fs::write(sb.file("entry.bin"), &blob).unwrap();
    let m = Command::new("openssl")
        .args([
            "pkeyutl",
            "-decrypt",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-inkey",
        ])
        .arg(&k.a_private)
        .arg("-in")
        .arg(sb.file("entry.bin"))
        .output()
        .unwrap();
    assert!(m.status.success());
    assert_eq!(m.stdout.len(), 32);
    std::fs::write(sb.file("m.hex"), hex::encode(&m.stdout)).unwrap();

    let mut ids = String::new();
    for _ in 0..1000 {
        let b: [u8; 16] = rand::random();
        let h = hex::encode(b);
        ids.push_str(&format!(
            "{}-{}-{}-{}-{}\n",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        ));
    }
    let wallets = sb.file("wallets.txt");
    std::fs::write(&wallets, &ids).unwrap();
    let out = sb.file("ours.jsonl");
    derive_cmd(&sb, &kit, &k.a_private, &out)
        .arg("--wallets")
        .arg(&wallets)
        .args(["--format", "jsonl"])
        .assert()
        .success();
    let py = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ncw_derive.py"))
        .arg(&kit)
        .arg(sb.file("m.hex"))
        .arg(&wallets)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let theirs: Vec<Value> = String::from_utf8(py.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ours.len(), 1000);
    assert_eq!(ours, theirs);
    // CSV carries the same shares.
    let csv_out = sb.file("ours.csv");
    derive_cmd(&sb, &kit, &k.a_private, &csv_out)
        .arg("--wallets")
        .arg(&wallets)
        .args(["--format", "csv"])
        .assert()
        .success();
    let csv = std::fs::read_to_string(&csv_out).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1000);
    for (row, theirs) in rows.iter().zip(&theirs) {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f[0], theirs["walletId"]);
        assert_eq!(f[2], theirs["chaincode"]);
        assert_eq!(f[3], theirs["shares"][0]["MPC_CMP_ECDSA_SECP256K1"]);
    }
}

#[test]
fn bad_kits_are_specific_errors_with_no_output() {
    let Some(k) = keys() else { return };
    let sb = Sandbox::new();
    let m = hex::decode(VECTOR_M).unwrap();
    let good = openssl_oaep(&sb, &k.a_public, &m);
    let meta = metadata(&[ncw_master(MASTER_ID, VECTOR_SEED)]);
    let out = sb.file("out.json");
    let entry = entry_name();

    // Wrong RSA key: the kit is for key A, we hold key B.
    let kit = vector_kit(&sb, k);
    fails_without_output(
        derive_cmd(&sb, &kit, &k.b_private, &out).args(["--wallet", VECTOR_WALLET]),
        "does not decrypt with this private key",
        &out,
    );

    // A zip without metadata.json.
    let no_meta = sb.file("no-meta.zip");
    zip_kit(&no_meta, &[(&entry, &good)]);
    fails_without_output(
        derive_cmd(&sb, &no_meta, &k.a_private, &out).args(["--wallet", VECTOR_WALLET]),
        "the kit has no metadata.json",
        &out,
    );

    // Not a zip at all.
    let not_zip = sb.file("not-a-zip.zip");
    std::fs::write(&not_zip, b"hello").unwrap();
    fails_without_output(
        derive_cmd(&sb, &not_zip, &k.a_private, &out).args(["--wallet", VECTOR_WALLET]),
        "is not a readable zip archive",
        &out,
    );

    // The master-key entry is missing.
    let missing = sb.file("missing-entry.zip");
    zip_kit(&missing, &[("metadata.json", &meta)]);
    fails_without_output(
        derive_cmd(&sb, &missing, &k.a_private, &out).args(["--wallet", VECTOR_WALLET]),
        &format!("the kit has no entry {entry}"),
        &out,
    );

    // The master key decrypts to 31 or 33 bytes.
    for len in [31usize, 33] {
        let odd = openssl_oaep(&sb, &k.a_public, &vec![7u8; len]);
        let kit = sb.file(&format!("len-{len}.zip"));
        zip_kit(&kit, &[("metadata.json", &meta), (&entry, &odd)]);
        fails_without_output(
            derive_cmd(&sb, &kit, &k.a_private, &out).args(["--wallet", VECTOR_WALLET]),
            &format!("decrypted to {len} bytes; a master key is exactly 32 bytes"),
            &out,
        );
    }

    // Two NCW master keys.
    let two = sb.file("two.zip");
    let meta2 = metadata(&[
        ncw_master(MASTER_ID, VECTOR_SEED),
        ncw_master("0f0e0d0c-0b0a-4908-8706-050403020100", VECTOR_SEED),
    ]);
    zip_kit(&two, &[("metadata.json", &meta2), (&entry, &good)]);
    fails_without_output(
        derive_cmd(&sb, &two, &k.a_private, &out).args(["--wallet", VECTOR_WALLET]),
        "lists 2 NCW master keys",
        &out,
    );
    sb.cmd()
        .args(["kit", "verify"])
        .arg(&two)
        .arg("--key")
        .arg(&k.a_private)
        .assert()
        .failure()
        .stderr(predicate::str::contains("expected exactly one"));
}

#[test]
fn bad_wallet_ids_fail_before_anything_is_written() {
    let Some(k) = keys() else { return };
    let sb = Sandbox::new();
    let kit = vector_kit(&sb, k);
    let out = sb.file("out.json");
    const OTHER: &str = "0d8f6b1e-3c2a-4f5e-9b7d-1a2b3c4d5e6f";
    // Line 3 is blank and line 4 has spaces and a tab around its id: both
    // fine, as in the vendor's tool. The ids themselves are never fixed.
    let list = format!(
        "{VECTOR_WALLET}\n{}\n\n {OTHER}\t\n{OTHER}\r\n{VECTOR_WALLET}\n2d33e4194c8444b19d9a3598f96642b0\n",
        VECTOR_WALLET.to_uppercase()
    );
    let wallets = sb.file("wallets.txt");
    std::fs::write(&wallets, &list).unwrap();
    fails_without_output(
        derive_cmd(&sb, &kit, &k.a_private, &out)
            .arg("--wallets")
            .arg(&wallets),
        "line 2: uppercase wallet id",
        &out,
    );
    let stderr = derive_cmd(&sb, &kit, &k.a_private, &out)
        .arg("--wallets")
        .arg(&wallets)
        .output()
        .unwrap()
        .stderr;
    let stderr = String::from_utf8(stderr).unwrap();
    assert!(
        stderr.contains("4 wallet list lines were refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 5: repeats the wallet id on line 4"),
        "a trimmed id is the same id; a CRLF line end is fine: {stderr}"
    );
    assert!(
        stderr.contains("line 6: repeats the wallet id on line 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "line 7: 32 hex digits without hyphens (a wallet id is written 8-4-4-4-12; not corrected)"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("line 3:") && !stderr.contains("line 4:"),
        "blank lines and surrounding blanks are fine: {stderr}"
    );

    // Single ids on the command line are checked the same way.
    for (bad, why) in [
        ("", "there are no wallet ids to derive"),
        (
            "2D33E419-4C84-44B1-9D9A-3598F96642B0",
            "line 1: uppercase wallet id",
        ),
        (
            "2d33e4194c8444b19d9a3598f96642b0",
            "line 1: 32 hex digits without hyphens",
        ),
    ] {
        fails_without_output(
            derive_cmd(&sb, &kit, &k.a_private, &out).args(["--wallet", bad]),
            why,
            &out,
        );
    }

    // A non-UTF-8 wallet file (here: UTF-16 with a BOM, as spreadsheets export).
    let utf16 = sb.file("wallets-utf16.txt");
    let mut bytes = vec![0xff, 0xfe];
    for u in VECTOR_WALLET.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(&utf16, bytes).unwrap();
    fails_without_output(
        derive_cmd(&sb, &kit, &k.a_private, &out)
            .arg("--wallets")
            .arg(&utf16),
        "the wallet list is not UTF-8 text (first bad byte on line 1)",
        &out,
    );

    // --skip-invalid derives the good lines and lists each skipped one.
    derive_cmd(&sb, &kit, &k.a_private, &out)
        .arg("--wallets")
        .arg(&wallets)
        .args(["--skip-invalid", "--format", "jsonl"])
        .assert()
        .success()
        .stderr(predicate::str::contains("skipped line 2: uppercase"))
        .stderr(predicate::str::contains("skipped line 7: 32 hex digits"))
        .stderr(predicate::str::contains(
            "skipped line 6: repeats the wallet id on line 1",
        ))
        .stdout(predicate::str::contains("for 2 wallets"))
        .stdout(predicate::str::contains(
            "skipped 1 blank line; trimmed spaces or tabs around 1 wallet id",
        ));
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "each id once, in list order");
    assert_eq!(lines[0]["walletId"], VECTOR_WALLET);
    assert_eq!(
        lines[0]["shares"][0]["MPC_CMP_ECDSA_SECP256K1"],
        VECTOR_SHARE
    );
    assert_eq!(lines[1]["walletId"], OTHER);
    // And the output is never overwritten.
    fails_without_output_kept(
        derive_cmd(&sb, &kit, &k.a_private, &out).args(["--wallet", VECTOR_WALLET]),
        &out,
    );
}

fn fails_without_output_kept(cmd: &mut assert_cmd::Command, out: &Path) {
    let before = std::fs::read(out).unwrap();
    cmd.assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read(out).unwrap(), before);
}

#[test]
fn library_derives_the_published_vector() {
    let seed: [u8; 32] = hex::decode(VECTOR_SEED).unwrap().try_into().unwrap();
    let m: [u8; 32] = hex::decode(VECTOR_M).unwrap().try_into().unwrap();
    let share = custodian_core::drkit::derive::derive_share(VECTOR_WALLET, &seed, &m);
    assert_eq!(hex::encode(share.as_slice()), VECTOR_SHARE);
}

/// A spreadsheet's CSV export (BOM, CRLF, a header row, a label column,
/// spaces around the id, a trailing blank line) and a kit zipped as a
/// folder: both read as a custodian is likely to hold them, and the
/// published share comes out with the label carried.
#[test]
fn a_csv_wallet_list_and_a_kit_zipped_as_a_folder_derive_the_published_share() {
    let Some(k) = keys() else { return };
    let sb = Sandbox::new();
    let blob = openssl_oaep(&sb, &k.a_public, &hex::decode(VECTOR_M).unwrap());
    let kit = sb.file("folder-kit.zip");
    zip_kit(
        &kit,
        &[
            (
                "dr-kit/metadata.json",
                &metadata(&[ncw_master(MASTER_ID, VECTOR_SEED)]),
            ),
            (&format!("dr-kit/{}", entry_name()), &blob),
        ],
    );
    let wallets = sb.file("wallets.csv");
    std::fs::write(
        &wallets,
        format!("\u{feff}Name,Wallet ID\r\nTreasury, {VECTOR_WALLET} \r\n\r\n"),
    )
    .unwrap();
    let out = sb.file("shares.csv");
    derive_cmd(&sb, &kit, &k.a_private, &out)
        .arg("--wallets")
        .arg(&wallets)
        .args(["--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "read as CSV: header row on line 1, wallet ids in column Wallet ID; labels carried: Name",
        ))
        .stdout(predicate::str::contains(
            "skipped 1 blank line; trimmed spaces or tabs around 1 wallet id",
        ));
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "walletId,cosignerId,chaincode,share,Name");
    assert!(rows[1].starts_with(&format!("{VECTOR_WALLET},{COSIGNER},")));
    assert!(rows[1].ends_with(&format!(",{VECTOR_SHARE},Treasury")));
}

#[test]
fn an_output_named_without_a_directory_is_written_in_the_current_one() {
    // `--out shares.json` (no directory part): the commit's directory sync
    // must use ".", not the empty path (which fails after the commit point).
    let Some(k) = keys() else { return };
    let sb = Sandbox::new();
    let kit = vector_kit(&sb, k);
    let mut c = derive_cmd(&sb, &kit, &k.a_private, Path::new("shares.json"));
    c.current_dir(sb.path())
        .args(["--wallet", VECTOR_WALLET])
        .assert()
        .success()
        .stdout(predicate::str::contains("derived 1 share for 1 wallet"));
    let v: Value = serde_json::from_slice(&std::fs::read(sb.file("shares.json")).unwrap()).unwrap();
    assert_eq!(
        v[VECTOR_WALLET]["shares"][0]["MPC_CMP_ECDSA_SECP256K1"],
        VECTOR_SHARE
    );
    // The derivation finished: its outcome is on the chain, not left to repair.
    // (The new workspace then records its accepted binary after it.)
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let last: Value = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .rfind(|e| e["event"] == "DRKIT_DERIVE")
        .unwrap();
    assert_eq!(last["status"], "COMPLETED", "{last}");
}
