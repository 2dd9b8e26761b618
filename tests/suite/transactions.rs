//! Every operation that writes is one transaction (see
//! `custodian_core::transaction`): these tests break it on purpose.
//!
//! - Fault sweeps, SQLite style: the fault layer of `fsutil` makes the Nth
//!   write, fsync, rename, link or directory sync fail (ENOSPC and EIO in
//!   turn). After each, once the workspace is opened for writing again: all
//!   of the operation happened or none of it (no output, registry
//!   unchanged, audit INITIATED + FAILED), no temporary file is left,
//!   `audit verify` passes, and after a rollback the rerun succeeds.
//!   `CUSTODIAN_LONG_SWEEPS=1` (CI's long phase, .ci/run) fails every step
//!   N = 1, 2, … in turn. The README's test command runs them bounded: a
//!   counting run finds the operation's steps, then every `stride`th step
//!   fails (about [`BOUNDED_FAULTS`] per operation, and always the last
//!   step), starting at an offset taken from `CUSTODIAN_SWEEP_SEED`, so
//!   runs with seeds 0, 1, 2, … together reach every step.
//! - kill -9 of real processes at seeded random instants, then the same
//!   invariant, and no plaintext secret in any file. A few kills per
//!   operation by default; `CUSTODIAN_LONG_SWEEPS=1` runs 20 each; the
//!   instants move with `CUSTODIAN_SWEEP_SEED`.
//! - The findings that started this: a rewrap against an unreadable
//!   registry, eight concurrent `identity new` of one name, a killed
//!   `kit derive`, and symlinked state files.
//!
//! Each sweep prints how many faults or kills it tried (`--nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use custodian_core::drkit::derive::{CheckedWallets, DeriveOptions, WalletSource};
use custodian_core::drkit::{kit::RecoveryKit, ops as kit_ops};
use custodian_core::fsutil::fault;
use custodian_core::guardians::{self, SplitRequest};
use custodian_core::identity::{self, IdentityFile, OpenedIdentity};
use custodian_core::playbook::incident::{self, StepHow};
use custodian_core::playbook::{Playbook, checklist};
use custodian_core::recovery::{self, RecoveryOutput, ShardSource};
use custodian_core::shard::{self, RewrapKind, RewrapRequest};
use custodian_core::workspace::Workspace;
use predicates::str::contains;
use secrecy::SecretString;
use shard_fixture::*;

/// The fault layer is process-wide: sweeps run one at a time.
static SWEEP: Mutex<()> = Mutex::new(());

const ENOSPC: i32 = 28;
const EIO: i32 = 5;

/// Kills per operation: a few by default, 20 in the long sweep.
fn kills() -> u64 {
    if common::long_sweeps() { 20 } else { 3 }
}

/// Faults per operation in a bounded sweep (the long sweep fails them all).
const BOUNDED_FAULTS: u64 = 6;

/// The I/O steps a sweep fails, of `steps` counted in a plain run: all of
/// them in the long sweep; else every `stride`th from an offset the seed
/// picks, plus the last (the commit's end), at most [`BOUNDED_FAULTS`]
/// and [`BOUNDED_FAULTS`] + 1 with it.
fn fault_steps(steps: u64, seed: u64) -> Vec<u64> {
    if common::long_sweeps() || steps <= BOUNDED_FAULTS {
        return (1..=steps).collect();
    }
    let stride = steps.div_ceil(BOUNDED_FAULTS);
    let mut picked: Vec<u64> = (1 + seed % stride..=steps)
        .step_by(stride as usize)
        .collect();
    if picked.last() != Some(&steps) {
        picked.push(steps);
    }
    picked
}

/// A kill sweep's seed: its own, moved by `CUSTODIAN_SWEEP_SEED`.
fn kill_seed(own: u64) -> u64 {
    let s = own ^ common::sweep_seed().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if s == 0 { own } else { s }
}

/// A small seeded generator (xorshift), so kill instants repeat run to run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Every path under `dir` whose name is a console temporary name.
fn temps_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if e.file_name()
            .to_string_lossy()
            .starts_with(".custodian-tmp-")
        {
            out.push(p.clone());
        }
        if p.is_dir() && !p.is_symlink() {
            out.extend(temps_under(&p));
        }
    }
    out
}

fn registry_bytes(sb: &Sandbox) -> Option<Vec<u8>> {
    std::fs::read(sb.ws().join("registry.json")).ok()
}

/// Statuses of the audit entries for `event`, in order.
fn statuses(sb: &Sandbox, event: &str) -> Vec<String> {
    audit_events(sb)
        .into_iter()
        .filter(|(e, _)| e == event)
        .map(|(_, s)| s)
        .collect()
}

/// No operation has two outcomes: an operation that wrote COMPLETED and
/// was killed before removing its journal entry is finished by repair
/// without a second COMPLETED (or a FAILED after it).
fn assert_one_outcome_per_op(sb: &Sandbox, what: &str) {
    assert_one_outcome_in(&sb.ws(), what);
}

/// [`assert_one_outcome_per_op`] for the workspace at `ws`.
fn assert_one_outcome_in(ws: &Path, what: &str) {
    let log = std::fs::read_to_string(ws.join("audit.jsonl")).unwrap_or_default();
    let mut outcomes: std::collections::BTreeMap<String, u32> = Default::default();
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["status"] == "COMPLETED" || v["status"] == "FAILED" {
            *outcomes
                .entry(v["op"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
        }
    }
    let twice: Vec<_> = outcomes.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{what}: operations with two outcomes: {twice:?}"
    );
}

/// Opens the workspace for writing, which repairs what an interrupted
/// operation left. A repair skips a journal entry that is locked, as a
/// running operation's is. In this test process other tests spawn child
/// processes at the same time, and between its fork and its exec a child
/// holds a copy of every open descriptor, so the lock of an operation that
/// has just ended can outlive it by that moment: the repair is tried again
/// then (for at most a second, so an entry that stays locked still fails).
fn repair(sb: &Sandbox) {
    for _ in 0..50 {
        Workspace::open_for_writing(sb.ws()).unwrap();
        if journal_entries(sb) == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn journal_entries(sb: &Sandbox) -> usize {
    std::fs::read_dir(sb.ws().join("journal")).map_or(0, |rd| rd.count())
}

/// One operation under test: how to prepare a sandbox, run it, and which
/// files it publishes.
struct Case<'a> {
    name: &'a str,
    event: &'a str,
    /// False for operations whose only effect is their output (recover, derive).
    changes_registry: bool,
    setup: &'a dyn Fn() -> Sandbox,
    run: &'a dyn Fn(&Sandbox) -> Result<(), String>,
    outputs: &'a dyn Fn(&Sandbox) -> Vec<PathBuf>,
    /// For operations that rewrite a state file (an incident record): did
    /// the change land? None: the outputs being there says it.
    happened: Option<&'a dyn Fn(&Sandbox) -> bool>,
}

/// Checks the all-or-nothing invariant after the workspace was opened for
/// writing; returns true when the operation happened.
fn check_invariant(case: &Case<'_>, sb: &Sandbox, before: &Option<Vec<u8>>, what: &str) -> bool {
    let outs = (case.outputs)(sb);
    let present = outs.iter().filter(|p| p.exists()).count();
    let landed = case.happened.map(|f| f(sb));
    let temps = temps_under(sb.path());
    assert!(temps.is_empty(), "{what}: temporary files left: {temps:?}");
    assert_eq!(journal_entries(sb), 0, "{what}: a journal entry is left");
    Workspace::open(sb.ws()).unwrap().audit().verify().unwrap();
    assert_one_outcome_per_op(sb, what);
    let st = statuses(sb, case.event);
    if landed.unwrap_or(present == outs.len()) {
        assert_eq!(
            present,
            outs.len(),
            "{what}: the change landed without its outputs"
        );
        if case.changes_registry {
            assert_ne!(
                &registry_bytes(sb),
                before,
                "{what}: outputs without registry change"
            );
        } else {
            assert_eq!(&registry_bytes(sb), before, "{what}: registry changed");
        }
        assert_eq!(
            st.last().map(String::as_str),
            Some("COMPLETED"),
            "{what}: {st:?}"
        );
        true
    } else {
        assert_eq!(present, 0, "{what}: some outputs published, not all");
        assert_eq!(&registry_bytes(sb), before, "{what}: registry changed");
        // Empty: stopped before INITIATED. A lone FAILED: killed between
        // the journal entry and INITIATED; repair still says it failed.
        assert!(
            st.is_empty() || st == ["INITIATED", "FAILED"] || st == ["FAILED"],
            "{what}: audit {st:?}"
        );
        false
    }
}

/// Fails the I/O steps of `case` one run each (all of them in the long
/// sweep, a seeded subset otherwise: [`fault_steps`]); returns the number
/// of faults tried.
fn sweep(case: &Case<'_>) -> u64 {
    let _serial = SWEEP.lock().unwrap_or_else(|e| e.into_inner());
    // A plain run, counting the operation's steps: it must succeed whole.
    let sb = (case.setup)();
    let before = registry_bytes(&sb);
    fault::arm(None, 0);
    let result = (case.run)(&sb);
    let steps = fault::disarm();
    let what = format!("{}: plain run of {steps} steps", case.name);
    assert!(result.is_ok(), "{what}: {result:?}");
    assert!(check_invariant(case, &sb, &before, &what));
    assert!(steps >= 5, "{what}: too few steps seen");
    let seed = common::sweep_seed();
    let picked = fault_steps(steps, seed);
    for (i, &n) in picked.iter().enumerate() {
        let sb = (case.setup)();
        let before = registry_bytes(&sb);
        // Alternate by position in the pick, not by step number: a stride
        // of even length would otherwise give every picked step one errno.
        let errno = if i % 2 == 0 { ENOSPC } else { EIO };
        fault::arm(Some(n), errno);
        let result = (case.run)(&sb);
        let seen = fault::disarm();
        let what = format!(
            "{}: fault at step {n} of {seen} (CUSTODIAN_SWEEP_SEED={seed})",
            case.name
        );
        assert!(
            n <= seen,
            "{what}: the step was not reached ({steps} in the plain run)"
        );
        repair(&sb);
        let happened = check_invariant(case, &sb, &before, &what);
        // A fault no step may ignore: an operation that reports success
        // happened. (Only the last directory sync, which makes the journal
        // entry's removal durable, is allowed to fail quietly.)
        assert!(result.is_err() || happened, "{what}: {result:?}");
        if !happened {
            (case.run)(&sb).unwrap_or_else(|e| panic!("{what}: rerun failed: {e}"));
            assert!((case.outputs)(&sb).iter().all(|p| p.exists()));
        }
    }
    let tried = picked.len() as u64;
    if tried == steps {
        println!("{}: {tried} injected faults, every I/O step", case.name);
    } else {
        println!(
            "{}: {tried} injected faults of {steps} I/O steps (seed {seed}: steps {picked:?}; \
             CUSTODIAN_LONG_SWEEPS=1 fails every one)",
            case.name
        );
    }
    tried
}

fn empty_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    Workspace::open(sb.ws()).unwrap();
    sb
}

