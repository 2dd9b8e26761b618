//! Backup and restore at the console (issue 18, Deliver 3 "the console
//! offers both"), driven through the real `App`: every step snapshotted at
//! 80×24 and 120×40, the archive decrypted by the real `age` CLI, and each
//! refusal (a wrong recipient or identity, a wrong passphrase, a flipped
//! byte, a truncated archive, a head mismatch, a target that exists or lies
//! in the live workspace) shown under its field with nothing restored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};

use common::tui::*;
use common::{PASS_A, PASS_B, Sandbox, age, age_keygen, missing_tool};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian::tui::screens::backup::BackupScreen;
use custodian_core::workspace::Workspace;
use secrecy::SecretString;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Filters for what changes between runs: the archive's size.
fn settings() -> insta::Settings {
    common::tui::settings(&[(r"\d+\.\d (KiB|MiB) \(\d+ bytes\)|\d+ bytes", "[SIZE]")])
}

/// Snapshots the app as `name_80x24` and `name_120x40`.
fn snap_both(app: &App, name: &str) {
    for (w, h) in SIZES {
        snap!(format!("{name}_{w}x{h}"), draw(app, w, h), settings());
    }
}

fn step(app: &mut App) -> &'static str {
    app.top_screen::<BackupScreen>()
        .map(|s| s.step_name())
        .unwrap_or("not the backup screen")
}

/// A workspace with Ana (a custodian identity sealed with `PASS_A`) and
/// Ben; returns it and Ana's identity file.
fn workspace(sb: &Sandbox) -> (Workspace, PathBuf) {
    let ws = Workspace::open(sb.ws()).unwrap();
    let ana =
        custodian_core::identity::create_identity(&ws, "Ana", &SecretString::from(PASS_A), None)
            .unwrap();
    custodian_core::identity::create_identity(&ws, "Ben", &SecretString::from(PASS_B), None)
        .unwrap();
    (ws, ana.path)
}

fn clear_field(app: &mut App) {
    ctrl(app, 'u');
}

#[test]
fn backup_from_home_to_a_custodian_and_an_officer_decrypts_with_age() {
    if missing_tool("age") || missing_tool("age-keygen") {
        return;
    }
    let sb = Sandbox::new();
    let (ws, _) = workspace(&sb);
    let officer_key = sb.file("officer.key");
    let officer = age_keygen(&officer_key);
    let mut app = offline_app(ws.clone());
    assert!(
        text(&app).contains("backup & restore"),
        "home names the key"
    );

    key(&mut app, KeyCode::Char('b'));
    assert_eq!(step(&mut app), "menu");
    snap_both(&app, "backup_menu");

    key(&mut app, KeyCode::Enter);
    assert_eq!(step(&mut app), "recipients");
    snap_both(&app, "backup_recipients");
    // Ana chosen (Space), Ben left out.
    key(&mut app, KeyCode::Char(' '));
    snap_both(&app, "backup_recipients_chosen");
    key(&mut app, KeyCode::Enter);
    assert_eq!(step(&mut app), "archive");
    snap_both(&app, "backup_archive_empty");

    // A mistyped recipient: refused under its field before anything runs.
    type_text(&mut app, "age1notarecipient");
    key(&mut app, KeyCode::Enter);
    let archive = sb.file("offsite.age");
    type_text(&mut app, archive.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert_eq!(step(&mut app), "archive", "no job for a bad recipient");
    let s = text(&app);
    assert!(
        s.contains("\"age1notarecipient\" is not an age recipient"),
        "{s}"
    );
    snap_both(&app, "backup_archive_bad_recipient");

    // The archive inside the workspace: the worker refuses, under the file.
    clear_field(&mut app);
    type_text(&mut app, &officer);
    key(&mut app, KeyCode::Enter);
    clear_field(&mut app);
    type_text(&mut app, sb.ws().join("inside.age").to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(60)));
    assert_eq!(step(&mut app), "archive");
    let s = text(&app);
    assert!(s.contains("inside the workspace"), "{s}");
    snap_both(&app, "backup_archive_inside_workspace");
    assert!(!sb.ws().join("inside.age").exists());

    clear_field(&mut app);
    type_text(&mut app, archive.to_str().unwrap());
    snap_both(&app, "backup_archive_filled");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(60)));
    assert_eq!(step(&mut app), "backed-up");
    let s = text(&app);
    assert!(s.contains("Encrypted to 2 recipient(s)"), "{s}");
    assert!(s.contains("Ana — age1"), "{s}");
    assert!(s.contains("not registered here — age1"), "{s}");
    snap_both(&app, "backup_written");

    // The registry records it; the audit head in it is the one shown; the
    // real age CLI opens it with the officer's key.
    let reg = ws.registry().unwrap();
    let rec = reg.backups.last().unwrap();
    assert!(s.contains(&rec.audit_head), "the head recorded is shown");
    assert_eq!(rec.recipients.len(), 2);
    let plain = age(&["-d", "-i", officer_key.to_str().unwrap()], Some(&archive));
    let doc: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["manifest"]["auditHead"], rec.audit_head.as_str());
    let events: Vec<String> = ws
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {:?}", e.event, e.status))
        .collect();
    assert!(
        events.iter().any(|e| e == "WORKSPACE_BACKUP Completed"),
        "{events:?}"
    );
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("Custodians (2)"), "back home");
}

