//! The drill mode end to end in a real terminal: run the quarterly drill
//! from the console, switch into its sandbox (every screen marked DRILL),
//! and walk scenario 5 there — open the incident and confirm its first step —
//! then return to the real workspace and quit cleanly; and, at 80×24, the
//! drill followed by a hand walk of scenario 4 in its sandbox with the
//! passphrases read off the drill card on screen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{Sandbox, missing_tool};

#[test]
fn scenario_5_in_drill_mode_in_a_real_terminal() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    common::clock_confirmed(&sb.ws()); // the once-a-day time question: tests/clock_tui.rs
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
    // The names edit at the cursor; Esc with names typed asks first.
    t.text("Ana Officer, Ben Lgal");
    t.keys(&["Left", "Left", "Left"]);
    t.text("e");
    t.keys(&["End"]);
    t.wait_for("Participants: Ana Officer, Ben Legal", 10);
    t.keys(&["Escape"]);
    t.wait_for("Esc again discards what was typed", 10);
    t.keys(&["End"]);
    t.wait_until("the question gone, the names kept", 10, |s| {
        !s.contains("Esc again") && s.contains("Participants: Ana Officer, Ben Legal")
    });
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
    // One Esc at a time: two sent together can reach the console as one
    // sequence and the second is lost (it failed so under load).
    t.keys(&["Escape"]);
    t.wait_for("disaster scenarios", 10);
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

