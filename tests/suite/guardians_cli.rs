//! `custodian guardians split|combine|inspect` end to end through the
//! binary: a real 3-of-5 split, rebuilds from share files and printed
//! lines, and each class of bad input with its exact message and nothing
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{PASS_A, PASS_B, Sandbox, gpass};
use predicates::prelude::*;
use serde_json::Value;

const GUARDIANS: [&str; 5] = ["Ana", "Ben", "Cy", "Dee", "Eli"];

struct Master {
    sandbox: Sandbox,
    shares: Vec<PathBuf>,
    json: Value,
}

/// Custodian Vic split 3-of-5 through the CLI, once per test binary (the
/// real KDFs are slow); each test works on its own copy.
fn master() -> &'static Master {
    static M: OnceLock<Master> = OnceLock::new();
    M.get_or_init(|| {
        let sb = Sandbox::new();
        let p = sb.pass_file("vic.pass", &[PASS_A]);
        sb.cmd()
            .args(["identity", "new", "--name", "Vic", "--passphrase-file"])
            .arg(&p)
            .assert()
            .success();
        let identity = sb.ws().join("identities/vic.identity.json");
        let mut lines = vec![PASS_A.to_string()];
        lines.extend(GUARDIANS.iter().map(|g| gpass(g)));
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let p = sb.pass_file("split.pass", &refs);
        let out = sb
            .cmd()
            .args(["--json", "guardians", "split", "--identity"])
            .arg(&identity)
            .args([
                "--threshold",
                "3",
                "--guardians",
                "Ana,Ben,Cy,Dee,Eli",
                "--passphrase-file",
            ])
            .arg(&p)
            .assert()
            .success();
        let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let shares = json["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| PathBuf::from(s["file"].as_str().unwrap()))
            .collect();
        Master {
            sandbox: sb,
            shares,
            json,
        }
    })
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// A fresh sandbox holding a copy of the master split: (sandbox, identity
/// file, share files in index order, the split's JSON output).
fn split_sandbox() -> (Sandbox, PathBuf, Vec<PathBuf>, Value) {
    let m = master();
    let sb = Sandbox::new();
    copy_tree(&m.sandbox.ws(), &sb.ws());
    let moved = |p: &PathBuf| sb.ws().join(p.strip_prefix(m.sandbox.ws()).unwrap());
    let shares = m.shares.iter().map(moved).collect();
    let identity = sb.ws().join("identities/vic.identity.json");
    (sb, identity, shares, m.json.clone())
}

fn recipient_of(sb: &Sandbox, identity: &PathBuf) -> String {
    let out = sb
        .cmd()
        .args(["--json", "identity", "show"])
        .arg(identity)
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    v["recipient"].as_str().unwrap().to_string()
}

/// Everything except the audit log (which records failures by design).
fn files_but_audit(sb: &Sandbox) -> Vec<(PathBuf, Vec<u8>)> {
    sb.snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("audit.jsonl"))
        .collect()
}

