//! Trustworthy storage, as a user meets it through the command line: a torn
//! audit tail repaired rather than called tampering, a typed registry that
//! refuses wrong shapes, read commands that never create a workspace,
//! inspect commands that validate like open, secrets never echoed, a
//! hardened process and `custodian check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{PASS_A, Sandbox};
use custodian_core::audit::AuditLog;
use predicates::prelude::*;

fn new_identity(sb: &Sandbox, name: &str) {
    sb.cmd()
        .args(["identity", "new", "--name", name, "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .success();
}

#[test]
fn a_torn_audit_tail_is_reported_then_repaired_not_called_tampering() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    let path = sb.ws().join("audit.jsonl");
    let head = AuditLog::new(&path).verify().unwrap().head;
    // What a full disk leaves: part of an entry, no newline. (The new
    // workspace's first two entries record its accepted binary.)
    let torn = br#"{"seq":5,"time":"2026-11-30T04:00:00Z","event":"IDENT"#;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(torn);
    std::fs::write(&path, &bytes).unwrap();

    // A read-only command reports the pending repair and writes nothing.
    sb.cmd()
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("audit log intact: 4 entries"))
        .stdout(predicate::str::contains("repair pending"))
        .stdout(predicate::str::contains("not tampering"))
        .stdout(predicate::str::contains("security incident").not());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    // The next audited command succeeds and records the repair.
    new_identity(&sb, "Ben");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n') && !text.contains("\"IDENT{"));
    let sha = custodian_core::fsutil::sha256_hex(torn);
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success()
        .stdout(predicate::str::contains("audit log intact: 7 entries"))
        .stdout(predicate::str::contains(
            "repaired: entry 5 records a torn final line",
        ))
        .stdout(predicate::str::contains(format!(
            "{} bytes, sha256 {sha}",
            torn.len()
        )))
        .stdout(predicate::str::contains("repair pending").not());
    let json = sb
        .cmd()
        .args(["--json", "audit", "verify"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["tailRepairs"][0]["removedBytes"], torn.len() as u64);
    assert_eq!(v["tailRepairs"][0]["removedSha256"], sha);
    assert!(v["pendingTailRepair"].is_null());
}

#[test]
fn a_bad_audit_line_is_numbered_from_one() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    let path = sb.ws().join("audit.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("garbage\n");
    std::fs::write(&path, &text).unwrap();
    sb.cmd()
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("audit log line 5"))
        .stderr(predicate::str::contains("line 0").not());
}

