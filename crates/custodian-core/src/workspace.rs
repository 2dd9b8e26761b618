//! The workspace: one private directory holding the registry and the audit
//! log for a team of custodians (or, for a drill, a sandbox of synthetic
//! ones).
//!
//! ```text
//! <workspace>/            mode 0700
//!   registry.json         custodians, guardian splits, keys, drills, checklist
//!   audit.jsonl           the hash-chained audit log
//!   identities/           identity files created here by default
//!   journal/              one entry per running operation (see transaction)
//!   .lock                 serialises registry updates between processes
//! ```
//!
//! Every operation that writes is a [`crate::transaction::Transaction`];
//! [`Workspace::open_for_writing`] first repairs what a crash left.
//!
//! The location is, in order: `--workspace DIR`, the `CUSTODIAN_WORKSPACE`
//! environment variable, or the platform data directory from `directories`.
//! Registry updates take an exclusive lock, re-read the file, apply the
//! change and atomically replace it, so two consoles cannot lose each
//! other's writes.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::AuditLog;
use crate::error::Explain;
use crate::fsutil::{self, FsError};

/// Environment variable that overrides the default workspace location.
pub const ENV_VAR: &str = "CUSTODIAN_WORKSPACE";
/// Registry file name.
pub const REGISTRY_FILE: &str = "registry.json";
/// Audit log file name.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// Days between a custodian's creation (or rotation) and their rotation due date.
pub const ROTATION_DAYS: i64 = 90;
/// Largest registry the console will read.
pub(crate) const MAX_REGISTRY: u64 = 16 << 20;
/// The registry version this build writes.
pub const REGISTRY_VERSION: u32 = 1;

/// Why the workspace could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkspaceError {
    /// No workspace was given and the platform has no data directory.
    #[error(
        "no workspace directory: none was given, {ENV_VAR} is not set, and there is no home directory"
    )]
    NoDefault,
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace directory is readable by other users.
    #[error("workspace {} has mode {mode:o}; it must not be accessible to other users", path.display())]
    Permissions {
        /// The directory.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// registry.json is not a registry this build can read.
    #[error("registry {} is unreadable: {reason}", path.display())]
    BadRegistry {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A registry section does not have the shape its owner declares.
    #[error("registry {} is unreadable: section `{section}` has the wrong shape: {reason}", path.display())]
    BadSection {
        /// The file.
        path: PathBuf,
        /// The section's key.
        section: String,
        /// What is wrong.
        reason: String,
    },
    /// The registry lock could not be taken.
    #[error("could not lock the workspace {}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A journal entry could not be written or read.
    #[error("journal entry {}: {reason}", path.display())]
    BadJournal {
        /// The entry.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Repair could not finish an interrupted operation.
    #[error("an interrupted operation could not be repaired: {0}")]
    RepairFailed(String),
    /// The operation passed its commit point but could not finish; the
    /// next command that opens the workspace for writing finishes it.
    #[error(
        "the operation is committed but not finished ({0}); it will be finished the next time the workspace is opened for writing"
    )]
    Unfinished(Box<WorkspaceError>),
    /// The audit log could not be written.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// A custodian with this name already exists.
    #[error("a custodian named `{0}` is already registered in this workspace")]
    DuplicateCustodian(String),
    /// A command that only reads was pointed at a directory that is not a
    /// workspace; it does not create one.
    #[error("no workspace at {}", path.display())]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
}

