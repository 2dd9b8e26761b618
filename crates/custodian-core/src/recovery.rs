//! Threshold recovery of a raw secp256k1 private key from custodian shards
//! (the playbook's scenario 5, `RECOVER_PRIVATE_KEY`).
//!
//! The order of work is the point of this module:
//!
//! 1. **Public checks, no secret touched:** at least two distinct approvers;
//!    every shard parses, belongs to the same key id and root public key, has
//!    the same threshold and a distinct index; there are at least threshold
//!    shards; their share public keys, interpolated in the exponent, give the
//!    root public key ([`check_set_public`], naming a shard that does not
//!    belong); each identity file is the one its shard is wrapped to; the
//!    output is usable (the HSM key parses, the age recipient parses, the
//!    output file does not exist).
//! 2. **INITIATED audit entry,** naming the approvers, the shards and the
//!    output, fsynced — before any identity is opened or shard decrypted.
//! 3. **Decrypt** each shard; each payload is checked against its metadata.
//! 4. **Interpolate** at 0 modulo the curve order (Lagrange) and **verify**
//!    `G·key == rootPublicKey`. On a mismatch with more shards than the
//!    threshold, every threshold-sized subset is tried and the shard outside
//!    all agreeing subsets is named. Nothing is output on a mismatch.
//! 5. **Output,** one way only: RSA-OAEP-SHA256 to an HSM import key, age to
//!    a recipient, or handed back to the caller for a one-time display.
//!
//! The key is never written in plaintext and never reaches the audit log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use k256::{ProjectivePoint, Scalar};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PublicKey as RsaPublicKey};
use secrecy::SecretString;
use serde_json::json;
use zeroize::{Zeroize, Zeroizing};

use crate::audit::AuditError;
use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::identity::{self, IdentityError, IdentityFile};
use crate::shard::{self, ShardError, ShardFile};
use crate::transaction::Transaction;
use crate::workspace::{Workspace, WorkspaceError};

/// The audit event for a recovery.
pub const EVENT: &str = "RECOVER_PRIVATE_KEY";
/// The audit event written when a one-time display has been cleared.
pub const EVENT_CLEARED: &str = "RECOVER_PRIVATE_KEY_SCREEN_CLEARED";
/// Fewest approvers the policy allows.
pub const MIN_APPROVERS: usize = 2;
/// Smallest RSA modulus accepted for an HSM import key.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest PEM file read.
const MAX_PEM: u64 = 64 * 1024;

