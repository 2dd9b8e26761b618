//! Identity tests through the CLI, with the real `age` CLI as the peer:
//! age encrypts to our recipient and we decrypt; we encrypt and `age -d`
//! decrypts with our exported key; `age-keygen` keys import.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{PASS_A, PASS_B, Sandbox, missing_tool};
use custodian_core::identity::{IdentityError, IdentityFile};
use predicates::prelude::*;
use secrecy::{ExposeSecret, SecretString};

fn new_identity(sb: &Sandbox, name: &str, pass: &str) -> (String, std::path::PathBuf) {
    let pf = sb.pass_file(&format!("{name}.pass"), &[pass]);
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
        .arg(&pf)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    (
        v["recipient"].as_str().unwrap().to_string(),
        v["file"].as_str().unwrap().into(),
    )
}

#[test]
fn new_identity_is_written_registered_and_audited() {
    let sb = Sandbox::new();
    let (recipient, path) = new_identity(&sb, "Ana Lopez", PASS_A);
    assert!(recipient.starts_with("age1"));
    assert_eq!(path, sb.ws().join("identities/ana-lopez.identity.json"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(sb.ws()).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    let c = &reg["custodians"][0];
    assert_eq!(c["name"], "Ana Lopez");
    assert_eq!(c["recipient"], recipient.as_str());
    let created = custodian_core::clock::parse(c["createdAt"].as_str().unwrap()).unwrap();
    let due = custodian_core::clock::parse(c["rotationDue"].as_str().unwrap()).unwrap();
    assert_eq!((due - created).whole_days(), 90);

    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The identity, then (the workspace being new) its accepted binary.
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["event"], "IDENTITY_CREATE");
    assert_eq!(events[0]["status"], "INITIATED");
    assert_eq!(events[2]["event"], "BINARY_ACCEPTED");
    assert_eq!(events[1]["status"], "COMPLETED");
    assert_eq!(events[1]["op"], events[0]["op"]);

    // show needs no passphrase (no file given, no terminal: it must not ask)
    sb.cmd()
        .args(["identity", "show"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(&recipient))
        .stdout(predicate::str::contains("fingerprint:"));

    // the right passphrase opens it; a wrong one is a specific, audited failure
    sb.cmd()
        .args(["identity", "open"])
        .arg(&path)
        .arg("--passphrase-file")
        .arg(sb.pass_file("ok", &[PASS_A]))
        .assert()
        .success()
        .stdout(predicate::str::contains("the passphrase is right"));
    sb.cmd()
        .args(["identity", "open"])
        .arg(&path)
        .arg("--passphrase-file")
        .arg(sb.pass_file("bad", &[PASS_B]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the passphrase is wrong"));
}

#[test]
fn a_duplicate_name_or_existing_output_changes_nothing() {
    let sb = Sandbox::new();
    new_identity(&sb, "Ben", PASS_A);
    let before = sb.snapshot();
    let pf = sb.pass_file("again", &[PASS_B]);
    let after_pf = sb.snapshot();
    sb.cmd()
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(&pf)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already registered"));
    assert_eq!(sb.snapshot(), after_pf);
    drop(before);

    let existing = sb.file("taken.json");
    std::fs::write(&existing, b"keep me").unwrap();
    let snap = sb.snapshot();
    sb.cmd()
        .args(["identity", "new", "--name", "Cy", "--out"])
        .arg(&existing)
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(sb.snapshot(), snap);
}

#[test]
fn weak_passphrases_and_bad_names_are_refused_before_anything_is_written() {
    let sb = Sandbox::new();
    for (name, pass, message) in [
        ("Dee", "short one", "too short"),
        ("Dee", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too predictable"),
        ("../evil", PASS_A, "not a usable name"),
    ] {
        let pf = sb.pass_file("p", &[pass]);
        let snap = sb.snapshot();
        sb.cmd()
            .args(["identity", "new", "--name", name, "--passphrase-file"])
            .arg(&pf)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(message));
        assert_eq!(sb.snapshot(), snap);
    }
}

#[test]
fn damaged_identity_files_each_get_a_specific_error() {
    let sb = Sandbox::new();
    let (_r, path) = new_identity(&sb, "Eli", PASS_A);
    let bytes = std::fs::read(&path).unwrap();
    assert!(matches!(
        IdentityFile::from_bytes(b""),
        Err(IdentityError::Empty)
    ));
    assert!(matches!(
        IdentityFile::from_bytes(&bytes[..bytes.len() - 20]),
        Err(IdentityError::Truncated)
    ));
    assert!(matches!(
        IdentityFile::from_bytes(b"# created: x\nAGE-SECRET-KEY-1"),
        Err(IdentityError::WrongFormat(_))
    ));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["version"] = serde_json::json!(7);
    assert!(matches!(
        IdentityFile::from_bytes(v.to_string().as_bytes()),
        Err(IdentityError::UnsupportedVersion(7))
    ));
    // A file whose label was swapped to someone else's recipient is caught.
    let other = custodian_core::identity::OpenedIdentity::generate("x").recipient;
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["recipient"] = serde_json::json!(other);
    let swapped = IdentityFile::from_bytes(v.to_string().as_bytes()).unwrap();
    assert!(matches!(
        swapped.open(&SecretString::from(PASS_A)),
        Err(IdentityError::RecipientMismatch { .. })
    ));
}

#[test]
fn age_cli_interop_both_ways_and_keygen_import() {
    if missing_tool("age") || missing_tool("age-keygen") {
        return;
    }
    let sb = Sandbox::new();
    let (recipient, path) = new_identity(&sb, "Fay", PASS_A);

    // 1. The real age CLI encrypts to our recipient; our opened identity decrypts.
    let msg = sb.file("msg.txt");
    std::fs::write(&msg, b"from the age CLI").unwrap();
    let ct = sb.file("msg.age");
    let st = Command::new("age")
        .args(["-a", "-r", &recipient, "-o"])
        .arg(&ct)
        .arg(&msg)
        .status()
        .unwrap();
    assert!(st.success());
    let opened = IdentityFile::load(&path)
        .unwrap()
        .open(&SecretString::from(PASS_A))
        .unwrap();
    let plain = age::decrypt(opened.age_identity(), &std::fs::read(&ct).unwrap()).unwrap();
    assert_eq!(plain, b"from the age CLI");

    // 2. Export needs the confirmation flag; without it nothing is written.
    let key = sb.file("fay.key");
    let pf = sb.pass_file("p", &[PASS_A]);
    sb.cmd()
        .args(["identity", "export"])
        .arg(&path)
        .args(["--plaintext", "--out"])
        .arg(&key)
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs explicit confirmation"));
    assert!(!key.exists());
    sb.cmd()
        .args(["identity", "export"])
        .arg(&path)
        .args([
            "--plaintext",
            "--i-understand-this-writes-a-plaintext-key",
            "--out",
        ])
        .arg(&key)
        .arg("--passphrase-file")
        .arg(&pf)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning"));
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // 3. We encrypt with the library; `age -d -i <exported>` decrypts.
    let recip = custodian_core::identity::parse_recipient(&recipient).unwrap();
    let ours = sb.file("ours.age");
    std::fs::write(&ours, age::encrypt(&recip, b"from custodian").unwrap()).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&ours)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"from custodian");

    // 4. An age-keygen key imports with the same recipient.
    let kg = sb.file("kg.key");
    let st = Command::new("age-keygen")
        .arg("-o")
        .arg(&kg)
        .output()
        .unwrap();
    assert!(st.status.success());
    let kg_text = std::fs::read_to_string(&kg).unwrap();
    let public = kg_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    let out = sb
        .cmd()
        .args(["--json", "identity", "import"])
        .arg(&kg)
        .args(["--name", "Gus", "--passphrase-file"])
        .arg(sb.pass_file("g", &[PASS_B]))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["recipient"], public.as_str());

    // A file that is not a key is refused with a specific message.
    sb.cmd()
        .args(["identity", "import"])
        .arg(&msg)
        .args(["--name", "Hal", "--passphrase-file"])
        .arg(sb.pass_file("h", &[PASS_B]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "neither a comment nor an age secret key",
        ));

    // Canary: no passphrase or secret key in the audit log, registry or any
    // identity file; the plain key only in the file the user asked for.
    let secret = opened.secret_key().expose_secret().to_string();
    let kg_secret = kg_text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    for f in ["audit.jsonl", "registry.json"] {
        let text = std::fs::read_to_string(sb.ws().join(f)).unwrap();
        for s in [PASS_A, PASS_B, secret.as_str(), kg_secret.as_str()] {
            assert!(!text.contains(s), "{f} leaks a secret");
        }
    }
    for entry in std::fs::read_dir(sb.ws().join("identities")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for s in [PASS_A, PASS_B, secret.as_str(), kg_secret.as_str()] {
            assert!(!text.contains(s), "identity file leaks a secret");
        }
    }
    assert!(std::fs::read_to_string(&key).unwrap().contains(&secret));
}
