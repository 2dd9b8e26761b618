//! Know the binary you run (threat 6, applied to custodian itself).
//!
//! The workspace records the SHA-256 of the custodian executable the team
//! accepted (registry section `acceptedBinary`). It is recorded when a
//! workspace is first created and at onboarding ([`record_if_unset`]), and
//! replaced only by [`accept`] after the team has compared a new binary's
//! hash with its reviewed one (`custodian check --accept-binary`) — an
//! audited `BINARY_ACCEPTED` entry naming the old and the new hash.
//!
//! [`compare`] is the one comparison `custodian check` and the threat 6
//! screen show (through [`crate::playbook::checks`]).
//!
//! The hash is of the file the kernel is running: `/proc/self/exe` names the
//! running image even if the path it was started from has since been
//! replaced.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::AuditError;
use crate::error::Explain;
use crate::fsutil::FsError;
use crate::workspace::{Workspace, WorkspaceError};

/// The registry section holding the accepted binary.
pub const SECTION: &str = "acceptedBinary";
/// The audit event of every recording or acceptance.
pub const EVENT: &str = "BINARY_ACCEPTED";

/// The executable this process is running: its SHA-256 and what it says
/// about itself (the binary crate knows its version and commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningBinary {
    /// SHA-256 of the executable file, 64 lowercase hex digits.
    pub sha256: String,
    /// The version it reports.
    pub version: String,
    /// The git commit it was built from, or "unknown".
    pub commit: String,
}

impl RunningBinary {
    /// Hashes the executable this process is running.
    pub fn current(version: &str, commit: &str) -> Result<RunningBinary, FsError> {
        Ok(RunningBinary {
            sha256: running_executable_sha256()?,
            version: version.to_string(),
            commit: commit.to_string(),
        })
    }
}

/// SHA-256 of the executable this process is running, read through
/// `/proc/self/exe` (the running image, even if its path was replaced).
pub fn running_executable_sha256() -> Result<String, FsError> {
    let proc_self = Path::new("/proc/self/exe");
    if proc_self.exists() {
        return crate::fsutil::file_fingerprint(proc_self);
    }
    let exe = std::env::current_exe().map_err(|source| FsError::Io {
        action: "locating",
        path: proc_self.to_path_buf(),
        source,
    })?;
    crate::fsutil::file_fingerprint(&exe)
}

/// The binary the workspace accepted (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedBinary {
    /// SHA-256 of the accepted executable.
    pub sha256: String,
    /// The version it reported.
    pub version: String,
    /// The commit it reported.
    pub commit: String,
    /// When it was accepted (RFC 3339).
    pub accepted_at: String,
    /// Why: `workspace created`, `onboarding`, or `reviewed` (after a
    /// comparison with the team's reviewed hash).
    pub reason: String,
}

/// How the running binary compares with the accepted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// Nothing is recorded yet.
    NoneRecorded,
    /// The running binary is the accepted one.
    Same(AcceptedBinary),
    /// The running binary is not the accepted one.
    Differs {
        /// What the workspace accepted.
        accepted: AcceptedBinary,
        /// What is running.
        running: RunningBinary,
    },
}

/// Compares the running binary with the accepted one.
pub fn compare(accepted: Option<&AcceptedBinary>, running: &RunningBinary) -> Comparison {
    match accepted {
        None => Comparison::NoneRecorded,
        Some(a) if a.sha256 == running.sha256 => Comparison::Same(a.clone()),
        Some(a) => Comparison::Differs {
            accepted: a.clone(),
            running: running.clone(),
        },
    }
}

/// What to do about a changed binary, as both shells say it.
pub const REMEDY: &str = "compare the running binary's SHA-256 with the team's reviewed hash for \
     this release before continuing; if they match, run `custodian check --accept-binary`; if \
     not, stop and use the reviewed binary";

/// Why a binary could not be recorded or accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BinaryError {
    /// The expected hash given is not 64 hex digits.
    #[error("`{0}` is not a SHA-256 (64 hex digits)")]
    BadHash(String),
    /// The hash the team reviewed is not the running binary's.
    #[error("the running binary's SHA-256 is {running}, not the reviewed {expected}")]
    NotReviewed {
        /// What the person said the team reviewed.
        expected: String,
        /// What is running.
        running: String,
    },
    /// The workspace could not be written.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl Explain for BinaryError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        match self {
            BinaryError::BadHash(_) => Some(
                to.pick("give the reviewed hash as the 64 hex digits `sha256sum` or `custodian --version --verbose` prints", "give the reviewed hash as the 64 hex digits sha256sum prints for the binary"),
            ),
            BinaryError::NotReviewed { .. } => Some(
                "nothing was accepted; this is not the binary the team reviewed — stop and use the reviewed binary".into(),
            ),
            BinaryError::Workspace(e) => e.remedy_for(to),
            BinaryError::Audit(e) => e.remedy_for(to),
        }
    }
}

