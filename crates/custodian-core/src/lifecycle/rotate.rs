//! Rotation: a new identity for the same custodian.
//!
//! In one transaction (`CUSTODIAN_ROTATE`): a new age identity is sealed
//! under the new passphrase and re-opened; every registered shard wrapped to
//! the old identity is rewrapped to the new recipient and opened again with
//! the new identity to prove it; the custodian's guardians re-split the new
//! key (a new set id, with share commitments); then, at the commit point,
//! the registry is switched to the new identity (rotation due in 90 days),
//! the old guardian sets are recorded as superseded, and the old identity
//! is kept in the history. Only after the commit point are the old identity
//! file, the old shard files and the old set's share files moved to
//! `retired/` (or the old identity destroyed, on request) — a crash anywhere
//! leaves either the old state untouched or the new one complete.
//!
//! [`plan`] and [`open_old`] run first, before anything is written: the
//! first finds every file and checks it against the registry, the second
//! checks the old passphrase, so the transaction never waits on a person.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_json::json;

use super::{LifecycleError, PastCustodian, RetiredFile, Successor, file_stamp, retired_path};
use crate::fsutil;
use crate::guardians::{self, Progress, SplitRecord};
use crate::identity::{self, IdentityFile, OpenedIdentity};
use crate::shard::{self, ShardFile, ShardRecord};
use crate::workspace::{CustodianRecord, ROTATION_DAYS, Workspace};

/// Audit event of a rotation.
pub const EVENT: &str = "CUSTODIAN_ROTATE";

/// A registered shard file wrapped to the identity being replaced.
#[derive(Debug, Clone)]
pub struct HeldShard {
    /// Where it is.
    pub path: PathBuf,
    /// Its contents.
    pub file: ShardFile,
}

/// Everything a rotation will touch, found and checked before anything is
/// asked or written.
#[derive(Debug, Clone)]
pub struct RotationPlan {
    /// The custodian as registered now.
    pub custodian: CustodianRecord,
    /// Their current identity file.
    pub identity_path: PathBuf,
    /// The shards to rewrap.
    pub shards: Vec<HeldShard>,
    /// Registered shard files of this identity that are not where they
    /// were registered: listed for destruction, never guessed at.
    pub missing_shards: Vec<PathBuf>,
    /// The current guardian sets of the old key (superseded by the rotation).
    pub current_splits: Vec<SplitRecord>,
    /// The guardians and threshold of the most recent set: the default
    /// plan for the re-split (empty when the key was never split).
    pub guardians: Vec<String>,
    /// Its threshold.
    pub threshold: u8,
    /// The share files of `current_splits` still where they were written
    /// and unchanged: the ones the operation will move to `retired/`
    /// (worked out once here, so a confirmation never looks at the disk).
    pub share_files: Vec<PathBuf>,
}

/// Finds the custodian's identity, shards and guardian sets and checks them
/// against the registry. `identity_override` replaces the registered
/// identity file.
pub fn plan(
    ws: &Workspace,
    name: &str,
    identity_override: Option<&Path>,
) -> Result<RotationPlan, LifecycleError> {
    let reg = ws.registry()?;
    let custodian = reg
        .custodian(name)
        .cloned()
        .ok_or_else(|| LifecycleError::UnknownCustodian(name.into()))?;
    let identity_path = identity_override
        .map(Path::to_path_buf)
        .or_else(|| custodian.identity_file.clone())
        .ok_or_else(|| LifecycleError::NoIdentityFile(name.into()))?;
    let file = IdentityFile::load(&identity_path)?;
    if file.recipient != custodian.recipient {
        return Err(LifecycleError::WrongIdentity {
            path: identity_path,
            name: name.into(),
            found: file.recipient,
            registered: custodian.recipient,
        });
    }
    let (shards, missing_shards) = held_shards(&reg.shards, &custodian.recipient)?;
    let current_splits: Vec<SplitRecord> = reg
        .guardian_splits
        .current_for(&custodian.recipient)
        .cloned()
        .collect();
    let (guardians, threshold) = current_splits
        .last()
        .map(|s| (s.guardians.clone(), s.threshold))
        .unwrap_or_default();
    let share_files = share_files_to_retire(&current_splits);
    Ok(RotationPlan {
        custodian,
        identity_path,
        shards,
        missing_shards,
        current_splits,
        guardians,
        threshold,
        share_files,
    })
}

