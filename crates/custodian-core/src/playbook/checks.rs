//! Threat checks the console can make on its own, offline, from the
//! workspace and the machine it runs on. Each returns a [`CheckResult`]:
//! passed, failed with findings (file paths, custodian names — never a
//! secret), or "could not tell" when there is nothing to check yet.
//!
//! Key files are found by scanning the workspace (a few levels deep) and the
//! directories the registry names for identity files, and classified by
//! content, not by name: an identity file has the `custodian-identity`
//! format, a shard file has a `wrappedKeyShare`, a guardian share names a
//! guardian format, a PEM holds a private key, an age key file holds an
//! `AGE-SECRET-KEY-1` line.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::binary::{Comparison, RunningBinary};
use crate::netcheck::LiveInterface;
use crate::workspace::{Registry, Workspace};

/// Days after which the last drill counts as overdue (a quarter).
pub const DRILL_DAYS: i64 = 92;
/// Largest file the scanner opens to classify.
const MAX_SCAN_FILE: u64 = 1 << 20;
/// How deep the scanner descends under the workspace.
const MAX_DEPTH: usize = 4;

/// A local check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// An identity file and a shard file in the same directory.
    SameDirectory,
    /// A key file readable by other users.
    WorldReadable,
    /// An identity or share sealed with fewer than 600,000 iterations.
    PassphrasePolicy,
    /// A custodian past their rotation date.
    RotationOverdue,
    /// A custodian whose key is not split among guardians.
    GuardiansNotSplit,
    /// A network interface is up.
    NetworkUp,
    /// The last drill is more than a quarter old.
    DrillOverdue,
    /// The audit log's hash chain does not verify.
    AuditChain,
    /// Temporary files (which may hold secrets) left by an interrupted operation.
    LeftoverTempFiles,
    /// The running custodian binary is not the one the workspace accepted.
    RunningBinary,
    /// A guardian not seen at a roll call for more than a quarter.
    GuardianRollCall,
    /// A guardian set that cannot reach its threshold from guardians seen this quarter.
    GuardianQuorum,
    /// Copies of rotated or retired key files not confirmed destroyed.
    RetiredCopies,
    /// Plaintext outputs older than a day not destroyed.
    PlaintextOutputs,
    /// No encrypted backup newer than the last sensitive operation.
    BackupOverdue,
    /// A custodian whose identity opens with a passphrase alone (threat 3).
    TokenSecondFactor,
}

impl CheckId {
    /// Every check, in display order.
    pub const ALL: [CheckId; 16] = [
        CheckId::SameDirectory,
        CheckId::WorldReadable,
        CheckId::PassphrasePolicy,
        CheckId::RotationOverdue,
        CheckId::GuardiansNotSplit,
        CheckId::NetworkUp,
        CheckId::DrillOverdue,
        CheckId::AuditChain,
        CheckId::LeftoverTempFiles,
        CheckId::RunningBinary,
        CheckId::GuardianRollCall,
        CheckId::GuardianQuorum,
        CheckId::RetiredCopies,
        CheckId::PlaintextOutputs,
        CheckId::BackupOverdue,
        CheckId::TokenSecondFactor,
    ];

    /// The id as `custodian check --json` and the playbook data write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::SameDirectory => "same-directory",
            CheckId::WorldReadable => "world-readable",
            CheckId::PassphrasePolicy => "passphrase-policy",
            CheckId::RotationOverdue => "rotation-overdue",
            CheckId::GuardiansNotSplit => "guardians-not-split",
            CheckId::NetworkUp => "network-up",
            CheckId::DrillOverdue => "drill-overdue",
            CheckId::AuditChain => "audit-chain",
            CheckId::LeftoverTempFiles => "leftover-temp-files",
            CheckId::RunningBinary => "running-binary",
            CheckId::GuardianRollCall => "guardian-roll-call",
            CheckId::GuardianQuorum => "guardian-quorum",
            CheckId::RetiredCopies => "retired-copies",
            CheckId::PlaintextOutputs => "plaintext-outputs",
            CheckId::BackupOverdue => "backup-overdue",
            CheckId::TokenSecondFactor => "token-second-factor",
        }
    }

    /// What the check verifies, as a custodian reads it.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::SameDirectory => "Identity and shard files kept apart",
            CheckId::WorldReadable => "Key files private to their owner",
            CheckId::PassphrasePolicy => "Sealed with at least 600,000 PBKDF2 iterations",
            CheckId::RotationOverdue => "Every custodian rotated within 90 days",
            CheckId::GuardiansNotSplit => "Every custodian key split among guardians",
            CheckId::NetworkUp => "No network interface up (air gap)",
            CheckId::DrillOverdue => "A recovery drill within the last quarter",
            CheckId::AuditChain => "Audit log hash chain intact",
            CheckId::LeftoverTempFiles => "No temporary files left by an interrupted operation",
            CheckId::RunningBinary => "Running binary is the one the workspace accepted",
            CheckId::GuardianRollCall => "Every guardian proved their share this quarter",
            CheckId::GuardianQuorum => "Every guardian set can reach its threshold this quarter",
            CheckId::RetiredCopies => "Copies of retired key files destroyed",
            CheckId::PlaintextOutputs => "Plaintext secret outputs destroyed within a day",
            CheckId::BackupOverdue => "An encrypted backup newer than the last sensitive operation",
            CheckId::TokenSecondFactor => "Every custodian identity also needs a hardware token",
        }
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Nothing wrong found.
    Pass,
    /// Something to fix; see the findings.
    Fail,
    /// Nothing to check yet, or the check could not run.
    Unknown,
}

