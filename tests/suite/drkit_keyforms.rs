//! Every recovery-key form the vendor's loader accepts, written by the real
//! `openssl` CLI: PKCS#8 PBES2 with each PBKDF2 PRF (HMAC-SHA1/224/256/384/
//! 512) and each cipher (AES-128/192/256-CBC, DES-EDE3-CBC), PKCS#8 with the
//! PKCS#12 scheme PBE-SHA1-3DES, and legacy PEM with AES-*-CBC and
//! DES-EDE3-CBC. Forms we do not read are refused naming the algorithm found;
//! keys under 2048 bits are refused everywhere; an RSA-OAEP-SHA256 entry is
//! named as such, not as "a different RSA key".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use predicates::prelude::*;
use serde_json::json;

const COSIGNER: &str = "21926ecc-4a8a-4614-bbac-7c591aa7efdd";
const COSIGNER_PREFIX: &str = "3429798433";
const MASTER_ID: &str = "9b6a5b3e-6f1c-4a7e-8d52-1f0c2b3a4d5e";

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One RSA-4096 key from `openssl genrsa`, made once per test binary.
struct Key {
    _dir: tempfile::TempDir,
    private: PathBuf,
    public: PathBuf,
}

fn key() -> Option<&'static Key> {
    static KEY: OnceLock<Key> = OnceLock::new();
    if missing_tool("openssl") {
        return None;
    }
    Some(KEY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("k.pem");
        let public = dir.path().join("k.pub.pem");
        openssl(&["genrsa", "-out", private.to_str().unwrap(), "4096"]);
        openssl(&[
            "rsa",
            "-in",
            private.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ]);
        Key {
            _dir: dir,
            private,
            public,
        }
    }))
}

/// A kit whose master-key entry `openssl pkeyutl` encrypted to `public`
/// with RSA-OAEP and `digest` (the vendor's is SHA-1).
fn kit(sb: &Sandbox, public: &Path, digest: &str) -> PathBuf {
    let input = sb.file("m.bin");
    let blob = sb.file(&format!("m-{digest}.enc"));
    std::fs::write(&input, [0x5au8; 32]).unwrap();
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        public.to_str().unwrap(),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        &format!("rsa_oaep_md:{digest}"),
        "-pkeyopt",
        &format!("rsa_mgf1_md:{digest}"),
        "-in",
        input.to_str().unwrap(),
        "-out",
        blob.to_str().unwrap(),
    ]);
    let metadata = serde_json::to_vec(&json!({
        "tenantId": "5d1c3a1e-0b1f-4f4e-9a5e-2c7d8e9f0a1b",
        "keyId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "publicKey": "02".to_string() + &"ab".repeat(32),
        "chainCode": "22".repeat(32),
        "masterKeys": { MASTER_ID: {
            "type": "NON_CUSTODIAL_WALLET_MASTER",
            "walletSeed": "33".repeat(32),
            "assetSeed": "11".repeat(32),
            "cosigners": [{"id": COSIGNER, "type": "cloud"}],
        }},
    }))
    .unwrap();
    let path = sb.file(&format!("kit-{digest}.zip"));
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("metadata.json", opts).unwrap();
    z.write_all(&metadata).unwrap();
    z.start_file(format!("{COSIGNER_PREFIX}_{MASTER_ID}"), opts)
        .unwrap();
    z.write_all(&std::fs::read(&blob).unwrap()).unwrap();
    z.finish().unwrap();
    path
}

/// Converts the key with `openssl <args…> -in KEY -passout file:PASS -out OUT`.
fn convert(sb: &Sandbox, src: &Path, name: &str, args: &[&str], pass: &Path) -> PathBuf {
    let out = sb.file(name);
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend([
        "-in".into(),
        src.display().to_string(),
        "-passout".into(),
        format!("file:{}", pass.display()),
        "-out".into(),
        out.display().to_string(),
    ]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    openssl(&refs);
    out
}

fn verify(sb: &Sandbox, kit: &Path, key: &Path, pass: Option<&Path>) -> assert_cmd::Command {
    let mut c = sb.cmd();
    c.args(["kit", "verify"]).arg(kit).arg("--key").arg(key);
    if let Some(p) = pass {
        c.arg("--passphrase-file").arg(p);
    }
    c
}

#[test]
fn every_form_the_vendor_loader_accepts_opens_the_kit() {
    let Some(k) = key() else { return };
    let sb = Sandbox::new();
    let kit = kit(&sb, &k.public, "sha1");
    let pass = sb.pass_file("pass", &[PASS_A]);
    let wrong = sb.pass_file("wrong", &[PASS_B]);
    let mut forms: Vec<(String, Vec<&str>, &str)> = Vec::new();
    for prf in [
        "hmacWithSHA1",
        "hmacWithSHA224",
        "hmacWithSHA256",
        "hmacWithSHA384",
        "hmacWithSHA512",
    ] {
        forms.push((
            format!("pkcs8-{prf}.pem"),
            vec!["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", prf],
            "BEGIN ENCRYPTED PRIVATE KEY",
        ));
    }
    for cipher in ["aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des3"] {
        forms.push((
            format!("pkcs8-{cipher}.pem"),
            vec!["pkcs8", "-topk8", "-v2", cipher],
            "BEGIN ENCRYPTED PRIVATE KEY",
        ));
    }
    forms.push((
        "pkcs8-pbe-sha1-3des.pem".into(),
        vec!["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"],
        "BEGIN ENCRYPTED PRIVATE KEY",
    ));
    for (flag, dek) in [
        ("-des3", "DEK-Info: DES-EDE3-CBC,"),
        ("-aes128", "DEK-Info: AES-128-CBC,"),
        ("-aes192", "DEK-Info: AES-192-CBC,"),
        ("-aes256", "DEK-Info: AES-256-CBC,"),
    ] {
        forms.push((
            format!("legacy{flag}.pem"),
            vec!["rsa", flag, "-traditional"],
            dek,
        ));
    }
    for (name, args, marker) in &forms {
        let file = convert(&sb, &k.private, name, args, &pass);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(marker), "{name}: {text:.200}");
        verify(&sb, &kit, &file, Some(&pass))
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "OK: the recovery key opens this kit",
            ));
        verify(&sb, &kit, &file, Some(&wrong))
            .assert()
            .failure()
            .stderr(predicate::str::contains(
                "the passphrase does not open the private key",
            ));
    }
}