impl Explain for WorkspaceError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            WorkspaceError::NoDefault => to.pick(format!("pass --workspace DIR or set {ENV_VAR}"), format!("start the console with the workspace directory (or {ENV_VAR} set to it)")),
            WorkspaceError::File(e) => return e.remedy_for(to),
            WorkspaceError::Permissions { path, .. } => {
                format!("run `chmod 700 {}`", path.display())
            }
            WorkspaceError::BadRegistry { .. } => {
                "restore registry.json from a backup; do not edit it by hand".into()
            }
            WorkspaceError::BadSection { section, .. } => format!(
                "nothing was changed; restore registry.json from a backup (section `{section}` \
                 is left as it is, never replaced)"
            ),
            WorkspaceError::Lock { .. } => "check the workspace directory's permissions".into(),
            WorkspaceError::BadJournal { .. } | WorkspaceError::RepairFailed(_) => {
                "check the disk and the workspace's journal/ directory; keep a copy of the workspace before changing anything".into()
            }
            WorkspaceError::Unfinished(e) => {
                return Some(format!(
                    "{}; then run any writing command (or open the console) to finish it",
                    e.remedy_for(to).unwrap_or_else(|| "fix the cause".into())
                ));
            }
            WorkspaceError::Audit(e) => return e.remedy_for(to),
            WorkspaceError::DuplicateCustodian(_) => {
                "choose another name, or rotate the existing custodian instead".into()
            }
            WorkspaceError::Missing { .. } => to.pick(format!(
                "check --workspace and {ENV_VAR} for a typo; commands that only read never create a workspace"
            ), format!(
                "check the workspace directory the console was started with (and {ENV_VAR}) for a typo"
            )),
        })
    }
}

/// A custodian, as the registry knows them (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustodianRecord {
    /// Display name.
    pub name: String,
    /// Their age recipient (`age1…`).
    pub recipient: String,
    /// Short fingerprint of the recipient.
    pub fingerprint: String,
    /// When the identity was created (RFC 3339).
    pub created_at: String,
    /// When it is due for rotation (RFC 3339).
    pub rotation_due: String,
    /// Where the identity file was written, if it was written by this console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<PathBuf>,
    /// The plugin recipient of the hardware token this identity also needs
    /// (`age1yubikey1…`), when it was created as passphrase + token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The workspace registry: public state the console keeps between runs.
///
/// Every section is a typed field, its type declared once by the module that
/// owns it; everyone else reads that type (the guardians' [`SplitsSection`],
/// the shard module's [`ShardRecord`]…). Reading checks each section's shape
/// separately, so a wrong one (`"guardianSplits": 7`) is refused with an
/// error naming it, and never replaced by an empty default. Sections this
/// build does not know (written by a newer one) are kept as they are.
///
/// [`SplitsSection`]: crate::guardians::SplitsSection
/// [`ShardRecord`]: crate::shard::ShardRecord
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registry {
    /// Registry format version.
    pub version: u32,
    /// True for a drill sandbox: every screen says DRILL.
    pub sandbox: bool,
    /// Registered custodians.
    pub custodians: Vec<CustodianRecord>,
    /// Guardian splits and reconstructions (owned by `guardians`).
    #[serde(skip_serializing_if = "crate::guardians::SplitsSection::is_empty")]
    pub guardian_splits: crate::guardians::SplitsSection,
    /// Shard files written here (owned by `shard`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<crate::shard::ShardRecord>,
    /// Drill keys made here (owned by `drill::key`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drill_keys: Vec<crate::drill::key::DrillKeyRecord>,
    /// Drills run from here (owned by `drill::run`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drills: Vec<crate::drill::run::DrillRecord>,
    /// Manual checklist ticks (owned by `playbook::checklist`).
    #[serde(skip_serializing_if = "crate::playbook::checklist::ChecklistState::is_empty")]
    pub checklist: crate::playbook::checklist::ChecklistState,
    /// The custodian executable the team accepted (owned by `binary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_binary: Option<crate::binary::AcceptedBinary>,
    /// Custodian identities that were rotated or retired (owned by
    /// `lifecycle`). `custodians` lists the active ones only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custodian_history: Vec<crate::lifecycle::PastCustodian>,
    /// Onboarding ceremonies (owned by `lifecycle::onboard`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ceremonies: Vec<crate::lifecycle::onboard::CeremonyRecord>,
    /// Outputs holding a secret in plaintext, until destroyed (owned by `outputs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plaintext_outputs: Vec<crate::outputs::PlaintextOutput>,
    /// Encrypted off-site copies written (owned by `backup`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<crate::backup::BackupRecord>,
    /// Operator confirmations of the system clock (owned by `clock`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clock_confirmations: Vec<crate::clock::ClockConfirmation>,
    /// Workspace policy: the approval rule (owned by `approvals`). A new
    /// workspace starts with authenticated approvals; a registry written
    /// before the section existed reads as typed names.
    #[serde(skip_serializing_if = "crate::approvals::Policy::is_empty")]
    pub policy: crate::approvals::Policy,
    /// The workspace's hardware-token policy (owned by `token`).
    #[serde(skip_serializing_if = "crate::token::TokenPolicy::is_default")]
    pub token_policy: crate::token::TokenPolicy,
    /// Sections written by a newer build, kept unchanged.
    #[serde(flatten)]
    pub unknown: serde_json::Map<String, serde_json::Value>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            version: REGISTRY_VERSION,
            sandbox: false,
            custodians: Vec::new(),
            guardian_splits: Default::default(),
            shards: Vec::new(),
            drill_keys: Vec::new(),
            drills: Vec::new(),
            checklist: Default::default(),
            accepted_binary: None,
            custodian_history: Vec::new(),
            ceremonies: Vec::new(),
            plaintext_outputs: Vec::new(),
            backups: Vec::new(),
            clock_confirmations: Vec::new(),
            policy: crate::approvals::Policy::for_new_workspace(),
            token_policy: Default::default(),
            unknown: serde_json::Map::new(),
        }
    }
}