/// A real 3-of-5 split through the CLI, then the threat check and the
/// checklist item read the guardians' own section type.
#[test]
fn after_a_real_split_the_check_and_checklist_see_it() {
    use custodian_core::playbook::checklist::{AutoCheck, ItemState, evaluate};
    use custodian_core::playbook::checks::{CheckId, CheckStatus, run_all};
    use custodian_core::workspace::Workspace;

    let sb = Sandbox::new();
    new_identity(&sb, "Vic");
    let identity = sb.ws().join("identities/vic.identity.json");
    let mut lines = vec![PASS_A.to_string()];
    lines.extend((1..=5).map(|i| format!("{} guardian {i}", common::PASS_B)));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let ws = Workspace::open(sb.ws()).unwrap();
    let now = custodian_core::clock::now();
    let guardians_check = |ws: &Workspace| {
        let reg = ws.registry().unwrap();
        let r = run_all(ws, &reg, now, &Ok(vec![]), &Err("not hashed".into()))
            .into_iter()
            .find(|r| r.id == CheckId::GuardiansNotSplit)
            .unwrap();
        let item = evaluate(AutoCheck::GuardianSplits3Of5, ws, &reg, now);
        (r, item)
    };
    let (before, item) = guardians_check(&ws);
    assert_eq!(before.status, CheckStatus::Fail);
    assert!(matches!(item, ItemState::NotMet(_)));

    sb.cmd()
        .args(["guardians", "split", "--identity"])
        .arg(&identity)
        .args(["--threshold", "3", "--guardians", "Ana,Ben,Cy,Dee,Eli"])
        .arg("--passphrase-file")
        .arg(sb.pass_file("split.pass", &refs))
        .assert()
        .success();
    let (after, item) = guardians_check(&ws);
    assert_eq!(after.status, CheckStatus::Pass, "{:?}", after.findings);
    // Split is not enough for the checklist: every guardian must prove
    // their share first (a fact, not a hand tick).
    match &item {
        ItemState::NotMet(why) => assert!(
            why.contains("Vic's guardians have not all proved their shares (roll call): Ana, Ben, Cy, Dee, Eli"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
    let mut shares: Vec<_> = std::fs::read_dir(sb.ws().join("guardian-shares"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    shares.sort();
    assert_eq!(shares.len(), 5);
    sb.cmd()
        .args(["guardians", "roll-call"])
        .args(&shares)
        .arg("--passphrase-file")
        .arg(sb.pass_file("roll.pass", &refs[1..]))
        .assert()
        .success();
    let (_, item) = guardians_check(&ws);
    assert!(matches!(item, ItemState::Verified(_)), "{item:?}");
}

#[test]
fn a_wrong_shape_section_is_refused_by_name_and_left_alone() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    let path = sb.ws().join("registry.json");
    let mut reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    reg["guardianSplits"] = serde_json::json!(7);
    std::fs::write(&path, serde_json::to_vec_pretty(&reg).unwrap()).unwrap();
    let before = std::fs::read(&path).unwrap();
    sb.cmd()
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(sb.pass_file("p", &[PASS_A]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`guardianSplits`"))
        .stderr(predicate::str::contains("wrong shape"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

const AGE_SECRET: &str =
    "AGE-SECRET-KEY-1GQ9778VQXMMJVE8SK7J6VT8UJ4HDQAJUVSFCWCM02D8GEWQ72PVQ2Y5J33";
const PEM_SECRET: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHy1bFJ0cNoWj2Tq3GYcBvAo9rRwJ8TpH5LZ\n-----END PRIVATE KEY-----\n";
const HEX_SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Pieces of a secret long enough to matter, for canary greps (the
/// public `AGE-SECRET-KEY-1` prefix and PEM armour lines are not secret).
fn pieces(secret: &str) -> Vec<String> {
    let flat: String = secret
        .trim_start_matches("AGE-SECRET-KEY-1")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let chars: Vec<char> = flat.chars().collect();
    chars
        .chunks(16)
        .filter(|c| c.len() >= 8)
        .map(|c| c.iter().collect())
        .collect()
}

/// Every public-value place on the command line, given each kind of secret:
/// refused with exit 1, said to be exposed, and never echoed on stdout,
/// stderr or into any file (the audit log included).
#[test]
fn secrets_in_public_places_are_refused_and_never_echoed() {
    for secret in [AGE_SECRET, PEM_SECRET, HEX_SECRET] {
        let sb = Sandbox::new();
        let pem = sb.file("node.pem");
        std::fs::write(&pem, secret).unwrap();
        let s = sb.file("x.shard.json");
        let id = sb.file("x.identity.json");
        let out = sb.file("out.age");
        let cases: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
            (
                "rewrap --to",
                vec![
                    "shard".into(),
                    "rewrap".into(),
                    s.clone().into(),
                    "--identity".into(),
                    id.clone().into(),
                    "--to".into(),
                    secret.into(),
                    "--name".into(),
                    "Ben".into(),
                ],
            ),
            (
                "rewrap --name",
                vec![
                    "shard".into(),
                    "rewrap".into(),
                    s.clone().into(),
                    "--identity".into(),
                    id.clone().into(),
                    "--to".into(),
                    "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".into(),
                    "--name".into(),
                    secret.into(),
                ],
            ),
            (
                "restore-to-node --node-recipient",
                vec![
                    "shard".into(),
                    "restore-to-node".into(),
                    s.clone().into(),
                    "--identity".into(),
                    id.clone().into(),
                    "--node-recipient".into(),
                    secret.into(),
                    "--node".into(),
                    "node-1".into(),
                ],
            ),
            (
                "recover --to",
                vec![
                    "recover".into(),
                    "--shard".into(),
                    s.clone().into(),
                    "--identity".into(),
                    id.clone().into(),
                    "--approver".into(),
                    "Ana".into(),
                    "--approver".into(),
                    "Ben".into(),
                    "--to".into(),
                    secret.into(),
                    "--out".into(),
                    out.clone().into(),
                ],
            ),
            (
                "identity new --name",
                vec![
                    "identity".into(),
                    "new".into(),
                    "--name".into(),
                    secret.into(),
                    "--passphrase-file".into(),
                    sb.pass_file("p", &[PASS_A]).into(),
                ],
            ),
        ];
        let mut cases = cases;
        if secret == PEM_SECRET {
            cases.push((
                "recover --hsm-public-key",
                vec![
                    "recover".into(),
                    "--shard".into(),
                    s.clone().into(),
                    "--identity".into(),
                    id.clone().into(),
                    "--approver".into(),
                    "Ana".into(),
                    "--approver".into(),
                    "Ben".into(),
                    "--hsm-public-key".into(),
                    pem.clone().into(),
                    "--out".into(),
                    out.clone().into(),
                ],
            ));
        }
        for (what, args) in cases {
            let output = sb.cmd().args(&args).output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
            assert!(stderr.contains("it was a secret"), "{what}: {stderr}");
            assert!(
                stderr.contains("must be treated as exposed"),
                "{what}: {stderr}"
            );
            let files: String = sb
                .snapshot()
                .into_iter()
                .filter(|(p, _)| p != &pem)
                .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
                .collect();
            for piece in pieces(secret) {
                assert!(!stdout.contains(&piece), "{what}: stdout echoes the secret");
                assert!(!stderr.contains(&piece), "{what}: stderr echoes the secret");
                assert!(!files.contains(&piece), "{what}: a file holds the secret");
            }
        }
    }
}

#[test]
fn an_unreadable_recipient_is_echoed_only_by_a_short_prefix() {
    let sb = Sandbox::new();
    let long = "age1notarealrecipientbutlongenoughtomatter0123456789";
    sb.cmd()
        .args([
            "shard",
            "rewrap",
            "x.shard",
            "--identity",
            "x.id",
            "--to",
            long,
            "--name",
            "Ben",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`age1notareal…` is not an age recipient",
        ))
        .stderr(predicate::str::contains(long).not());
}

/// Read commands pointed at a mistyped workspace: an error naming it, and
/// nothing created.
#[test]
fn read_commands_never_create_a_workspace() {
    let sb = Sandbox::new();
    let typo = sb.file("wrokspace");
    for args in [
        vec!["audit", "verify"],
        vec!["audit", "show"],
        vec!["incident", "list"],
        vec!["incident", "show", "INC-20260101-abcdef"],
        vec!["check"],
        vec!["--json", "check"],
    ] {
        assert_cmd::Command::cargo_bin("custodian")
            .unwrap()
            .env_remove("CUSTODIAN_WORKSPACE")
            .arg("--workspace")
            .arg(&typo)
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "no workspace at {}",
                typo.display()
            )))
            .stdout(predicate::str::contains("intact").not());
        assert!(!typo.exists(), "{args:?} created the workspace");
    }
}

/// Guardian passphrases for Vic's split, after Vic's own.
fn split_lines(identity_pass: &str) -> Vec<String> {
    let mut lines = vec![identity_pass.to_string()];
    lines.extend((1..=5).map(|i| format!("{} guardian {i}", common::PASS_B)));
    lines
}

#[test]
fn a_failing_split_leaves_no_empty_out_dir() {
    let sb = Sandbox::new();
    new_identity(&sb, "Vic");
    let out = sb.file("shares/new");
    let lines = split_lines("not the right passphrase at all, sorry");
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    sb.cmd()
        .args(["guardians", "split", "--identity"])
        .arg(sb.ws().join("identities/vic.identity.json"))
        .args([
            "--threshold",
            "3",
            "--guardians",
            "Ana,Ben,Cy,Dee,Eli",
            "--out-dir",
        ])
        .arg(&out)
        .arg("--passphrase-file")
        .arg(sb.pass_file("split.pass", &refs))
        .assert()
        .code(1);
    assert!(!out.exists(), "the failed split left {}", out.display());
}

fn edit_json(path: &std::path::Path, change: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// `show` and `inspect` refuse the invalid fields opening refuses.
#[test]
fn identity_show_and_guardians_inspect_validate_like_open() {
    let sb = Sandbox::new();
    new_identity(&sb, "Vic");
    let identity = sb.ws().join("identities/vic.identity.json");
    for (what, change) in [
        ("name", serde_json::json!("../../x")),
        ("createdAt", serde_json::json!("yesterday")),
    ] {
        let copy = sb.file(&format!("bad-{what}.identity.json"));
        std::fs::copy(&identity, &copy).unwrap();
        edit_json(&copy, |v| v[what] = change.clone());
        sb.cmd()
            .args(["identity", "show"])
            .arg(&copy)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty());
    }
    sb.cmd()
        .args(["identity", "show"])
        .arg(&identity)
        .assert()
        .success();

    let lines = split_lines(PASS_A);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let out = sb
        .cmd()
        .args(["--json", "guardians", "split", "--identity"])
        .arg(&identity)
        .args(["--threshold", "3", "--guardians", "Ana,Ben,Cy,Dee,Eli"])
        .arg("--passphrase-file")
        .arg(sb.pass_file("split.pass", &refs))
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let share = std::path::PathBuf::from(json["shares"][0]["file"].as_str().unwrap());
    sb.cmd()
        .args(["guardians", "inspect"])
        .arg(&share)
        .assert()
        .success();
    for (what, change) in [
        ("index", serde_json::json!(0)),
        ("threshold", serde_json::json!(9)),
        ("createdAt", serde_json::json!("yesterday")),
        ("guardian", serde_json::json!("../../x")),
    ] {
        let copy = sb.file(&format!("bad-{what}.share.json"));
        std::fs::copy(&share, &copy).unwrap();
        edit_json(&copy, |v| v[what] = change.clone());
        sb.cmd()
            .args(["guardians", "inspect"])
            .arg(&copy)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty());
    }
}

#[test]
fn shard_inspect_and_incident_show_validate_like_open() {
    use custodian_core::drill::key::{self, MakeKeyRequest};
    use custodian_core::playbook::incident;
    use custodian_core::playbook::model::Playbook;
    use custodian_core::workspace::Workspace;

    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let names: Vec<String> = ["Ana", "Ben"].map(String::from).to_vec();
    let record = key::make_key(
        &ws,
        MakeKeyRequest {
            custodians: names.clone(),
            threshold: 2,
            key_id: Some("drill-alpha".into()),
            out_dir: None,
            generate: names
                .iter()
                .map(|n| (n.clone(), secrecy::SecretString::from(PASS_A)))
                .collect(),
        },
    )
    .unwrap();
    let shard = &record.files[0];
    sb.cmd()
        .args(["shard", "inspect"])
        .arg(shard)
        .assert()
        .success();
    for (what, change) in [
        ("index", serde_json::json!(0)),
        ("createdAt", serde_json::json!("yesterday")),
        ("custodian", serde_json::json!("../../x")),
    ] {
        let copy = sb.file(&format!("bad-{what}.shard.json"));
        std::fs::copy(shard, &copy).unwrap();
        edit_json(&copy, |v| v[what] = change.clone());
        sb.cmd()
            .args(["shard", "inspect"])
            .arg(&copy)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty());
    }

    let inc = incident::open(&ws, Playbook::builtin(), 2, "Ana Officer", None).unwrap();
    let path = sb.ws().join("incidents").join(format!("{}.json", inc.id));
    sb.cmd()
        .args(["incident", "show", &inc.id])
        .assert()
        .success();
    let original = std::fs::read(&path).unwrap();
    for (what, change) in [
        ("scenario", serde_json::json!(9)),
        ("startedAt", serde_json::json!("yesterday")),
        ("operators", serde_json::json!(["../../x"])),
    ] {
        std::fs::write(&path, &original).unwrap();
        edit_json(&path, |v| v[what] = change.clone());
        sb.cmd()
            .args(["incident", "show", &inc.id])
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("../../x").not());
    }
}

/// The real binary, blocked reading a passphrase: its core limit is 0/0
/// and it is not dumpable (its /proc files belong to root, not to the user
/// it runs as — run as `nobody` when the tests run as root).
#[test]
fn the_running_binary_is_not_dumpable_and_writes_no_core() {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;

    use std::os::fd::AsRawFd;

    let built = assert_cmd::cargo::cargo_bin("custodian");
    let as_root = rustix_uid() == 0;
    // Run as `nobody` (below), the binary must be reachable by it: a build
    // under a private directory (a 0700 mktemp dir, as in
    // scripts/bench-newcomer.sh's fresh clone) is not, so it runs from a
    // copy in a directory anyone may enter.
    let copy_dir = tempfile::tempdir().unwrap();
    let exe = if as_root {
        std::fs::set_permissions(copy_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = copy_dir.path().join("custodian");
        std::fs::copy(&built, &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    } else {
        built
    };
    // The passphrase pipe: the binary blocks reading it (through /dev/fd/0,
    // so `nobody` must be allowed to open it).
    let (reader, mut writer) = std::io::pipe().unwrap();
    if as_root {
        let fd = format!("/proc/self/fd/{}", reader.as_raw_fd());
        std::fs::set_permissions(&fd, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(["passphrase", "check", "--passphrase-fd", "0"])
        .env_remove("CUSTODIAN_WORKSPACE")
        .stdin(reader)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if as_root {
        cmd.uid(65534).gid(65534);
    }
    let mut child = cmd.spawn().unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", child.id()));
    let mut limits = String::new();
    for _ in 0..200 {
        limits = std::fs::read_to_string(proc_dir.join("limits")).unwrap_or_default();
        let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
        // Blocked on its passphrase read: past start-up.
        if status.contains("State:\tS") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(&core[4..6], ["0", "0"], "{limits}");
    let owner = std::fs::metadata(proc_dir.join("status")).unwrap().uid();
    let runs_as = if as_root { 65534 } else { rustix_uid() };
    assert_ne!(
        owner, runs_as,
        "its /proc files belong to its own user: dumpable"
    );
    assert_eq!(owner, 0);
    writer.write_all(b"\n").ok();
    drop(writer);
    let _ = child.wait();
}

fn rustix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of our own /proc entry is our uid (the test harness is dumpable).
    std::fs::metadata("/proc/self").unwrap().uid()
}

/// `custodian check`: the same checks as the screens, a table or one JSON
/// document, exit 1 while anything fails and 0 once everything passes.
#[test]
fn check_reports_every_local_check_and_exits_by_the_result() {
    let sb = Sandbox::new();
    new_identity(&sb, "Vic");
    let json = sb
        .cmd()
        .args(["--json", "check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("checks failed"))
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["ok"], false);
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "same-directory",
            "world-readable",
            "passphrase-policy",
            "rotation-overdue",
            "guardians-not-split",
            "network-up",
            "drill-overdue",
            "audit-chain",
            "leftover-temp-files",
            "running-binary",
            "guardian-roll-call",
            "guardian-quorum",
            "retired-copies",
            "plaintext-outputs",
            "backup-overdue",
            "token-second-factor"
        ]
    );
    let status = |v: &serde_json::Value, id: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status(&v, "guardians-not-split"), "fail");
    assert_eq!(status(&v, "drill-overdue"), "fail");
    assert_eq!(status(&v, "audit-chain"), "pass");
    assert_eq!(status(&v, "leftover-temp-files"), "pass");
    assert_eq!(status(&v, "running-binary"), "pass");
    assert_eq!(status(&v, "passphrase-policy"), "pass");
    assert_eq!(status(&v, "plaintext-outputs"), "pass");
    // An identity was made and never backed up.
    assert_eq!(status(&v, "backup-overdue"), "fail");

    // A temporary file left behind and a tampered audit line both fail.
    let tmp = sb.ws().join("identities/.custodian-tmp-AbC123");
    std::fs::write(&tmp, b"x").unwrap();
    let log = sb.ws().join("audit.jsonl");
    let original = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, original.replacen("Vic", "Mal", 1)).unwrap();
    sb.cmd()
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL  Audit log hash chain intact",
        ))
        .stdout(predicate::str::contains(".custodian-tmp-AbC123"));
    std::fs::write(&log, original).unwrap();
    std::fs::remove_file(&tmp).unwrap();

    // Everything the workspace can satisfy, satisfied: exit 0 (when this
    // machine has no live network interface; otherwise only that fails).
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    ws.update_registry(|r| {
        let vic = r.custodians[0].clone();
        r.guardian_splits
            .splits
            .push(custodian_core::guardians::SplitRecord {
                set_id: "0".repeat(32),
                custodian: vic.name.clone(),
                recipient: vic.recipient.clone(),
                threshold: 3,
                total: 5,
                guardians: (1..=5).map(|i| format!("G{i}")).collect(),
                files: Vec::new(),
                file_sha256: Vec::new(),
                created_at: custodian_core::clock::now_string(),
                commitments: vec!["0".repeat(64); 5],
                superseded: None,
                // Every guardian proved their share at a roll call today.
                roll_call: (1..=5)
                    .map(|i| (format!("G{i}"), custodian_core::clock::now_string()))
                    .collect(),
            });
        r.drills.push(custodian_core::drill::run::DrillRecord {
            date: custodian_core::clock::now_string(),
            ..Default::default()
        });
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    // And an encrypted backup newer than the identity.
    let vic = ws.registry().unwrap().custodians[0].recipient.clone();
    sb.cmd()
        .args(["backup", "--to", &vic, "--out"])
        .arg(sb.file("ws.age"))
        .assert()
        .success();
    let offline = custodian_core::netcheck::live_interfaces().is_ok_and(|l| l.is_empty());
    let out = sb.cmd().args(["--json", "check"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for c in v["checks"].as_array().unwrap() {
        if c["id"] != "network-up" {
            assert_ne!(c["status"], "fail", "{c}");
        }
    }
    if offline {
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(v["ok"], true);
    } else {
        assert_eq!(out.status.code(), Some(1));
    }
}