impl CheckStatus {
    /// `pass`, `fail` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Unknown => "unknown",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Which check.
    pub id: CheckId,
    /// Its outcome.
    pub status: CheckStatus,
    /// What was found (one line each), or why it passed.
    pub findings: Vec<String>,
}

impl CheckResult {
    fn pass(id: CheckId, why: impl Into<String>) -> Self {
        CheckResult {
            id,
            status: CheckStatus::Pass,
            findings: vec![why.into()],
        }
    }
    fn unknown(id: CheckId, why: impl Into<String>) -> Self {
        CheckResult {
            id,
            status: CheckStatus::Unknown,
            findings: vec![why.into()],
        }
    }
    fn fail_or_pass(id: CheckId, findings: Vec<String>, why_ok: &str) -> Self {
        if findings.is_empty() {
            Self::pass(id, why_ok)
        } else {
            CheckResult {
                id,
                status: CheckStatus::Fail,
                findings,
            }
        }
    }
}

/// What a key file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileKind {
    /// A sealed custodian identity.
    Identity,
    /// A shard file (wrapped MPC key share).
    Shard,
    /// A guardian share of a custodian key.
    GuardianShare,
    /// A PEM private key (e.g. the DR kit recovery key).
    PemPrivateKey,
    /// A plain age key file.
    PlainAgeKey,
}

/// A key file found by the scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub kind: KeyFileKind,
    /// Permission bits.
    pub mode: u32,
    /// PBKDF2 iterations declared by its envelope, if it has one.
    pub iterations: Option<u64>,
}

fn classify(path: &Path) -> Option<(KeyFileKind, Option<u64>)> {
    let bytes = crate::fsutil::read_limited(path, MAX_SCAN_FILE).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let iterations = v
            .pointer("/envelope/header/kdf/iterations")
            .or_else(|| v.pointer("/header/kdf/iterations"))
            .and_then(Value::as_u64);
        let format = v.get("format").and_then(Value::as_str).unwrap_or("");
        if format == crate::identity::FORMAT {
            return Some((KeyFileKind::Identity, iterations));
        }
        if v.get("wrappedKeyShare").is_some() {
            return Some((KeyFileKind::Shard, iterations));
        }
        if format.contains("guardian") {
            return Some((KeyFileKind::GuardianShare, iterations));
        }
        return None;
    }
    if text.contains("PRIVATE KEY-----") {
        return Some((KeyFileKind::PemPrivateKey, None));
    }
    if text
        .lines()
        .any(|l| l.trim().starts_with("AGE-SECRET-KEY-1"))
    {
        return Some((KeyFileKind::PlainAgeKey, None));
    }
    None
}

fn scan_dir(dir: &Path, depth: usize, seen: &mut BTreeSet<PathBuf>, out: &mut Vec<KeyFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            // Incident records and reports name files but hold no keys.
            if depth > 0 && entry.file_name() != super::incident::DIR {
                scan_dir(&path, depth - 1, seen, out);
            }
            continue;
        }
        if !meta.is_file() || !seen.insert(path.clone()) {
            continue;
        }
        if let Some((kind, iterations)) = classify(&path) {
            out.push(KeyFile {
                path,
                kind,
                mode: meta.permissions().mode() & 0o777,
                iterations,
            });
        }
    }
}