#[test]
fn backup_with_nobody_chosen_is_refused_under_the_recipients() {
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let mut app = offline_app(ws);
    type_text(&mut app, "b1");
    assert_eq!(step(&mut app), "recipients");
    snap_both(&app, "backup_recipients_none_registered");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, sb.file("x.age").to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    let s = text(&app);
    assert!(
        s.contains("no recipient: nobody could open this archive"),
        "{s}"
    );
    assert!(!sb.file("x.age").exists());
}

/// The restore form from home: fills it and submits, then waits.
fn restore_attempt(
    app: &mut App,
    archive: &Path,
    identity: &Path,
    pass: &str,
    into: &Path,
) -> String {
    type_text(app, "b2");
    assert_eq!(step(app), "restore");
    for (i, value) in [
        archive.to_str().unwrap(),
        identity.to_str().unwrap(),
        pass,
        into.to_str().unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        type_text(app, value);
        if i < 3 {
            key(app, KeyCode::Enter);
        }
    }
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(120)));
    text(app)
}

/// Leaves the form (Esc asks, Esc again) and the menu, back to home.
fn leave(app: &mut App) {
    key(app, KeyCode::Esc);
    key(app, KeyCode::Esc);
    assert_eq!(step(app), "menu");
    key(app, KeyCode::Esc);
}

/// `text` with every run of whitespace made one space.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The field the focused line belongs to: the error sits under `label`.
fn error_under(screen: &str, label: &str, message: &str) {
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("{label}:")))
        .unwrap_or_else(|| panic!("no {label} field:\n{screen}"));
    // Wrapped lines joined: a message may be cut across two rows.
    let below = words(&lines[at + 1..].join(" "));
    assert!(
        below.contains(message),
        "`{message}` not under {label}:\n{screen}"
    );
    let next_label = [
        "Archive:",
        "Identity:",
        "Identity passphrase:",
        "New directory:",
    ]
    .iter()
    .filter(|l| !l.starts_with(&format!("{label}:")))
    .filter_map(|l| below.find(l))
    .min()
    .unwrap_or(below.len());
    assert!(
        below.find(message).unwrap() < next_label,
        "`{message}` is under another field than {label}:\n{screen}"
    );
}

/// One damaged input: name, archive bytes, identity, passphrase, target,
/// the field the error goes under and what it says.
type Case<'a> = (
    &'a str,
    Vec<u8>,
    &'a Path,
    &'a str,
    PathBuf,
    &'a str,
    &'a str,
);

