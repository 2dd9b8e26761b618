//! An encrypted off-site copy of the workspace, and its restore.
//!
//! [`backup`] writes one ASCII-armored age file, encrypted to one or more
//! recipients (two officers, say), holding one JSON document: a manifest
//! (format, version, time, the audit log's head and entry count) and every
//! workspace file as it is — registry, audit log, identity files (already
//! sealed), ceremony, incident and drill records — each with its relative
//! path, size, SHA-256 and base64 bytes (docs/FORMATS.md has the fields).
//! Left out: the journal, the lock file, temporary files, symbolic links,
//! and every file recorded as a plaintext output not yet destroyed (a
//! backup must not spread a plaintext secret). The `age` CLI decrypts it:
//! `age -d -i KEY FILE | jq .manifest`.
//!
//! [`restore`] never merges into a workspace: the target directory must
//! not exist, or be empty ([`BackupError::TargetNotEmpty`]), and must not
//! lie inside the live workspace ([`BackupError::RestoreInsideWorkspace`]).
//! Everything is checked in memory first —
//! armor complete (else [`BackupError::Truncated`]), decryption (altered:
//! [`BackupError::Altered`]; not for this identity:
//! [`BackupError::NotForThisIdentity`]), every path safe, every file's
//! size and SHA-256, the audit chain intact with its head equal to the
//! manifest's — and only then are the files written, into a private
//! staging directory renamed into place at the end. So a refused archive
//! restores nothing. The restore is audited in the restored copy's own
//! log, as a transaction ([`RESTORE_EVENT`], INITIATED and COMPLETED with
//! the archive's SHA-256, the recorded head, the file count, the target and
//! the opening recipient) run inside the staging directory before it is
//! renamed into place: the archived log stays byte for byte a prefix of the
//! restored one (`audit verify --expect-head` with the recorded head still
//! passes), and a restore that fails at any step — the audit entry
//! included — leaves no directory at all. The restore is recorded there and
//! not in the workspace the operator ran it from: a restore is typically
//! run on another machine (or after the original is lost), and the copy is
//! the workspace that lives on, carrying both the backup's entry and its
//! restore's.
//!
//! The backup itself is a transaction (`WORKSPACE_BACKUP`) that records the
//! archive (path, SHA-256, recipients, audit head) in the registry, so
//! `custodian check` can flag a workspace with no backup newer than its
//! last sensitive operation ([`SENSITIVE_EVENTS`]).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::x25519;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use crate::audit::{self, AuditError};
use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::workspace::{Registry, Workspace, WorkspaceError};

/// The archive document's `format`.
pub const FORMAT: &str = "custodian-backup";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// The registry section.
pub const SECTION: &str = "backups";
/// Audit event of [`backup`].
pub const EVENT: &str = "WORKSPACE_BACKUP";
/// Audit event of [`restore`], in the restored copy's log.
pub const RESTORE_EVENT: &str = "WORKSPACE_RESTORE";
/// Largest archive read or written.
pub const MAX_ARCHIVE: u64 = 512 << 20;
/// Largest single workspace file taken into an archive.
const MAX_FILE: u64 = 64 << 20;
/// How deep the workspace is walked.
const MAX_DEPTH: usize = 8;
const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END: &str = "-----END AGE ENCRYPTED FILE-----";

/// Completed operations after which the workspace needs a new backup: the
/// ones that create, move or expose key material, or change a custody
/// record (ceremony, incident, drill).
pub const SENSITIVE_EVENTS: &[&str] = &[
    "IDENTITY_CREATE",
    "IDENTITY_IMPORT",
    "IDENTITY_EXPORT_PLAINTEXT",
    "GUARDIAN_SPLIT",
    "GUARDIAN_COMBINE",
    "SHARD_REWRAP",
    "SHARD_RESTORE_TO_NODE",
    "RECOVER_PRIVATE_KEY",
    "DRKIT_KEYGEN",
    "DRKIT_DERIVE",
    "CUSTODIAN_ROTATE",
    "CUSTODIAN_RETIRE",
    "ONBOARD_COMPLETE",
    "INCIDENT_OPEN",
    "INCIDENT_STEP",
    "INCIDENT_CLOSE",
    "ENVELOPE_OPEN",
    "DRILL_RUN",
];