/// Everything that can stop a recovery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryError {
    /// Fewer than two approvers were named.
    #[error("recovery needs at least {MIN_APPROVERS} approvers; {given} named")]
    TooFewApprovers {
        /// How many were named.
        given: usize,
    },
    /// The same approver was named twice.
    #[error("approver `{0}` is named twice; approvers must be different people")]
    DuplicateApprover(String),
    /// An approver name is unusable.
    #[error("approver name: {0}")]
    BadApprover(IdentityError),
    /// The approvals do not satisfy the workspace policy, or one did not
    /// prove presence.
    #[error(transparent)]
    Approval(#[from] crate::approvals::ApprovalError),
    /// Not as many shards as identities, or none at all.
    #[error(
        "each shard needs the identity file of its holder ({shards} shards, {identities} identities)"
    )]
    UnpairedInputs {
        /// Shards given.
        shards: usize,
        /// Identities given.
        identities: usize,
    },
    /// Fewer shards than the threshold.
    #[error(
        "{} given, but key {key_id} needs {threshold}",
        crate::text::count(*.given as u64, "shard", "shards")
    )]
    BelowThreshold {
        /// The key.
        key_id: String,
        /// Shards given.
        given: usize,
        /// Shards needed.
        threshold: u32,
    },
    /// A shard of a different key.
    #[error("{} is a shard of key {found}, not of {expected}", file.display())]
    OtherKey {
        /// The odd file.
        file: PathBuf,
        /// Its key id.
        found: String,
        /// The key the first shard belongs to.
        expected: String,
    },
    /// Same key id, different root public key.
    #[error("{} names root public key {found}, but the other shards name {expected}", file.display())]
    RootKeyMismatch {
        /// The odd file.
        file: PathBuf,
        /// Its root public key.
        found: String,
        /// The others'.
        expected: String,
    },
    /// Same key, different threshold.
    #[error("{} says threshold {found}, the other shards say {expected}", file.display())]
    ThresholdMismatch {
        /// The odd file.
        file: PathBuf,
        /// Its threshold.
        found: u32,
        /// The others'.
        expected: u32,
    },
    /// Two shards with the same index.
    #[error("{} and {} both hold share index {index}", first.display(), second.display())]
    DuplicateIndex {
        /// The index.
        index: u32,
        /// The first file with it.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
    /// A problem with one shard (or its identity).
    #[error("{}: {source}", file.display())]
    Shard {
        /// The shard file.
        file: PathBuf,
        /// What went wrong.
        #[source]
        source: ShardError,
    },
    /// A holder's identity file did not open with the passphrase given: the
    /// passphrase is the identity's, never the shard's (a shard has none).
    #[error(
        "{holder}'s passphrase does not open {holder}'s identity file {} (the passphrase asked for is the identity's; the shard has none)",
        file.display()
    )]
    IdentityPassphrase {
        /// Whose identity.
        holder: String,
        /// The identity file.
        file: PathBuf,
        /// Why it did not open.
        #[source]
        source: IdentityError,
    },
    /// A holder's identity file could not be read or is not one.
    #[error("identity file {}: {source}", file.display())]
    IdentityFile {
        /// The identity file.
        file: PathBuf,
        /// What is wrong with it.
        #[source]
        source: IdentityError,
    },
    /// The rebuilt key does not match, and the bad shard could not be singled out.
    #[error(
        "the rebuilt key does not match root public key {root_public_key}; shards {indices:?} do not agree"
    )]
    VerificationFailed {
        /// The expected root public key.
        root_public_key: String,
        /// The indices used.
        indices: Vec<u32>,
    },
    /// The public check: these shards' public keys are off the polynomial
    /// the others agree on (whose value at 0 is the root public key).
    #[error(
        "{} {} not belong to key {key_id}: {} off the polynomial that the other shards' public keys agree on and whose secret is the root public key (checked on public data, nothing decrypted)",
        .shards.iter().map(|(i, f)| format!("shard index {i} ({})", f.display())).collect::<Vec<_>>().join(" and "),
        if .shards.len() == 1 { "does" } else { "do" },
        if .shards.len() == 1 { "its share public key lies" } else { "their share public keys lie" }
    )]
    NotInSet {
        /// The key.
        key_id: String,
        /// The shards that do not belong: (index, file).
        shards: Vec<(u32, PathBuf)>,
    },
    /// The public check failed and no shard could be singled out.
    #[error(
        "the share public keys of shards {indices:?} do not combine to key {key_id}'s root public key {root_public_key}: at least one of them does not belong (checked on public data, nothing decrypted)"
    )]
    PublicCheckFailed {
        /// The key.
        key_id: String,
        /// The expected root public key.
        root_public_key: String,
        /// The indices given.
        indices: Vec<u32>,
    },
    /// Subset search found the shard that disagrees.
    #[error(
        "shard index {index} ({}) disagrees with the others: every set of shards without it rebuilds the key, every set with it does not",
        file.display()
    )]
    BadShard {
        /// The disagreeing shard's index.
        index: u32,
        /// Its file.
        file: PathBuf,
    },
    /// The HSM import key is unusable.
    #[error("HSM import key {}: {reason}", file.display())]
    HsmKey {
        /// The PEM file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The age output recipient is unusable.
    #[error(transparent)]
    Recipient(IdentityError),
    /// A secret given where a public key belongs; never echoed.
    #[error(transparent)]
    SecretInput(#[from] crate::text::SecretInput),
    /// Wrapping the key for output failed.
    #[error("could not wrap the recovered key: {0}")]
    Wrap(String),
    /// A file could not be read or written.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace could not be used.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written, so nothing was decrypted.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
}

impl Explain for RecoveryError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            RecoveryError::TooFewApprovers { .. } | RecoveryError::DuplicateApprover(_) => {
                "name every approver of the quorum: at least two different people".into()
            }
            RecoveryError::BadApprover(e) => return e.remedy_for(to),
            RecoveryError::Approval(e) => return e.remedy_for(to),
            RecoveryError::UnpairedInputs { .. } => {
                to.pick("pair each --shard with the --identity of the custodian who holds it", "give each shard the identity file of the custodian who holds it")
            }
            RecoveryError::BelowThreshold { .. } => {
                "bring more custodians with their shards and identities".into()
            }
            RecoveryError::OtherKey { .. } => {
                "remove that shard; every shard must belong to the key being recovered".into()
            }
            RecoveryError::RootKeyMismatch { .. } | RecoveryError::ThresholdMismatch { .. } => {
                "one of the files was altered; use the custodians' backup copies".into()
            }
            RecoveryError::DuplicateIndex { .. } => {
                "each custodian holds a different index; remove the duplicate copy".into()
            }
            RecoveryError::Shard { source, .. } => return source.remedy_for(to),
            RecoveryError::IdentityPassphrase { holder, .. } => format!(
                "{holder} types the passphrase of their identity file again (check caps lock and the keyboard layout)"
            ),
            RecoveryError::IdentityFile { source, .. } => return source.remedy_for(to),
            RecoveryError::VerificationFailed { .. } => {
                "add one more custodian's shard so the disagreeing shard can be found, or use backup copies".into()
            }
            RecoveryError::NotInSet { .. } => {
                to.pick("leave that shard out (or use its holder's backup copy) and check the set again with `custodian shard verify-set`", "leave that shard out (or use its holder's backup copy) and add the shards again")
            }
            RecoveryError::PublicCheckFailed { .. } => {
                "add one more custodian's shard so the one that does not belong can be named, or use backup copies".into()
            }
            RecoveryError::BadShard { .. } => {
                "leave that shard out (or use its backup copy) and run the recovery again".into()
            }
            RecoveryError::HsmKey { .. } => {
                "export the HSM's import public key as PEM (RSA, 2048 bits or more)".into()
            }
            RecoveryError::Recipient(e) => return e.remedy_for(to),
            RecoveryError::SecretInput(e) => return e.remedy_for(to),
            RecoveryError::Wrap(_) => "check the output key and try again".into(),
            RecoveryError::File(e) => return e.remedy_for(to),
            RecoveryError::Workspace(e) => return e.remedy_for(to),
            RecoveryError::Audit(e) => return e.remedy_for(to),
        })
    }
}