#[test]
fn identity_new_is_all_or_nothing_at_every_io_step() {
    let out = |sb: &Sandbox| sb.file("dee.identity.json");
    sweep(&Case {
        name: "identity new",
        event: "IDENTITY_CREATE",
        changes_registry: true,
        setup: &empty_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            identity::create_identity(&ws, "Dee", &SecretString::from(PASS_A), Some(&out(sb)))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![out(sb)],
        happened: None,
    });
}

#[test]
fn plaintext_export_and_envelope_open_are_all_or_nothing_at_every_io_step() {
    // Each output and its record among the plaintext outputs land together.
    let key = |sb: &Sandbox| sb.file("ana.key");
    sweep(&Case {
        name: "identity export --plaintext",
        event: "IDENTITY_EXPORT_PLAINTEXT",
        changes_registry: true,
        setup: &sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            identity::export_plaintext(
                &ws,
                &identity(sb, "Ana"),
                &SecretString::from(pass_of("Ana")),
                &key(sb),
                true,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![key(sb)],
        happened: None,
    });
    let sealed = custodian_core::envelope::seal(
        b"canary-envelope-contents",
        &SecretString::from(PASS_B),
        custodian_core::envelope::DEFAULT_ITERATIONS,
        None,
    )
    .unwrap();
    let opened = |sb: &Sandbox| sb.file("opened.bin");
    sweep(&Case {
        name: "envelope open --out",
        event: "ENVELOPE_OPEN",
        changes_registry: true,
        setup: &empty_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            custodian_core::outputs::open_envelope_to_file(
                &ws,
                &sealed,
                Path::new("in.env"),
                "00",
                &SecretString::from(PASS_B),
                &opened(sb),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![opened(sb)],
        happened: None,
    });
}

#[test]
fn backup_is_all_or_nothing_at_every_io_step() {
    let officer = OpenedIdentity::generate("Officer").recipient;
    let out = |sb: &Sandbox| sb.file("ws.age");
    sweep(&Case {
        name: "backup",
        event: "WORKSPACE_BACKUP",
        changes_registry: true,
        setup: &sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            custodian_core::backup::backup(&ws, std::slice::from_ref(&officer), &out(sb))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![out(sb)],
        happened: None,
    });
}

/// A sandbox with a backup of its workspace (`ws.age`, to Ana's identity)
/// for the restore sweeps.
fn restore_sandbox() -> Sandbox {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let ana = IdentityFile::load(&identity(&sb, "Ana")).unwrap().recipient;
    // The registry as archived (the backup then records itself in it).
    std::fs::copy(
        sb.ws().join("registry.json"),
        sb.file("archived-registry.json"),
    )
    .unwrap();
    custodian_core::backup::backup(&ws, &[ana], &sb.file("ws.age")).unwrap();
    sb
}

/// After a failed, faulted or killed restore into `into`: the target is
/// absent or a whole workspace (every archived file, the archived log a
/// prefix of its log, one WORKSPACE_RESTORE with one outcome, no journal
/// entry), no staging directory or temporary file anywhere, the live
/// workspace untouched. Returns whether the restore landed.
fn check_restore(
    sb: &Sandbox,
    into: &Path,
    live_before: &[(PathBuf, Vec<u8>)],
    what: &str,
) -> bool {
    let temps = temps_under(sb.path());
    assert!(temps.is_empty(), "{what}: temporary files left: {temps:?}");
    assert!(
        snapshot_without_restore(sb) == live_before,
        "{what}: live workspace changed"
    );
    if !into.exists() {
        return false;
    }
    let rec = &Workspace::open(sb.ws())
        .unwrap()
        .registry()
        .unwrap()
        .backups[0];
    let restored = Workspace::open(into).unwrap();
    let chain = restored.audit().verify_expecting(&rec.audit_head).unwrap();
    assert_eq!(chain.entries, rec.audit_seq + 2, "{what}");
    let restores: Vec<String> = restored
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "WORKSPACE_RESTORE")
        .map(|e| e.status.as_str().to_string())
        .collect();
    assert_eq!(restores, ["INITIATED", "COMPLETED"], "{what}");
    assert_one_outcome_in(into, what);
    assert_eq!(
        std::fs::read_dir(into.join("journal")).map_or(0, |rd| rd.count()),
        0,
        "{what}: a journal entry is left"
    );
    assert!(
        std::fs::read(into.join("registry.json")).unwrap()
            == std::fs::read(sb.file("archived-registry.json")).unwrap(),
        "{what}: the restored registry is not the archived one"
    );
    true
}

/// Every file of the sandbox but the restore's target and the archive.
fn snapshot_without_restore(sb: &Sandbox) -> Vec<(PathBuf, Vec<u8>)> {
    sb.snapshot()
        .into_iter()
        .filter(|(p, _)| p.starts_with(sb.ws()))
        .collect()
}

#[test]
fn restore_is_all_or_nothing_at_every_io_step() {
    let _serial = SWEEP.lock().unwrap_or_else(|e| e.into_inner());
    let run = |sb: &Sandbox| {
        let opened = IdentityFile::load(&identity(sb, "Ana"))
            .unwrap()
            .open(&SecretString::from(pass_of("Ana")))
            .unwrap();
        custodian_core::backup::restore(
            &sb.file("ws.age"),
            opened.age_identity(),
            &sb.file("restored"),
            &sb.ws(),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    let sb = restore_sandbox();
    let before = snapshot_without_restore(&sb);
    fault::arm(None, 0);
    let result = run(&sb);
    let steps = fault::disarm();
    assert!(result.is_ok(), "restore: plain run: {result:?}");
    assert!(check_restore(
        &sb,
        &sb.file("restored"),
        &before,
        "plain run"
    ));
    assert!(steps >= 5, "restore: {steps} steps");
    let seed = common::sweep_seed();
    let picked = fault_steps(steps, seed);
    for (i, &n) in picked.iter().enumerate() {
        let sb = restore_sandbox();
        let before = snapshot_without_restore(&sb);
        let errno = if i % 2 == 0 { ENOSPC } else { EIO };
        fault::arm(Some(n), errno);
        let result = run(&sb);
        let seen = fault::disarm();
        let what = format!("restore: fault at step {n} of {seen} (CUSTODIAN_SWEEP_SEED={seed})");
        assert!(n <= seen, "{what}: the step was not reached");
        let happened = check_restore(&sb, &sb.file("restored"), &before, &what);
        assert_eq!(result.is_ok(), happened, "{what}: {result:?}");
        if !happened {
            run(&sb).unwrap_or_else(|e| panic!("{what}: rerun failed: {e}"));
            assert!(check_restore(&sb, &sb.file("restored"), &before, &what));
        }
    }
    println!(
        "restore: {} injected faults of {steps} I/O steps",
        picked.len()
    );
}

#[test]
fn a_killed_restore_leaves_the_copy_whole_or_absent_and_the_rerun_cleans_up() {
    let mut r = Seeded(kill_seed(41));
    let restore = |sb: &Sandbox| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_custodian"));
        c.env_remove("CUSTODIAN_WORKSPACE")
            .current_dir(sb.path())
            .arg("restore")
            .arg(sb.file("ws.age"))
            .arg("--identity")
            .arg(identity(sb, "Ana"))
            .arg("--into")
            .arg(sb.file("restored"))
            .arg("--passphrase-file")
            .arg(sb.pass_file("p-restore", &[pass_of("Ana")]));
        c
    };
    for k in 0..kills() {
        let sb = restore_sandbox();
        let before = snapshot_without_restore(&sb);
        let delay = r.next() % 1500;
        kill_after(restore(&sb), Duration::from_millis(delay));
        let what = format!("kill restore {k} at {delay} ms");
        assert_no_plaintext_secret(&sb, &what);
        // A staging directory a kill left is removed by the next restore
        // beside it; the copy, if it landed, is whole.
        let landed = sb.file("restored").exists();
        let out = restore(&sb).output().unwrap();
        assert_eq!(
            out.status.success(),
            !landed,
            "{what}: rerun: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            check_restore(&sb, &sb.file("restored"), &before, &what),
            "{what}"
        );
    }
}

fn rewrap_request(sb: &Sandbox, to: &str) -> RewrapRequest {
    RewrapRequest {
        shard: shard(sb, "alpha", 1),
        identity: identity(sb, "Ana"),
        passphrase: SecretString::from(pass_of("Ana")),
        to: to.into(),
        name: "Dee".into(),
        out: Some(sb.file("dee.shard.json")),
        kind: RewrapKind::Custodian,
        accept_multiple_recipients: false,
        concentration: Default::default(),
    }
}

#[test]
fn shard_rewrap_is_all_or_nothing_at_every_io_step() {
    let dee = OpenedIdentity::generate("Dee");
    // Named temporary files here, as on a stick without O_TMPFILE: the
    // journaled names must be cleaned up just the same.
    sweep(&Case {
        name: "shard rewrap (named temporary files)",
        event: "SHARD_REWRAP",
        changes_registry: true,
        setup: &sandbox,
        run: &|sb| {
            fault::force_named_temps(true);
            let ws = Workspace::open(sb.ws()).unwrap();
            let r = shard::rewrap_shard(&ws, &rewrap_request(sb, &dee.recipient));
            fault::force_named_temps(false);
            r.map(|_| ()).map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![sb.file("dee.shard.json")],
        happened: None,
    });
}

#[test]
fn guardians_split_is_all_or_nothing_at_every_io_step() {
    let dir = |sb: &Sandbox| sb.file("shares");
    sweep(&Case {
        name: "guardians split 2-of-2",
        event: "GUARDIAN_SPLIT",
        changes_registry: true,
        setup: &sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let pass = SecretString::from(pass_of("Ana"));
            let d = dir(sb);
            guardians::split(
                &ws,
                SplitRequest {
                    identity_path: &identity(sb, "Ana"),
                    identity_passphrase: &pass,
                    threshold: 2,
                    guardians: vec![
                        ("Gus".into(), SecretString::from(PASS_A)),
                        ("Hal".into(), SecretString::from(PASS_B)),
                    ],
                    out_dir: Some(&d),
                },
                &|_, _, _| {},
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|sb| {
            // The share names hold a random set id: the outputs are the
            // share files found, and a split writes two.
            let mut found: Vec<PathBuf> = std::fs::read_dir(dir(sb))
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            found.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
            match found.len() {
                0 => vec![dir(sb).join("none")],
                1 => vec![found[0].clone(), dir(sb).join("missing")],
                _ => found,
            }
        },
        happened: None,
    });
}

#[test]
fn recover_to_a_file_is_all_or_nothing_at_every_io_step() {
    let vault = OpenedIdentity::generate("Vault");
    let out = |sb: &Sandbox| sb.file("key.age");
    sweep(&Case {
        name: "recover --to",
        event: "RECOVER_PRIVATE_KEY",
        changes_registry: false,
        setup: &sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let sources: Vec<ShardSource> = [1u32, 2]
                .iter()
                .map(|&i| ShardSource {
                    shard: shard(sb, "alpha", i),
                    identity: identity(sb, holder(i)),
                })
                .collect();
            let plan = recovery::plan(
                &sources,
                &["Officer One".into(), "Legal Two".into()],
                RecoveryOutput::Age {
                    recipient: vault.recipient.clone(),
                    out: out(sb),
                },
            )
            .map_err(|e| e.to_string())?;
            let passes = [1u32, 2].map(|i| SecretString::from(pass_of(holder(i))));
            recovery::recover(&ws, &plan, &passes)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![out(sb)],
        happened: None,
    });
}

/// The one incident in `sb`'s workspace.
fn the_incident(sb: &Sandbox) -> incident::Incident {
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut all = incident::list(&ws).unwrap();
    assert_eq!(all.len(), 1, "one incident expected");
    all.pop().unwrap().unwrap()
}

/// A workspace with scenario 2 open as an incident.
fn incident_sandbox() -> Sandbox {
    let sb = empty_sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    common::accept_typed_approvals(&ws);
    incident::open(&ws, Playbook::builtin(), 2, "Ana Officer", None).unwrap();
    sb
}

#[test]
fn incident_open_is_all_or_nothing_at_every_io_step() {
    let incidents = |sb: &Sandbox| -> Vec<PathBuf> {
        std::fs::read_dir(sb.ws().join(incident::DIR))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    sweep(&Case {
        name: "incident open",
        event: "INCIDENT_OPEN",
        changes_registry: false,
        setup: &empty_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            incident::open(&ws, Playbook::builtin(), 2, "Ana Officer", None)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        // The record's name holds a random id: it is whatever is there.
        outputs: &|sb| match incidents(sb).as_slice() {
            [] => vec![sb.ws().join(incident::DIR).join("none")],
            found => found.to_vec(),
        },
        happened: None,
    });
}

#[test]
fn incident_step_is_all_or_nothing_at_every_io_step() {
    sweep(&Case {
        name: "incident step",
        event: "INCIDENT_STEP",
        changes_registry: false,
        setup: &incident_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let id = the_incident(sb).id;
            incident::complete_step(
                &ws,
                Playbook::builtin(),
                &id,
                "record-loss",
                "Cy Officer",
                StepHow::Attested,
                &[],
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|_| Vec::new(),
        happened: Some(&|sb| {
            let inc = the_incident(sb);
            // A landed step is whole: it cites the entry that began it.
            inc.steps.iter().all(|s| !s.audit_hash.is_empty()) && inc.steps.len() == 1
        }),
    });
}

/// A workspace with scenario 2 open and its first step confirmed.
fn incident_with_a_step_sandbox() -> Sandbox {
    let sb = incident_sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    let id = the_incident(&sb).id;
    incident::confirm_step(
        &ws,
        Playbook::builtin(),
        &id,
        &incident::StepConfirmation {
            step: "record-loss",
            operator: "Cy Officer",
            how: StepHow::Attested,
            files: &[],
            notes: Some("bag stolen at 09:10"),
        },
    )
    .unwrap();
    sb
}

#[test]
fn incident_step_reopen_is_all_or_nothing_at_every_io_step() {
    sweep(&Case {
        name: "incident step reopen",
        event: "INCIDENT_STEP_REOPEN",
        changes_registry: false,
        setup: &incident_with_a_step_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let id = the_incident(sb).id;
            incident::reopen_step(
                &ws,
                Playbook::builtin(),
                &id,
                "record-loss",
                "Dee Officer",
                "confirmed by mistake",
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|_| Vec::new(),
        // Either the step is still done, or it is open with its old record
        // in the history: never lost, never both.
        happened: Some(&|sb| {
            let inc = the_incident(sb);
            let gone = inc.step("record-loss").is_none();
            let kept = inc.reopened.len() == 1
                && inc.reopened[0].record.notes.as_deref() == Some("bag stolen at 09:10")
                && !inc.reopened[0].audit_hash.is_empty();
            assert_eq!(gone, kept, "a reopen landed half: {inc:?}");
            gone
        }),
    });
}

#[test]
fn incident_close_is_all_or_nothing_at_every_io_step() {
    let report = |sb: &Sandbox| {
        let id = the_incident(sb).id;
        sb.ws().join(incident::DIR).join(format!("{id}.md"))
    };
    sweep(&Case {
        name: "incident close",
        event: "INCIDENT_CLOSE",
        changes_registry: false,
        setup: &incident_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let id = the_incident(sb).id;
            incident::close(&ws, Playbook::builtin(), &id, "Ana Officer")
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![report(sb)],
        // Closed record and report land together.
        happened: Some(&|sb| the_incident(sb).is_closed()),
    });
}

#[test]
fn checklist_tick_is_all_or_nothing_at_every_io_step() {
    sweep(&Case {
        name: "checklist tick",
        event: "CHECKLIST_TICK",
        changes_registry: true,
        setup: &empty_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            checklist::set_tick(&ws, Playbook::builtin(), "allow-list", "Dee Officer", true)
                .map_err(|e| e.to_string())
        },
        outputs: &|_| Vec::new(),
        happened: Some(&|sb| {
            let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
            reg.checklist.ticks.contains_key("allow-list")
        }),
    });
}

/// An RSA-4096 recovery key made by OpenSSL and a drill kit encrypted to
/// it, once per test binary.
fn drill_kit() -> Option<&'static (tempfile::TempDir, PathBuf, PathBuf)> {
    static KIT: std::sync::OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> =
        std::sync::OnceLock::new();
    if missing_tool("openssl") {
        return None;
    }
    Some(KIT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let public = dir.path().join("key.pub.pem");
        let run = |args: &[&str]| {
            assert!(
                Command::new("openssl")
                    .args(args)
                    .stderr(Stdio::null())
                    .status()
                    .unwrap()
                    .success()
            );
        };
        run(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:4096",
            "-out",
            key.to_str().unwrap(),
        ]);
        run(&[
            "pkey",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ]);
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let kit = dir.path().join("kit.zip");
        kit_ops::make_drill_kit(&ws, &public, &kit).unwrap();
        (dir, key, kit)
    }))
}

/// `n` canonical wallet ids from a seed.
fn wallet_ids(n: usize, seed: u64) -> Vec<String> {
    let mut r = Seeded(seed);
    (0..n)
        .map(|_| {
            let a = r.next();
            let b = r.next();
            let h = format!("{a:016x}{b:016x}");
            format!(
                "{}-{}-4{}-a{}-{}",
                &h[0..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..32]
            )
        })
        .collect()
}

#[test]
fn kit_derive_is_all_or_nothing_at_every_io_step() {
    let Some((_, key, kit)) = drill_kit() else {
        return;
    };
    let out = |sb: &Sandbox| sb.file("out").join("shares.jsonl");
    sweep(&Case {
        name: "kit derive (20 wallets)",
        event: "DRKIT_DERIVE",
        // The share file is recorded among the plaintext outputs.
        changes_registry: true,
        setup: &|| {
            let sb = empty_sandbox();
            std::fs::create_dir(sb.file("out")).unwrap();
            sb
        },
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let wallets = CheckedWallets::check(WalletSource::List(wallet_ids(20, 7)))
                .map_err(|e| e.to_string())?;
            let opened = RecoveryKit::open(kit).map_err(|e| e.to_string())?;
            kit_ops::derive(
                &ws,
                opened,
                key,
                None,
                &wallets,
                &out(sb),
                &DeriveOptions::default(),
                &mut |_| {},
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![out(sb)],
        happened: None,
    });
}

/// Runs `cmd`, kills it with SIGKILL after `delay`, and waits for it.
fn kill_after(mut cmd: Command, delay: Duration) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

fn bin(sb: &Sandbox) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_custodian"));
    c.env_remove("CUSTODIAN_WORKSPACE")
        .arg("--workspace")
        .arg(sb.ws());
    c
}

/// Text no file may hold after a kill: an age secret key or a shard's
/// decrypted payload.
fn assert_no_plaintext_secret(sb: &Sandbox, what: &str) {
    let text = sb.all_text();
    assert!(
        !text.contains("AGE-SECRET-KEY-"),
        "{what}: an age secret key on disk"
    );
    assert!(
        !text.contains("custodian-shard-payload"),
        "{what}: a plaintext shard payload on disk"
    );
}

/// Kills `case`'s command at seeded instants up to `max_ms`; returns kills tried.
fn kill_sweep(
    case: &Case<'_>,
    command: &dyn Fn(&Sandbox) -> Command,
    seed: u64,
    max_ms: u64,
) -> u64 {
    let seed = kill_seed(seed);
    let mut r = Seeded(seed);
    let n = kills();
    for k in 0..n {
        let sb = (case.setup)();
        let before = registry_bytes(&sb);
        let delay = r.next() % max_ms;
        kill_after(command(&sb), Duration::from_millis(delay));
        let what = format!(
            "{}: kill {k} at {delay} ms (CUSTODIAN_SWEEP_SEED={})",
            case.name,
            common::sweep_seed()
        );
        repair(&sb);
        let happened = check_invariant(case, &sb, &before, &what);
        assert_no_plaintext_secret(&sb, &what);
        if !happened {
            let out = command(&sb).output().unwrap();
            assert!(
                out.status.success(),
                "{what}: rerun: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    println!("{}: {n} kills (seed {seed})", case.name);
    n
}

#[test]
fn killed_identity_new_and_shard_rewrap_leave_all_or_nothing() {
    let id_out = |sb: &Sandbox| sb.file("dee.identity.json");
    let pass = |sb: &Sandbox| sb.pass_file("p", &[PASS_A]);
    kill_sweep(
        &Case {
            name: "kill identity new",
            event: "IDENTITY_CREATE",
            changes_registry: true,
            setup: &empty_sandbox,
            run: &|_| Ok(()),
            outputs: &|sb| vec![id_out(sb)],
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["identity", "new", "--name", "Dee", "--out"])
                .arg(id_out(sb))
                .arg("--passphrase-file")
                .arg(pass(sb));
            c
        },
        11,
        2500,
    );
    let dee = OpenedIdentity::generate("Dee");
    kill_sweep(
        &Case {
            name: "kill shard rewrap",
            event: "SHARD_REWRAP",
            changes_registry: true,
            setup: &sandbox,
            run: &|_| Ok(()),
            outputs: &|sb| vec![sb.file("dee.shard.json")],
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["shard", "rewrap"])
                .arg(shard(sb, "alpha", 1))
                .arg("--identity")
                .arg(identity(sb, "Ana"))
                .args(["--to", &dee.recipient, "--name", "Dee", "--out"])
                .arg(sb.file("dee.shard.json"))
                .arg("--passphrase-file")
                .arg(sb.pass_file("p", &[pass_of("Ana")]));
            c
        },
        23,
        1500,
    );
}

/// Every share file a split wrote into `dir` (their names hold a random
/// set id), or a name that cannot exist when there are none or only some.
fn shares_in(dir: &Path, expected: usize) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
    if found.is_empty() {
        return vec![dir.join("none")];
    }
    while found.len() < expected {
        found.push(dir.join(format!("missing-{}", found.len())));
    }
    found
}

#[test]
fn killed_guardians_split_and_recover_leave_all_or_nothing() {
    let dir = |sb: &Sandbox| sb.file("shares");
    kill_sweep(
        &Case {
            name: "kill guardians split",
            event: "GUARDIAN_SPLIT",
            changes_registry: true,
            setup: &sandbox,
            run: &|_| Ok(()),
            outputs: &|sb| shares_in(&dir(sb), 2),
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["guardians", "split", "--identity"])
                .arg(identity(sb, "Ana"))
                .args(["--threshold", "2", "--guardians", "Gus,Hal", "--out-dir"])
                .arg(dir(sb))
                .arg("--passphrase-file")
                .arg(sb.pass_file("p", &[pass_of("Ana"), PASS_A, PASS_B]));
            c
        },
        31,
        2500,
    );
    let vault = OpenedIdentity::generate("Vault");
    let out = |sb: &Sandbox| sb.file("key.age");
    kill_sweep(
        &Case {
            name: "kill recover --to",
            event: "RECOVER_PRIVATE_KEY",
            changes_registry: false,
            setup: &sandbox,
            run: &|_| Ok(()),
            outputs: &|sb| vec![out(sb)],
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.arg("recover");
            for i in [1u32, 2] {
                c.arg("--shard")
                    .arg(shard(sb, "alpha", i))
                    .arg("--identity")
                    .arg(identity(sb, holder(i)));
            }
            c.args(["--approver", "Officer One", "--approver", "Legal Two"])
                .args(["--to", &vault.recipient, "--out"])
                .arg(out(sb))
                .arg("--passphrase-file")
                .arg(sb.pass_file("p", &[pass_of(holder(1)), pass_of(holder(2))]));
            c
        },
        37,
        1500,
    );
}

#[test]
fn a_killed_incident_close_leaves_the_record_open_or_closed_with_its_report() {
    let report = |sb: &Sandbox| {
        let id = the_incident(sb).id;
        sb.ws().join(incident::DIR).join(format!("{id}.md"))
    };
    kill_sweep(
        &Case {
            name: "kill incident close",
            event: "INCIDENT_CLOSE",
            changes_registry: false,
            setup: &incident_sandbox,
            run: &|_| Ok(()),
            outputs: &|sb| vec![report(sb)],
            happened: Some(&|sb| the_incident(sb).is_closed()),
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["incident", "close", &the_incident(sb).id])
                .args(["--operator", "Ana Officer"]);
            c
        },
        41,
        120,
    );
}

