//! Custody hygiene (issue 18): plaintext outputs tracked to destruction, the
//! encrypted off-site copy of the workspace and its restore (against the
//! real `age` CLI), and the operator-confirmed clock. The clock is faked
//! with `CUSTODIAN_FAKE_NOW`, read only by test builds.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};

use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use predicates::prelude::*;
use serde_json::Value;

/// `identity new NAME`; returns the identity file and its recipient.
fn new_identity(sb: &Sandbox, name: &str) -> (PathBuf, String) {
    let out = sb
        .cmd()
        .args([
            "--json",
            "identity",
            "new",
            "--name",
            name,
            "--passphrase-file",
        ])
        .arg(sb.pass_file(&format!("p-{name}"), &[PASS_A]))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    (
        PathBuf::from(v["file"].as_str().or(v["path"].as_str()).unwrap()),
        v["recipient"].as_str().unwrap().to_string(),
    )
}

fn export(sb: &Sandbox, id: &Path, out: &Path) {
    sb.cmd()
        .args(["identity", "export"])
        .arg(id)
        .args([
            "--plaintext",
            "--i-understand-this-writes-a-plaintext-key",
            "--out",
        ])
        .arg(out)
        .arg("--passphrase-file")
        .arg(sb.pass_file("pe", &[PASS_A]))
        .assert()
        .success()
        .stderr(predicate::str::contains("custodian outputs destroy"));
}

