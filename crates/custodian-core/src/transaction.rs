//! One transaction protocol for every operation that writes, and the repair
//! that finishes or undoes whatever a crash, a kill or a full disk left.
//!
//! ```text
//! journal entry created, locked      <ws>/journal/<op>.jsonl  (BEGIN)
//! audit INITIATED (fsynced)
//! outputs written unnamed (O_TMPFILE), read back, then linked under a
//!   temporary name recorded in the journal first (TEMP)
//! ── under the workspace lock ──────────────────────────────────────────
//! registry change computed (a refusal here rolls back)
//! COMMIT record (fsynced): the commit point; holds the new registry and
//!   every output's temporary name, final name and SHA-256
//! registry replaced
//! outputs published: no-clobber rename from the temporary name
//! files retired: moved (no-clobber) to where the COMMIT record says, or
//!   removed when asked to (a rotation's old identity and shards)
//! audit COMPLETED
//! journal entry removed
//! ── lock released ─────────────────────────────────────────────────────
//! ```
//!
//! A running operation holds an exclusive lock on its own journal entry, so
//! repair (which runs under the workspace lock when a writing command or the
//! console opens the workspace, and before every registry update) skips live
//! operations. An entry whose lock is free belongs to a process that died:
//! before COMMIT it is rolled back (temporary files removed, registry
//! untouched, audit FAILED); after COMMIT it is rolled forward (the journaled
//! registry is written if the registry is still the one the operation saw,
//! which makes the step idempotent; the outputs are published; audit
//! COMPLETED). Repair also removes every stray `.custodian-tmp-*` file in the
//! workspace and writes one `WORKSPACE_REPAIRED` entry saying what it did.
//!
//! All human input is gathered before [`Workspace::begin`]: no transaction
//! waits on a person.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{AuditError, PendingOp};
use crate::fsutil::{self, FsError, OutputFile};
use crate::workspace::{Registry, Workspace, WorkspaceError};

/// The journal directory inside the workspace.
pub const JOURNAL_DIR: &str = "journal";

/// Room an operation needs in the workspace beyond its outputs (journal,
/// registry copy, audit entries); [`fsutil::ensure_free_space`] adds its
/// own margin on top.
const WORKSPACE_ROOM: u64 = 1 << 20;

/// One line of a journal entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "record")]
enum Record {
    /// The operation started.
    Begin {
        op: String,
        event: String,
        details: Value,
    },
    /// A temporary name that may exist from here on.
    Temp { path: PathBuf },
    /// A directory the operation creates for its outputs, which may exist
    /// from here on: a rollback removes it again (only while it is empty,
    /// after the temporary files in it are gone); a commit keeps it.
    NewDir { path: PathBuf },
    /// The commit point.
    #[serde(rename_all = "camelCase")]
    Commit {
        outputs: Vec<Staged>,
        /// SHA-256 of the registry file as the operation saw it (None: no file).
        registry_before: Option<String>,
        /// The registry to write (None: the operation does not change it).
        registry: Option<Value>,
        /// Details for the COMPLETED audit entry.
        completed: Value,
        /// Existing files moved aside (or removed) after the outputs are
        /// published. Absent in entries written before retirement existed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        retire: Vec<Retire>,
    },
}

/// An existing file the operation retires once it commits: moved to `to`
/// (never over an existing file), or removed when `to` is None. `sha256` is
/// what the file held when the operation checked it; a file that changed
/// since is left alone and the repair reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Retire {
    from: PathBuf,
    to: Option<PathBuf>,
    sha256: String,
}

/// An output written and named under its temporary name, waiting to be published.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Staged {
    temp: PathBuf,
    path: PathBuf,
    sha256: String,
    /// For a state file the operation rewrites (an incident record): the
    /// SHA-256 of the file it replaces. Publishing then replaces that file,
    /// and only while it is still the one the operation read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaces: Option<String>,
}

/// A running operation (see the module docs). Dropped without
/// [`Transaction::commit`], it rolls back.
#[derive(Debug)]
pub struct Transaction<'w> {
    ws: &'w Workspace,
    audit: Option<PendingOp>,
    journal: Option<File>,
    journal_path: PathBuf,
    temps: Vec<PathBuf>,
    /// Directories this operation created (removed again on rollback).
    dirs: Vec<PathBuf>,
    staged: Vec<Staged>,
    retire: Vec<Retire>,
    /// Plaintext outputs to record in the registry at the commit.
    plaintext: Vec<crate::outputs::PlaintextOutput>,
}

