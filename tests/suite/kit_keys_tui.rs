//! The DR kit's workspace keys at the console, driven key by key through
//! the real app and its worker threads: "verify with the owner's mobile
//! secret" and "recover" from the kit menu, and both launched from
//! scenario 5's steps. A drill kit (complete vendor format) encrypted to
//! an openssl RSA key; bad inputs each come back under the field that
//! fixes it with everything else kept; a key that does not reproduce its
//! public key is listed as such and never output. Snapshots at 80×24 and
//! 120×40.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::Sandbox;
use common::pykit::{Kit, drill_kit};
use common::tui::{self, ctrl, key, screen_text, text, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::drkit::kit::DRILL_OWNER_PASSPHRASE;
use custodian_core::workspace::Workspace;
use serde_json::Value;

fn tools() -> bool {
    !common::missing_tool("openssl") && !common::missing_tool("age")
}

fn app(sb: &Sandbox) -> App {
    tui::offline_app(Workspace::open(sb.ws()).unwrap())
}

fn settings() -> insta::Settings {
    let mut s = tui::settings(&[
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[UUID]",
        ),
        (r"\d+_\[UUID\]", "[P]_[UUID]"),
        // The one-time display's private values, cut to the box's width.
        (r#"(?m)^"│     [^"]*"$"#, "\"│     [SECRET]\""),
        // Public keys, xpub/fpub and recipients (the screen cuts them into
        // pieces of 20 or more characters, never wrapped mid-line).
        (r"\b[0-9A-Za-z]{20,}\b", "[V]"),
    ]);
    s.add_filter(r#"(?m) +"$"#, "\"");
    s
}

/// Snapshots the app at 80×24 and 120×40.
fn snap_both(name: &str, app: &App) {
    for (w, h) in [(80, 24), (120, 40)] {
        snap!(format!("{name}_{w}x{h}"), tui::draw(app, w, h), settings());
    }
}

/// Fills the workspace-keys form from the kit field on: the kit, the key
/// (the suggested default path cleared first), no key passphrase (the
/// openssl key is not encrypted), the mobile passphrase, no mobile key,
/// no selection; then Enter on the last field.
fn fill(app: &mut App, kit: &Path, key: &Path, mobile: &str) {
    type_text(app, kit.to_str().unwrap());
    tui::key(app, KeyCode::Enter);
    ctrl(app, 'u');
    type_text(app, key.to_str().unwrap());
    for _ in 0..2 {
        tui::key(app, KeyCode::Enter);
    }
    type_text(app, mobile);
    for _ in 0..4 {
        tui::key(app, KeyCode::Enter);
    }
}

fn pump(app: &mut App) {
    assert!(app.pump_until_idle(Duration::from_secs(120)));
}

/// The error `needle` is on the line right under the field labelled
/// `label` (which is focused, with everything else kept).
fn error_under(app: &App, label: &str, needle: &str) {
    let screen = text(app);
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("{label}:")))
        .unwrap_or_else(|| panic!("no field {label}:\n{screen}"));
    assert!(
        lines[at + 1].contains(needle),
        "{label}: expected {needle:?} under it:\n{screen}"
    );
}