#[test]
fn restore_verifies_everything_and_refuses_each_damage_under_its_field() {
    if missing_tool("age") || missing_tool("age-keygen") {
        return;
    }
    let sb = Sandbox::new();
    let (ws, ana_identity) = workspace(&sb);
    let ana = ws
        .registry()
        .unwrap()
        .custodian("Ana")
        .unwrap()
        .recipient
        .clone();
    let officer_key = sb.file("officer.key");
    let officer = age_keygen(&officer_key);
    let other_key = sb.file("other.key");
    age_keygen(&other_key);
    let archive = sb.file("ws.age");
    let rec =
        custodian_core::backup::backup(&ws, &[ana.clone(), officer.clone()], &archive).unwrap();
    let mut app = offline_app(ws.clone());

    type_text(&mut app, "b2");
    snap_both(&app, "restore_empty");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);

    // Each refusal: the field it names, and no directory made.
    let bytes = std::fs::read(&archive).unwrap();
    let mut flipped = bytes.clone();
    // A letter inside a full armor line in the middle: the armor still
    // parses, the payload's authentication fails. (Landing on a newline
    // made the armor itself malformed, a different refusal.)
    let mut mid = bytes.len() / 2;
    while !bytes[mid].is_ascii_alphanumeric() || bytes[mid + 1] == b'\n' || bytes[mid - 1] == b'\n'
    {
        mid += 1;
    }
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    let truncated = bytes[..bytes.len() * 2 / 3].to_vec();
    let plain = age(&["-d", "-i", officer_key.to_str().unwrap()], Some(&archive));
    let mut lying: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    lying["manifest"]["auditHead"] = serde_json::Value::String("ab".repeat(32));
    let lying_plain = sb.file("lying.json");
    std::fs::write(&lying_plain, serde_json::to_vec(&lying).unwrap()).unwrap();
    let lying_bytes = age(&["-a", "-r", &officer], Some(&lying_plain));
    std::fs::remove_file(&lying_plain).unwrap();
    let exists = sb.file("exists");
    std::fs::create_dir(&exists).unwrap();
    std::fs::write(exists.join("notes.txt"), b"kept").unwrap();
    let cases: Vec<Case> = vec![
        (
            "wrong-passphrase",
            bytes.clone(),
            &ana_identity,
            PASS_B,
            sb.file("r1"),
            "Identity passphrase",
            "the passphrase is wrong",
        ),
        (
            "needs-passphrase",
            bytes.clone(),
            &ana_identity,
            "",
            sb.file("r2"),
            "Identity passphrase",
            "its passphrase is needed",
        ),
        (
            "flipped",
            flipped,
            &officer_key,
            "",
            sb.file("r3"),
            "Archive",
            "does not decrypt: it was altered",
        ),
        (
            "truncated",
            truncated,
            &officer_key,
            "",
            sb.file("r4"),
            "Archive",
            "is truncated",
        ),
        (
            "wrong-identity",
            bytes.clone(),
            &other_key,
            "",
            sb.file("r5"),
            "Identity",
            "is not encrypted to this identity",
        ),
        (
            "head",
            lying_bytes,
            &officer_key,
            "",
            sb.file("r6"),
            "Archive",
            "but the manifest records head",
        ),
        (
            "target-exists",
            bytes.clone(),
            &officer_key,
            "",
            exists.clone(),
            "New directory",
            "exists and is not empty",
        ),
        (
            "live-workspace",
            bytes.clone(),
            &officer_key,
            "",
            sb.ws().join("restored"),
            "New directory",
            "inside the workspace open in this console",
        ),
    ];
    for (name, data, identity, pass, into, label, message) in cases {
        let path = sb.file(&format!("{name}.age"));
        std::fs::write(&path, &data).unwrap();
        let s = restore_attempt(&mut app, &path, identity, pass, &into);
        assert_eq!(step(&mut app), "restore", "{name}");
        error_under(&s, label, message);
        assert!(
            words(&s).contains("nothing was restored")
                || label == "Identity passphrase"
                || label == "New directory",
            "{name}: {s}"
        );
        if name == "wrong-passphrase" || name == "flipped" || name == "target-exists" {
            snap_both(&app, &format!("restore_refused_{}", name.replace('-', "_")));
        }
        assert!(!s.contains(PASS_B), "{name}: a passphrase on screen");
        if into != exists {
            assert!(!into.exists(), "{name}: something was restored");
        } else {
            assert_eq!(std::fs::read_dir(&exists).unwrap().count(), 1, "{name}");
        }
        leave(&mut app);
    }

    // Ana opens it with her own identity and passphrase: verified. An
    // empty directory counts as new (the core's rule, as on the CLI).
    let into = sb.file("restored");
    let live_before = ws.audit().verify().unwrap();
    std::fs::create_dir(&into).unwrap();
    let s = restore_attempt(&mut app, &archive, &ana_identity, PASS_A, &into);
    assert_eq!(step(&mut app), "restored", "{s}");
    assert!(s.contains("✔ Audit chain intact"), "{s}");
    assert!(
        s.contains(&format!("✔ Head equals the archive's: {}", rec.audit_head)),
        "{s}"
    );
    assert!(
        s.contains(&format!(
            "Every file's SHA-256 read back: {0} of {0} match",
            rec.files
        )),
        "{s}"
    );
    assert!(s.contains(&format!("opened by {ana}")), "{s}");
    snap_both(&app, "restore_verified");
    let restored = Workspace::open(&into).unwrap();
    // The recorded head is still in the copy's chain; the restore's own
    // two entries follow it.
    let chain = restored.audit().verify_expecting(&rec.audit_head).unwrap();
    assert_eq!(chain.entries, rec.audit_seq + 2);
    let last = restored.audit().entries().unwrap().pop().unwrap();
    assert_eq!(last.event, custodian_core::backup::RESTORE_EVENT);
    assert!(
        s.contains("✔ Recorded in the copy's audit log: WORKSPACE_RESTORE"),
        "{s}"
    );
    // The live workspace is untouched by the restore: no entry for it.
    let live_after = ws.audit().verify().unwrap();
    assert_eq!(live_after.entries, live_before.entries);
    assert_eq!(live_after.head, live_before.head);
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("Custodians (2)"), "back home");
}

