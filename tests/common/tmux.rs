//! Driving the real binary in a real terminal: a private tmux server (its
//! own socket in the test's temp dir and no user config, so tests never
//! touch a user's sessions), send-keys to type, capture-pane to read the
//! screen.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// One tmux server with one session named `t`, killed on drop.
pub struct Tmux {
    socket: PathBuf,
    /// Where the shell writes the program's exit status, if asked to.
    status: Option<PathBuf>,
}

impl Tmux {
    /// Starts `command` (run by the shell) in a `width`×`height` terminal;
    /// the pane stays after the program exits so what it left on screen can
    /// be read.
    pub fn start(dir: &Path, command: &str, width: u16, height: u16) -> Tmux {
        let t = Tmux {
            socket: dir.join("tmux.sock"),
            status: None,
        };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
        ]);
        t.run(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        t
    }

    /// [`Tmux::start`], with the shell recording `command`'s exit status
    /// for [`Tmux::exit_status`].
    pub fn start_recording_status(dir: &Path, command: &str, width: u16, height: u16) -> Tmux {
        let status = dir.join("exit-status");
        let mut t = Tmux::start(
            dir,
            &format!("{command}; echo $? > {}", status.display()),
            width,
            height,
        );
        t.status = Some(status);
        t
    }

    /// The console (the binary under test) on workspace `ws` in a
    /// `width`×`height` terminal, its exit status recorded, started in
    /// `dir`; waits for the home screen.
    pub fn console(dir: &Path, ws: &Path, width: u16, height: u16) -> Tmux {
        Tmux::console_with_env(dir, ws, width, height, &[])
    }

    /// [`Tmux::console`] with `env` set for the console (e.g. a PATH with a
    /// token's plugin).
    pub fn console_with_env(
        dir: &Path,
        ws: &Path,
        width: u16,
        height: u16,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Tmux {
        let vars: String = env
            .iter()
            .map(|(k, v)| format!("{k}='{}' ", v.to_string_lossy().replace('\'', "")))
            .collect();
        let cmd = format!(
            "env -u CUSTODIAN_WORKSPACE {vars}{} --workspace {}",
            env!("CARGO_BIN_EXE_custodian"),
            ws.display(),
        );
        let t = Tmux::start_recording_status(dir, &cmd, width, height);
        t.wait_for("Custodians", 60);
        t
    }

    /// Waits up to `secs` for the program to exit, then its exit status. The
    /// shell has written it once the pane is dead: reading the file before
    /// could catch it before `echo` wrote it.
    pub fn exit_status(&self, secs: u64) -> String {
        self.wait_exit(secs);
        let path = self
            .status
            .as_ref()
            .expect("started with start_recording_status");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-f")
            .arg("/dev/null")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env("TERM", "xterm-256color")
            .output()
            .unwrap()
    }

    /// Runs a tmux command against this server, panicking if it fails.
    fn run(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends named keys (`Enter`, `Escape`, `Tab`, `C-g`, or single characters).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types text literally.
    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Pastes `text` as a terminal paste: bracketed (ESC[200~ … ESC[201~)
    /// when the program asked for bracketed paste, as a real terminal does.
    pub fn paste(&self, text: &str) {
        self.run(&["set-buffer", "-b", "p", "--", text]);
        self.run(&["paste-buffer", "-p", "-d", "-b", "p", "-t", "t"]);
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Turns the pane's alternate screen off, so a program that asks for
    /// it draws on the main screen: every full-screen clear (ESC[2J) then
    /// pushes what was shown into the scrollback (tmux's `scroll-on-clear`),
    /// and only a scrollback purge (ESC[3J) removes it. A show-once test
    /// run this way fails when that purge is missing; on the alternate
    /// screen nothing ever reaches the scrollback, so it could not.
    pub fn without_alternate_screen(&self) {
        self.run(&["set-option", "-w", "-t", "t", "alternate-screen", "off"]);
    }

    /// The scrollback alone: the lines scrolled off the top, not the
    /// visible screen.
    pub fn scrollback(&self) -> String {
        self.run(&["capture-pane", "-p", "-S", "-", "-E", "-1", "-t", "t"])
    }

    /// Waits until `needle` is in the scrollback (panicking after `secs`).
    pub fn wait_for_scrollback(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.scrollback().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "`{needle}` never reached the scrollback:\n{}",
                self.history()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The visible screen plus the whole scrollback history.
    pub fn history(&self) -> String {
        self.run(&["capture-pane", "-p", "-S", "-", "-t", "t"])
    }

    /// Waits until `needle` is on screen (panicking with the screen after `secs`).
    pub fn wait_for(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
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

    /// Waits until the screen satisfies `ready` (panicking with `what` and
    /// the screen after `secs`); returns that screen.
    pub fn wait_until(&self, what: &str, secs: u64, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if ready(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{what} never appeared; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// True once the program in the pane has exited.
    pub fn exited(&self) -> bool {
        self.run(&["display-message", "-p", "-t", "t", "#{pane_dead}"])
            .trim()
            == "1"
    }

    /// Waits until the program (the whole shell command) has exited, then
    /// returns what it left on screen; panics after `secs`.
    pub fn wait_exit(&self, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.exited() {
            assert!(
                Instant::now() < deadline,
                "program did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.screen()
    }

    /// True while the session exists (with `remain-on-exit`, also after the
    /// program has exited).
    pub fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "t"]).status.success()
    }
}

impl Drop for Tmux {
    /// Kills the server and removes its socket, so that walking the temp dir
    /// afterwards (e.g. `Sandbox::all_text`) never meets a socket.
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        let _ = std::fs::remove_file(&self.socket);
    }
}