/// What a repair did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Operations rolled back (event and op id).
    pub rolled_back: Vec<String>,
    /// Operations finished (event and op id).
    pub rolled_forward: Vec<String>,
    /// Temporary files removed.
    pub temps_removed: usize,
    /// Operations still running in another process, left alone.
    pub live: usize,
    /// A torn final audit line cut off (and recorded) when the workspace
    /// was opened for writing.
    pub audit_tail: Option<crate::audit::TornTail>,
}

impl RepairReport {
    /// True when there was nothing to repair.
    pub fn is_empty(&self) -> bool {
        self.rolled_back.is_empty()
            && self.rolled_forward.is_empty()
            && self.temps_removed == 0
            && self.audit_tail.is_none()
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !(self.rolled_back.is_empty()
            && self.rolled_forward.is_empty()
            && self.temps_removed == 0)
        {
            parts.push(format!(
                "repaired after an interruption: {} rolled back, {} finished, {} temp files removed",
                self.rolled_back.len(),
                self.rolled_forward.len(),
                self.temps_removed
            ));
        }
        if let Some(tail) = &self.audit_tail {
            parts.push(format!(
                "audit log: a torn last line ({} bytes) was cut off and recorded",
                tail.bytes
            ));
        }
        parts.join("; ")
    }
}

