//! Retirement: a custodian leaves and a successor (an active custodian)
//! takes their shards.
//!
//! In one transaction (`CUSTODIAN_RETIRE`): every registered shard wrapped
//! to the retiree is rewrapped to the successor's recipient and checked;
//! at the commit point the retiree leaves the active list for the history
//! (status `retired`, successor named), their guardian sets are recorded as
//! superseded, and after it their identity file, old shard files and the
//! sets' share files kept here move to `retired/`.
//!
//! The successor's share of each key is checked with the one concentration
//! rule ([`crate::shard::concentration`]): two or more shards of a key need
//! `accept_concentration`; reaching the key's threshold alone is refused
//! unless at least two approvers are named. Both are audited. Under the
//! workspace policy of authenticated approvals the override's approvers
//! open their own identity ([`crate::approvals`]), before anything else.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde_json::json;

use super::rotate::{
    HeldShard, held_shards, new_shard_path, rewrap_staged, stage_retire_old_files,
};
use super::{LifecycleError, PastCustodian, RetiredFile, Successor, file_stamp};
use crate::guardians::SplitRecord;
use crate::identity::{self, OpenedIdentity};
use crate::shard::{self, Concentration, ShardRecord};
use crate::workspace::{CustodianRecord, Workspace};

/// Audit event of a retirement.
pub const EVENT: &str = "CUSTODIAN_RETIRE";

/// The successor's holdings of one key after the retirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyConcentration {
    /// The key.
    pub key_id: String,
    /// Shards the successor would hold.
    pub holds: usize,
    /// The rule's verdict.
    pub verdict: Concentration,
}

/// Everything a retirement will touch, checked before anything is asked.
#[derive(Debug, Clone)]
pub struct RetirementPlan {
    /// The retiree.
    pub retiree: CustodianRecord,
    /// Their identity file.
    pub identity_path: PathBuf,
    /// The successor.
    pub successor: CustodianRecord,
    /// The retiree's shards.
    pub shards: Vec<HeldShard>,
    /// Registered shard files of the retiree that are missing.
    pub missing_shards: Vec<PathBuf>,
    /// The retiree's current guardian sets.
    pub current_splits: Vec<SplitRecord>,
    /// Per key, what the successor would hold.
    pub concentration: Vec<KeyConcentration>,
    /// The workspace's approval policy when planned.
    pub approval_policy: crate::approvals::ApprovalPolicy,
    /// The share files that will move to `retired/` (see
    /// [`super::rotate::RotationPlan::share_files`]).
    pub share_files: Vec<std::path::PathBuf>,
}

/// Finds and checks what a retirement touches; applies the concentration
/// rule (the verdicts are returned, not yet enforced: see [`check_approval`]).
pub fn plan(
    ws: &Workspace,
    name: &str,
    successor: &str,
    identity_override: Option<&std::path::Path>,
) -> Result<RetirementPlan, LifecycleError> {
    if name == successor {
        return Err(LifecycleError::SelfSuccession(name.into()));
    }
    let base = super::rotate::plan(ws, name, identity_override)?;
    let reg = ws.registry()?;
    let succ = reg
        .custodian(successor)
        .cloned()
        .ok_or_else(|| LifecycleError::UnknownCustodian(successor.into()))?;
    let (shards, missing) = held_shards(&reg.shards, &base.custodian.recipient)?;
    let mut per_key: BTreeMap<String, (usize, u32)> = BTreeMap::new();
    for h in &shards {
        let e = per_key
            .entry(h.file.key_id.clone())
            .or_insert_with(|| (0, h.file.threshold));
        e.0 += 1;
    }
    let concentration = per_key
        .into_iter()
        .map(|(key_id, (moving, threshold))| {
            let holds = shard::holdings(&reg, &succ.recipient, &key_id).len() + moving;
            KeyConcentration {
                verdict: shard::concentration(holds, threshold),
                key_id,
                holds,
            }
        })
        .collect();
    Ok(RetirementPlan {
        retiree: base.custodian,
        identity_path: base.identity_path,
        successor: succ,
        shards,
        missing_shards: missing,
        current_splits: base.current_splits,
        share_files: base.share_files,
        concentration,
        approval_policy: crate::approvals::policy(&reg),
    })
}

/// Enforces the concentration rule with typed approvers only: returns the
/// approvers to record. See [`check_approvals`].
pub fn check_approval(
    plan: &RetirementPlan,
    accept_concentration: bool,
    approvers: &[String],
) -> Result<Vec<String>, LifecycleError> {
    check_approvals(plan, accept_concentration, approvers, &[])
        .map(|a| a.into_iter().map(|a| a.name).collect())
}

