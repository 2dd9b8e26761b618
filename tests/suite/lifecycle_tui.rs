//! The lifecycle flows through the real console app: rotation from a
//! custodian row on home (current passphrase checked first and refused in
//! place, new passphrases, the confirmation listing what changes, the
//! transaction on a worker, the result), with snapshots at 80×24 and
//! 120×40.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::path::PathBuf;
use std::time::Duration;

use common::tui::{self, key, new_pass, screen_text, text, type_text};
use common::{PASS_B, gpass};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::guardians;
use custodian_core::identity::IdentityFile;
use custodian_core::shard::ShardFile;
use custodian_core::workspace::Workspace;
use secrecy::SecretString;
use shard_fixture::*;

const GUARDIANS: [&str; 3] = ["Gus", "Hal", "Ivy"];
const NEW_ANA: &str = "lantern orbit staple battery horse correct";

fn new_gpass(g: &str) -> String {
    format!("{PASS_B} {g} rotated")
}

/// Ana's key split 2-of-3 among Gus, Hal and Ivy; returns the share files.
fn split_ana(sb: &common::Sandbox) -> Vec<PathBuf> {
    split_among(sb, "Ana", &GUARDIANS, 2)
}

fn snap_both(name: &str, app: &App) {
    snap_both!(
        name,
        app,
        &[
            (r"\b[0-9a-f]{32}\b", "[SET]"),
            (r"\b[0-9a-f]{8}\b", "[SET8]")
        ]
    );
}

fn rotate_step(app: &mut App) -> &'static str {
    app.top_screen::<custodian::tui::screens::rotate::RotateScreen>()
        .map(|s| s.step_name())
        .unwrap_or("not the rotation")
}

fn retire_step(app: &mut App) -> &'static str {
    app.top_screen::<custodian::tui::screens::retire::RetireScreen>()
        .map(|s| s.step_name())
        .unwrap_or("not the retirement")
}

#[test]
fn rotation_from_the_home_row_rewraps_resplits_and_retires_the_old_files() {
    let sb = sandbox();
    let old_shares = split_ana(&sb);
    make_rotation_overdue(&sb, "Ana");
    let old_recipient = IdentityFile::load(&identity(&sb, "Ana")).unwrap().recipient;
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    // Ana is the first (selected) row. The plan (share files read and
    // hashed) is made on a worker: the screen says so until it reports.
    key(&mut app, KeyCode::Char('o'));
    assert_eq!(app.current_title(), "Rotate custodian — Ana");
    assert_eq!(rotate_step(&mut app), "planning");
    assert!(text(&app).contains("Working…"), "{}", text(&app));
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    assert_eq!(rotate_step(&mut app), "old-passphrase");
    snap_both("rotate_old_passphrase", &app);

    // A wrong passphrase is refused in place, before anything else is asked.
    type_text(&mut app, "not the passphrase at all");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(t.contains("Current passphrase"), "{t}");
    assert!(t.contains("passphrase"), "{t}");
    assert!(!t.contains("New identity passphrase"), "{t}");
    snap_both("rotate_old_passphrase_refused", &app);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("CUSTODIAN_ROTATE") && audit.contains("FAILED"),
        "a wrong passphrase is audited as a failed rotation"
    );

    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(text(&app).contains("New identity passphrase for Ana"));
    snap_both("rotate_new_passphrase", &app);
    new_pass(&mut app, NEW_ANA);
    let t = text(&app);
    assert!(t.contains("Guardian 1 of 3: Gus"), "{t}");
    snap_both("rotate_guardian", &app);
    for g in GUARDIANS {
        new_pass(&mut app, &new_gpass(g));
    }
    let t = text(&app);
    assert!(
        t.contains("Rotation of (Ana) will change, in one transaction"),
        "{t}"
    );
    assert!(
        t.contains("shards to rewrap to the new recipient: 2"),
        "{t}"
    );
    assert!(t.contains("drill-alpha #1"), "{t}");
    assert!(t.contains("drill-beta #1"), "{t}");
    assert!(
        t.contains("guardians re-split 2-of-3: Gus, Hal, Ivy"),
        "{t}"
    );
    assert!(t.contains("superseded"), "{t}");
    assert!(
        t.contains("the identity file ana.identity.json, 2 shard file(s), 3 share file(s)"),
        "{t}"
    );
    // No passphrase typed anywhere is on screen.
    for p in [pass_of("Ana"), NEW_ANA] {
        assert!(!t.contains(p));
    }
    snap_both("rotate_confirm", &app);
    // Nothing written before the confirmation.
    assert_eq!(
        IdentityFile::load(&identity(&sb, "Ana")).unwrap().recipient,
        old_recipient
    );
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("Rotating: new identity"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Rotate custodian — Ana");
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(t.contains("✔ rotated Ana"), "{t}");
    assert!(t.contains("Shards rewrapped and verified: 2"), "{t}");
    // Opened from home: Enter goes back home, and the footer says so.
    let footer = t.lines().last().unwrap();
    assert!(footer.contains(" Enter  back to home"), "{footer}");
    snap_both("rotate_done", &app);

    // The facts: a new identity, both shards open with it, the old set
    // superseded, the old files in retired/.
    let ws = Workspace::open(sb.ws()).unwrap();
    let reg = ws.registry().unwrap();
    let ana = reg.custodian("Ana").unwrap();
    assert_ne!(ana.recipient, old_recipient);
    // The rotation date moved 90 days on from today.
    common::assert_due_in_90_days(&ana.rotation_due);
    let new_id = IdentityFile::load(ana.identity_file.as_ref().unwrap())
        .unwrap()
        .open(&SecretString::from(NEW_ANA))
        .unwrap();
    let mine: Vec<_> = reg
        .shards
        .iter()
        .filter(|r| r.recipient == ana.recipient)
        .collect();
    assert_eq!(mine.len(), 2);
    for r in mine {
        ShardFile::load(&r.file).unwrap().open(&new_id).unwrap();
    }
    for s in &old_shares {
        assert!(!s.exists(), "{} was not retired", s.display());
    }
    assert!(sb.ws().join("retired").join("identities").exists());
    let past = &reg.custodian_history[0];
    assert_eq!(past.recipient, old_recipient);

    // Back on home, the row shows the new recipient's fingerprint.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");
}