/// A backup written from this workspace (public facts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Where the archive was written.
    pub out: PathBuf,
    /// SHA-256 of the archive file.
    pub sha256: String,
    /// The age recipients it is encrypted to.
    pub recipients: Vec<String>,
    /// The audit head inside the archive.
    pub audit_head: String,
    /// The seq of that head entry.
    pub audit_seq: u64,
    /// Number of files in it.
    pub files: usize,
    /// The audit op that wrote it.
    pub op: String,
}

/// The manifest: everything but the file bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// When the archive was made.
    pub created_at: String,
    /// The workspace it was made from (informational).
    pub workspace: String,
    /// Hash of the last audit entry in the archived log.
    pub audit_head: String,
    /// Number of entries in the archived log.
    pub audit_entries: u64,
    /// Every file: path, size, SHA-256.
    pub files: Vec<FileEntry>,
}

/// One file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileEntry {
    /// Relative path, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: String,
}

/// The decrypted archive document.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Document {
    manifest: Manifest,
    /// Base64 (standard, padded) bytes of each file, in manifest order.
    contents: Vec<String>,
}

/// What a restore produced, and what it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The new workspace directory.
    pub into: PathBuf,
    /// The manifest, verified.
    pub manifest: Manifest,
    /// The restored audit log's chain, verified intact: its entry count
    /// (equal to the manifest's).
    pub audit_entries: u64,
    /// Its head (equal to the manifest's).
    pub audit_head: String,
    /// Every file as read back after it was written: path, size and the
    /// SHA-256 of the bytes read back (each equal to the manifest's).
    pub files: Vec<FileEntry>,
    /// SHA-256 of the archive file.
    pub archive_sha256: String,
    /// The audit op of the [`RESTORE_EVENT`] entries in the restored log.
    pub op: String,
    /// The restored log's head after those entries (the recorded head is
    /// still in the chain, two entries earlier).
    pub head_after: String,
}

