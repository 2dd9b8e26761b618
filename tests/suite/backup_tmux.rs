//! Backup and restore from the home screen in a real 80×24 terminal (tmux),
//! on the release binary: `b`, a custodian chosen and an officer's recipient
//! typed, the archive written; the real `age` CLI decrypts it with the
//! officer's key. Then the restore screen opens it with the custodian's own
//! identity (a wrong passphrase first, fixed in place) into a new directory
//! and shows the verification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::tmux::Tmux;
use common::{PASS_A, Sandbox, age, age_keygen, missing_tool};
use custodian_core::workspace::Workspace;
use secrecy::SecretString;

#[test]
fn backup_and_restore_at_80x24() {
    if missing_tool("tmux") || missing_tool("age") || missing_tool("age-keygen") {
        return;
    }
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let ana =
        custodian_core::identity::create_identity(&ws, "Ana", &SecretString::from(PASS_A), None)
            .unwrap();
    let officer_key = sb.file("officer.key");
    let officer = age_keygen(&officer_key);
    let archive = sb.file("offsite.age");

    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("backup & restore", 30);
    t.keys(&["b"]);
    t.wait_for("Back up this workspace", 10);
    t.keys(&["Enter"]);
    t.wait_for("Encrypt to", 10);
    t.keys(&["Space"]);
    t.wait_for("1 chosen", 10);
    t.keys(&["Enter"]);
    t.wait_for("Chosen custodians: Ana", 10);
    t.text(&officer);
    t.keys(&["Enter"]);
    // Tab completes the folder part of the new file's path.
    let dir = sb.path().display().to_string();
    t.text(&dir[..dir.len() - 2]);
    t.keys(&["Tab"]);
    t.wait_for(&format!("{dir}/"), 10);
    t.text("offsite.age");
    t.keys(&["Enter"]);
    let done = t.wait_for("Encrypted backup written and read back", 60);
    assert!(done.contains("Encrypted to 2 recipient(s)"), "{done}");
    assert!(done.contains("Audit head recorded"), "{done}");
    t.keys(&["Enter"]);
    t.wait_for("backup & restore", 10);

    // The real age CLI opens the archive with the officer's key.
    let plain = age(&["-d", "-i", officer_key.to_str().unwrap()], Some(&archive));
    let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    let head = ws
        .registry()
        .unwrap()
        .backups
        .last()
        .unwrap()
        .audit_head
        .clone();
    assert_eq!(doc["manifest"]["auditHead"], head.as_str());

    // Restore with Ana's own identity: a wrong passphrase first.
    let into = sb.file("restored");
    t.keys(&["b", "2"]);
    t.wait_for("New directory", 10);
    t.text(archive.to_str().unwrap());
    t.keys(&["Enter"]);
    t.text(ana.path.to_str().unwrap());
    t.keys(&["Enter"]);
    t.text("not her passphrase");
    t.keys(&["Enter"]);
    t.text(into.to_str().unwrap());
    t.keys(&["Enter"]);
    let refused = t.wait_for("the passphrase is wrong", 60);
    assert!(
        !into.exists(),
        "restored with a wrong passphrase:\n{refused}"
    );
    // The focus is back on the passphrase, emptied; the rest is kept.
    t.text(PASS_A);
    t.keys(&["Enter", "Enter"]);
    let verified = t.wait_for("Archive verified and restored", 120);
    assert!(verified.contains("Audit chain intact"), "{verified}");
    assert!(verified.contains("Head equals the archive's"), "{verified}");
    t.keys(&["Enter"]);
    t.wait_for("backup & restore", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    assert!(
        !t.history().contains(PASS_A),
        "a passphrase reached the screen"
    );
    drop(t);
    // The archived chain ends at the recorded head, and the restore's
    // two audit entries follow it.
    let restored = Workspace::open(&into).unwrap();
    let chain = restored.audit().verify_expecting(&head).unwrap();
    let entries = restored.audit().entries().unwrap();
    let at = entries.iter().position(|e| e.hash == head).unwrap();
    assert_eq!(chain.entries as usize, at + 3);
    assert_eq!(entries[at + 2].event, "WORKSPACE_RESTORE");
}