#[test]
fn a_killed_kit_derive_leaves_no_temporary_file_with_key_shares() {
    let Some((_, key, kit)) = drill_kit() else {
        return;
    };
    let ids = wallet_ids(100_000, 3).join("\n");
    let out = |sb: &Sandbox| sb.file("out").join("shares.jsonl");
    let mut r = Seeded(kill_seed(5));
    for k in 0..kills() {
        let sb = empty_sandbox();
        std::fs::create_dir(sb.file("out")).unwrap();
        let list = sb.file("wallets.txt");
        std::fs::write(&list, &ids).unwrap();
        let mut c = bin(&sb);
        c.args(["kit", "derive"])
            .arg(kit)
            .arg("--key")
            .arg(key)
            .arg("--wallets")
            .arg(&list)
            .arg("--out")
            .arg(out(&sb));
        let delay = 300 + r.next() % 1500;
        kill_after(c, Duration::from_millis(delay));
        // Straight after the kill, before any repair: nothing under a name.
        let temps = temps_under(&sb.file("out"));
        assert!(temps.is_empty(), "kill {k} at {delay} ms left {temps:?}");
        repair(&sb);
        assert!(temps_under(sb.path()).is_empty());
        assert_eq!(journal_entries(&sb), 0);
        Workspace::open(sb.ws()).unwrap().audit().verify().unwrap();
        let st = statuses(&sb, "DRKIT_DERIVE");
        assert!(
            st == ["INITIATED", "FAILED"] || st == ["INITIATED", "COMPLETED"] || st.is_empty(),
            "{st:?}"
        );
        assert_eq!(
            out(&sb).exists(),
            st.last().is_some_and(|s| s == "COMPLETED")
        );
    }
    println!("kill kit derive: {} kills", kills());
}