#[test]
fn rotation_of_a_custodian_without_an_identity_file_says_why_and_asks_nothing() {
    let sb = sandbox();
    std::fs::rename(identity(&sb, "Ana"), sb.file("elsewhere.json")).unwrap();
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    tui::key_settled(&mut app, KeyCode::Char('o'));
    let t = text(&app);
    assert!(t.contains("ana.identity.json"), "{t}");
    assert!(!t.contains("Current passphrase:"), "{t}");
    snap_both("rotate_unplannable", &app);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");
}

/// Puts the workspace under the "authenticated approvals" policy.
fn authenticated_policy(sb: &common::Sandbox) {
    common::require_authenticated_approvals(&Workspace::open(sb.ws()).unwrap());
}

/// The audit entries of `event` with `status`, as JSON.
fn audit_entries(sb: &common::Sandbox, event: &str, status: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(sb.ws().join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == event && v["status"] == status)
        .collect()
}

#[test]
fn retirement_from_the_home_row_moves_the_shards_under_an_audited_override() {
    let sb = sandbox();
    let old_shares = split_ana(&sb);
    let ana = IdentityFile::load(&identity(&sb, "Ana")).unwrap().recipient;
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    // Ana is the first (selected) row.
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.current_title(), "Retire custodian — Ana");
    let t = text(&app);
    assert!(t.contains("▶ Ben") && t.contains("Cy"), "{t}");
    assert!(!t.contains("▶ Ana"), "the retiree is no successor: {t}");
    snap_both("retire_successor", &app);
    // Ben holds a shard of each 2-of-3 key already: with Ana's he would
    // reach both thresholds alone. The plan is made on a worker, the list
    // saying "working…" until it reports.
    key(&mut app, KeyCode::Enter);
    assert_eq!(retire_step(&mut app), "successor");
    assert!(text(&app).contains("Working…"), "{}", text(&app));
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    assert_eq!(retire_step(&mut app), "confirm-holder");
    let t = text(&app);
    assert!(
        t.contains("Ben would hold 2 shards of key drill-alpha, which needs 2"),
        "{t}"
    );
    // A wrong name typed back is refused in place.
    type_text(&mut app, "Bob");
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(t.contains("`Bob` is not the successor's name"), "{t}");
    snap_both("retire_confirm_holder_refused", &app);
    for _ in 0..3 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("override names at least two different approvers"));
    // Continuing with no approver, then with one, is refused.
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("at least 2 different approvers; 0 named"));
    type_text(&mut app, "Cy");
    key(&mut app, KeyCode::Enter);
    // The same person twice is refused by name.
    type_text(&mut app, "cy");
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(t.contains("approver `cy` is named twice"), "{t}");
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("at least 2 different approvers; 1 named"));
    type_text(&mut app, "Dee Legal");
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(
        t.contains("Approvers: Cy (typed), Dee Legal (typed)"),
        "{t}"
    );
    snap_both("retire_approvers", &app);
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("Retiree's passphrase"));
    // A wrong passphrase is refused in place (and audited).
    type_text(&mut app, "not the passphrase at all");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(t.contains("Retiree's passphrase"), "{t}");
    assert!(!t.contains("will change"), "{t}");
    assert_eq!(audit_entries(&sb, "CUSTODIAN_RETIRE", "FAILED").len(), 1);
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(
        t.contains("Retirement of Ana will change, in one transaction"),
        "{t}"
    );
    assert!(t.contains("shards rewrapped to Ben: 2"), "{t}");
    assert!(
        t.contains("override approved by Cy (typed), Dee Legal (typed)"),
        "{t}"
    );
    assert!(!t.contains(pass_of("Ana")));
    snap_both("retire_confirm", &app);
    // Nothing written before the confirmation.
    assert!(
        Workspace::open(sb.ws())
            .unwrap()
            .registry()
            .unwrap()
            .custodian("Ana")
            .is_some()
    );
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(t.contains("✔ retired Ana; successor Ben"), "{t}");
    assert!(
        t.contains("Override approved by Cy, Dee Legal (audited)"),
        "{t}"
    );
    snap_both("retire_done", &app);

    // The facts: Ana in the history, her shards now Ben's and opening with
    // his identity, her guardian set superseded, the override audited.
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    assert!(reg.custodian("Ana").is_none());
    let past = reg
        .custodian_history
        .iter()
        .find(|p| p.recipient == ana)
        .unwrap();
    assert_eq!(past.successor.name, "Ben");
    assert_eq!(past.approvers, ["Cy", "Dee Legal"]);
    let ben = reg.custodian("Ben").unwrap();
    let ben_id = IdentityFile::load(ben.identity_file.as_ref().unwrap())
        .unwrap()
        .open(&SecretString::from(pass_of("Ben")))
        .unwrap();
    let bens: Vec<_> = reg
        .shards
        .iter()
        .filter(|r| r.recipient == ben.recipient)
        .collect();
    assert_eq!(bens.len(), 4);
    for r in bens {
        ShardFile::load(&r.file).unwrap().open(&ben_id).unwrap();
    }
    assert!(
        reg.guardian_splits
            .splits
            .iter()
            .filter(|s| s.recipient == ana)
            .all(|s| s.superseded.is_some())
    );
    for s in &old_shares {
        assert!(!s.exists(), "{} was not retired", s.display());
    }
    let done = audit_entries(&sb, "CUSTODIAN_RETIRE", "INITIATED");
    let last = done.last().unwrap();
    assert_eq!(
        last["details"]["overrideApprovers"],
        serde_json::json!(["Cy", "Dee Legal"])
    );
    assert_eq!(last["details"]["acceptedConcentration"], true);
    assert_eq!(audit_entries(&sb, "CUSTODIAN_RETIRE", "COMPLETED").len(), 1);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");
    assert!(text(&app).contains("1 retired"));
}