/// Finds key files in the workspace and in the directories the registry
/// names for identity files.
pub fn scan_key_files(ws: &Workspace, reg: &Registry) -> Vec<KeyFile> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    scan_dir(ws.root(), MAX_DEPTH, &mut seen, &mut out);
    let extra: BTreeSet<PathBuf> = reg
        .custodians
        .iter()
        .filter_map(|c| c.identity_file.as_ref()?.parent().map(Path::to_path_buf))
        .collect();
    for dir in extra {
        scan_dir(&dir, 0, &mut seen, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn check_same_directory(files: &[KeyFile]) -> CheckResult {
    let dirs = |kind| -> BTreeSet<&Path> {
        files
            .iter()
            .filter(|f| f.kind == kind)
            .filter_map(|f| f.path.parent())
            .collect()
    };
    let identities = dirs(KeyFileKind::Identity);
    let shards = dirs(KeyFileKind::Shard);
    let findings = identities
        .intersection(&shards)
        .map(|d| format!("{} holds both identity and shard files", d.display()))
        .collect();
    CheckResult::fail_or_pass(
        CheckId::SameDirectory,
        findings,
        "no directory holds both an identity and a shard",
    )
}

fn check_world_readable(files: &[KeyFile]) -> CheckResult {
    let findings = files
        .iter()
        .filter(|f| f.mode & 0o077 != 0)
        .map(|f| format!("{} has mode {:o}; run chmod 600", f.path.display(), f.mode))
        .collect();
    CheckResult::fail_or_pass(
        CheckId::WorldReadable,
        findings,
        "every key file is readable by its owner only",
    )
}

fn check_passphrase_policy(files: &[KeyFile]) -> CheckResult {
    let sealed: Vec<&KeyFile> = files.iter().filter(|f| f.iterations.is_some()).collect();
    if sealed.is_empty() {
        return CheckResult::unknown(CheckId::PassphrasePolicy, "no sealed key file found yet");
    }
    let min = u64::from(crate::envelope::MIN_ITERATIONS);
    let findings = sealed
        .iter()
        .filter(|f| f.iterations.unwrap_or(0) < min)
        .map(|f| {
            format!(
                "{} is sealed with {} iterations",
                f.path.display(),
                f.iterations.unwrap_or(0)
            )
        })
        .collect();
    CheckResult::fail_or_pass(
        CheckId::PassphrasePolicy,
        findings,
        &format!(
            "{}, all at 600,000 or more",
            crate::text::count(sealed.len() as u64, "sealed file", "sealed files")
        ),
    )
}

fn check_rotation(reg: &Registry, now: OffsetDateTime) -> CheckResult {
    if reg.custodians.is_empty() {
        return CheckResult::unknown(CheckId::RotationOverdue, "no custodians registered");
    }
    let findings = reg
        .custodians
        .iter()
        .filter_map(|c| match crate::clock::parse(&c.rotation_due) {
            Some(due) if due >= now => None,
            Some(_) => Some(format!("{} was due on {}", c.name, c.rotation_due)),
            None => Some(format!("{} has no readable rotation date", c.name)),
        })
        .collect();
    CheckResult::fail_or_pass(
        CheckId::RotationOverdue,
        findings,
        "no custodian is past their rotation date",
    )
}

fn check_guardians(reg: &Registry) -> CheckResult {
    if reg.custodians.is_empty() {
        return CheckResult::unknown(CheckId::GuardiansNotSplit, "no custodians registered");
    }
    // The guardians module owns the section and says who has a split.
    let findings = reg
        .custodians
        .iter()
        .filter(|c| {
            !reg.guardian_splits
                .has_split_for(&c.name, &c.recipient, None)
        })
        .map(|c| format!("{} has no guardian split on record", c.name))
        .collect();
    CheckResult::fail_or_pass(
        CheckId::GuardiansNotSplit,
        findings,
        "every custodian has a guardian split on record",
    )
}

fn check_network(net: &Result<Vec<LiveInterface>, String>) -> CheckResult {
    match net {
        Ok(list) if list.is_empty() => CheckResult::pass(CheckId::NetworkUp, "no interface is up"),
        Ok(list) => CheckResult {
            id: CheckId::NetworkUp,
            status: CheckStatus::Fail,
            findings: list
                .iter()
                .map(|i| format!("{} is up ({})", i.name, i.address))
                .collect(),
        },
        Err(e) => CheckResult::unknown(
            CheckId::NetworkUp,
            format!("could not list interfaces: {e}"),
        ),
    }
}

/// The date of the most recent drill in the registry, if any.
pub fn last_drill(reg: &Registry) -> Option<OffsetDateTime> {
    reg.drills
        .iter()
        .filter_map(crate::drill::run::DrillRecord::ended)
        .max()
}

fn check_drill(reg: &Registry, now: OffsetDateTime) -> CheckResult {
    match last_drill(reg) {
        None => CheckResult {
            id: CheckId::DrillOverdue,
            status: CheckStatus::Fail,
            findings: vec!["no drill has been recorded".into()],
        },
        Some(d) if now - d > time::Duration::days(DRILL_DAYS) => CheckResult {
            id: CheckId::DrillOverdue,
            status: CheckStatus::Fail,
            findings: vec![format!(
                "the last drill was on {}, more than a quarter ago",
                crate::clock::format(d)
            )],
        },
        Some(d) => CheckResult::pass(
            CheckId::DrillOverdue,
            format!("last drill on {}", crate::clock::format(d)),
        ),
    }
}

/// The audit chain check, shared with the checklist item "audit chain
/// intact". A torn final line awaiting repair is not tampering: the chain
/// before it still passes, and the finding says a repair is pending.
pub fn check_audit_chain(ws: &Workspace) -> CheckResult {
    let log = ws.audit();
    match log.verify() {
        Ok(s) if s.entries == 0 => {
            CheckResult::unknown(CheckId::AuditChain, "the audit log is empty")
        }
        Ok(s) => {
            let mut findings = vec![format!(
                "{}, chain intact",
                crate::text::count(s.entries, "entry", "entries")
            )];
            if !s.repairs.is_empty() {
                findings.push(format!(
                    "{} after a crash or full disk (not tampering)",
                    crate::text::count(
                        s.repairs.len() as u64,
                        "torn line repaired",
                        "torn lines repaired"
                    )
                ));
            }
            if let Some(t) = s.pending_repair {
                findings.push(format!(
                    "a torn final line of {} awaits repair by the next writing command",
                    crate::text::count(t.bytes, "byte", "bytes")
                ));
            }
            CheckResult {
                id: CheckId::AuditChain,
                status: CheckStatus::Pass,
                findings,
            }
        }
        Err(e) => CheckResult {
            id: CheckId::AuditChain,
            status: CheckStatus::Fail,
            findings: vec![e.to_string()],
        },
    }
}

/// The name every temporary file written through [`crate::fsutil`] starts with.
pub const TEMP_PREFIX: &str = ".custodian-tmp-";

fn scan_temp_files(dir: &Path, depth: usize, out: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            out.insert(path);
            continue;
        }
        if depth > 0 && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            scan_temp_files(&path, depth - 1, out);
        }
    }
}