#[test]
fn split_inspect_and_combine_end_to_end() {
    let (sb, identity, shares, json) = split_sandbox();
    let recipient = recipient_of(&sb, &identity);
    assert_eq!(json["recipient"], recipient.as_str());
    assert_eq!(json["threshold"], 3);
    assert_eq!(json["total"], 5);
    assert_eq!(json["provedWith"].as_array().unwrap().len(), 3);
    assert_eq!(shares.len(), 5);
    for s in &master().shares {
        let mode = std::fs::metadata(s).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", s.display());
    }
    // No secret anywhere in the workspace in the clear (the passphrase
    // files sit outside it, in the sandbox).
    let all: String = sb
        .snapshot()
        .into_iter()
        .filter(|(p, _)| p.starts_with(sb.ws()))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(all.contains("GUARDIAN_SPLIT"));
    assert!(!all.contains("AGE-SECRET-KEY"));
    assert!(!all.contains(PASS_B));

    // inspect needs no passphrase.
    sb.cmd()
        .args(["guardians", "inspect"])
        .arg(&shares[1])
        .arg("--qr")
        .assert()
        .success()
        .stdout(predicate::str::contains("guardian:    Ben"))
        .stdout(predicate::str::contains(
            "share:       #2 of 5 (any 3 rebuild the key)",
        ))
        .stdout(predicate::str::contains(format!(
            "recipient:   {recipient}"
        )))
        .stdout(predicate::str::contains("printed:     custodianshare2 "))
        .stdout(predicate::str::contains("█"));

    // Ben's share comes back as the printed line on paper, in groups.
    let printed = json["shares"][1]["printed"].as_str().unwrap();
    let paper = sb.file("ben-paper.txt");
    std::fs::write(&paper, custodian_core::guardians::printed::grouped(printed)).unwrap();

    // Eli, Ben (paper) and Ana, given out of order; plus a duplicate copy of Ana's.
    let p = sb.pass_file(
        "combine.pass",
        &[
            &gpass("Ana"),
            &gpass("Ben"),
            &gpass("Eli"),
            "new passphrase for the rebuilt identity file",
        ],
    );
    let out_path = sb.file("vic-rebuilt.identity.json");
    let out = sb
        .cmd()
        .args(["--json", "guardians", "combine"])
        .arg(&shares[4])
        .arg(&paper)
        .arg(&shares[0])
        .arg(&shares[0])
        .arg("--out")
        .arg(&out_path)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: Ana's share #1 was given twice",
        ));
    let c: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(c["recipient"], recipient.as_str());
    assert_eq!(c["guardians"], serde_json::json!(["Ana", "Ben", "Eli"]));
    assert_eq!(c["registered"], false);

    // The rebuilt identity opens under its new passphrase and matches.
    assert_eq!(recipient_of(&sb, &out_path), recipient);
    let p = sb.pass_file(
        "open.pass",
        &["new passphrase for the rebuilt identity file"],
    );
    sb.cmd()
        .args(["identity", "open"])
        .arg(&out_path)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success();

    // Interop: a file the real age CLI encrypted to the original recipient
    // decrypts with the rebuilt key (exported as a plain age key file).
    if !common::missing_tool("age") {
        let message = sb.file("message.age");
        let status = std::process::Command::new("age")
            .args(["-r", &recipient, "-o"])
            .arg(&message)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(b"signing drill 2026-Q4\n")?;
                child.wait()
            })
            .unwrap();
        assert!(status.success());
        let key = sb.file("rebuilt.key");
        sb.cmd()
            .args(["identity", "export", "--plaintext", "--out"])
            .arg(&key)
            .arg("--i-understand-this-writes-a-plaintext-key")
            .arg(&out_path)
            .arg("--passphrase-file")
            .arg(&p)
            .assert()
            .success();
        assert_eq!(
            common::age(&["-d", "-i", key.to_str().unwrap()], Some(&message)),
            b"signing drill 2026-Q4\n"
        );
        std::fs::remove_file(&key).unwrap();
    }

    // The registry keeps one custodian and records split + reconstruction;
    // the audit has both operations bracketed, and the chain verifies.
    let reg: Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    assert_eq!(reg["custodians"].as_array().unwrap().len(), 1);
    assert_eq!(
        reg["guardianSplits"]["splits"][0]["guardians"],
        serde_json::json!(GUARDIANS)
    );
    assert_eq!(
        reg["guardianSplits"]["reconstructions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    for needle in [
        r#""event":"GUARDIAN_SPLIT","status":"INITIATED""#,
        r#""event":"GUARDIAN_SPLIT","status":"COMPLETED""#,
        r#""event":"GUARDIAN_COMBINE","status":"INITIATED""#,
        r#""event":"GUARDIAN_COMBINE","status":"COMPLETED""#,
    ] {
        assert!(audit.contains(needle), "missing {needle}");
    }
    sb.cmd().args(["audit", "verify"]).assert().success();
}

#[test]
fn combine_in_a_fresh_workspace_registers_the_custodian() {
    let (sb, identity, shares, _) = split_sandbox();
    let recipient = recipient_of(&sb, &identity);
    let p = sb.pass_file(
        "combine.pass",
        &[&gpass("Ben"), &gpass("Cy"), &gpass("Dee"), PASS_A],
    );
    let out = assert_cmd::Command::cargo_bin("custodian")
        .unwrap()
        .env_remove("CUSTODIAN_WORKSPACE")
        .args(["--workspace"])
        .arg(sb.file("fresh-ws"))
        .args(["--json", "guardians", "combine"])
        .args(&shares[1..4])
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success();
    let c: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(c["registered"], true);
    assert_eq!(c["recipient"], recipient.as_str());
    let reg: Value =
        serde_json::from_slice(&std::fs::read(sb.file("fresh-ws/registry.json")).unwrap()).unwrap();
    assert_eq!(reg["custodians"][0]["name"], "Vic");
    assert_eq!(reg["custodians"][0]["recipient"], recipient.as_str());
}