/// Enforces the concentration rule: the override's approvers are the
/// `authenticated` approvals (identities opened, gathered first) and the
/// `typed` names; under the "authenticated" policy enough must have opened
/// their identity. Returns the approvals to record (empty without an override).
pub fn check_approvals(
    plan: &RetirementPlan,
    accept_concentration: bool,
    typed: &[String],
    authenticated: &[crate::approvals::Approval],
) -> Result<Vec<crate::approvals::Approval>, LifecycleError> {
    let mut distinct: Vec<String> = Vec::new();
    for a in typed {
        identity::validate_name(a)?;
        if !distinct.iter().any(|d| d.eq_ignore_ascii_case(a)) {
            distinct.push(a.clone());
        }
    }
    let named = distinct.len() + authenticated.len();
    if named > 0 && named < shard::OVERRIDE_APPROVERS {
        return Err(LifecycleError::TooFewApprovers(named));
    }
    let approvals = crate::approvals::gather(authenticated, &distinct);
    // Neither the retiree nor the successor approves their own override.
    crate::approvals::refuse_self_approval(
        &approvals,
        &[
            crate::approvals::Party {
                name: &plan.retiree.name,
                recipient: &plan.retiree.recipient,
                role: "retiree",
            },
            crate::approvals::Party {
                name: &plan.successor.name,
                recipient: &plan.successor.recipient,
                role: "successor",
            },
        ],
    )?;
    let mut needed = false;
    for k in &plan.concentration {
        match k.verdict {
            Concentration::ReachesThreshold { holds, threshold } if approvals.is_empty() => {
                return Err(LifecycleError::ReachesThreshold {
                    holder: plan.successor.name.clone(),
                    key_id: k.key_id.clone(),
                    holds,
                    threshold,
                });
            }
            Concentration::Several { holds } if !accept_concentration && approvals.is_empty() => {
                return Err(LifecycleError::Concentration {
                    holder: plan.successor.name.clone(),
                    key_id: k.key_id.clone(),
                    holds,
                });
            }
            Concentration::ReachesThreshold { .. } => needed = true,
            Concentration::Several { .. } if !accept_concentration => needed = true,
            _ => {}
        }
    }
    if !approvals.is_empty() {
        crate::approvals::check(crate::approvals::ApprovalPolicy::Typed, &approvals)?;
        if needed {
            // The override is what the approvals are for: the policy applies.
            crate::approvals::check(plan.approval_policy, &approvals)?;
        }
    }
    Ok(approvals)
}

/// Checks the retiree's passphrase (the console's early step) without
/// asking a hardware token, which [`open_retiree`] asks once, for the
/// retirement itself. An identity without a token is opened by the check
/// and returned, for the retirement to use instead of opening it again. A
/// wrong passphrase is audited as a failed retirement.
pub fn check_retiree(
    ws: &Workspace,
    plan: &RetirementPlan,
    passphrase: &SecretString,
) -> Result<Option<OpenedIdentity>, LifecycleError> {
    identity::audited_step(
        ws,
        EVENT,
        &plan.identity_path,
        |_| audit_details(plan),
        |f| f.check_or_open(passphrase),
    )
}

/// Opens the retiree's identity before the transaction; a wrong passphrase
/// is audited as a failed retirement.
pub fn open_retiree(
    ws: &Workspace,
    plan: &RetirementPlan,
    passphrase: &SecretString,
) -> Result<OpenedIdentity, LifecycleError> {
    identity::audited_step(
        ws,
        EVENT,
        &plan.identity_path,
        |_| audit_details(plan),
        |f| f.open(passphrase),
    )
}

/// A failed retirement's audit details (a refused passphrase).
fn audit_details(plan: &RetirementPlan) -> serde_json::Value {
    json!({ "custodian": plan.retiree.name, "successor": plan.successor.name })
}

/// What a retirement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetirementOutcome {
    /// The retiree.
    pub retiree: String,
    /// The successor.
    pub successor: String,
    /// Rewrapped shards: (key id, index, new file).
    pub shards: Vec<(String, u32, PathBuf)>,
    /// Superseded guardian sets.
    pub superseded_sets: Vec<String>,
    /// Files moved to `retired/`.
    pub retired_files: Vec<RetiredFile>,
    /// Copies to destroy by hand.
    pub destroy_elsewhere: Vec<PathBuf>,
    /// Approvers of an override.
    pub approvers: Vec<String>,
}

/// Retires a custodian; see the module docs. `approvers` (typed names)
/// come from [`check_approval`], which must have passed; an override under
/// the "authenticated" policy needs [`retire_approved`].
pub fn retire(
    ws: &Workspace,
    plan: &RetirementPlan,
    retiree: &OpenedIdentity,
    accept_concentration: bool,
    approvers: &[String],
) -> Result<RetirementOutcome, LifecycleError> {
    retire_approved(ws, plan, retiree, accept_concentration, approvers, &[])
}

