//! Plaintext outputs, tracked until they are destroyed (custody hygiene).
//!
//! Some outputs hold a secret in the clear because the user asked for one:
//! derived Key Share #1 files (`kit derive`), a plain age key file
//! (`identity export --plaintext`), an opened envelope (`envelope open
//! --out`). Each is recorded in the registry's `plaintextOutputs` section —
//! absolute path, size, SHA-256, kind, time and the audit op that wrote it —
//! by the same transaction that writes it ([`Transaction::track_plaintext`]),
//! so an output and its record exist together or not at all, and the
//! COMPLETED audit entry lists it too.
//!
//! An output leaves the list of open ones in one of two audited ways:
//! [`destroy`] overwrites the file in place with one pass of random bytes,
//! fsyncs it and unlinks it (the unlink happens after the transaction's
//! commit point, as a retirement, so a crash is finished by the next
//! repair); or [`destroyed_elsewhere`] records that a named operator
//! destroyed it by other means (the file is gone from this machine).
//! Overwriting cannot reach copies that flash storage (SSDs, USB sticks)
//! keeps in its spare blocks: [`FLASH_CAVEAT`] says so wherever a
//! destruction is reported.
//!
//! `custodian check` (and the home and threat screens) flag every output
//! older than [`STALE_AFTER_HOURS`] that is not destroyed.
//!
//! [`Transaction::track_plaintext`]: crate::transaction::Transaction::track_plaintext

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::AuditError;
use crate::envelope::{Envelope, EnvelopeError};
use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::workspace::{Registry, Workspace, WorkspaceError};

/// The registry section.
pub const SECTION: &str = "plaintextOutputs";
/// Hours after which an output not destroyed is flagged.
pub const STALE_AFTER_HOURS: i64 = 24;
/// What every destruction report says.
pub const FLASH_CAVEAT: &str = "flash storage (SSD, USB stick, SD card) may keep copies of the old blocks that no overwrite reaches; treat that medium as holding the secret until it is physically destroyed";
/// Audit event of [`destroy`].
pub const EVENT_DESTROY: &str = "PLAINTEXT_OUTPUT_DESTROY";
/// Audit event of [`destroyed_elsewhere`].
pub const EVENT_DESTROYED_ELSEWHERE: &str = "PLAINTEXT_OUTPUT_DESTROYED_ELSEWHERE";
/// Audit event of [`open_envelope_to_file`].
pub const EVENT_ENVELOPE_OPEN: &str = "ENVELOPE_OPEN";

/// What a plaintext output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputKind {
    /// Derived NCW Key Share #1 values (`kit derive`).
    KeyShares,
    /// A plain age key file (`identity export --plaintext`).
    PlainAgeKey,
    /// The contents of an opened envelope (`envelope open --out`).
    EnvelopeContents,
    /// A drill sandbox's card of synthetic passphrases (`drill run`).
    DrillCard,
}

impl OutputKind {
    /// As a custodian reads it.
    pub fn label(self) -> &'static str {
        match self {
            OutputKind::KeyShares => "derived Key Share #1 values",
            OutputKind::PlainAgeKey => "plain age key",
            OutputKind::EnvelopeContents => "opened envelope contents",
            OutputKind::DrillCard => "drill card (synthetic passphrases)",
        }
    }
}

/// How a recorded output was destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestroyedHow {
    /// Overwritten with random bytes, fsynced and unlinked by this console.
    Overwritten,
    /// Destroyed by other means; a named operator says so.
    Elsewhere,
}

/// A destruction record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destruction {
    /// When (RFC 3339).
    pub at: String,
    /// How.
    pub how: DestroyedHow,
    /// Who said it was destroyed elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The audit op that recorded it.
    pub op: String,
}

/// One plaintext output (public facts only: where, how big, its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaintextOutput {
    /// Absolute path it was written to.
    pub path: PathBuf,
    /// What it holds.
    pub kind: OutputKind,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// When it was written (RFC 3339).
    pub created_at: String,
    /// The audit op that wrote it.
    pub op: String,
    /// Set once it is destroyed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroyed: Option<Destruction>,
}

impl PlaintextOutput {
    /// A new record for an output written by operation `op`.
    pub fn new(path: &Path, kind: OutputKind, size: u64, sha256: &str, op: &str) -> Self {
        PlaintextOutput {
            path: absolute(path),
            kind,
            size,
            sha256: sha256.to_string(),
            created_at: crate::clock::now_string(),
            op: op.to_string(),
            destroyed: None,
        }
    }