fn audit_statuses(sb: &Sandbox, event: &str) -> Vec<String> {
    std::fs::read_to_string(sb.ws().join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == event)
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn verify_with_the_mobile_secret_lists_every_key_from_the_kit_menu() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let mut app = app(&sb);
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('5'));
    assert_eq!(app.current_title(), "Verify the kit's workspace keys");
    fill(&mut app, &k.kit, &k.key, DRILL_OWNER_PASSPHRASE);
    // The passphrase is masked, never on screen.
    pump(&mut app);
    let shown = text(&app);
    assert!(
        shown.contains("Every workspace key reproduces its public key"),
        "{shown}"
    );
    for dk in &k.keys {
        assert!(shown.contains(&dk.key_id), "{shown}");
    }
    assert_eq!(
        shown.matches("verified: the shares reproduce").count(),
        k.keys.len()
    );
    assert!(shown.contains("fpub") && shown.contains("xpub"));
    assert!(!shown.contains(DRILL_OWNER_PASSPHRASE));
    snap_both("kit_keys_verified", &app);
    // The list scrolls only as far as its last line: at 80×24 it fits, so
    // nothing is marked below and ↓ does not move it off screen.
    let small = |app: &App| screen_text(&tui::draw(app, 80, 24));
    let s = small(&app);
    assert!(s.contains("Every workspace key reproduces"), "{s}");
    assert!(!s.contains("more below"), "{s}");
    for _ in 0..3 {
        key(&mut app, KeyCode::Down);
    }
    assert!(small(&app).contains("Every workspace key reproduces"));
    assert_eq!(
        audit_statuses(&sb, "DRKIT_VERIFY_WORKSPACE_KEYS"),
        ["INITIATED", "COMPLETED"]
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Vendor DR kit");
}

#[test]
fn a_key_that_does_not_reproduce_is_listed_as_such_beside_the_others() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    // The metadata names another key's public key for the first key.
    let meta = {
        let mut a = zip::ZipArchive::new(std::fs::File::open(&k.kit).unwrap()).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut a.by_name("metadata.json").unwrap(), &mut s).unwrap();
        serde_json::from_str::<Value>(&s).unwrap()
    };
    // The first ECDSA key's public key replaced by the second's (keysets
    // 1 and 2): its shares no longer reproduce the key the metadata names.
    let ecdsa: Vec<String> = meta["keys"]
        .as_object()
        .unwrap()
        .values()
        .filter(|x| x["algo"].as_str().unwrap().contains("ECDSA"))
        .map(|x| x["publicKey"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ecdsa.len(), 2, "{meta}");
    let bad = sb.file("mismatched.zip");
    common::pykit::rezip(&k.kit, &bad, |name, bytes| {
        if name == "metadata.json" {
            let t = String::from_utf8(bytes).unwrap();
            Some(t.replacen(&ecdsa[0], &ecdsa[1], 1).into_bytes())
        } else {
            Some(bytes)
        }
    });
    let mut app = app(&sb);
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('5'));
    fill(&mut app, &bad, &k.key, DRILL_OWNER_PASSPHRASE);
    pump(&mut app);
    let shown = text(&app);
    assert!(shown.contains("do NOT reproduce"), "{shown}");
    assert_eq!(shown.matches("NOT verified").count(), 1, "{shown}");
    assert_eq!(
        shown.matches("verified: the shares reproduce").count(),
        k.keys.len() - 1
    );
    snap_both("kit_keys_not_reproduced", &app);
    assert_eq!(
        audit_statuses(&sb, "DRKIT_VERIFY_WORKSPACE_KEYS"),
        ["INITIATED", "FAILED"]
    );
}

