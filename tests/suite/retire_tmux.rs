//! Retirement and the guardian roll call from the home screen in a real
//! 80×24 terminal (tmux). Retirement: `x` on the selected custodian, the
//! successor chosen, the name typed back, the override's approvers named,
//! the passphrase typed, the confirmation read, the retirement run, and the
//! registry checked afterwards. Roll call: `G`, one wrong passphrase fixed
//! in place, one guardian absent, the verdict read. Rewrap: the
//! concentration override under the authenticated-approvals policy, each
//! approver opening their own identity, one wrong passphrase fixed in place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use common::missing_tool;
use common::tmux::Tmux;
use custodian_core::workspace::Workspace;
use shard_fixture::*;

#[test]
fn retirement_from_the_home_row_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("rotate / retire selected", 30);
    t.keys(&["x"]);
    t.wait_for("takes the shards of Ana", 10);
    t.keys(&["Down", "Up", "Enter"]);
    t.wait_for("Successor's name, typed back", 10);
    t.text("Ben");
    t.keys(&["Enter"]);
    t.wait_for("Approvers: none yet", 10);
    for name in ["Cy", "Dee Legal"] {
        t.text(name);
        t.keys(&["Enter"]);
    }
    t.wait_for("Dee Legal (typed)", 10);
    t.keys(&["Enter"]);
    t.wait_for("Retiree's passphrase", 10);
    t.text(pass_of("Ana"));
    t.keys(&["Enter"]);
    let confirm = t.wait_for("will change, in one transaction", 60);
    assert!(confirm.contains("shards rewrapped to Ben: 2"), "{confirm}");
    t.keys(&["Enter"]);
    let done = t.wait_for("retired Ana; successor Ben", 120);
    assert!(
        done.contains("Override approved by Cy, Dee Legal"),
        "{done}"
    );
    t.keys(&["Enter"]);
    let home = t.wait_for("rotate / retire selected", 10);
    assert!(home.contains("1 retired"), "{home}");
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    assert!(
        !t.history().contains(pass_of("Ana")),
        "a passphrase reached the screen"
    );
    drop(t);
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    assert!(reg.custodian("Ana").is_none());
    assert_eq!(reg.custodian_history[0].successor.name, "Ben");
}

#[test]
fn roll_call_from_home_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    split_among(&sb, "Ana", &["Gus", "Hal", "Ivy"], 2);
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("roll call", 30);
    t.keys(&["G"]);
    t.wait_for("Choose the guardian set", 10);
    t.keys(&["Enter"]);
    t.wait_for("Guardian 1 of 3: Gus", 10);
    t.text("not the passphrase of gus");
    t.keys(&["Enter"]);
    t.wait_for("does not open share 1", 60);
    t.text(&format!("{} Gus", common::PASS_B));
    t.keys(&["Enter"]);
    t.wait_for("Guardian 2 of 3: Hal", 60);
    t.text(&format!("{} Hal", common::PASS_B));
    t.keys(&["Enter"]);
    t.wait_for("Guardian 3 of 3: Ivy", 60);
    // Ivy is absent: the offered path is cleared, Enter on the empty form.
    t.keys(&["BTab", "C-u", "Enter"]);
    let result = t.wait_for("Seen this quarter", 10);
    assert!(
        result.contains("2 of 3 — the set reaches its threshold of 2"),
        "{result}"
    );
    t.keys(&["Enter"]);
    t.wait_for("roll call", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    assert!(
        !t.history().contains(common::PASS_B),
        "a passphrase reached the screen"
    );
    drop(t);
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    let split = &reg.guardian_splits.splits[0];
    assert!(split.roll_call.contains_key("Gus") && split.roll_call.contains_key("Hal"));
    assert!(!split.roll_call.contains_key("Ivy"));
}

