//! A real full disk: the workspace on a small tmpfs, filled to the last
//! byte. The fault layer (tests/transactions.rs) covers every I/O step;
//! this shows the same on a filesystem that really is full.
//!
//! Mounting needs CAP_SYS_ADMIN (root, as in CI). Where mounting is not
//! permitted the test prints why and returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{PASS_A, Sandbox};
use custodian_core::audit::AuditLog;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs { dir })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the filesystem holding `dir` until a write fails; returns the filler.
fn fill(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0xA5u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    // The last, partial block: byte by byte down to the last one.
    while f.write_all(&[0xA5]).is_ok() {}
    let _ = f.sync_all();
    filler
}

/// Bytes available on the filesystem holding `dir` (`stat -f`).
fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("stat")
        .args(["-f", "-c", "%a %S"])
        .arg(dir)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut it = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    it.next().unwrap() * it.next().unwrap()
}

fn custodian(ws: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_custodian"));
    c.env_remove("CUSTODIAN_WORKSPACE")
        .arg("--workspace")
        .arg(ws);
    c
}

/// Every file under `dir` with its bytes, the filler left out.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == "filler") {
            continue;
        }
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_full_disk_refuses_cleanly_tears_nothing_for_good_and_recovers_when_space_returns() {
    let fs = match Tmpfs::mount("16m") {
        Ok(fs) => fs,
        Err(why) => {
            println!("skipped: mounting a tmpfs is not permitted here: {why}");
            return;
        }
    };
    let sb = Sandbox::new();
    let ws = fs.path().join("ws");
    let pass = sb.pass_file("p", &[PASS_A]);
    let new_identity = |name: &str| {
        let mut c = custodian(&ws);
        c.args(["identity", "new", "--name", name, "--out"])
            .arg(fs.path().join(format!("{name}.identity.json")))
            .arg("--passphrase-file")
            .arg(&pass);
        c.output().unwrap()
    };
    assert!(new_identity("Ana").status.success());

    // 1. The disk is full: the operation is refused before it writes
    //    anything, with the reason and the remedy.
    let filler = fill(fs.path());
    let before = files(fs.path());
    let out = new_identity("Ben");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bytes free"), "{err}");
    assert!(err.contains("free some space"), "{err}");
    assert_eq!(
        files(fs.path()),
        before,
        "a refused operation changed files"
    );

    // 2. An audit append that the full disk cuts in the middle (written
    //    straight through the library, as a crash during an append would):
    //    a torn line, not tampering, and nothing else lost.
    std::fs::remove_file(&filler).unwrap();
    let filler = fs.path().join("filler");
    {
        // Leave room for only part of one entry.
        let free = free_bytes(fs.path());
        let mut f = std::fs::File::create(&filler).unwrap();
        let keep = 120u64;
        let mut left = free.saturating_sub(keep);
        let block = vec![0x5Au8; 4096];
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            if f.write_all(&block[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
        f.sync_all().unwrap();
    }
    let log = AuditLog::new(ws.join("audit.jsonl"));
    let long = "x".repeat(64 * 1024);
    assert!(
        log.record("DISK_FULL_PROBE", serde_json::json!({ "note": long }))
            .is_err(),
        "an entry larger than the space left was written whole"
    );
    let out = custodian(&ws).args(["audit", "verify"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("security incident"),
        "a torn tail is not tampering: {text}"
    );

    // 3. Space returns: the next command repairs the tail and succeeds,
    //    and the chain verifies with the repair on record.
    std::fs::remove_file(&filler).unwrap();
    let out = new_identity("Ben");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = log.entries().unwrap();
    assert!(
        entries.iter().any(|e| e.event == "AUDIT_TAIL_REPAIRED"),
        "the torn line's repair is audited"
    );
    log.verify().unwrap();
    let out = custodian(&ws).args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success());
    // Two identities registered, the refused one never was.
    let reg = std::fs::read_to_string(ws.join("registry.json")).unwrap();
    assert!(reg.contains("\"Ana\"") && reg.contains("\"Ben\""), "{reg}");
}