    /// True when it was written more than [`STALE_AFTER_HOURS`] before
    /// `now` and is not destroyed.
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        self.destroyed.is_none()
            && crate::clock::parse(&self.created_at)
                .is_some_and(|t| now - t > time::Duration::hours(STALE_AFTER_HOURS))
    }
}

/// `path` made absolute (against the current directory) without touching
/// the file system, so a record names the file wherever the command is run
/// from later.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Outputs not destroyed and older than a day at `now`.
pub fn stale(reg: &Registry, now: OffsetDateTime) -> Vec<&PlaintextOutput> {
    reg.plaintext_outputs
        .iter()
        .filter(|o| o.is_stale(now))
        .collect()
}

/// Outputs not destroyed yet (any age).
pub fn open_outputs(reg: &Registry) -> Vec<&PlaintextOutput> {
    reg.plaintext_outputs
        .iter()
        .filter(|o| o.destroyed.is_none())
        .collect()
}

/// Why a plaintext output could not be destroyed or recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputsError {
    /// The path is not a recorded plaintext output.
    #[error("{} is not a recorded plaintext output of this workspace", .0.display())]
    NotTracked(PathBuf),
    /// It was destroyed already.
    #[error("{} was already recorded as destroyed ({at})", path.display())]
    AlreadyDestroyed {
        /// The output.
        path: PathBuf,
        /// When.
        at: String,
    },
    /// The file is not there to overwrite.
    #[error("{} is not there any more; nothing was overwritten", .0.display())]
    Gone(PathBuf),
    /// The file is not the output that was recorded.
    #[error("{} changed since it was written (SHA-256 {actual}, recorded {expected}); it was not touched", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// The recorded hash.
        expected: String,
        /// The hash now.
        actual: String,
    },
    /// `destroyed-elsewhere` for a file that is still here.
    #[error("{} is still here with the recorded contents", .0.display())]
    StillHere(PathBuf),
    /// The operator's name is missing or not a plain name.
    #[error("operator name {0:?} is not usable: {1}")]
    BadOperator(String, String),
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The envelope could not be opened.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The workspace failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl Explain for OutputsError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            OutputsError::NotTracked(_) => {
                to.pick("run `custodian outputs` to list the recorded plaintext outputs and use the path as it shows it", "use the path exactly as the plaintext-outputs register recorded it")
            }
            OutputsError::AlreadyDestroyed { .. } => "nothing to do".into(),
            OutputsError::Gone(p) => to.pick(format!(
                "if it was destroyed by other means, record it: `custodian outputs destroyed-elsewhere {} --operator NAME`",
                p.display()
            ), format!(
                "if {} was destroyed by other means, an officer records it in the plaintext-outputs register with who destroyed it",
                p.display()
            )),
            OutputsError::Changed { path, .. } => to.pick(format!(
                "check what is in that file now; destroy it by hand if it holds a secret, then run `custodian outputs destroyed-elsewhere {} --operator NAME`",
                path.display()
            ), format!(
                "check what is in that file now; destroy it by hand if it holds a secret, then an officer records {} as destroyed elsewhere in the plaintext-outputs register",
                path.display()
            )),
            OutputsError::StillHere(p) => to.pick(format!(
                "destroy it here with `custodian outputs destroy {}`",
                p.display()
            ), format!(
                "destroy {} (the plaintext-outputs register overwrites and records it)",
                p.display()
            )),
            OutputsError::BadOperator(..) => {
                to.pick("pass --operator with the name of the person who destroyed it", "give the name of the person who destroyed it")
            }
            OutputsError::File(e) => return e.remedy_for(to),
            OutputsError::Envelope(e) => return e.remedy_for(to),
            OutputsError::Workspace(e) => return e.remedy_for(to),
            OutputsError::Audit(e) => return e.remedy_for(to),
        })
    }
}

fn find<'r>(reg: &'r Registry, path: &Path) -> Result<&'r PlaintextOutput, OutputsError> {
    let abs = absolute(path);
    let rec = reg
        .plaintext_outputs
        .iter()
        .rev()
        .find(|o| o.path == abs)
        .ok_or_else(|| OutputsError::NotTracked(abs.clone()))?;
    if let Some(d) = &rec.destroyed {
        return Err(OutputsError::AlreadyDestroyed {
            path: abs,
            at: d.at.clone(),
        });
    }
    Ok(rec)
}