/// Temporary files under the workspace and in the directories the registry
/// names for outputs (identity, shard and guardian share files).
pub fn leftover_temp_files(ws: &Workspace, reg: &Registry) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    scan_temp_files(ws.root(), MAX_DEPTH, &mut out);
    let dirs: BTreeSet<PathBuf> = reg
        .custodians
        .iter()
        .filter_map(|c| c.identity_file.clone())
        .chain(reg.shards.iter().map(|s| s.file.clone()))
        .chain(
            reg.guardian_splits
                .splits
                .iter()
                .flat_map(|s| s.files.clone()),
        )
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    for dir in dirs {
        scan_temp_files(&dir, 0, &mut out);
    }
    out.into_iter().collect()
}

fn check_temp_files(ws: &Workspace, reg: &Registry) -> CheckResult {
    let findings = leftover_temp_files(ws, reg)
        .into_iter()
        .map(|p| {
            format!(
                "{} was left by an interrupted operation and may hold a secret; destroy it (shred -u)",
                p.display()
            )
        })
        .collect();
    CheckResult::fail_or_pass(
        CheckId::LeftoverTempFiles,
        findings,
        "no temporary file found",
    )
}

/// The running binary against the one the workspace accepted (threat 6):
/// the same comparison for `custodian check` and the threat 6 screen.
pub fn check_running_binary(
    reg: &Registry,
    running: &Result<RunningBinary, String>,
) -> CheckResult {
    let id = CheckId::RunningBinary;
    let running = match running {
        Ok(r) => r,
        Err(e) => {
            return CheckResult::unknown(id, format!("could not hash the running binary: {e}"));
        }
    };
    let short = |sha: &str| sha.chars().take(16).collect::<String>();
    match crate::binary::compare(reg.accepted_binary.as_ref(), running) {
        Comparison::NoneRecorded => CheckResult::unknown(
            id,
            "no accepted binary recorded; after comparing this binary's hash (custodian \
             --version --verbose) with the team's reviewed hash, run `custodian check \
             --accept-binary`",
        ),
        Comparison::Same(a) => CheckResult::pass(
            id,
            format!(
                "sha256 {}… accepted on {} ({})",
                short(&a.sha256),
                a.accepted_at.get(..10).unwrap_or(&a.accepted_at),
                a.reason
            ),
        ),
        Comparison::Differs { accepted, running } => CheckResult {
            id,
            status: CheckStatus::Fail,
            findings: vec![
                format!("running:  {}", running.sha256),
                format!("accepted: {}", accepted.sha256),
                format!(
                    "running {} (commit {}); accepted {} (commit {}) on {}",
                    running.version,
                    short(&running.commit),
                    accepted.version,
                    short(&accepted.commit),
                    accepted
                        .accepted_at
                        .get(..10)
                        .unwrap_or(&accepted.accepted_at),
                ),
                crate::binary::REMEDY.to_string(),
            ],
        },
    }
}

