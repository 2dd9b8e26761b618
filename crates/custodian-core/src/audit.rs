//! The tamper-evident audit log: JSON lines, each hash-chained to the one
//! before it with SHA-256.
//!
//! Every sensitive operation writes an `INITIATED` entry, fsynced, *before* it
//! touches any secret, and a `COMPLETED` or `FAILED` entry afterwards, so the
//! record exists even when the operation dies half-way. Entries carry who,
//! what, key ids and file fingerprints — never a secret: callers pass only
//! public details, and the tests grep every line for the secrets they used.
//!
//! Each entry's `hash` is SHA-256 over the canonical JSON of the entry without
//! its `hash` field; `prev` is the previous entry's hash (64 zeros for the
//! first) and `seq` counts from 1. [`verify`] recomputes the chain and names
//! the first line that was edited, deleted, inserted or moved. Removing
//! entries from the *end* leaves a valid but shorter chain: that is why
//! `verify` prints the head hash for people to write down, and accepts an
//! expected head to compare against.
//!
//! Appends from several processes are serialised with an exclusive lock on
//! the log file itself.
//!
//! A crash or a full disk in the middle of an append can leave a *torn*
//! final line: bytes with no newline after them. That is not tampering, and
//! it must not brick the log: the next append (a writing command) cuts the
//! torn bytes off and first writes an [`TAIL_REPAIRED_EVENT`] entry recording
//! their length and SHA-256, so the repair itself is on the chain. Readers
//! ([`verify`], [`AuditLog::entries`]) never write: they ignore a torn tail
//! and report it as a pending repair, and `verify` lists past repairs apart
//! from tampering.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::envelope::canonical_json;
use crate::error::Explain;
use crate::fsutil;

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Longest line the reader accepts.
const MAX_LINE: usize = 64 * 1024;
/// The event of the entry that records a cut-off torn final line.
pub const TAIL_REPAIRED_EVENT: &str = "AUDIT_TAIL_REPAIRED";

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Written before the operation starts.
    Initiated,
    /// The operation finished and its result was verified.
    Completed,
    /// The operation stopped with an error.
    Failed,
    /// A record that is not an operation (a checklist tick, a note).
    Recorded,
}

impl Status {
    /// The status as written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Initiated => "INITIATED",
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
            Status::Recorded => "RECORDED",
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// RFC 3339 UTC time of writing.
    pub time: String,
    /// What happened, e.g. `IDENTITY_CREATE`.
    pub event: String,
    /// Where the operation stands.
    pub status: Status,
    /// Links the INITIATED entry to its outcome.
    pub op: String,
    /// Public details: names, key ids, recipients, file fingerprints.
    pub details: Value,
    /// Hash of the previous entry.
    pub prev: String,
    /// SHA-256 of this entry's canonical JSON without `hash`.
    pub hash: String,
}

impl Entry {
    fn compute_hash(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.remove("hash");
        }
        hex::encode(Sha256::digest(canonical_json(&value)))
    }

    /// The `keyId` in the details, if any (for filtering).
    pub fn key_id(&self) -> Option<&str> {
        self.details.get("keyId").and_then(Value::as_str)
    }

    /// Does this entry pass `audit show`'s filters? The event matches
    /// case-insensitively as a substring, the key id exactly.
    pub fn matches(&self, event: Option<&str>, key_id: Option<&str>) -> bool {
        event.is_none_or(|ev| self.event.to_lowercase().contains(&ev.to_lowercase()))
            && key_id.is_none_or(|k| self.key_id() == Some(k))
    }
}

/// Errors from writing or checking the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The log could not be opened, locked, read or written.
    #[error(transparent)]
    File(#[from] fsutil::FsError),
    /// An I/O error on the open log.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The chain is broken.
    #[error("audit log line {line}: {problem}")]
    Broken {
        /// 1-based line number.
        line: u64,
        /// What is wrong there.
        problem: Problem,
    },
    /// The system clock is earlier than the newest entry: appending would
    /// make the log go backwards in time.
    #[error(
        "the system clock says {now}, earlier than the newest audit entry ({newest}); the audit log must not go backwards in time"
    )]
    ClockBehind {
        /// The clock now.
        now: String,
        /// The newest entry's time.
        newest: String,
    },
    /// The recorded head is not an entry of the chain any more.
    #[error("the recorded head {expected} is not in the audit log (its head is now {actual})")]
    HeadMismatch {
        /// The head people recorded.
        expected: String,
        /// The head found.
        actual: String,
    },
}