fn outputs(sb: &Sandbox, fake_now: Option<&str>) -> Value {
    let mut c = sb.cmd();
    if let Some(t) = fake_now {
        c.env("CUSTODIAN_FAKE_NOW", t);
    }
    let out = c
        .args(["--json", "outputs"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn audit(sb: &Sandbox) -> Vec<Value> {
    std::fs::read_to_string(sb.ws().join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

fn days_from_now(days: i64) -> String {
    custodian_core::clock::format(custodian_core::clock::plus_days(
        custodian_core::clock::now(),
        days,
    ))
}

fn check_json(sb: &Sandbox, fake_now: Option<&str>) -> Value {
    let mut c = sb.cmd();
    if let Some(t) = fake_now {
        c.env("CUSTODIAN_FAKE_NOW", t);
    }
    let out = c.args(["--json", "check"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check_status<'v>(v: &'v Value, id: &str) -> &'v Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

#[test]
fn plaintext_outputs_are_recorded_flagged_and_destroyed() {
    let sb = Sandbox::new();
    let (id, _) = new_identity(&sb, "Ana");

    // identity export --plaintext records the key file with its hash.
    let key = sb.file("ana.key");
    export(&sb, &id, &key);
    let bytes = std::fs::read(&key).unwrap();
    let list = outputs(&sb, None);
    let rec = &list.as_array().unwrap()[0];
    assert_eq!(rec["path"], key.to_str().unwrap());
    assert_eq!(rec["kind"], "plain-age-key");
    assert_eq!(rec["size"], bytes.len());
    assert_eq!(rec["sha256"], sha256(&bytes));
    assert_eq!(rec["overdue"], false);
    // The COMPLETED entry names it too, by hash, never by content.
    let entries = audit(&sb);
    let done = entries
        .iter()
        .find(|e| e["event"] == "IDENTITY_EXPORT_PLAINTEXT" && e["status"] == "COMPLETED")
        .unwrap();
    assert_eq!(
        done["details"]["plaintextOutputs"][0]["sha256"],
        sha256(&bytes)
    );
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(
        !log.contains("AGE-SECRET-KEY-"),
        "a secret reached the audit log"
    );

    // envelope open --out records the opened contents.
    let secret = sb.file("secret.txt");
    std::fs::write(&secret, b"canary-plaintext-7f3a\n").unwrap();
    let sealed = sb.file("secret.env");
    sb.cmd()
        .args(["envelope", "seal"])
        .arg(&secret)
        .arg("--out")
        .arg(&sealed)
        .arg("--passphrase-file")
        .arg(sb.pass_file("ps", &[PASS_B]))
        .assert()
        .success();
    let opened = sb.file("opened.txt");
    sb.cmd()
        .args(["envelope", "open"])
        .arg(&sealed)
        .arg("--out")
        .arg(&opened)
        .arg("--passphrase-file")
        .arg(sb.pass_file("po", &[PASS_B]))
        .assert()
        .success();
    let list = outputs(&sb, None);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["kind"], "envelope-contents");
    assert_eq!(list[1]["sha256"], sha256(b"canary-plaintext-7f3a\n"));

    // A day later both are flagged by `check`, by path.
    let later = days_from_now(2);
    let v = check_json(&sb, Some(&later));
    let c = check_status(&v, "plaintext-outputs");
    assert_eq!(c["status"], "fail", "{c}");
    let text = c["findings"].to_string();
    assert!(
        text.contains("ana.key") && text.contains("opened.txt"),
        "{text}"
    );
    assert_eq!(outputs(&sb, Some(&later))[0]["overdue"], true);
    // Today they are not.
    let v = check_json(&sb, None);
    assert_eq!(check_status(&v, "plaintext-outputs")["status"], "pass");

    // destroy: the file is gone, the registry and the audit log say so.
    sb.cmd()
        .args(["outputs", "destroy"])
        .arg(&key)
        .assert()
        .success()
        .stdout(predicate::str::contains("one pass of random bytes"))
        .stderr(predicate::str::contains("flash storage"));
    assert!(!key.exists());
    let entries = audit(&sb);
    let d = entries
        .iter()
        .find(|e| e["event"] == "PLAINTEXT_OUTPUT_DESTROY" && e["status"] == "COMPLETED")
        .unwrap();
    assert_eq!(d["details"]["fileSha256"], sha256(&bytes));
    assert_eq!(outputs(&sb, None)[0]["destroyed"]["how"], "overwritten");
    // Twice is refused by name.
    sb.cmd()
        .args(["outputs", "destroy"])
        .arg(&key)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already recorded as destroyed"));

    // A changed file is not the recorded output: refused, left alone.
    std::fs::write(&opened, b"something else\n").unwrap();
    sb.cmd()
        .args(["outputs", "destroy"])
        .arg(&opened)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("changed since it was written"));
    assert_eq!(std::fs::read(&opened).unwrap(), b"something else\n");
    // destroyed-elsewhere needs it gone, and a name.
    sb.cmd()
        .args(["outputs", "destroyed-elsewhere"])
        .arg(&opened)
        .args(["--operator", ""])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("operator name"));
    std::fs::remove_file(&opened).unwrap();
    sb.cmd()
        .args(["outputs", "destroyed-elsewhere"])
        .arg(&opened)
        .args(["--operator", "Ben Legal"])
        .assert()
        .success();
    let list = outputs(&sb, None);
    assert_eq!(list[1]["destroyed"]["operator"], "Ben Legal");
    let v = check_json(&sb, Some(&later));
    assert_eq!(check_status(&v, "plaintext-outputs")["status"], "pass");
    // An unknown path is refused by name.
    sb.cmd()
        .args(["outputs", "destroy"])
        .arg(sb.file("nothing"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a recorded plaintext output"));
    sb.cmd().args(["audit", "verify"]).assert().success();
}

use common::age;

fn keygen(sb: &Sandbox, name: &str) -> (PathBuf, String) {
    let path = sb.file(name);
    let recipient = common::age_keygen(&path);
    (path, recipient)
}

fn restore(sb: &Sandbox, archive: &Path, identity: &Path, into: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("custodian").unwrap();
    c.env_remove("CUSTODIAN_WORKSPACE")
        .current_dir(sb.path())
        .arg("restore")
        .arg(archive)
        .arg("--identity")
        .arg(identity)
        .arg("--into")
        .arg(into);
    c
}

#[test]
fn backup_round_trips_and_every_damage_is_refused_by_name() {
    if missing_tool("age") || missing_tool("age-keygen") {
        return;
    }
    let sb = Sandbox::new();
    let (id, ana) = new_identity(&sb, "Ana");
    let (officer_key, officer) = keygen(&sb, "officer.key");
    let (other_key, _) = keygen(&sb, "other.key");
    // A plaintext output inside the workspace stays out of the archive.
    let inside = sb.ws().join("ana-plain.key");
    export(&sb, &id, &inside);

    // No backup yet: the check says so.
    let v = check_json(&sb, None);
    assert_eq!(check_status(&v, "backup-overdue")["status"], "fail");

    // Bad recipients are refused before anything is written.
    let archive = sb.file("ws.age");
    let before = sb.snapshot();
    sb.cmd()
        .args(["backup", "--to", "age1notarecipient", "--out"])
        .arg(&archive)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "recipient 1 is not an age recipient",
        ));
    sb.cmd()
        .args(["backup", "--to", &officer, "--out"])
        .arg(sb.ws().join("inside.age"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("inside the workspace"));
    assert_eq!(sb.snapshot(), before);

    let out = sb
        .cmd()
        .args(["--json", "backup", "--to", &officer, "--to", &ana, "--out"])
        .arg(&archive)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rec: Value = serde_json::from_slice(&out).unwrap();
    let v = check_json(&sb, None);
    assert_eq!(check_status(&v, "backup-overdue")["status"], "pass");

    // The real age CLI decrypts it: a JSON manifest with every file's hash.
    let plain = age(&["-d", "-i", officer_key.to_str().unwrap()], Some(&archive));
    let doc: Value = serde_json::from_slice(&plain).unwrap();
    let m = &doc["manifest"];
    assert_eq!(m["format"], "custodian-backup");
    assert_eq!(m["auditHead"], rec["auditHead"]);
    let names: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"registry.json") && names.contains(&"audit.jsonl"));
    assert!(
        names.iter().any(|n| n.starts_with("identities/")),
        "{names:?}"
    );
    assert!(
        !names.contains(&"ana-plain.key"),
        "a plaintext output was backed up"
    );
    assert!(!String::from_utf8_lossy(&plain).contains("AGE-SECRET-KEY-"));

    // Round trip into a new directory: every file identical.
    let into = sb.file("restored");
    restore(&sb, &archive, &officer_key, &into)
        .assert()
        .success()
        .stdout(predicate::str::contains("intact up to the recorded head"))
        .stdout(predicate::str::contains("WORKSPACE_RESTORE"));
    let archived_log = std::fs::read(into.join("audit.jsonl")).unwrap();
    for f in m["files"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        let restored = std::fs::read(into.join(p)).unwrap();
        if p == "audit.jsonl" {
            // The archived log, byte for byte, then the restore's own entries.
            let n = f["size"].as_u64().unwrap() as usize;
            assert_eq!(sha256(&restored[..n]), f["sha256"].as_str().unwrap());
        } else {
            assert_eq!(sha256(&restored), f["sha256"].as_str().unwrap(), "{p}");
        }
    }
    // The restore is audited in the restored copy's log, after the recorded
    // head: which archive (its SHA-256), which head, how many files, where.
    let log: Vec<Value> = String::from_utf8(archived_log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let restored_entries: Vec<&Value> = log
        .iter()
        .filter(|e| e["event"] == "WORKSPACE_RESTORE")
        .collect();
    let statuses: Vec<&str> = restored_entries
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["INITIATED", "COMPLETED"]);
    let head_at = log
        .iter()
        .position(|e| e["hash"] == m["auditHead"])
        .expect("the recorded head is in the restored log");
    assert_eq!(
        log.len(),
        head_at + 3,
        "the restore's entries follow the head"
    );
    let done = &restored_entries[1]["details"];
    assert_eq!(
        done["archiveSha256"],
        sha256(&std::fs::read(&archive).unwrap())
    );
    assert_eq!(done["auditHead"], m["auditHead"]);
    assert_eq!(done["files"], m["files"].as_array().unwrap().len());
    assert_eq!(
        std::fs::canonicalize(done["into"].as_str().unwrap()).unwrap(),
        std::fs::canonicalize(&into).unwrap()
    );
    assert_eq!(done["recipient"], officer);
    let text = serde_json::to_string(&restored_entries).unwrap();
    assert!(
        !text.contains("AGE-SECRET-KEY-"),
        "a secret in the audit entry"
    );
    assert_cmd::Command::cargo_bin("custodian")
        .unwrap()
        .env_remove("CUSTODIAN_WORKSPACE")
        .arg("--workspace")
        .arg(&into)
        .args(["audit", "verify", "--expect-head"])
        .arg(m["auditHead"].as_str().unwrap())
        .assert()
        .success();
    // Never into a non-empty directory (a live workspace above all).
    restore(&sb, &archive, &officer_key, &sb.ws())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not empty"));
    // Nor into a new directory inside the live workspace (the console's
    // rule, now the core's).
    let inside = sb.ws().join("restored");
    restore(&sb, &archive, &officer_key, &inside)
        .arg("--workspace")
        .arg(sb.ws())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is inside the workspace"))
        .stderr(predicate::str::contains("outside the workspace"));
    assert!(!inside.exists(), "restored inside the live workspace");
    // An empty directory is a new one.
    let empty = sb.file("empty-target");
    std::fs::create_dir(&empty).unwrap();
    restore(&sb, &archive, &officer_key, &empty)
        .assert()
        .success();
    assert!(empty.join("audit.jsonl").exists());

    // Each damage: a specific error, nothing restored.
    let bytes = std::fs::read(&archive).unwrap();
    let cases: Vec<(&str, Vec<u8>, PathBuf, &str)> = {
        let mut flipped = bytes.clone();
        let mid = bytes.len() / 2;
        flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
        let truncated = bytes[..bytes.len() * 2 / 3].to_vec();
        // Re-encrypted by the age CLI with a manifest whose head is not
        // the log's.
        let mut lying = doc.clone();
        lying["manifest"]["auditHead"] = Value::String("ab".repeat(32));
        let lying_plain = sb.file("lying.json");
        std::fs::write(&lying_plain, serde_json::to_vec(&lying).unwrap()).unwrap();
        let lying_bytes = age(&["-a", "-r", &officer], Some(&lying_plain));
        // Re-encrypted to the same officer, so it decrypts: one file's
        // bytes changed under an unchanged manifest entry, and paths that
        // would escape the target directory.
        let reseal = |name: &str, doc: &Value| {
            let plain = sb.file(&format!("{name}.json"));
            std::fs::write(&plain, serde_json::to_vec(doc).unwrap()).unwrap();
            age(&["-a", "-r", &officer], Some(&plain))
        };
        let registry_at = names.iter().position(|n| *n == "registry.json").unwrap();
        let mut changed = doc.clone();
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut reg_bytes =
            base64::Engine::decode(&b64, changed["contents"][registry_at].as_str().unwrap())
                .unwrap();
        let at = reg_bytes.iter().position(|b| *b == b'{').unwrap();
        reg_bytes[at] = b'[';
        changed["contents"][registry_at] = Value::String(base64::Engine::encode(&b64, &reg_bytes));
        let changed_bytes = reseal("changed", &changed);
        let mut escaping = doc.clone();
        escaping["manifest"]["files"][registry_at]["path"] = Value::String("../x".into());
        let escaping_bytes = reseal("escaping", &escaping);
        let mut absolute = doc.clone();
        absolute["manifest"]["files"][registry_at]["path"] =
            Value::String(sb.file("x").display().to_string());
        let absolute_bytes = reseal("absolute", &absolute);
        vec![
            (
                "flipped",
                flipped,
                officer_key.clone(),
                "does not decrypt: it was altered",
            ),
            ("truncated", truncated, officer_key.clone(), "is truncated"),
            (
                "wrong-identity",
                bytes.clone(),
                other_key.clone(),
                "is not encrypted to this identity",
            ),
            (
                "head",
                lying_bytes,
                officer_key.clone(),
                "but the manifest records head",
            ),
            (
                "changed-file",
                changed_bytes,
                officer_key.clone(),
                "file registry.json in the archive does not match its manifest entry (SHA-256)",
            ),
            (
                "dotdot-path",
                escaping_bytes,
                officer_key.clone(),
                "the archive names an unsafe path \"../x\"",
            ),
            (
                "absolute-path",
                absolute_bytes,
                officer_key.clone(),
                "the archive names an unsafe path \"/",
            ),
        ]
    };
    for (name, damaged, key, expect) in cases {
        let path = sb.file(&format!("{name}.age"));
        std::fs::write(&path, &damaged).unwrap();
        let target = sb.file(&format!("into-{name}"));
        restore(&sb, &path, &key, &target)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(expect))
            .stderr(predicate::str::contains("nothing was restored"));
        assert!(!target.exists(), "{name}: something was restored");
        let leftovers: Vec<_> = std::fs::read_dir(sb.path())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".custodian-tmp")
            })
            .collect();
        assert!(leftovers.is_empty(), "{name}: staging left behind");
        assert!(
            !sb.path().join("x").exists(),
            "{name}: wrote outside the target"
        );
    }

    // A sensitive operation after the backup: the check flags it again.
    new_identity(&sb, "Ben");
    let v = check_json(&sb, None);
    let c = check_status(&v, "backup-overdue");
    assert_eq!(c["status"], "fail");
    assert!(c["findings"].to_string().contains("IDENTITY_CREATE"), "{c}");
}