/// The passphrase the drill card on `screen` gives `who`, when that whole
/// row is on this screen. The viewer wraps a row over several lines (its
/// path cell alone is wider than 80 columns), so the row runs from the
/// line `| who |` to its backticked passphrase; a line starting another
/// row (`| ` and not `` | ` ``) before it means the passphrase seen is
/// someone else's. The pane's first and last lines may carry the "N more"
/// signs and are not read.
fn card_passphrase(screen: &str, who: &str) -> Option<String> {
    let lines: Vec<&str> = screen.lines().collect();
    let inner = lines.get(1..lines.len().saturating_sub(1))?.join("\n");
    let row = format!("| {who} |");
    let rest = &inner[inner.find(&row)? + row.len()..];
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    let another_row = rest[..start]
        .lines()
        .skip(1)
        .any(|l| l.starts_with("| ") && !l.starts_with("| `"));
    if another_row {
        return None;
    }
    // The passphrase's words, wrapped across lines, joined by single spaces.
    Some(
        rest[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Issue 12, Tests item 3: `D` at 80×24, then scenario 4 walked by hand in
/// the sandbox. The current passphrase the rotation asks for is read off
/// the drill card on screen (`C`); the incident is opened, the rotation
/// launched from its step and run, the destruction step confirmed with
/// notes, and the incident closed — all in the sandbox, none in the real
/// workspace.
#[test]
fn drill_then_scenario_4_by_hand_with_the_drill_card_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    common::clock_confirmed(&sb.ws()); // the once-a-day time question: tests/clock_tui.rs
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.keys(&["D"]);
    t.wait_for("Participants", 10);
    t.text("Ana Officer, Ben Legal");
    t.keys(&["Enter"]);
    let done = t.wait_for("PASSED", 300);
    assert!(
        done.contains("4. An age key or shard may be compromised"),
        "{done}"
    );
    t.keys(&["o"]);
    t.wait_for("In a drill sandbox", 10);
    t.wait_for("Drill Ben", 10);

    // The drill card, paged through on screen.
    t.keys(&["C"]);
    // Scrolled a line at a time until Drill Ben's whole row is on screen.
    let mut screen = t.wait_for("DRILL CARD", 10);
    let mut ben_pass = card_passphrase(&screen, "Drill Ben");
    for _ in 0..120 {
        if ben_pass.is_some() {
            break;
        }
        t.keys(&["Down"]);
        std::thread::sleep(Duration::from_millis(50));
        screen = t.screen();
        ben_pass = card_passphrase(&screen, "Drill Ben");
    }
    let ben_pass =
        ben_pass.unwrap_or_else(|| panic!("Drill Ben's passphrase not on the card:\n{screen}"));
    assert_eq!(ben_pass.split_whitespace().count(), 7, "{ben_pass}");
    t.keys(&["Escape"]);
    t.wait_for("In a drill sandbox", 10);

    // Scenario 4: open the incident naming Drill Ben, assess.
    t.keys(&["p"]);
    t.wait_for("disaster scenarios", 10);
    t.keys(&["4"]);
    t.wait_for("Scenario 4", 10);
    t.keys(&["Enter"]);
    t.wait_for("Open an incident", 10);
    t.text("Ana Officer");
    t.keys(&["Tab"]);
    t.text("Drill Ben");
    t.keys(&["Enter"]);
    t.wait_for("Confirm step 1: Assess", 10);
    t.text("Ana Officer");
    t.keys(&["Tab"]);
    t.text("shard copied from a laptop; rotate as a precaution");
    t.keys(&["Enter"]);
    t.wait_for("1/4 steps done", 10);

    // Step 2 launches the rotation of Drill Ben; the card's passphrase opens it.
    t.wait_for("Launches: Rotate a custodian", 10);
    t.keys(&["Enter"]);
    t.wait_for("Confirm step 2: Rotate", 10);
    t.text("Ana Officer");
    t.keys(&["Enter"]);
    t.wait_for("Rotate custodian — Drill Ben", 10);
    t.wait_for("Current passphrase", 10);
    t.text(&ben_pass);
    t.keys(&["Enter"]);
    let screen = t.wait_for("New identity passphrase for Drill Ben", 60);
    assert!(!screen.contains(&ben_pass), "{screen}");
    let new_pass = "lantern orbit staple battery horse correct";
    t.text(new_pass);
    t.keys(&["Enter"]);
    t.text(new_pass);
    t.keys(&["Enter"]);
    // Each guardian of the re-split chooses a new passphrase, typed twice.
    let mut guardians = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = t.screen();
        assert!(
            Instant::now() < deadline,
            "neither a guardian step nor the confirmation appeared:\n{s}"
        );
        if s.contains("will change, in one transaction") {
            break;
        }
        if s.contains(&format!("Guardian {} of", guardians + 1)) {
            guardians += 1;
            let p = format!("velvet quarry hobnail drizzle copper anthem g{guardians}");
            t.text(&p);
            t.keys(&["Enter"]);
            t.text(&p);
            t.keys(&["Enter"]);
        }
        assert!(guardians <= 9, "too many guardian steps:\n{s}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(guardians >= 2, "no guardian re-split");
    t.keys(&["Enter"]);
    t.wait_for("rotated Drill Ben", 120);
    t.keys(&["Enter"]);
    t.wait_for("2/4 steps done", 10);

    // Step 3, the old copies destroyed, confirmed with notes; then close.
    t.wait_for("3. Destroy the old copies", 10);
    t.keys(&["Enter"]);
    t.wait_for("Confirm step 3", 10);
    t.text("Ben Legal");
    t.keys(&["Tab"]);
    t.text("no copy outside the workspace; witnessed by Ana Officer");
    t.keys(&["Enter"]);
    t.wait_for("3/4 steps done", 10);
    t.keys(&["c"]);
    t.wait_for("Close the incident", 10);
    t.text("Ana Officer");
    t.keys(&["Enter"]);
    t.wait_for("Incident closed. Report written:", 30);
    let history = t.history();
    for p in [new_pass, "velvet quarry hobnail drizzle copper anthem g1"] {
        assert!(
            !history.contains(p),
            "a chosen passphrase reached the screen"
        );
    }

    // Back to the real workspace, then quit.
    t.keys(&["Escape"]);
    t.wait_for("disaster scenarios", 10);
    t.keys(&["Escape"]);
    t.wait_for("X returns to", 10);
    t.keys(&["X"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.screen().contains("DRILL") {
        assert!(Instant::now() < deadline, "still in the sandbox");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    drop(t);

    // The card on screen is the card in the sandbox; the incident and the
    // rotation are the sandbox's, and nothing of them is in the real workspace.
    let sandbox = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ws-drill-")
        })
        .unwrap();
    let card_file = std::fs::read_to_string(sandbox.join("DRILL-CARD.md")).unwrap();
    assert!(card_file.contains(&format!("`{ben_pass}`")));
    let ws = custodian_core::workspace::Workspace::open(&sandbox).unwrap();
    let inc = custodian_core::playbook::incident::list(&ws)
        .unwrap()
        .into_iter()
        .filter_map(Result::ok)
        .find(|i| i.scenario == 4)
        .unwrap();
    let md = std::fs::read_to_string(&inc.report.as_ref().unwrap().path).unwrap();
    assert!(md.contains("witnessed by Ana Officer"), "{md}");
    // The rotation launched from step 2 is in the report's audit table: its
    // entries name the files the step recorded as `identityFile` and
    // `shards[].file`, not as `file`.
    let log = md.split("## Audit log").nth(1).unwrap();
    for status in ["INITIATED", "COMPLETED"] {
        assert!(
            log.contains(&format!("| CUSTODIAN_ROTATE | {status} |")),
            "{log}"
        );
    }
    let reg = ws.registry().unwrap();
    assert!(reg.custodian_history.iter().any(|h| h.name == "Drill Ben"));
    let ben = reg.custodian("Drill Ben").unwrap();
    custodian_core::identity::IdentityFile::load(ben.identity_file.as_ref().unwrap())
        .unwrap()
        .open(&secrecy::SecretString::from(new_pass))
        .expect("the rotated identity opens with the passphrase chosen in the walk");
    assert!(std::fs::read_dir(sb.ws().join("incidents")).is_err());
}