fn check_roll_call(reg: &Registry, now: OffsetDateTime) -> (CheckResult, CheckResult) {
    let f = crate::guardians::roll_call::findings(reg, now);
    if f.sets == 0 {
        let why = "no current guardian set of an active custodian";
        return (
            CheckResult::unknown(CheckId::GuardianRollCall, why),
            CheckResult::unknown(CheckId::GuardianQuorum, why),
        );
    }
    (
        CheckResult::fail_or_pass(
            CheckId::GuardianRollCall,
            f.not_seen,
            "every guardian proved their share at a roll call this quarter",
        ),
        CheckResult::fail_or_pass(
            CheckId::GuardianQuorum,
            f.below_threshold,
            "every set has at least its threshold of guardians seen this quarter",
        ),
    )
}

fn check_retired_copies(reg: &Registry) -> CheckResult {
    let findings = crate::lifecycle::copies_to_destroy(reg)
        .into_iter()
        .map(|(name, p)| {
            format!(
                "{} (a retired file of {name}) could not be moved: destroy it, then run `custodian custodians confirm-destroyed {} --operator NAME`",
                p.display(),
                p.display()
            )
        })
        .collect();
    CheckResult::fail_or_pass(
        CheckId::RetiredCopies,
        findings,
        "no copy of a retired key file is waiting to be destroyed",
    )
}

fn check_plaintext_outputs(reg: &Registry, now: OffsetDateTime) -> CheckResult {
    let findings = crate::outputs::stale(reg, now)
        .into_iter()
        .map(|o| {
            format!(
                "{} ({}, written {}) is not destroyed: run `custodian outputs destroy {}`",
                o.path.display(),
                o.kind.label(),
                o.created_at,
                o.path.display()
            )
        })
        .collect();
    CheckResult::fail_or_pass(
        CheckId::PlaintextOutputs,
        findings,
        "no plaintext output older than a day is waiting to be destroyed",
    )
}

fn check_backup(ws: &Workspace, reg: &Registry) -> CheckResult {
    match crate::backup::uncovered(ws, reg) {
        Ok(None) => CheckResult::pass(
            CheckId::BackupOverdue,
            "the newest encrypted backup is newer than the last sensitive operation",
        ),
        Ok(Some(f)) => CheckResult {
            id: CheckId::BackupOverdue,
            status: CheckStatus::Fail,
            findings: vec![f],
        },
        Err(e) => CheckResult::unknown(
            CheckId::BackupOverdue,
            format!("could not read the audit log: {e}"),
        ),
    }
}

/// Threat 3: custodians whose identity opens with a passphrase alone. A
/// failure when the workspace's policy requires a token; reported, but
/// passing, when it only advises one.
fn check_tokens(reg: &Registry) -> CheckResult {
    let id = CheckId::TokenSecondFactor;
    if reg.custodians.is_empty() {
        return CheckResult::unknown(id, "no custodians registered");
    }
    let without: Vec<&str> = reg
        .custodians
        .iter()
        .filter(|c| c.token.is_none())
        .map(|c| c.name.as_str())
        .collect();
    if without.is_empty() {
        return CheckResult::pass(
            id,
            format!(
                "all {} custodians need a hardware token",
                reg.custodians.len()
            ),
        );
    }
    let policy = reg.token_policy;
    let findings = without
        .iter()
        .map(|name| {
            format!(
                "{name}: the identity opens with a passphrase alone (policy: token {}); rebuild it from guardians with `custodian guardians combine --token-recipient age1…` to add one",
                policy.as_str()
            )
        })
        .collect();
    match policy {
        crate::token::TokenPolicy::Required => CheckResult {
            id,
            status: CheckStatus::Fail,
            findings,
        },
        crate::token::TokenPolicy::Advised => CheckResult {
            id,
            status: CheckStatus::Pass,
            findings,
        },
    }
}