/// A registry section of the wrong shape: its name and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionError {
    /// The section's key in `registry.json`.
    pub section: String,
    /// What serde found wrong.
    pub reason: String,
}

fn take_section<T: serde::de::DeserializeOwned + Default>(
    map: &mut serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<T, SectionError> {
    match map.remove(name) {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v).map_err(|e| SectionError {
            section: name.to_string(),
            reason: e.to_string(),
        }),
    }
}

impl Registry {
    /// Reads a registry document, section by section. Older shapes are
    /// migrated: `guardianSplits` as a bare list of splits (what the playbook
    /// once expected) and drills recorded with only a `date`.
    pub fn from_json(bytes: &[u8]) -> Result<Registry, SectionError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| SectionError {
            section: "(whole file)".into(),
            reason: e.to_string(),
        })?;
        let serde_json::Value::Object(mut map) = value else {
            return Err(SectionError {
                section: "(whole file)".into(),
                reason: "not a JSON object".into(),
            });
        };
        let version = match map.remove("version") {
            Some(v) => serde_json::from_value(v).map_err(|e| SectionError {
                section: "version".into(),
                reason: e.to_string(),
            })?,
            None => {
                return Err(SectionError {
                    section: "version".into(),
                    reason: "missing".into(),
                });
            }
        };
        let guardian_splits = match map.get(crate::guardians::SECTION) {
            // The older list shape: each item is a split record.
            Some(serde_json::Value::Array(_)) => crate::guardians::SplitsSection {
                splits: take_section(&mut map, crate::guardians::SECTION)?,
                reconstructions: Vec::new(),
            },
            _ => take_section(&mut map, crate::guardians::SECTION)?,
        };
        Ok(Registry {
            version,
            sandbox: take_section(&mut map, "sandbox")?,
            custodians: take_section(&mut map, "custodians")?,
            guardian_splits,
            shards: take_section(&mut map, crate::shard::REGISTRY_SECTION)?,
            drill_keys: take_section(&mut map, crate::drill::key::REGISTRY_SECTION)?,
            drills: take_section(&mut map, crate::drill::run::SECTION)?,
            checklist: take_section(&mut map, crate::playbook::checklist::SECTION)?,
            accepted_binary: take_section(&mut map, crate::binary::SECTION)?,
            custodian_history: take_section(&mut map, crate::lifecycle::HISTORY_SECTION)?,
            ceremonies: take_section(&mut map, crate::lifecycle::onboard::SECTION)?,
            plaintext_outputs: take_section(&mut map, crate::outputs::SECTION)?,
            backups: take_section(&mut map, crate::backup::SECTION)?,
            clock_confirmations: take_section(&mut map, crate::clock::SECTION)?,
            policy: take_section(&mut map, crate::approvals::SECTION)?,
            token_policy: take_section(&mut map, crate::token::POLICY_SECTION)?,
            unknown: map,
        })
    }

    /// Finds a custodian by name.
    pub fn custodian(&self, name: &str) -> Option<&CustodianRecord> {
        self.custodians.iter().find(|c| c.name == name)
    }

    /// The identity file of the registered custodian whose recipient is
    /// `recipient`, if one is registered with a file: where a rewrap of a
    /// shard wrapped to that recipient should look first.
    pub fn identity_file_for(&self, recipient: &str) -> Option<&Path> {
        self.custodians
            .iter()
            .find(|c| c.recipient == recipient)
            .and_then(|c| c.identity_file.as_deref())
    }
}

