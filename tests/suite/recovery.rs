//! Threshold recovery: every 2-subset of 3 rebuilds the verified key; each
//! bad input class gets its specific error with no output written; the
//! INITIATED entry names the approvers before anything is decrypted; and the
//! recovered key (the canary) appears nowhere but the chosen output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::path::{Path, PathBuf};

use common::Sandbox;
use custodian_core::identity::OpenedIdentity;
use custodian_core::recovery::{self, RecoveryError, RecoveryOutput, ShardSource};
use custodian_core::shard::{self, ShardFile, SharePayload};
use custodian_core::workspace::Workspace;
use k256::elliptic_curve::PrimeField;
use predicates::str::contains;
use secrecy::SecretString;
use shard_fixture::*;

fn sources(sb: &Sandbox, key: &str, indices: &[u32]) -> Vec<ShardSource> {
    indices
        .iter()
        .map(|&i| ShardSource {
            shard: shard(sb, key, i),
            identity: identity(sb, holder(i)),
        })
        .collect()
}

fn approvers() -> Vec<String> {
    vec!["Officer One".into(), "Legal Two".into()]
}

fn passes(indices: &[u32]) -> Vec<SecretString> {
    indices
        .iter()
        .map(|&i| SecretString::from(pass_of(holder(i))))
        .collect()
}

/// Decrypts an age output and returns the 32-byte key, checking its form.
fn open_age_output(path: &Path, id: &OpenedIdentity) -> [u8; 32] {
    let armored = std::fs::read(path).unwrap();
    let plain = age::decrypt(id.age_identity(), &armored).unwrap();
    let text = String::from_utf8(plain).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.ends_with('\n'));
    hex::decode(text.trim()).unwrap().try_into().unwrap()
}

fn root_of(key: &[u8; 32]) -> String {
    let s = k256::Scalar::from_repr((*key).into()).unwrap();
    shard::public_key_hex(&shard::public_of(&s).unwrap())
}