/// Where the recovered key goes: exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryOutput {
    /// RSA-OAEP-SHA256 to an HSM's import public key (PEM), written to `out`.
    Hsm {
        /// The HSM's import public key.
        public_key_pem: PathBuf,
        /// Where the wrapped key goes.
        out: PathBuf,
    },
    /// Age-encrypted (armored) to a recipient, written to `out`.
    Age {
        /// The recipient.
        recipient: String,
        /// Where the file goes.
        out: PathBuf,
    },
    /// Returned to the caller to show once on screen.
    Screen,
}

impl RecoveryOutput {
    fn describe(&self) -> serde_json::Value {
        match self {
            RecoveryOutput::Hsm {
                public_key_pem,
                out,
            } => json!({"kind": "hsm-rsa-oaep-sha256", "publicKey": public_key_pem, "file": out}),
            RecoveryOutput::Age { recipient, out } => {
                json!({"kind": "age", "recipient": recipient, "file": out})
            }
            RecoveryOutput::Screen => json!({"kind": "screen-once"}),
        }
    }
}

/// One custodian's contribution: their shard and identity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardSource {
    /// The shard file.
    pub shard: PathBuf,
    /// The custodian's identity file.
    pub identity: PathBuf,
}

/// A checked recovery, ready for passphrases. Everything in it is public.
#[derive(Debug, Clone)]
pub struct RecoveryPlan {
    /// The key.
    pub key_id: String,
    /// Its root public key.
    pub root_public_key: String,
    /// The threshold.
    pub threshold: u32,
    /// The approvers.
    pub approvers: Vec<String>,
    /// The approvals: typed names as planned; the caller replaces them with
    /// authenticated ones ([`crate::approvals::authenticate`]) where the
    /// approvers opened their identities. [`recover`] checks them against
    /// the workspace policy.
    pub approvals: Vec<crate::approvals::Approval>,
    /// Shards with their identity files, in the order given.
    pub shards: Vec<(PathBuf, ShardFile, PathBuf, IdentityFile)>,
    /// The output.
    pub output: RecoveryOutput,
    hsm_key: Option<RsaPublicKey>,
}

/// The recovered key, for a one-time display. Zeroized when the last copy
/// is dropped; no `Debug` or `Display` shows it.
#[derive(Clone)]
pub struct RecoveredKey(Arc<Zeroizing<[u8; 32]>>);

impl std::fmt::Debug for RecoveredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveredKey(<redacted>)")
    }
}