#[test]
fn a_clock_two_days_past_the_confirmed_time_warns() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ana");
    // An incident, opened as the console opens one, closed with the
    // operator confirming the time: recorded and audited.
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    common::accept_typed_approvals(&ws);
    let book = custodian_core::playbook::Playbook::builtin();
    let inc = custodian_core::playbook::incident::open(&ws, book, 2, "Ana Officer", None).unwrap();
    sb.cmd()
        .args([
            "incident",
            "close",
            &inc.id,
            "--operator",
            "Dee",
            "--confirm-time",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "operator confirmed the system time",
        ));
    let entries = audit(&sb);
    assert!(
        entries
            .iter()
            .any(|e| e["event"] == "CLOCK_CONFIRMED" && e["status"] == "COMPLETED"),
        "no CLOCK_CONFIRMED entry"
    );
    // Two hours later: no warning.
    let soon =
        custodian_core::clock::format(custodian_core::clock::now() + time::Duration::hours(2));
    sb.cmd()
        .env("CUSTODIAN_FAKE_NOW", &soon)
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(sb.pass_file("b", &[PASS_B]))
        .assert()
        .success()
        .stderr(predicate::str::contains("operator-confirmed").not());
    // Two days later: a warning naming both times; the operation goes on.
    let later = days_from_now(2);
    sb.cmd()
        .env("CUSTODIAN_FAKE_NOW", &later)
        .args(["identity", "new", "--name", "Cy", "--passphrase-file"])
        .arg(sb.pass_file("c", &[PASS_B]))
        .assert()
        .success()
        .stderr(
            predicate::str::contains("more than a day after the last operator-confirmed time")
                .and(predicate::str::contains(later.as_str())),
        );
}