/// [`retire`] with the override's `authenticated` approvals besides the
/// `typed` names (see [`check_approvals`], which must have passed).
pub fn retire_approved(
    ws: &Workspace,
    plan: &RetirementPlan,
    retiree: &OpenedIdentity,
    accept_concentration: bool,
    typed: &[String],
    authenticated: &[crate::approvals::Approval],
) -> Result<RetirementOutcome, LifecycleError> {
    let approvals = check_approvals(plan, accept_concentration, typed, authenticated)?;
    let approvers: Vec<String> = approvals.iter().map(|a| a.name.clone()).collect();
    let name = plan.retiree.name.clone();
    let old_recipient = plan.retiree.recipient.clone();
    if retiree.recipient != old_recipient {
        return Err(LifecycleError::WrongIdentity {
            path: plan.identity_path.clone(),
            name,
            found: retiree.recipient.clone(),
            registered: old_recipient,
        });
    }
    let succ = &plan.successor;
    let now_s = crate::clock::now_string();
    let stamp = file_stamp(&now_s);
    let paths: Vec<PathBuf> = plan
        .shards
        .iter()
        .map(|h| new_shard_path(&h.path, &h.file, &succ.name, &stamp))
        .collect();
    if let Some(p) = paths.iter().find(|p| p.symlink_metadata().is_ok()) {
        return Err(crate::fsutil::FsError::AlreadyExists(p.clone()).into());
    }
    let mut tx = ws.begin(
        EVENT,
        json!({
            "custodian": name, "recipient": old_recipient,
            "successor": {"name": succ.name, "recipient": succ.recipient},
            "shards": plan.shards.iter().map(|h| json!({
                "keyId": h.file.key_id, "index": h.file.index, "file": h.path,
            })).collect::<Vec<_>>(),
            "concentration": plan.concentration.iter().map(|k| json!({
                "keyId": k.key_id, "successorHolds": k.holds,
                "verdict": match k.verdict {
                    Concentration::Spread => "spread",
                    Concentration::Several { .. } => "several",
                    Concentration::ReachesThreshold { .. } => "reaches-threshold",
                },
            })).collect::<Vec<_>>(),
            "acceptedConcentration": accept_concentration,
            "overrideApprovers": approvers,
            "overrideApprovals": crate::approvals::audit_values(&approvals),
            "approvalPolicy": plan.approval_policy.as_str(),
            "supersedes": plan.current_splits.iter().map(|s| &s.set_id).collect::<Vec<_>>(),
        }),
    )?;
    let staged = (|| {
        tx.reserve(ws.root(), shard::MAX_FILE * (plan.shards.len() as u64 + 1))?;
        let mut records = Vec::new();
        for (held, path) in plan.shards.iter().zip(&paths) {
            let (new_file, sha) = rewrap_staged(
                &mut tx,
                held,
                retiree,
                &succ.name,
                &succ.recipient,
                None,
                path,
            )?;
            records.push(ShardRecord {
                key_id: new_file.key_id.clone(),
                index: new_file.index,
                custodian: succ.name.clone(),
                recipient: succ.recipient.clone(),
                file: path.clone(),
                file_sha256: sha,
                created_at: new_file.created_at.clone(),
                origin: "retirement".into(),
                replaces: Some(held.path.clone()),
            });
        }
        let (retired, elsewhere) = stage_retire_old_files(
            &mut tx,
            ws,
            &plan.identity_path,
            &plan.shards,
            &plan.current_splits,
            &plan.missing_shards,
            &stamp,
            false,
        )?;
        Ok::<_, LifecycleError>((records, retired, elsewhere))
    })();
    let (records, retired, elsewhere) = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let op = tx.op_id().to_string();
    tx.commit(
        |reg| {
            let pos = reg
                .custodians
                .iter()
                .position(|c| c.name == name && c.recipient == old_recipient)
                .ok_or_else(|| LifecycleError::Changed(name.clone()))?;
            if reg.custodian(&succ.name).map(|c| &c.recipient) != Some(&succ.recipient) {
                return Err(LifecycleError::Changed(succ.name.clone()));
            }
            let c = reg.custodians.remove(pos);
            reg.custodian_history.push(PastCustodian {
                name: name.clone(),
                recipient: old_recipient.clone(),
                fingerprint: c.fingerprint.clone(),
                status: super::CustodianStatus::Retired,
                created_at: c.created_at.clone(),
                ended_at: now_s.clone(),
                successor: Successor {
                    name: succ.name.clone(),
                    recipient: succ.recipient.clone(),
                },
                op: op.clone(),
                retired_files: retired.clone(),
                destroy_elsewhere: elsewhere.clone(),
                approvers: approvers.clone(),
                confirmed_destroyed: Vec::new(),
            });
            shard::add_records(reg, records.clone());
            let superseded_sets: Vec<String> = reg
                .guardian_splits
                .current_for(&old_recipient)
                .map(|s| s.set_id.clone())
                .collect();
            reg.guardian_splits
                .supersede(&old_recipient, "", &now_s, "retirement");
            Ok::<_, LifecycleError>(RetirementOutcome {
                retiree: name.clone(),
                successor: succ.name.clone(),
                shards: records
                    .iter()
                    .map(|r| (r.key_id.clone(), r.index, r.file.clone()))
                    .collect(),
                superseded_sets,
                retired_files: retired.clone(),
                destroy_elsewhere: elsewhere.clone(),
                approvers: approvers.clone(),
            })
        },
        |o| {
            json!({
                "shards": records.iter().map(|r| json!({
                    "keyId": r.key_id, "index": r.index, "file": r.file, "fileSha256": r.file_sha256,
                })).collect::<Vec<_>>(),
                "supersededSets": o.superseded_sets,
                "retiredFiles": o.retired_files,
                "destroyElsewhere": o.destroy_elsewhere,
            })
        },
    )
}
