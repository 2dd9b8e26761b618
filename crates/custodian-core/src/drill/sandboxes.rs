//! Old drill sandboxes: listed with their age and size, and deleted on
//! request, audited in the real workspace.
//!
//! A directory is a sandbox only when both are true: the real workspace's
//! audit log records a drill that built it there (`DRILL_RUN` with its
//! path), and it is a workspace whose registry is marked `sandbox`. Anything
//! else — the real workspace, a directory the log does not name, a
//! workspace that is not a sandbox, a symbolic link — is refused and left
//! untouched.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::audit::{AuditError, Status};
use crate::error::Explain;
use crate::workspace::{Workspace, WorkspaceError};

/// One drill sandbox still on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxInfo {
    /// The sandbox directory.
    pub path: PathBuf,
    /// The drill that built it.
    pub drill: String,
    /// When the drill started (RFC 3339, from the audit log).
    pub started_at: String,
    /// Whole days since then.
    pub age_days: i64,
    /// Bytes in its files.
    pub size: u64,
}

/// Why a sandbox could not be listed or deleted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The directory is not a drill sandbox of this workspace.
    #[error("{} is not a drill sandbox of this workspace: {reason}", path.display())]
    NotASandbox {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The real workspace's audit log could not be read or written.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The real workspace could not be used.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The sandbox could not be removed (what was removed is gone; the
    /// rest is still there).
    #[error("could not delete the sandbox {}: {source}", path.display())]
    Remove {
        /// The sandbox.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl Explain for SandboxError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        match self {
            SandboxError::NotASandbox { .. } => Some(
                "only sandboxes made by this workspace's drills are deleted here; remove anything else by hand, after checking what it is".into(),
            ),
            SandboxError::Remove { .. } => Some(
                "check the directory's permissions and delete it again; the audit log records the failure".into(),
            ),
            SandboxError::Audit(e) => e.remedy_for(to),
            SandboxError::Workspace(e) => e.remedy_for(to),
        }
    }
}

/// The sandboxes the real workspace's drills built that are still on disk,
/// oldest first.
pub fn list(real: &Workspace) -> Result<Vec<SandboxInfo>, SandboxError> {
    let now = crate::clock::now();
    let mut out: Vec<SandboxInfo> = Vec::new();
    for e in real.audit().entries()? {
        if e.event != "DRILL_RUN" || e.status != Status::Initiated {
            continue;
        }
        let Some(path) = e.details.get("sandbox").and_then(|v| v.as_str()) else {
            continue;
        };
        let path = PathBuf::from(path);
        if out.iter().any(|s| s.path == path) || check(real, &path).is_err() {
            continue;
        }
        let age_days = crate::clock::parse(&e.time)
            .map(|t| (now - t).whole_days())
            .unwrap_or(0);
        out.push(SandboxInfo {
            size: dir_size(&path),
            drill: e
                .details
                .get("drill")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            started_at: e.time.clone(),
            age_days,
            path,
        });
    }
    Ok(out)
}

/// Deletes the sandbox at `path`, after checking it is one (see the module
/// docs). Audited in `real` as `DRILL_SANDBOX_DELETE` (initiated, then
/// completed or failed); a refused directory is left as it was and
/// nothing is written.
pub fn delete(real: &Workspace, path: &Path) -> Result<SandboxInfo, SandboxError> {
    let Some(info) = list(real)?.into_iter().find(|s| s.path == path) else {
        // Say exactly why.
        check(real, path)?;
        return Err(SandboxError::NotASandbox {
            path: path.to_path_buf(),
            reason: "no drill in this workspace's audit log built it".into(),
        });
    };
    let op = real.audit().begin(
        "DRILL_SANDBOX_DELETE",
        json!({ "drill": info.drill, "sandbox": info.path, "size": info.size }),
    )?;
    match std::fs::remove_dir_all(&info.path) {
        Ok(()) => {
            op.complete(json!({ "drill": info.drill, "sandbox": info.path }))?;
            Ok(info)
        }
        Err(source) => {
            let err = SandboxError::Remove {
                path: info.path.clone(),
                source,
            };
            op.fail(&err.to_string())?;
            Err(err)
        }
    }
}