/// Why a backup or restore failed. Nothing is written on any of them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// No recipient was given.
    #[error("no recipient: a backup needs at least one officer's recipient (age1…)")]
    NoRecipient,
    /// A recipient is not an age X25519 recipient.
    #[error("recipient {index} is not an age recipient (age1…): {reason}")]
    BadRecipient {
        /// 1-based position on the command line.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The archive would be written inside the workspace it copies.
    #[error("{} is inside the workspace {}; an off-site copy goes elsewhere", out.display(), workspace.display())]
    InsideWorkspace {
        /// The requested output.
        out: PathBuf,
        /// The workspace.
        workspace: PathBuf,
    },
    /// The workspace's audit log does not verify: no backup of a broken log.
    #[error("the workspace's audit log does not verify: {0}")]
    SourceAudit(#[source] AuditError),
    /// The archive file is empty.
    #[error("{} is empty", .0.display())]
    Empty(PathBuf),
    /// The file is not an armored age file.
    #[error("{} is not a custodian backup (not an ASCII-armored age file)", .0.display())]
    NotAnArchive(PathBuf),
    /// The armor's end line is missing: the file was cut short.
    #[error("{} is truncated: its armor has no end line", .0.display())]
    Truncated(PathBuf),
    /// Decryption failed: a byte was changed or lost.
    #[error("{} does not decrypt: it was altered or damaged ({reason})", path.display())]
    Altered {
        /// The archive.
        path: PathBuf,
        /// What age said.
        reason: String,
    },
    /// The identity is not one of the archive's recipients.
    #[error("{} is not encrypted to this identity ({recipient})", path.display())]
    NotForThisIdentity {
        /// The archive.
        path: PathBuf,
        /// The identity's recipient.
        recipient: String,
    },
    /// The decrypted document is not a backup this build reads.
    #[error("the archive's contents are not a custodian backup: {0}")]
    BadDocument(String),
    /// A path in the archive would escape the target directory.
    #[error("the archive names an unsafe path {0:?}")]
    UnsafePath(String),
    /// A file's bytes do not match the manifest.
    #[error("file {path} in the archive does not match its manifest entry ({what})")]
    FileMismatch {
        /// The file.
        path: String,
        /// Size or hash.
        what: &'static str,
    },
    /// The archived audit log does not verify.
    #[error("the archived audit log does not verify: {0}")]
    ArchivedAudit(#[source] AuditError),
    /// The restore's own audit entries could not be verified in the
    /// restored log.
    #[error("the restored audit log does not verify after the restore was recorded in it: {0}")]
    RestoreRecord(#[source] AuditError),
    /// The archived audit log's head is not the manifest's.
    #[error("the archived audit log ends at {actual}, but the manifest records head {recorded}")]
    AuditHeadMismatch {
        /// The manifest's head.
        recorded: String,
        /// The log's head.
        actual: String,
    },
    /// The restore target lies inside the live workspace.
    #[error("{} is inside the workspace {}; a restore goes into a new directory outside it", into.display(), workspace.display())]
    RestoreInsideWorkspace {
        /// The requested target.
        into: PathBuf,
        /// The live workspace.
        workspace: PathBuf,
    },
    /// The target directory exists and is not empty.
    #[error("{} exists and is not empty; restore goes into a new or empty directory only", .0.display())]
    TargetNotEmpty(PathBuf),
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl Explain for BackupError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        use BackupError::*;
        Some(match self {
            NoRecipient | BadRecipient { .. } => {
                to.pick("pass each officer's recipient (age1…, from `custodian identity show`) with --to", "give each officer's recipient (age1…, as the home screen's custodian rows and their identity file show it)")
            }
            InsideWorkspace { .. } => "write the archive outside the workspace (a removable medium kept off-site)".into(),
            SourceAudit(_) => to.pick("run `custodian audit verify` and treat a broken log as a security incident before backing it up", "verify the audit log (a on the home screen, then v) and treat a broken log as a security incident before backing it up"),
            Empty(_) | Truncated(_) => "the copy is incomplete: take another copy of the archive from its off-site medium; nothing was restored".into(),
            NotAnArchive(_) | BadDocument(_) => to.pick("check that this is the file `custodian backup` wrote; nothing was restored", "check that this is the archive a backup wrote; nothing was restored"),
            Altered { .. } | UnsafePath(_) | FileMismatch { .. } => "the archive was changed after it was written: use another copy and treat this one as evidence; nothing was restored".into(),
            NotForThisIdentity { .. } => to.pick("use the identity of one of the officers the backup was made for (`--to` when it was written); nothing was restored", "use the identity of one of the officers the backup was made for (its recipients when it was written); nothing was restored"),
            RestoreRecord(_) => "check the disk holding the target directory (a failing medium?) and restore again; nothing was restored".into(),
            ArchivedAudit(_) | AuditHeadMismatch { .. } => "the archived audit log is not the one the backup recorded: use another copy and treat this one as evidence; nothing was restored".into(),
            TargetNotEmpty(_) => to.pick("name a new (or empty) directory with --into; a restore never merges into an existing workspace", "name a new (or empty) directory to restore into; a restore never merges into an existing workspace"),
            RestoreInsideWorkspace { .. } => to.pick("name a directory outside the workspace with --into; a restored copy inside it would be mixed into its backups", "name a directory outside the workspace to restore into; a restored copy inside it would be mixed into its backups"),
            File(e) => return e.remedy_for(to),
            Workspace(e) => return e.remedy_for(to),
            Audit(e) => return e.remedy_for(to),
        })
    }
}

/// Collects the workspace files a backup takes (see the module docs), as
/// (relative path, absolute path), sorted.
fn collect(ws: &Workspace, reg: &Registry) -> Result<Vec<(String, PathBuf)>, BackupError> {
    let skip: BTreeSet<PathBuf> = crate::outputs::open_outputs(reg)
        .into_iter()
        .map(|o| o.path.clone())
        .collect();
    let root = ws.root().to_path_buf();
    let abs_root = crate::outputs::absolute(&root);
    let mut out = Vec::new();
    let mut stack = vec![(root.clone(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|source| FsError::Io {
            action: "reading",
            path: dir.clone(),
            source,
        })?;
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name();
            let Ok(ft) = e.file_type() else { continue };
            if fsutil::is_temp_name(&name) || ft.is_symlink() {
                continue;
            }
            let rel = p.strip_prefix(&root).unwrap_or(&p).to_path_buf();
            if depth == 0 && (name == ".lock" || name == crate::transaction::JOURNAL_DIR) {
                continue;
            }
            if ft.is_dir() {
                if depth + 1 < MAX_DEPTH {
                    stack.push((p, depth + 1));
                }
            } else if ft.is_file() && !skip.contains(&abs_root.join(&rel)) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn encrypt(recipients: &[x25519::Recipient], plain: &[u8]) -> Result<Vec<u8>, BackupError> {
    let err = |e: std::io::Error| BackupError::BadDocument(format!("encrypting: {e}"));
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| BackupError::BadDocument(format!("encrypting: {e}")))?;
    let mut out = Vec::new();
    let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(err)?;
    let mut w = encryptor.wrap_output(armor).map_err(err)?;
    w.write_all(plain).map_err(err)?;
    w.finish().and_then(|a| a.finish()).map_err(err)?;
    Ok(out)
}

/// Writes an encrypted archive of the workspace to `out` for `recipients`
/// (see the module docs), as a transaction recorded in the registry.
pub fn backup(
    ws: &Workspace,
    recipients: &[String],
    out: &Path,
) -> Result<BackupRecord, BackupError> {
    if recipients.is_empty() {
        return Err(BackupError::NoRecipient);
    }
    let parsed = recipients
        .iter()
        .enumerate()
        .map(|(i, r)| {
            crate::identity::parse_recipient(r.trim()).map_err(|e| BackupError::BadRecipient {
                index: i + 1,
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if out.symlink_metadata().is_ok() {
        return Err(FsError::AlreadyExists(out.to_path_buf()).into());
    }
    let abs_out = crate::outputs::absolute(out);
    let abs_ws = crate::outputs::absolute(ws.root());
    let real_parent = abs_out
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .unwrap_or_else(|| abs_out.clone());
    let real_ws = std::fs::canonicalize(&abs_ws).unwrap_or(abs_ws.clone());
    if abs_out.starts_with(&abs_ws) || real_parent.starts_with(&real_ws) {
        return Err(BackupError::InsideWorkspace {
            out: abs_out,
            workspace: abs_ws,
        });
    }
    // A broken log is refused before anything is written.
    ws.audit().verify().map_err(BackupError::SourceAudit)?;
    let mut tx = ws.begin(EVENT, json!({ "out": abs_out, "recipients": recipients }))?;
    let op = tx.op_id().to_string();
    let made = (|| {
        // A consistent snapshot: no registry change while files are read.
        let (manifest, doc) = ws.locked(|| {
            let reg = ws.registry()?;
            let files = collect(ws, &reg)?;
            let audit_bytes = fsutil::read_limited(ws.audit().path(), MAX_FILE)?;
            let chain = audit::verify(&audit_bytes).map_err(BackupError::SourceAudit)?;
            let mut entries = Vec::new();
            let mut contents = Vec::new();
            for (rel, path) in files {
                let bytes = Zeroizing::new(fsutil::read_limited(&path, MAX_FILE)?);
                // The audit log as verified above, not a later read.
                let bytes = if rel == crate::workspace::AUDIT_FILE {
                    Zeroizing::new(audit_bytes.clone())
                } else {
                    bytes
                };
                entries.push(FileEntry {
                    path: rel,
                    size: bytes.len() as u64,
                    sha256: fsutil::sha256_hex(&bytes),
                });
                contents.push(base64::engine::general_purpose::STANDARD.encode(&*bytes));
            }
            let manifest = Manifest {
                format: FORMAT.into(),
                version: VERSION,
                created_at: crate::clock::now_string(),
                workspace: abs_ws.display().to_string(),
                audit_head: chain.head,
                audit_entries: chain.entries,
                files: entries,
            };
            Ok::<_, BackupError>((manifest.clone(), Document { manifest, contents }))
        })?;
        let plain = Zeroizing::new(
            serde_json::to_vec(&doc).map_err(|e| BackupError::BadDocument(e.to_string()))?,
        );
        drop(doc);
        let sealed = encrypt(&parsed, &plain)?;
        if sealed.len() as u64 > MAX_ARCHIVE {
            return Err(FsError::TooLarge {
                path: abs_out.clone(),
                size: sealed.len() as u64,
                limit: MAX_ARCHIVE,
            }
            .into());
        }
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        tx.reserve(dir, sealed.len() as u64)?;
        let sha = tx.write_output(out, &sealed, |read| {
            if read == sealed.as_slice()
                && age::Decryptor::new_buffered(ArmoredReader::new(read)).is_ok()
            {
                Ok(())
            } else {
                Err("the archive read back differs from what was written".into())
            }
        })?;
        Ok(BackupRecord {
            at: manifest.created_at.clone(),
            out: abs_out.clone(),
            sha256: sha,
            recipients: recipients.iter().map(|r| r.trim().to_string()).collect(),
            audit_head: manifest.audit_head.clone(),
            audit_seq: manifest.audit_entries,
            files: manifest.files.len(),
            op: op.clone(),
        })
    })();
    let record = match made {
        Ok(r) => r,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let r = record.clone();
    tx.commit(
        move |reg| {
            reg.backups.push(r.clone());
            Ok::<_, BackupError>(r)
        },
        |r| {
            json!({
                "archiveSha256": r.sha256, "auditHead": r.audit_head,
                "auditSeq": r.audit_seq, "files": r.files,
            })
        },
    )
}

/// A relative path from the archive, checked: plain components only.
fn safe_relative(path: &str) -> Result<PathBuf, BackupError> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && !path.contains('\\')
        && p.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(p.to_path_buf())
    } else {
        Err(BackupError::UnsafePath(path.to_string()))
    }
}

/// Every file's bytes, in manifest order (zeroized when dropped).
type FileBytes = Vec<Zeroizing<Vec<u8>>>;

/// Decrypts and checks an archive in memory (see the module docs).
fn open_archive(
    archive: &Path,
    identity: &x25519::Identity,
) -> Result<(Manifest, FileBytes, audit::ChainStatus, String), BackupError> {
    let bytes = fsutil::read_limited(archive, MAX_ARCHIVE)?;
    if bytes.is_empty() {
        return Err(BackupError::Empty(archive.to_path_buf()));
    }
    let text = String::from_utf8_lossy(&bytes);
    if !text.trim_start().starts_with(ARMOR_BEGIN) {
        return Err(BackupError::NotAnArchive(archive.to_path_buf()));
    }
    if !text.trim_end().ends_with(ARMOR_END) {
        return Err(BackupError::Truncated(archive.to_path_buf()));
    }
    let altered = |reason: String| BackupError::Altered {
        path: archive.to_path_buf(),
        reason,
    };
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(&bytes[..]))
        .map_err(|e| altered(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => BackupError::NotForThisIdentity {
                path: archive.to_path_buf(),
                recipient: identity.to_public().to_string(),
            },
            other => altered(other.to_string()),
        })?;
    let mut plain = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|e| altered(e.to_string()))?;
    let doc: Document =
        serde_json::from_slice(&plain).map_err(|e| BackupError::BadDocument(e.to_string()))?;
    drop(plain);
    let m = doc.manifest;
    if m.format != FORMAT || m.version != VERSION {
        return Err(BackupError::BadDocument(format!(
            "format {:?} version {} (this build reads {FORMAT} version {VERSION})",
            m.format, m.version
        )));
    }
    if m.files.len() != doc.contents.len() {
        return Err(BackupError::BadDocument(
            "the manifest and the contents list differ in length".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut files = Vec::with_capacity(m.files.len());
    for (entry, b64) in m.files.iter().zip(doc.contents) {
        safe_relative(&entry.path)?;
        if !seen.insert(entry.path.clone()) {
            return Err(BackupError::UnsafePath(entry.path.clone()));
        }
        let data = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|_| BackupError::FileMismatch {
                    path: entry.path.clone(),
                    what: "not base64",
                })?,
        );
        if data.len() as u64 != entry.size {
            return Err(BackupError::FileMismatch {
                path: entry.path.clone(),
                what: "size",
            });
        }
        if fsutil::sha256_hex(&data) != entry.sha256 {
            return Err(BackupError::FileMismatch {
                path: entry.path.clone(),
                what: "SHA-256",
            });
        }
        files.push(data);
    }
    let log = m
        .files
        .iter()
        .position(|f| f.path == crate::workspace::AUDIT_FILE)
        .ok_or_else(|| BackupError::BadDocument("it holds no audit log".into()))?;
    let chain = audit::verify(&files[log]).map_err(BackupError::ArchivedAudit)?;
    if chain.head != m.audit_head || chain.entries != m.audit_entries {
        return Err(BackupError::AuditHeadMismatch {
            recorded: m.audit_head.clone(),
            actual: chain.head,
        });
    }
    Ok((m, files, chain, fsutil::sha256_hex(&bytes)))
}

/// The tag of a restore's staging directory's temporary name.
const STAGING_TAG: &str = "restore-";

/// Locks a directory (flock on its descriptor) for as long as the returned
/// handle lives.
fn lock_dir(dir: &Path) -> Result<std::fs::File, FsError> {
    let io = |source| FsError::Io {
        action: "locking",
        path: dir.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(dir).map_err(io)?;
    f.lock().map_err(io)?;
    Ok(f)
}

/// Removes the staging directories in `parent` that killed restores left:
/// those whose lock no live restore holds. They hold only what the archive
/// held (sealed files, the registry, the log), never a plaintext secret,
/// but a half-written copy must not linger beside the real one.
fn remove_stale_staging(parent: &Path) {
    let Ok(rd) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!("{}{STAGING_TAG}", fsutil::TEMP_PREFIX);
    for e in rd.flatten() {
        let stale = e.file_name().to_string_lossy().starts_with(&prefix)
            && e.file_type().is_ok_and(|t| t.is_dir())
            && std::fs::File::open(e.path()).is_ok_and(|f| f.try_lock().is_ok());
        if stale {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Restores an archive into `into` — a directory that does not exist, or
/// is empty, outside the `live` workspace — after every check passed (see
/// the module docs).
pub fn restore(
    archive: &Path,
    identity: &x25519::Identity,
    into: &Path,
    live: &Path,
) -> Result<Restored, BackupError> {
    fsutil::refuse_symlink(into)?;
    let existed = match std::fs::read_dir(into) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(BackupError::TargetNotEmpty(into.to_path_buf()));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) if into.exists() => return Err(BackupError::TargetNotEmpty(into.to_path_buf())),
        Err(source) => {
            return Err(FsError::Io {
                action: "checking",
                path: into.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let abs_into = crate::outputs::absolute(into);
    let abs_live = crate::outputs::absolute(live);
    let real_live = std::fs::canonicalize(&abs_live).unwrap_or_else(|_| abs_live.clone());
    let real_parent = abs_into
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .unwrap_or_else(|| abs_into.clone());
    if abs_into.starts_with(&abs_live) || real_parent.starts_with(&real_live) {
        return Err(BackupError::RestoreInsideWorkspace {
            into: abs_into,
            workspace: abs_live,
        });
    }
    let (manifest, files, chain, archive_sha256) = open_archive(archive, identity)?;
    let recipient = identity.to_public().to_string();
    let parent = into
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fsutil::ensure_private_dir(parent)?;
    remove_stale_staging(parent);
    let staging = fsutil::temp_name_in(parent, STAGING_TAG);
    let mut read_back = Vec::with_capacity(manifest.files.len());
    let mut renamed = false;
    // Held for the whole restore: a staging directory nobody holds is one
    // a killed restore left, and the next restore beside it removes it.
    let mut held = None;
    let staged = (|| {
        fsutil::ensure_private_dir(&staging)?;
        held = Some(lock_dir(&staging)?);
        for (entry, data) in manifest.files.iter().zip(&files) {
            let rel = safe_relative(&entry.path)?;
            let path = staging.join(&rel);
            if let Some(dir) = path.parent() {
                fsutil::ensure_private_dir(dir)?;
            }
            let mut checked = None;
            fsutil::write_new_checked(&path, data, |read| {
                let sha256 = fsutil::sha256_hex(read);
                if sha256 == entry.sha256 {
                    checked = Some(FileEntry {
                        path: entry.path.clone(),
                        size: read.len() as u64,
                        sha256,
                    });
                    Ok(())
                } else {
                    Err("read back differs".into())
                }
            })?;
            read_back.extend(checked);
        }
        // The restore, audited in the copy's own log while it is still
        // the staging directory: a failure here restores nothing.
        let copy = Workspace::open(&staging)?;
        let tx = copy.begin(
            RESTORE_EVENT,
            json!({
                "archive": crate::outputs::absolute(archive),
                "archiveSha256": archive_sha256,
                "auditHead": manifest.audit_head,
                "auditEntries": manifest.audit_entries,
                "files": manifest.files.len(),
                "into": abs_into,
                "recipient": recipient,
            }),
        )?;
        let op = tx.op_id().to_string();
        tx.commit(|_| Ok::<_, BackupError>(()), |_| json!({}))?;
        // Read back: the chain intact, the recorded head still in it, and
        // the log ending with this restore's COMPLETED entry.
        let after = copy
            .audit()
            .verify_expecting(&manifest.audit_head)
            .map_err(BackupError::RestoreRecord)?;
        let last = copy
            .audit()
            .entries()
            .map_err(BackupError::RestoreRecord)?
            .pop();
        if !last.is_some_and(|e| e.op == op && e.status == audit::Status::Completed)
            || after.entries != manifest.audit_entries + 2
        {
            return Err(BackupError::RestoreRecord(AuditError::Io {
                path: copy.audit().path().to_path_buf(),
                source: std::io::Error::other(
                    "the restore's entries are not at the end of the log",
                ),
            }));
        }
        drop(copy);
        // An empty target is replaced by the staging directory in one rename.
        std::fs::rename(&staging, into).map_err(|source| FsError::Io {
            action: "moving the restored workspace into",
            path: into.to_path_buf(),
            source,
        })?;
        renamed = true;
        fsutil::sync_dir(parent)?;
        Ok::<_, BackupError>((op, after.head))
    })();
    let (op, head_after) = match staged {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            if renamed {
                // Moved into place but not made durable: taken back whole,
                // so a failed restore leaves the target as it found it.
                let _ = std::fs::remove_dir_all(into);
                if existed {
                    let _ = fsutil::ensure_private_dir(into);
                }
            } else if !existed {
                let _ = std::fs::remove_dir(into);
            }
            return Err(e);
        }
    };
    drop(held);
    Ok(Restored {
        into: into.to_path_buf(),
        manifest,
        audit_entries: chain.entries,
        audit_head: chain.head,
        files: read_back,
        archive_sha256,
        op,
        head_after,
    })
}

/// The newest backup and the newest sensitive completed operation after
/// it, for `custodian check`: None when the workspace is covered.
pub fn uncovered(ws: &Workspace, reg: &Registry) -> Result<Option<String>, AuditError> {
    let entries = ws.audit().entries()?;
    let last_sensitive = entries.iter().rev().find(|e| {
        e.status == audit::Status::Completed && SENSITIVE_EVENTS.contains(&e.event.as_str())
    });
    let Some(sensitive) = last_sensitive else {
        return Ok(None);
    };
    let newest = reg.backups.iter().max_by_key(|b| b.audit_seq);
    Ok(match newest {
        None => Some(format!(
            "no encrypted backup of this workspace since {} at {}: run `custodian backup --to age1… --out FILE`",
            sensitive.event, sensitive.time
        )),
        Some(b) if b.audit_seq < sensitive.seq => Some(format!(
            "the last backup ({}) predates {} at {}: run `custodian backup --to age1… --out FILE`",
            b.at, sensitive.event, sensitive.time
        )),
        Some(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        for ok in ["registry.json", "identities/ana.identity.json"] {
            assert!(safe_relative(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../../b", "./a", "a\\b"] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }
}