#[test]
fn each_bad_input_comes_back_under_the_field_that_fixes_it() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let key0 = &k.keys[0].key_id;
    let flipped = sb.file("flipped.zip");
    let mut done = false;
    common::pykit::rezip(&k.kit, &flipped, |name, mut b| {
        if !done && name.ends_with(key0.as_str()) && !name.starts_with("MOBILE") {
            b[100] ^= 1;
            done = true;
        }
        Some(b)
    });
    let missing = sb.file("missing.zip");
    let mobile_entry = format!("MOBILE_{key0}");
    common::pykit::rezip(&k.kit, &missing, |name, b| {
        (name != mobile_entry).then_some(b)
    });
    common::clock_confirmed(&sb.ws()); // what tui::offline_app records, before the snapshot
    let before = sb.snapshot();
    let cases: [(&Path, &Path, &str, &str, &str); 4] = [
        (
            &k.kit,
            &k.key,
            "not the owner's passphrase",
            "Owner's mobile passphrase",
            "the owner's recovery passphrase does not open",
        ),
        (
            &k.kit,
            &k.other,
            DRILL_OWNER_PASSPHRASE,
            "Recovery private key",
            "does not decrypt with this private key",
        ),
        (
            &missing,
            &k.key,
            DRILL_OWNER_PASSPHRASE,
            "Kit zip",
            "the kit has no mobile",
        ),
        (
            &flipped,
            &k.key,
            DRILL_OWNER_PASSPHRASE,
            "Kit zip",
            "does not decrypt, although the same secret opens",
        ),
    ];
    for (i, (kit, rsa, mobile, label, needle)) in cases.into_iter().enumerate() {
        let mut app = app(&sb);
        key(&mut app, KeyCode::Char('v'));
        key(&mut app, KeyCode::Char('5'));
        fill(&mut app, kit, rsa, mobile);
        pump(&mut app);
        error_under(&app, label, needle);
        let shown = text(&app);
        // Everything typed is kept: the paths are still in their fields.
        assert!(shown.contains(kit.to_str().unwrap()), "{shown}");
        assert!(shown.contains(rsa.to_str().unwrap()), "{shown}");
        if i == 0 {
            snap_both("kit_keys_wrong_mobile_passphrase", &app);
            // Typed again, the same form verifies.
            type_text(&mut app, DRILL_OWNER_PASSPHRASE);
            for _ in 0..4 {
                key(&mut app, KeyCode::Enter);
            }
            pump(&mut app);
            assert!(text(&app).contains("Every workspace key reproduces"));
        }
    }
    // Nothing but the audit log changed.
    let after: Vec<_> = sb
        .snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("audit.jsonl"))
        .collect();
    let was: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.ends_with("audit.jsonl"))
        .collect();
    assert_eq!(after, was);
}

/// Approvers (typed policy) → the form → output choice `choice` with
/// `first` and `out` → confirmation → started.
fn recover_to(app: &mut App, k: &Kit, choice: char, first: &str, out: &str) {
    key(app, KeyCode::Char('v'));
    key(app, KeyCode::Char('6'));
    assert_eq!(app.current_title(), "Recover the kit's workspace keys");
    approve_and_fill(app, k);
    key(app, KeyCode::Char(choice));
    if choice != '3' {
        type_text(app, first);
        key(app, KeyCode::Enter);
        type_text(app, out);
    }
    key(app, KeyCode::Enter);
}

fn approve_and_fill(app: &mut App, k: &Kit) {
    for name in ["Officer One", "Legal Two"] {
        type_text(app, name);
        key(app, KeyCode::Enter);
    }
    key(app, KeyCode::Enter);
    fill(app, &k.kit, &k.key, DRILL_OWNER_PASSPHRASE);
}

/// Under the "authenticated approvals" policy the approver step is the
/// shared one: two typed names are refused at the step (not later by the
/// core), and one name given twice in another case is the same person.
#[test]
fn recover_under_the_authenticated_policy_refuses_typed_names_at_the_approver_step() {
    let sb = Sandbox::new();
    common::require_authenticated_approvals(&Workspace::open(sb.ws()).unwrap());
    let mut app = app(&sb);
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('6'));
    assert_eq!(app.current_title(), "Recover the kit's workspace keys");
    // Enter on a name goes on to the passphrase; Enter on it empty adds
    // the name as typed.
    for name in ["Officer One", "Legal Two"] {
        type_text(&mut app, name);
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Enter);
    }
    let t = text(&app);
    assert!(
        t.contains("Approvers: Officer One (typed), Legal Two (typed)"),
        "{t}"
    );
    type_text(&mut app, "officer one");
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(t.contains("approver `officer one` is named twice"), "{t}");
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(
        t.contains("this workspace requires authenticated approvals"),
        "{t}"
    );
    // What to do, in console terms: no flag, no command.
    tui::assert_no_command_line_advice(&t);
    assert!(t.contains("What to do"), "{t}");
    assert!(!t.contains("Kit zip"), "still on the approver step:\n{t}");
}