#[test]
fn rewrap_against_an_unreadable_registry_leaves_nothing_and_the_rerun_succeeds() {
    let sb = sandbox();
    let dee = OpenedIdentity::generate("Dee");
    let reg = sb.ws().join("registry.json");
    let good = std::fs::read(&reg).unwrap();
    std::fs::write(&reg, b"{ not json").unwrap();
    let out = sb.file("dee.shard.json");
    let rewrap = || {
        let mut c = sb.cmd();
        c.args(["shard", "rewrap"])
            .arg(shard(&sb, "alpha", 1))
            .arg("--identity")
            .arg(identity(&sb, "Ana"))
            .args(["--to", &dee.recipient, "--name", "Dee", "--out"])
            .arg(&out)
            .arg("--passphrase-file")
            .arg(sb.pass_file("p", &[pass_of("Ana")]));
        c
    };
    rewrap().assert().code(1).stderr(contains("registry"));
    assert!(
        !out.exists(),
        "the output must not outlive the failed registry update"
    );
    assert!(temps_under(sb.path()).is_empty());
    std::fs::write(&reg, &good).unwrap();
    rewrap().assert().success();
    assert!(out.exists());
}

#[test]
fn eight_concurrent_identity_new_of_one_name_leave_one_identity_file() {
    let sb = empty_sandbox();
    let pass = sb.pass_file("p", &[PASS_A]);
    let outs: Vec<PathBuf> = (0..8).map(|i| sb.file(&format!("same-{i}.json"))).collect();
    let children: Vec<_> = outs
        .iter()
        .map(|o| {
            bin(&sb)
                .args(["identity", "new", "--name", "Same", "--out"])
                .arg(o)
                .arg("--passphrase-file")
                .arg(&pass)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let ok = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.success())
        .filter(|s| *s)
        .count();
    assert_eq!(ok, 1, "exactly one creation registers");
    let files: Vec<&PathBuf> = outs.iter().filter(|o| o.exists()).collect();
    assert_eq!(
        files.len(),
        1,
        "only the registered identity file remains: {files:?}"
    );
    let ws = Workspace::open(sb.ws()).unwrap();
    let reg = ws.registry().unwrap();
    assert_eq!(reg.custodians.len(), 1);
    assert_eq!(reg.custodians[0].identity_file.as_ref(), Some(files[0]));
    assert_eq!(IdentityFile::load(files[0]).unwrap().name, "Same");
    assert!(temps_under(sb.path()).is_empty());
    ws.audit().verify().unwrap();
}

#[test]
fn symlinked_audit_log_and_registry_are_refused_not_followed() {
    // What each link points at: an empty log, a valid empty registry.
    for (file, content) in [
        ("audit.jsonl", &b""[..]),
        ("registry.json", &b"{\"version\": 1}\n"[..]),
    ] {
        let sb = empty_sandbox();
        let elsewhere = sb.file("elsewhere.txt");
        std::fs::write(&elsewhere, content).unwrap();
        std::os::unix::fs::symlink(&elsewhere, sb.ws().join(file)).unwrap();
        sb.cmd()
            .args(["identity", "new", "--name", "Dee", "--passphrase-file"])
            .arg(sb.pass_file("p", &[PASS_A]))
            .assert()
            .code(1)
            .stderr(contains("symbolic link"));
        assert_eq!(
            std::fs::read(&elsewhere).unwrap(),
            content,
            "{file} was followed"
        );
        assert!(sb.ws().join(file).is_symlink(), "{file} was replaced");
        assert!(!sb.ws().join("identities/dee.identity.json").exists());
    }
}

#[test]
fn a_crash_after_the_commit_point_is_finished_on_the_next_open() {
    let _serial = SWEEP.lock().unwrap_or_else(|e| e.into_inner());
    let sb = empty_sandbox();
    let out = sb.file("dee.identity.json");
    let ws = Workspace::open(sb.ws()).unwrap();
    // Fail the registry write (after COMMIT): the step count of a clean run
    // says where that is.
    fault::arm(None, 0);
    identity::create_identity(
        &ws,
        "Probe",
        &SecretString::from(PASS_A),
        Some(&sb.file("probe.json")),
    )
    .unwrap();
    let steps = fault::disarm();
    // Steps from the end: journal dir sync, output dir sync, publish
    // rename, then the registry replace (dir sync, rename, link, fsync,
    // write): its fsync is the seventh step from the end, after COMMIT.
    fault::arm(Some(steps - 6), ENOSPC);
    let err =
        identity::create_identity(&ws, "Dee", &SecretString::from(PASS_A), Some(&out)).unwrap_err();
    fault::disarm();
    assert!(err.to_string().contains("committed"), "{err}");
    // A read-only look reports the pending repair and changes nothing.
    assert!(ws.pending_repair() > 0);
    sb.cmd()
        .args(["audit", "verify"])
        .assert()
        .success()
        .stderr(contains("waiting for repair"));
    let (ws, report) = Workspace::open_for_writing(sb.ws()).unwrap();
    assert_eq!(report.rolled_forward.len(), 1, "{report:?}");
    assert!(out.exists());
    assert!(ws.registry().unwrap().custodian("Dee").is_some());
    assert_eq!(
        statuses(&sb, "IDENTITY_CREATE")[2..],
        ["INITIATED".to_string(), "COMPLETED".to_string()]
    );
    assert!(
        audit_events(&sb)
            .iter()
            .any(|(e, _)| e == "WORKSPACE_REPAIRED")
    );
    ws.audit().verify().unwrap();
}

/// What a rotation of Ana (fixture: drill-alpha #1 and drill-beta #1,
/// re-split 2-of-2 among Gus and Hal) publishes: her new identity, two new
/// shards, two guardian shares, and her three old files under `retired/`.
/// Exactly 8 paths when it happened; when it did not, the old files must
/// still be where they were (checked here) and none of the 8 exists.
fn rotation_outputs(sb: &Sandbox) -> Vec<PathBuf> {
    let list = |dir: &str, keep: &dyn Fn(&str) -> bool| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(sb.ws().join(dir))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            !n.starts_with('.') && keep(&n)
        });
        v.sort();
        v
    };
    let mut found = list("identities", &|n| {
        n.starts_with("ana.") && n != "ana.identity.json"
    });
    found.extend(list("shards", &|n| {
        n.contains(".ana.") && n.matches('.').count() > 4
    }));
    found.extend(list("guardian-shares", &|_| true));
    let retired = [
        "retired/identities/ana.identity.json",
        "retired/shards/drill-alpha.1.ana.shard.json",
        "retired/shards/drill-beta.1.ana.shard.json",
    ]
    .map(|p| sb.ws().join(p));
    let moved = retired.iter().filter(|p| p.exists()).count();
    if found.is_empty() && moved == 0 {
        // Not happened: the old state is whole and usable.
        assert!(identity(sb, "Ana").exists(), "old identity gone");
        assert!(shard(sb, "alpha", 1).exists() && shard(sb, "beta", 1).exists());
    }
    found.extend(retired);
    // Pad a partial result so the invariant sees "some, not all".
    while found.len() < 8 {
        found.push(sb.file("missing-output"));
    }
    found
}