/// Runs every local check: what the threat screens, the checklist and
/// `custodian check` show. `binary` is the running executable (or why it
/// could not be hashed).
pub fn run_all(
    ws: &Workspace,
    reg: &Registry,
    now: OffsetDateTime,
    net: &Result<Vec<LiveInterface>, String>,
    binary: &Result<RunningBinary, String>,
) -> Vec<CheckResult> {
    let files = scan_key_files(ws, reg);
    let (roll_call, quorum) = check_roll_call(reg, now);
    CheckId::ALL
        .iter()
        .map(|id| match id {
            CheckId::SameDirectory => check_same_directory(&files),
            CheckId::WorldReadable => check_world_readable(&files),
            CheckId::PassphrasePolicy => check_passphrase_policy(&files),
            CheckId::RotationOverdue => check_rotation(reg, now),
            CheckId::GuardiansNotSplit => check_guardians(reg),
            CheckId::NetworkUp => check_network(net),
            CheckId::DrillOverdue => check_drill(reg, now),
            CheckId::AuditChain => check_audit_chain(ws),
            CheckId::LeftoverTempFiles => check_temp_files(ws, reg),
            CheckId::RunningBinary => check_running_binary(reg, binary),
            CheckId::GuardianRollCall => roll_call.clone(),
            CheckId::GuardianQuorum => quorum.clone(),
            CheckId::RetiredCopies => check_retired_copies(reg),
            CheckId::PlaintextOutputs => check_plaintext_outputs(reg, now),
            CheckId::BackupOverdue => check_backup(ws, reg),
            CheckId::TokenSecondFactor => check_tokens(reg),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::workspace::CustodianRecord;
    use serde_json::json;

    fn ws() -> (tempfile::TempDir, Workspace) {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        (d, ws)
    }

    fn run(ws: &Workspace, id: CheckId) -> CheckResult {
        run_with(ws, id, crate::clock::now())
    }

    fn run_with(ws: &Workspace, id: CheckId, now: OffsetDateTime) -> CheckResult {
        let reg = ws.registry().unwrap();
        run_all(ws, &reg, now, &Ok(vec![]), &Ok(running('a')))
            .into_iter()
            .find(|r| r.id == id)
            .unwrap()
    }

    fn running(fill: char) -> RunningBinary {
        RunningBinary {
            sha256: fill.to_string().repeat(64),
            version: "0.1.0".into(),
            commit: "c".repeat(40),
        }
    }

    #[test]
    fn a_binary_other_than_the_accepted_one_is_flagged_with_the_remedy() {
        let (_d, ws) = ws();
        let reg = ws.registry().unwrap();
        assert_eq!(
            check_running_binary(&reg, &Ok(running('a'))).status,
            CheckStatus::Unknown
        );
        let r = check_running_binary(&reg, &Err("denied".into()));
        assert_eq!(r.status, CheckStatus::Unknown);
        assert!(r.findings[0].contains("denied"));

        crate::binary::record_if_unset(&ws, &running('a'), "workspace created").unwrap();
        let reg = ws.registry().unwrap();
        let r = check_running_binary(&reg, &Ok(running('a')));
        assert_eq!(r.status, CheckStatus::Pass, "{r:?}");
        assert!(r.findings[0].contains("aaaaaaaaaaaaaaaa"), "{r:?}");

        let r = check_running_binary(&reg, &Ok(running('b')));
        assert_eq!(r.status, CheckStatus::Fail);
        assert_eq!(r.findings[0], format!("running:  {}", "b".repeat(64)));
        assert_eq!(r.findings[1], format!("accepted: {}", "a".repeat(64)));
        assert!(r.findings[3].contains("team's reviewed hash"), "{r:?}");
        assert!(r.findings[3].contains("--accept-binary"), "{r:?}");
        // run_all shows the same result.
        let all = run_all(
            &ws,
            &reg,
            crate::clock::now(),
            &Ok(vec![]),
            &Ok(running('b')),
        );
        assert_eq!(
            all.iter().find(|c| c.id == CheckId::RunningBinary),
            Some(&r)
        );
    }

    fn write(path: &Path, text: &str, mode: u32) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn identity_json(iterations: u32) -> String {
        json!({"format": crate::identity::FORMAT, "version": 1, "name": "a",
               "envelope": {"header": {"kdf": {"iterations": iterations}}}})
        .to_string()
    }

    const SHARD: &str = r#"{"keyId":"k1","wrappedKeyShare":"-----BEGIN AGE ENCRYPTED FILE-----"}"#;

    fn custodian(name: &str, recipient: &str, due: &str) -> CustodianRecord {
        CustodianRecord {
            name: name.into(),
            recipient: recipient.into(),
            fingerprint: "fp".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            rotation_due: due.into(),
            identity_file: None,
            token: None,
        }
    }

    #[test]
    fn custodians_without_a_token_are_reported_or_failed_by_policy() {
        let (_d, ws) = ws();
        assert_eq!(
            run(&ws, CheckId::TokenSecondFactor).status,
            CheckStatus::Unknown
        );
        let mut ana = custodian("Ana", "age1ana", "2099-01-01T00:00:00Z");
        ana.token = Some("age1yubikey1qexample".into());
        ws.add_custodian(ana).unwrap();
        let r = run(&ws, CheckId::TokenSecondFactor);
        assert_eq!(r.status, CheckStatus::Pass, "{r:?}");
        assert!(r.findings[0].contains("all 1 custodians"), "{r:?}");
        ws.add_custodian(custodian("Bo", "age1bo", "2099-01-01T00:00:00Z"))
            .unwrap();
        let r = run(&ws, CheckId::TokenSecondFactor);
        assert_eq!(r.status, CheckStatus::Pass, "{r:?}");
        assert_eq!(r.findings.len(), 1, "{r:?}");
        assert!(r.findings[0].starts_with("Bo: "), "{r:?}");
        crate::token::set_policy(&ws, crate::token::TokenPolicy::Required).unwrap();
        let r = run(&ws, CheckId::TokenSecondFactor);
        assert_eq!(r.status, CheckStatus::Fail, "{r:?}");
        assert!(r.findings[0].contains("policy: token required"), "{r:?}");
        // The policy survives a registry round trip; the default is not written.
        let text = std::fs::read_to_string(ws.root().join("registry.json")).unwrap();
        assert!(text.contains("\"tokenPolicy\": \"required\""), "{text}");
    }

    pub(crate) fn split_record(
        name: &str,
        recipient: &str,
        threshold: u8,
        total: u8,
    ) -> crate::guardians::SplitRecord {
        crate::guardians::SplitRecord {
            set_id: format!("set-{name}"),
            custodian: name.into(),
            recipient: recipient.into(),
            threshold,
            total,
            guardians: (1..=total).map(|i| format!("G{i}")).collect(),
            files: Vec::new(),
            file_sha256: Vec::new(),
            created_at: "2026-01-01T00:00:00Z".into(),
            commitments: Vec::new(),
            superseded: None,
            roll_call: Default::default(),
        }
    }

    pub(crate) fn drill(date: &str) -> crate::drill::run::DrillRecord {
        crate::drill::run::DrillRecord {
            date: date.into(),
            ..Default::default()
        }
    }

    fn add(ws: &Workspace, c: CustodianRecord) {
        ws.add_custodian(c).unwrap();
    }

    #[test]
    fn identity_and_shard_side_by_side_is_flagged() {
        let (_d, ws) = ws();
        write(
            &ws.root().join("keys/a.identity.json"),
            &identity_json(600_000),
            0o600,
        );
        write(&ws.root().join("shards/a.shard.json"), SHARD, 0o600);
        assert_eq!(run(&ws, CheckId::SameDirectory).status, CheckStatus::Pass);

        write(&ws.root().join("keys/a.shard.json"), SHARD, 0o600);
        let r = run(&ws, CheckId::SameDirectory);
        assert_eq!(r.status, CheckStatus::Fail);
        assert!(r.findings[0].contains("keys"), "{:?}", r.findings);
    }

    #[test]
    fn a_key_file_other_users_can_read_is_flagged() {
        let (_d, ws) = ws();
        write(
            &ws.root().join("identities/a.identity.json"),
            &identity_json(600_000),
            0o600,
        );
        write(&ws.root().join("notes.txt"), "not a key", 0o644);
        assert_eq!(run(&ws, CheckId::WorldReadable).status, CheckStatus::Pass);

        write(
            &ws.root().join("kit/recovery.pem"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
            0o644,
        );
        let r = run(&ws, CheckId::WorldReadable);
        assert_eq!(r.status, CheckStatus::Fail);
        assert!(r.findings[0].contains("recovery.pem") && r.findings[0].contains("644"));
    }

    #[test]
    fn weakly_sealed_identities_break_the_passphrase_policy() {
        let (_d, ws) = ws();
        assert_eq!(
            run(&ws, CheckId::PassphrasePolicy).status,
            CheckStatus::Unknown
        );
        write(
            &ws.root().join("identities/a.identity.json"),
            &identity_json(600_000),
            0o600,
        );
        assert_eq!(
            run(&ws, CheckId::PassphrasePolicy).status,
            CheckStatus::Pass
        );
        write(
            &ws.root().join("identities/b.identity.json"),
            &identity_json(100_000),
            0o600,
        );
        let r = run(&ws, CheckId::PassphrasePolicy);
        assert_eq!(r.status, CheckStatus::Fail);
        assert!(r.findings[0].contains("b.identity.json") && r.findings[0].contains("100000"));
    }

    #[test]
    fn a_custodian_past_the_rotation_date_is_flagged() {
        let (_d, ws) = ws();
        add(&ws, custodian("Ana", "age1ana", "2026-06-01T00:00:00Z"));
        let before = crate::clock::parse("2026-05-01T00:00:00Z").unwrap();
        let after = crate::clock::parse("2026-06-02T00:00:00Z").unwrap();
        assert_eq!(
            run_with(&ws, CheckId::RotationOverdue, before).status,
            CheckStatus::Pass
        );
        let r = run_with(&ws, CheckId::RotationOverdue, after);
        assert_eq!(r.status, CheckStatus::Fail);
        assert!(r.findings[0].starts_with("Ana was due"));
    }

    #[test]
    fn custodians_without_a_guardian_split_are_flagged() {
        let (_d, ws) = ws();
        add(&ws, custodian("Ana", "age1ana", "2099-01-01T00:00:00Z"));
        add(&ws, custodian("Ben", "age1ben", "2099-01-01T00:00:00Z"));
        // Absent section: both unsplit.
        let r = run(&ws, CheckId::GuardiansNotSplit);
        assert_eq!(r.status, CheckStatus::Fail);
        assert_eq!(r.findings.len(), 2);
        // Matched by name for one, by recipient for the other.
        ws.update_registry(|reg| {
            reg.guardian_splits.splits = vec![
                split_record("Ana", "age1other", 3, 5),
                split_record("Benjamin", "age1ben", 2, 3),
            ];
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        assert_eq!(
            run(&ws, CheckId::GuardiansNotSplit).status,
            CheckStatus::Pass
        );
    }

    #[test]
    fn a_live_interface_is_flagged() {
        let (_d, ws) = ws();
        let reg = ws.registry().unwrap();
        let up = Ok(vec![LiveInterface {
            name: "wlan0".into(),
            address: "10.0.0.2".into(),
        }]);
        let now = crate::clock::now();
        let bin = Ok(running('a'));
        let r = &run_all(&ws, &reg, now, &up, &bin)[5];
        assert_eq!((r.id, r.status), (CheckId::NetworkUp, CheckStatus::Fail));
        assert!(r.findings[0].contains("wlan0"));
        let r = &run_all(&ws, &reg, now, &Ok(vec![]), &bin)[5];
        assert_eq!(r.status, CheckStatus::Pass);
        let r = &run_all(&ws, &reg, now, &Err("denied".into()), &bin)[5];
        assert_eq!(r.status, CheckStatus::Unknown);
    }

    #[test]
    fn a_drill_older_than_a_quarter_is_flagged() {
        let (_d, ws) = ws();
        let now = crate::clock::parse("2026-11-22T00:00:00Z").unwrap();
        assert_eq!(
            run_with(&ws, CheckId::DrillOverdue, now).status,
            CheckStatus::Fail
        );
        ws.update_registry(|reg| {
            reg.drills = vec![drill("2026-01-10T00:00:00Z"), drill("2026-05-01")];
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        let r = run_with(&ws, CheckId::DrillOverdue, now);
        assert_eq!(r.status, CheckStatus::Fail);
        assert!(r.findings[0].contains("2026-05-01"));
        ws.update_registry(|reg| {
            reg.drills = vec![drill("2026-10-01T09:00:00Z")];
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        assert_eq!(
            run_with(&ws, CheckId::DrillOverdue, now).status,
            CheckStatus::Pass
        );
    }
}