impl RecoveredKey {
    /// The key as 64 lowercase hex digits, in groups of 8 for reading aloud.
    pub fn grouped_hex(&self) -> Zeroizing<String> {
        let h = Zeroizing::new(hex::encode(**self.0));
        let mut out = Zeroizing::new(String::with_capacity(72));
        for (i, c) in h.chars().enumerate() {
            if i > 0 && i % 8 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

/// What a recovery produced (public, except the key for a screen output).
#[derive(Debug, Clone)]
pub struct RecoveryOutcome {
    /// The key.
    pub key_id: String,
    /// Its verified root public key.
    pub root_public_key: String,
    /// The share indices used.
    pub indices: Vec<u32>,
    /// The written output and its SHA-256, for file outputs.
    pub written: Option<(PathBuf, String)>,
    /// The key, only for [`RecoveryOutput::Screen`].
    pub shown_once: Option<RecoveredKey>,
    /// The audit operation id (to record the screen clearing against).
    pub audit_op: String,
}

/// Reads an HSM import public key (RSA PEM, at least [`MIN_RSA_BITS`]);
/// a pasted secret is refused without being echoed.
pub fn load_hsm_key(path: &Path) -> Result<RsaPublicKey, RecoveryError> {
    let hsm = |reason: &str| RecoveryError::HsmKey {
        file: path.to_path_buf(),
        reason: reason.into(),
    };
    let bytes = fsutil::read_limited(path, MAX_PEM)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| hsm("not a PEM text file"))?;
    crate::text::refuse_secret("HSM public key file", text)?;
    let key = RsaPublicKey::from_public_key_pem(text.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(text.trim()))
        .map_err(|_| {
            hsm("not an RSA public key in PEM (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)")
        })?;
    if key.size() * 8 < MIN_RSA_BITS {
        return Err(hsm(&format!(
            "the key is {} bits; at least {MIN_RSA_BITS} are required",
            key.size() * 8
        )));
    }
    Ok(key)
}

/// Checks everything public (step 1 of the module docs). Nothing is
/// written and no secret is touched.
pub fn plan(
    sources: &[ShardSource],
    approvers: &[String],
    output: RecoveryOutput,
) -> Result<RecoveryPlan, RecoveryError> {
    // What people typed for public values first: a pasted secret is refused
    // before anything else is said about the request.
    if let RecoveryOutput::Age { recipient, .. } = &output {
        identity::parse_recipient(recipient).map_err(RecoveryError::Recipient)?;
    }
    if let RecoveryOutput::Hsm { public_key_pem, .. } = &output {
        // Only the secret check here; the key itself is checked in order below.
        if let Ok(bytes) = fsutil::read_limited(public_key_pem, MAX_PEM) {
            crate::text::refuse_secret("HSM public key file", &String::from_utf8_lossy(&bytes))?;
        }
    }
    let mut seen = Vec::new();
    for a in approvers {
        identity::validate_name(a).map_err(RecoveryError::BadApprover)?;
        if seen.contains(&a) {
            return Err(RecoveryError::DuplicateApprover(a.clone()));
        }
        seen.push(a);
    }
    if approvers.len() < MIN_APPROVERS {
        return Err(RecoveryError::TooFewApprovers {
            given: approvers.len(),
        });
    }
    if sources.is_empty() {
        return Err(RecoveryError::UnpairedInputs {
            shards: 0,
            identities: 0,
        });
    }
    let mut shards = Vec::new();
    for src in sources {
        let in_shard = |source: ShardError| RecoveryError::Shard {
            file: src.shard.clone(),
            source,
        };
        let file = ShardFile::load(&src.shard).map_err(in_shard)?;
        let id = IdentityFile::load(&src.identity).map_err(|e| in_shard(e.into()))?;
        file.check_identity(&id.recipient, &id.name)
            .map_err(in_shard)?;
        shards.push((src.shard.clone(), file, src.identity.clone(), id));
    }
    let files: Vec<(PathBuf, &ShardFile)> =
        shards.iter().map(|(p, f, _, _)| (p.clone(), f)).collect();
    let checked = check_set_public(&files)?;
    let (key_id, root, threshold) = (checked.key_id, checked.root_public_key, checked.threshold);
    let hsm_key = match &output {
        RecoveryOutput::Hsm {
            public_key_pem,
            out,
        } => {
            let key = load_hsm_key(public_key_pem)?;
            refuse_existing(out)?;
            Some(key)
        }
        RecoveryOutput::Age { recipient, out } => {
            identity::parse_recipient(recipient).map_err(RecoveryError::Recipient)?;
            refuse_existing(out)?;
            None
        }
        RecoveryOutput::Screen => None,
    };
    Ok(RecoveryPlan {
        key_id,
        root_public_key: root,
        threshold,
        approvers: approvers.to_vec(),
        approvals: approvers
            .iter()
            .map(|a| crate::approvals::Approval::typed(a))
            .collect(),
        shards,
        output,
        hsm_key,
    })
}

/// What the public check of a shard set found (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetCheck {
    /// The key the shards belong to.
    pub key_id: String,
    /// Its root public key.
    pub root_public_key: String,
    /// Shares needed.
    pub threshold: u32,
    /// The indices checked, in the order given.
    pub indices: Vec<u32>,
}

/// Most threshold-sized subsets tried to name a shard that does not belong.
const MAX_SUBSETS: u128 = 5_000;

/// The public check of a shard set, as Cobo's verify does it: the shards
/// belong to one key (id, root public key, threshold), hold distinct
/// indices and are at least the threshold; then, in the exponent, their
/// share public keys `G·sᵢ` lie on one polynomial of degree threshold − 1
/// whose value at 0 is the root public key — `Σ λᵢ(0)·Pᵢ = root` over the
/// first threshold shards, and `Σ λᵢ(xⱼ)·Pᵢ = Pⱼ` for each further one.
/// No passphrase, nothing decrypted. A shard off the polynomial is named
/// when the others agree without it.
pub fn check_set_public(shards: &[(PathBuf, &ShardFile)]) -> Result<SetCheck, RecoveryError> {
    let Some((_, first)) = shards.first() else {
        return Err(RecoveryError::UnpairedInputs {
            shards: 0,
            identities: 0,
        });
    };
    let (key_id, root, threshold) = (
        first.key_id.clone(),
        first.root_public_key.clone(),
        first.threshold,
    );
    for (i, (path, s)) in shards.iter().enumerate() {
        if s.key_id != key_id {
            return Err(RecoveryError::OtherKey {
                file: path.clone(),
                found: s.key_id.clone(),
                expected: key_id,
            });
        }
        if s.root_public_key != root {
            return Err(RecoveryError::RootKeyMismatch {
                file: path.clone(),
                found: s.root_public_key.clone(),
                expected: root,
            });
        }
        if s.threshold != threshold {
            return Err(RecoveryError::ThresholdMismatch {
                file: path.clone(),
                found: s.threshold,
                expected: threshold,
            });
        }
        if let Some((other, _)) = shards[..i].iter().find(|(_, o)| o.index == s.index) {
            return Err(RecoveryError::DuplicateIndex {
                index: s.index,
                first: other.clone(),
                second: path.clone(),
            });
        }
    }
    if shards.len() < threshold as usize {
        return Err(RecoveryError::BelowThreshold {
            key_id,
            given: shards.len(),
            threshold,
        });
    }
    let mut points = Vec::with_capacity(shards.len());
    for (path, s) in shards {
        let p =
            shard::parse_public_key("sharePublicKey", &s.share_public_key).map_err(|source| {
                RecoveryError::Shard {
                    file: path.clone(),
                    source,
                }
            })?;
        points.push((s.index, ProjectivePoint::from(*p.as_affine())));
    }
    let root_point = shard::parse_public_key("rootPublicKey", &root)
        .map(|p| ProjectivePoint::from(*p.as_affine()))
        .map_err(|source| RecoveryError::Shard {
            file: shards[0].0.clone(),
            source,
        })?;
    let t = threshold as usize;
    let indices: Vec<u32> = points.iter().map(|p| p.0).collect();
    let agree = |subset: &[(u32, ProjectivePoint)]| {
        interpolate_points(subset, 0) == root_point
            && points
                .iter()
                .filter(|(x, _)| !subset.iter().any(|(y, _)| y == x))
                .all(|(x, p)| interpolate_points(subset, *x) == *p)
    };
    if agree(&points[..t]) {
        return Ok(SetCheck {
            key_id,
            root_public_key: root,
            threshold,
            indices,
        });
    }
    // Name the shards off the polynomial: of the threshold-sized subsets
    // whose interpolation at 0 is the root public key, the one most other
    // shards lie on decides, when no other subset does as well with a
    // different set of shards (then which shards are wrong is ambiguous).
    if points.len() > t && binomial(points.len(), t) <= MAX_SUBSETS {
        let mut best: Option<Vec<bool>> = None;
        let mut ambiguous = false;
        for subset in subsets(points.len(), t) {
            let pts: Vec<(u32, ProjectivePoint)> = subset.iter().map(|&i| points[i]).collect();
            if interpolate_points(&pts, 0) != root_point {
                continue;
            }
            let on: Vec<bool> = points
                .iter()
                .enumerate()
                .map(|(j, (x, p))| subset.contains(&j) || interpolate_points(&pts, *x) == *p)
                .collect();
            let size = |v: &Vec<bool>| v.iter().filter(|b| **b).count();
            match &best {
                Some(b) if size(b) > size(&on) => {}
                Some(b) if size(b) == size(&on) => ambiguous |= *b != on,
                _ => {
                    best = Some(on);
                    ambiguous = false;
                }
            }
        }
        if let (Some(on), false) = (best, ambiguous) {
            let bad: Vec<(u32, PathBuf)> = (0..points.len())
                .filter(|&i| !on[i])
                .map(|i| (points[i].0, shards[i].0.clone()))
                .collect();
            if !bad.is_empty() {
                return Err(RecoveryError::NotInSet {
                    key_id,
                    shards: bad,
                });
            }
        }
    }
    Err(RecoveryError::PublicCheckFailed {
        key_id,
        root_public_key: root,
        indices,
    })
}

/// n choose k, saturating.
fn binomial(n: usize, k: usize) -> u128 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut acc: u128 = 1;
    for i in 0..k {
        acc = acc.saturating_mul((n - i) as u128) / (i as u128 + 1);
    }
    acc
}