fn rotation_request_run(sb: &Sandbox, old: &OpenedIdentity) -> Result<(), String> {
    use custodian_core::lifecycle::rotate::{self, RotationRequest};
    let ws = Workspace::open(sb.ws()).unwrap();
    let plan = rotate::plan(&ws, "Ana", None).map_err(|e| e.to_string())?;
    rotate::rotate(
        &ws,
        RotationRequest {
            plan: &plan,
            old,
            new_passphrase: &SecretString::from(PASS_B),
            guardians: vec![
                ("Gus".into(), SecretString::from(PASS_A)),
                ("Hal".into(), SecretString::from(PASS_B)),
            ],
            threshold: 2,
            destroy_old_identity: false,
            token: None,
        },
        &|_, _, _| {},
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

#[test]
fn rotation_is_all_or_nothing_at_every_io_step() {
    // Every sandbox is a copy of one fixture, so Ana's key is opened once.
    let sb = sandbox();
    let old = IdentityFile::load(&identity(&sb, "Ana"))
        .unwrap()
        .open(&SecretString::from(pass_of("Ana")))
        .unwrap();
    drop(sb);
    sweep(&Case {
        name: "custodian rotate",
        event: "CUSTODIAN_ROTATE",
        changes_registry: true,
        setup: &sandbox,
        run: &|sb| rotation_request_run(sb, &old),
        outputs: &rotation_outputs,
        happened: None,
    });
}

#[test]
fn killed_rotation_leaves_the_old_state_or_the_new_one() {
    kill_sweep(
        &Case {
            name: "kill custodian rotate",
            event: "CUSTODIAN_ROTATE",
            changes_registry: true,
            setup: &sandbox,
            run: &|_| Ok(()),
            outputs: &rotation_outputs,
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["rotate", "--custodian", "Ana", "--guardians", "Gus,Hal"])
                .args(["--threshold", "2", "--passphrase-file"])
                .arg(sb.pass_file("p", &[pass_of("Ana"), PASS_B, PASS_A, PASS_B]));
            c
        },
        31,
        3000,
    );
}

/// A workspace with one recorded plaintext output, `opened.bin` (the
/// contents of an envelope, which hold a canary).
fn destroy_sandbox(sealed: &custodian_core::envelope::Envelope) -> Sandbox {
    let sb = empty_sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    custodian_core::outputs::open_envelope_to_file(
        &ws,
        sealed,
        Path::new("in.env"),
        "00",
        &SecretString::from(PASS_B),
        &sb.file("opened.bin"),
    )
    .unwrap();
    sb
}

const DESTROY_CANARY: &str = "canary-destroy-contents-0123456789";

/// The envelope whose contents become the output to destroy.
fn destroy_envelope() -> custodian_core::envelope::Envelope {
    custodian_core::envelope::seal(
        DESTROY_CANARY.as_bytes(),
        &SecretString::from(PASS_B),
        custodian_core::envelope::DEFAULT_ITERATIONS,
        None,
    )
    .unwrap()
}

/// True when the registry marks `opened.bin` destroyed; then the file is
/// gone and its contents are nowhere on disk. Otherwise the file is there
/// (its bytes may be overwritten: the overwrite precedes the commit).
fn destroy_landed(sb: &Sandbox) -> bool {
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    let out = sb.file("opened.bin");
    let rec = reg
        .plaintext_outputs
        .iter()
        .find(|o| o.path == out)
        .expect("the output is recorded");
    let marked = rec.destroyed.is_some();
    assert_eq!(marked, !out.exists(), "registry and file disagree");
    if marked {
        assert!(
            !sb.all_text().contains(DESTROY_CANARY),
            "the destroyed contents are still on disk"
        );
    }
    marked
}

#[test]
fn outputs_destroy_is_all_or_nothing_at_every_io_step_and_a_retry_finishes_it() {
    let sealed = destroy_envelope();
    sweep(&Case {
        name: "outputs destroy",
        event: "PLAINTEXT_OUTPUT_DESTROY",
        changes_registry: true,
        setup: &|| destroy_sandbox(&sealed),
        // The rerun after a fault is the retry: it must finish the job even
        // when the failed attempt had already overwritten the file.
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            custodian_core::outputs::destroy(&ws, &sb.file("opened.bin"))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &|_| Vec::new(),
        happened: Some(&destroy_landed),
    });
}

#[test]
fn a_retried_destroy_names_the_attempt_it_resumes_and_a_foreign_change_is_still_refused() {
    let sealed = destroy_envelope();
    let out = |sb: &Sandbox| sb.file("opened.bin");
    // A file changed by someone else (no failed destroy before): refused.
    let sb = destroy_sandbox(&sealed);
    std::fs::write(out(&sb), b"someone else's bytes").unwrap();
    let ws = Workspace::open(sb.ws()).unwrap();
    let err = custodian_core::outputs::destroy(&ws, &out(&sb)).unwrap_err();
    assert!(
        err.to_string().contains("changed since it was written"),
        "{err}"
    );
    assert!(out(&sb).exists());
    // A destroy that failed at its fsync, after overwriting: the retry
    // overwrites again, removes the file and names the attempt it resumes.
    let sb = destroy_sandbox(&sealed);
    let ws = Workspace::open(sb.ws()).unwrap();
    let _serial = SWEEP.lock().unwrap_or_else(|e| e.into_inner());
    let mut failed_at = None;
    for n in 1..40 {
        fault::arm(Some(n), EIO);
        let r = custodian_core::outputs::destroy(&ws, &out(&sb));
        fault::disarm();
        assert!(r.is_err(), "step {n}: the fault was not reached");
        let now = std::fs::read(out(&sb)).unwrap();
        if now != DESTROY_CANARY.as_bytes() {
            failed_at = Some(n);
            break;
        }
    }
    assert!(failed_at.is_some(), "no fault left the file overwritten");
    drop(_serial);
    custodian_core::outputs::destroy(&ws, &out(&sb)).unwrap();
    assert!(!out(&sb).exists());
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let last: serde_json::Value = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .rfind(|e| e["event"] == "PLAINTEXT_OUTPUT_DESTROY" && e["status"] == "INITIATED")
        .unwrap();
    assert!(last["details"]["resumes"].is_string(), "{last}");
    assert_one_outcome_per_op(&sb, "retried destroy");
}

#[test]
fn a_killed_outputs_destroy_leaves_the_file_or_its_destruction_recorded() {
    let sealed = destroy_envelope();
    kill_sweep(
        &Case {
            name: "kill outputs destroy",
            event: "PLAINTEXT_OUTPUT_DESTROY",
            changes_registry: true,
            setup: &|| destroy_sandbox(&sealed),
            run: &|_| Ok(()),
            outputs: &|_| Vec::new(),
            happened: Some(&destroy_landed),
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["outputs", "destroy"]).arg(sb.file("opened.bin"));
            c
        },
        53,
        60,
    );
}