#[test]
fn every_two_of_three_subset_rebuilds_the_verified_key() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let root = ShardFile::load(&shard(&sb, "alpha", 1))
        .unwrap()
        .root_public_key;
    let out_id = OpenedIdentity::generate("Vault");
    let mut keys = Vec::new();
    for (n, subset) in [[1u32, 2], [1, 3], [2, 3], [3, 1]].iter().enumerate() {
        let out = sb.file(&format!("key{n}.age"));
        let plan = recovery::plan(
            &sources(&sb, "alpha", subset),
            &approvers(),
            RecoveryOutput::Age {
                recipient: out_id.recipient.clone(),
                out: out.clone(),
            },
        )
        .unwrap();
        let outcome = recovery::recover(&ws, &plan, &passes(subset)).unwrap();
        assert_eq!(outcome.root_public_key, root);
        assert!(outcome.shown_once.is_none());
        let key = open_age_output(&out, &out_id);
        assert_eq!(root_of(&key), root, "subset {subset:?}");
        keys.push(key);
    }
    assert!(keys.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn the_hsm_output_opens_with_openssl_and_is_the_key() {
    if common::missing_tool("openssl") {
        return;
    }
    let sb = sandbox();
    let pem = sb.file("hsm.pem");
    let public = sb.file("hsm.pub");
    let run = |args: &[&str]| {
        let st = std::process::Command::new("openssl")
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    };
    run(&["genrsa", "-out", pem.to_str().unwrap(), "2048"]);
    run(&[
        "rsa",
        "-in",
        pem.to_str().unwrap(),
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    let out = sb.file("key.oaep");
    let pass = sb.pass_file("p", &[pass_of("Ben"), pass_of("Cy")]);
    sb.cmd()
        .arg("recover")
        .args(["--shard", shard(&sb, "alpha", 2).to_str().unwrap()])
        .args(["--identity", identity(&sb, "Ben").to_str().unwrap()])
        .args(["--shard", shard(&sb, "alpha", 3).to_str().unwrap()])
        .args(["--identity", identity(&sb, "Cy").to_str().unwrap()])
        .args(["--approver", "Officer One", "--approver", "Legal Two"])
        .args(["--hsm-public-key", public.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .success()
        .stdout(contains("verified it against root public key"));
    let plain = std::process::Command::new("openssl")
        .args(["pkeyutl", "-decrypt", "-inkey", pem.to_str().unwrap()])
        .args([
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
        ])
        .args([
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
            "-in",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(plain.status.success());
    let key: [u8; 32] = plain.stdout.try_into().unwrap();
    let root = ShardFile::load(&shard(&sb, "alpha", 2))
        .unwrap()
        .root_public_key;
    assert_eq!(root_of(&key), root);
    // Canary: the key is nowhere in the sandbox in the clear.
    let hex_key = hex::encode(key);
    let all = sb.all_text();
    assert!(!all.contains(&hex_key));
    assert!(!all.to_uppercase().contains(&hex_key.to_uppercase()));
    for (path, bytes) in sb.snapshot() {
        assert!(
            !bytes.windows(32).any(|w| w == key),
            "raw key bytes in {}",
            path.display()
        );
    }
}

#[test]
fn canary_the_recovered_key_appears_only_in_the_chosen_output() {
    let sb = sandbox();
    let out_id = OpenedIdentity::generate("Vault");
    let out = sb.file("key.age");
    let pass = sb.pass_file("p", &[pass_of("Ana"), pass_of("Ben")]);
    let assert = sb
        .cmd()
        .arg("recover")
        .args(["--shard", shard(&sb, "alpha", 1).to_str().unwrap()])
        .args(["--identity", identity(&sb, "Ana").to_str().unwrap()])
        .args(["--shard", shard(&sb, "alpha", 2).to_str().unwrap()])
        .args(["--identity", identity(&sb, "Ben").to_str().unwrap()])
        .args(["--approver", "Officer One", "--approver", "Legal Two"])
        .args(["--to", &out_id.recipient, "--out", out.to_str().unwrap()])
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .success();
    let key = open_age_output(&out, &out_id);
    let hex_key = hex::encode(key);
    let output = assert.get_output();
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!console.contains(&hex_key));
    for (path, bytes) in sb.snapshot() {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(!text.contains(&hex_key), "key hex in {}", path.display());
        assert!(
            !bytes.windows(32).any(|w| w == key),
            "raw key bytes in {}",
            path.display()
        );
    }
    // The audit log records the recovery, the approvers, and the output's hash.
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "RECOVER_PRIVATE_KEY");
    assert_eq!(last["status"], "COMPLETED");
    assert_eq!(last["details"]["verified"], true);
    assert_eq!(
        last["details"]["outputSha256"],
        custodian_core::fsutil::sha256_hex(&std::fs::read(&out).unwrap())
    );
}

/// Runs a recovery expected to fail at planning (before the audit entry),
/// checking the error and that no file at all changed.
fn refused_before_audit(
    sb: &Sandbox,
    srcs: Vec<ShardSource>,
    approvers: Vec<String>,
) -> RecoveryError {
    let before = sb.snapshot();
    let out = sb.file("never.age");
    let err = recovery::plan(
        &srcs,
        &approvers,
        RecoveryOutput::Age {
            recipient: OpenedIdentity::generate("V").recipient,
            out: out.clone(),
        },
    )
    .unwrap_err();
    assert!(!out.exists());
    assert_eq!(before, sb.snapshot());
    err
}

/// Runs a recovery expected to fail after the INITIATED entry: no output,
/// nothing changed but the audit log, which ends INITIATED (naming the
/// approvers) then FAILED.
fn refused_after_audit(
    sb: &Sandbox,
    srcs: Vec<ShardSource>,
    passphrases: Vec<SecretString>,
) -> RecoveryError {
    let ws = Workspace::open(sb.ws()).unwrap();
    let before = snapshot_without_audit(sb);
    let out = sb.file("never.age");
    let plan = recovery::plan(
        &srcs,
        &approvers(),
        RecoveryOutput::Age {
            recipient: OpenedIdentity::generate("V").recipient,
            out: out.clone(),
        },
    )
    .unwrap();
    let err = recovery::recover(&ws, &plan, &passphrases).unwrap_err();
    assert!(!out.exists());
    assert_eq!(before, snapshot_without_audit(sb));
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (init, fail) = (&lines[lines.len() - 2], &lines[lines.len() - 1]);
    assert_eq!(init["event"], "RECOVER_PRIVATE_KEY");
    assert_eq!(init["status"], "INITIATED");
    assert_eq!(
        init["details"]["approvers"],
        serde_json::json!(["Officer One", "Legal Two"])
    );
    assert_eq!(fail["status"], "FAILED");
    assert_eq!(fail["op"], init["op"]);
    err
}

#[test]
fn wrong_passphrase_is_named_after_the_approvers_were_recorded() {
    let sb = sandbox();
    let err = refused_after_audit(
        &sb,
        sources(&sb, "alpha", &[1, 2]),
        vec![
            SecretString::from(pass_of("Ana")),
            SecretString::from(pass_of("Ana")),
        ],
    );
    // The identity's passphrase was wrong: the error blames Ben's identity
    // file, not the shard (which has no passphrase).
    assert!(
        matches!(err, RecoveryError::IdentityPassphrase { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("Ben's passphrase does not open"),
        "{err}"
    );
    assert!(err.to_string().contains("ben.identity.json"), "{err}");
    assert!(!err.to_string().contains("drill-alpha.2.ben"), "{err}");
}

#[test]
fn wrong_identity_is_refused_before_anything_is_written() {
    let sb = sandbox();
    let mut srcs = sources(&sb, "alpha", &[1, 2]);
    srcs[1].identity = identity(&sb, "Cy");
    let err = refused_before_audit(&sb, srcs, approvers());
    assert!(
        err.to_string().contains("but the identity given is Cy's"),
        "{err}"
    );
}

#[test]
fn a_shard_of_another_key_is_refused() {
    let sb = sandbox();
    let mut srcs = sources(&sb, "alpha", &[1, 2]);
    srcs[1].shard = shard(&sb, "beta", 2);
    let err = refused_before_audit(&sb, srcs, approvers());
    assert!(matches!(err, RecoveryError::OtherKey { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("is a shard of key drill-beta, not of drill-alpha")
    );
}

#[test]
fn a_duplicate_index_is_refused() {
    let sb = sandbox();
    let copy = sb.file("copy-of-ana.shard.json");
    std::fs::copy(shard(&sb, "alpha", 1), &copy).unwrap();
    let mut srcs = sources(&sb, "alpha", &[1, 1]);
    srcs[1].shard = copy;
    let err = refused_before_audit(&sb, srcs, approvers());
    assert!(
        matches!(err, RecoveryError::DuplicateIndex { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn below_threshold_is_refused() {
    let sb = sandbox();
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[3]), approvers());
    assert!(
        matches!(
            err,
            RecoveryError::BelowThreshold {
                given: 1,
                threshold: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn fewer_than_two_distinct_approvers_are_refused() {
    let sb = sandbox();
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[1, 2]), vec!["Solo".into()]);
    assert!(matches!(err, RecoveryError::TooFewApprovers { given: 1 }));
    let err = refused_before_audit(
        &sb,
        sources(&sb, "alpha", &[1, 2]),
        vec!["Solo".into(), "Solo".into()],
    );
    assert!(matches!(err, RecoveryError::DuplicateApprover(_)));
}

/// An edited index moves the shard's public key off the polynomial: the
/// public check refuses the set before anything is decrypted.
#[test]
fn a_tampered_index_is_caught_before_anything_is_decrypted() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 2);
    tamper(&path, "index", serde_json::json!(3));
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[1, 2]), approvers());
    assert!(
        matches!(err, RecoveryError::PublicCheckFailed { .. }),
        "{err}"
    );
}

#[test]
fn a_tampered_root_public_key_is_caught() {
    let sb = sandbox();
    let other = ShardFile::load(&shard(&sb, "beta", 1))
        .unwrap()
        .root_public_key;
    // On one shard: the shards disagree before anything is decrypted.
    let path = shard(&sb, "alpha", 2);
    tamper(&path, "rootPublicKey", serde_json::json!(other));
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[1, 2]), approvers());
    assert!(
        matches!(err, RecoveryError::RootKeyMismatch { .. }),
        "{err}"
    );
    // On both: the shards' public keys do not combine to that root, so
    // the set is refused before anything is decrypted.
    tamper(
        &shard(&sb, "alpha", 1),
        "rootPublicKey",
        serde_json::json!(other),
    );
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[1, 2]), approvers());
    assert!(
        matches!(err, RecoveryError::PublicCheckFailed { .. }),
        "{err}"
    );
}

#[test]
fn corrupted_ciphertext_is_named() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 1);
    let mut file = ShardFile::load(&path).unwrap();
    file.wrapped_key_share = file.wrapped_key_share.replacen("YWdl", "YXdl", 1);
    std::fs::write(&path, file.to_bytes()).unwrap();
    let err = refused_after_audit(&sb, sources(&sb, "alpha", &[1, 2]), passes(&[1, 2]));
    assert!(
        err.to_string().contains("the wrapped key share is damaged"),
        "{err}"
    );
}

/// A shard whose payload agrees with its own metadata but holds the wrong
/// share (as a buggy or malicious re-issue would): the public check of the
/// set refuses it before the audit entry, before any shard is decrypted;
/// with three shards it is named.
#[test]
fn a_consistent_but_wrong_shard_is_refused_before_anything_is_decrypted() {
    let sb = sandbox();
    let path = shard(&sb, "alpha", 3);
    let real = ShardFile::load(&path).unwrap();
    let wrong = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
        &mut custodian_core::rng::os(),
    );
    let payload = SharePayload::new(&real.key_id, 3, &real.root_public_key, &wrong);
    let (forged, sealed) = ShardFile::seal(&payload, "Cy", &real.recipient, 2).unwrap();
    std::fs::remove_file(&path).unwrap();
    forged.write_checked(&path, &sealed, &payload).unwrap();
    // With exactly the threshold, the mismatch is reported without a culprit.
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[1, 3]), approvers());
    assert!(
        matches!(err, RecoveryError::PublicCheckFailed { .. }),
        "{err}"
    );
    // With all three, the shard that does not belong is named.
    let err = refused_before_audit(&sb, sources(&sb, "alpha", &[1, 2, 3]), approvers());
    match err {
        RecoveryError::NotInSet { shards, .. } => {
            assert_eq!(shards, vec![(3, path.clone())]);
        }
        other => panic!("expected NotInSet, got {other}"),
    }
}