/// Issue 12: the rewrap wizard's override under the "authenticated
/// approvals" policy at 80×24. Ana's shard to Ben would let Ben rebuild the
/// key alone; Cy and Ana approve by opening their own identities (Cy's
/// wrong passphrase refused under the field, naming him, and typed again
/// with his name kept); the rewrap then runs.
#[test]
fn rewrap_override_with_approvers_who_open_their_identity_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    common::require_authenticated_approvals(&Workspace::open(sb.ws()).unwrap());
    let ben = custodian_core::identity::IdentityFile::load(&identity(&sb, "Ben"))
        .unwrap()
        .recipient;
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.keys(&["s"]);
    t.wait_for("drill-alpha.1.ana.shard.json", 10);
    t.keys(&["Enter"]);
    t.wait_for("Public metadata only", 30);
    t.keys(&["w"]);
    t.wait_for("Rewrap shard to a new custodian", 10);
    t.keys(&["Enter"]);
    t.text(&ben);
    t.keys(&["Tab"]);
    t.text("Ben");
    t.keys(&["Enter"]);
    let s = t.wait_for("Approvers: none yet", 10);
    assert!(s.contains("ONE PERSON COULD REBUILD THIS KEY ALONE"), "{s}");
    t.text("Cy");
    t.keys(&["Enter"]);
    t.text("not the passphrase of cy");
    t.keys(&["Enter"]);
    let s = t.wait_for("the passphrase does not open their identity", 60);
    assert!(s.contains("approver `Cy`"), "{s}");
    assert!(s.contains("Approver name: Cy"), "{s}");
    t.text(pass_of("Cy"));
    t.keys(&["Enter"]);
    t.wait_for("Approvers: Cy (identity opened)", 60);
    t.text("Ana");
    t.keys(&["Enter"]);
    t.text(pass_of("Ana"));
    t.keys(&["Enter"]);
    t.wait_for("Cy (identity opened), Ana (identity opened)", 60);
    t.keys(&["Enter"]);
    t.wait_for("Holder's passphrase", 10);
    t.text(pass_of("Ana"));
    t.keys(&["Enter"]);
    t.wait_for("New shard written and verified", 60);
    t.keys(&["Enter"]);
    t.wait_for("Public metadata only", 10);
    t.keys(&["Escape"]);
    // The list shows the new file at once.
    t.wait_for("drill-alpha.1.ben.shard.json", 10);
    t.keys(&["Escape"]);
    t.wait_for("rotate / retire selected", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    let history = t.history();
    assert!(
        !history.contains(pass_of("Ana")) && !history.contains("not the passphrase"),
        "a passphrase reached the screen"
    );
    drop(t);
    assert!(sb.ws().join("shards/drill-alpha.1.ben.shard.json").exists());
}

/// Scenario 2 in a real 80×24 terminal: the replacement's identity made
/// from step 2, step 3 recorded as done elsewhere, and step 4 launching the
/// retirement of Ana with Ana-new highlighted as successor; the result's
/// Enter goes back to the scenario with every step done.
#[test]
fn scenario_2_retires_the_departed_custodian_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    common::clock_confirmed(&sb.ws());
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("rotate / retire selected", 30);
    t.keys(&["p"]);
    t.wait_for("disaster scenarios", 10);
    t.keys(&["2"]);
    t.wait_for("Scenario 2", 10);
    t.keys(&["Enter"]);
    t.wait_for("Open an incident", 10);
    t.text("Olga Officer");
    t.keys(&["Tab"]);
    t.text("Ana");
    t.keys(&["Enter"]);
    t.wait_for("Confirm step 1", 10);
    t.text("Olga Officer");
    t.keys(&["Enter"]);
    t.wait_for("1/4 steps done", 10);
    // Step 2: Ana-new's identity.
    t.keys(&["Enter"]);
    t.text("Olga Officer");
    t.keys(&["Enter"]);
    t.wait_for("Custodian name: Ana-new", 10);
    t.keys(&["Enter"]);
    for _ in 0..2 {
        t.text(common::PASS_B);
        t.keys(&["Enter"]);
    }
    t.wait_for("Identity created and verified", 120);
    t.keys(&["Enter"]);
    t.wait_for("2/4 steps done", 10);
    // Step 3, done elsewhere: Ctrl-R records it with its command line.
    t.keys(&["Enter"]);
    t.text("Olga Officer");
    t.keys(&["C-r"]);
    t.wait_for("custodian shard rewrap", 10);
    t.keys(&["Enter"]);
    t.wait_for("3/4 steps done", 10);
    // Step 4: the retirement, Ana-new highlighted.
    t.keys(&["Enter"]);
    t.wait_for("Confirm step 4", 10);
    t.text("Olga Officer");
    t.keys(&["Enter"]);
    let pick = t.wait_for("takes the shards of Ana", 10);
    assert!(pick.contains("▶ Ana-new"), "{pick}");
    t.keys(&["Enter"]);
    t.wait_for("Retiree's passphrase", 30);
    t.text(pass_of("Ana"));
    t.keys(&["Enter"]);
    let confirm = t.wait_for("will change, in one transaction", 60);
    assert!(
        confirm.contains("shards rewrapped to Ana-new: 2"),
        "{confirm}"
    );
    t.keys(&["Enter"]);
    let done = t.wait_for("retired Ana; successor Ana-new", 120);
    assert!(done.contains("Enter  back to the scenario"), "{done}");
    t.keys(&["Enter"]);
    t.wait_for("4/4 steps done", 10);
    t.keys(&["Escape"]);
    t.wait_for("disaster scenarios", 10);
    t.keys(&["Escape"]);
    t.wait_for("rotate / retire selected", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    assert!(
        !t.history().contains(pass_of("Ana")) && !t.history().contains(common::PASS_B),
        "a passphrase reached the screen"
    );
    drop(t);
    let ws = Workspace::open(sb.ws()).unwrap();
    let reg = ws.registry().unwrap();
    assert!(reg.custodian("Ana").is_none());
    assert_eq!(reg.custodian_history[0].successor.name, "Ana-new");
    let inc = custodian_core::playbook::incident::open_for_scenario(&ws, 2)
        .unwrap()
        .unwrap();
    assert_eq!(
        inc.step("update-registry").unwrap().operator,
        "Olga Officer"
    );
}