/// The registered shard files wrapped to `recipient`: those present (each
/// checked against its record) and those missing.
pub(crate) fn held_shards(
    records: &[ShardRecord],
    recipient: &str,
) -> Result<(Vec<HeldShard>, Vec<PathBuf>), LifecycleError> {
    let mut held = Vec::new();
    let mut missing = Vec::new();
    for r in records.iter().filter(|r| r.recipient == recipient) {
        if r.file.symlink_metadata().is_err() {
            if !missing.contains(&r.file) {
                missing.push(r.file.clone());
            }
            continue;
        }
        if held.iter().any(|h: &HeldShard| h.path == r.file) {
            continue;
        }
        let file = ShardFile::load(&r.file)?;
        if file.recipient != recipient || file.key_id != r.key_id || file.index != r.index {
            return Err(LifecycleError::ShardMismatch {
                path: r.file.clone(),
                reason: "the file is not the shard the registry lists there".into(),
            });
        }
        file.check_payload(false)?;
        held.push(HeldShard {
            path: r.file.clone(),
            file,
        });
    }
    Ok((held, missing))
}

/// Opens the old identity with its passphrase, before the transaction. A
/// wrong passphrase is audited as a failed rotation and nothing else happens.
pub fn open_old(
    ws: &Workspace,
    plan: &RotationPlan,
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

/// Checks the custodian's current passphrase before anything else is
/// asked (the console's first step), without asking a hardware token: the
/// token is asked once, when [`open_old`] opens the identity for the
/// rotation. An identity without a token is opened by the check and
/// returned, for the rotation to use instead of opening it again (see
/// [`IdentityFile::check_or_open`](crate::identity::IdentityFile::check_or_open)).
/// A wrong passphrase is audited as a failed rotation.
pub fn check_old(
    ws: &Workspace,
    plan: &RotationPlan,
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

/// The failed rotation's audit details.
fn audit_details(plan: &RotationPlan) -> serde_json::Value {
    json!({ "custodian": plan.custodian.name, "identityFile": plan.identity_path })
}

/// What the rotation is given, all checked already.
pub struct RotationRequest<'a> {
    /// The plan from [`plan`].
    pub plan: &'a RotationPlan,
    /// The old identity, opened by [`open_old`].
    pub old: &'a OpenedIdentity,
    /// The new identity's passphrase.
    pub new_passphrase: &'a SecretString,
    /// Guardians of the re-split with their new passphrases, in index
    /// order; empty to skip the re-split (the key was never split).
    pub guardians: Vec<(String, SecretString)>,
    /// The re-split's threshold.
    pub threshold: u8,
    /// Remove the old identity file instead of moving it to `retired/`.
    pub destroy_old_identity: bool,
    /// Enrol this hardware token for the new identity. Without it, a
    /// custodian whose registry record names a token keeps that token: the
    /// new identity needs it too (the second factor is never dropped).
    pub token: Option<crate::token::TokenRequirement>,
}

/// What a rotation did (public facts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationOutcome {
    /// The custodian.
    pub custodian: String,
    /// The old recipient.
    pub old_recipient: String,
    /// The new recipient.
    pub new_recipient: String,
    /// Its fingerprint.
    pub new_fingerprint: String,
    /// The new identity file.
    pub identity_file: PathBuf,
    /// The next rotation date.
    pub rotation_due: String,
    /// Rewrapped shards: (key id, index, new file).
    pub shards: Vec<(String, u32, PathBuf)>,
    /// The re-split, if any.
    pub split: Option<guardians::SplitOutcome>,
    /// Superseded guardian set ids.
    pub superseded_sets: Vec<String>,
    /// Files moved to `retired/` or destroyed.
    pub retired_files: Vec<RetiredFile>,
    /// Copies to destroy by hand.
    pub destroy_elsewhere: Vec<PathBuf>,
}

/// Stages the move (or destruction) of a departing identity's files after
/// COMMIT: the identity file, its registered shard files and the share
/// files of its current guardian sets still in the workspace. Returns what
/// is retired and the copies that could not be moved (`missing`, plus any
/// file already gone). Rotation and retirement both use it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_retire_old_files(
    tx: &mut crate::transaction::Transaction<'_>,
    ws: &Workspace,
    identity_path: &Path,
    shards: &[HeldShard],
    current_splits: &[SplitRecord],
    missing: &[PathBuf],
    stamp: &str,
    destroy_identity: bool,
) -> Result<(Vec<RetiredFile>, Vec<PathBuf>), LifecycleError> {
    let mut retired = Vec::new();
    let mut elsewhere = missing.to_vec();
    stage_retire(
        tx,
        ws,
        identity_path,
        "identities",
        stamp,
        destroy_identity,
        &mut retired,
        &mut elsewhere,
    )?;
    for held in shards {
        stage_retire(
            tx,
            ws,
            &held.path,
            "shards",
            stamp,
            false,
            &mut retired,
            &mut elsewhere,
        )?;
    }
    for f in share_files_to_retire(current_splits) {
        stage_retire(
            tx,
            ws,
            &f,
            "guardian-shares",
            stamp,
            false,
            &mut retired,
            &mut Vec::new(),
        )?;
    }
    Ok((retired, elsewhere))
}

