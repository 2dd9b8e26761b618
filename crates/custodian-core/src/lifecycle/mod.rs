//! A custodian's life after onboarding: rotation (a new identity for the
//! same person, every 90 days or on any change), retirement (a custodian
//! leaves and a successor takes their shards), and the registry history
//! both leave behind.
//!
//! The registry's `custodians` section lists the *active* custodians, as it
//! always has, so every check and screen that reads it keeps meaning "who
//! holds keys now". Each identity that stopped being active is kept in the
//! `custodianHistory` section owned here ([`PastCustodian`]): its status
//! (`rotated` or `retired`), the dates it was active, its successor (the
//! same person's new identity, or the custodian who took over), and where
//! its files went. A registry written before this section existed simply
//! has no history. [`roster`] puts both together with a
//! [`CustodianStatus`] for each entry.
//!
//! Rotation and retirement are each one transaction (see
//! [`crate::transaction`]): every new file is written and verified before
//! the commit point, and the old files are moved to `retired/` (or removed
//! on request) only after it, so an interruption leaves either the old
//! state usable or the new one complete. All human input is gathered and
//! checked before the transaction starts.

pub mod onboard;
pub mod retire;
pub mod rotate;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::AuditError;
use crate::error::Explain;
use crate::fsutil::FsError;
use crate::guardians::GuardianError;
use crate::identity::IdentityError;
use crate::shard::ShardError;
use crate::workspace::{Registry, Workspace, WorkspaceError};

/// The registry section holding past identities.
pub const HISTORY_SECTION: &str = "custodianHistory";
/// The workspace directory old files are moved to.
pub const RETIRED_DIR: &str = "retired";

/// Where a custodian identity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CustodianStatus {
    /// Holds keys now (listed in `custodians`).
    Active,
    /// Replaced by a new identity of the same custodian.
    Rotated,
    /// The custodian left; a successor took their shards.
    Retired,
}

impl CustodianStatus {
    /// `active`, `rotated` or `retired`.
    pub fn as_str(self) -> &'static str {
        match self {
            CustodianStatus::Active => "active",
            CustodianStatus::Rotated => "rotated",
            CustodianStatus::Retired => "retired",
        }
    }
}

/// Who took over from a past identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Successor {
    /// The successor's name (the same name after a rotation).
    pub name: String,
    /// Their recipient at the time.
    pub recipient: String,
}

/// A file an operation moved aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetiredFile {
    /// Where it was.
    pub from: PathBuf,
    /// Where it is now; None when it was destroyed on request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<PathBuf>,
    /// Its SHA-256.
    pub sha256: String,
}

/// A custodian identity that is no longer active (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PastCustodian {
    /// Display name.
    pub name: String,
    /// The identity's recipient.
    pub recipient: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// `rotated` or `retired`.
    pub status: CustodianStatus,
    /// When the identity was created (RFC 3339).
    pub created_at: String,
    /// When it stopped being active (RFC 3339).
    pub ended_at: String,
    /// Who took over.
    pub successor: Successor,
    /// The audit op id of the rotation or retirement.
    pub op: String,
    /// Files moved to `retired/` or destroyed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_files: Vec<RetiredFile>,
    /// Copies the console could not move (outside the workspace's
    /// filesystem, or already gone from where they were registered):
    /// someone must destroy them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destroy_elsewhere: Vec<PathBuf>,
    /// Approvers named for an override (retirement concentration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// `destroyElsewhere` copies someone confirmed destroyed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmed_destroyed: Vec<DestroyedCopy>,
}

/// A confirmation that a copy the console could not move was destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestroyedCopy {
    /// The copy.
    pub path: PathBuf,
    /// Who confirmed it.
    pub operator: String,
    /// When (RFC 3339).
    pub at: String,
}

/// Audit event: a copy of a retired file was confirmed destroyed.
pub const EVENT_DESTROYED: &str = "RETIRED_COPY_DESTROYED";

/// Copies of retired identities and shards still to be destroyed by hand:
/// (custodian, path). `custodian check` flags them until confirmed.
pub fn copies_to_destroy(reg: &Registry) -> Vec<(String, PathBuf)> {
    reg.custodian_history
        .iter()
        .flat_map(|p| {
            p.destroy_elsewhere
                .iter()
                .filter(|d| !p.confirmed_destroyed.iter().any(|c| &c.path == *d))
                .map(|d| (p.name.clone(), d.clone()))
        })
        .collect()
}