#[test]
fn retirement_override_under_the_authenticated_policy_needs_approvers_who_open_their_identity() {
    let sb = sandbox();
    authenticated_policy(&sb);
    sb.register_approvers();
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('x'));
    tui::key_settled(&mut app, KeyCode::Enter);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    // Enter on a name goes on to that approver's own passphrase.
    type_text(&mut app, "Cy");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "wrong passphrase for cy entirely");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(
        t.contains("approver `Cy`: the passphrase does not open their identity"),
        "{t}"
    );
    snap_both("retire_approver_refused", &app);
    type_text(&mut app, pass_of("Cy"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    // An unregistered name with a passphrase is refused by name.
    type_text(&mut app, "Zed");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "some passphrase zed typed here");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(text(&app).contains("approver `Zed` is not a registered custodian"));
    // A typed name is taken but does not count under this policy.
    for _ in 0.."some passphrase zed typed here".len() {
        key(&mut app, KeyCode::Backspace);
    }
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(
        t.contains("Approvers: Cy (identity opened), Zed (typed)"),
        "{t}"
    );
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(
        t.contains("this workspace requires authenticated approvals"),
        "{t}"
    );
    tui::assert_no_command_line_advice(&t);
    assert!(t.contains("What to do"), "{t}");
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(text(&app).contains("Approvers: Cy (identity opened), Ben (identity opened)"));
    // The successor approving their own override is refused by the core
    // rule as the approvers step ends, before the retiree's passphrase is
    // asked: the step stays, Ben dropped, the reason under the name,
    // nothing changed.
    let before = common::Sandbox::snapshot(&sb);
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(!t.contains("Retiree's passphrase"), "{t}");
    assert!(
        t.contains(
            "approver `Ben` is the successor of this operation and cannot approve their own override"
        ),
        "{t}"
    );
    assert!(t.contains("Approvers: Cy"), "{t}");
    assert!(!t.contains("Approvers: Cy, Ben"), "{t}");
    snap_both("retire_self_approval_refused", &app);
    assert_eq!(common::Sandbox::snapshot(&sb), before);
    let (other, other_pass) = common::APPROVERS[0];
    type_text(&mut app, other);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, other_pass);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(
        t.contains(&format!("Cy (identity opened), {other} (identity opened)")),
        "{t}"
    );
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(t.contains("✔ retired Ana; successor Ben"), "{t}");
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    assert_eq!(reg.custodian_history[0].approvers, ["Cy", other]);
    // No passphrase reached the workspace's files (the approvers'
    // passphrase files given to `identity new` live outside it).
    for (path, bytes) in sb.snapshot() {
        let text = String::from_utf8_lossy(&bytes);
        for p in [pass_of("Ana"), pass_of("Ben"), other_pass] {
            assert!(
                !path.starts_with(sb.ws()) || !text.contains(p),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn retirement_of_the_only_custodian_says_why_and_asks_nothing() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    ws.update_registry(|r| {
        r.custodians.retain(|c| c.name == "Ana");
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('x'));
    let t = text(&app);
    assert!(t.contains("Ana is the only active custodian"), "{t}");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");
}

/// Empties the focused plain field (Ctrl-U) and types `text` into it.
fn retype(app: &mut App, text: &str) {
    tui::ctrl(app, 'u');
    type_text(app, text);
}

#[test]
fn roll_call_walks_the_guardians_and_names_each_bad_share_under_its_field() {
    let sb = sandbox();
    let superseded = split_ana(&sb);
    let shares = split_ana(&sb);
    // Hal's share re-sealed under the same passphrase and header with other
    // bytes: it opens, and the commitment catches it.
    let mut forged = guardians::ShareFile::load(&shares[1]).unwrap();
    let mut bytes = vec![forged.index];
    bytes.extend([0x5a; 32]);
    forged.envelope = custodian_core::envelope::seal(
        &bytes,
        &SecretString::from(gpass("Hal")),
        custodian_core::envelope::DEFAULT_ITERATIONS,
        Some(forged.context()),
    )
    .unwrap();
    let forged_path = sb.file("forged.share.json");
    std::fs::write(&forged_path, forged.to_bytes()).unwrap();

    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('G'));
    let t = text(&app);
    assert!(t.contains("Ana · set"), "{t}");
    assert!(t.contains("2-of-3 · seen this quarter: 0 of 3"), "{t}");
    snap_both("roll_call_pick", &app);
    key(&mut app, KeyCode::Enter);
    assert!(text(&app).contains("Guardian 1 of 3: Gus — open your own share"));
    // The registered file is offered; the focus is on the passphrase.
    type_text(&mut app, "not gus's passphrase at all");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(t.contains("Guardian 1 of 3: Gus"), "{t}");
    assert!(t.contains("passphrase"), "{t}");
    snap_both("roll_call_wrong_passphrase", &app);
    type_text(&mut app, &gpass("Gus"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = text(&app);
    assert!(t.contains("✔ Gus proved their share"), "{t}");
    assert!(t.contains("Guardian 2 of 3: Hal"), "{t}");

    // A share of the superseded set: refused under the path, naming it.
    // A refusal under the path keeps the passphrase typed (masked): it was
    // not what was wrong.
    let hal_pass = gpass("Hal");
    let give = |app: &mut App, path: &std::path::Path, typed_pass: bool| {
        key(app, KeyCode::BackTab);
        retype(app, path.to_str().unwrap());
        key(app, KeyCode::Down);
        if typed_pass {
            type_text(app, &hal_pass);
        }
        key(app, KeyCode::Enter);
        assert!(app.pump_until_idle(Duration::from_secs(60)));
        text(app)
    };
    let t = give(&mut app, &superseded[1], true);
    assert!(t.contains("superseded on"), "{t}");
    snap_both("roll_call_superseded", &app);
    let t = give(&mut app, &forged_path, false);
    assert!(t.contains("differ from what was split"), "{t}");
    let t = give(&mut app, &shares[0], false);
    assert!(
        t.contains("this is Gus's share (#1), not Hal's (#2)"),
        "{t}"
    );
    let t = give(&mut app, &shares[1], false);
    assert!(t.contains("✔ Hal proved their share"), "{t}");
    // Ivy is not here: an empty form marks her absent.
    key(&mut app, KeyCode::BackTab);
    tui::ctrl(&mut app, 'u');
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(
        t.contains("Seen this quarter: 2 of 3 — the set reaches its threshold of 2"),
        "{t}"
    );
    assert!(t.contains("#3 Ivy: absent today · never seen"), "{t}");
    assert!(!t.contains(&gpass("Gus")));
    snap_both("roll_call_result", &app);

    // The facts: a date per guardian who proved, one audited roll call each.
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    let split = reg
        .guardian_splits
        .splits
        .iter()
        .find(|s| s.superseded.is_none())
        .unwrap();
    assert!(split.roll_call.contains_key("Gus") && split.roll_call.contains_key("Hal"));
    assert!(!split.roll_call.contains_key("Ivy"));
    assert_eq!(
        audit_entries(&sb, "GUARDIAN_ROLL_CALL", "COMPLETED").len(),
        2
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");
}

#[test]
fn roll_call_with_too_few_guardians_says_the_set_is_below_its_threshold() {
    let sb = sandbox();
    split_ana(&sb);
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('G'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, &gpass("Gus"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    for _ in 0..2 {
        key(&mut app, KeyCode::BackTab);
        tui::ctrl(&mut app, 'u');
        key(&mut app, KeyCode::Enter);
    }
    let t = text(&app);
    assert!(
        t.contains("Seen this quarter: 1 of 3 — BELOW the threshold of 2"),
        "{t}"
    );
    snap_both("roll_call_below_threshold", &app);
}

#[test]
fn roll_call_without_a_split_says_what_to_do() {
    let sb = sandbox();
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('G'));
    let t = text(&app);
    assert!(
        t.contains("No active custodian's key is split among guardians"),
        "{t}"
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");
}

#[test]
fn scenario_4_rotate_step_launches_rotation_of_the_affected_custodian_and_records_it() {
    let sb = sandbox();
    split_ana(&sb);
    let old_recipient = IdentityFile::load(&identity(&sb, "Ana")).unwrap().recipient;
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('4'));
    assert!(text(&app).contains("An age key or shard may be compromised"));
    // Open the incident naming Ana as affected; confirm step 1.
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    assert!(text(&app).contains("1/4 steps done"), "{}", text(&app));
    // Step 2 names rotation: it opens the rotate flow for Ana.
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(t.contains("Confirm step 2: Rotate the custodian"), "{t}");
    type_text(&mut app, "Olga Officer");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Rotate custodian — Ana");
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    new_pass(&mut app, NEW_ANA);
    for g in GUARDIANS {
        new_pass(&mut app, &new_gpass(g));
    }
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let t = text(&app);
    assert!(t.contains("✔ rotated Ana"), "{t}");
    // The footer says where Enter goes: back to the scenario, not home.
    let footer = t.lines().last().unwrap();
    assert!(footer.contains(" Enter  back to the scenario"), "{footer}");
    assert!(!footer.contains("home"), "{footer}");
    key(&mut app, KeyCode::Enter);
    let t = text(&app);
    assert!(t.contains("2/4 steps done"), "{t}");
    // The incident records the step with the files the rotation wrote.
    let ws = Workspace::open(sb.ws()).unwrap();
    let list = custodian_core::playbook::incident::list(&ws).unwrap();
    let inc = list[0].as_ref().unwrap();
    let step = inc.step("rotate").unwrap();
    assert_eq!(step.operator, "Olga Officer");
    let ana = ws.registry().unwrap().custodian("Ana").cloned().unwrap();
    assert_ne!(ana.recipient, old_recipient);
    let files = serde_json::to_string(&step).unwrap();
    assert!(
        files.contains(ana.identity_file.as_ref().unwrap().to_str().unwrap()),
        "{files}"
    );
}

#[test]
fn the_approver_step_waits_for_its_own_check_through_other_jobs_results() {
    use crossterm::event::{KeyEvent, KeyModifiers};
    use custodian::tui::approvers::{self, Approvers, ApproversEvent};
    use custodian::tui::worker::JobResult;
    use custodian_core::approvals::{Approval, ApprovalPolicy};
    use custodian_core::error::Report;
    let press = |a: &mut Approvers, code| a.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    let mut step = Approvers::new(ApprovalPolicy::Authenticated, 2, "", |n| Report {
        message: format!("{n} named"),
        causes: Vec::new(),
        remedy: None,
    });
    for c in "Cy".chars() {
        press(&mut step, KeyCode::Char(c));
    }
    press(&mut step, KeyCode::Enter);
    for c in "cy's passphrase".chars() {
        press(&mut step, KeyCode::Char(c));
    }
    assert!(matches!(
        press(&mut step, KeyCode::Enter),
        ApproversEvent::Check(_)
    ));
    assert!(step.checking());
    // Another job's result is not the step's: it keeps waiting.
    assert!(!step.on_checked(&Ok(JobResult::SplitPassphraseChecked)));
    assert!(step.checking());
    let cy = Approval {
        name: "Cy".into(),
        recipient: Some("age1cy".into()),
    };
    assert!(step.on_checked(&Ok(JobResult::RecoveryApproverChecked(cy.clone()))));
    assert!(!step.checking());
    assert_eq!(step.summary(), "Cy (identity opened)");
    // Typed names and opened identities, split as the core records them.
    for c in "Legal".chars() {
        press(&mut step, KeyCode::Char(c));
    }
    press(&mut step, KeyCode::Enter);
    press(&mut step, KeyCode::Enter);
    assert_eq!(step.summary(), "Cy (identity opened), Legal (typed)");
    let (typed, opened) = step.partition();
    assert_eq!(typed, ["Legal"]);
    assert_eq!(opened, [cy]);
    assert_eq!(approvers::partition(step.approvals()), (typed, opened));
}

/// The signs the shared list draws when rows are hidden.
fn more_signs(t: &str) -> (bool, bool) {
    (t.contains("more above"), t.contains("more below"))
}

#[test]
fn the_successor_list_is_the_shared_list_and_scrolls_at_80x24() {
    let sb = common::Sandbox::new();
    let ws = tui::with_custodians(&sb, 30);
    let mut app = tui::offline_app(ws);
    // The first row, "Custodian 01", retires: 29 possible successors.
    key(&mut app, KeyCode::Char('x'));
    assert_eq!(app.current_title(), "Retire custodian — Custodian 01");
    let small = |app: &App| screen_text(&tui::draw(app, 80, 24));
    let t = small(&app);
    assert!(t.contains("▶ Custodian 02"), "{t}");
    assert_eq!(more_signs(&t), (false, true), "{t}");
    snap_both("retire_successor_long", &app);
    // The same keys as every list: End, k, PgUp, Home, j.
    key(&mut app, KeyCode::End);
    let t = small(&app);
    assert!(t.contains("▶ Custodian 30"), "{t}");
    assert_eq!(more_signs(&t), (true, false), "{t}");
    snap_both("retire_successor_long_end", &app);
    key(&mut app, KeyCode::Char('k'));
    assert!(small(&app).contains("▶ Custodian 29"));
    key(&mut app, KeyCode::PageUp);
    let t = small(&app);
    assert!(!t.contains("▶ Custodian 29") && t.contains('▶'), "{t}");
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Char('j'));
    let t = small(&app);
    assert!(t.contains("▶ Custodian 03"), "{t}");
    assert!(t.lines().last().unwrap().contains("Esc"), "{t}");
    // A successor without an identity file cannot be planned: the reason
    // is shown under the list, the list still there.
    tui::key_settled(&mut app, KeyCode::Enter);
    assert_eq!(retire_step(&mut app), "successor");
    let t = small(&app);
    assert!(t.contains("▶ Custodian 03"), "{t}");
}

#[test]
fn the_roll_call_set_list_is_the_shared_list_and_scrolls_at_80x24() {
    let sb = common::Sandbox::new();
    let ws = tui::with_custodians(&sb, 30);
    ws.update_registry(|r| {
        let records: Vec<_> = r
            .custodians
            .iter()
            .enumerate()
            .map(|(i, c)| guardians::SplitRecord {
                set_id: format!("{i:02}aaaaaa{}", "0".repeat(24)),
                custodian: c.name.clone(),
                recipient: c.recipient.clone(),
                threshold: 2,
                total: 3,
                guardians: GUARDIANS.iter().map(|g| g.to_string()).collect(),
                files: Vec::new(),
                file_sha256: Vec::new(),
                created_at: "2026-01-01T00:00:00Z".into(),
                commitments: Vec::new(),
                superseded: None,
                roll_call: Default::default(),
            })
            .collect();
        r.guardian_splits.splits.extend(records);
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('G'));
    let small = |app: &App| screen_text(&tui::draw(app, 80, 24));
    let t = small(&app);
    assert!(t.contains("▶ Custodian 01 · set"), "{t}");
    assert_eq!(more_signs(&t), (false, true), "{t}");
    snap_both("roll_call_sets_long", &app);
    key(&mut app, KeyCode::End);
    let t = small(&app);
    assert!(t.contains("▶ Custodian 30 · set"), "{t}");
    assert_eq!(more_signs(&t), (true, false), "{t}");
    snap_both("roll_call_sets_long_end", &app);
    key(&mut app, KeyCode::Char('k'));
    assert!(small(&app).contains("▶ Custodian 29 · set"));
    key(&mut app, KeyCode::PageUp);
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Down);
    let t = small(&app);
    assert!(t.contains("▶ Custodian 02 · set"), "{t}");
    assert!(t.lines().last().unwrap().contains("Esc"), "{t}");
    // Enter calls the set selected.
    key(&mut app, KeyCode::Enter);
    let t = small(&app);
    assert!(t.contains("Guardian 1 of 3: Gus"), "{t}");
    assert!(t.contains("Custodian 02 · set"), "{t}");
}

#[test]
fn a_paste_goes_into_the_retirement_form_field() {
    let sb = sandbox();
    split_ana(&sb);
    let mut app = tui::offline_app(Workspace::open(sb.ws()).unwrap());
    key(&mut app, KeyCode::Char('x'));
    tui::key_settled(&mut app, KeyCode::Enter);
    assert_eq!(retire_step(&mut app), "confirm-holder");
    // The successor's name, pasted rather than typed, confirms.
    app.handle(custodian::tui::event::Event::Paste(
        "Ben".to_string().into(),
    ));
    assert!(text(&app).contains("Ben"), "{}", text(&app));
    key(&mut app, KeyCode::Enter);
    assert_eq!(retire_step(&mut app), "approvers");
    // And into the approver's name.
    app.handle(custodian::tui::event::Event::Paste(
        "Legal Two".to_string().into(),
    ));
    assert!(text(&app).contains("Legal Two"), "{}", text(&app));
}
