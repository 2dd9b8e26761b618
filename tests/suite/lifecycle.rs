//! Custodian lifecycle: rotation, retirement, guardian roll call and the
//! registry history they leave, with real keys (the shard fixture's drill
//! key `drill-alpha`/`drill-beta`, 2-of-3 among Ana, Ben and Cy) and the
//! real 600,000-iteration envelopes. Fault and kill sweeps of rotation live
//! in `tests/transactions.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::path::PathBuf;

use common::{PASS_A, PASS_B, Sandbox, gpass};
use custodian_core::envelope;
use custodian_core::guardians::{
    self, GuardianError, LoadedShare, ShareFile, ShareSet, SplitRequest, roll_call,
};
use custodian_core::identity::IdentityFile;
use custodian_core::lifecycle::{
    self, CustodianStatus, LifecycleError, onboard, retire,
    rotate::{self, RotationRequest},
};
use custodian_core::shard::ShardFile;
use custodian_core::workspace::Workspace;
use predicates::prelude::*;
use secrecy::SecretString;
use shard_fixture::*;

const GUARDIANS: [&str; 3] = ["Gus", "Hal", "Ivy"];

/// Splits Ana's key 2-of-3 among Gus, Hal and Ivy; returns the share files.
fn split_ana(sb: &Sandbox) -> Vec<PathBuf> {
    let ws = Workspace::open(sb.ws()).unwrap();
    let o = guardians::split(
        &ws,
        SplitRequest {
            identity_path: &identity(sb, "Ana"),
            identity_passphrase: &SecretString::from(pass_of("Ana")),
            threshold: 2,
            guardians: GUARDIANS
                .iter()
                .map(|g| (g.to_string(), SecretString::from(gpass(g))))
                .collect(),
            out_dir: None,
        },
        &|_, _, _| {},
    )
    .unwrap();
    o.shares.into_iter().map(|s| s.path).collect()
}

fn loaded(p: &std::path::Path) -> LoadedShare {
    LoadedShare::from_path(p).unwrap()
}

fn roll(ws: &Workspace, shares: &[&PathBuf]) -> Result<roll_call::RollCallOutcome, GuardianError> {
    let call = roll_call::prepare(ws, shares.iter().map(|p| loaded(p)).collect())?;
    let passes: Vec<SecretString> = call
        .shares
        .iter()
        .map(|m| SecretString::from(gpass(&m.share.guardian)))
        .collect();
    roll_call::run(ws, &call, &passes, &|_, _, _| {})
}

fn combine(ws: &Workspace, shares: &[&PathBuf]) -> Result<guardians::Combined, GuardianError> {
    let loaded: Vec<LoadedShare> = shares.iter().map(|p| loaded(p)).collect();
    let known = ShareSet::known_split(ws, &loaded[0].share.set_id);
    let set = ShareSet::assemble(loaded, known.as_ref())?;
    let passes: Vec<SecretString> = set
        .members
        .iter()
        .map(|m| SecretString::from(gpass(&m.share.guardian)))
        .collect();
    guardians::combine(
        ws,
        &set,
        &passes,
        &SecretString::from(PASS_A),
        None,
        &|_, _, _| {},
    )
}