/// Two shares of Ana's key (2-of-2, guardians Gus and Hal), split once per
/// test binary in a prepared sandbox; each case copies them.
fn ana_shares() -> &'static [PathBuf] {
    static SPLIT: std::sync::OnceLock<(Sandbox, Vec<PathBuf>)> = std::sync::OnceLock::new();
    &SPLIT
        .get_or_init(|| {
            let sb = sandbox();
            let ws = Workspace::open(sb.ws()).unwrap();
            let pass = SecretString::from(pass_of("Ana"));
            let dir = sb.file("shares");
            guardians::split(
                &ws,
                SplitRequest {
                    identity_path: &identity(&sb, "Ana"),
                    identity_passphrase: &pass,
                    threshold: 2,
                    guardians: vec![
                        ("Gus".into(), SecretString::from(PASS_A)),
                        ("Hal".into(), SecretString::from(PASS_B)),
                    ],
                    out_dir: Some(&dir),
                },
                &|_, _, _| {},
            )
            .unwrap();
            let shares = shares_in(&dir, 2);
            (sb, shares)
        })
        .1
}

/// The prepared sandbox with copies of Ana's two shares in `shares/`.
fn combine_sandbox() -> Sandbox {
    let sb = sandbox();
    std::fs::create_dir_all(sb.file("shares")).unwrap();
    for s in ana_shares() {
        std::fs::copy(s, sb.file("shares").join(s.file_name().unwrap())).unwrap();
    }
    sb
}

