//! Envelope format tests: round trips, every class of damaged file, and the
//! CLI. Interop with a plain WebCrypto implementation lives in
//! tests/webcrypto.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{PASS_A, PASS_B, Sandbox};
use custodian_core::envelope::{self, Envelope, EnvelopeError};
use predicates::prelude::*;
use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

fn pass(p: &str) -> SecretString {
    SecretString::from(p)
}

fn sealed(plaintext: &[u8]) -> Vec<u8> {
    envelope::seal(
        plaintext,
        &pass(PASS_A),
        envelope::DEFAULT_ITERATIONS,
        Some(json!({"kind": "test"})),
    )
    .unwrap()
    .to_bytes()
}

#[test]
fn round_trip_and_wrong_passphrase() {
    let bytes = sealed(b"AGE-SECRET-KEY-1EXAMPLE");
    let env = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(env.header.kdf.iterations, 600_000);
    assert_eq!(env.context(), Some(&json!({"kind": "test"})));
    let opened = env.open(&pass(PASS_A)).unwrap();
    assert_eq!(
        opened.expose_secret().as_slice(),
        b"AGE-SECRET-KEY-1EXAMPLE"
    );
    assert!(matches!(
        env.open(&pass(PASS_B)),
        Err(EnvelopeError::WrongPassphraseOrAltered)
    ));
    // Two seals of the same input never share salt, nonce or ciphertext.
    let again = Envelope::from_bytes(&sealed(b"AGE-SECRET-KEY-1EXAMPLE")).unwrap();
    assert_ne!(again.header.kdf.salt, env.header.kdf.salt);
    assert_ne!(again.header.cipher.nonce, env.header.cipher.nonce);
    assert_ne!(again.ciphertext, env.ciphertext);
}

#[test]
fn every_single_byte_flip_fails_cleanly() {
    let bytes = sealed(b"a secret key worth protecting");
    // Each position flipped with two masks: a low bit (often stays a legal
    // character) and all bits (never does). No flip may open or panic.
    let positions: Vec<(usize, u8)> = (0..bytes.len())
        .flat_map(|i| [(i, 0x01u8), (i, 0xffu8)])
        .collect();
    let opened: Vec<String> = positions
        .par_iter()
        .filter_map(|&(i, mask)| {
            let mut damaged = bytes.clone();
            damaged[i] ^= mask;
            let result = std::panic::catch_unwind(|| {
                Envelope::from_bytes(&damaged).and_then(|e| e.open(&pass(PASS_A)).map(|_| ()))
            });
            match result {
                Err(_) => Some(format!("byte {i} ^ {mask:#x}: panicked")),
                Ok(Ok(())) => Some(format!("byte {i} ^ {mask:#x}: opened")),
                Ok(Err(_)) => None,
            }
        })
        .collect();
    assert!(opened.is_empty(), "damaged envelopes accepted: {opened:?}");
}

#[test]
fn each_kind_of_bad_file_has_its_own_error() {
    let bytes = sealed(b"k");
    assert!(matches!(
        Envelope::from_bytes(b""),
        Err(EnvelopeError::Empty)
    ));
    assert!(matches!(
        Envelope::from_bytes(b" \n"),
        Err(EnvelopeError::Empty)
    ));
    assert!(matches!(
        Envelope::from_bytes(&bytes[..bytes.len() / 2]),
        Err(EnvelopeError::Truncated)
    ));
    assert!(matches!(
        Envelope::from_bytes(b"-----BEGIN AGE ENCRYPTED FILE-----"),
        Err(EnvelopeError::WrongFormat(_))
    ));
    assert!(matches!(
        Envelope::from_bytes(br#"{"format":"something-else"}"#),
        Err(EnvelopeError::WrongFormat(_))
    ));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["header"]["version"] = json!(2);
    assert!(matches!(
        Envelope::from_bytes(v.to_string().as_bytes()),
        Err(EnvelopeError::UnsupportedVersion {
            found: 2,
            supported: 1
        })
    ));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["header"]["kdf"]["iterations"] = json!(4_000_000_000u64);
    assert!(matches!(
        Envelope::from_bytes(v.to_string().as_bytes()),
        Err(EnvelopeError::IterationsAboveCap {
            found: 4_000_000_000
        })
    ));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["header"]["kdf"]["iterations"] = json!(1000);
    assert!(matches!(
        Envelope::from_bytes(v.to_string().as_bytes()),
        Err(EnvelopeError::IterationsTooLow { found: 1000 })
    ));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["header"]["cipher"]["nonce"] = json!("AAAA");
    assert!(matches!(
        Envelope::from_bytes(v.to_string().as_bytes()),
        Err(EnvelopeError::BadField {
            field: "header.cipher.nonce",
            ..
        })
    ));
}

#[test]
fn cli_seal_then_open_round_trips_and_refuses_to_overwrite() {
    let sb = Sandbox::new();
    let input = sb.file("secret.txt");
    std::fs::write(&input, b"the plaintext").unwrap();
    let pf = sb.pass_file("pass", &[PASS_A]);
    sb.cmd()
        .args(["envelope", "seal"])
        .arg(&input)
        .arg("--out")
        .arg(sb.file("secret.env"))
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .success()
        .stdout(predicate::str::contains("sealed"));
    sb.cmd()
        .args(["envelope", "open"])
        .arg(sb.file("secret.env"))
        .arg("--out")
        .arg(sb.file("opened.txt"))
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(sb.file("opened.txt")).unwrap(),
        b"the plaintext"
    );

    // Opening again onto the same output is refused and leaves it alone.
    let before = sb.snapshot();
    sb.cmd()
        .args(["envelope", "open"])
        .arg(sb.file("secret.env"))
        .arg("--out")
        .arg(sb.file("opened.txt"))
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "already exists; refusing to overwrite it",
        ));
    assert_eq!(sb.snapshot(), before);
}

