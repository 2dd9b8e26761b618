//! `drill make-key`: a random secp256k1 key split k-of-n over the curve
//! order into shard files wrapped to the custodians' recipients, for
//! rehearsing rewrap, restore-to-node and recovery.
//!
//! The key itself exists only in memory while it is split; what is kept is
//! its root public key (in the registry's `drillKeys` section) and the
//! shard files, each written and verified like any other shard.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroize;

use crate::error::Explain;
use crate::identity::{self, IdentityError};
use crate::shard::{self, ShardError, ShardFile, ShardRecord, SharePayload};
use crate::workspace::{Workspace, WorkspaceError};

/// Registry section listing drill keys.
pub const REGISTRY_SECTION: &str = "drillKeys";
/// Prefix of every drill key id.
pub const KEY_ID_PREFIX: &str = "drill-";

/// Why drill key material could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrillKeyError {
    /// Threshold or custodian count out of range.
    #[error(
        "a {threshold}-of-{total} split is not possible: need 2 ≤ threshold ≤ custodians ≤ 255"
    )]
    BadSplit {
        /// Requested threshold.
        threshold: u32,
        /// Custodians named.
        total: usize,
    },
    /// A custodian is named twice.
    #[error("custodian `{0}` is named twice")]
    DuplicateCustodian(String),
    /// A custodian is not registered and no identity was to be generated.
    #[error("custodian `{0}` is not registered in this workspace")]
    UnknownCustodian(String),
    /// A key id without the drill prefix.
    #[error("drill key ids start with `{KEY_ID_PREFIX}`; `{0}` does not")]
    NotADrillKeyId(String),
    /// Creating a sandbox identity failed.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Writing a shard failed.
    #[error(transparent)]
    Shard(#[from] ShardError),
    /// The workspace could not be updated.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written.
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
}

impl Explain for DrillKeyError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            DrillKeyError::BadSplit { .. } => {
                to.pick("name at least as many custodians as the threshold (e.g. --custodians A,B,C --threshold 2)", "name at least as many custodians as the threshold (for example three custodians for a threshold of 2)")
            }
            DrillKeyError::DuplicateCustodian(_) => "name each custodian once".into(),
            DrillKeyError::UnknownCustodian(_) => {
                to.pick("create the custodian's identity first, or add --generate-identities for sandbox identities", "create the custodian's identity first (n on the home screen)")
            }
            DrillKeyError::NotADrillKeyId(_) => format!("choose a key id starting with `{KEY_ID_PREFIX}`"),
            DrillKeyError::Identity(e) => return e.remedy_for(to),
            DrillKeyError::Shard(e) => return e.remedy_for(to),
            DrillKeyError::Workspace(e) => return e.remedy_for(to),
            DrillKeyError::Audit(e) => return e.remedy_for(to),
        })
    }
}

/// A drill key, as the registry records it (public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillKeyRecord {
    /// The key id.
    pub key_id: String,
    /// Its root public key.
    pub root_public_key: String,
    /// Shares needed.
    pub threshold: u32,
    /// Custodians, in index order (index = position + 1).
    pub custodians: Vec<String>,
    /// The shard files.
    pub files: Vec<PathBuf>,
    /// When it was made.
    pub created_at: String,
}

/// What to make.
pub struct MakeKeyRequest {
    /// Custodian names, in index order.
    pub custodians: Vec<String>,
    /// Shares needed.
    pub threshold: u32,
    /// A key id (must start with `drill-`); random when absent.
    pub key_id: Option<String>,
    /// Where the shards go (default `<workspace>/shards`).
    pub out_dir: Option<PathBuf>,
    /// Passphrases for custodians to generate sandbox identities for.
    pub generate: Vec<(String, SecretString)>,
}

impl std::fmt::Debug for MakeKeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MakeKeyRequest")
            .field("custodians", &self.custodians)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// Custodians in `names` that the workspace does not know yet.
pub fn missing_custodians(ws: &Workspace, names: &[String]) -> Result<Vec<String>, WorkspaceError> {
    let reg = ws.registry()?;
    Ok(names
        .iter()
        .filter(|n| reg.custodian(n).is_none())
        .cloned()
        .collect())
}

/// Checks the request's shape (before any passphrase is asked for).
pub fn check_request(custodians: &[String], threshold: u32) -> Result<(), DrillKeyError> {
    let total = custodians.len();
    if threshold < 2 || (threshold as usize) > total || total > 255 {
        return Err(DrillKeyError::BadSplit { threshold, total });
    }
    for (i, c) in custodians.iter().enumerate() {
        identity::validate_name(c)?;
        if custodians[..i].contains(c) {
            return Err(DrillKeyError::DuplicateCustodian(c.clone()));
        }
    }
    Ok(())
}