/// Lagrange interpolation in the exponent: `Σ λᵢ(x)·Pᵢ`, where λ are the
/// Lagrange coefficients of the points' x coordinates (distinct, non-zero)
/// evaluated at `x`.
pub fn interpolate_points(points: &[(u32, ProjectivePoint)], x: u32) -> ProjectivePoint {
    let at = Scalar::from(u64::from(x));
    let mut acc = ProjectivePoint::IDENTITY;
    for (i, (xi, pi)) in points.iter().enumerate() {
        let xi = Scalar::from(u64::from(*xi));
        let mut num = Scalar::ONE;
        let mut den = Scalar::ONE;
        for (j, (xj, _)) in points.iter().enumerate() {
            if i != j {
                let xj = Scalar::from(u64::from(*xj));
                num *= at - xj;
                den *= xi - xj;
            }
        }
        let inv = Option::<Scalar>::from(den.invert()).unwrap_or(Scalar::ZERO);
        acc += *pi * (num * inv);
    }
    acc
}

fn refuse_existing(out: &Path) -> Result<(), RecoveryError> {
    if out.symlink_metadata().is_ok() {
        return Err(FsError::AlreadyExists(out.to_path_buf()).into());
    }
    Ok(())
}

/// A share id that appears twice: Lagrange interpolation needs distinct
/// ids, and a repeated one is always an error (never a silent zero key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("share id {0} appears twice; each share must have its own id")]
pub struct DuplicateShareId(pub u64);