/// The share files of `splits` still where they were written and holding
/// the bytes recorded at split time: the ones a rotation or retirement
/// moves to `retired/` (a changed or missing file is left alone).
pub(crate) fn share_files_to_retire(splits: &[SplitRecord]) -> Vec<PathBuf> {
    splits
        .iter()
        .flat_map(|s| s.files.iter().zip(&s.file_sha256))
        .filter(|(f, sha)| {
            f.symlink_metadata().is_ok() && fsutil::file_fingerprint(f).is_ok_and(|x| &x == *sha)
        })
        .map(|(f, _)| f.clone())
        .collect()
}

/// Stages retiring `from` (moved under `retired/<kind>/`, or removed when
/// `destroy`); a file on another filesystem is listed for destruction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_retire(
    tx: &mut crate::transaction::Transaction<'_>,
    ws: &Workspace,
    from: &Path,
    kind: &str,
    stamp: &str,
    destroy: bool,
    retired: &mut Vec<RetiredFile>,
    elsewhere: &mut Vec<PathBuf>,
) -> Result<(), LifecycleError> {
    if from.symlink_metadata().is_err() {
        elsewhere.push(from.to_path_buf());
        return Ok(());
    }
    let to = if destroy {
        None
    } else {
        let mut to = retired_path(ws, kind, from, stamp)?;
        // Two files of one name retired by the same operation.
        let mut n = 2;
        while retired.iter().any(|r| r.to.as_ref() == Some(&to)) {
            to = retired_path(ws, kind, from, &format!("{stamp}-{n}"))?;
            n += 1;
        }
        Some(to)
    };
    match tx.retire_on_commit(from, to.as_deref()) {
        Ok(sha256) => {
            retired.push(RetiredFile {
                from: from.to_path_buf(),
                to,
                sha256,
            });
            Ok(())
        }
        // Another filesystem (a USB stick): it cannot be moved, so it is
        // listed for someone to destroy.
        Err(fsutil::FsError::Io {
            action: "moving", ..
        }) => {
            elsewhere.push(from.to_path_buf());
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Rewraps one shard to `to`, stages the new file, and proves it: the new
/// identity opens it to the same payload.
pub(crate) fn rewrap_staged(
    tx: &mut crate::transaction::Transaction<'_>,
    held: &HeldShard,
    old: &OpenedIdentity,
    holder: &str,
    to: &str,
    opener: Option<&OpenedIdentity>,
    path: &Path,
) -> Result<(ShardFile, String), LifecycleError> {
    let payload = held.file.open(old)?;
    let (new_file, sealed) = ShardFile::seal(&payload, holder, to, held.file.threshold)?;
    let sha = new_file.write_staged(tx, path, &sealed, &payload)?;
    if let Some(new_id) = opener {
        let back = new_file
            .open(new_id)
            .map_err(|e| LifecycleError::NotVerified {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if *back.to_bytes() != *payload.to_bytes() {
            return Err(LifecycleError::NotVerified {
                path: path.to_path_buf(),
                reason: "it opened to a different share".into(),
            });
        }
    }
    Ok((new_file, sha))
}

/// The new name of a rewrapped shard, beside the old one.
pub(crate) fn new_shard_path(old: &Path, file: &ShardFile, holder: &str, stamp: &str) -> PathBuf {
    let dir = old.parent().unwrap_or(Path::new("."));
    dir.join(format!(
        "{}.{}.{}.{stamp}.shard.json",
        file.key_id.replace(':', "_"),
        file.index,
        identity::file_stem(holder)
    ))
}

/// Rotates a custodian's identity; see the module docs.
pub fn rotate(
    ws: &Workspace,
    req: RotationRequest<'_>,
    progress: Progress<'_>,
) -> Result<RotationOutcome, LifecycleError> {
    let plan = req.plan;
    let name = plan.custodian.name.clone();
    let old_recipient = plan.custodian.recipient.clone();
    if req.old.recipient != old_recipient {
        return Err(LifecycleError::WrongIdentity {
            path: plan.identity_path.clone(),
            name,
            found: req.old.recipient.clone(),
            registered: old_recipient,
        });
    }
    if req.guardians.is_empty() && !plan.current_splits.is_empty() {
        return Err(LifecycleError::ResplitRequired(name));
    }
    if !req.guardians.is_empty() {
        let names: Vec<String> = req.guardians.iter().map(|(n, _)| n.clone()).collect();
        guardians::check_plan(req.threshold.into(), &names)?;
    }
    let token = match &req.token {
        Some(t) => Some(t.clone()),
        None => plan
            .custodian
            .token
            .as_deref()
            .map(crate::token::parse_recipient)
            .transpose()
            .map_err(identity::IdentityError::from)?,
    };
    let now = crate::clock::now();
    let now_s = crate::clock::format(now);
    let stamp = file_stamp(&now_s);
    let new_identity_path = ws.identities_dir()?.join(format!(
        "{}.{stamp}.identity.json",
        identity::file_stem(&name)
    ));
    let new_shard_paths: Vec<PathBuf> = plan
        .shards
        .iter()
        .map(|h| new_shard_path(&h.path, &h.file, &name, &stamp))
        .collect();
    let set_id = guardians::new_set_id();
    let share_dir = ws.subdir("guardian-shares")?;
    let share_paths: Vec<PathBuf> = req
        .guardians
        .iter()
        .enumerate()
        .map(|(i, (g, _))| guardians::share_path(&share_dir, &name, &set_id, i as u8 + 1, g))
        .collect();
    for p in std::iter::once(&new_identity_path)
        .chain(&new_shard_paths)
        .chain(&share_paths)
    {
        if p.symlink_metadata().is_ok() {
            return Err(fsutil::FsError::AlreadyExists(p.clone()).into());
        }
    }
    let mut tx = ws.begin(
        EVENT,
        json!({
            "custodian": name, "oldRecipient": old_recipient,
            "identityFile": plan.identity_path,
            "shards": plan.shards.iter().map(|h| json!({
                "keyId": h.file.key_id, "index": h.file.index, "file": h.path,
            })).collect::<Vec<_>>(),
            "supersedes": plan.current_splits.iter().map(|s| &s.set_id).collect::<Vec<_>>(),
            "newSetId": if req.guardians.is_empty() { None } else { Some(&set_id) },
            "guardians": req.guardians.iter().map(|(g, _)| g).collect::<Vec<_>>(),
            "threshold": req.threshold,
            "destroyOldIdentity": req.destroy_old_identity,
            "tokenRecipient": token.as_ref().map(|t| t.recipient.clone()),
        }),
    )?;
    let steps = 2 + plan.shards.len() as u64 + 1;
    let staged = (|| {
        tx.reserve(
            ws.root(),
            shard::MAX_FILE * (plan.shards.len() as u64 + 1)
                + 64 * 1024 * req.guardians.len() as u64,
        )?;
        progress(0, steps, "sealing the new identity");
        let new = OpenedIdentity::generate(&name);
        // Sealed to the token first when the custodian has one (the same
        // or a newly enrolled one), then under the passphrase; the token
        // is asked once to prove the new file opens.
        let file = IdentityFile::seal_with_token(&new, req.new_passphrase, &now_s, token.as_ref())?;
        identity::verify_token_seal(&file, req.new_passphrase, &new.recipient)?;
        let identity_sha = tx.write_output(&new_identity_path, &file.to_bytes(), |read| {
            let back = IdentityFile::from_bytes(read).map_err(|e| e.to_string())?;
            if back.token.is_some() {
                return identity::same_file(&back, &file);
            }
            let reopened = back.open(req.new_passphrase).map_err(|e| e.to_string())?;
            if reopened.recipient == new.recipient {
                Ok(())
            } else {
                Err("re-opened key has a different recipient".into())
            }
        })?;
        let mut shard_records = Vec::new();
        for (i, (held, path)) in plan.shards.iter().zip(&new_shard_paths).enumerate() {
            progress(
                1 + i as u64,
                steps,
                &format!("rewrapping {} #{}", held.file.key_id, held.file.index),
            );
            let (new_file, sha) = rewrap_staged(
                &mut tx,
                held,
                req.old,
                &name,
                &new.recipient,
                Some(&new),
                path,
            )?;
            shard_records.push(ShardRecord {
                key_id: new_file.key_id.clone(),
                index: new_file.index,
                custodian: name.clone(),
                recipient: new.recipient.clone(),
                file: path.clone(),
                file_sha256: sha,
                created_at: new_file.created_at.clone(),
                origin: "rotation".into(),
                replaces: Some(held.path.clone()),
            });
        }
        let split = if req.guardians.is_empty() {
            None
        } else {
            progress(steps - 2, steps, "re-splitting among the guardians");
            Some(guardians::stage_split(
                &mut tx,
                &new,
                &name,
                &set_id,
                req.threshold,
                &req.guardians,
                &share_paths,
                &|_, _, _| {},
            )?)
        };
        progress(steps - 1, steps, "retiring the old files");
        // The old sets' share files kept in the workspace; the guardians'
        // own copies are theirs to destroy (the set is refused from now on).
        let (retired, elsewhere) = stage_retire_old_files(
            &mut tx,
            ws,
            &plan.identity_path,
            &plan.shards,
            &plan.current_splits,
            &plan.missing_shards,
            &stamp,
            req.destroy_old_identity,
        )?;
        Ok::<_, LifecycleError>((new, identity_sha, shard_records, split, retired, elsewhere))
    })();
    let (new, identity_sha, shard_records, split, retired, elsewhere) = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let op = tx.op_id().to_string();
    let rotation_due = crate::clock::format(crate::clock::plus_days(now, ROTATION_DAYS));
    let new_recipient = new.recipient.clone();
    drop(new);
    tx.commit(
        |reg| {
            let c = reg
                .custodians
                .iter_mut()
                .find(|c| c.name == name)
                .filter(|c| c.recipient == old_recipient)
                .ok_or_else(|| LifecycleError::Changed(name.clone()))?;
            let past = PastCustodian {
                name: name.clone(),
                recipient: old_recipient.clone(),
                fingerprint: c.fingerprint.clone(),
                status: super::CustodianStatus::Rotated,
                created_at: c.created_at.clone(),
                ended_at: now_s.clone(),
                successor: Successor {
                    name: name.clone(),
                    recipient: new_recipient.clone(),
                },
                op: op.clone(),
                retired_files: retired.clone(),
                destroy_elsewhere: elsewhere.clone(),
                approvers: Vec::new(),
                confirmed_destroyed: Vec::new(),
            };
            c.recipient = new_recipient.clone();
            c.fingerprint = identity::fingerprint(&new_recipient);
            c.created_at = now_s.clone();
            c.rotation_due = rotation_due.clone();
            c.identity_file = Some(new_identity_path.clone());
            c.token = token.as_ref().map(|t| t.recipient.clone());
            reg.custodian_history.push(past);
            shard::add_records(reg, shard_records.clone());
            let mut superseded_sets = Vec::new();
            if let Some((outcome, record)) = &split {
                superseded_sets = reg
                    .guardian_splits
                    .current_for(&old_recipient)
                    .map(|s| s.set_id.clone())
                    .collect();
                reg.guardian_splits
                    .supersede(&old_recipient, &outcome.set_id, &now_s, "rotation");
                reg.guardian_splits.splits.push(record.clone());
            }
            Ok::<_, LifecycleError>(RotationOutcome {
                custodian: name.clone(),
                old_recipient: old_recipient.clone(),
                new_recipient: new_recipient.clone(),
                new_fingerprint: identity::fingerprint(&new_recipient),
                identity_file: new_identity_path.clone(),
                rotation_due: rotation_due.clone(),
                shards: shard_records
                    .iter()
                    .map(|r| (r.key_id.clone(), r.index, r.file.clone()))
                    .collect(),
                split: split.as_ref().map(|(o, _)| o.clone()),
                superseded_sets,
                retired_files: retired.clone(),
                destroy_elsewhere: elsewhere.clone(),
            })
        },
        |o| {
            json!({
                "newRecipient": o.new_recipient, "identityFile": o.identity_file,
                "identityFileSha256": identity_sha, "rotationDue": o.rotation_due,
                "shards": shard_records.iter().map(|r| json!({
                    "keyId": r.key_id, "index": r.index, "file": r.file, "fileSha256": r.file_sha256,
                })).collect::<Vec<_>>(),
                "newSet": o.split.as_ref().map(|s| json!({
                    "setId": s.set_id, "threshold": s.threshold, "total": s.total,
                    "files": s.shares.iter().map(|w| json!({"guardian": w.guardian, "index": w.index, "fileSha256": w.sha256})).collect::<Vec<_>>(),
                })),
                "supersededSets": o.superseded_sets,
                "retiredFiles": o.retired_files,
                "destroyElsewhere": o.destroy_elsewhere,
            })
        },
    )
}