#[test]
fn recover_to_an_age_file_from_the_kit_menu() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let id = sb.file("out-identity.txt");
    let recipient = common::age_keygen(&id);
    let out = sb.file("keys.age");
    let mut app = app(&sb);
    // Enter on the empty approver form with fewer than two approvers is refused.
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('6'));
    key(&mut app, KeyCode::Enter);
    assert!(
        text(&app).contains("at least 2 approvers"),
        "{}",
        text(&app)
    );
    // Esc with an approver named asks first; a second Esc leaves.
    type_text(&mut app, "Officer One");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Recover the kit's workspace keys");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Vendor DR kit");
    key(&mut app, KeyCode::Esc);
    recover_to(&mut app, &k, '2', &recipient, out.to_str().unwrap());
    snap_both("kit_keys_recover_confirm", &app);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let shown = text(&app);
    assert!(
        shown.contains("Workspace keys recovered, checked and written"),
        "{shown}"
    );
    assert!(shown.contains(out.to_str().unwrap()));
    snap_both("kit_keys_recovered", &app);
    // At 80×24 the lines below the fold are marked, and the list scrolls
    // to its last line and no further.
    let small = |app: &App| screen_text(&tui::draw(app, 80, 24));
    let s = small(&app);
    assert!(s.contains("↓ 3 more below (PgDn)"), "{s}");
    for _ in 0..5 {
        key(&mut app, KeyCode::Down);
    }
    let s = small(&app);
    assert!(!s.contains("more below"), "{s}");
    assert!(s.contains("↑ 3 more above"), "{s}");
    key(&mut app, KeyCode::Home);
    assert!(small(&app).contains("Workspace keys recovered, checked"));
    let doc: Value = serde_json::from_slice(&common::age(
        &["-d", "-i", id.to_str().unwrap()],
        Some(&out),
    ))
    .unwrap();
    assert_eq!(doc["format"], "custodian-workspace-keys");
    let got = doc["keys"].as_array().unwrap();
    assert_eq!(got.len(), k.keys.len());
    for g in got {
        assert_eq!(g["verified"], true);
        assert_eq!(g["privateKey"].as_str().unwrap().len(), 64);
        // No private value reached the screen.
        assert!(!shown.contains(g["privateKey"].as_str().unwrap()));
    }
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(log.contains("\"Officer One\"") && log.contains("\"Legal Two\""));
    assert_eq!(
        audit_statuses(&sb, "DRKIT_RECOVER_WORKSPACE_KEYS"),
        ["INITIATED", "COMPLETED"]
    );
}

#[test]
fn an_unusable_output_comes_back_under_its_field_and_hsm_goes_to_a_new_directory() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let mut app = app(&sb);
    // The HSM's private key given as its public key: refused under field 0.
    let dir = sb.file("hsm-transfer");
    recover_to(
        &mut app,
        &k,
        '1',
        k.hsm.to_str().unwrap(),
        dir.to_str().unwrap(),
    );
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    error_under(&app, "HSM import public key (PEM)", "is a PEM private key");
    assert!(!dir.exists());
    // Fixed: the public key; the directory is created with one block per key.
    ctrl(&mut app, 'u');
    type_text(&mut app, k.hsm_public.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    assert!(
        text(&app).contains("Workspace keys recovered"),
        "{}",
        text(&app)
    );
    for dk in &k.keys {
        assert_eq!(
            std::fs::metadata(dir.join(format!("{}.oaep", dk.key_id)))
                .unwrap()
                .len(),
            256
        );
    }
    assert!(dir.join("workspace-keys-manifest.json").exists());
}