/// What [`verify`] found wrong at a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Not a JSON entry.
    #[error("not a valid entry ({0})")]
    Unreadable(String),
    /// The entry's contents do not match its hash: it was edited.
    #[error("entry {seq} was edited (its hash does not match its contents)")]
    Edited {
        /// The entry's seq.
        seq: u64,
    },
    /// Sequence numbers skip forward: entries were deleted.
    #[error("entries {from} to {to} are missing (deleted)")]
    Deleted {
        /// First missing seq.
        from: u64,
        /// Last missing seq.
        to: u64,
    },
    /// Sequence numbers go backwards or repeat: entries were moved or inserted.
    #[error("entry {found} appears where entry {expected} should be (reordered or inserted)")]
    OutOfOrder {
        /// The seq expected here.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// The entry does not chain to the one before it: something was inserted
    /// or replaced.
    #[error("entry {seq} does not follow the entry before it (inserted or replaced)")]
    ChainBroken {
        /// The entry's seq.
        seq: u64,
    },
}

impl Explain for AuditError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            AuditError::File(e) => return e.remedy_for(to),
            AuditError::Io { .. } => "check the workspace directory and disk".into(),
            AuditError::ClockBehind { .. } => {
                "set the system clock to the correct date and time (compare it with a trusted clock or a colleague's phone), then try again; nothing was changed".into()
            }
            AuditError::Broken { .. } | AuditError::HeadMismatch { .. } => {
                "treat this as a security incident: keep this copy as evidence, compare with backups and the recorded head hash, and tell your security officer".into()
            }
        })
    }
}

/// Bytes of a torn final line: what a crash or a full disk left without a
/// newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// How many bytes.
    pub bytes: u64,
    /// Their SHA-256, lowercase hex.
    pub sha256: String,
}