#[test]
fn forms_we_do_not_read_are_refused_naming_the_algorithm_found() {
    let Some(k) = key() else { return };
    let sb = Sandbox::new();
    let kit = kit(&sb, &k.public, "sha1");
    let pass = sb.pass_file("pass", &[PASS_A]);
    for (name, args, says) in [
        (
            "camellia.pem",
            vec!["pkcs8", "-topk8", "-v2", "camellia-256-cbc"],
            "PKCS#8 PBES2 with PBKDF2-HMAC-SHA256 and Camellia-256-CBC",
        ),
        (
            "sha512-256.pem",
            vec![
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-v2prf",
                "hmacWithSHA512-256",
            ],
            "PKCS#8 PBES2 with PBKDF2-HMAC-SHA512/256 and AES-256-CBC",
        ),
        (
            "pbe-sha1-2des.pem",
            vec!["pkcs8", "-topk8", "-v1", "PBE-SHA1-2DES"],
            "PKCS#8 pbeWithSHAAnd2-KeyTripleDES-CBC (1.2.840.113549.1.12.1.4)",
        ),
        (
            "legacy-camellia.pem",
            vec!["rsa", "-camellia256", "-traditional"],
            "legacy PEM encryption CAMELLIA-256-CBC",
        ),
    ] {
        let file = convert(&sb, &k.private, name, &args, &pass);
        verify(&sb, &kit, &file, Some(&pass))
            .assert()
            .failure()
            .stderr(
                predicate::str::contains(says)
                    .and(predicate::str::contains(
                        "openssl pkcs8 -topk8 -v2 aes-256-cbc",
                    ))
                    .and(predicate::str::contains("PKCS#5 algorithm").not())
                    .and(predicate::str::contains("not an RSA private key").not()),
            );
    }
}

#[test]
fn keys_under_2048_bits_are_refused_everywhere() {
    if missing_tool("openssl") {
        return;
    }
    let Some(k) = key() else { return };
    let sb = Sandbox::new();
    let kit = kit(&sb, &k.public, "sha1");
    let small = sb.file("small.pem");
    let small_pub = sb.file("small.pub.pem");
    openssl(&["genrsa", "-out", small.to_str().unwrap(), "1024"]);
    openssl(&[
        "rsa",
        "-in",
        small.to_str().unwrap(),
        "-pubout",
        "-out",
        small_pub.to_str().unwrap(),
    ]);
    let says = "the key is RSA-1024";
    sb.cmd()
        .args(["kit", "fingerprint"])
        .arg(&small_pub)
        .assert()
        .failure()
        .stderr(predicate::str::contains(says).and(predicate::str::contains("2048")));
    verify(&sb, &kit, &small, None)
        .assert()
        .failure()
        .stderr(predicate::str::contains(says));
    let pass = sb.pass_file("pass", &[PASS_A]);
    let enc = convert(
        &sb,
        &small,
        "small-enc.pem",
        &["pkcs8", "-topk8", "-v2", "aes-256-cbc"],
        &pass,
    );
    verify(&sb, &kit, &enc, Some(&pass))
        .assert()
        .failure()
        .stderr(predicate::str::contains(says));
    // 2048 bits is the floor, not refused for its size.
    let ok = sb.file("ok.pem");
    let ok_pub = sb.file("ok.pub.pem");
    openssl(&["genrsa", "-out", ok.to_str().unwrap(), "2048"]);
    openssl(&[
        "rsa",
        "-in",
        ok.to_str().unwrap(),
        "-pubout",
        "-out",
        ok_pub.to_str().unwrap(),
    ]);
    sb.cmd()
        .args(["kit", "fingerprint"])
        .arg(&ok_pub)
        .assert()
        .success()
        .stdout(predicate::str::contains("RSA-2048"));
}

#[test]
fn an_oaep_sha256_entry_is_named_not_blamed_on_the_key() {
    let Some(k) = key() else { return };
    let sb = Sandbox::new();
    let kit = kit(&sb, &k.public, "sha256");
    verify(&sb, &kit, &k.private, None)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("RSA-OAEP-SHA256")
                .and(predicate::str::contains("RSA-OAEP-SHA1"))
                .and(predicate::str::contains("different RSA key").not()),
        );
}
