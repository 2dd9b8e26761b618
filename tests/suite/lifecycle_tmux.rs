//! Rotation from the home row in a real 80×24 terminal (tmux): `o` on the
//! selected custodian, every passphrase typed, the confirmation read, the
//! rotation run, the result read, and the registry checked afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use common::tmux::Tmux;
use common::{PASS_B, missing_tool};
use custodian_core::identity::IdentityFile;
use custodian_core::workspace::Workspace;
use shard_fixture::*;

const GUARDIANS: [&str; 3] = ["Gus", "Hal", "Ivy"];

#[test]
fn rotation_from_the_home_row_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = sandbox();
    split_among(&sb, "Ana", &GUARDIANS, 2);
    let old = IdentityFile::load(&identity(&sb, "Ana")).unwrap().recipient;
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("rotate / retire selected", 30);
    t.keys(&["o"]);
    t.wait_for("Current passphrase", 10);
    t.text(pass_of("Ana"));
    t.keys(&["Enter"]);
    t.wait_for("New identity passphrase for Ana", 60);
    let new_pass = "lantern orbit staple battery horse correct";
    for p in std::iter::once(new_pass.to_string())
        .chain(GUARDIANS.iter().map(|g| format!("{PASS_B} {g} new")))
    {
        t.text(&p);
        t.keys(&["Enter"]);
        t.text(&p);
        t.keys(&["Enter"]);
    }
    let confirm = t.wait_for("will change, in one transaction", 20);
    assert!(
        confirm.contains("shards to rewrap to the new recipient: 2"),
        "{confirm}"
    );
    assert!(confirm.contains("guardians re-split 2-of-3"), "{confirm}");
    assert!(!confirm.contains(new_pass), "{confirm}");
    t.keys(&["Enter"]);
    let done = t.wait_for("rotated Ana", 120);
    assert!(done.contains("Shards rewrapped and verified: 2"), "{done}");
    t.keys(&["Enter"]);
    t.wait_for("rotate / retire selected", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(20), "0");
    let history = t.history();
    for p in [pass_of("Ana"), new_pass] {
        assert!(!history.contains(p), "a passphrase reached the screen");
    }
    drop(t);
    let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
    let ana = reg.custodian("Ana").unwrap();
    assert_ne!(ana.recipient, old);
    assert_eq!(reg.custodian_history[0].recipient, old);
}
