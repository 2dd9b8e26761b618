//! Shard inspect, rewrap and restore-to-node through the real binary, with
//! the real `age` CLI and the `age-encryption` npm package as peers.
//! Bad inputs: each gets its specific error and leaves no new file behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{Sandbox, missing_tool};
use custodian_core::identity::{IdentityFile, OpenedIdentity};
use custodian_core::shard::{self, ShardFile};
use k256::elliptic_curve::PrimeField;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use secrecy::{ExposeSecret, SecretString};
use shard_fixture::*;

/// A fresh age identity written as a plain key file for the age CLI.
fn age_key(sb: &Sandbox, name: &str) -> (OpenedIdentity, std::path::PathBuf) {
    let id = OpenedIdentity::generate(name);
    let path = sb.file(&format!("{name}.agekey"));
    std::fs::write(
        &path,
        id.to_age_key_file("2026-01-01T00:00:00Z").expose_secret(),
    )
    .unwrap();
    (id, path)
}

/// Decrypts armored text with the real age CLI.
fn age_cli_decrypt(armored: &str, key_file: &Path) -> Vec<u8> {
    let mut child = Command::new("age")
        .args(["-d", "-i"])
        .arg(key_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(armored.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Checks a decrypted payload against a shard's public metadata, independently
/// of the library's own checker.
fn assert_payload_matches(payload: &[u8], file: &ShardFile) {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap();
    assert_eq!(v["format"], "custodian-shard-payload");
    assert_eq!(v["keyId"], file.key_id.as_str());
    assert_eq!(v["index"], file.index);
    assert_eq!(v["rootPublicKey"], file.root_public_key.as_str());
    let bytes = hex::decode(v["share"].as_str().unwrap()).unwrap();
    let scalar =
        k256::Scalar::from_repr(k256::FieldBytes::try_from(bytes.as_slice()).unwrap()).unwrap();
    let public = shard::public_key_hex(&shard::public_of(&scalar).unwrap());
    assert_eq!(public, file.share_public_key);
}

fn rewrap_cmd(
    sb: &Sandbox,
    shard: &Path,
    identity: &Path,
    to: &str,
    name: &str,
) -> assert_cmd::Command {
    let holder_pass = {
        let id = IdentityFile::load(identity).unwrap();
        pass_of(&id.name)
    };
    let pass = sb.pass_file("rewrap.pass", &[holder_pass]);
    let mut c = sb.cmd();
    c.args(["shard", "rewrap"])
        .arg(shard)
        .arg("--identity")
        .arg(identity)
        .args(["--to", to, "--name", name, "--passphrase-file"])
        .arg(pass);
    c
}

#[test]
fn inspect_shows_public_metadata_only() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 2);
    let file = ShardFile::load(&path).unwrap();
    let out = sb
        .cmd()
        .args(["shard", "inspect"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for expected in [
        "drill-alpha",
        "Ben",
        &file.recipient,
        "shamir-secp256k1-order",
        &file.root_public_key,
        &file.share_public_key,
        "1 X25519 recipient stanza",
    ] {
        assert!(text.contains(expected), "{expected} missing in\n{text}");
    }
    assert!(!text.contains("AGE ENCRYPTED"));
    let json = sb
        .cmd()
        .args(["--json", "shard", "inspect"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["keyId"], "drill-alpha");
    assert_eq!(v["index"], 2);
    assert_eq!(v["sharePublicKey"], file.share_public_key.as_str());
    assert!(v.get("wrappedKeyShare").is_none());
}

#[test]
fn rewrap_writes_a_new_shard_the_age_cli_opens_with_the_new_identity() {
    if missing_tool("age") {
        return;
    }
    let sb = sandbox();
    let old = shard(&sb, "alpha", 1);
    let old_bytes = std::fs::read(&old).unwrap();
    let (dee, dee_key) = age_key(&sb, "Dee");
    let out = sb.file("dee.shard.json");
    rewrap_cmd(&sb, &old, &identity(&sb, "Ana"), &dee.recipient, "Dee")
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("wrote and verified"))
        .stderr(contains("is left in place"))
        .stderr(contains("destroy it"));
    // The old file is untouched; the new one names the new holder.
    assert_eq!(std::fs::read(&old).unwrap(), old_bytes);
    let new = ShardFile::load(&out).unwrap();
    let before = ShardFile::load(&old).unwrap();
    assert_eq!(new.custodian, "Dee");
    assert_eq!(new.recipient, dee.recipient);
    assert_eq!(
        (
            &new.key_id,
            new.index,
            &new.root_public_key,
            &new.share_public_key
        ),
        (
            &before.key_id,
            before.index,
            &before.root_public_key,
            &before.share_public_key
        )
    );
    assert_eq!(
        shard::x25519_stanzas(&new.wrapped_key_share).unwrap().len(),
        1
    );
    // The real age CLI decrypts the payload with Dee's key.
    let payload = age_cli_decrypt(&new.wrapped_key_share, &dee_key);
    assert_payload_matches(&payload, &new);
    // Ana's key no longer opens it.
    let ana = IdentityFile::load(&identity(&sb, "Ana"))
        .unwrap()
        .open(&SecretString::from(pass_of("Ana")))
        .unwrap();
    assert!(matches!(
        new.open(&ana),
        Err(shard::ShardError::WrongIdentity { .. })
    ));
    // Registry and audit.
    let reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    let records = reg["shards"].as_array().unwrap();
    let last = records.last().unwrap();
    assert_eq!(last["origin"], "rewrap");
    assert_eq!(last["custodian"], "Dee");
    assert_eq!(last["replaces"], old.to_str().unwrap());
    let events = audit_events(&sb);
    assert_eq!(
        events[events.len() - 2..],
        [
            ("SHARD_REWRAP".into(), "INITIATED".into()),
            ("SHARD_REWRAP".into(), "COMPLETED".into())
        ]
    );
}

#[test]
fn restore_to_node_writes_the_import_file_and_a_checklist() {
    if missing_tool("age") {
        return;
    }
    let sb = sandbox();
    let (node, node_key) = age_key(&sb, "node");
    let src = shard(&sb, "alpha", 3);
    let file = ShardFile::load(&src).unwrap();
    let pass = sb.pass_file("p", &[pass_of("Cy")]);
    let out = sb.file("node-7.import.json");
    sb.cmd()
        .args(["shard", "restore-to-node"])
        .arg(&src)
        .arg("--identity")
        .arg(identity(&sb, "Cy"))
        .args(["--node-recipient", &node.recipient, "--node", "mpc-node-7"])
        .arg("--out")
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .success()
        .stdout(contains("the node reports key id        drill-alpha"))
        .stdout(contains(format!(
            "the node reports root pub key  {}",
            file.root_public_key
        )))
        .stdout(contains("is unchanged; keep it"));
    let new = ShardFile::load(&out).unwrap();
    assert_eq!(new.custodian, "mpc-node-7");
    let payload = age_cli_decrypt(&new.wrapped_key_share, &node_key);
    assert_payload_matches(&payload, &new);
    assert!(audit_events(&sb).contains(&("SHARD_RESTORE_TO_NODE".into(), "COMPLETED".into())));
}

#[test]
fn a_shard_encrypted_by_the_age_encryption_npm_package_rewraps() {
    if missing_tool("node") || missing_tool("age") {
        return;
    }
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    if !node_dir.join("node_modules/age-encryption").exists() {
        if std::env::var_os("CI").is_some() {
            panic!("run `npm ci` in tests/node first");
        }
        eprintln!("SKIPPED: tests/node/node_modules missing; run `npm ci` in tests/node");
        return;
    }
    let sb = sandbox();
    let src = shard(&sb, "alpha", 2);
    let mut file = ShardFile::load(&src).unwrap();
    // Take Ben's real payload and have the JS library encrypt it to Ben.
    let ben = IdentityFile::load(&identity(&sb, "Ben"))
        .unwrap()
        .open(&SecretString::from(pass_of("Ben")))
        .unwrap();
    let payload = file.open(&ben).unwrap().to_bytes();
    let mut child = Command::new("node")
        .arg(node_dir.join("encrypt.mjs"))
        .arg(&file.recipient)
        .current_dir(&node_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&payload).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let armored = String::from_utf8(out.stdout).unwrap();
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert_ne!(armored, file.wrapped_key_share);
    file.wrapped_key_share = armored;
    let js_shard = sb.file("js.shard.json");
    std::fs::write(&js_shard, file.to_bytes()).unwrap();

    let (eve, eve_key) = age_key(&sb, "Eve");
    let out = sb.file("eve.shard.json");
    rewrap_cmd(&sb, &js_shard, &identity(&sb, "Ben"), &eve.recipient, "Eve")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let new = ShardFile::load(&out).unwrap();
    let plain = age_cli_decrypt(&new.wrapped_key_share, &eve_key);
    assert_eq!(plain, payload.as_slice());
    assert_payload_matches(&plain, &new);
}

/// Runs a rewrap expected to fail; checks the message, that no output file
/// appeared, and that nothing but the audit log changed.
fn assert_rewrap_refused(sb: &Sandbox, shard: &Path, identity: &Path, pass: &str, message: &str) {
    let before = snapshot_without_audit(sb);
    let out = sb.file("new.shard.json");
    let dee = OpenedIdentity::generate("Dee");
    let pass = sb.pass_file("bad.pass", &[pass]);
    sb.cmd()
        .args(["shard", "rewrap"])
        .arg(shard)
        .arg("--identity")
        .arg(identity)
        .args(["--to", &dee.recipient, "--name", "Dee", "--out"])
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .failure()
        .code(1)
        .stderr(contains(message))
        .stderr(contains("what to do:"));
    assert!(!out.exists());
    let after: Vec<_> = snapshot_without_audit(sb)
        .into_iter()
        .filter(|(p, _)| !p.ends_with("bad.pass"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.ends_with("bad.pass"))
        .collect();
    assert_eq!(before, after, "files changed");
}

#[test]
fn rewrap_with_the_wrong_identity_is_refused_before_any_passphrase() {
    let sb = sandbox();
    let audit_before = std::fs::read(sb.ws().join("audit.jsonl")).unwrap();
    assert_rewrap_refused(
        &sb,
        &shard(&sb, "alpha", 1),
        &identity(&sb, "Ben"),
        common::PASS_B,
        "but the identity given is Ben's",
    );
    assert_eq!(
        std::fs::read(sb.ws().join("audit.jsonl")).unwrap(),
        audit_before
    );
}

#[test]
fn rewrap_with_the_wrong_passphrase_fails_and_is_audited() {
    let sb = sandbox();
    assert_rewrap_refused(
        &sb,
        &shard(&sb, "alpha", 1),
        &identity(&sb, "Ana"),
        common::PASS_B,
        "the passphrase is wrong",
    );
    let events = audit_events(&sb);
    assert_eq!(
        events.last().unwrap(),
        &("SHARD_REWRAP".into(), "FAILED".into())
    );
}

#[test]
fn rewrap_of_a_shard_with_a_tampered_index_is_refused() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 1);
    tamper(&path, "index", serde_json::json!(2));
    assert_rewrap_refused(
        &sb,
        &path,
        &identity(&sb, "Ana"),
        common::PASS_A,
        "the shard's public `index` does not match its encrypted payload",
    );
}

#[test]
fn rewrap_of_a_shard_with_a_tampered_root_public_key_is_refused() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 1);
    let other_root = ShardFile::load(&shard(&sb, "beta", 1))
        .unwrap()
        .root_public_key;
    tamper(&path, "rootPublicKey", serde_json::json!(other_root));
    assert_rewrap_refused(
        &sb,
        &path,
        &identity(&sb, "Ana"),
        common::PASS_A,
        "the shard's public `rootPublicKey` does not match its encrypted payload",
    );
}

