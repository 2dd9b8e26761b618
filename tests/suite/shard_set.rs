//! The public-only shard-set check (`custodian shard verify-set`, and the
//! same check at the start of threshold recovery): the shards' public keys,
//! interpolated in the exponent, must give the root public key. No
//! passphrase is asked and nothing is decrypted; a shard that does not
//! belong is named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::path::PathBuf;

use common::Sandbox;
use custodian_core::recovery::{self, RecoveryError};
use custodian_core::shard::{self, ShardFile, SharePayload};
use predicates::prelude::*;
use shard_fixture::*;

fn verify_set(sb: &Sandbox, files: &[PathBuf]) -> assert_cmd::Command {
    let mut c = sb.cmd();
    c.args(["shard", "verify-set"]).args(files);
    // No terminal and no passphrase file: a prompt would fail the command.
    c.write_stdin("");
    c
}

/// Replaces shard `index` of drill-alpha with one whose payload agrees with
/// its own metadata but holds a share of no polynomial of the set.
fn forge(sb: &Sandbox, index: u32) -> PathBuf {
    let path = shard(sb, "alpha", index);
    let real = ShardFile::load(&path).unwrap();
    let wrong = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
        &mut custodian_core::rng::os(),
    );
    let payload = SharePayload::new(&real.key_id, index, &real.root_public_key, &wrong);
    let (forged, sealed) = ShardFile::seal(&payload, holder(index), &real.recipient, 2).unwrap();
    std::fs::remove_file(&path).unwrap();
    forged.write_checked(&path, &sealed, &payload).unwrap();
    path
}

#[test]
fn a_good_set_passes_without_a_passphrase() {
    let sb = sandbox();
    let all: Vec<PathBuf> = (1..=3).map(|i| shard(&sb, "alpha", i)).collect();
    let root = ShardFile::load(&all[0]).unwrap().root_public_key;
    verify_set(&sb, &all).assert().success().stdout(
        predicate::str::contains("OK: shards 1, 2, 3 belong to key drill-alpha (threshold 2)")
            .and(predicate::str::contains(root.as_str()))
            .and(predicate::str::contains("nothing was decrypted")),
    );
    let out = verify_set(&sb, &all[1..])
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["keyId"], "drill-alpha");
    assert_eq!(v["indices"], serde_json::json!([2, 3]));
    assert_eq!(v["rootPublicKey"], root.as_str());
}

#[test]
fn a_shard_that_does_not_belong_is_named() {
    let sb = sandbox();
    let bad = forge(&sb, 2);
    let all: Vec<PathBuf> = (1..=3).map(|i| shard(&sb, "alpha", i)).collect();
    verify_set(&sb, &all).assert().failure().code(1).stderr(
        predicate::str::contains(format!(
            "shard index 2 ({}) does not belong to key drill-alpha",
            bad.display()
        ))
        .and(predicate::str::contains("nothing decrypted")),
    );
    // With exactly the threshold, the set is refused without a culprit.
    verify_set(&sb, &[all[0].clone(), bad.clone()])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("do not combine to key drill-alpha's root public key")
                .and(predicate::str::contains("add one more custodian's shard")),
        );
    // Recovery runs the same check before its audit entry: nothing is
    // decrypted and no passphrase asked.
    let pass = sb.pass_file("p", &[pass_of("Ana"), pass_of("Ben"), pass_of("Cy")]);
    let out = sb.file("never.age");
    let mut c = sb.cmd();
    c.arg("recover");
    for i in 1..=3 {
        c.args(["--shard", shard(&sb, "alpha", i).to_str().unwrap()])
            .args(["--identity", identity(&sb, holder(i)).to_str().unwrap()]);
    }
    c.args(["--approver", "Officer One", "--approver", "Legal Two"])
        .args([
            "--to",
            &custodian_core::identity::OpenedIdentity::generate("V").recipient,
        ])
        .args(["--out", out.to_str().unwrap()])
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "shard index 2 (".to_string() + &bad.display().to_string(),
        ));
    assert!(!out.exists());
    assert!(
        !audit_events(&sb).iter().any(|(e, _)| e == recovery::EVENT),
        "the refused recovery must not reach the audit log"
    );
}