#[test]
fn cli_bad_inputs_name_the_problem_and_write_nothing() {
    let sb = Sandbox::new();
    let input = sb.file("secret.txt");
    std::fs::write(&input, b"x").unwrap();
    let pf = sb.pass_file("pass", &[PASS_A]);
    let weak = sb.pass_file("weak", &["hunter2"]);
    let wrong = sb.pass_file("wrong", &[PASS_B]);
    custodian_core::workspace::Workspace::open(sb.ws()).unwrap();

    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                "envelope".into(),
                "seal".into(),
                input.clone().into(),
                "--out".into(),
                sb.file("a.env").into(),
                "--iterations".into(),
                "100000".into(),
                "--passphrase-file".into(),
                pf.clone().into(),
            ],
            "100000 PBKDF2 iterations is below the minimum of 600000",
        ),
        (
            vec![
                "envelope".into(),
                "seal".into(),
                input.clone().into(),
                "--out".into(),
                sb.file("a.env").into(),
                "--passphrase-file".into(),
                weak.clone().into(),
            ],
            "the passphrase is too short",
        ),
        (
            vec![
                "envelope".into(),
                "open".into(),
                input.clone().into(),
                "--out".into(),
                sb.file("a.txt").into(),
                "--passphrase-file".into(),
                pf.clone().into(),
            ],
            "this is not a custodian envelope",
        ),
    ];
    for (args, message) in cases {
        let before = sb.snapshot();
        sb.cmd()
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("what to do:"));
        assert_eq!(sb.snapshot(), before, "files changed for {args:?}");
    }

    // A wrong passphrase: no output file, and the failure is audited.
    let env = sb.file("good.env");
    std::fs::write(&env, sealed(b"x")).unwrap();
    sb.cmd()
        .args(["envelope", "open"])
        .arg(&env)
        .arg("--out")
        .arg(sb.file("out.txt"))
        .arg("--passphrase-file")
        .arg(&wrong)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the passphrase is wrong, or the file was altered",
        ));
    assert!(!sb.file("out.txt").exists());
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(log.contains("\"status\":\"FAILED\""));
}

const BEFORE_JCS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/envelope_before_jcs"
);

/// Files sealed by the release before the canonical form became RFC 8785
/// (their headers' keys are ASCII, where the two orders agree) still open,
/// and an identity envelope's plaintext is the bare key, no newline.
#[test]
fn envelopes_sealed_before_rfc_8785_still_open() {
    let plain = Envelope::from_bytes(&std::fs::read(format!("{BEFORE_JCS}/plain.env")).unwrap())
        .unwrap()
        .open(&pass(PASS_A))
        .unwrap();
    assert_eq!(
        plain.expose_secret().as_slice(),
        b"sealed before RFC 8785\n"
    );

    let path = std::path::PathBuf::from(format!("{BEFORE_JCS}/identity.json"));
    let id = custodian_core::identity::IdentityFile::load(&path).unwrap();
    let opened = id.open(&pass(PASS_A)).unwrap();
    assert_eq!(
        opened.recipient,
        "age1e3nlpgc9mwr0nnp6n250uz903xdtsq79347t28mwucyjmgraw5mq8q5qwf"
    );
    let key = id.envelope.open(&pass(PASS_A)).unwrap();
    let key = std::str::from_utf8(key.expose_secret()).unwrap();
    assert!(key.starts_with("AGE-SECRET-KEY-1"), "the bare key");
    assert_eq!(key.len(), 74, "no trailing newline");
}

/// The audit log hashes its entries with the same canonical form: a log
/// the previous release wrote (accented names, counts, nested objects)
/// still verifies to the same head.
#[test]
fn an_audit_log_written_before_rfc_8785_still_verifies() {
    let bytes = std::fs::read(format!("{BEFORE_JCS}/audit.jsonl")).unwrap();
    let status = custodian_core::audit::verify(&bytes).unwrap();
    assert_eq!(status.entries, 10);
    assert_eq!(
        status.head,
        "fc2c6546908b96783556b736a5e807c7d8e49125253659677cf61ab31e1cfc01"
    );
}
