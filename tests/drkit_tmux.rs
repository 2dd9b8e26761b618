//! A terminal end-to-end run of the DR kit's "create the recovery key
//! pair" wizard: the real binary in tmux, driven with send-keys and read
//! with capture-pane, including the QR view and a clean quit.
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
        let session = format!("custodian-drkit-e2e-{}", std::process::id());
        let st = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-x",
                "140",
                "-y",
                "70",
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
fn recovery_key_pair_wizard_in_a_real_terminal() {
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
    t.keys(&["k"]);
    t.wait_for("Create the recovery key pair", 10);
    t.keys(&["1"]);
    t.wait_for("Private key file", 10);
    t.keys(&["Enter"]);
    t.keys(&["Enter"]);
    t.wait_for("Passphrase again", 10);
    t.literal(PASS_A);
    t.keys(&["Tab"]);
    t.literal(PASS_A);
    let s = t.screen();
    assert!(!s.contains(PASS_A), "passphrase visible on screen:\n{s}");
    t.keys(&["Enter"]);
    let done = t.wait_for("Recovery key pair created and checked", 300);
    let public = sb.ws().join("drkit/recovery-public.pem");
    let phrase =
        custodian::drkit::keys::verification_phrase(&std::fs::read_to_string(&public).unwrap());
    assert!(
        done.contains(&format!("Verification phrase: {phrase}")),
        "{done}"
    );
    // The QR code fits a 140x70 terminal.
    t.keys(&["v"]);
    let qr = t.wait_for("█", 10);
    assert!(!qr.contains("too small"), "{qr}");
    t.keys(&["v"]);
    t.wait_for("Verification phrase", 10);
    t.keys(&["Enter"]);
    t.wait_for("Derive Key Share #1 for wallets", 10);
    t.keys(&["Escape"]);
    t.wait_for("No custodians yet", 10);
    t.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    // The shell creates the marker before it writes the status: wait for both.
    let status = || std::fs::read_to_string(&marker).unwrap_or_default();
    while status().trim().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status().trim(), "0");
    assert!(t.alive());
}