/// The share set in `shares/` and its guardians' passphrases, in the
/// order `guardians combine` asks them.
fn ana_set(sb: &Sandbox) -> (guardians::ShareSet, Vec<&'static str>) {
    let mut collection = guardians::Collection::new();
    for p in shares_in(&sb.file("shares"), 2) {
        collection
            .add(guardians::LoadedShare::from_path(&p).unwrap())
            .unwrap();
    }
    let set = collection.finish(None).unwrap();
    let passes = set
        .members
        .iter()
        .map(|m| {
            if m.share.guardian == "Gus" {
                PASS_A
            } else {
                PASS_B
            }
        })
        .collect();
    (set, passes)
}

#[test]
fn guardians_combine_is_all_or_nothing_at_every_io_step() {
    let out = |sb: &Sandbox| sb.file("rebuilt.identity.json");
    sweep(&Case {
        name: "guardians combine",
        event: "GUARDIAN_COMBINE",
        changes_registry: true,
        setup: &combine_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let (set, passes) = ana_set(sb);
            let passes: Vec<SecretString> = passes.into_iter().map(SecretString::from).collect();
            guardians::combine(
                &ws,
                &set,
                &passes,
                &SecretString::from(PASS_B),
                Some(&out(sb)),
                &|_, _, _| {},
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![out(sb)],
        happened: None,
    });
}

#[test]
fn a_killed_guardians_combine_leaves_all_or_nothing() {
    let out = |sb: &Sandbox| sb.file("rebuilt.identity.json");
    kill_sweep(
        &Case {
            name: "kill guardians combine",
            event: "GUARDIAN_COMBINE",
            changes_registry: true,
            setup: &combine_sandbox,
            run: &|_| Ok(()),
            outputs: &|sb| vec![out(sb)],
            happened: None,
        },
        &|sb| {
            let (set, passes) = ana_set(sb);
            let mut c = bin(sb);
            c.args(["guardians", "combine"]);
            for p in shares_in(&sb.file("shares"), 2) {
                c.arg(p);
            }
            drop(set);
            c.arg("--out")
                .arg(out(sb))
                .arg("--passphrase-file")
                .arg(sb.pass_file("p", &[passes[0], passes[1], PASS_B, PASS_B]));
            c
        },
        61,
        2500,
    );
}

/// A complete vendor kit from the independent Python builder, its RSA
/// recovery key and an HSM import key pair, once per test binary; and
/// the private scalars it holds (no file in a sandbox may hold them).
struct WorkspaceKit {
    _dir: tempfile::TempDir,
    key: PathBuf,
    hsm_public: PathBuf,
    kit: PathBuf,
    key_ids: Vec<String>,
    scalars: Vec<String>,
}

fn workspace_kit() -> Option<&'static WorkspaceKit> {
    static KIT: std::sync::OnceLock<WorkspaceKit> = std::sync::OnceLock::new();
    if missing_tool("openssl") || missing_tool("python3") {
        return None;
    }
    Some(KIT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = common::pykit::rsa_pair(dir.path(), "recovery", 2048);
        let (_, hsm_public) = common::pykit::rsa_pair(dir.path(), "hsm", 2048);
        let (kit, keys) = common::pykit::build(dir.path(), "keys", &public, None);
        let field = |f: &str| -> Vec<String> {
            keys.iter()
                .map(|k| k[f].as_str().unwrap().to_string())
                .collect()
        };
        WorkspaceKit {
            key_ids: field("keyId"),
            scalars: field("privateKey"),
            _dir: dir,
            key,
            hsm_public,
            kit,
        }
    }))
}

/// A workspace under the typed approval policy (the sweep is about the
/// transaction, not about who approves), with an empty HSM directory
/// `hsm` (the existing-directory form; the new-directory form writes to
/// `hsm-new`, which does not exist).
fn kit_recover_sandbox() -> Sandbox {
    let sb = empty_sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    custodian_core::approvals::set_policy(
        &ws,
        custodian_core::approvals::ApprovalPolicy::Typed,
        Some("Dee Officer"),
    )
    .unwrap();
    std::fs::create_dir(sb.file("hsm")).unwrap();
    sb
}

/// The HSM output directory: the existing `hsm`, or `hsm-new` which the
/// operation creates.
fn hsm_dir(sb: &Sandbox, new_dir: bool) -> PathBuf {
    sb.file(if new_dir { "hsm-new" } else { "hsm" })
}

/// The files the HSM output publishes; with a new directory, also checks
/// that the directory exists exactly when they do (a failed or killed run
/// leaves no empty directory behind).
fn kit_recover_outputs(sb: &Sandbox, k: &WorkspaceKit, new_dir: bool) -> Vec<PathBuf> {
    let dir = hsm_dir(sb, new_dir);
    let mut v: Vec<PathBuf> = k
        .key_ids
        .iter()
        .map(|id| dir.join(format!("{id}.oaep")))
        .collect();
    v.push(dir.join(custodian_core::drkit::workspace_keys::MANIFEST_NAME));
    if new_dir && !v.iter().any(|p| p.exists()) {
        assert!(
            !dir.exists(),
            "the directory it created is left without its files"
        );
    }
    v
}

fn assert_no_workspace_scalar(sb: &Sandbox, k: &WorkspaceKit, what: &str) {
    let text = sb.all_text();
    for s in &k.scalars {
        assert!(
            !text.contains(s.as_str()),
            "{what}: a private scalar on disk"
        );
    }
}

fn kit_recover_hsm_sweep(name: &str, new_dir: bool) {
    use custodian_core::drkit::workspace_keys::{
        self, KeysOutput, MobileSecret, RecoverRequest, Selection,
    };
    let Some(k) = workspace_kit() else { return };
    sweep(&Case {
        name,
        event: workspace_keys::EVENT_RECOVER,
        changes_registry: false,
        setup: &kit_recover_sandbox,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            let opened = RecoveryKit::open(&k.kit).map_err(|e| e.to_string())?;
            let approvals = [
                custodian_core::approvals::Approval::typed("Officer One"),
                custodian_core::approvals::Approval::typed("Legal Two"),
            ];
            let r = workspace_keys::recover_audited(
                &ws,
                opened,
                &RecoverRequest {
                    key_path: &k.key,
                    passphrase: None,
                    mobile: &MobileSecret::Passphrase(SecretString::from(
                        common::pykit::MOBILE_PASS,
                    )),
                    select: &Selection::All,
                    output: &KeysOutput::Hsm {
                        public_key_pem: k.hsm_public.clone(),
                        dir: hsm_dir(sb, new_dir),
                    },
                    approvals: &approvals,
                },
            )
            .map(|_| ())
            .map_err(|e| e.to_string());
            assert_no_workspace_scalar(sb, k, name);
            r
        },
        outputs: &|sb| kit_recover_outputs(sb, k, new_dir),
        happened: None,
    });
}