impl TornTail {
    fn of(bytes: &[u8]) -> Self {
        TornTail {
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// A torn tail that an append cut off, as its repair entry records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailRepair {
    /// The seq of the [`TAIL_REPAIRED_EVENT`] entry.
    pub seq: u64,
    /// What was removed.
    pub removed: TornTail,
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStatus {
    /// Number of entries.
    pub entries: u64,
    /// Hash of the last entry (or [`GENESIS`] for an empty log).
    pub head: String,
    /// Torn tails cut off by earlier appends (crashes or a full disk, not
    /// tampering), oldest first.
    pub repairs: Vec<TailRepair>,
    /// A torn final line still in the file: the next writing command cuts
    /// it off and records the repair.
    pub pending_repair: Option<TornTail>,
    /// Seq of the entry whose hash is the expected head, when one was given
    /// and found.
    pub expected_at: Option<u64>,
}

/// An append-only, hash-chained log at a path.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

/// An operation whose INITIATED entry is on disk; finish it with
/// [`PendingOp::complete`] or [`PendingOp::fail`].
#[must_use = "an initiated operation must be completed or failed"]
#[derive(Debug)]
pub struct PendingOp {
    log: AuditLog,
    event: String,
    op: String,
    base: Value,
    /// The INITIATED entry, when this handle wrote it.
    initiated: Option<Entry>,
}

/// A fresh random operation id (16 hex digits).
pub fn new_op_id() -> String {
    let mut id = [0u8; 8];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut id);
    hex::encode(id)
}

fn merge(base: &Value, extra: Value) -> Value {
    let mut map = match base {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Value::Object(extra) = extra {
        map.extend(extra);
    }
    Value::Object(map)
}

impl AuditLog {
    /// The log at `path` (created on first append).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
        |source| AuditError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one entry under an exclusive lock and fsyncs it.
    pub fn append(
        &self,
        event: &str,
        status: Status,
        op: &str,
        details: Value,
    ) -> Result<Entry, AuditError> {
        let mut file = fsutil::open_append(&self.path)?;
        file.lock().map_err(self.io())?;
        let result = self.append_locked(&mut file, event, status, op, details);
        let _ = file.unlock();
        result
    }

    fn append_locked(
        &self,
        file: &mut File,
        event: &str,
        status: Status,
        op: &str,
        details: Value,
    ) -> Result<Entry, AuditError> {
        let (_, seq, prev) = self.repair_tail_locked(file)?;
        self.write_entry(file, seq, prev, event, status, op, details)
    }

    /// Cuts off a torn final line now (instead of at the next append) and
    /// records the repair. A writer opening the workspace (a writing
    /// command, the console) calls it, so what it shows is already whole.
    /// Writes nothing when the log ends cleanly.
    pub fn repair_tail(&self) -> Result<Option<TornTail>, AuditError> {
        if self.pending_repair()?.is_none() {
            return Ok(None);
        }
        let mut file = fsutil::open_append(&self.path)?;
        file.lock().map_err(self.io())?;
        let result = self.repair_tail_locked(&mut file);
        let _ = file.unlock();
        result.map(|(removed, _, _)| removed)
    }

    /// Cuts a torn tail and writes its repair entry; returns what was cut
    /// and the seq and previous hash for the next entry.
    fn repair_tail_locked(
        &self,
        file: &mut File,
    ) -> Result<(Option<TornTail>, u64, String), AuditError> {
        // Before anything changes (a torn tail is cut only when its repair
        // entry can follow): the clock must not be behind the log.
        if let Some(line) = last_whole_line(file).map_err(self.io())?
            && let Ok(last) = serde_json::from_str::<Entry>(&line)
        {
            let now = crate::clock::now();
            if crate::clock::parse(&last.time).is_some_and(|newest| now < newest) {
                return Err(AuditError::ClockBehind {
                    now: crate::clock::format(now),
                    newest: last.time,
                });
            }
        }
        let removed = self.cut_torn_tail(file)?;
        let (mut seq, mut prev) = match last_line(file).map_err(self.io())? {
            None => (1, GENESIS.to_string()),
            Some(line) => match serde_json::from_str::<Entry>(&line) {
                Ok(last) => (last.seq + 1, last.hash),
                Err(e) => {
                    return Err(AuditError::Broken {
                        line: count_lines(file).map_err(self.io())?,
                        problem: Problem::Unreadable(format!("last entry: {e}")),
                    });
                }
            },
        };
        if let Some(removed) = &removed {
            let repair = self.write_entry(
                file,
                seq,
                prev,
                TAIL_REPAIRED_EVENT,
                Status::Recorded,
                &new_op_id(),
                serde_json::json!({
                    "removedBytes": removed.bytes,
                    "removedSha256": removed.sha256,
                    "reason": "a torn final line (no newline), as a crash or a full disk leaves",
                }),
            )?;
            seq = repair.seq + 1;
            prev = repair.hash;
        }
        Ok((removed, seq, prev))
    }

    /// Cuts off a final line with no newline after it and returns what was
    /// removed. Called under the log lock, before anything is appended.
    fn cut_torn_tail(&self, file: &mut File) -> Result<Option<TornTail>, AuditError> {
        let len = file.seek(SeekFrom::End(0)).map_err(self.io())?;
        if len == 0 {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(len - 1)).map_err(self.io())?;
        let mut last = [0u8; 1];
        file.read_exact(&mut last).map_err(self.io())?;
        if last[0] == b'\n' {
            return Ok(None);
        }
        // Rare: read the whole log to find where the torn line starts.
        file.seek(SeekFrom::Start(0)).map_err(self.io())?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(self.io())?;
        let cut = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let removed = TornTail::of(&bytes[cut..]);
        file.set_len(cut as u64).map_err(self.io())?;
        file.sync_all().map_err(self.io())?;
        Ok(Some(removed))
    }

    #[allow(clippy::too_many_arguments)]
    fn write_entry(
        &self,
        file: &mut File,
        seq: u64,
        prev: String,
        event: &str,
        status: Status,
        op: &str,
        details: Value,
    ) -> Result<Entry, AuditError> {
        let mut entry = Entry {
            seq,
            time: crate::clock::now_string(),
            event: event.to_string(),
            status,
            op: op.to_string(),
            details,
            prev,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        let mut line = serde_json::to_vec(&entry).map_err(|e| AuditError::Broken {
            line: seq,
            problem: Problem::Unreadable(e.to_string()),
        })?;
        line.push(b'\n');
        file.write_all(&line).map_err(self.io())?;
        file.sync_all().map_err(self.io())?;
        if seq == 1 {
            // A new log: make its directory entry durable too.
            if let Some(dir) = self.path.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(self.io())?;
            }
        }
        Ok(entry)
    }

    /// Writes the INITIATED entry for `event` and returns the handle that
    /// writes its outcome. `details` must hold no secret.
    pub fn begin(&self, event: &str, details: Value) -> Result<PendingOp, AuditError> {
        self.begin_as(&new_op_id(), event, details)
    }

    /// [`AuditLog::begin`] with an operation id chosen by the caller (a
    /// transaction names its journal entry after it first).
    pub fn begin_as(&self, op: &str, event: &str, details: Value) -> Result<PendingOp, AuditError> {
        let entry = self.append(event, Status::Initiated, op, details.clone())?;
        let mut pending = self.resume(op, event, details);
        pending.initiated = Some(entry);
        Ok(pending)
    }

    /// The handle for an operation whose INITIATED entry was written
    /// earlier, perhaps by a process that died: repair writes its outcome.
    pub fn resume(&self, op: &str, event: &str, details: Value) -> PendingOp {
        PendingOp {
            log: self.clone(),
            event: event.to_string(),
            op: op.to_string(),
            base: details,
            initiated: None,
        }
    }

    /// True when operation `op` already has its outcome (COMPLETED or
    /// FAILED) in the log. Reads the whole log: repair calls it only for an
    /// interrupted operation's journal entry.
    pub fn has_outcome(&self, op: &str) -> Result<bool, AuditError> {
        Ok(self
            .entries()?
            .iter()
            .any(|e| e.op == op && matches!(e.status, Status::Completed | Status::Failed)))
    }

    /// Records a standalone fact (a checklist tick, an approval).
    pub fn record(&self, event: &str, details: Value) -> Result<Entry, AuditError> {
        self.append(event, Status::Recorded, &new_op_id(), details)
    }

    /// Reads every entry without checking the chain (for display). A torn
    /// final line is left out (see [`AuditLog::pending_repair`]).
    pub fn entries(&self) -> Result<Vec<Entry>, AuditError> {
        let mut out = Vec::new();
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(self.io()(e)),
        };
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        for i in 0u64.. {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(self.io())?;
            if n == 0 || line.last() != Some(&b'\n') {
                break; // end of file, or a torn tail awaiting repair
            }
            let entry = serde_json::from_slice(&line).map_err(|e| AuditError::Broken {
                line: i + 1,
                problem: Problem::Unreadable(e.to_string()),
            })?;
            out.push(entry);
        }
        Ok(out)
    }

    /// A torn final line waiting for the next append to repair it, if any.
    /// Reads only: the last byte, and the whole log only when that byte is
    /// not a newline (a torn tail, which is rare), so every writing open of
    /// a workspace with a long log stays cheap.
    pub fn pending_repair(&self) -> Result<Option<TornTail>, AuditError> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io()(e)),
        };
        let len = file.seek(SeekFrom::End(0)).map_err(self.io())?;
        if len == 0 {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(len - 1)).map_err(self.io())?;
        let mut last = [0u8; 1];
        file.read_exact(&mut last).map_err(self.io())?;
        if last[0] == b'\n' {
            return Ok(None);
        }
        Ok(self.verify_bytes()?.1)
    }

    fn verify_bytes(&self) -> Result<(Vec<u8>, Option<TornTail>), AuditError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io()(e)),
        };
        let torn = split_torn_tail(&bytes).1.map(TornTail::of);
        Ok((bytes, torn))
    }

    /// Verifies the whole chain; see [`verify`].
    pub fn verify(&self) -> Result<ChainStatus, AuditError> {
        verify(&self.verify_bytes()?.0)
    }

    /// Verifies the whole chain and that the entry whose hash is `expected`
    /// (a head recorded earlier) is still in it; see [`verify_expecting`].
    pub fn verify_expecting(&self, expected: &str) -> Result<ChainStatus, AuditError> {
        verify_expecting(&self.verify_bytes()?.0, expected)
    }
}