/// Records that `path`, listed by a rotation or retirement as a copy to
/// destroy, was destroyed; audited with the operator's name.
pub fn confirm_destroyed(
    ws: &Workspace,
    path: &Path,
    operator: &str,
) -> Result<(), LifecycleError> {
    crate::identity::validate_name(operator)?;
    if !copies_to_destroy(&ws.registry()?)
        .iter()
        .any(|(_, p)| p == path)
    {
        return Err(LifecycleError::NotListed(path.to_path_buf()));
    }
    let tx = ws.begin(
        EVENT_DESTROYED,
        serde_json::json!({ "file": path, "operator": operator }),
    )?;
    let at = crate::clock::now_string();
    tx.commit(
        |reg| {
            let entry = reg
                .custodian_history
                .iter_mut()
                .find(|p| {
                    p.destroy_elsewhere.iter().any(|d| d == path)
                        && !p.confirmed_destroyed.iter().any(|c| c.path == path)
                })
                .ok_or_else(|| LifecycleError::NotListed(path.to_path_buf()))?;
            entry.confirmed_destroyed.push(DestroyedCopy {
                path: path.to_path_buf(),
                operator: operator.into(),
                at: at.clone(),
            });
            Ok::<_, LifecycleError>(())
        },
        |_| serde_json::json!({}),
    )
}

/// One line of the roster: an identity and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    /// Name.
    pub name: String,
    /// Recipient.
    pub recipient: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// Status.
    pub status: CustodianStatus,
    /// Created (RFC 3339).
    pub since: String,
    /// Rotated or retired at (RFC 3339), or the rotation due date for an
    /// active custodian.
    pub until: String,
    /// Who took over, for a past identity.
    pub successor: Option<Successor>,
}

/// Every identity the registry knows: the active ones first (in registry
/// order), then the past ones, oldest first.
pub fn roster(reg: &Registry) -> Vec<RosterEntry> {
    let active = reg.custodians.iter().map(|c| RosterEntry {
        name: c.name.clone(),
        recipient: c.recipient.clone(),
        fingerprint: c.fingerprint.clone(),
        status: CustodianStatus::Active,
        since: c.created_at.clone(),
        until: c.rotation_due.clone(),
        successor: None,
    });
    let past = reg.custodian_history.iter().map(|p| RosterEntry {
        name: p.name.clone(),
        recipient: p.recipient.clone(),
        fingerprint: p.fingerprint.clone(),
        status: p.status,
        since: p.created_at.clone(),
        until: p.ended_at.clone(),
        successor: Some(p.successor.clone()),
    });
    active.chain(past).collect()
}

/// How many custodians retired (people, not rotated identities).
pub fn retired_count(reg: &Registry) -> usize {
    reg.custodian_history
        .iter()
        .filter(|p| p.status == CustodianStatus::Retired)
        .count()
}