fn mark(
    reg: &mut Registry,
    path: &Path,
    sha256: &str,
    destruction: Destruction,
) -> Result<(), OutputsError> {
    let rec = reg
        .plaintext_outputs
        .iter_mut()
        .rev()
        .find(|o| o.path == path && o.sha256 == sha256 && o.destroyed.is_none())
        .ok_or_else(|| OutputsError::NotTracked(path.to_path_buf()))?;
    rec.destroyed = Some(destruction);
    Ok(())
}

/// Overwrites a recorded output with one pass of random bytes, fsyncs it
/// and unlinks it, audited as a transaction (see the module docs). Refuses
/// a file that is not the recorded one.
pub fn destroy(ws: &Workspace, path: &Path) -> Result<PlaintextOutput, OutputsError> {
    let reg = ws.registry()?;
    let rec = find(&reg, path)?.clone();
    fsutil::refuse_symlink(&rec.path)?;
    match rec.path.symlink_metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(FsError::Io {
                action: "destroying",
                path: rec.path.clone(),
                source: std::io::Error::other("not a regular file"),
            }
            .into());
        }
        Err(_) => return Err(OutputsError::Gone(rec.path.clone())),
    }
    let actual = fsutil::file_fingerprint(&rec.path)?;
    // The overwrite happens before the commit point, so a destroy that
    // failed after it (or was killed) leaves the file overwritten, wholly or
    // in part, and the record not yet marked. A retry recognises its own
    // earlier attempt: a failed OUTPUTS_DESTROY of this very record in the
    // audit log, and a file of the recorded size. It overwrites again.
    let mut details = json!({
        "file": rec.path, "kind": rec.kind, "size": rec.size,
        "fileSha256": rec.sha256, "writtenBy": rec.op,
    });
    if actual != rec.sha256 {
        let size = rec.path.symlink_metadata().map(|m| m.len()).ok();
        match earlier_failed_attempt(ws, &rec)? {
            Some(op) if size == Some(rec.size) => {
                details["resumes"] = json!(op);
                details["foundSha256"] = json!(actual);
            }
            _ => {
                return Err(OutputsError::Changed {
                    path: rec.path.clone(),
                    expected: rec.sha256.clone(),
                    actual,
                });
            }
        }
    }
    let mut tx = ws.begin(EVENT_DESTROY, details)?;
    let op = tx.op_id().to_string();
    if let Err(e) = overwrite_random(&rec.path, rec.size) {
        return Err(tx.fail_with(OutputsError::from(e)));
    }
    // The unlink is a retirement: it happens after the commit point.
    if let Err(e) = tx.retire_on_commit(&rec.path, None) {
        return Err(tx.fail_with(OutputsError::from(e)));
    }
    let destruction = Destruction {
        at: crate::clock::now_string(),
        how: DestroyedHow::Overwritten,
        operator: None,
        op,
    };
    let (path, sha) = (rec.path.clone(), rec.sha256.clone());
    let d = destruction.clone();
    tx.commit(
        move |reg| mark(reg, &path, &sha, d),
        |_| json!({ "method": "one pass of random bytes, fsync, unlink", "caveat": FLASH_CAVEAT }),
    )?;
    Ok(PlaintextOutput {
        destroyed: Some(destruction),
        ..rec
    })
}

/// The op id of the latest destroy of `rec` (same file, same recorded
/// SHA-256) that began and failed, if any.
fn earlier_failed_attempt(
    ws: &Workspace,
    rec: &PlaintextOutput,
) -> Result<Option<String>, OutputsError> {
    use crate::audit::Status;
    let entries = ws.audit().entries()?;
    let failed: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter(|e| matches!(e.status, Status::Failed))
        .map(|e| e.op.as_str())
        .collect();
    Ok(entries
        .iter()
        .rev()
        .find(|e| {
            e.event == EVENT_DESTROY
                && matches!(e.status, Status::Initiated)
                && e.details["file"] == json!(rec.path)
                && e.details["fileSha256"] == json!(rec.sha256)
                && failed.contains(e.op.as_str())
        })
        .map(|e| e.op.clone()))
}