thread_local! {
    /// Workspace roots whose lock this thread holds.
    static HELD: std::cell::RefCell<Vec<PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The workspace lock, held until dropped. Taken again by the thread that
/// holds it, it is a no-op guard.
#[derive(Debug)]
pub(crate) struct WorkspaceLock {
    /// None for a re-entrant guard.
    file: Option<File>,
    root: PathBuf,
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            HELD.with(|h| h.borrow_mut().retain(|r| r != &self.root));
            drop(file);
        }
    }
}

/// An open workspace directory.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

/// An output directory a command may have just created; see
/// [`Workspace::output_dir`].
#[derive(Debug)]
#[must_use = "call keep() once the outputs are written"]
pub struct NewOutputDir {
    path: PathBuf,
    created: bool,
}

impl NewOutputDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The command succeeded: keep the directory.
    pub fn keep(mut self) {
        self.created = false;
    }
}

impl Drop for NewOutputDir {
    fn drop(&mut self) {
        if self.created {
            // Only an empty directory is removed; anything in it stays.
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// Resolves the workspace location: explicit flag, then the environment
/// variable, then the platform data directory.
pub fn resolve(explicit: Option<&Path>) -> Result<PathBuf, WorkspaceError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "custodian")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or(WorkspaceError::NoDefault)
}

impl Workspace {
    /// Opens the workspace at `root`, creating it (mode 0700) if needed.
    /// Refuses a directory other users can read.
    pub fn open(root: impl Into<PathBuf>) -> Result<Workspace, WorkspaceError> {
        let root = root.into();
        fsutil::refuse_symlink(&root)?;
        fsutil::ensure_private_dir(&root)?;
        Self::checked(root)
    }

    /// Opens an existing workspace for a command that only reads: a missing
    /// directory is an error naming it, and nothing is created.
    pub fn open_existing(root: impl Into<PathBuf>) -> Result<Workspace, WorkspaceError> {
        let root = root.into();
        match std::fs::metadata(&root) {
            Ok(m) if m.is_dir() => Self::checked(root),
            Ok(_) => Err(WorkspaceError::Missing { path: root }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(WorkspaceError::Missing { path: root })
            }
            Err(source) => Err(FsError::Io {
                action: "checking",
                path: root,
                source,
            }
            .into()),
        }
    }

