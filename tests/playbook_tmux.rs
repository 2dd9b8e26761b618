//! The real binary in a real terminal (tmux): scenario 4 end to end — open
//! the incident, confirm a people step, create the new identity through the
//! wizard, close the incident — reading the screen with capture-pane.
#![allow(clippy::unwrap_used)]

mod common;

use common::tmux::Tmux;

/// Waits allow two minutes: a KDF may be running.
const WAIT_SECS: u64 = 120;

#[test]
fn scenario_4_in_a_real_terminal() {
    if common::missing_tool("tmux") {
        return;
    }
    let sb = common::Sandbox::new();
    custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
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
    tmux.keys(&["4"]);
    tmux.wait_for("An age key or shard may be compromised", WAIT_SECS);

    // Open the incident from step 1, then confirm it.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Open an incident", WAIT_SECS);
    tmux.text("Ana");
    tmux.keys(&["Tab"]);
    tmux.text("Cy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm step 1: Assess the blast radius", WAIT_SECS);
    tmux.text("Ana");
    tmux.keys(&["Enter"]);
    tmux.wait_for("1/5 steps done", WAIT_SECS);

    // Step 2: the new-identity wizard, pre-filled with Cy-new.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm step 2: Create a fresh identity", WAIT_SECS);
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
    let screen = tmux.wait_for("2/5 steps done", WAIT_SECS);
    assert!(
        screen.contains("[✔] 2. Create a fresh identity"),
        "{screen}"
    );

    // Close: the report's path and the audit head appear.
    tmux.keys(&["c"]);
    tmux.wait_for("Close the incident", WAIT_SECS);
    tmux.text("Cy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Incident closed. Report written:", WAIT_SECS);
    tmux.keys(&["Escape"]);
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