#[test]
fn cli_refuses_unpaired_inputs_and_missing_output_choice() {
    let sb = sandbox();
    let s = shard(&sb, "alpha", 1);
    sb.cmd()
        .arg("recover")
        .args([
            "--shard",
            s.to_str().unwrap(),
            "--shard",
            s.to_str().unwrap(),
        ])
        .args(["--identity", identity(&sb, "Ana").to_str().unwrap()])
        .args([
            "--approver",
            "A",
            "--approver",
            "B",
            "--to",
            "age1x",
            "--out",
            "x",
        ])
        .assert()
        .code(1)
        .stderr(contains("each shard needs the identity file of its holder"));
    sb.cmd()
        .arg("recover")
        .args(["--shard", s.to_str().unwrap()])
        .args(["--identity", identity(&sb, "Ana").to_str().unwrap()])
        .args(["--approver", "A", "--approver", "B"])
        .assert()
        .code(2);
    // --show-once without a terminal is refused before anything happens.
    let before = sb.snapshot();
    sb.cmd()
        .arg("recover")
        .args(["--shard", s.to_str().unwrap()])
        .args(["--identity", identity(&sb, "Ana").to_str().unwrap()])
        .args(["--approver", "A", "--approver", "B", "--show-once"])
        .assert()
        .code(1)
        .stderr(contains("needs an interactive terminal"));
    assert_eq!(before, sb.snapshot());
}

#[test]
fn screen_output_hands_back_the_key_only_in_memory() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let before: Vec<PathBuf> = sb.snapshot().into_iter().map(|(p, _)| p).collect();
    let plan = recovery::plan(
        &sources(&sb, "alpha", &[2, 3]),
        &approvers(),
        RecoveryOutput::Screen,
    )
    .unwrap();
    let outcome = recovery::recover(&ws, &plan, &passes(&[2, 3])).unwrap();
    let key = outcome.shown_once.unwrap();
    assert_eq!(format!("{key:?}"), "RecoveredKey(<redacted>)");
    let grouped = key.grouped_hex();
    let hex_key: String = grouped.split(' ').collect();
    assert_eq!(grouped.split(' ').count(), 8);
    let bytes: [u8; 32] = hex::decode(&hex_key).unwrap().try_into().unwrap();
    assert_eq!(root_of(&bytes), plan.root_public_key);
    recovery::record_cleared(&ws, &outcome.key_id, &outcome.audit_op, None).unwrap();
    // No new file; the key is in no file.
    let after: Vec<PathBuf> = sb.snapshot().into_iter().map(|(p, _)| p).collect();
    assert_eq!(before, after);
    assert!(!sb.all_text().to_lowercase().contains(&hex_key));
}