#[test]
fn kit_recover_to_an_hsm_is_all_or_nothing_at_every_io_step() {
    kit_recover_hsm_sweep("kit recover --hsm-public-key --out DIR (4 keys)", false);
}

#[test]
fn kit_recover_to_an_hsm_new_directory_is_all_or_nothing_at_every_io_step() {
    kit_recover_hsm_sweep("kit recover --hsm-public-key --out NEW (4 keys)", true);
}

fn kit_recover_hsm_kill_sweep(name: &str, new_dir: bool, seed: u64) {
    let Some(k) = workspace_kit() else { return };
    kill_sweep(
        &Case {
            name,
            event: custodian_core::drkit::workspace_keys::EVENT_RECOVER,
            changes_registry: false,
            setup: &|| {
                let sb = kit_recover_sandbox();
                sb.pass_file("mobile", &[common::pykit::MOBILE_PASS]);
                sb
            },
            run: &|_| Ok(()),
            // Read after every kill and repair: the scalars are nowhere
            // (kill_sweep itself checks age keys and shard payloads).
            outputs: &|sb| {
                assert_no_workspace_scalar(sb, k, name);
                kit_recover_outputs(sb, k, new_dir)
            },
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["kit", "recover"])
                .arg(&k.kit)
                .arg("--key")
                .arg(&k.key)
                .arg("--mobile-passphrase-file")
                .arg(sb.file("mobile"))
                .args(["--approver", "Officer One", "--approver", "Legal Two"])
                .arg("--hsm-public-key")
                .arg(&k.hsm_public)
                .arg("--out")
                .arg(hsm_dir(sb, new_dir));
            c
        },
        seed,
        1200,
    );
}

#[test]
fn a_killed_kit_recover_leaves_every_output_or_none_and_no_scalar() {
    kit_recover_hsm_kill_sweep("kill kit recover --hsm-public-key --out DIR", false, 43);
}

#[test]
fn a_killed_kit_recover_into_a_new_directory_leaves_it_whole_or_gone() {
    kit_recover_hsm_kill_sweep("kill kit recover --hsm-public-key --out NEW", true, 47);
}

/// `custodian print` (issue 14): the PDF is published whole or not at all,
/// with one audit outcome, at every I/O step and at every kill.
fn print_case_out(sb: &Sandbox) -> PathBuf {
    sb.file("keys.pdf")
}

fn print_setup() -> Sandbox {
    let sb = empty_sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    identity::create_identity(&ws, "Dee", &SecretString::from(PASS_A), None).unwrap();
    sb
}

#[test]
fn print_is_all_or_nothing_at_every_io_step() {
    use custodian_core::print::{self, What, pdf::Paper};
    sweep(&Case {
        name: "print keys",
        event: print::EVENT,
        changes_registry: false,
        setup: &print_setup,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            print::print(&ws, &What::Keys, Paper::A4, Some(&print_case_out(sb)))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &|sb| vec![print_case_out(sb)],
        happened: None,
    });
}

#[test]
fn a_killed_print_leaves_the_pdf_whole_or_absent() {
    kill_sweep(
        &Case {
            name: "kill print keys",
            event: custodian_core::print::EVENT,
            changes_registry: false,
            setup: &print_setup,
            run: &|_| Ok(()),
            outputs: &|sb| vec![print_case_out(sb)],
            happened: None,
        },
        &|sb| {
            let mut c = bin(sb);
            c.args(["print", "keys", "--out"]).arg(print_case_out(sb));
            c
        },
        0x0050_5249_4e54,
        60,
    );
}

/// The guardian share's QR PNG (`w` on a split's result in the console,
/// `print::share_qr_png`): published whole or not at all, with one audit
/// outcome, at every I/O step and at every kill; never a partial image and
/// nothing but the sealed share line in it.
struct ShareQr {
    _dir: tempfile::TempDir,
    /// Gus's share of Ana's key (2-of-2 with Hal).
    share: PathBuf,
    /// The PNG a plain run writes for it.
    png: Vec<u8>,
}

/// Ana's key split once per test binary, and its first share's PNG.
fn share_qr() -> &'static ShareQr {
    static ONCE: std::sync::OnceLock<ShareQr> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let sb = sandbox();
        let ws = Workspace::open(sb.ws()).unwrap();
        let out = sb.file("shares");
        let split = guardians::split(
            &ws,
            SplitRequest {
                identity_path: &identity(&sb, "Ana"),
                identity_passphrase: &SecretString::from(pass_of("Ana")),
                threshold: 2,
                guardians: vec![
                    ("Gus".into(), SecretString::from(PASS_A)),
                    ("Hal".into(), SecretString::from(PASS_B)),
                ],
                out_dir: Some(&out),
            },
            &|_, _, _| {},
        )
        .unwrap();
        let share = split.shares[0].path.clone();
        let printed = custodian_core::print::share_qr_png(&ws, &share).unwrap();
        let png = std::fs::read(&printed.path).unwrap();
        ShareQr {
            _dir: sb.dir,
            share,
            png,
        }
    })
}

/// A fixture workspace with Gus's share copied in as `gus.share.json`.
fn share_qr_setup() -> Sandbox {
    let sb = sandbox();
    std::fs::copy(&share_qr().share, sb.file("gus.share.json")).unwrap();
    sb
}

/// The PNGs in `<ws>/printed` (a name that cannot exist when there are none).
fn share_qr_outputs(sb: &Sandbox) -> Vec<PathBuf> {
    let dir = sb.ws().join("printed");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
    if found.is_empty() {
        return vec![dir.join("none.qr.png")];
    }
    found
}

/// Whether the PNG landed; when it did, it is the whole image, byte for
/// byte; either way no plaintext secret is on disk.
fn share_qr_landed(sb: &Sandbox) -> bool {
    assert_no_plaintext_secret(sb, "share QR PNG");
    let outs = share_qr_outputs(sb);
    let landed = outs[0].exists();
    if landed {
        assert_eq!(outs.len(), 1, "{outs:?}");
        assert!(outs[0].to_string_lossy().ends_with(".qr.png"), "{outs:?}");
        assert!(
            std::fs::read(&outs[0]).unwrap() == share_qr().png,
            "a partial or different PNG: {}",
            outs[0].display()
        );
    }
    landed
}

fn share_qr_case() -> Case<'static> {
    Case {
        name: "share QR PNG",
        event: custodian_core::print::EVENT,
        changes_registry: false,
        setup: &share_qr_setup,
        run: &|sb| {
            let ws = Workspace::open(sb.ws()).unwrap();
            custodian_core::print::share_qr_png(&ws, &sb.file("gus.share.json"))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        outputs: &share_qr_outputs,
        happened: Some(&share_qr_landed),
    }
}

#[test]
fn share_qr_png_is_all_or_nothing_at_every_io_step() {
    sweep(&share_qr_case());
}

/// The kill sweep's process: this test run again as a child
/// (`common::child_command`), writing the PNG of the share in
/// `SHARE_QR_WS`'s sandbox as the console's worker does, then killed.
#[test]
fn a_killed_share_qr_png_leaves_it_whole_or_absent() {
    let name = common::this_test!();
    if common::in_child(&name) {
        let root = PathBuf::from(std::env::var_os("SHARE_QR_DIR").unwrap());
        let ws = Workspace::open(root.join("ws")).unwrap();
        custodian_core::print::share_qr_png(&ws, &root.join("gus.share.json")).unwrap();
        return;
    }
    share_qr();
    kill_sweep(
        &share_qr_case(),
        &|sb| {
            let mut c = common::child_command(&name, &[("SHARE_QR_DIR", sb.path().into())]);
            c.env_remove("CUSTODIAN_SWEEP_SEED");
            c
        },
        0x0051_5250_4e47,
        80,
    );
}