/// The scalar fields Lagrange interpolation runs over: secp256k1's and
/// ed25519's group orders.
pub trait LagrangeField:
    Copy
    + PartialEq
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// An id as a field element.
    fn from_id(id: u64) -> Self;
    /// The inverse, None for 0.
    fn inverse(&self) -> Option<Self>;
}

impl LagrangeField for Scalar {
    const ZERO: Self = Scalar::ZERO;
    const ONE: Self = Scalar::ONE;
    fn from_id(id: u64) -> Self {
        Scalar::from(id)
    }
    fn inverse(&self) -> Option<Self> {
        Option::from(self.invert())
    }
}

impl LagrangeField for curve25519_dalek::Scalar {
    const ZERO: Self = curve25519_dalek::Scalar::ZERO;
    const ONE: Self = curve25519_dalek::Scalar::ONE;
    fn from_id(id: u64) -> Self {
        curve25519_dalek::Scalar::from(id)
    }
    fn inverse(&self) -> Option<Self> {
        (*self != curve25519_dalek::Scalar::ZERO).then(|| self.invert())
    }
}

/// Lagrange interpolation at x = 0 over `F`: the one implementation for
/// custodian shards and the vendor kit's workspace keys. A repeated id is
/// [`DuplicateShareId`].
pub fn lagrange_at_zero<F: LagrangeField>(points: &[(u64, F)]) -> Result<F, DuplicateShareId> {
    for (i, (xi, _)) in points.iter().enumerate() {
        if points[..i].iter().any(|(xj, _)| xj == xi) {
            return Err(DuplicateShareId(*xi));
        }
    }
    let mut acc = F::ZERO;
    for (i, (xi, yi)) in points.iter().enumerate() {
        let xi_f = F::from_id(*xi);
        let mut num = F::ONE;
        let mut den = F::ONE;
        for (j, (xj, _)) in points.iter().enumerate() {
            if i != j {
                let xj = F::from_id(*xj);
                num = num * xj;
                den = den * (xj - xi_f);
            }
        }
        // Distinct ids below the field order give a non-zero denominator;
        // ids equal modulo the order are the same id.
        let inv = den.inverse().ok_or(DuplicateShareId(*xi))?;
        acc = acc + *yi * num * inv;
    }
    Ok(acc)
}

/// Lagrange interpolation at x = 0 modulo the secp256k1 order
/// ([`lagrange_at_zero`] for shard indices).
pub fn interpolate_at_zero(points: &[(u32, Scalar)]) -> Result<Scalar, DuplicateShareId> {
    let mut wide: Vec<(u64, Scalar)> = points.iter().map(|(x, y)| (u64::from(*x), *y)).collect();
    let r = lagrange_at_zero(&wide);
    for p in &mut wide {
        p.1.zeroize();
    }
    r
}

fn matches_root(key: &Scalar, root: &str) -> bool {
    shard::public_of(key).is_some_and(|p| shard::public_key_hex(&p) == root)
}

/// All `k`-element subsets of `0..n`, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(k);
    fn go(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            go(i + 1, n, k, cur, out);
            cur.pop();
        }
    }
    go(0, n, k, &mut cur, &mut out);
    out
}

/// Rebuilds and verifies the key from decrypted points; on a mismatch,
/// names the disagreeing shard when the subsets allow it.
fn rebuild(
    plan: &RecoveryPlan,
    points: &[(u32, Scalar)],
) -> Result<Zeroizing<[u8; 32]>, RecoveryError> {
    // The plan refuses repeated indices; should one reach here, it is
    // still named, never interpolated into a zero key.
    let mut key = interpolate_at_zero(points).map_err(|d| {
        let files: Vec<&PathBuf> = plan
            .shards
            .iter()
            .filter(|s| u64::from(s.1.index) == d.0)
            .map(|s| &s.0)
            .collect();
        RecoveryError::DuplicateIndex {
            index: u32::try_from(d.0).unwrap_or(u32::MAX),
            first: files.first().map(|p| (*p).clone()).unwrap_or_default(),
            second: files.get(1).map(|p| (*p).clone()).unwrap_or_default(),
        }
    })?;
    let ok = matches_root(&key, &plan.root_public_key);
    if ok {
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key.to_bytes());
        key.zeroize();
        return Ok(bytes);
    }
    key.zeroize();
    let t = plan.threshold as usize;
    if points.len() > t {
        let mut good = vec![false; points.len()];
        let mut any = false;
        for subset in subsets(points.len(), t) {
            let pts: Vec<(u32, Scalar)> = subset.iter().map(|&i| points[i]).collect();
            let Ok(mut k) = interpolate_at_zero(&pts) else {
                continue;
            };
            if matches_root(&k, &plan.root_public_key) {
                any = true;
                for &i in &subset {
                    good[i] = true;
                }
            }
            k.zeroize();
        }
        let bad: Vec<usize> = (0..points.len()).filter(|&i| !good[i]).collect();
        if any && bad.len() == 1 {
            return Err(RecoveryError::BadShard {
                index: points[bad[0]].0,
                file: plan.shards[bad[0]].0.clone(),
            });
        }
    }
    Err(RecoveryError::VerificationFailed {
        root_public_key: plan.root_public_key.clone(),
        indices: points.iter().map(|p| p.0).collect(),
    })
}