    fn checked(root: PathBuf) -> Result<Workspace, WorkspaceError> {
        let mode = std::fs::metadata(&root)
            .map_err(|source| FsError::Io {
                action: "checking",
                path: root.clone(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(WorkspaceError::Permissions {
                path: root,
                mode: mode & 0o777,
            });
        }
        Ok(Workspace { root })
    }

    /// The workspace directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The audit log.
    pub fn audit(&self) -> AuditLog {
        AuditLog::new(self.root.join(AUDIT_FILE))
    }

    /// Where identity files go by default.
    pub fn identities_dir(&self) -> Result<PathBuf, WorkspaceError> {
        let dir = self.root.join("identities");
        fsutil::ensure_private_dir(&dir)?;
        Ok(dir)
    }

    /// Creates `dir` (0700) for a command's outputs if it does not exist and
    /// returns a guard that removes it again, if still empty, unless
    /// [`NewOutputDir::keep`] is called: a failing command leaves no empty
    /// output directory behind.
    pub fn output_dir(dir: &Path) -> Result<NewOutputDir, WorkspaceError> {
        let created = std::fs::symlink_metadata(dir).is_err();
        fsutil::ensure_private_dir(dir)?;
        Ok(NewOutputDir {
            path: dir.to_path_buf(),
            created,
        })
    }

    /// A subdirectory of the workspace (created 0700) for a kind of output.
    pub fn subdir(&self, name: &str) -> Result<PathBuf, WorkspaceError> {
        let dir = self.root.join(name);
        fsutil::ensure_private_dir(&dir)?;
        Ok(dir)
    }

    pub(crate) fn registry_path(&self) -> PathBuf {
        self.root.join(REGISTRY_FILE)
    }

    /// Reads the registry (an empty one if none has been written yet).
    pub fn registry(&self) -> Result<Registry, WorkspaceError> {
        let path = self.registry_path();
        fsutil::refuse_symlink(&path)?;
        if !path.exists() {
            return Ok(Registry::default());
        }
        let bytes = fsutil::read_state_file(&path, MAX_REGISTRY)?;
        let reg = Registry::from_json(&bytes).map_err(|e| WorkspaceError::BadSection {
            path: path.clone(),
            section: e.section,
            reason: e.reason,
        })?;
        if reg.version > REGISTRY_VERSION {
            return Err(WorkspaceError::BadRegistry {
                path,
                reason: format!(
                    "version {} was written by a newer custodian (this build reads {REGISTRY_VERSION})",
                    reg.version
                ),
            });
        }
        Ok(reg)
    }

    pub(crate) fn lock(&self) -> Result<WorkspaceLock, WorkspaceError> {
        // Re-entrant within a thread: an operation that holds the lock for
        // a read-modify-write (an incident step) commits its transaction,
        // which takes the lock again. A second flock on a new descriptor
        // would wait for ourselves.
        if HELD.with(|h| h.borrow().contains(&self.root)) {
            return Ok(WorkspaceLock {
                file: None,
                root: self.root.clone(),
            });
        }
        let path = self.root.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
            .map_err(|source| WorkspaceError::Lock {
                path: path.clone(),
                source,
            })?;
        file.lock()
            .map_err(|source| WorkspaceError::Lock { path, source })?;
        HELD.with(|h| h.borrow_mut().push(self.root.clone()));
        Ok(WorkspaceLock {
            file: Some(file),
            root: self.root.clone(),
        })
    }

    /// Runs `work` holding the workspace lock, for read-modify-write of
    /// workspace files other than the registry (incident records). The
    /// lock is re-entrant within the thread, so `work` may run a
    /// transaction or [`Workspace::update_registry`].
    pub fn locked<T, E>(&self, work: impl FnOnce() -> Result<T, E>) -> Result<T, E>
    where
        E: From<WorkspaceError>,
    {
        let lock = self.lock()?;
        let out = work();
        drop(lock);
        out
    }

    /// Applies `change` to the registry under the workspace lock and writes
    /// it back atomically. Nothing is written if `change` fails.
    pub fn update_registry<T, E>(
        &self,
        change: impl FnOnce(&mut Registry) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<WorkspaceError>,
    {
        let lock = self.lock()?;
        // A crashed operation's committed change comes first.
        self.repair_locked()?;
        let mut reg = self.registry()?;
        let out = change(&mut reg)?;
        let mut bytes =
            serde_json::to_vec_pretty(&reg).map_err(|e| WorkspaceError::BadRegistry {
                path: self.registry_path(),
                reason: e.to_string(),
            })?;
        bytes.push(b'\n');
        fsutil::replace(&self.registry_path(), &bytes).map_err(WorkspaceError::from)?;
        drop(lock);
        Ok(out)
    }

    /// Adds a custodian, refusing a duplicate name.
    pub fn add_custodian(&self, record: CustodianRecord) -> Result<(), WorkspaceError> {
        self.update_registry(|reg| {
            if reg.custodian(&record.name).is_some() {
                return Err(WorkspaceError::DuplicateCustodian(record.name.clone()));
            }
            reg.custodians.push(record);
            Ok(())
        })
    }

    /// True when this workspace is a drill sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.registry().map(|r| r.sandbox).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_workspace_is_private_and_keeps_unknown_sections() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let ws = Workspace::open(&root).unwrap();
        assert_eq!(
            std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        ws.update_registry(|r| {
            r.unknown
                .insert("future".into(), serde_json::json!({"x": 1}));
            Ok::<_, WorkspaceError>(())
        })
        .unwrap();
        let reg = ws.registry().unwrap();
        assert_eq!(reg.unknown["future"]["x"], 1);
    }

    fn write_registry(ws: &Workspace, value: serde_json::Value) {
        std::fs::write(ws.registry_path(), value.to_string()).unwrap();
    }

    #[test]
    fn a_section_of_the_wrong_shape_is_refused_by_name_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        for section in [
            "guardianSplits",
            "shards",
            "drillKeys",
            "drills",
            "checklist",
            "custodians",
            "custodianHistory",
            "ceremonies",
            "plaintextOutputs",
            "backups",
            "clockConfirmations",
            "policy",
        ] {
            write_registry(&ws, serde_json::json!({"version": 1, section: 7}));
            let before = std::fs::read(ws.registry_path()).unwrap();
            let err = ws.registry().unwrap_err();
            assert!(
                matches!(&err, WorkspaceError::BadSection { section: s, .. } if s == section),
                "{err}"
            );
            assert!(err.to_string().contains(&format!("`{section}`")), "{err}");
            let err = ws
                .update_registry(|r| {
                    r.guardian_splits = Default::default();
                    Ok::<_, WorkspaceError>(())
                })
                .unwrap_err();
            assert!(matches!(err, WorkspaceError::BadSection { .. }));
            assert_eq!(std::fs::read(ws.registry_path()).unwrap(), before);
        }
    }

    #[test]
    fn older_shapes_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let split = serde_json::json!({"setId": "s1", "custodian": "Ana", "recipient": "age1ana",
            "threshold": 3, "total": 5, "guardians": ["a","b","c","d","e"], "files": [],
            "fileSha256": [], "createdAt": "2026-01-01T00:00:00Z"});
        write_registry(
            &ws,
            serde_json::json!({"version": 1, "guardianSplits": [split],
                               "drills": [{"date": "2026-05-01"}]}),
        );
        let reg = ws.registry().unwrap();
        assert_eq!(reg.guardian_splits.splits[0].custodian, "Ana");
        assert_eq!(reg.drills[0].date, "2026-05-01");
        // Written back in today's shape.
        ws.update_registry(|_| Ok::<_, WorkspaceError>(())).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ws.registry_path()).unwrap()).unwrap();
        assert_eq!(v["guardianSplits"]["splits"][0]["setId"], "s1");
    }

    #[test]
    fn a_world_readable_workspace_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            Workspace::open(dir.path()),
            Err(WorkspaceError::Permissions { mode: 0o755, .. })
        ));
    }

    #[test]
    fn resolve_prefers_the_flag() {
        assert_eq!(
            resolve(Some(Path::new("/x/y"))).unwrap(),
            PathBuf::from("/x/y")
        );
    }
}