#[test]
fn rewrap_of_corrupted_ciphertext_is_refused() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 1);
    let mut file = ShardFile::load(&path).unwrap();
    // Flip one base64 character in the payload part of the armor (after the header).
    let lines: Vec<&str> = file.wrapped_key_share.lines().collect();
    let target = lines.len() - 2;
    let mut rebuilt: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let line = &mut rebuilt[target];
    let c = if line.starts_with('A') { 'B' } else { 'A' };
    line.replace_range(0..1, &c.to_string());
    file.wrapped_key_share = rebuilt.join("\n") + "\n";
    std::fs::write(&path, file.to_bytes()).unwrap();
    assert_rewrap_refused(
        &sb,
        &path,
        &identity(&sb, "Ana"),
        common::PASS_A,
        "the wrapped key share is damaged",
    );
}

#[test]
fn rewrap_never_overwrites_an_existing_file() {
    let sb = sandbox();
    let out = sb.file("taken.json");
    std::fs::write(&out, b"keep me").unwrap();
    let dee = OpenedIdentity::generate("Dee");
    rewrap_cmd(
        &sb,
        &shard(&sb, "alpha", 1),
        &identity(&sb, "Ana"),
        &dee.recipient,
        "Dee",
    )
    .arg("--out")
    .arg(&out)
    .assert()
    .failure()
    .stderr(contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
}

#[test]
fn truncated_and_foreign_files_get_specific_errors() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 1);
    let bytes = std::fs::read(&path).unwrap();
    let cut = sb.file("cut.json");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    sb.cmd()
        .args(["shard", "inspect"])
        .arg(&cut)
        .assert()
        .failure()
        .stderr(contains("the shard file is truncated"));
    sb.cmd()
        .args(["shard", "inspect"])
        .arg(identity(&sb, "Ana"))
        .assert()
        .failure()
        .stderr(contains("format is `custodian-identity`"));
}