impl PendingOp {
    /// The operation id shared by its entries.
    pub fn id(&self) -> &str {
        &self.op
    }

    /// The INITIATED entry this handle wrote (None for a resumed operation).
    pub fn initiated(&self) -> Option<&Entry> {
        self.initiated.as_ref()
    }

    /// Writes COMPLETED with the initial details plus `extra`.
    pub fn complete(self, extra: Value) -> Result<Entry, AuditError> {
        self.log.append(
            &self.event,
            Status::Completed,
            &self.op,
            merge(&self.base, extra),
        )
    }

    /// Writes FAILED with the error message (which never holds a secret).
    pub fn fail(self, reason: &str) -> Result<Entry, AuditError> {
        self.log.append(
            &self.event,
            Status::Failed,
            &self.op,
            merge(&self.base, serde_json::json!({ "error": reason })),
        )
    }

    /// Runs `work`, then writes COMPLETED with the details it returns, or
    /// FAILED with its error's message.
    pub fn finish<T, E: std::fmt::Display>(
        self,
        result: Result<(T, Value), E>,
    ) -> Result<Result<T, E>, AuditError> {
        match result {
            Ok((value, extra)) => {
                self.complete(extra)?;
                Ok(Ok(value))
            }
            Err(e) => {
                self.fail(&e.to_string())?;
                Ok(Err(e))
            }
        }
    }
}