/// Runs a checked recovery with the custodians' passphrases (one per
/// shard, in plan order). See the module docs for the order of work.
pub fn recover(
    ws: &Workspace,
    plan: &RecoveryPlan,
    passphrases: &[SecretString],
) -> Result<RecoveryOutcome, RecoveryError> {
    if passphrases.len() != plan.shards.len() {
        return Err(RecoveryError::UnpairedInputs {
            shards: plan.shards.len(),
            identities: passphrases.len(),
        });
    }
    // Approvals against the workspace policy, before anything is written.
    let policy = crate::approvals::policy(&ws.registry()?);
    crate::approvals::check(policy, &plan.approvals)?;
    let mut shard_details = Vec::new();
    for (path, s, id_path, _) in &plan.shards {
        shard_details.push(json!({
            "index": s.index, "custodian": s.custodian, "recipient": s.recipient,
            "file": path, "fileSha256": fsutil::file_fingerprint(path)?, "identityFile": id_path,
        }));
    }
    let mut tx = ws.begin(
        EVENT,
        json!({
            "keyId": plan.key_id, "rootPublicKey": plan.root_public_key,
            "threshold": plan.threshold, "approvers": plan.approvers,
            "approvals": plan.approvals.iter().map(crate::approvals::Approval::audit_value).collect::<Vec<_>>(),
            "approvalPolicy": policy.as_str(),
            "shards": shard_details, "output": plan.output.describe(),
        }),
    )?;
    let op_id = tx.op_id().to_string();
    let (written, shown_once) = match run_recovery(&mut tx, plan, passphrases) {
        Ok(p) => p,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let indices: Vec<u32> = plan.shards.iter().map(|s| s.1.index).collect();
    let outcome = RecoveryOutcome {
        key_id: plan.key_id.clone(),
        root_public_key: plan.root_public_key.clone(),
        indices,
        written,
        shown_once,
        audit_op: op_id,
    };
    // Recovery changes no registry section; the commit publishes the output.
    tx.commit(
        |_| Ok::<_, RecoveryError>(outcome),
        |o| {
            json!({
                "verified": true, "indicesUsed": o.indices,
                "outputSha256": o.written.as_ref().map(|w| w.1.clone()),
            })
        },
    )
}

type Produced = (Option<(PathBuf, String)>, Option<RecoveredKey>);

fn run_recovery(
    tx: &mut Transaction<'_>,
    plan: &RecoveryPlan,
    passphrases: &[SecretString],
) -> Result<Produced, RecoveryError> {
    let mut points = Vec::new();
    for ((path, s, id_path, id), pass) in plan.shards.iter().zip(passphrases) {
        let in_shard = |source: ShardError| RecoveryError::Shard {
            file: path.clone(),
            source,
        };
        let opened = id
            .open(pass)
            .map_err(|e| identity_refused(id, id_path, e))?;
        let payload = s.open(&opened).map_err(in_shard)?;
        points.push((s.index, payload.scalar().map_err(in_shard)?));
    }
    let key = rebuild(plan, &points);
    for p in &mut points {
        p.1.zeroize();
    }
    let key = key?;
    match &plan.output {
        RecoveryOutput::Screen => Ok((None, Some(RecoveredKey(Arc::new(key))))),
        RecoveryOutput::Hsm { out, .. } => {
            let pk = plan
                .hsm_key
                .as_ref()
                .ok_or_else(|| RecoveryError::Wrap("the HSM key was not loaded".into()))?;
            let wrapped = pk
                .encrypt(
                    &mut crate::rng::os(),
                    Oaep::<sha2::Sha256>::new(),
                    key.as_slice(),
                )
                .map_err(|e| RecoveryError::Wrap(e.to_string()))?;
            let size = pk.size();
            let sha = tx.write_output(out, &wrapped, |read| {
                if read.len() == size {
                    Ok(())
                } else {
                    Err("the wrapped key has the wrong length".into())
                }
            })?;
            Ok((Some((out.clone(), sha)), None))
        }
        RecoveryOutput::Age { recipient, out } => {
            let to = identity::parse_recipient(recipient).map_err(RecoveryError::Recipient)?;
            let mut text = Zeroizing::new(hex::encode(*key));
            text.push('\n');
            let sealed = shard::seal_to(&to, text.as_bytes())
                .map_err(|e| RecoveryError::Wrap(e.to_string()))?;
            let bytes = sealed.armored.as_bytes().to_vec();
            let sha = tx.write_output(out, &bytes, |read| {
                let s = std::str::from_utf8(read).map_err(|e| e.to_string())?;
                sealed.verify(s, text.as_bytes())
            })?;
            Ok((Some((out.clone(), sha)), None))
        }
    }
}

/// An identity that did not open: the passphrase's fault when the envelope
/// refused it, the file's otherwise.
fn identity_refused(id: &IdentityFile, path: &Path, e: IdentityError) -> RecoveryError {
    match e {
        IdentityError::Envelope(_) => RecoveryError::IdentityPassphrase {
            holder: id.name.clone(),
            file: path.to_path_buf(),
            source: e,
        },
        other => RecoveryError::IdentityFile {
            file: path.to_path_buf(),
            source: other,
        },
    }
}

/// Which input of one shard a [`check_source`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceField {
    /// The shard file.
    Shard,
    /// The holder's identity file.
    Identity,
    /// The holder's passphrase.
    Passphrase,
}

