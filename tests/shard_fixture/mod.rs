//! A prepared sandbox for shard and recovery tests: three custodians (Ana,
//! Ben, Cy) with sealed identities, a 2-of-3 drill key `drill-alpha` and a
//! second key `drill-beta` for the same custodians. Made once per test
//! binary (identity sealing runs the real 600,000-iteration PBKDF2) and
//! copied into a fresh sandbox for each test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use custodian_core::drill::key::{self, MakeKeyRequest};
use custodian_core::workspace::Workspace;
use secrecy::SecretString;

use crate::common::{PASS_A, PASS_B, Sandbox};

/// Passphrases per custodian.
pub fn pass_of(name: &str) -> &'static str {
    match name {
        "Ben" => PASS_B,
        _ => PASS_A,
    }
}

fn template() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path().join("ws")).unwrap();
        let names = ["Ana", "Ben", "Cy"].map(String::from).to_vec();
        key::make_key(
            &ws,
            MakeKeyRequest {
                custodians: names.clone(),
                threshold: 2,
                key_id: Some("drill-alpha".into()),
                out_dir: None,
                generate: names
                    .iter()
                    .map(|n| (n.clone(), SecretString::from(pass_of(n))))
                    .collect(),
            },
        )
        .unwrap();
        key::make_key(
            &ws,
            MakeKeyRequest {
                custodians: names,
                threshold: 2,
                key_id: Some("drill-beta".into()),
                out_dir: None,
                generate: Vec::new(),
            },
        )
        .unwrap();
        // The recovery tests name typed approvers; authenticated approvals
        // (the default of a new workspace) are tested in tests/approvals.rs.
        ws.update_registry(|r| {
            r.policy.approvals = Some(custodian_core::approvals::ApprovalPolicy::Typed);
            Ok::<_, custodian_core::workspace::WorkspaceError>(())
        })
        .unwrap();
        dir
    })
    .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

/// A fresh sandbox holding a copy of the prepared workspace.
pub fn sandbox() -> Sandbox {
    let sb = Sandbox::new();
    let from = template().join("ws");
    copy_dir(&from, &sb.ws());
    // The registry records absolute paths: point them at the copy.
    let reg = sb.ws().join("registry.json");
    let text = std::fs::read_to_string(&reg).unwrap();
    std::fs::write(
        &reg,
        text.replace(from.to_str().unwrap(), sb.ws().to_str().unwrap()),
    )
    .unwrap();
    sb
}

/// The shard file of `key` ("alpha"/"beta") for a custodian.
pub fn shard(sb: &Sandbox, key: &str, index: u32) -> PathBuf {
    let name = ["ana", "ben", "cy"][index as usize - 1];
    sb.ws()
        .join("shards")
        .join(format!("drill-{key}.{index}.{name}.shard.json"))
}

/// Sets `name`'s rotation due date in the past (2026-01-01), so a test can
/// see a rotation move it on rather than find the fixture's own date.
pub fn make_rotation_overdue(sb: &Sandbox, name: &str) {
    Workspace::open(sb.ws())
        .unwrap()
        .update_registry(|r| {
            for c in r.custodians.iter_mut().filter(|c| c.name == name) {
                c.rotation_due = "2026-01-01T00:00:00Z".into();
            }
            Ok::<_, custodian_core::workspace::WorkspaceError>(())
        })
        .unwrap();
}

/// A custodian's identity file.
pub fn identity(sb: &Sandbox, name: &str) -> PathBuf {
    sb.ws()
        .join("identities")
        .join(format!("{}.identity.json", name.to_lowercase()))
}

/// The custodian holding index `i`.
pub fn holder(i: u32) -> &'static str {
    ["Ana", "Ben", "Cy"][i as usize - 1]
}

/// Rewrites one JSON field of a shard file in place (to simulate tampering).
pub fn tamper(path: &Path, field: &str, value: serde_json::Value) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v[field] = value;
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// Every audit entry's (event, status) in order.
pub fn audit_events(sb: &Sandbox) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["event"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The sandbox's files other than the audit log (which records failures).
pub fn snapshot_without_audit(sb: &Sandbox) -> Vec<(PathBuf, Vec<u8>)> {
    sb.snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("audit.jsonl"))
        .collect()
}

/// `name`'s key split `threshold`-of-n among `guardians`, each share sealed
/// under `"{PASS_B} {guardian}"`; returns the share files in index order.
pub fn split_among(sb: &Sandbox, name: &str, guardians: &[&str], threshold: usize) -> Vec<PathBuf> {
    let ws = Workspace::open(sb.ws()).unwrap();
    custodian_core::guardians::split(
        &ws,
        custodian_core::guardians::SplitRequest {
            identity_path: &identity(sb, name),
            identity_passphrase: &SecretString::from(pass_of(name)),
            threshold,
            guardians: guardians
                .iter()
                .map(|g| (g.to_string(), SecretString::from(format!("{PASS_B} {g}"))))
                .collect(),
            out_dir: None,
        },
        &|_, _, _| {},
    )
    .unwrap()
    .shares
    .into_iter()
    .map(|s| s.path)
    .collect()
}

/// Encrypts `plain` with the real age CLI (`age -a ARGS`), armored.
pub fn age_cli_encrypt(sb: &Sandbox, args: &[&str], plain: &[u8]) -> String {
    let input = sb.file("age-input.bin");
    std::fs::write(&input, plain).unwrap();
    let out = std::process::Command::new("age")
        .arg("-a")
        .args(args)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Ben's shard of key `alpha` (index 2) with its payload as our library
/// decrypts it, for a peer to encrypt again in another way.
pub fn ben_shard_and_payload(sb: &Sandbox) -> (custodian_core::shard::ShardFile, Vec<u8>) {
    let file = custodian_core::shard::ShardFile::load(&shard(sb, "alpha", 2)).unwrap();
    let ben = custodian_core::identity::IdentityFile::load(&identity(sb, "Ben"))
        .unwrap()
        .open(&SecretString::from(pass_of("Ben")))
        .unwrap();
    let payload = file.open(&ben).unwrap().to_bytes().to_vec();
    (file, payload)
}

/// A copy of Ben's shard of `drill-alpha` whose share is encrypted (by the
/// real age CLI) to Ben and to a second key, written as `two.shard.json`
/// in the sandbox: a rewrap refuses it unless accepted.
pub fn two_key_shard(sb: &Sandbox) -> PathBuf {
    let (mut file, payload) = ben_shard_and_payload(sb);
    let other = custodian_core::identity::OpenedIdentity::generate("Mallory");
    let recipient = file.recipient.clone();
    file.wrapped_key_share =
        age_cli_encrypt(sb, &["-r", &recipient, "-r", &other.recipient], &payload);
    let two = sb.file("two.shard.json");
    std::fs::write(&two, file.to_bytes()).unwrap();
    two
}
