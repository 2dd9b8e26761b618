//! A terminal end-to-end run: the real binary in a real terminal (tmux),
//! driven with send-keys and read with capture-pane, through the whole
//! "new custodian identity" wizard and a clean quit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{PASS_A, Sandbox, missing_tool};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(cmd: &str) -> Tmux {
        let session = format!("custodian-e2e-{}", std::process::id());
        let st = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "36",
                "-s",
                &session,
                cmd,
            ])
            .env("TERM", "xterm-256color")
            .status()
            .unwrap();
        assert!(st.success(), "tmux could not start");
        // Keep the pane after the program exits so we can see what it left.
        let _ = Command::new("tmux")
            .args(["set-option", "-t", &session, "remain-on-exit", "on"])
            .status();
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn literal(&self, text: &str) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.session])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}

#[test]
fn new_identity_wizard_in_a_real_terminal() {
    if missing_tool("tmux") {
        return;
    }
    let sb = Sandbox::new();
    let marker = sb.file("exited");
    let cmd = format!(
        "{} --workspace {}; echo $? > {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display(),
        marker.display()
    );
    let t = Tmux::start(&cmd);
    t.wait_for("No custodians yet", 20);
    t.keys(&["n"]);
    t.wait_for("Custodian name", 10);
    t.literal("Ana Lopez");
    t.keys(&["Enter"]);
    t.wait_for("Passphrase again", 10);
    t.literal(PASS_A);
    let s = t.wait_for("strong", 10);
    assert!(!s.contains(PASS_A), "passphrase visible on screen:\n{s}");
    t.keys(&["Tab"]);
    t.literal(PASS_A);
    t.keys(&["Enter"]);
    let done = t.wait_for("Identity created and verified", 60);
    assert!(done.contains("Recipient:    age1"), "{done}");
    t.keys(&["Enter"]);
    t.wait_for("Custodians (1)", 10);
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "0");
    // After quitting, the normal screen is back: the alternate screen was left.
    assert!(t.alive());
    let after = t.screen();
    assert!(
        !after.contains("Custodians (1)"),
        "console still on screen:\n{after}"
    );
    drop(t);
    let reg = custodian::workspace::Workspace::open(sb.ws())
        .unwrap()
        .registry()
        .unwrap();
    assert_eq!(reg.custodians[0].name, "Ana Lopez");
}