/// Everything that can stop a rotation or a retirement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LifecycleError {
    /// No active custodian has this name.
    #[error("no active custodian named `{0}` is registered in this workspace")]
    UnknownCustodian(String),
    /// The custodian has no identity file on record.
    #[error("custodian `{0}` has no identity file on record")]
    NoIdentityFile(String),
    /// The custodian's identity needs a hardware token, which rotation
    /// cannot enrol yet: refused rather than dropping the second factor.
    #[error(
        "custodian `{0}`'s identity needs a hardware token, and rotation cannot yet seal the new identity to one; refused so the second factor is not silently dropped"
    )]
    TokenNotSupported(String),
    /// The identity file is not the registered custodian's.
    #[error("{} holds the key {found}, but `{name}` is registered with {registered}", path.display())]
    WrongIdentity {
        /// The file.
        path: PathBuf,
        /// The custodian.
        name: String,
        /// Its recipient.
        found: String,
        /// The registered recipient.
        registered: String,
    },
    /// A registered shard file is not what the registry says.
    #[error("{}: {reason}", path.display())]
    ShardMismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// A new shard did not open with the new identity, or held other bytes.
    #[error("the rewrapped shard {} did not verify: {reason}", path.display())]
    NotVerified {
        /// The new file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The registry changed while the operation ran.
    #[error("custodian `{0}` changed in the registry while this operation ran")]
    Changed(String),
    /// The key has guardian sets, so a rotation must re-split the new key.
    #[error("`{0}`'s key is split among guardians; the new key must be split too")]
    ResplitRequired(String),
    /// The path is not a copy any rotation or retirement listed to destroy.
    #[error("{} is not listed as a copy to destroy", .0.display())]
    NotListed(PathBuf),
    /// An onboarding plan that cannot be used.
    #[error("onboarding plan {}: {reason}", path.display())]
    BadPlan {
        /// The plan file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A ceremony plan missing something it needs.
    #[error("the ceremony plan: {0}")]
    PlanInvalid(String),
    /// A custodian listed twice in one ceremony.
    #[error("custodian `{0}` is listed twice in this ceremony")]
    DuplicateCustodian(String),
    /// The ceremony cannot complete yet.
    #[error("the ceremony is not complete: {0} has not finished every step")]
    CeremonyIncomplete(String),
    /// A retiree cannot succeed themselves.
    #[error("`{0}` cannot be their own successor")]
    SelfSuccession(String),
    /// The successor would hold enough shards of one key to sign alone.
    #[error(
        "{holder} would hold {holds} shards of key {key_id}, which needs {threshold}: they could rebuild it alone"
    )]
    ReachesThreshold {
        /// The successor.
        holder: String,
        /// The key.
        key_id: String,
        /// Shards they would hold.
        holds: usize,
        /// The key's threshold.
        threshold: u32,
    },
    /// The successor would hold several shards of one key (below threshold).
    #[error("{holder} would hold {holds} shards of key {key_id}")]
    Concentration {
        /// The successor.
        holder: String,
        /// The key.
        key_id: String,
        /// Shards they would hold.
        holds: usize,
    },
    /// An override named fewer than two approvers.
    #[error("an override needs at least 2 distinct approvers; {0} given")]
    TooFewApprovers(usize),
    /// The guardian plan for a re-split is unusable.
    #[error(transparent)]
    Guardian(#[from] GuardianError),
    /// Something about an identity.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Something about a shard.
    #[error(transparent)]
    Shard(#[from] ShardError),
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace could not be updated.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written, so nothing ran.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
    /// An override's approvals do not satisfy the workspace policy.
    #[error(transparent)]
    Approval(Box<crate::approvals::ApprovalError>),
}

// Boxed: an approval error names a person and may carry an identity error,
// which would make every result of this type large.
impl From<crate::approvals::ApprovalError> for LifecycleError {
    fn from(e: crate::approvals::ApprovalError) -> Self {
        LifecycleError::Approval(Box::new(e))
    }
}

impl Explain for LifecycleError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        use LifecycleError as L;
        Some(match self {
            L::UnknownCustodian(_) => {
                to.pick("check the name with `custodian custodians list` (past custodians are listed with --all)", "check the name against the custodians on the home screen")
            }
            L::TokenNotSupported(_) => {
                to.pick("nothing was changed; until rotation enrols tokens, rotate by hand: `custodian identity new --token-recipient age1…`, `custodian shard rewrap` for each shard, then `custodian guardians split`", "nothing was changed; until rotation enrols tokens, rotate by hand: a new identity with the token (n on the home screen), a rewrap of each shard to it (s), then a new guardian split (g)")
            }
            L::NoIdentityFile(_) | L::WrongIdentity { .. } => {
                to.pick("give the custodian's current identity file with --identity FILE", "give the custodian's current identity file")
            }
            L::ShardMismatch { .. } => {
                "nothing was changed; find out who changed the file, restore the registered copy, and run again".into()
            }
            L::NotVerified { .. } => "nothing was changed; run again and report this".into(),
            L::Changed(_) => "nothing was changed; run the command again".into(),
            L::ResplitRequired(_) => {
                to.pick("name the guardians (--guardians, --threshold) or keep the current set's", "name the guardians and the threshold on the guardians step, or keep the current set's")
            }
            L::NotListed(_) => {
                to.pick("`custodian check` lists the copies still to destroy; give one of those paths exactly", "give exactly one of the paths of the copies still to destroy, as the rotation listed them")
            }
            L::BadPlan { .. } => {
                "fix the plan: {\"present\": [names], \"custodians\": [{\"name\", \"guardians\": [names], \"threshold\"}]} (see the README)".into()
            }
            L::PlanInvalid(_) => "name who is present and at least one custodian".into(),
            L::DuplicateCustodian(_) => {
                "each custodian is onboarded once: give another name, or remove the second entry".into()
            }
            L::CeremonyIncomplete(_) => {
                to.pick("run `custodian onboard --plan FILE` again: it resumes where the ceremony stopped", "open the ceremony again (O on the home screen): it resumes where it stopped")
            }
            L::SelfSuccession(_) => to.pick("name another active custodian with --successor", "choose another active custodian as the successor"),
            L::ReachesThreshold { .. } => {
                to.pick("choose another successor, or override with --approver NAME at least twice (the approvers are audited)", "choose another successor, or have two different approvers override on the approvers step (they are recorded in the audit log)")
            }
            L::Concentration { .. } => {
                to.pick("confirm with --accept-concentration (audited), or choose another successor", "confirm by typing the successor's name on the confirmation step (recorded in the audit log), or choose another successor")
            }
            L::TooFewApprovers(_) => to.pick("name two or more different approvers with --approver", "add two or more different approvers on the approvers step"),
            L::Guardian(e) => return e.remedy_for(to),
            L::Identity(e) => return e.remedy_for(to),
            L::Shard(e) => return e.remedy_for(to),
            L::File(e) => return e.remedy_for(to),
            L::Workspace(e) => return e.remedy_for(to),
            L::Audit(e) => return e.remedy_for(to),
            L::Approval(e) => return e.remedy_for(to),
        })
    }
}

/// A compact time stamp for file names (`2026-11-30T073000Z`).
pub(crate) fn file_stamp(now: &str) -> String {
    now.replace(':', "")
}

/// Where a retired file goes: `<workspace>/retired/<kind>/<its name>`,
/// with the time stamp in front if that name is taken.
pub(crate) fn retired_path(
    ws: &Workspace,
    kind: &str,
    file: &Path,
    stamp: &str,
) -> Result<PathBuf, LifecycleError> {
    let dir = ws.subdir(RETIRED_DIR)?.join(kind);
    crate::fsutil::ensure_private_dir(&dir)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let plain = dir.join(&name);
    if plain.symlink_metadata().is_err() {
        return Ok(plain);
    }
    Ok(dir.join(format!("{stamp}-{name}")))
}
