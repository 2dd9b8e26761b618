//! The ported rebuild wizard in a real terminal (tmux) at 80×24, on the
//! release binary: a mistyped share path is kept with the error under it,
//! fixed in place with the cursor keys, and the rebuild completes; a
//! guardian's wrong passphrase is refused the moment it is typed, naming
//! them, and typed again in place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::guardians::{ANA, BEN, split_vic};
use common::missing_tool;
use common::tmux::Tmux;

#[test]
fn rebuild_with_one_mistyped_path_fixed_in_place_at_80x24() {
    if missing_tool("tmux") {
        return;
    }
    let sb = common::Sandbox::new();
    let (_ws, files) = split_vic(&sb);
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.keys(&["c"]);
    t.wait_for("No share added yet", 10);
    // "shar.json": one letter dropped.
    let good = files[0].display().to_string();
    t.text(&good.replace("share.json", "shar.json"));
    t.keys(&["Enter"]);
    let s = t.wait_for("No such", 30);
    assert!(s.contains("shar.json"), "the typed path was cleared:\n{s}");
    // Fixed in place: back over ".json", the letter goes in.
    t.keys(&["Left", "Left", "Left", "Left", "Left"]);
    t.text("e");
    t.keys(&["Enter"]);
    t.wait_for("1 of 2 shares needed are in", 30);
    t.text(&files[1].display().to_string());
    t.keys(&["Enter"]);
    t.wait_for("2 of 2 shares needed are in", 30);
    t.keys(&["Enter"]);
    t.wait_for("0 of 2 collected", 10);
    // Ana types Ben's passphrase: refused at once, naming her.
    t.text(BEN);
    t.keys(&["Enter"]);
    let s = t.wait_for("does not open", 60);
    assert!(s.contains("Ana's passphrase"), "{s}");
    assert!(!s.contains(BEN), "{s}");
    t.text(ANA);
    t.keys(&["Enter"]);
    t.wait_for("1 of 2 collected", 60);
    t.text(BEN);
    t.keys(&["Enter"]);
    t.wait_for("New passphrase for the rebuilt identity", 60);
    t.text(common::PASS_B);
    t.keys(&["Enter"]);
    t.text(common::PASS_B);
    t.keys(&["Enter"]);
    let s = t.wait_for("Key rebuilt", 120);
    assert!(s.contains("Vic"), "{s}");
    let all = format!("{}{}", t.screen(), t.history());
    for secret in [ANA, BEN, common::PASS_B] {
        assert!(!all.contains(secret), "a passphrase reached the terminal");
    }
    t.keys(&["Enter"]);
    t.wait_for("Custodians", 10);
    t.keys(&["q"]);
    assert_eq!(t.exit_status(30), "0");
}