/// Writes a share file edited by `edit` (its header only; the envelope is untouched).
fn edited(sb: &Sandbox, from: &PathBuf, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut v: Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    edit(&mut v);
    let p = sb.file(name);
    std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    p
}

#[test]
fn bad_share_sets_are_refused_before_any_passphrase_with_nothing_written() {
    let (sb, _identity, shares, _) = split_sandbox();
    let zero = edited(&sb, &shares[2], "zero.json", |v| v["index"] = 0.into());
    let foreign = edited(&sb, &shares[2], "foreign.json", |v| {
        v["setId"] = "0123456789abcdef0123456789abcdef".into()
    });
    let threshold = edited(&sb, &shares[2], "threshold.json", |v| {
        v["threshold"] = 2.into()
    });
    let total = edited(&sb, &shares[2], "total.json", |v| v["total"] = 6.into());
    let impostor = edited(&sb, &shares[4], "impostor.json", |v| v["index"] = 2.into());
    let set8 = |p: &PathBuf| {
        let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v["setId"].as_str().unwrap()[..8].to_string()
    };
    let cases: Vec<(Vec<&PathBuf>, String)> = vec![
        (
            vec![&shares[0], &shares[3]],
            "error: have 2 of 3 needed; missing: Ben (#2), Cy (#3), Eli (#5) (any 1 of them)".into(),
        ),
        (
            vec![&shares[0], &shares[1], &zero],
            "error: Cy's share has index 0, which no real share has: the file is damaged or forged"
                .into(),
        ),
        (
            vec![&shares[0], &shares[1], &foreign],
            format!(
                "error: shares from different sets: Ana (set {}) and Cy (set 01234567) were not split together",
                set8(&shares[0])
            ),
        ),
        (
            vec![&shares[0], &shares[1], &threshold],
            "error: threshold mismatch: Ana's share says 3, Cy's says 2".into(),
        ),
        (
            vec![&shares[0], &shares[1], &total],
            "error: total mismatch: Ana's share says 5, Cy's says 6".into(),
        ),
        (
            vec![&shares[0], &shares[1], &impostor, &shares[2]],
            "error: Ben's and Eli's shares both have index 2 but different contents: one of them is not genuine".into(),
        ),
    ];
    // An empty passphrase file: any attempt to ask for a passphrase would fail differently.
    let p = sb.pass_file("none.pass", &[]);
    for (args, message) in cases {
        let before = sb.snapshot();
        sb.cmd()
            .args(["guardians", "combine"])
            .args(args)
            .arg("--passphrase-file")
            .arg(&p)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::starts_with(format!("{message}\n")))
            .stderr(predicate::str::contains("what to do: "));
        assert_eq!(sb.snapshot(), before, "{message}: something was written");
    }
}