#[test]
fn show_once_pages_every_key_then_clears_and_records_how_it_ended() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let mut app = app(&sb);
    recover_to(&mut app, &k, '3', "", "");
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let n = k.keys.len().to_string();
    assert!(text(&app).contains("Type the number of keys"));
    type_text(&mut app, "99");
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("That is not the number of keys"));
    snap_both("kit_keys_confirm_show", &app);
    type_text(&mut app, &n);
    key(&mut app, KeyCode::Enter);
    let page = text(&app);
    assert!(page.contains("key 1 of"), "{page}");
    snap_both("kit_keys_showing", &app);
    // Every page says what its value is; an EdDSA key's says it is the raw
    // scalar, not an RFC 8032 seed (CLARIFICATIONS 16).
    let mut eddsa = 0;
    for i in 0..k.keys.len() {
        let page = text(&app);
        assert!(page.contains(&format!("key {} of {n}", i + 1)), "{page}");
        if page.contains("MPC_EDDSA_ED25519") {
            eddsa += 1;
            assert!(page.contains("not an RFC 8032 seed"), "{page}");
        } else {
            assert!(page.contains("big-endian"), "{page}");
        }
        key(&mut app, KeyCode::Enter);
    }
    assert_eq!(eddsa, 1, "the drill kit has one EdDSA key");
    assert!(text(&app).contains("The screen has been cleared and the keys discarded"));
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    let cleared: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "DRKIT_RECOVER_SCREEN_CLEARED")
        .collect();
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0]["details"]["ended"], "shown-and-cleared");
    assert_eq!(cleared[0]["details"]["shown"], true);
}

/// Scenario 5: open it, start its incident and launch step `index`
/// (0-based).
fn launch_step(app: &mut App, index: usize) {
    key(app, KeyCode::Char('p'));
    key(app, KeyCode::Char('5'));
    for _ in 0..index {
        key(app, KeyCode::Down);
    }
    key(app, KeyCode::Enter);
    type_text(app, "Officer One");
    key(app, KeyCode::Enter);
    confirm_launch(app);
}

/// On a step of a started incident: the operator's name, then Enter
/// (warned that earlier steps are open) and Enter again.
fn confirm_launch(app: &mut App) {
    type_text(app, "Officer One");
    key(app, KeyCode::Enter);
    key(app, KeyCode::Enter);
}

#[test]
fn scenario_5_launches_kit_verify_and_kit_recover_and_records_them() {
    if !tools() {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let ws = Workspace::open(sb.ws()).unwrap();
    let book = custodian_core::playbook::Playbook::builtin();
    let steps = &book.scenario(5).unwrap().steps;
    let at = |id: &str| steps.iter().position(|s| s.id == id).unwrap();
    let mut app = app(&sb);
    launch_step(&mut app, at("kit-verify"));
    assert_eq!(app.current_title(), "Verify the kit's workspace keys");
    fill(&mut app, &k.kit, &k.key, DRILL_OWNER_PASSPHRASE);
    pump(&mut app);
    key(&mut app, KeyCode::Enter);
    assert!(
        app.current_title().starts_with("Scenario 5"),
        "{}",
        app.current_title()
    );
    let inc = custodian_core::playbook::incident::open_for_scenario(&ws, 5)
        .unwrap()
        .unwrap();
    assert!(inc.step("kit-verify").is_some(), "kit-verify not recorded");
    // Recover: the step records the age file.
    let recipient = common::age_keygen(&sb.file("out-identity.txt"));
    let out = sb.file("scenario5-keys.age");
    // kit-recover is the last step.
    assert_eq!(at("kit-recover"), steps.len() - 1);
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Enter);
    confirm_launch(&mut app);
    assert_eq!(app.current_title(), "Recover the kit's workspace keys");
    approve_and_fill(&mut app, &k);
    key(&mut app, KeyCode::Char('2'));
    type_text(&mut app, &recipient);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, out.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    key(&mut app, KeyCode::Enter);
    let inc = custodian_core::playbook::incident::open_for_scenario(&ws, 5)
        .unwrap()
        .unwrap();
    let step = inc.step("kit-recover").expect("kit-recover recorded");
    assert_eq!(step.files[0].path, out);
}
