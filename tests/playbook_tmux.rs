//! The real binary in a real terminal (tmux): scenario 4 end to end — open
//! the incident, confirm a people step, create the new identity through the
//! wizard, close the incident — reading the screen with capture-pane.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server on a private socket, killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits (up to two minutes: a KDF may be running) until `needle` shows.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "`{needle}` never appeared; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn scenario_4_in_a_real_terminal() {
    if common::missing_tool("tmux") {
        return;
    }
    let sb = common::Sandbox::new();
    custodian::workspace::Workspace::open(sb.ws()).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("custodian");
    let tmux = Tmux {
        socket: sb.file("tmux.sock"),
    };
    let command = format!(
        "env -u CUSTODIAN_WORKSPACE {} --workspace {}",
        bin.display(),
        sb.ws().display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "100",
        "-y",
        "30",
        &command,
    ]);
    tmux.wait_for("Custodians");
    tmux.keys(&["p"]);
    tmux.wait_for("disaster scenarios");
    tmux.keys(&["4"]);
    tmux.wait_for("An age key or shard may be compromised");

    // Open the incident from step 1, then confirm it.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Open an incident");
    tmux.text("Ana");
    tmux.keys(&["Tab"]);
    tmux.text("Cy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm this step: Assess the blast radius");
    tmux.keys(&["Enter"]);
    tmux.wait_for("1/5 steps done");

    // Step 2: the new-identity wizard, pre-filled with Cy-new.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Confirm this step: Create a fresh identity");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Custodian name: Cy-new");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Passphrase");
    tmux.text(common::PASS_B);
    tmux.keys(&["Enter"]);
    tmux.text(common::PASS_B);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Identity created and verified");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("2/5 steps done");
    assert!(
        screen.contains("[✔] 2. Create a fresh identity"),
        "{screen}"
    );

    // Close: the report's path and the audit head appear.
    tmux.keys(&["c"]);
    tmux.wait_for("Close the incident");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Incident closed. Report written:");
    tmux.keys(&["Escape"]);
    tmux.keys(&["Escape"]);
    tmux.wait_for("Custodians");
    tmux.keys(&["q"]);

    let ws = custodian::workspace::Workspace::open(sb.ws()).unwrap();
    let list = custodian::playbook::incident::list(&ws).unwrap();
    let inc = list[0].as_ref().unwrap();
    assert!(inc.is_closed());
    assert_eq!(inc.step("new-identity").unwrap().operator, "Ana");
    let report = inc.report.as_ref().unwrap();
    let md = std::fs::read_to_string(&report.path).unwrap();
    assert!(md.contains(&report.audit_head));
    ws.audit().verify().unwrap();
}