/// Checks a hash a person typed: 64 hex digits, returned in lowercase.
pub fn parse_sha256(text: &str) -> Result<String, BinaryError> {
    let t = text.trim();
    if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(BinaryError::BadHash(crate::text::short_prefix(t)))
    }
}

/// What [`record_if_unset`] or [`accept`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// The running binary is now the accepted one; `previous` is what was
    /// accepted before, if anything.
    Recorded {
        /// The record written.
        record: AcceptedBinary,
        /// The hash it replaced.
        previous: Option<String>,
    },
    /// The running binary already was the accepted one: nothing written.
    Unchanged(AcceptedBinary),
    /// Another binary is already accepted; [`record_if_unset`] leaves it
    /// (only [`accept`] replaces it, after a review).
    Kept(AcceptedBinary),
}

fn write(
    ws: &Workspace,
    running: &RunningBinary,
    reason: &str,
    replace: bool,
) -> Result<Accepted, BinaryError> {
    let current = ws.registry()?.accepted_binary;
    match &current {
        Some(a) if a.sha256 == running.sha256 => return Ok(Accepted::Unchanged(a.clone())),
        Some(a) if !replace => return Ok(Accepted::Kept(a.clone())),
        _ => {}
    }
    let previous = current.as_ref().map(|a| a.sha256.clone());
    let tx = ws.begin(
        EVENT,
        json!({
            "sha256": running.sha256,
            "previous": previous,
            "version": running.version,
            "commit": running.commit,
            "reason": reason,
        }),
    )?;
    let record = AcceptedBinary {
        sha256: running.sha256.clone(),
        version: running.version.clone(),
        commit: running.commit.clone(),
        accepted_at: crate::clock::now_string(),
        reason: reason.to_string(),
    };
    let written = record.clone();
    // Decided again under the workspace lock: of two racing recordings
    // only the first lands, and an acceptance replaces exactly the hash it
    // saw.
    tx.commit(
        move |reg| {
            let now = reg.accepted_binary.as_ref().map(|a| a.sha256.clone());
            if now.as_deref() == Some(written.sha256.as_str()) {
                return Ok(Accepted::Unchanged(
                    reg.accepted_binary.clone().unwrap_or(written),
                ));
            }
            if now != previous {
                return match (&reg.accepted_binary, replace) {
                    (Some(a), false) => Ok(Accepted::Kept(a.clone())),
                    _ => Err(BinaryError::Workspace(WorkspaceError::RepairFailed(
                        "the accepted binary changed while this acceptance ran; run it again"
                            .into(),
                    ))),
                };
            }
            reg.accepted_binary = Some(written.clone());
            Ok(Accepted::Recorded {
                record: written,
                previous,
            })
        },
        |done| match done {
            Accepted::Recorded { record, previous } => {
                json!({ "sha256": record.sha256, "previous": previous })
            }
            Accepted::Unchanged(a) | Accepted::Kept(a) => {
                json!({ "unchanged": true, "accepted": a.sha256 })
            }
        },
    )
}

/// Records the running binary as the accepted one when the workspace has
/// none yet (a new workspace, onboarding). An existing record is kept, even
/// when it differs: only a reviewed [`accept`] replaces it, and
/// `custodian check` flags the difference meanwhile.
pub fn record_if_unset(
    ws: &Workspace,
    running: &RunningBinary,
    reason: &str,
) -> Result<Accepted, BinaryError> {
    write(ws, running, reason, false)
}