/// Returns the last line of the file (which ends with a newline), reading
/// only its tail.
fn last_line(file: &mut File) -> std::io::Result<Option<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let start = len.saturating_sub(MAX_LINE as u64 + 1);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity((len - start) as usize);
    file.read_to_end(&mut tail)?;
    let text = String::from_utf8_lossy(&tail);
    Ok(text
        .trim_end_matches('\n')
        .rsplit('\n')
        .next()
        .map(str::to_string))
}

/// The last newline-terminated line (a torn tail after it is skipped);
/// None for an empty log or one whose last whole line is too far back.
fn last_whole_line(file: &mut File) -> std::io::Result<Option<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    let start = len.saturating_sub(2 * (MAX_LINE as u64 + 1));
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity((len - start) as usize);
    file.read_to_end(&mut tail)?;
    let Some(end) = tail.iter().rposition(|&b| b == b'\n') else {
        return Ok(None);
    };
    let whole = &tail[..end];
    let from = whole.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if from == 0 && start > 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&whole[from..]).into_owned()))
}

/// How many lines the file holds (for naming a bad last line, from 1).
fn count_lines(file: &mut File) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut all = Vec::new();
    file.read_to_end(&mut all)?;
    let body = all.strip_suffix(b"\n").unwrap_or(&all);
    Ok(body.iter().filter(|&&b| b == b'\n').count() as u64 + 1)
}

/// Splits a log into its complete lines and a torn final line (bytes after
/// the last newline), if any.
fn split_torn_tail(bytes: &[u8]) -> (&[u8], Option<&[u8]>) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        _ if bytes.is_empty() => (bytes, None),
        Some(i) if i + 1 == bytes.len() => (bytes, None),
        Some(i) => (&bytes[..=i], Some(&bytes[i + 1..])),
        None => (&[], Some(bytes)),
    }
}

/// Like [`verify`], and also requires the entry whose hash is `expected` to
/// be in the chain: a head recorded earlier keeps verifying after later
/// appends, since the chain up to it is unchanged.
pub fn verify_expecting(bytes: &[u8], expected: &str) -> Result<ChainStatus, AuditError> {
    let status = verify_inner(bytes, Some(expected))?;
    if status.expected_at.is_none() {
        return Err(AuditError::HeadMismatch {
            expected: expected.to_string(),
            actual: status.head,
        });
    }
    Ok(status)
}

/// Checks a whole log: each line parses, `seq` counts up from 1, `prev` is
/// the previous `hash`, and each `hash` matches its entry. A torn final line
/// is not checked: it is reported in [`ChainStatus::pending_repair`].
pub fn verify(bytes: &[u8]) -> Result<ChainStatus, AuditError> {
    verify_inner(bytes, None)
}