/// `custodian --json check`, parsed (it exits 1 when a check fails).
fn check_json(sb: &Sandbox, fake_now: Option<&str>) -> serde_json::Value {
    let mut cmd = sb.cmd();
    if let Some(t) = fake_now {
        cmd.env("CUSTODIAN_FAKE_NOW", t);
    }
    let out = cmd.args(["--json", "check"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One check of a `check --json` document, by id.
fn check_item(v: &serde_json::Value, id: &str) -> serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {v}"))
        .clone()
}

fn events(sb: &Sandbox, event: &str) -> Vec<String> {
    audit_events(sb)
        .into_iter()
        .filter(|(e, _)| e == event)
        .map(|(_, s)| s)
        .collect()
}

#[test]
fn rotation_end_to_end_moves_every_shard_and_supersedes_the_old_guardian_set() {
    let sb = sandbox();
    let old_shares = split_ana(&sb);
    make_rotation_overdue(&sb, "Ana");
    let ws = Workspace::open(sb.ws()).unwrap();
    let old_identity = IdentityFile::load(&identity(&sb, "Ana"))
        .unwrap()
        .open(&SecretString::from(pass_of("Ana")))
        .unwrap();

    let plan = rotate::plan(&ws, "Ana", None).unwrap();
    assert_eq!(plan.shards.len(), 2, "drill-alpha #1 and drill-beta #1");
    assert_eq!(plan.guardians, GUARDIANS.map(String::from).to_vec());
    // The share files to move are worked out once, in the plan (the
    // confirmation screens draw from it and never look at the disk).
    assert_eq!(plan.share_files, old_shares);
    // A wrong old passphrase is refused before anything is written (audited).
    let before = snapshot_without_audit(&sb);
    let err = rotate::open_old(&ws, &plan, &SecretString::from(PASS_B)).unwrap_err();
    assert!(matches!(err, LifecycleError::Identity(_)), "{err}");
    assert_eq!(snapshot_without_audit(&sb), before);
    assert_eq!(events(&sb, rotate::EVENT), ["INITIATED", "FAILED"]);
    // The console's early check opens an identity without a token and
    // hands it on, so the rotation need not open it again (one KDF);
    // a right passphrase audits nothing.
    let checked = rotate::check_old(&ws, &plan, &SecretString::from(pass_of("Ana")))
        .unwrap()
        .expect("opened by the check");
    assert_eq!(checked.recipient, old_identity.recipient);
    assert_eq!(events(&sb, rotate::EVENT), ["INITIATED", "FAILED"]);

    let old = rotate::open_old(&ws, &plan, &SecretString::from(pass_of("Ana"))).unwrap();
    let new_pass = SecretString::from("quartz meadow lantern pilot velvet harbor");
    let o = rotate::rotate(
        &ws,
        RotationRequest {
            plan: &plan,
            old: &old,
            new_passphrase: &new_pass,
            guardians: GUARDIANS
                .iter()
                .map(|g| (g.to_string(), SecretString::from(gpass(g))))
                .collect(),
            threshold: 2,
            destroy_old_identity: false,
            token: None,
        },
        &|_, _, _| {},
    )
    .unwrap();
    assert_ne!(o.new_recipient, o.old_recipient);
    let new = IdentityFile::load(&o.identity_file)
        .unwrap()
        .open(&new_pass)
        .unwrap();
    assert_eq!(new.recipient, o.new_recipient);

    // The new identity opens every one of Ana's shards; the old opens none.
    let reg = ws.registry().unwrap();
    let anas: Vec<_> = reg
        .shards
        .iter()
        .filter(|r| r.custodian == "Ana" && r.file.exists())
        .collect();
    assert_eq!(anas.len(), 2, "{anas:?}");
    for r in &anas {
        let f = ShardFile::load(&r.file).unwrap();
        assert_eq!(f.recipient, o.new_recipient);
        f.open(&new).unwrap();
        assert!(f.open(&old_identity).is_err());
    }
    // The old files moved to retired/, nothing deleted or overwritten.
    assert!(!identity(&sb, "Ana").exists());
    assert!(!shard(&sb, "alpha", 1).exists());
    assert!(
        sb.ws()
            .join("retired/identities/ana.identity.json")
            .exists()
    );
    assert!(
        sb.ws()
            .join("retired/shards/drill-alpha.1.ana.shard.json")
            .exists()
    );
    for p in &old_shares {
        assert!(!p.exists(), "{} not retired", p.display());
    }
    // Registry: Ana active with the new key, the old identity in the history.
    let ana = reg.custodian("Ana").unwrap();
    assert_eq!(ana.recipient, o.new_recipient);
    assert_eq!(ana.rotation_due, o.rotation_due);
    common::assert_due_in_90_days(&o.rotation_due);
    let past = &reg.custodian_history[0];
    assert_eq!(past.status, CustodianStatus::Rotated);
    assert_eq!(past.recipient, o.old_recipient);
    assert_eq!(past.successor.recipient, o.new_recipient);
    assert_eq!(lifecycle::roster(&reg).len(), 4);
    assert_eq!(lifecycle::retired_count(&reg), 0);

    // The old guardian set is refused with when and by what; the new rebuilds.
    let retired_share = |p: &PathBuf| {
        sb.ws()
            .join("retired/guardian-shares")
            .join(p.file_name().unwrap())
    };
    let (a, b) = (retired_share(&old_shares[0]), retired_share(&old_shares[1]));
    let err = combine(&ws, &[&a, &b]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GuardianError::Superseded { .. }), "{msg}");
    let new_set = o.split.as_ref().unwrap();
    assert!(
        msg.contains("superseded on") && msg.contains(&format!("by set {}", &new_set.set_id[..8])),
        "{msg}"
    );
    let err = roll(&ws, &[&a]).unwrap_err();
    assert!(matches!(err, GuardianError::Superseded { .. }), "{err}");
    let n: Vec<PathBuf> = new_set.shares.iter().map(|s| s.path.clone()).collect();
    let rebuilt = combine(&ws, &[&n[0], &n[2]]).unwrap();
    assert_eq!(rebuilt.recipient, o.new_recipient);

    assert_eq!(
        events(&sb, rotate::EVENT),
        ["INITIATED", "FAILED", "INITIATED", "COMPLETED"]
    );
    ws.audit().verify().unwrap();
    let text = sb.all_text();
    assert!(!text.contains("AGE-SECRET-KEY-"), "a plaintext key on disk");
    assert!(
        !text.contains("custodian-shard-payload"),
        "a plaintext shard on disk"
    );
    assert!(!text.contains("quartz meadow"), "a passphrase on disk");
}

#[test]
fn rotation_with_destroy_old_identity_removes_it_and_records_that() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    // Cy keeps his drill-beta shard on a stick: registered, not here.
    let away = shard(&sb, "beta", 3);
    std::fs::remove_file(&away).unwrap();
    let plan = rotate::plan(&ws, "Cy", None).unwrap();
    let old = rotate::open_old(&ws, &plan, &SecretString::from(pass_of("Cy"))).unwrap();
    let o = rotate::rotate(
        &ws,
        RotationRequest {
            plan: &plan,
            old: &old,
            new_passphrase: &SecretString::from(PASS_B),
            guardians: Vec::new(),
            threshold: 0,
            destroy_old_identity: true,
            token: None,
        },
        &|_, _, _| {},
    )
    .unwrap();
    assert!(!identity(&sb, "Cy").exists());
    assert!(!sb.ws().join("retired/identities/cy.identity.json").exists());
    let destroyed = o
        .retired_files
        .iter()
        .find(|r| r.from == identity(&sb, "Cy"))
        .unwrap();
    assert_eq!(destroyed.to, None);
    // Its shards still moved to retired/.
    assert!(
        sb.ws()
            .join("retired/shards/drill-alpha.3.cy.shard.json")
            .exists()
    );

    // The copy on the stick could not be moved: listed to destroy
    // (CLARIFICATIONS 11), and `check` keeps flagging it by path.
    assert_eq!(o.destroy_elsewhere, std::slice::from_ref(&away));
    let rc = check_item(&check_json(&sb, None), "retired-copies");
    assert_eq!(rc["status"], "fail", "{rc}");
    let findings = rc["findings"].to_string();
    assert!(findings.contains(away.to_str().unwrap()), "{findings}");
    assert!(findings.contains("confirm-destroyed"), "{findings}");
    // Someone destroys it and says so, by name: audited, then the check passes.
    sb.cmd()
        .args(["custodians", "confirm-destroyed"])
        .arg(&away)
        .args(["--operator", "Olga Officer"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "destroyed (confirmed by Olga Officer)",
        ));
    let entries = ws.audit().entries().unwrap();
    let done = entries
        .iter()
        .find(|e| {
            e.event == lifecycle::EVENT_DESTROYED
                && e.status == custodian_core::audit::Status::Completed
        })
        .expect("the confirmation is audited");
    let initiated = entries
        .iter()
        .find(|e| e.op == done.op && e.status == custodian_core::audit::Status::Initiated)
        .unwrap();
    assert_eq!(initiated.details["operator"], "Olga Officer");
    assert_eq!(initiated.details["file"], away.to_str().unwrap());
    let rc = check_item(&check_json(&sb, None), "retired-copies");
    assert_eq!(rc["status"], "pass", "{rc}");
    // A second confirmation of the same copy, or of a path never listed, is
    // refused and writes nothing.
    let before = snapshot_without_audit(&sb);
    sb.cmd()
        .args(["custodians", "confirm-destroyed"])
        .arg(sb.file("elsewhere.json"))
        .args(["--operator", "Olga Officer"])
        .assert()
        .code(1);
    assert_eq!(snapshot_without_audit(&sb), before);
    ws.audit().verify().unwrap();
}