#[test]
fn the_threat_that_flags_a_missing_backup_opens_the_backup_screen() {
    let sb = Sandbox::new();
    let (ws, _) = workspace(&sb);
    // A plaintext output written two days ago and never destroyed.
    let mut old = custodian_core::outputs::PlaintextOutput::new(
        &sb.file("ana.key"),
        custodian_core::outputs::OutputKind::PlainAgeKey,
        10,
        &"ab".repeat(32),
        "op",
    );
    old.created_at = custodian_core::clock::format(custodian_core::clock::plus_days(
        custodian_core::clock::now(),
        -2,
    ));
    ws.update_registry(|r| {
        r.plaintext_outputs.push(old);
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let mut app = offline_app(ws);
    assert!(text(&app).contains("plaintext output"), "home flags it");
    open_screen(&mut app, "t3");
    let s = text(&app);
    // The threat screen flags both: the old plaintext output and the backup.
    assert!(
        s.contains("FAIL Plaintext secret outputs destroyed within a day"),
        "{s}"
    );
    assert!(
        s.contains("FAIL An encrypted backup newer than the last sensitive operation"),
        "{s}"
    );
    assert!(
        s.contains("Press b to write an encrypted backup now"),
        "{s}"
    );
    // Threat 1 does not list the backup check: b does nothing there.
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Char('b'));
    assert_eq!(step(&mut app), "not the backup screen");
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('b'));
    assert_eq!(step(&mut app), "menu");
}

#[test]
fn a_secret_pasted_as_a_recipient_is_dropped_from_the_field() {
    let sb = Sandbox::new();
    let (ws, _) = workspace(&sb);
    let mut app = offline_app(ws);
    type_text(&mut app, "b1");
    key(&mut app, KeyCode::Enter);
    assert_eq!(step(&mut app), "archive");
    let secret = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQ4V4WQ";
    app.handle(custodian::tui::event::Event::Paste(
        secret.to_string().into(),
    ));
    key(&mut app, KeyCode::Enter);
    let archive = sb.file("pasted.age");
    type_text(&mut app, archive.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert_eq!(step(&mut app), "archive");
    let s = text(&app);
    assert!(!s.contains(&secret[20..40]), "{s}");
    // The field was emptied: a recipient typed now is the only one.
    let officer = custodian_core::identity::OpenedIdentity::generate("o").recipient;
    type_text(&mut app, &officer);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(std::time::Duration::from_secs(60)));
    assert_eq!(step(&mut app), "backed-up", "{}", text(&app));
    assert!(archive.exists());
}

/// Threat 3's footer: `b` (encrypted backup now) only when the backup
/// check fails; Esc never left out, and quit never at 120 columns.
#[test]
fn threat_3_offers_a_backup_only_when_the_check_fails_and_keeps_quit_in_the_footer() {
    let footer_at = |app: &App, w: u16, h: u16| {
        screen_text(&draw(app, w, h))
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    // No sensitive operation yet: the backup check passes.
    let sb = Sandbox::new();
    let mut app = offline_app(Workspace::open(sb.ws()).unwrap());
    open_screen(&mut app, "t3");
    let s = text(&app);
    assert!(
        s.contains("PASS An encrypted backup newer than the last sensitive operation"),
        "{s}"
    );
    assert!(
        !s.contains("Press b to write an encrypted backup now"),
        "{s}"
    );
    for (w, h) in [(80, 24), (120, 40)] {
        let footer = footer_at(&app, w, h);
        assert!(!footer.contains("encrypted backup now"), "{footer}");
        assert!(footer.contains(" Esc  back"), "{footer}");
    }
    assert!(footer_at(&app, 120, 40).contains(" q  quit"));
    key(&mut app, KeyCode::Char('b'));
    assert_eq!(step(&mut app), "not the backup screen");

    // Identities created since the last (no) backup: the check fails and
    // b is offered, with quit and Esc still shown.
    let sb = Sandbox::new();
    let (ws, _) = workspace(&sb);
    let mut app = offline_app(ws);
    open_screen(&mut app, "t3");
    let s = text(&app);
    assert!(
        s.contains("FAIL An encrypted backup newer than the last sensitive operation"),
        "{s}"
    );
    let footer = footer_at(&app, 120, 40);
    assert!(footer.contains(" b  encrypted backup now"), "{footer}");
    // At 120 columns q is never left out; at 80 Esc and help stay.
    assert!(footer.contains(" q  quit"), "{footer}");
    for (w, h) in [(80, 24), (120, 40)] {
        let footer = footer_at(&app, w, h);
        assert!(
            footer.contains(" Esc  back") && footer.contains(" ?  help"),
            "{footer}"
        );
    }
    snap_both(&app, "threat_3_backup_failing");
    key(&mut app, KeyCode::Char('b'));
    assert_eq!(step(&mut app), "menu");
}