#[test]
fn an_edited_share_public_key_is_named() {
    let sb = sandbox();
    let beta = ShardFile::load(&shard(&sb, "beta", 3)).unwrap();
    let path = shard(&sb, "alpha", 3);
    tamper(
        &path,
        "sharePublicKey",
        serde_json::json!(beta.share_public_key),
    );
    let all: Vec<PathBuf> = (1..=3).map(|i| shard(&sb, "alpha", i)).collect();
    verify_set(&sb, &all)
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "shard index 3 ({}) does not belong",
            path.display()
        )));
}

#[test]
fn sets_that_cannot_be_checked_say_why() {
    let sb = sandbox();
    let a1 = shard(&sb, "alpha", 1);
    let b2 = shard(&sb, "beta", 2);
    verify_set(&sb, &[a1.clone(), b2])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is a shard of key drill-beta, not of drill-alpha",
        ));
    verify_set(&sb, std::slice::from_ref(&a1))
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "1 shard given, but key drill-alpha needs 2",
        ));
    let copy = sb.file("copy.shard.json");
    std::fs::copy(&a1, &copy).unwrap();
    verify_set(&sb, &[a1.clone(), copy])
        .assert()
        .failure()
        .stderr(predicate::str::contains("both hold share index 1"));
    let junk = sb.file("junk.json");
    std::fs::write(&junk, "{}").unwrap();
    verify_set(&sb, &[a1, junk.clone()])
        .assert()
        .failure()
        .stderr(predicate::str::contains(junk.display().to_string()));
}

/// A 3-of-5 set built in memory: every shard whose public key is off the
/// polynomial is named, one or two of them.
#[test]
fn larger_sets_name_every_shard_off_the_polynomial() {
    let sb = sandbox();
    let template = ShardFile::load(&shard(&sb, "alpha", 1)).unwrap();
    let secret = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
        &mut custodian_core::rng::os(),
    );
    let root = shard::public_key_hex(&shard::public_of(&secret).unwrap());
    let make = |shares: &[(u32, k256::Scalar)]| -> Vec<(PathBuf, ShardFile)> {
        shares
            .iter()
            .map(|(i, s)| {
                let mut f = template.clone();
                f.key_id = "k35".into();
                f.threshold = 3;
                f.index = *i;
                f.root_public_key = root.clone();
                f.share_public_key = shard::public_key_hex(&shard::public_of(s).unwrap());
                (PathBuf::from(format!("s{i}")), f)
            })
            .collect()
    };
    let check = |files: &Vec<(PathBuf, ShardFile)>| {
        let refs: Vec<(PathBuf, &ShardFile)> = files.iter().map(|(p, f)| (p.clone(), f)).collect();
        recovery::check_set_public(&refs)
    };
    let good = shard::split_scalar(&secret, 3, 5);
    let ok = check(&make(&good)).unwrap();
    assert_eq!(ok.indices, vec![1, 2, 3, 4, 5]);
    // Any three are enough on their own.
    check(&make(&good[2..])).unwrap();
    let random = || {
        *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
            &mut custodian_core::rng::os(),
        )
    };
    for bad in [vec![4usize], vec![0, 3]] {
        let mut shares = good.clone();
        for &b in &bad {
            shares[b].1 = random();
        }
        match check(&make(&shares)).unwrap_err() {
            RecoveryError::NotInSet { key_id, shards } => {
                assert_eq!(key_id, "k35");
                let named: Vec<u32> = shards.iter().map(|s| s.0).collect();
                let want: Vec<u32> = bad.iter().map(|&b| good[b].0).collect();
                assert_eq!(named, want);
            }
            other => panic!("{bad:?}: expected NotInSet, got {other}"),
        }
    }
    // Two shards moved by the same amount can fit a second polynomial
    // through the root with the rest (f(1)+1, f(4)+1 and f(5) do): which
    // shards are wrong is then ambiguous, and none is named.
    let mut shares = good.clone();
    shares[0].1 += k256::Scalar::ONE;
    shares[3].1 += k256::Scalar::ONE;
    assert!(matches!(
        check(&make(&shares)).unwrap_err(),
        RecoveryError::PublicCheckFailed { .. }
    ));
}
