//! The drill mode end to end in a real terminal: run the quarterly drill
//! from the console, switch into its sandbox (every screen marked DRILL),
//! and walk scenario 5 there — open the incident and confirm its first step —
//! then return to the real workspace and quit cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{Sandbox, missing_tool};

#[test]
fn scenario_5_in_drill_mode_in_a_real_terminal() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    let cmd = format!(
        "env -u CUSTODIAN_WORKSPACE {} --workspace {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display()
    );
    let t = Tmux::start(sb.path(), &cmd, 110, 34);
    t.wait_for("Custodians", 30);

    // Run the drill from the console.
    t.keys(&["D"]);
    t.wait_for("Participants", 10);
    t.text("Ana Officer, Ben Legal");
    t.keys(&["Enter"]);
    let done = t.wait_for("PASSED", 300);
    assert!(done.contains("5. Infrastructure is lost"), "{done}");
    assert!(!done.contains("FAIL"), "{done}");

    // Walk scenario 5 by hand in the sandbox.
    t.keys(&["o"]);
    // Wait for the sandbox's own home screen, fully drawn: the results screen
    // already says DRILL (in its hint), and a capture can land mid-redraw.
    t.wait_for("In a drill sandbox", 10);
    let home = t.wait_for("Drill Ana", 10);
    assert!(
        home.contains("Drill Ana"),
        "synthetic custodians not shown:\n{home}"
    );
    t.keys(&["p"]);
    t.wait_for("disaster scenarios", 10);
    t.keys(&["5"]);
    let s5 = t.wait_for("Infrastructure is lost", 10);
    assert!(
        s5.contains("DRILL"),
        "scenario screen not marked DRILL:\n{s5}"
    );
    t.keys(&["Enter"]);
    t.wait_for("Open an incident", 10);
    t.text("Ana Officer");
    t.keys(&["Enter"]);
    t.wait_for("Confirm step 1: Convene", 10);
    t.text("Ana Officer");
    t.keys(&["Enter"]);
    let walked = t.wait_for("1/10 steps done", 10);
    assert!(walked.contains("DRILL"));

    // Back to the real workspace, then quit.
    t.keys(&["Escape"]);
    t.keys(&["Escape"]);
    t.wait_for("X returns to", 10);
    t.keys(&["X"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = t.screen();
        if !s.contains("DRILL") && s.contains("Custodians (0)") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not return to the real workspace:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t.keys(&["q"]);
    t.wait_exit(10);

    // The incident was recorded in the sandbox, the drill in the real workspace.
    let sandbox_dirs: Vec<_> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ws-drill-")
        })
        .collect();
    assert_eq!(sandbox_dirs.len(), 1);
    let incidents = std::fs::read_dir(sandbox_dirs[0].join("incidents"))
        .unwrap()
        .count();
    assert!(incidents >= 1);
    assert!(std::fs::read_dir(sb.ws().join("incidents")).is_err());
    let real = custodian_core::workspace::Workspace::open(sb.ws()).unwrap();
    assert!(custodian_core::playbook::checks::last_drill(&real.registry().unwrap()).is_some());
}