/// Checks one shard as it is entered, before the recovery starts, so a
/// mistake is fixed where it was made: the shard parses and holds a share
/// of the kind a shard holds, the identity file is the one it is wrapped
/// to, and the passphrase opens that identity. No share is decrypted (that
/// happens only after the recovery's INITIATED entry). A wrong passphrase
/// is audited as a failed recovery (as a failed split is); a right one
/// writes nothing. On refusal, says which input is at fault.
pub fn check_source(
    ws: &Workspace,
    source: &ShardSource,
    passphrase: &SecretString,
) -> Result<(), (SourceField, Box<RecoveryError>)> {
    check_source_inner(ws, source, passphrase).map_err(|(f, e)| (f, Box::new(e)))
}

#[allow(clippy::result_large_err)]
fn check_source_inner(
    ws: &Workspace,
    source: &ShardSource,
    passphrase: &SecretString,
) -> Result<(), (SourceField, RecoveryError)> {
    let in_shard = |e: ShardError| {
        (
            SourceField::Shard,
            RecoveryError::Shard {
                file: source.shard.clone(),
                source: e,
            },
        )
    };
    let s = ShardFile::load(&source.shard).map_err(in_shard)?;
    s.check_payload(false).map_err(in_shard)?;
    let id = IdentityFile::load(&source.identity).map_err(|e| {
        (
            SourceField::Identity,
            RecoveryError::IdentityFile {
                file: source.identity.clone(),
                source: e,
            },
        )
    })?;
    s.check_identity(&id.recipient, &id.name).map_err(|e| {
        (
            SourceField::Identity,
            RecoveryError::Shard {
                file: source.shard.clone(),
                source: e,
            },
        )
    })?;
    if let Err(e) = id.open(passphrase) {
        let err = identity_refused(&id, &source.identity, e);
        let field = match err {
            RecoveryError::IdentityPassphrase { .. } => SourceField::Passphrase,
            _ => SourceField::Identity,
        };
        if field == SourceField::Passphrase {
            let audited = ws
                .audit()
                .begin(
                    EVENT,
                    json!({
                        "stage": "passphrase-check", "keyId": s.key_id, "index": s.index,
                        "custodian": id.name, "shard": source.shard, "identityFile": source.identity,
                    }),
                )
                .and_then(|op| op.fail(&err.to_string()));
            if let Err(a) = audited {
                return Err((field, RecoveryError::Audit(a)));
            }
        }
        return Err((field, err));
    }
    Ok(())
}

/// Records that a one-time display was cleared; `ended`, where the caller
/// knows it (the console): how the display ended ("shown-and-cleared",
/// "timed-out", "abandoned") and whether the key was shown.
pub fn record_cleared(
    ws: &Workspace,
    key_id: &str,
    op: &str,
    ended: Option<(&str, bool)>,
) -> Result<(), AuditError> {
    let mut details = json!({ "keyId": key_id, "recoveryOp": op });
    if let Some((ended, shown)) = ended {
        details["ended"] = ended.into();
        details["shown"] = shown.into();
    }
    ws.audit().record(EVENT_CLEARED, details).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_share_id_is_an_error_on_both_curves() {
        let one = Scalar::ONE;
        assert_eq!(
            interpolate_at_zero(&[(1, one), (1, one + one)]),
            Err(DuplicateShareId(1))
        );
        let ed = curve25519_dalek::Scalar::ONE;
        assert_eq!(
            lagrange_at_zero(&[(7u64, ed), (3, ed), (7, ed)]),
            Err(DuplicateShareId(7))
        );
    }

    #[test]
    fn every_pair_of_three_interpolates_to_the_secret() {
        let secret = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
            &mut crate::rng::os(),
        );
        let shares = shard::split_scalar(&secret, 2, 3);
        for s in subsets(3, 2) {
            let pts: Vec<_> = s.iter().map(|&i| shares[i]).collect();
            assert_eq!(interpolate_at_zero(&pts).unwrap(), secret);
        }
        // One share alone is not the secret.
        assert_ne!(interpolate_at_zero(&shares[..1]).unwrap(), secret);
    }

    #[test]
    fn three_of_five_with_all_points_still_interpolates() {
        let secret = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
            &mut crate::rng::os(),
        );
        let shares = shard::split_scalar(&secret, 3, 5);
        assert_eq!(interpolate_at_zero(&shares).unwrap(), secret);
        assert_eq!(subsets(5, 3).len(), 10);
    }
}