/// Why `path` is not a sandbox `real` may delete, if it is not.
fn check(real: &Workspace, path: &Path) -> Result<(), SandboxError> {
    let refuse = |reason: &str| SandboxError::NotASandbox {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let meta = std::fs::symlink_metadata(path).map_err(|_| refuse("it does not exist"))?;
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refuse("it is not a directory"));
    }
    let canon = path
        .canonicalize()
        .map_err(|_| refuse("it cannot be resolved"))?;
    let real_root = real
        .root()
        .canonicalize()
        .map_err(|_| refuse("the workspace cannot be resolved"))?;
    if real_root.starts_with(&canon) {
        return Err(refuse("it is (or holds) the workspace itself"));
    }
    if !path.join(crate::workspace::REGISTRY_FILE).is_file() {
        return Err(refuse("it is not a workspace"));
    }
    let ws = Workspace::open_existing(path).map_err(|_| refuse("it is not a workspace"))?;
    match ws.registry() {
        Ok(reg) if reg.sandbox => Ok(()),
        Ok(_) => Err(refuse("its registry is not marked as a drill sandbox")),
        Err(_) => Err(refuse("its registry cannot be read")),
    }
}

/// The bytes in the files under `dir` (symbolic links not followed).
fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let Ok(m) = entry.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(entry.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

/// A size for people: "512 B", "3.4 KB", "12.0 MB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_with_sandbox(tmp: &Path) -> (Workspace, PathBuf) {
        let real = Workspace::open(tmp.join("ws")).unwrap();
        let sandbox = tmp.join("ws-drill-1");
        let sb = Workspace::open(&sandbox).unwrap();
        sb.update_registry(|r| {
            r.sandbox = true;
            Ok::<_, WorkspaceError>(())
        })
        .unwrap();
        std::fs::write(sandbox.join("material.bin"), vec![0u8; 2048]).unwrap();
        let op = real
            .audit()
            .begin(
                "DRILL_RUN",
                json!({ "drill": "DRILL-1", "sandbox": sandbox, "participants": ["A", "B"] }),
            )
            .unwrap();
        op.complete(json!({})).unwrap();
        (real, sandbox)
    }

    #[test]
    fn a_recorded_sandbox_is_listed_with_its_size_and_deleted_with_an_audit_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let (real, sandbox) = real_with_sandbox(tmp.path());
        let listed = list(&real).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].path, sandbox);
        assert_eq!(listed[0].drill, "DRILL-1");
        assert!(listed[0].size >= 2048, "{}", listed[0].size);
        assert_eq!(listed[0].age_days, 0);
        let deleted = delete(&real, &sandbox).unwrap();
        assert_eq!(deleted.path, sandbox);
        assert!(!sandbox.exists());
        let entries = real.audit().entries().unwrap();
        let ours: Vec<_> = entries
            .iter()
            .filter(|e| e.event == "DRILL_SANDBOX_DELETE")
            .collect();
        assert_eq!(ours.len(), 2, "initiated and completed");
        assert_eq!(ours[1].status, Status::Completed);
        assert!(list(&real).unwrap().is_empty());
        real.audit().verify().unwrap();
    }

    #[test]
    fn anything_that_is_not_a_recorded_sandbox_is_refused_and_left_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let (real, sandbox) = real_with_sandbox(tmp.path());
        // A plain directory with files, never built by a drill.
        let plain = tmp.path().join("documents");
        std::fs::create_dir(&plain).unwrap();
        std::fs::write(plain.join("keep.txt"), b"keep").unwrap();
        // A sandbox-marked workspace the log does not name.
        let stray = tmp.path().join("stray");
        Workspace::open(&stray)
            .unwrap()
            .update_registry(|r| {
                r.sandbox = true;
                Ok::<_, WorkspaceError>(())
            })
            .unwrap();
        // A symbolic link to the recorded sandbox.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&sandbox, &link).unwrap();
        let before = real.audit().entries().unwrap().len();
        for (path, why) in [
            (plain.clone(), "not a workspace"),
            (stray.clone(), "no drill"),
            (real.root().to_path_buf(), "the workspace itself"),
            (tmp.path().to_path_buf(), "holds) the workspace"),
            (link.clone(), "symbolic link"),
            (tmp.path().join("missing"), "does not exist"),
        ] {
            let err = delete(&real, &path).unwrap_err();
            assert!(
                matches!(err, SandboxError::NotASandbox { .. }),
                "{}: {err}",
                path.display()
            );
            assert!(err.to_string().contains(why), "{}: {err}", path.display());
            assert!(err.remedy().is_some());
        }
        assert_eq!(std::fs::read(plain.join("keep.txt")).unwrap(), b"keep");
        assert!(stray.exists());
        assert!(sandbox.join("material.bin").exists());
        assert!(real.root().exists());
        assert_eq!(
            real.audit().entries().unwrap().len(),
            before,
            "nothing audited"
        );
    }

    #[test]
    fn sizes_read_for_people() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3_400), "3.4 KB");
        assert_eq!(human_size(12_000_000), "12.0 MB");
    }
}