/// The home screen says, in one red line, how many plaintext outputs older
/// than a day are not destroyed — at 80x24 and 120x40.
#[test]
fn home_flags_old_plaintext_outputs_in_one_red_line() {
    use custodian_core::outputs::{OutputKind, PlaintextOutput};
    let sb = Sandbox::new();
    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    ws.update_registry(|r| {
        let mut o = PlaintextOutput::new(
            Path::new("/media/usb/shares.json"),
            OutputKind::KeyShares,
            120,
            &"ab".repeat(32),
            "op1",
        );
        o.created_at = "2020-01-01T00:00:00Z".into();
        r.plaintext_outputs.push(o);
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let app = common::tui::offline_app(ws);
    for (w, h, name) in [
        (80, 24, "home_stale_outputs_80x24"),
        (120, 40, "home_stale_outputs_120x40"),
    ] {
        let t = common::tui::draw(&app, w, h);
        snap!(name, t);
        let buf = t.backend().buffer();
        let (x, y) = (0..buf.area.height)
            .find_map(|y| {
                let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
                row.find("1 plaintext output")
                    .map(|i| (row[..i].chars().count() as u16, y))
            })
            .expect("a plaintext outputs line");
        assert_eq!(buf[(x, y)].fg, ratatui::style::Color::Red);
    }
}

/// docs/FORMATS.md keeps up with the types: the row of each registry
/// section names the fields and values the code writes (a review found
/// `drill-card`, `confirmedDestroyed`, `plan` and the newer check ids
/// missing).
#[test]
fn formats_md_names_every_output_kind_check_id_and_newer_field() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FORMATS.md")).unwrap();
    let row = |start: &str| -> &str {
        doc.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no row {start}"))
    };
    use custodian_core::outputs::OutputKind;
    let outputs = row("| `plaintextOutputs[]` |");
    for kind in [
        OutputKind::KeyShares,
        OutputKind::PlainAgeKey,
        OutputKind::EnvelopeContents,
        OutputKind::DrillCard,
    ] {
        let name = serde_json::to_value(kind).unwrap();
        let name = format!("`{}`", name.as_str().unwrap());
        assert!(outputs.contains(&name), "plaintextOutputs lacks {name}");
    }
    let threats = row("| `threats[]` |");
    for id in custodian_core::playbook::checks::CheckId::ALL {
        let name = format!("`{}`", id.as_str());
        assert!(threats.contains(&name), "threats[].checks lacks {name}");
    }
    assert!(row("| `custodianHistory[]` |").contains("`confirmedDestroyed[]`"));
    assert!(row("| `ceremonies[]` |").contains("`plan`"));
}