fn verify_inner(bytes: &[u8], expected: Option<&str>) -> Result<ChainStatus, AuditError> {
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1u64;
    let mut repairs = Vec::new();
    let mut expected_at = None;
    let (complete, torn) = split_torn_tail(bytes);
    let text = String::from_utf8_lossy(complete);
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let broken = |problem| AuditError::Broken {
            line: line_no,
            problem,
        };
        let entry: Entry =
            serde_json::from_str(line).map_err(|e| broken(Problem::Unreadable(e.to_string())))?;
        if entry.compute_hash() != entry.hash {
            return Err(broken(Problem::Edited { seq: entry.seq }));
        }
        if entry.seq > expected_seq {
            return Err(broken(Problem::Deleted {
                from: expected_seq,
                to: entry.seq - 1,
            }));
        }
        if entry.seq < expected_seq {
            return Err(broken(Problem::OutOfOrder {
                expected: expected_seq,
                found: entry.seq,
            }));
        }
        if entry.prev != prev {
            return Err(broken(Problem::ChainBroken { seq: entry.seq }));
        }
        if entry.event == TAIL_REPAIRED_EVENT {
            repairs.push(TailRepair {
                seq: entry.seq,
                removed: TornTail {
                    bytes: entry.details["removedBytes"].as_u64().unwrap_or(0),
                    sha256: entry.details["removedSha256"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                },
            });
        }
        if expected.is_some_and(|h| h.eq_ignore_ascii_case(&entry.hash)) {
            expected_at = Some(entry.seq);
        }
        prev = entry.hash;
        expected_seq += 1;
    }
    if expected.is_some_and(|h| h.eq_ignore_ascii_case(GENESIS)) {
        expected_at = Some(0);
    }
    Ok(ChainStatus {
        entries: expected_seq - 1,
        head: prev,
        repairs,
        pending_repair: torn.map(TornTail::of),
        expected_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log_with(n: usize) -> (tempfile::TempDir, AuditLog) {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        for i in 0..n {
            log.record("TEST", json!({ "i": i })).unwrap();
        }
        (dir, log)
    }

    fn lines(log: &AuditLog) -> Vec<String> {
        std::fs::read_to_string(log.path())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn verify_lines(lines: &[String]) -> Result<ChainStatus, AuditError> {
        verify((lines.join("\n") + "\n").as_bytes())
    }

    #[test]
    fn a_fresh_chain_verifies_and_reports_its_head() {
        let (_d, log) = log_with(4);
        let status = log.verify().unwrap();
        assert_eq!(status.entries, 4);
        assert_eq!(status.head, log.entries().unwrap()[3].hash);
        assert_eq!(verify(b"").unwrap().head, GENESIS);
    }

    #[test]
    fn edits_deletions_insertions_and_reordering_are_each_caught() {
        let (_d, log) = log_with(5);
        let l = lines(&log);

        let mut edited = l.clone();
        edited[2] = edited[2].replace("\"i\":2", "\"i\":9");
        assert!(matches!(
            verify_lines(&edited),
            Err(AuditError::Broken {
                line: 3,
                problem: Problem::Edited { seq: 3 }
            })
        ));

        let mut deleted = l.clone();
        deleted.remove(1);
        assert!(matches!(
            verify_lines(&deleted),
            Err(AuditError::Broken {
                line: 2,
                problem: Problem::Deleted { from: 2, to: 2 }
            })
        ));

        let mut reordered = l.clone();
        reordered.swap(1, 2);
        assert!(matches!(
            verify_lines(&reordered),
            Err(AuditError::Broken { line: 2, .. })
        ));

        // An inserted entry with a valid hash of its own but a forged place.
        let mut forged: Entry = serde_json::from_str(&l[1]).unwrap();
        forged.details = json!({"i": "forged"});
        forged.hash = forged.compute_hash();
        let mut inserted = l.clone();
        inserted.insert(2, serde_json::to_string(&forged).unwrap());
        assert!(matches!(
            verify_lines(&inserted),
            Err(AuditError::Broken {
                line: 3,
                problem: Problem::OutOfOrder { .. }
            })
        ));

        // Same seq rewritten with a fresh hash: the next entry's prev breaks.
        let mut replaced = l.clone();
        replaced[1] = serde_json::to_string(&forged).unwrap();
        assert!(matches!(
            verify_lines(&replaced),
            Err(AuditError::Broken {
                line: 3,
                problem: Problem::ChainBroken { seq: 3 }
            })
        ));
    }

    #[test]
    fn begin_then_complete_and_fail_share_an_op_id() {
        let (_d, log) = log_with(0);
        let op = log.begin("X", json!({"keyId": "k1"})).unwrap();
        let id = op.id().to_string();
        op.complete(json!({"file": "abc"})).unwrap();
        log.begin("Y", json!({})).unwrap().fail("boom").unwrap();
        let e = log.entries().unwrap();
        assert_eq!(e[0].status, Status::Initiated);
        assert_eq!(e[1].op, id);
        assert_eq!(e[1].details, json!({"keyId": "k1", "file": "abc"}));
        assert_eq!(e[1].key_id(), Some("k1"));
        assert_eq!(e[3].status, Status::Failed);
        assert_eq!(e[3].details["error"], "boom");
        log.verify().unwrap();
    }

    fn append_raw(log: &AuditLog, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    #[test]
    fn a_torn_final_line_is_reported_by_readers_and_repaired_by_the_next_append() {
        let (_d, log) = log_with(3);
        let torn = br#"{"seq":4,"time":"2026-"#;
        append_raw(&log, torn);
        let before = std::fs::read(log.path()).unwrap();

        // Readers do not write: they verify the complete lines and report the repair pending.
        let status = log.verify().unwrap();
        assert_eq!(status.entries, 3);
        let expected = TornTail {
            bytes: torn.len() as u64,
            sha256: hex::encode(Sha256::digest(torn)),
        };
        assert_eq!(status.pending_repair, Some(expected.clone()));
        assert!(status.repairs.is_empty());
        assert_eq!(log.entries().unwrap().len(), 3);
        assert_eq!(log.pending_repair().unwrap(), Some(expected.clone()));
        assert_eq!(std::fs::read(log.path()).unwrap(), before);

        // The next append cuts it off and records what it removed.
        log.record("AFTER", json!({})).unwrap();
        let e = log.entries().unwrap();
        assert_eq!(e.len(), 5);
        assert_eq!(e[3].event, TAIL_REPAIRED_EVENT);
        assert_eq!(e[3].details["removedBytes"], torn.len() as u64);
        assert_eq!(e[3].details["removedSha256"], expected.sha256);
        assert_eq!(e[4].event, "AFTER");
        let status = log.verify().unwrap();
        assert_eq!(status.entries, 5);
        assert_eq!(status.pending_repair, None);
        assert_eq!(
            status.repairs,
            vec![TailRepair {
                seq: 4,
                removed: expected
            }]
        );
        assert!(
            !std::fs::read_to_string(log.path())
                .unwrap()
                .contains("\"2026-{")
        );
    }

    #[test]
    fn a_log_that_is_only_a_torn_line_is_repaired_from_genesis() {
        let (_d, log) = log_with(0);
        std::fs::write(log.path(), b"{\"seq\":1").unwrap();
        assert_eq!(log.verify().unwrap().entries, 0);
        log.record("AFTER", json!({})).unwrap();
        let status = log.verify().unwrap();
        assert_eq!((status.entries, status.repairs.len()), (2, 1));
    }

    #[test]
    fn a_bad_complete_last_line_is_named_from_one() {
        let (_d, log) = log_with(2);
        append_raw(&log, b"not json\n");
        let err = log.record("X", json!({})).unwrap_err();
        assert!(matches!(err, AuditError::Broken { line: 3, .. }), "{err}");
        assert!(err.to_string().starts_with("audit log line 3:"), "{err}");
        let err = log.entries().unwrap_err();
        assert!(matches!(err, AuditError::Broken { line: 3, .. }), "{err}");
    }

    #[test]
    fn a_recorded_head_keeps_verifying_after_later_entries() {
        let (_d, log) = log_with(2);
        let head = log.verify().unwrap().head;
        log.record("LATER", json!({})).unwrap();
        log.record("LATER", json!({})).unwrap();
        let status = log.verify_expecting(&head).unwrap();
        assert_eq!((status.entries, status.expected_at), (4, Some(2)));
        assert_eq!(
            log.verify_expecting(&head.to_uppercase())
                .unwrap()
                .expected_at,
            Some(2)
        );
        assert!(matches!(
            log.verify_expecting(&"ab".repeat(32)),
            Err(AuditError::HeadMismatch { .. })
        ));
        // Truncating the chain before the recorded entry fails the check.
        let l = lines(&log);
        std::fs::write(log.path(), l[0].clone() + "\n").unwrap();
        assert!(matches!(
            log.verify_expecting(&head),
            Err(AuditError::HeadMismatch { .. })
        ));
    }
}