/// Makes a drill key and its shards; see the module docs.
pub fn make_key(ws: &Workspace, req: MakeKeyRequest) -> Result<DrillKeyRecord, DrillKeyError> {
    check_request(&req.custodians, req.threshold)?;
    let key_id = match &req.key_id {
        Some(k) if !k.starts_with(KEY_ID_PREFIX) => {
            return Err(DrillKeyError::NotADrillKeyId(k.clone()));
        }
        Some(k) => k.clone(),
        None => {
            let mut r = [0u8; 6];
            rand::Rng::fill_bytes(&mut crate::rng::os(), &mut r);
            format!("{KEY_ID_PREFIX}{}", hex::encode(r))
        }
    };
    shard::validate_key_id(&key_id)?;
    let reg = ws.registry()?;
    for c in &req.custodians {
        if reg.custodian(c).is_none() && !req.generate.iter().any(|(n, _)| n == c) {
            return Err(DrillKeyError::UnknownCustodian(c.clone()));
        }
    }
    // A directory made here is removed again if the command fails.
    let out_dir = match &req.out_dir {
        Some(d) => Some(Workspace::output_dir(d)?),
        None => None,
    };
    let dir = match &out_dir {
        Some(d) => d.path().to_path_buf(),
        None => ws.subdir("shards")?,
    };
    let paths: Vec<PathBuf> = req
        .custodians
        .iter()
        .enumerate()
        .map(|(i, c)| dir.join(shard::default_file_name(&key_id, i as u32 + 1, c)))
        .collect();
    for p in &paths {
        if p.exists() {
            return Err(ShardError::File(crate::fsutil::FsError::AlreadyExists(p.clone())).into());
        }
    }
    // Sandbox identities are made only once the shard paths are known to be free.
    for (name, pass) in &req.generate {
        if reg.custodian(name).is_none() {
            identity::create_identity(ws, name, pass, None)?;
        }
    }
    let reg = ws.registry()?;
    let mut recipients = Vec::new();
    for c in &req.custodians {
        let rec = reg
            .custodian(c)
            .ok_or_else(|| DrillKeyError::UnknownCustodian(c.clone()))?;
        recipients.push(rec.recipient.clone());
    }
    let total = req.custodians.len() as u32;
    let op = ws.audit().begin(
        "DRILL_MAKE_KEY",
        json!({ "keyId": key_id, "threshold": req.threshold, "total": total,
                "custodians": req.custodians, "files": paths }),
    )?;
    let result = (|| {
        let mut secret =
            *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
                &mut crate::rng::os(),
            );
        let root = shard::public_of(&secret)
            .map(|p| shard::public_key_hex(&p))
            .ok_or_else(|| ShardError::Encrypt("random key was zero".into()))?;
        let mut shares = shard::split_scalar(&secret, req.threshold, total);
        secret.zeroize();
        let mut records = Vec::new();
        let written = (|| {
            for (((index, share), name), (recipient, path)) in shares
                .iter()
                .zip(&req.custodians)
                .zip(recipients.iter().zip(&paths))
            {
                let payload = SharePayload::new(&key_id, *index, &root, share);
                let (file, sealed) = ShardFile::seal(&payload, name, recipient, req.threshold)?;
                let sha = file.write_checked(path, &sealed, &payload)?;
                records.push(ShardRecord {
                    key_id: key_id.clone(),
                    index: *index,
                    custodian: name.clone(),
                    recipient: recipient.clone(),
                    file: path.clone(),
                    file_sha256: sha,
                    created_at: file.created_at.clone(),
                    origin: "drill".into(),
                    replaces: None,
                });
            }
            Ok::<_, ShardError>(())
        })();
        for s in &mut shares {
            s.1.zeroize();
        }
        written?;
        shard::register(ws, records)?;
        let record = DrillKeyRecord {
            key_id: key_id.clone(),
            root_public_key: root,
            threshold: req.threshold,
            custodians: req.custodians.clone(),
            files: paths.clone(),
            created_at: crate::clock::now_string(),
        };
        ws.update_registry(|reg| {
            reg.drill_keys.push(record.clone());
            Ok::<_, WorkspaceError>(())
        })?;
        Ok::<_, DrillKeyError>(record)
    })();
    match result {
        Ok(record) => {
            if let Some(dir) = out_dir {
                dir.keep();
            }
            op.complete(json!({ "rootPublicKey": record.root_public_key }))?;
            Ok(record)
        }
        Err(e) => {
            op.fail(&e.to_string())?;
            Err(e)
        }
    }
}
