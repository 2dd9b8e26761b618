//! Retirement from the home row in a real 80×24 terminal (tmux): `x` on the
//! selected custodian, the successor chosen, the name typed back, the
//! override's approvers named, the passphrase typed, the confirmation read,
//! the retirement run, and the registry checked afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod shard_fixture;

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
    let cmd = format!(
        "{} --workspace {}",
        env!("CARGO_BIN_EXE_custodian"),
        sb.ws().display()
    );
    let t = Tmux::start_recording_status(sb.path(), &cmd, 80, 24);
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