#[test]
fn a_wrong_guardian_passphrase_is_named_and_nothing_but_the_audit_is_written() {
    let (sb, _identity, shares, _) = split_sandbox();
    let p = sb.pass_file(
        "combine.pass",
        &[
            &gpass("Ana"),
            &gpass("Ana"), // Ben types Ana's passphrase
            &gpass("Cy"),
            "new passphrase for the rebuilt identity file",
        ],
    );
    let before = files_but_audit(&sb);
    sb.cmd()
        .args(["guardians", "combine"])
        .args(&shares[..3])
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::ends_with(
            "error: Ben's passphrase does not open share 2 (or the share was altered)\n  \
             what to do: ask Ben to type their passphrase again (caps lock, keyboard layout); \
             if it is right, their copy was altered\n",
        ));
    assert_eq!(files_but_audit(&sb), before);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(audit.contains(r#""event":"GUARDIAN_COMBINE","status":"FAILED""#));
    assert!(!audit.contains(PASS_B));
}

#[test]
fn a_mistyped_printed_share_is_caught_by_its_checksum() {
    let (sb, _identity, shares, json) = split_sandbox();
    let printed = json["shares"][1]["printed"].as_str().unwrap().to_string();
    // The plain line as earlier versions printed it (groups of six after
    // the prefix), with the 3rd character of the 5th group changed.
    let data = printed.strip_prefix("custodianshare1").unwrap();
    let mut groups: Vec<String> = std::iter::once("custodianshare1".to_string())
        .chain(
            data.as_bytes()
                .chunks(6)
                .map(|c| String::from_utf8(c.to_vec()).unwrap()),
        )
        .collect();
    let g = &mut groups[5];
    let wrong = if g.as_bytes()[2] == b'q' { 'p' } else { 'q' };
    g.replace_range(2..3, &wrong.to_string());
    let paper = sb.file("ben-paper.txt");
    std::fs::write(&paper, groups.join(" ")).unwrap();
    // The grouped form on paper, typed on three lines with dashes, with
    // the 2nd character of group 17 wrong.
    let mut checked = custodian_core::guardians::printed::groups(&printed);
    let g = &mut checked[16];
    let wrong = if g.as_bytes()[1] == b'q' { 'p' } else { 'q' };
    g.replace_range(1..2, &wrong.to_string());
    let typed = format!(
        "custodianshare2\n{}\n{}\n",
        checked[..20].join("-"),
        checked[20..].join(" ")
    );
    let paper2 = sb.file("ben-paper-grouped.txt");
    std::fs::write(&paper2, typed).unwrap();
    let before = sb.snapshot();
    sb.cmd()
        .args(["guardians", "combine"])
        .arg(&shares[0])
        .arg(&paper)
        .arg(&shares[2])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: the printed share's checksum does not match: a character was mistyped (group 5, character 3 looks wrong)\n",
        ));
    sb.cmd()
        .args(["guardians", "combine"])
        .arg(&shares[0])
        .arg(&paper2)
        .arg(&shares[2])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: group 17 of the printed share is wrong: its check character does not match\n",
        ))
        .stderr(predicate::str::contains(
            "compare group 17 with the paper copy",
        ));
    for p in [&paper, &paper2] {
        sb.cmd()
            .args(["guardians", "inspect"])
            .arg(p)
            .assert()
            .code(1);
    }
    assert_eq!(sb.snapshot(), before);
}

#[test]
fn bad_split_requests_are_refused_with_nothing_written() {
    let (sb, identity, _, _) = split_sandbox();
    let cases = [
        (
            vec!["--threshold", "1", "--guardians", "Ana,Ben"],
            "error: a 1-of-2 split is not possible: need 2 ≤ threshold ≤ guardians ≤ 255",
        ),
        (
            vec!["--threshold", "4", "--guardians", "Ana,Ben,Cy"],
            "error: a 4-of-3 split is not possible: need 2 ≤ threshold ≤ guardians ≤ 255",
        ),
        (
            vec!["--threshold", "2", "--guardians", "Ana,Ben,ana"],
            "error: guardian `ana` is listed twice",
        ),
    ];
    let none = sb.pass_file("none.pass", &[]);
    for (args, message) in cases {
        let before = sb.snapshot();
        sb.cmd()
            .args(["guardians", "split", "--identity"])
            .arg(&identity)
            .args(args)
            .arg("--passphrase-file")
            .arg(&none)
            .assert()
            .code(1)
            .stderr(predicate::str::starts_with(format!("{message}\n")));
        assert_eq!(sb.snapshot(), before, "{message}");
    }
    // A wrong custodian passphrase: audited as FAILED, no share written.
    let lines = [
        "wrong custodian passphrase entirely",
        &gpass("Ana"),
        &gpass("Ben"),
    ];
    let p = sb.pass_file("split.pass", &lines);
    let before = files_but_audit(&sb);
    sb.cmd()
        .args(["guardians", "split", "--identity"])
        .arg(&identity)
        .args(["--threshold", "2", "--guardians", "Ana,Ben", "--passphrase-file"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: could not open the envelope: the passphrase is wrong, or the file was altered\n",
        ));
    let after = files_but_audit(&sb);
    // Only the (empty) share directory may have appeared.
    assert_eq!(after, before);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(audit.contains(r#""event":"GUARDIAN_SPLIT","status":"FAILED""#));
}