#[test]
fn a_share_two_keys_can_open_is_refused_unless_accepted_and_then_audited() {
    if missing_tool("age") {
        return;
    }
    let sb = sandbox();
    let (mut file, payload) = ben_shard_and_payload(&sb);
    let (other, _) = age_key(&sb, "Mallory");
    let recipient = file.recipient.clone();
    file.wrapped_key_share =
        age_cli_encrypt(&sb, &["-r", &recipient, "-r", &other.recipient], &payload);
    let two = sb.file("two.shard.json");
    std::fs::write(&two, file.to_bytes()).unwrap();

    let text = String::from_utf8(
        sb.cmd()
            .args(["shard", "inspect"])
            .arg(&two)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(text.contains("2 X25519 recipient stanzas"), "{text}");

    assert_rewrap_refused(
        &sb,
        &two,
        &identity(&sb, "Ben"),
        pass_of("Ben"),
        &format!("encrypted to 2 recipients: besides {recipient}, another key can read this share"),
    );

    let (eve, eve_key) = age_key(&sb, "Eve");
    let out = sb.file("eve.shard.json");
    let assert = rewrap_cmd(&sb, &two, &identity(&sb, "Ben"), &eve.recipient, "Eve")
        .arg("--out")
        .arg(&out)
        .arg("--accept-multiple-recipients")
        .assert()
        .success()
        .stderr(contains("can be opened by 2 keys"));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(!stderr.contains("altered"), "{stderr}");
    let new = ShardFile::load(&out).unwrap();
    assert_eq!(
        shard::payload_kind(&new.wrapped_key_share).unwrap(),
        shard::PayloadKind::X25519 { count: 1 }
    );
    assert_eq!(age_cli_decrypt(&new.wrapped_key_share, &eve_key), payload);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(audit.contains(r#""payloadRecipients":2"#), "{audit}");
}

#[test]
fn a_passphrase_encrypted_share_is_named_as_such_never_as_tampering() {
    if missing_tool("age") || missing_tool("script") {
        return;
    }
    let sb = sandbox();
    let (mut file, payload) = ben_shard_and_payload(&sb);
    // `age -p` reads the passphrase from a terminal; an empty answer makes
    // age pick one itself, which this test never needs.
    let input = sb.file("payload.bin");
    std::fs::write(&input, &payload).unwrap();
    let armored = sb.file("payload.age");
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "(sleep 1; printf '\\n'; sleep 1) | script -qec 'age -p -a -o {} {}' /dev/null",
            armored.display(),
            input.display()
        ))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    file.wrapped_key_share = std::fs::read_to_string(&armored).unwrap();
    assert!(
        file.wrapped_key_share
            .starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    );
    let scrypt = sb.file("scrypt.shard.json");
    std::fs::write(&scrypt, file.to_bytes()).unwrap();

    let text = String::from_utf8(
        sb.cmd()
            .args(["shard", "inspect"])
            .arg(&scrypt)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(
        text.contains("passphrase-encrypted (age -p, scrypt)"),
        "{text}"
    );
    assert!(!text.contains("new shard"), "{text}");

    assert_rewrap_refused(
        &sb,
        &scrypt,
        &identity(&sb, "Ben"),
        pass_of("Ben"),
        "encrypted with a passphrase (age -p, scrypt), not to the holder's age identity",
    );
    let stderr = sb
        .cmd()
        .args(["shard", "rewrap"])
        .arg(&scrypt)
        .arg("--identity")
        .arg(identity(&sb, "Ben"))
        .args([
            "--to",
            &OpenedIdentity::generate("Dee").recipient,
            "--name",
            "Dee",
        ])
        .output()
        .unwrap()
        .stderr;
    let stderr = String::from_utf8(stderr).unwrap();
    assert!(!stderr.contains("altered"), "no accusation: {stderr}");
}

#[test]
fn post_quantum_and_tag_recipients_and_keys_are_named_as_unsupported() {
    let sb = sandbox();
    let src = shard(&sb, "alpha", 2);
    // A hardware tag recipient is refused with the reason: it is
    // encryption-only, and a shard recipient must be one custodian can
    // prove by opening what it wrote.
    let tag_why = "hardware-tag recipients are encryption-only (only the hardware holding the key decrypts), and custodian requires a shard recipient it can prove by opening";
    for (to, kind, why) in [
        (
            "age1pq1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqgzqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqgzqq",
            "a post-quantum age recipient (ML-KEM-768 + X25519)",
            "the age library this version is built on (0.12) has no such recipient type",
        ),
        (
            "age1tag1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqgzqqqsyqcyq5rqwzqfpg9s",
            "a tag age recipient (hardware-bound, P-256)",
            tag_why,
        ),
        (
            "age1tagpq1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqgzqqqsyqcyq5rqwzqfpg9s",
            "a post-quantum tag age recipient (hardware-bound, ML-KEM-768 + P-256)",
            tag_why,
        ),
    ] {
        sb.cmd()
            .args(["shard", "rewrap"])
            .arg(&src)
            .arg("--identity")
            .arg(identity(&sb, "Ben"))
            .args(["--to", to, "--name", "Dee"])
            .assert()
            .failure()
            .stderr(contains(kind))
            .stderr(contains(why))
            .stderr(contains("which custodian does not accept"))
            .stderr(contains("not an age recipient").not());
    }
    let key = sb.file("pq.agekey");
    std::fs::write(
        &key,
        "# created: 2026-01-01T00:00:00Z\n# public key: age1pq1qqqq\nAGE-SECRET-KEY-PQ-1QQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNZS23V9CCRYDPK8QARC0JQGZQQQ\n",
    )
    .unwrap();
    let pass = sb.pass_file("pq.pass", &[common::PASS_A, common::PASS_A]);
    sb.cmd()
        .args(["identity", "import"])
        .arg(&key)
        .args(["--name", "Quinn", "--passphrase-file"])
        .arg(&pass)
        .assert()
        .failure()
        .stderr(contains(
            "line 3 holds a post-quantum age identity (AGE-SECRET-KEY-PQ-1…, ML-KEM-768 + X25519), which this version does not support",
        ))
        .stderr(contains("neither a comment").not());
}

/// The recipient registered for a fixture custodian.
fn recipient_of(sb: &Sandbox, name: &str) -> String {
    IdentityFile::load(&identity(sb, name)).unwrap().recipient
}

/// The concentration rule (CLARIFICATIONS 10) on `shard rewrap`: Ana's
/// share of the 2-of-3 key to Ben would let Ben rebuild it alone. Refused
/// before any passphrase; one approver (or one named twice) is not an
/// override; two distinct approvers are, and the audit log names them.
#[test]
fn rewrap_reaching_the_threshold_is_refused_unless_two_approvers_override() {
    let sb = sandbox();
    let src = shard(&sb, "alpha", 1);
    let ben = recipient_of(&sb, "Ben");
    let out = sb.file("ben-second.shard.json");
    let ws_files = |sb: &Sandbox| -> Vec<_> {
        snapshot_without_audit(sb)
            .into_iter()
            .filter(|(p, _)| p.starts_with(sb.ws()))
            .collect()
    };
    let before = ws_files(&sb);
    let events = audit_events(&sb).len();
    rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben")
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains(
            "Ben would hold 2 shards of key drill-alpha, which needs 2: they could rebuild it alone",
        ))
        .stderr(contains("--approver NAME at least twice"))
        .stderr(contains("Passphrase").not());
    for approvers in [&["Olga Reyes"][..], &["Olga Reyes", "olga reyes"][..]] {
        let mut c = rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben");
        c.arg("--out").arg(&out);
        for a in approvers {
            c.args(["--approver", a]);
        }
        c.assert()
            .failure()
            .stderr(contains("at least 2 distinct approvers; 1 given"));
    }
    // Naming Ben only confirms "several", never "alone".
    rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben")
        .arg("--out")
        .arg(&out)
        .args(["--confirm-concentration", "Ben"])
        .assert()
        .failure()
        .stderr(contains("could rebuild it alone"));
    assert!(ws_files(&sb) == before && !out.exists(), "nothing changed");
    assert_eq!(
        audit_events(&sb).len(),
        events,
        "refused before the transaction"
    );

    rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben")
        .arg("--out")
        .arg(&out)
        .args(["--approver", "Olga Reyes", "--approver", "Pat Kim"])
        .assert()
        .success()
        .stderr(contains("enough to rebuild it alone"))
        .stderr(contains(
            "override approved by Olga Reyes (typed name), Pat Kim (typed name)",
        ));
    assert_eq!(ShardFile::load(&out).unwrap().recipient, ben);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let entry = audit
        .lines()
        .find(|l| l.contains("SHARD_REWRAP") && l.contains("INITIATED"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(entry).unwrap();
    assert_eq!(
        v["details"]["concentration"],
        serde_json::json!({
            "holds": 2, "threshold": 2, "overrideApprovers": ["Olga Reyes", "Pat Kim"],
            "overrideApprovals": [
                {"name": "Olga Reyes", "typed": true}, {"name": "Pat Kim", "typed": true},
            ],
        })
    );
}

/// Two shards of a 3-of-3 key to one person: a warning and a confirmation
/// that names them; naming anyone else is refused.
#[test]
fn rewrap_giving_someone_a_second_shard_needs_their_name_confirmed() {
    let sb = sandbox();
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    custodian_core::drill::key::make_key(
        &ws,
        custodian_core::drill::key::MakeKeyRequest {
            custodians: ["Ana", "Ben", "Cy"].map(String::from).to_vec(),
            threshold: 3,
            key_id: Some("drill-gamma".into()),
            out_dir: None,
            generate: Vec::new(),
        },
    )
    .unwrap();
    drop(ws);
    let src = shard(&sb, "gamma", 1);
    let ben = recipient_of(&sb, "Ben");
    let out = sb.file("ben-gamma.shard.json");
    rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben")
        .arg("--out")
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains(
            "Ben would hold 2 shards of key drill-gamma (the key needs 3 to rebuild): confirm by naming Ben",
        ))
        .stderr(contains("--confirm-concentration \"Ben\""));
    rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben")
        .arg("--out")
        .arg(&out)
        .args(["--confirm-concentration", "Cy"])
        .assert()
        .failure()
        .stderr(contains(
            "the confirmation names `Cy`, but the shard would go to `Ben`",
        ));
    assert!(!out.exists());
    rewrap_cmd(&sb, &src, &identity(&sb, "Ana"), &ben, "Ben")
        .arg("--out")
        .arg(&out)
        .args(["--confirm-concentration", "Ben"])
        .assert()
        .success()
        .stderr(contains(
            "Ben will hold 2 shards of key drill-gamma (it needs 3 to rebuild)",
        ));
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let entry = audit
        .lines()
        .rfind(|l| l.contains("SHARD_REWRAP") && l.contains("INITIATED"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(entry).unwrap();
    assert_eq!(
        v["details"]["concentration"],
        serde_json::json!({"holds": 2, "threshold": 3, "confirmedHolder": "Ben"})
    );
}

/// The same rule on `shard restore-to-node`: a second shard of a 2-of-2
/// key to the same node's recipient would let the node rebuild it.
#[test]
fn restore_to_node_refuses_a_node_that_would_reach_the_threshold() {
    let sb = sandbox();
    let node = OpenedIdentity::generate("node");
    let restore = |index: u32, out: &Path, extra: &[&str]| {
        let holder = holder(index);
        let pass = sb.pass_file(&format!("p{index}"), &[pass_of(holder)]);
        let mut c = sb.cmd();
        c.args(["shard", "restore-to-node"])
            .arg(shard(&sb, "alpha", index))
            .arg("--identity")
            .arg(identity(&sb, holder))
            .args(["--node-recipient", &node.recipient, "--node", "mpc-node-7"])
            .arg("--out")
            .arg(out)
            .arg("--passphrase-file")
            .arg(pass)
            .args(extra);
        c
    };
    let first = sb.ws().join("shards").join("node-1.import.json");
    restore(1, &first, &[]).assert().success();
    let second = sb.ws().join("shards").join("node-2.import.json");
    restore(2, &second, &[])
        .assert()
        .failure()
        .stderr(contains(
            "mpc-node-7 would hold 2 shards of key drill-alpha, which needs 2: they could rebuild it alone",
        ));
    assert!(!second.exists());
    restore(
        2,
        &second,
        &["--approver", "Olga Reyes", "--approver", "Pat Kim"],
    )
    .assert()
    .success();
    assert!(audit_events(&sb).contains(&("SHARD_RESTORE_TO_NODE".into(), "COMPLETED".into())));
}