/// Overwrites `size` bytes of `path` in place with random bytes and fsyncs.
fn overwrite_random(path: &Path, size: u64) -> Result<(), FsError> {
    let io = |source| FsError::Io {
        action: "overwriting",
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(io)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rand::Rng::fill_bytes(&mut crate::rng::os(), &mut buf[..n]);
        fsutil::fault::check(fsutil::fault::Step::Write)
            .and_then(|()| file.write_all(&buf[..n]))
            .map_err(io)?;
        left -= n as u64;
    }
    fsutil::fault::check(fsutil::fault::Step::Fsync)
        .and_then(|()| file.sync_all())
        .map_err(io)
}

/// Records that a named operator destroyed a recorded output by other
/// means, audited. Refuses while the recorded file is still here.
pub fn destroyed_elsewhere(
    ws: &Workspace,
    path: &Path,
    operator: &str,
) -> Result<PlaintextOutput, OutputsError> {
    let operator = operator.trim();
    crate::identity::validate_name(operator)
        .map_err(|e| OutputsError::BadOperator(operator.to_string(), e.to_string()))?;
    let reg = ws.registry()?;
    let rec = find(&reg, path)?.clone();
    if rec.path.symlink_metadata().is_ok_and(|m| m.is_file())
        && fsutil::file_fingerprint(&rec.path).is_ok_and(|s| s == rec.sha256)
    {
        return Err(OutputsError::StillHere(rec.path.clone()));
    }
    let tx = ws.begin(
        EVENT_DESTROYED_ELSEWHERE,
        json!({
            "file": rec.path, "kind": rec.kind, "fileSha256": rec.sha256,
            "writtenBy": rec.op, "operator": operator,
        }),
    )?;
    let destruction = Destruction {
        at: crate::clock::now_string(),
        how: DestroyedHow::Elsewhere,
        operator: Some(operator.to_string()),
        op: tx.op_id().to_string(),
    };
    let (p, sha) = (rec.path.clone(), rec.sha256.clone());
    let d = destruction.clone();
    tx.commit(move |reg| mark(reg, &p, &sha, d), |_| json!({}))?;
    Ok(PlaintextOutput {
        destroyed: Some(destruction),
        ..rec
    })
}

/// Opens an envelope and writes its contents to `out` (0600, never
/// overwriting), as a transaction that records `out` as a plaintext
/// output. `input` and `input_sha256` name the envelope file for the audit
/// log. Returns the output's SHA-256.
pub fn open_envelope_to_file(
    ws: &Workspace,
    env: &Envelope,
    input: &Path,
    input_sha256: &str,
    passphrase: &SecretString,
    out: &Path,
) -> Result<String, OutputsError> {
    if out.symlink_metadata().is_ok() {
        return Err(FsError::AlreadyExists(out.to_path_buf()).into());
    }
    let mut tx = ws.begin(
        EVENT_ENVELOPE_OPEN,
        json!({ "file": input, "fileSha256": input_sha256, "out": absolute(out) }),
    )?;
    let written = (|| {
        let plain = env.open(passphrase)?;
        let bytes = plain.expose_secret();
        let sha = tx.write_output(out, bytes, |_| Ok(()))?;
        tx.track_plaintext(out, OutputKind::EnvelopeContents, bytes.len() as u64, &sha);
        Ok::<_, OutputsError>(sha)
    })();
    let sha = match written {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    tx.commit(
        |_| Ok::<_, OutputsError>(sha),
        |s| json!({ "outSha256": s }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_is_a_day_and_ends_with_destruction() {
        let mut o = PlaintextOutput::new(Path::new("/x/y"), OutputKind::PlainAgeKey, 3, "ab", "op");
        o.created_at = "2026-01-01T00:00:00Z".into();
        let t = |s| crate::clock::parse(s).unwrap();
        assert!(!o.is_stale(t("2026-01-01T23:59:00Z")));
        assert!(o.is_stale(t("2026-01-02T00:00:01Z")));
        o.destroyed = Some(Destruction {
            at: "2026-01-02T00:00:00Z".into(),
            how: DestroyedHow::Elsewhere,
            operator: Some("Ana".into()),
            op: "op2".into(),
        });
        assert!(!o.is_stale(t("2026-02-01T00:00:00Z")));
    }
}