fn journal_io(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| {
        WorkspaceError::File(FsError::Io {
            action: "writing the journal",
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Appends one record to a journal entry and fsyncs it.
fn append(file: &mut File, path: &Path, record: &Record) -> Result<(), WorkspaceError> {
    let mut line = serde_json::to_vec(record).map_err(|e| WorkspaceError::BadJournal {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    line.push(b'\n');
    fsutil::fault::check(fsutil::fault::Step::Write)
        .and_then(|_| file.write_all(&line))
        .map_err(journal_io(path))?;
    fsutil::fault::check(fsutil::fault::Step::Fsync)
        .and_then(|_| file.sync_all())
        .map_err(journal_io(path))
}

/// SHA-256 of the registry file's bytes, None when there is none.
fn registry_sha(path: &Path) -> Result<Option<String>, WorkspaceError> {
    match fsutil::read_state_file(path, crate::workspace::MAX_REGISTRY) {
        Ok(bytes) => Ok(Some(fsutil::sha256_hex(&bytes))),
        Err(FsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn registry_bytes(reg: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(reg).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

impl Workspace {
    fn journal_dir(&self) -> Result<PathBuf, WorkspaceError> {
        let dir = self.root().join(JOURNAL_DIR);
        fsutil::refuse_symlink(&dir)?;
        fsutil::ensure_private_dir(&dir)?;
        Ok(dir)
    }

    /// Starts a transaction for `event`: creates and locks its journal
    /// entry, then writes the audit INITIATED entry with `details` (public
    /// facts only). Refuses when the workspace disk is nearly full.
    pub fn begin(&self, event: &str, details: Value) -> Result<Transaction<'_>, WorkspaceError> {
        fsutil::ensure_free_space(self.root(), WORKSPACE_ROOM)?;
        let dir = self.journal_dir()?;
        let op = crate::audit::new_op_id();
        let journal_path = dir.join(format!("{op}.jsonl"));
        // The entry is locked before it has a name (O_TMPFILE), so a repair
        // never sees an unlocked entry of a live operation. Without
        // O_TMPFILE it is created under its own name and locked at once.
        let out = OutputFile::create(&dir, || Ok(journal_path.clone()))?;
        out.file().lock().map_err(journal_io(&journal_path))?;
        let mut file = out.file().try_clone().map_err(journal_io(&journal_path))?;
        let mut tx = Transaction {
            ws: self,
            audit: None,
            journal: None,
            journal_path: journal_path.clone(),
            temps: Vec::new(),
            dirs: Vec::new(),
            staged: Vec::new(),
            retire: Vec::new(),
            plaintext: Vec::new(),
        };
        append(
            &mut file,
            &journal_path,
            &Record::Begin {
                op: op.clone(),
                event: event.to_string(),
                details: details.clone(),
            },
        )?;
        if out.temp_path().is_some() {
            let _ = out.keep_temp();
        } else {
            out.link_as(&journal_path)?;
        }
        tx.journal = Some(file);
        fsutil::sync_dir(&dir)?;
        tx.audit = Some(self.audit().begin_as(&op, event, details)?);
        Ok(tx)
    }

    /// Finishes or rolls back every operation a crash left (see the module
    /// docs), under the workspace lock, and audits what it did.
    pub fn repair(&self) -> Result<RepairReport, WorkspaceError> {
        // Nothing to do is the common case: then nothing is written, not
        // even the lock file, so a command refused later leaves no trace.
        if self.pending_repair() == 0 {
            return Ok(RepairReport::default());
        }
        let lock = self.lock()?;
        let report = self.repair_locked();
        drop(lock);
        report
    }

    /// Opens the workspace for a command that writes: [`Workspace::open`],
    /// then [`Workspace::repair`].
    pub fn open_for_writing(
        root: impl Into<PathBuf>,
    ) -> Result<(Workspace, RepairReport), WorkspaceError> {
        let ws = Workspace::open(root)?;
        // A torn audit line first: the repair entry below chains onto a
        // whole log, and what the caller shows next is already whole.
        let tail = ws.audit().repair_tail()?;
        let mut report = ws.repair()?;
        report.audit_tail = tail;
        Ok((ws, report))
    }

    /// For commands that only read: how many interrupted operations and
    /// temporary files a writing command would repair. Writes nothing.
    pub fn pending_repair(&self) -> usize {
        let mut n = 0;
        if let Ok(entries) = fs::read_dir(self.root().join(JOURNAL_DIR)) {
            for e in entries.flatten() {
                if let Ok(f) = File::open(e.path())
                    && f.try_lock().is_ok()
                {
                    n += 1;
                }
            }
        }
        n + self.stray_temps(&[]).len()
    }

    /// Temporary files in the workspace (its root and first-level
    /// directories) not claimed by a live operation.
    fn stray_temps(&self, live: &[PathBuf]) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![self.root().to_path_buf()];
        if let Ok(entries) = fs::read_dir(self.root()) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    dirs.push(e.path());
                }
            }
        }
        for dir in dirs {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if fsutil::is_temp_name(&e.file_name()) && !live.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    }

    /// [`Workspace::repair`] for a caller that holds the workspace lock.
    pub(crate) fn repair_locked(&self) -> Result<RepairReport, WorkspaceError> {
        let mut report = RepairReport::default();
        let mut live_temps = Vec::new();
        let mut failures = Vec::new();
        let dir = self.root().join(JOURNAL_DIR);
        fsutil::refuse_symlink(&dir)?;
        let mut entries: Vec<PathBuf> = match fs::read_dir(&dir) {
            Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        entries.sort();
        for path in entries {
            if fsutil::is_temp_name(path.file_name().unwrap_or_default()) {
                continue;
            }
            fsutil::refuse_symlink(&path)?;
            let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
                continue;
            };
            let records = read_records(&file);
            if file.try_lock().is_err() {
                report.live += 1;
                live_temps.extend(records.iter().filter_map(|r| match r {
                    Record::Temp { path } => Some(path.clone()),
                    _ => None,
                }));
                continue;
            }
            match self.repair_entry(&path, &records, &mut report) {
                Ok(()) => {}
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
            drop(file);
        }
        for temp in self.stray_temps(&live_temps) {
            if fs::remove_file(&temp).is_ok() {
                report.temps_removed += 1;
            }
        }
        if !report.is_empty() || !failures.is_empty() {
            self.audit().record(
                "WORKSPACE_REPAIRED",
                json!({
                    "rolledBack": report.rolled_back,
                    "rolledForward": report.rolled_forward,
                    "temporaryFilesRemoved": report.temps_removed,
                    "unfinished": failures,
                }),
            )?;
        }
        if let Some(reason) = failures.into_iter().next() {
            return Err(WorkspaceError::RepairFailed(reason));
        }
        Ok(report)
    }

    fn repair_entry(
        &self,
        path: &Path,
        records: &[Record],
        report: &mut RepairReport,
    ) -> Result<(), WorkspaceError> {
        let begin = records.iter().find_map(|r| match r {
            Record::Begin { op, event, details } => Some((op, event, details)),
            _ => None,
        });
        let commit = records.iter().find_map(|r| match r {
            Record::Commit {
                outputs,
                registry_before,
                registry,
                completed,
                retire,
            } => Some((outputs, registry_before, registry, completed, retire)),
            _ => None,
        });
        let removed_temps = |report: &mut RepairReport| {
            for r in records {
                if let Record::Temp { path } = r
                    && fs::remove_file(path).is_ok()
                {
                    report.temps_removed += 1;
                }
            }
            // Then the directories it created, newest first; remove_dir
            // removes only an empty one, so nothing else is ever lost.
            for r in records.iter().rev() {
                if let Record::NewDir { path } = r {
                    let _ = fs::remove_dir(path);
                }
            }
        };
        match (begin, commit) {
            (Some((op, event, details)), Some((outputs, before, registry, completed, retire))) => {
                self.roll_forward(outputs, retire, before.as_deref(), registry.as_ref())?;
                // The operation may have written COMPLETED itself and died
                // before removing its journal entry: then only the entry goes.
                if !self.audit().has_outcome(op)? {
                    let mut done = merge(details, completed.clone());
                    if let Value::Object(m) = &mut done {
                        m.insert("repair".into(), "finished after an interruption".into());
                    }
                    self.audit()
                        .resume(op, event, details.clone())
                        .complete(done)?;
                    report.rolled_forward.push(format!("{event} {op}"));
                }
            }
            (Some((op, event, details)), None) => {
                removed_temps(report);
                self.audit()
                    .resume(op, event, details.clone())
                    .fail("interrupted before its commit point; rolled back by repair")?;
                report.rolled_back.push(format!("{event} {op}"));
            }
            // Torn at birth: nothing else can have happened.
            (None, _) => removed_temps(report),
        }
        fs::remove_file(path).map_err(journal_io(path))?;
        // A lost removal only means the idempotent repair runs again.
        let _ = fsutil::sync_dir(path.parent().unwrap_or(Path::new(".")));
        Ok(())
    }

    /// The steps after COMMIT; each is idempotent, so running them again
    /// after a crash half-way through is safe.
    fn roll_forward(
        &self,
        outputs: &[Staged],
        retire: &[Retire],
        before: Option<&str>,
        registry: Option<&Value>,
    ) -> Result<(), WorkspaceError> {
        if let Some(reg) = registry {
            let bytes = registry_bytes(reg);
            let target = fsutil::sha256_hex(&bytes);
            let path = self.registry_path();
            let now = registry_sha(&path)?;
            if now.as_deref() == Some(target.as_str()) {
                // Already written.
            } else if now.as_deref() == before {
                fsutil::replace(&path, &bytes)?;
            } else {
                return Err(WorkspaceError::RepairFailed(format!(
                    "{} changed since the interrupted operation committed; restore it from a backup",
                    path.display()
                )));
            }
        }
        let mut dirs = Vec::new();
        for out in outputs {
            publish(out)?;
            // A bare file name (`--out shares.json`) has the empty path as
            // its parent: its directory is the current one.
            let dir = out
                .path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        for r in retire {
            retire_one(r)?;
            for dir in [Some(r.from.as_path()), r.to.as_deref()]
                .into_iter()
                .flatten()
                .filter_map(Path::parent)
            {
                if !dirs.iter().any(|d| d == dir) {
                    dirs.push(dir.to_path_buf());
                }
            }
        }
        for dir in dirs {
            fsutil::sync_dir(&dir)?;
        }
        Ok(())
    }
}

/// Retires one file; a no-op when it already is (every step idempotent).
fn retire_one(r: &Retire) -> Result<(), WorkspaceError> {
    let holds = |p: &Path| {
        p.symlink_metadata().is_ok_and(|m| m.is_file())
            && fsutil::file_fingerprint(p).is_ok_and(|sha| sha == r.sha256)
    };
    let from_exists = r.from.symlink_metadata().is_ok();
    if from_exists && !holds(&r.from) {
        return Err(WorkspaceError::RepairFailed(format!(
            "{} changed since the operation checked it; it was left where it is",
            r.from.display()
        )));
    }
    match &r.to {
        None if from_exists => fsutil::fault::check(fsutil::fault::Step::Write)
            .and_then(|()| fs::remove_file(&r.from))
            .map_err(journal_io(&r.from)),
        None => Ok(()),
        Some(to) if from_exists => match fsutil::rename_noreplace(&r.from, to) {
            Ok(()) => Ok(()),
            // Linked before a crash, not yet unlinked.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && holds(to) => {
                fs::remove_file(&r.from).map_err(journal_io(&r.from))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(FsError::AlreadyExists(to.clone()).into())
            }
            Err(source) => Err(FsError::Io {
                action: "moving",
                path: r.from.clone(),
                source,
            }
            .into()),
        },
        Some(to) if holds(to) => Ok(()),
        Some(to) => Err(WorkspaceError::RepairFailed(format!(
            "{} is missing: neither it nor its retired copy {} is there",
            r.from.display(),
            to.display()
        ))),
    }
}

/// Publishes one staged output; a no-op when it already is.
fn publish(out: &Staged) -> Result<(), WorkspaceError> {
    if let Some(before) = &out.replaces {
        return publish_replacement(out, before);
    }
    let temp_exists = out.temp.symlink_metadata().is_ok();
    let final_is_ours = || {
        out.path.symlink_metadata().is_ok_and(|m| m.is_file())
            && fsutil::file_fingerprint(&out.path).is_ok_and(|sha| sha == out.sha256)
    };
    if temp_exists {
        match fsutil::rename_noreplace(&out.temp, &out.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && final_is_ours() => {
                // Linked before the crash, not yet unlinked.
                fs::remove_file(&out.temp).map_err(journal_io(&out.temp))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(FsError::AlreadyExists(out.path.clone()).into())
            }
            Err(source) => Err(FsError::Io {
                action: "publishing",
                path: out.path.clone(),
                source,
            }
            .into()),
        }
    } else if final_is_ours() {
        Ok(())
    } else {
        Err(WorkspaceError::RepairFailed(format!(
            "{} is missing: neither its temporary file nor the output is there",
            out.path.display()
        )))
    }
}

/// Publishes a rewritten state file over the one it replaces: an atomic
/// rename, done only while the file is still the one the operation read
/// (`before`). Idempotent.
fn publish_replacement(out: &Staged, before: &str) -> Result<(), WorkspaceError> {
    fsutil::refuse_symlink(&out.path)?;
    let now = fsutil::file_fingerprint(&out.path).ok();
    let temp_exists = out.temp.symlink_metadata().is_ok();
    if now.as_deref() == Some(out.sha256.as_str()) {
        if temp_exists {
            fs::remove_file(&out.temp).map_err(journal_io(&out.temp))?;
        }
        return Ok(());
    }
    if now.as_deref() != Some(before) {
        return Err(WorkspaceError::RepairFailed(format!(
            "{} changed since the interrupted operation committed; check it by hand",
            out.path.display()
        )));
    }
    if !temp_exists {
        return Err(WorkspaceError::RepairFailed(format!(
            "the new version of {} is missing",
            out.path.display()
        )));
    }
    fsutil::fault::check(fsutil::fault::Step::Rename)
        .and_then(|()| fs::rename(&out.temp, &out.path))
        .map_err(|source| {
            WorkspaceError::File(FsError::Io {
                action: "publishing",
                path: out.path.clone(),
                source,
            })
        })
}

fn merge(base: &Value, extra: Value) -> Value {
    let mut map = match base {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if let Value::Object(extra) = extra {
        map.extend(extra);
    }
    Value::Object(map)
}

/// The records of a journal entry; a torn last line (a crash during an
/// append) is ignored, which is safe because a record counts only once it
/// is whole and fsynced.
fn read_records(file: &File) -> Vec<Record> {
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .map_while(|line| serde_json::from_str(&line).ok())
        .collect()
}

impl Transaction<'_> {
    /// The audit op id shared by this operation's entries.
    pub fn op_id(&self) -> &str {
        self.audit.as_ref().map(PendingOp::id).unwrap_or_default()
    }

    /// The audit INITIATED entry that started this operation: its hash and
    /// time are known before any output is written, so a record can cite it.
    pub fn initiated(&self) -> Option<&crate::audit::Entry> {
        self.audit.as_ref().and_then(PendingOp::initiated)
    }

    /// Refuses to go on when `dir` cannot hold `bytes` more plus a margin.
    pub fn reserve(&self, dir: &Path, bytes: u64) -> Result<(), FsError> {
        fsutil::ensure_free_space(dir, bytes)
    }

    fn journal(&mut self, record: &Record) -> Result<(), WorkspaceError> {
        let path = self.journal_path.clone();
        match self.journal.as_mut() {
            Some(file) => append(file, &path, record),
            None => Err(WorkspaceError::BadJournal {
                path,
                reason: "the journal entry is closed".into(),
            }),
        }
    }

    /// A fresh temporary name next to `path`, recorded in the journal
    /// before it can exist.
    fn journaled_temp(&mut self, path: &Path) -> Result<PathBuf, FsError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let temp = fsutil::temp_name_in(dir, "");
        self.journal_fs(&Record::Temp { path: temp.clone() }, &temp)?;
        self.temps.push(temp.clone());
        Ok(temp)
    }

    /// [`Transaction::journal`] for a file operation on `path`: its error
    /// as the operation's [`FsError`].
    fn journal_fs(&mut self, record: &Record, path: &Path) -> Result<(), FsError> {
        self.journal(record).map_err(|e| match e {
            WorkspaceError::File(f) => f,
            other => FsError::Io {
                action: "writing the journal",
                path: path.to_path_buf(),
                source: std::io::Error::other(other.to_string()),
            },
        })
    }

    fn check_new(path: &Path) -> Result<(), FsError> {
        if path.symlink_metadata().is_ok() {
            return Err(FsError::AlreadyExists(path.to_path_buf()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fsutil::refuse_symlink(dir)?;
        }
        Ok(())
    }

    /// Creates the directory `path` (mode 0700; its parent must exist and
    /// `path` must not) for this operation's outputs. It is journaled
    /// before it can exist, so a rollback or the repair after a crash
    /// removes it again (while empty); the commit keeps it.
    pub fn create_dir(&mut self, path: &Path) -> Result<(), FsError> {
        Self::check_new(path)?;
        self.journal_fs(
            &Record::NewDir {
                path: path.to_path_buf(),
            },
            path,
        )?;
        // Recorded before it exists: a failure after the mkdir (the
        // parent's sync) still rolls it back.
        self.dirs.push(path.to_path_buf());
        let made = fsutil::create_new_private_dir(path);
        if let Err(FsError::AlreadyExists(_)) = &made {
            // Someone else made it since `check_new`: not ours to remove.
            self.dirs.pop();
        }
        made
    }

    /// Writes a whole output: unnamed, fsynced, read back and `check`ed,
    /// then linked under a journaled temporary name next to `path`. It is
    /// published under `path` by [`Transaction::commit`]. Returns its SHA-256.
    pub fn write_output<F>(
        &mut self,
        path: &Path,
        bytes: &[u8],
        check: F,
    ) -> Result<String, FsError>
    where
        F: FnOnce(&[u8]) -> Result<(), String>,
    {
        Self::check_new(path)?;
        self.write_staged(path, bytes, check, None)
    }

    /// Writes `bytes` unnamed next to `path`, reads them back through
    /// `check`, and stages them (replacing the file whose SHA-256 is
    /// `replaces`, if given). Returns their SHA-256.
    fn write_staged<F>(
        &mut self,
        path: &Path,
        bytes: &[u8],
        check: F,
        replaces: Option<String>,
    ) -> Result<String, FsError>
    where
        F: FnOnce(&[u8]) -> Result<(), String>,
    {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let out = fsutil::write_unnamed(dir, path, bytes, || self.journaled_temp(path), check)?;
        let sha = fsutil::sha256_hex(bytes);
        self.stage(path, out, sha.clone())?;
        if let Some(staged) = self.staged.last_mut() {
            staged.replaces = replaces;
        }
        Ok(sha)
    }

    /// Rewrites an existing state file of the workspace (an incident
    /// record): the new bytes are written unnamed, read back and `check`ed,
    /// and replace `path` at the commit — only if `path` still holds what
    /// it held now. Returns the new SHA-256.
    pub fn write_replacement<F>(
        &mut self,
        path: &Path,
        bytes: &[u8],
        check: F,
    ) -> Result<String, FsError>
    where
        F: FnOnce(&[u8]) -> Result<(), String>,
    {
        fsutil::refuse_symlink(path)?;
        let before = fsutil::file_fingerprint(path)?;
        self.write_staged(path, bytes, check, Some(before))
    }

    /// Starts a streamed output (a derive run): see [`fsutil::NewFileWriter`].
    /// Hand it back with [`Transaction::stage_stream`].
    pub fn stream_output(&mut self, path: &Path) -> Result<fsutil::NewFileWriter, FsError> {
        Self::check_new(path)?;
        fsutil::NewFileWriter::create_with(path, || self.journaled_temp(path))
    }

    /// Finishes a streamed output (fsync, read-back) and stages it for
    /// publishing; returns its SHA-256.
    pub fn stage_stream(
        &mut self,
        path: &Path,
        writer: fsutil::NewFileWriter,
    ) -> Result<String, FsError> {
        let (out, sha) = writer.finish_unnamed()?;
        self.stage(path, out, sha.clone())?;
        Ok(sha)
    }

    /// Retires an existing file when the transaction commits: moved to
    /// `to` (a new name on the same filesystem; the directory must exist),
    /// or removed when `to` is None. Nothing happens to it before the
    /// commit point, so a rollback leaves it where it was. Returns the
    /// file's SHA-256, which the move checks again.
    pub fn retire_on_commit(&mut self, from: &Path, to: Option<&Path>) -> Result<String, FsError> {
        use std::os::unix::fs::MetadataExt;
        let meta = from.symlink_metadata().map_err(|source| FsError::Io {
            action: "checking",
            path: from.to_path_buf(),
            source,
        })?;
        if !meta.is_file() {
            return Err(FsError::Io {
                action: "retiring",
                path: from.to_path_buf(),
                source: std::io::Error::other("not a regular file"),
            });
        }
        if let Some(to) = to {
            Self::check_new(to)?;
            let dir = to
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let dev = dir.metadata().map_err(|source| FsError::Io {
                action: "checking",
                path: dir.to_path_buf(),
                source,
            })?;
            if dev.dev() != meta.dev() {
                return Err(FsError::Io {
                    action: "moving",
                    path: from.to_path_buf(),
                    source: std::io::Error::other(format!(
                        "{} is on another filesystem",
                        dir.display()
                    )),
                });
            }
        }
        let sha256 = fsutil::file_fingerprint(from)?;
        self.retire.push(Retire {
            from: from.to_path_buf(),
            to: to.map(Path::to_path_buf),
            sha256: sha256.clone(),
        });
        Ok(sha256)
    }

    /// Records a staged output that holds a secret in plaintext: the commit
    /// adds it to the registry's plaintext outputs (path, size, SHA-256,
    /// time, this op) and lists it in the COMPLETED entry, in the same
    /// transaction that publishes it (see [`crate::outputs`]).
    pub fn track_plaintext(
        &mut self,
        path: &Path,
        kind: crate::outputs::OutputKind,
        size: u64,
        sha256: &str,
    ) {
        let op = self.op_id().to_string();
        self.plaintext.push(crate::outputs::PlaintextOutput::new(
            path, kind, size, sha256, &op,
        ));
    }

    /// Names a written, verified output under its journaled temporary name.
    fn stage(&mut self, path: &Path, out: OutputFile, sha256: String) -> Result<(), FsError> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = match out.temp_path() {
            Some(_) => out.keep_temp().unwrap_or_default(),
            None => {
                let temp = self.journaled_temp(path)?;
                out.link_as(&temp)?;
                temp
            }
        };
        fsutil::sync_dir(dir)?;
        self.staged.push(Staged {
            temp,
            path: path.to_path_buf(),
            sha256,
            replaces: None,
        });
        Ok(())
    }

    /// The commit: under the workspace lock, applies `change` to the
    /// registry (its error rolls everything back), writes the COMMIT
    /// record, the registry and the outputs, then audits COMPLETED with
    /// `completed(&value)`. A failure after the commit point leaves the
    /// journal for the next repair to finish ([`WorkspaceError::Unfinished`]).
    pub fn commit<T, E>(
        mut self,
        change: impl FnOnce(&mut Registry) -> Result<T, E>,
        completed: impl FnOnce(&T) -> Value,
    ) -> Result<T, E>
    where
        E: From<WorkspaceError> + From<AuditError> + std::fmt::Display,
    {
        let ws = self.ws;
        let lock = match ws.lock() {
            Ok(l) => l,
            Err(e) => return Err(self.fail_with(E::from(e))),
        };
        // Anything a crashed operation left is finished first, so our
        // change starts from the registry that operation committed.
        if let Err(e) = ws.repair_locked() {
            drop(lock);
            return Err(self.fail_with(E::from(e)));
        }
        let path = ws.registry_path();
        let plaintext = std::mem::take(&mut self.plaintext);
        let tracked: Vec<Value> = plaintext
            .iter()
            .map(|o| json!({ "file": o.path, "kind": o.kind, "size": o.size, "sha256": o.sha256 }))
            .collect();
        let prepared = (|| {
            let before_sha = registry_sha(&path).map_err(E::from)?;
            let before = ws.registry().map_err(E::from)?;
            let mut reg = before.clone();
            let value = change(&mut reg)?;
            reg.plaintext_outputs.extend(plaintext);
            let registry = if reg == before {
                None
            } else {
                Some(serde_json::to_value(&reg).map_err(|e| {
                    E::from(WorkspaceError::BadRegistry {
                        path: path.clone(),
                        reason: e.to_string(),
                    })
                })?)
            };
            Ok::<_, E>((before_sha, registry, value))
        })();
        let (before_sha, registry, value) = match prepared {
            Ok(p) => p,
            Err(e) => {
                drop(lock);
                return Err(self.fail_with(e));
            }
        };
        let mut completed = completed(&value);
        if !tracked.is_empty()
            && let Value::Object(m) = &mut completed
        {
            m.insert("plaintextOutputs".into(), Value::Array(tracked));
        }
        let commit = Record::Commit {
            outputs: self.staged.clone(),
            registry_before: before_sha.clone(),
            registry: registry.clone(),
            completed: completed.clone(),
            retire: self.retire.clone(),
        };
        if let Err(e) = self.journal(&commit) {
            drop(lock);
            return Err(self.fail_with(E::from(e)));
        }
        // Committed: from here the operation only moves forward.
        let finished = ws.roll_forward(
            &self.staged,
            &self.retire,
            before_sha.as_deref(),
            registry.as_ref(),
        );
        // COMPLETED is written while the journal entry (and its lock) still
        // exists, and the entry goes only once COMPLETED is in the log: a
        // crash in between leaves the entry for repair, which finds the
        // COMPLETED entry and does not write a second one. (Removing the
        // entry first let a kill at the wrong moment leave an operation
        // whose outputs and registry change had landed with only INITIATED
        // in the log.)
        let audit = self.audit.take();
        let audited = match (&finished, audit) {
            (Ok(()), Some(op)) => op.complete(completed).map(|_| ()),
            _ => Ok(()),
        };
        let finished = finished.and_then(|()| {
            if audited.is_err() {
                // Left for repair, which writes COMPLETED.
                return Ok(());
            }
            fs::remove_file(&self.journal_path).map_err(journal_io(&self.journal_path))?;
            // If this sync is lost, the entry comes back after a power
            // cut and repair rolls it forward again: every step is
            // idempotent. So its failure does not fail the operation.
            let _ = fsutil::sync_dir(self.journal_path.parent().unwrap_or(Path::new(".")));
            Ok(())
        });
        self.journal = None;
        self.temps.clear();
        self.dirs.clear();
        drop(lock);
        match finished {
            Ok(()) => {
                audited?;
                Ok(value)
            }
            Err(e) => Err(E::from(WorkspaceError::Unfinished(Box::new(e)))),
        }
    }

    /// Rolls back (temporary files removed, journal entry removed, audit
    /// FAILED with `err`) and returns `err`.
    pub fn fail_with<E>(mut self, err: E) -> E
    where
        E: From<AuditError> + std::fmt::Display,
    {
        // The error the caller sees stays the operation's own, even when
        // the FAILED entry cannot be written.
        let _ = self.rollback(&err.to_string());
        err
    }

    fn rollback(&mut self, reason: &str) -> Result<(), AuditError> {
        self.staged.clear();
        self.retire.clear();
        for temp in self.temps.drain(..) {
            let _ = fs::remove_file(&temp);
        }
        while let Some(dir) = self.dirs.pop() {
            let _ = fs::remove_dir(&dir);
        }
        if self.journal.take().is_some() {
            let _ = fs::remove_file(&self.journal_path);
        }
        match self.audit.take() {
            Some(op) => op.fail(reason).map(|_| ()),
            None => Ok(()),
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.journal.is_some() {
            let _ = self.rollback("the operation stopped before it finished");
        }
    }
}
