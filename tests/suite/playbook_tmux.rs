//! The real binary in a real terminal (tmux): scenario 2 end to end — open
//! the incident, confirm a people step, create the new identity through the
//! wizard, close the incident — reading the screen with capture-pane.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::tmux::Tmux;

/// Waits allow two minutes: a KDF may be running.
const WAIT_SECS: u64 = 120;

#[test]
fn scenario_2_in_a_real_terminal() {
    if common::missing_tool("tmux") {
        return;
    }
    let sb = common::Sandbox::new();
    common::accept_typed_approvals(&custodian_core::workspace::Workspace::open(sb.ws()).unwrap());
    common::clock_confirmed(&sb.ws()); // the once-a-day time question: tests/clock_tui.rs
    let bin = assert_cmd::cargo::cargo_bin("custodian");
    let command = format!(
        "env -u CUSTODIAN_WORKSPACE {} --workspace {}",
        bin.display(),
        sb.ws().display()
    );
    let tmux = Tmux::start(sb.path(), &command, 100, 30);
    tmux.wait_for("Custodians", WAIT_SECS);
    tmux.keys(&["p"]);
    tmux.wait_for("disaster scenarios", WAIT_SECS);
    tmux.keys(&["2"]);
    tmux.wait_for("One custodian shard is lost", WAIT_SECS);

    // Open the incident from step 1, then confirm it.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Open an incident", WAIT_SECS);
    tmux.text("Ana");
    tmux.keys(&["Tab"]);
    tmux.text("Cy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm step 1: Record what was lost", WAIT_SECS);
    tmux.text("Ana");
    tmux.keys(&["Enter"]);
    tmux.wait_for("1/4 steps done", WAIT_SECS);

    // Step 2: the new-identity wizard, pre-filled with Cy-new.
    tmux.keys(&["Enter"]);
    tmux.wait_for(
        "Confirm step 2: Generate an identity for the replacement",
        WAIT_SECS,
    );
    tmux.text("Ana");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Custodian name: Cy-new", WAIT_SECS);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Passphrase", WAIT_SECS);
    tmux.text(common::PASS_B);
    tmux.keys(&["Enter"]);
    tmux.text(common::PASS_B);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Identity created and verified", WAIT_SECS);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("2/4 steps done", WAIT_SECS);
    assert!(screen.contains("[✔] 2. Generate an identity"), "{screen}");

    // Close: the report's path and the audit head appear.
    tmux.keys(&["c"]);
    tmux.wait_for("Close the incident", WAIT_SECS);
    tmux.text("Cy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Incident closed. Report written:", WAIT_SECS);
    // One key at a time, each screen awaited: two Escapes in one read are
    // one Alt+Escape to the terminal (it happened on a loaded machine).
    tmux.keys(&["Escape"]);
    tmux.wait_for("disaster scenarios", WAIT_SECS);
    tmux.keys(&["Escape"]);
    tmux.wait_for("Custodians", WAIT_SECS);
    tmux.keys(&["q"]);

    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    let list = custodian_core::playbook::incident::list(&ws).unwrap();
    let inc = list[0].as_ref().unwrap();
    assert!(inc.is_closed());
    assert_eq!(inc.step("new-identity").unwrap().operator, "Ana");
    let report = inc.report.as_ref().unwrap();
    let md = std::fs::read_to_string(&report.path).unwrap();
    assert!(md.contains(&report.audit_head));
    ws.audit().verify().unwrap();
}

