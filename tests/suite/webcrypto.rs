//! Interop with an independent WebCrypto implementation of the envelope
//! (tests/node/envelope_webcrypto.mjs: Node's crypto.subtle, no npm
//! packages): it opens what we seal, and we open what it seals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use base64::Engine;
use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use custodian_core::envelope::{self, Envelope, EnvelopeError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/node/envelope_webcrypto.mjs"
);

#[test]
fn webcrypto_opens_what_we_seal() {
    if missing_tool("node") {
        return;
    }
    let sb = Sandbox::new();
    let plaintext = "AGE-SECRET-KEY-1 and some ünïcödé".as_bytes();
    let env = envelope::seal(
        plaintext,
        &SecretString::from(PASS_A),
        envelope::DEFAULT_ITERATIONS,
        Some(json!({"name": "Ana", "recipient": "age1xyz", "createdAt": "2026-11-22T00:00:00Z", "kind": "custodian-identity"})),
    )
    .unwrap();
    let file = sb.file("ours.env");
    std::fs::write(&file, env.to_bytes()).unwrap();
    let pf = sb.pass_file("p", &[PASS_A]);
    let out = Command::new("node")
        .arg(SCRIPT)
        .arg("open")
        .arg(&file)
        .arg(&pf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = base64::engine::general_purpose::STANDARD
        .decode(String::from_utf8(out.stdout).unwrap().trim())
        .unwrap();
    assert_eq!(got, plaintext);

    // And with the wrong passphrase the peer fails too (the check is real).
    let wrong = sb.pass_file("w", &[PASS_B]);
    let out = Command::new("node")
        .arg(SCRIPT)
        .arg("open")
        .arg(&file)
        .arg(&wrong)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn we_open_what_webcrypto_seals_and_notice_tampering() {
    if missing_tool("node") {
        return;
    }
    let sb = Sandbox::new();
    let plain = sb.file("plain.bin");
    std::fs::write(&plain, b"sealed by the JS side").unwrap();
    let pf = sb.pass_file("p", &[PASS_A]);
    let file = sb.file("theirs.env");
    let st = Command::new("node")
        .arg(SCRIPT)
        .arg("seal")
        .arg(&plain)
        .arg(&pf)
        .arg(&file)
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&file).unwrap();
    let env = Envelope::from_bytes(&bytes).unwrap();
    let opened = env.open(&SecretString::from(PASS_A)).unwrap();
    assert_eq!(opened.expose_secret().as_slice(), b"sealed by the JS side");

    // The peer's context is bound: changing it breaks authentication.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["header"]["context"]["note"] = json!("edited");
    let edited = Envelope::from_bytes(v.to_string().as_bytes()).unwrap();
    assert!(matches!(
        edited.open(&SecretString::from(PASS_A)),
        Err(EnvelopeError::WrongPassphraseOrAltered)
    ));

    // The CLI opens the peer's file too.
    let sbw = sb.file("out.txt");
    sb.cmd()
        .args(["envelope", "open"])
        .arg(&file)
        .arg("--out")
        .arg(&sbw)
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .success();
    assert_eq!(std::fs::read(&sbw).unwrap(), b"sealed by the JS side");
}

/// A context whose keys sort differently by UTF-16 code unit (as
/// JavaScript and RFC 8785 sort) than by code point, and numbers whose
/// ECMAScript form differs from a naive one: the peer's AAD is RFC 8785's,
/// so we must build the same bytes to open it.
#[test]
fn we_open_what_webcrypto_seals_with_non_ascii_context_keys_and_numbers() {
    if missing_tool("node") {
        return;
    }
    let sb = Sandbox::new();
    let plain = sb.file("plain.bin");
    std::fs::write(&plain, b"sealed with a non-ASCII context").unwrap();
    let pf = sb.pass_file("p", &[PASS_A]);
    let context = sb.file("context.json");
    std::fs::write(
        &context,
        r#"{"kind":"webcrypto-peer","\ufb33":"dalet","\ud83d\ude00":"grin","\u00f6":"o","n":[1e21,0.000001,4.5,-0.0,100]}"#,
    )
    .unwrap();
    let file = sb.file("theirs.env");
    let st = Command::new("node")
        .arg(SCRIPT)
        .arg("seal")
        .arg(&plain)
        .arg(&pf)
        .arg(&file)
        .arg(&context)
        .status()
        .unwrap();
    assert!(st.success());
    let env = Envelope::from_bytes(&std::fs::read(&file).unwrap()).unwrap();
    let opened = env.open(&SecretString::from(PASS_A)).unwrap();
    assert_eq!(
        opened.expose_secret().as_slice(),
        b"sealed with a non-ASCII context"
    );
}
