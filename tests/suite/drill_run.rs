//! The quarterly drill run automatically (`drill run --auto`): every
//! scenario passes on synthetic material, the report is written to the real
//! workspace, the drill date is recorded there, and the sandbox is marked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::Sandbox;
use custodian_core::workspace::Workspace;
use predicates::prelude::*;

#[test]
fn auto_drill_passes_every_scenario_and_records_itself() {
    let sb = Sandbox::new();
    let sandbox = sb.file("drill-sandbox");
    let report = common::auto_drill(&sb, &sandbox);
    assert_eq!(report["passed"], true, "{report:#}");
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 5);
    for s in scenarios {
        assert_eq!(s["passed"], true, "{s:#}");
        assert!(!s["checks"].as_array().unwrap().is_empty());
    }
    assert_eq!(report["participants"][1], "Ben Legal");

    // The real workspace holds both report forms and records the drill.
    let real = Workspace::open(sb.ws()).unwrap();
    let id = report["id"].as_str().unwrap();
    let md = std::fs::read_to_string(sb.ws().join(format!("drills/{id}.md"))).unwrap();
    assert!(md.contains("PASSED"));
    assert!(md.contains("| 5 |"));
    assert!(sb.ws().join(format!("drills/{id}.json")).exists());
    let reg = real.registry().unwrap();
    assert!(custodian_core::playbook::checks::last_drill(&reg).is_some());
    assert!(!reg.sandbox);
    assert!(
        reg.custodians.is_empty(),
        "synthetic custodians leaked into the real workspace"
    );

    // The sandbox is marked, holds the synthetic material and a valid audit chain.
    let sandbox_ws = Workspace::open(&sandbox).unwrap();
    let sreg = sandbox_ws.registry().unwrap();
    assert!(sreg.sandbox);
    assert!(sreg.custodians.len() >= 3);
    let head = sandbox_ws.audit().verify().unwrap().head;
    assert_eq!(report["sandboxAuditHead"], head.as_str());
    let log = std::fs::read_to_string(sandbox.join("audit.jsonl")).unwrap();
    assert!(log.contains("\"event\":\"RECOVER") || log.contains("RECOVERY"));

    // The drill card (finding 3): in the sandbox only, marked DRILL, and its
    // passphrases open the synthetic material they are listed against.
    assert!(!sb.ws().join(custodian_core::drill::card::FILE).exists());
    let card = custodian_core::drill::card::read(&sandbox_ws).unwrap();
    assert!(card.starts_with("# DRILL CARD"), "{card}");
    let row = card
        .lines()
        .find(|l| l.starts_with("| Drill Ana |"))
        .expect("Drill Ana's identity on the card");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let (file, pass) = (cells[2], cells[3].trim_matches('`'));
    let identity =
        custodian_core::identity::IdentityFile::load(std::path::Path::new(file)).unwrap();
    identity
        .open(&secrecy::SecretString::from(pass.to_string()))
        .expect("the card's passphrase opens Drill Ana's identity");
    let guardians = card
        .lines()
        .filter(|l| l.starts_with("| Guardian ") && l.contains(" of Drill "))
        .count();
    assert_eq!(guardians, 15, "five guardians for each of three custodians");
    assert!(card.contains("recovery key"));
    // A plaintext output of the sandbox (issue 18), tracked to destruction:
    // path, size and SHA-256 recorded, not yet destroyed.
    let card_path = sandbox.join(custodian_core::drill::card::FILE);
    let tracked: Vec<_> = custodian_core::outputs::open_outputs(&sreg)
        .into_iter()
        .filter(|o| o.kind == custodian_core::outputs::OutputKind::DrillCard)
        .collect();
    assert_eq!(tracked.len(), 1, "{:?}", sreg.plaintext_outputs);
    assert_eq!(tracked[0].path, std::path::absolute(&card_path).unwrap());
    assert_eq!(tracked[0].size, card.len() as u64);
    assert_eq!(
        tracked[0].sha256,
        custodian_core::fsutil::sha256_hex(card.as_bytes())
    );
    // The passphrases are not in either audit log.
    assert!(!log.contains(pass));
    assert!(
        !std::fs::read_to_string(sb.ws().join("audit.jsonl"))
            .unwrap()
            .contains(pass)
    );

    // The real audit log brackets the drill.
    let real_log = real.audit().entries().unwrap();
    assert_eq!(real_log.first().unwrap().event, "DRILL_RUN");
    assert_eq!(
        real_log.last().unwrap().status,
        custodian_core::audit::Status::Completed
    );
}

#[test]
fn drill_refuses_bad_requests_without_writing() {
    let sb = Sandbox::new();
    let sandbox = sb.file("sbx");
    sb.cmd()
        .args([
            "drill",
            "run",
            "--auto",
            "--participants",
            "Only One",
            "--sandbox",
        ])
        .arg(&sandbox)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("at least two named participants"));
    assert!(!sandbox.exists());

    std::fs::create_dir(&sandbox).unwrap();
    std::fs::write(sandbox.join("something"), b"x").unwrap();
    let before = sb.snapshot();
    sb.cmd()
        .args([
            "drill",
            "run",
            "--auto",
            "--participants",
            "Ana,Ben",
            "--sandbox",
        ])
        .arg(&sandbox)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not empty"));
    assert_eq!(sb.snapshot(), before);
}

#[test]
fn drill_make_kit_writes_a_kit_that_verifies() {
    if common::missing_tool("openssl") {
        return;
    }
    let sb = Sandbox::new();
    let private = sb.file("rk.pem");
    let public = sb.file("rk.pub.pem");
    let st = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:4096",
            "-out",
        ])
        .arg(&private)
        .status()
        .unwrap();
    assert!(st.success());
    let st = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap();
    assert!(st.success());
    let kit = sb.file("kit.zip");
    sb.cmd()
        .args(["drill", "make-kit", "--public"])
        .arg(&public)
        .arg("--out")
        .arg(&kit)
        .assert()
        .success();
    sb.cmd()
        .args(["kit", "verify"])
        .arg(&kit)
        .arg("--key")
        .arg(&private)
        .assert()
        .success()
        .stdout(predicate::str::contains("NON_CUSTODIAL_WALLET_MASTER"));
    // Never over an existing kit.
    sb.cmd()
        .args(["drill", "make-kit", "--public"])
        .arg(&public)
        .arg("--out")
        .arg(&kit)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
}