/// Issue 12 at the minimum size (80×24): a full scenario 2 incident with a
/// note, a step confirmed out of order after the warning, a mistaken
/// confirmation reopened, the incident closed — then the verify command the
/// report prints is run, exactly as printed, after more work was audited.
#[test]
fn scenario_2_with_notes_closed_and_its_verify_command_passes_at_80x24() {
    if common::missing_tool("tmux") {
        return;
    }
    let sb = common::Sandbox::new();
    common::accept_typed_approvals(&custodian_core::workspace::Workspace::open(sb.ws()).unwrap());
    common::clock_confirmed(&sb.ws()); // the once-a-day time question: tests/clock_tui.rs
    let bin = assert_cmd::cargo::cargo_bin("custodian");
    let command = format!(
        "env -u CUSTODIAN_WORKSPACE {} --workspace {}",
        bin.display(),
        sb.ws().display()
    );
    let tmux = Tmux::start(sb.path(), &command, 80, 24);
    tmux.wait_for("Custodians", WAIT_SECS);
    tmux.keys(&["p"]);
    tmux.wait_for("disaster scenarios", WAIT_SECS);
    tmux.keys(&["2"]);
    tmux.wait_for("One custodian shard is lost", WAIT_SECS);

    // Open the incident from step 1; the confirmation asks for a typed name.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Open an incident", WAIT_SECS);
    tmux.text("Ana Officer");
    tmux.keys(&["Tab"]);
    tmux.text("Ben");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm step 1: Record what was lost", WAIT_SECS);
    tmux.keys(&["Enter"]);
    tmux.wait_for("an operator name is required", WAIT_SECS);
    tmux.text("Ana Officer");
    tmux.keys(&["Tab"]);
    // The notes edit at the cursor and take a paste there; one Esc asks
    // before it would discard them, and any other key keeps them.
    tmux.text("laptop bag stolen on the train, by Ben at 09:10");
    for _ in 0.."by Ben at 09:10".len() {
        tmux.keys(&["Left"]);
    }
    tmux.paste("noticed ");
    tmux.keys(&["End"]);
    tmux.wait_for(
        "Notes (optional): laptop bag stolen on the train, noticed by Ben at 09:10",
        WAIT_SECS,
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("Esc again discards what was typed", WAIT_SECS);
    tmux.keys(&["End"]);
    tmux.wait_until("the question gone, the notes kept", WAIT_SECS, |s| {
        !s.contains("Esc again") && s.contains("noticed by Ben at 09:10")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("1/4 steps done", WAIT_SECS);

    // Step 4 while 2 and 3 are open: warned, then confirmed with a second Enter.
    tmux.keys(&["j", "j"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm step 4", WAIT_SECS);
    tmux.text("Cy Officer");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Out of order", WAIT_SECS);
    // Step 4 launches a retirement; Ben is no custodian of this workspace,
    // so it is recorded as done elsewhere (Ctrl-R) with its command line.
    tmux.keys(&["C-r"]);
    tmux.wait_for("custodian retire --custodian", WAIT_SECS);
    tmux.keys(&["Enter"]);
    tmux.wait_for("2/4 steps done", WAIT_SECS);

    // That was a mistake: reopen it (the cursor went back to step 2).
    tmux.keys(&["j", "j"]);
    tmux.keys(&["u"]);
    tmux.wait_for("Take back the confirmation of step 4", WAIT_SECS);
    tmux.text("Cy Officer");
    tmux.keys(&["Tab"]);
    tmux.text("the registry was not updated yet");
    tmux.keys(&["Enter"]);
    tmux.wait_for("1/4 steps done", WAIT_SECS);

    // Close; the screen shows the head to write down.
    tmux.keys(&["c"]);
    tmux.wait_for("Close the incident", WAIT_SECS);
    tmux.text("Ana Officer");
    tmux.keys(&["Enter"]);
    let closed = tmux.wait_for("Incident closed. Report written:", WAIT_SECS);
    let shown_head = closed
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no head on screen:\n{closed}"))
        .to_string();

    // More audited work after the report: another incident opened.
    tmux.keys(&["Escape"]);
    tmux.wait_for("disaster scenarios", WAIT_SECS);
    tmux.keys(&["1"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Open an incident", WAIT_SECS);
    tmux.text("Dee Officer");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm step 1", WAIT_SECS);
    // One Escape at a time: two in a row read as Alt-Escape.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Enter  do step", WAIT_SECS);
    tmux.keys(&["Escape"]);
    tmux.wait_for("disaster scenarios", WAIT_SECS);
    tmux.keys(&["Escape"]);
    tmux.wait_for("Custodians", WAIT_SECS);
    tmux.keys(&["q"]);
    tmux.wait_exit(WAIT_SECS);

    let ws = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    let all = custodian_core::playbook::incident::list(&ws).unwrap();
    let inc = all
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .find(|i| i.scenario == 2)
        .unwrap();
    assert_eq!(inc.reopened.len(), 1);
    let report = inc.report.as_ref().unwrap();
    assert_eq!(report.audit_head, shown_head);
    let md = std::fs::read_to_string(&report.path).unwrap();
    assert!(
        md.contains("laptop bag stolen on the train, noticed by Ben at 09:10"),
        "{md}"
    );
    assert!(md.contains("the registry was not updated yet"), "{md}");
    // The command exactly as the report prints it.
    let printed = md
        .lines()
        .find_map(|l| {
            let at = l.find("custodian audit verify --expect-head ")?;
            Some(l[at..].split('`').next().unwrap().to_string())
        })
        .unwrap();
    let args: Vec<&str> = printed.split_whitespace().skip(1).collect();
    assert_eq!(
        args,
        ["audit", "verify", "--expect-head", shown_head.as_str()]
    );
    sb.cmd().args(&args).assert().success();
}