/// Accepts the running binary after the team compared its hash with the
/// reviewed one. With `reviewed`, that hash must be the running binary's,
/// or nothing is written. Audited with the old and the new hash.
pub fn accept(
    ws: &Workspace,
    running: &RunningBinary,
    reviewed: Option<&str>,
) -> Result<Accepted, BinaryError> {
    if let Some(expected) = reviewed {
        let expected = parse_sha256(expected)?;
        if expected != running.sha256 {
            return Err(BinaryError::NotReviewed {
                expected,
                running: running.sha256.clone(),
            });
        }
    }
    write(ws, running, "reviewed", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> (tempfile::TempDir, Workspace) {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        (d, ws)
    }

    fn bin(fill: char) -> RunningBinary {
        RunningBinary {
            sha256: fill.to_string().repeat(64),
            version: "0.1.0".into(),
            commit: "c".repeat(40),
        }
    }

    fn events(ws: &Workspace) -> Vec<(String, serde_json::Value)> {
        ws.audit()
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| (format!("{} {}", e.event, e.status.as_str()), e.details))
            .collect()
    }

    #[test]
    fn the_first_binary_is_recorded_once_and_a_different_one_is_kept_out() {
        let (_d, ws) = ws();
        let a = bin('a');
        let done = record_if_unset(&ws, &a, "workspace created").unwrap();
        assert!(
            matches!(&done, Accepted::Recorded { previous: None, .. }),
            "{done:?}"
        );
        let reg = ws.registry().unwrap();
        let rec = reg.accepted_binary.as_ref().unwrap();
        assert_eq!(
            (rec.sha256.as_str(), rec.reason.as_str()),
            (a.sha256.as_str(), "workspace created")
        );
        assert_eq!(compare(Some(rec), &a), Comparison::Same(rec.clone()));

        // Recording again, or another binary, changes nothing.
        let before = std::fs::read(ws.root().join("registry.json")).unwrap();
        let n = events(&ws).len();
        assert!(matches!(
            record_if_unset(&ws, &a, "onboarding").unwrap(),
            Accepted::Unchanged(_)
        ));
        assert!(matches!(
            record_if_unset(&ws, &bin('b'), "onboarding").unwrap(),
            Accepted::Kept(_)
        ));
        assert_eq!(
            std::fs::read(ws.root().join("registry.json")).unwrap(),
            before
        );
        assert_eq!(events(&ws).len(), n);
        assert!(matches!(
            compare(Some(rec), &bin('b')),
            Comparison::Differs { .. }
        ));
        assert_eq!(compare(None, &a), Comparison::NoneRecorded);
    }

    #[test]
    fn accepting_a_reviewed_binary_is_audited_with_both_hashes() {
        let (_d, ws) = ws();
        record_if_unset(&ws, &bin('a'), "workspace created").unwrap();
        let b = bin('b');
        let done = accept(&ws, &b, Some(&"B".repeat(64))).unwrap();
        assert_eq!(
            done,
            Accepted::Recorded {
                record: ws.registry().unwrap().accepted_binary.unwrap(),
                previous: Some("a".repeat(64)),
            }
        );
        let ev = events(&ws);
        let (last_name, last) = ev.last().unwrap();
        assert_eq!(last_name, "BINARY_ACCEPTED COMPLETED");
        assert_eq!(last["sha256"], "b".repeat(64));
        assert_eq!(last["previous"], "a".repeat(64));
        let (init_name, init) = &ev[ev.len() - 2];
        assert_eq!(init_name, "BINARY_ACCEPTED INITIATED");
        assert_eq!(init["reason"], "reviewed");
        ws.audit().verify().unwrap();
    }

    #[test]
    fn a_reviewed_hash_that_is_not_the_running_one_is_refused_and_nothing_changes() {
        let (_d, ws) = ws();
        record_if_unset(&ws, &bin('a'), "workspace created").unwrap();
        let before = std::fs::read(ws.root().join("registry.json")).unwrap();
        let audit = std::fs::read(ws.root().join("audit.jsonl")).unwrap();
        let err = accept(&ws, &bin('b'), Some(&"c".repeat(64))).unwrap_err();
        assert!(matches!(err, BinaryError::NotReviewed { .. }), "{err}");
        assert!(
            err.remedy()
                .unwrap()
                .contains("not the binary the team reviewed")
        );
        let err = accept(&ws, &bin('b'), Some("abc")).unwrap_err();
        assert!(matches!(err, BinaryError::BadHash(_)), "{err}");
        assert_eq!(
            std::fs::read(ws.root().join("registry.json")).unwrap(),
            before
        );
        assert_eq!(std::fs::read(ws.root().join("audit.jsonl")).unwrap(), audit);
    }

    #[test]
    fn the_running_executable_is_hashed_from_its_bytes() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(
            running_executable_sha256().unwrap(),
            crate::fsutil::file_fingerprint(&exe).unwrap()
        );
    }
}