#[test]
fn rotation_refuses_to_drop_an_existing_guardian_set() {
    let sb = sandbox();
    split_ana(&sb);
    let ws = Workspace::open(sb.ws()).unwrap();
    let plan = rotate::plan(&ws, "Ana", None).unwrap();
    let old = rotate::open_old(&ws, &plan, &SecretString::from(pass_of("Ana"))).unwrap();
    let before = snapshot_without_audit(&sb);
    let err = rotate::rotate(
        &ws,
        RotationRequest {
            plan: &plan,
            old: &old,
            new_passphrase: &SecretString::from(PASS_B),
            guardians: Vec::new(),
            threshold: 0,
            destroy_old_identity: false,
            token: None,
        },
        &|_, _, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, LifecycleError::ResplitRequired(_)), "{err}");
    assert_eq!(snapshot_without_audit(&sb), before);
    assert!(matches!(
        rotate::plan(&ws, "Zed", None).unwrap_err(),
        LifecycleError::UnknownCustodian(_)
    ));
}

#[test]
fn roll_call_passes_a_good_share_and_names_each_bad_one() {
    let sb = sandbox();
    let shares = split_ana(&sb);
    let ws = Workspace::open(sb.ws()).unwrap();

    // Good: recorded per guardian, on a transaction.
    let o = roll(&ws, &[&shares[0], &shares[1]]).unwrap();
    assert_eq!(o.passed, [("Gus".to_string(), 1), ("Hal".to_string(), 2)]);
    assert_eq!(o.seen_this_quarter, 2);
    let split = ws.registry().unwrap().guardian_splits.splits[0].clone();
    assert_eq!(split.commitments.len(), 3);
    assert!(split.roll_call.contains_key("Gus") && !split.roll_call.contains_key("Ivy"));
    assert_eq!(events(&sb, roll_call::EVENT), ["INITIATED", "COMPLETED"]);

    // Wrong passphrase.
    let call = roll_call::prepare(&ws, vec![loaded(&shares[2])]).unwrap();
    let err = roll_call::run(&ws, &call, &[SecretString::from(PASS_A)], &|_, _, _| {}).unwrap_err();
    assert!(
        matches!(err, GuardianError::WrongPassphrase { ref guardian, .. } if guardian == "Ivy"),
        "{err}"
    );

    // Bytes that differ from the commitment, re-sealed under the same
    // passphrase and header: it opens, and the commitment catches it.
    let mut forged = ShareFile::load(&shares[2]).unwrap();
    let mut bytes = vec![forged.index];
    bytes.extend([0x5a; 32]);
    forged.envelope = envelope::seal(
        &bytes,
        &SecretString::from(gpass("Ivy")),
        envelope::DEFAULT_ITERATIONS,
        Some(forged.context()),
    )
    .unwrap();
    let forged_path = sb.file("forged.share.json");
    std::fs::write(&forged_path, forged.to_bytes()).unwrap();
    forged.open(&SecretString::from(gpass("Ivy"))).unwrap();
    let err = roll(&ws, &[&forged_path]).unwrap_err();
    assert!(
        matches!(err, GuardianError::CommitmentMismatch { ref guardian, index: 3, .. } if guardian == "Ivy"),
        "{err}"
    );
    assert!(
        err.to_string().contains("differ from what was split"),
        "{err}"
    );
    // Nothing recorded for a failed roll call.
    let split = ws.registry().unwrap().guardian_splits.splits[0].clone();
    assert!(!split.roll_call.contains_key("Ivy"));

    // A split recorded before commitments existed: a specific error and the fix.
    ws.update_registry(|r| {
        r.guardian_splits.splits[0].commitments.clear();
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let err = roll_call::prepare(&ws, vec![loaded(&shares[0])]).unwrap_err();
    assert!(matches!(err, GuardianError::NoCommitments { .. }), "{err}");
    let remedy = custodian_core::error::Explain::remedy(&err).unwrap();
    assert!(
        remedy.contains("custodian rotate --custodian Ana"),
        "{remedy}"
    );

    // A later split supersedes this one: its shares are refused by name.
    split_ana(&sb);
    let err = roll_call::prepare(&ws, vec![loaded(&shares[0])]).unwrap_err();
    assert!(err.to_string().contains("superseded on"), "{err}");
}

#[test]
fn roll_call_from_the_command_line_and_what_check_flags() {
    let sb = sandbox();
    let shares = split_ana(&sb);
    let check = |sb: &Sandbox| check_json(sb, None);
    let find = check_item;
    // Nobody proved anything yet: every guardian flagged, the set below threshold.
    let v = check(&sb);
    let rc = find(&v, "guardian-roll-call");
    assert_eq!(rc["status"], "fail");
    assert!(
        rc["findings"]
            .to_string()
            .contains("guardian Gus (Ana's set"),
        "{rc}"
    );
    assert_eq!(find(&v, "guardian-quorum")["status"], "fail");

    let lines = [gpass("Gus"), gpass("Hal")];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    sb.cmd()
        .args(["guardians", "roll-call"])
        .arg(&shares[0])
        .arg(&shares[1])
        .arg("--passphrase-file")
        .arg(sb.pass_file("rc.pass", &refs))
        .assert()
        .success()
        .stdout(predicate::str::contains("#1 Gus: share opens and matches"))
        .stdout(predicate::str::contains(
            "2 of 2 needed guardians seen this quarter",
        ));
    let v = check(&sb);
    // Ivy is still flagged, but the set reaches its threshold this quarter.
    let rc = find(&v, "guardian-roll-call");
    assert_eq!(rc["status"], "fail");
    assert_eq!(rc["findings"].as_array().unwrap().len(), 1, "{rc}");
    assert!(rc["findings"][0].as_str().unwrap().contains("Ivy"));
    assert_eq!(find(&v, "guardian-quorum")["status"], "pass");

    // Wrong passphrase: exit 1, a specific message, nothing recorded.
    sb.cmd()
        .args(["guardians", "roll-call"])
        .arg(&shares[2])
        .arg("--passphrase-file")
        .arg(sb.pass_file("bad.pass", &[PASS_A]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "Ivy's passphrase does not open share 3",
        ));
}

#[test]
fn retirement_refuses_concentration_then_moves_shards_with_an_audited_override() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    // Ben already holds drill-alpha #2; taking Ana's #1 reaches 2-of-3 alone.
    let plan = retire::plan(&ws, "Ana", "Ben", None).unwrap();
    assert_eq!(plan.shards.len(), 2);
    let err = retire::check_approval(&plan, true, &[]).unwrap_err();
    assert!(
        matches!(
            err,
            LifecycleError::ReachesThreshold {
                holds: 2,
                threshold: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = retire::check_approval(&plan, false, &["Olga".into(), "olga".into()]).unwrap_err();
    assert!(matches!(err, LifecycleError::TooFewApprovers(1)), "{err}");
    // Neither the retiree nor the successor approves their own override.
    for (who, role) in [("Ben", "successor"), ("ana", "retiree")] {
        let err = retire::check_approval(&plan, false, &["Olga".into(), who.into()]).unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "is the {role} of this operation and cannot approve their own override"
            )),
            "{err}"
        );
    }
    // Nor does a shard's new holder approve the override of its rewrap.
    let reg = ws.registry().unwrap();
    let err = custodian_core::shard::check_rewrap_concentration(
        &reg,
        &ShardFile::load(&shard(&sb, "alpha", 1)).unwrap(),
        &reg.custodian("Ben").unwrap().recipient,
        "Ben",
        &custodian_core::shard::ConcentrationApproval {
            confirm_holder: None,
            approvers: vec!["Olga".into(), "BEN".into()],
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("approver `BEN` is the new holder of this operation"),
        "{err}"
    );
    let self_pass = sb.pass_file("ana-self.pass", &[pass_of("Ana")]);
    let before = sb.snapshot();
    sb.cmd()
        .args(["retire", "--custodian", "Ana", "--successor", "Ben"])
        .args(["--approver", "Olga Reyes", "--approver", "ben"])
        .arg("--passphrase-file")
        .arg(&self_pass)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "approver `ben` is the successor of this operation and cannot approve their own override",
        ))
        .stderr(predicate::str::contains("gain nothing from it"));
    assert_eq!(sb.snapshot(), before);
    assert!(matches!(
        retire::plan(&ws, "Ana", "Ana", None).unwrap_err(),
        LifecycleError::SelfSuccession(_)
    ));
    assert!(matches!(
        retire::plan(&ws, "Ana", "Zed", None).unwrap_err(),
        LifecycleError::UnknownCustodian(_)
    ));

    // The command line refuses before asking any passphrase; nothing changes.
    let before = sb.snapshot();
    sb.cmd()
        .args(["retire", "--custodian", "Ana", "--successor", "Ben"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "Ben would hold 2 shards of key drill-alpha, which needs 2: they could rebuild it alone",
        ))
        .stderr(predicate::str::contains("--approver"));
    assert_eq!(sb.snapshot(), before);

    // With two approvers the override goes through and is audited.
    sb.cmd()
        .args(["retire", "--custodian", "Ana", "--successor", "Ben"])
        .args(["--approver", "Olga Reyes", "--approver", "Pat Kim"])
        .arg("--passphrase-file")
        .arg(sb.pass_file("ana.pass", &[pass_of("Ana")]))
        .assert()
        .success()
        .stdout(predicate::str::contains("retired Ana; successor Ben"))
        .stdout(predicate::str::contains(
            "override approved by Olga Reyes, Pat Kim",
        ));
    let reg = ws.registry().unwrap();
    assert!(reg.custodian("Ana").is_none());
    assert_eq!(lifecycle::retired_count(&reg), 1);
    let past = &reg.custodian_history[0];
    assert_eq!(past.status, CustodianStatus::Retired);
    assert_eq!(past.successor.name, "Ben");
    assert_eq!(past.approvers, ["Olga Reyes", "Pat Kim"]);
    let ben = IdentityFile::load(&identity(&sb, "Ben"))
        .unwrap()
        .open(&SecretString::from(pass_of("Ben")))
        .unwrap();
    let moved: Vec<_> = reg
        .shards
        .iter()
        .filter(|r| r.origin == "retirement")
        .collect();
    assert_eq!(moved.len(), 2);
    for r in moved {
        ShardFile::load(&r.file).unwrap().open(&ben).unwrap();
    }
    assert!(!shard(&sb, "alpha", 1).exists());
    assert!(
        sb.ws()
            .join("retired/identities/ana.identity.json")
            .exists()
    );
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let initiated = audit
        .lines()
        .find(|l| l.contains(retire::EVENT) && l.contains("INITIATED"))
        .unwrap();
    assert!(initiated.contains("Olga Reyes") && initiated.contains("reaches-threshold"));
    assert_eq!(events(&sb, retire::EVENT), ["INITIATED", "COMPLETED"]);

    // Home shows the active custodians and how many retired, at both sizes.
    let app = common::tui::offline_app(Workspace::open(sb.ws()).unwrap());
    for (w, h) in [(80, 24), (120, 40)] {
        let text = common::tui::screen_text(&common::tui::draw(&app, w, h));
        assert!(
            text.contains("Custodians (2) · 1 retired"),
            "{w}x{h}:\n{text}"
        );
        assert!(text.contains("Ben") && text.contains("Cy"));
        assert!(
            !text.contains("Ana "),
            "{w}x{h}: a retired custodian listed:\n{text}"
        );
    }

    // The roster: active custodians, and the retired one with --all.
    sb.cmd()
        .args(["custodians", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("active   Ben"))
        .stdout(predicate::str::contains(
            "(1 retired custodian; --all lists them)",
        ));
    sb.cmd()
        .args(["custodians", "list", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("retired  Ana"))
        .stdout(predicate::str::contains("successor Ben"));
}

/// A guardian whose last roll call is more than a quarter old is flagged
/// by name — by `check` (the clock moved on with the test clock, and with
/// the registry's date set back) and on the threat 3 screen — and a set
/// whose guardians seen this quarter fall below its threshold fails the
/// quorum check.
#[test]
fn a_guardian_last_seen_more_than_a_quarter_ago_is_flagged_by_check_and_threat_3() {
    use crate::common::tui;
    let sb = sandbox();
    let shares = split_ana(&sb);
    let lines: Vec<String> = GUARDIANS.iter().map(|g| gpass(g)).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    sb.cmd()
        .args(["guardians", "roll-call"])
        .args(&shares)
        .arg("--passphrase-file")
        .arg(sb.pass_file("rc.pass", &refs))
        .assert()
        .success();
    let v = check_json(&sb, None);
    assert_eq!(check_item(&v, "guardian-roll-call")["status"], "pass");
    assert_eq!(check_item(&v, "guardian-quorum")["status"], "pass");

    // 100 days on (the test build's clock): everyone is a quarter stale.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(100);
    let later = later
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let v = check_json(&sb, Some(&later));
    let rc = check_item(&v, "guardian-roll-call");
    assert_eq!(rc["status"], "fail", "{rc}");
    for g in GUARDIANS {
        assert!(
            rc["findings"].as_array().unwrap().iter().any(|f| {
                let f = f.as_str().unwrap();
                f.contains(&format!("guardian {g} (Ana's set"))
                    && f.contains("more than a quarter ago")
            }),
            "{g} not flagged: {rc}"
        );
    }
    let q = check_item(&v, "guardian-quorum");
    assert_eq!(q["status"], "fail", "{q}");
    assert!(
        q["findings"][0]
            .as_str()
            .unwrap()
            .contains("only 0 seen this quarter"),
        "{q}"
    );

    // Today, with Gus's roll call recorded 100 days ago: only Gus flagged,
    // by name and date; Hal and Ivy still reach the threshold of 2.
    let stale = time::OffsetDateTime::now_utc() - time::Duration::days(100);
    let stale = stale
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let ws = Workspace::open(sb.ws()).unwrap();
    ws.update_registry(|r| {
        for s in &mut r.guardian_splits.splits {
            s.roll_call.insert("Gus".into(), stale.clone());
        }
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let v = check_json(&sb, None);
    let rc = check_item(&v, "guardian-roll-call");
    assert_eq!(rc["status"], "fail", "{rc}");
    let findings = rc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{rc}");
    let gus = findings[0].as_str().unwrap();
    assert!(
        gus.contains("guardian Gus (Ana's set")
            && gus.contains(&format!("last seen on {stale}, more than a quarter ago")),
        "{gus}"
    );
    assert_eq!(check_item(&v, "guardian-quorum")["status"], "pass");

    // The threat 3 screen says the same, from the same core function.
    let mut app = tui::offline_app(ws);
    tui::open_screen(&mut app, "t3");
    let screen = tui::text_at(&app, 200, 60);
    assert!(screen.contains("FAIL"), "{screen}");
    assert!(
        screen.contains("guardian Gus (Ana's set") && screen.contains("more than a quarter ago"),
        "{screen}"
    );
    assert!(!screen.contains("guardian Hal"), "{screen}");
}

#[test]
fn rotate_from_the_command_line_in_the_documented_passphrase_order() {
    let sb = sandbox();
    split_ana(&sb);
    make_rotation_overdue(&sb, "Ana");
    let new_pass = "orbit velvet quarry lantern hobnail meadow";
    let lines = [
        pass_of("Ana").to_string(),
        new_pass.to_string(),
        gpass("Gus"),
        gpass("Hal"),
        gpass("Ivy"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let out = sb
        .cmd()
        .args([
            "--json",
            "rotate",
            "--custodian",
            "Ana",
            "--passphrase-file",
        ])
        .arg(sb.pass_file("rotate.pass", &refs))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["shards"].as_array().unwrap().len(), 2);
    assert_eq!(v["newSet"]["threshold"], 2);
    // The due date moved 90 days on, in the output and the registry.
    common::assert_due_in_90_days(v["rotationDue"].as_str().unwrap());
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    common::assert_due_in_90_days(&reg.custodian("Ana").unwrap().rotation_due);
    assert_eq!(v["supersededSets"].as_array().unwrap().len(), 1);
    let id = PathBuf::from(v["identityFile"].as_str().unwrap());
    IdentityFile::load(&id)
        .unwrap()
        .open(&SecretString::from(new_pass))
        .unwrap();
    // Unknown custodian: exit 1, named.
    sb.cmd()
        .args(["rotate", "--custodian", "Zed"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no active custodian named `Zed`"));
}

/// The ceremony's passphrase lines for one custodian, in the documented
/// order: identity, each guardian's new passphrase, each guardian's proof.
fn ceremony_lines(c: &str, guardians: &[String]) -> Vec<String> {
    let mut v = vec![format!("{PASS_A} {c}")];
    v.extend(guardians.iter().map(|g| gpass(g)));
    v.extend(guardians.iter().map(|g| gpass(g)));
    v
}

#[test]
fn onboarding_three_custodians_3_of_5_from_a_plan_resumes_and_records_every_fact() {
    let sb = Sandbox::new();
    let names = ["Ana", "Ben", "Cy"];
    let guardians_of = |c: &str| -> Vec<String> { (1..=5).map(|i| format!("{c}g{i}")).collect() };
    let plan = serde_json::json!({
        "present": ["Olga Reyes", "Pat Kim"],
        "custodians": names.iter().map(|c| serde_json::json!({
            "name": c, "guardians": guardians_of(c), "threshold": 3,
        })).collect::<Vec<_>>(),
    });
    let plan_path = sb.file("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();

    // Bad plans: refused by what is wrong, nothing written.
    let bad = sb.file("bad.json");
    std::fs::write(&bad, r#"{"present": [], "custodians": []}"#).unwrap();
    sb.cmd()
        .args(["onboard", "--plan"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`custodians` is empty"));
    assert!(!sb.ws().exists());

    // Interrupted: the passphrase file ends after two of Ana's guardians proved.
    let all: Vec<String> = names
        .iter()
        .flat_map(|c| ceremony_lines(c, &guardians_of(c)))
        .collect();
    let first: Vec<&str> = all[..8].iter().map(String::as_str).collect();
    sb.cmd()
        .args(["onboard", "--plan"])
        .arg(&plan_path)
        .arg("--passphrase-file")
        .arg(sb.pass_file("first.pass", &first))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "Ana: guardian Anag2 proved share #2",
        ));
    let ws = Workspace::open(sb.ws()).unwrap();
    assert_eq!(ws.registry().unwrap().ceremonies.len(), 1);
    assert!(ws.registry().unwrap().ceremonies[0].completed_at.is_none());

    // Resumed: only what is left is asked for.
    let rest: Vec<&str> = all[8..].iter().map(String::as_str).collect();
    let out = sb
        .cmd()
        .args(["onboard", "--plan"])
        .arg(&plan_path)
        .arg("--passphrase-file")
        .arg(sb.pass_file("rest.pass", &rest))
        .assert()
        .success()
        .stdout(predicate::str::contains("resuming ceremony CER-"))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let reg = ws.registry().unwrap();
    let cer = &reg.ceremonies[0];
    let record = std::fs::read_to_string(cer.record_file.as_ref().unwrap()).unwrap();
    assert!(record.contains("Present: Olga Reyes, Pat Kim"), "{record}");
    for c in names {
        let rec = reg.custodian(c).unwrap();
        assert!(record.contains(&rec.recipient) && record.contains(&rec.fingerprint));
        let split = reg
            .guardian_splits
            .current_for(&rec.recipient)
            .next()
            .unwrap();
        assert!(record.contains(&split.set_id), "{record}");
        assert_eq!((split.threshold, split.total), (3, 5));
        for g in guardians_of(c) {
            assert!(
                record.contains(&format!("| {g} | 20")),
                "{g} not proved:\n{record}"
            );
        }
    }
    assert_eq!(record.matches("| 3-of-5 |").count(), 3);
    // The checklist items these facts satisfy are ticked, not by hand.
    assert!(
        record.contains("- [x] Three custodian identities generated locally"),
        "{record}"
    );
    assert!(
        record.contains("- [x] Each custodian key split 3-of-5"),
        "{record}"
    );
    // The recorded audit head verifies, as the record says to check it.
    let head = cer.audit_head.clone().unwrap();
    assert!(record.contains(&head) && out.contains(&head));
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success();
    assert_eq!(
        events(&sb, onboard::EVENT_COMPLETE),
        ["INITIATED", "COMPLETED"]
    );
    // Every roll-call check now passes for these sets.
    let f = roll_call::findings(&reg, custodian_core::clock::now());
    assert_eq!(
        (f.sets, f.not_seen.len(), f.below_threshold.len()),
        (3, 0, 0)
    );
    // No key and no passphrase anywhere in the workspace (the passphrase
    // files given to the command live outside it).
    for (path, bytes) in sb.snapshot() {
        if path.starts_with(sb.ws()) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("AGE-SECRET-KEY-"), "{}", path.display());
            assert!(
                !text.contains(PASS_B) && !text.contains(PASS_A),
                "{}",
                path.display()
            );
        }
    }
}
