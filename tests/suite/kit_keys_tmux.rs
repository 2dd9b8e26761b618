//! The kit's workspace keys recovered at the console in a real 80×24
//! terminal (the release binary in tmux, driven with send-keys and read
//! with capture-pane): a drill kit recovered to an age file, which the
//! real `age` CLI then opens to every key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::Sandbox;
use common::pykit::drill_kit;
use common::tmux::Tmux;
use custodian::tui::{strings, widgets};
use custodian_core::drkit::kit::DRILL_OWNER_PASSPHRASE;
use serde_json::Value;

#[test]
fn a_drill_kit_is_recovered_to_an_age_file_at_80x24() {
    if ["tmux", "openssl", "age"]
        .iter()
        .any(|t| common::missing_tool(t))
    {
        return;
    }
    let sb = Sandbox::new();
    let k = drill_kit(&sb);
    let id = sb.file("out-identity.txt");
    let recipient = common::age_keygen(&id);
    let out = sb.file("keys.age");
    let t = Tmux::console(sb.path(), &sb.ws(), 80, 24);
    t.wait_for("Custodians", 60);
    t.keys(&["v"]);
    t.wait_for("Recover the workspace keys", 10);
    t.keys(&["6"]);
    t.wait_for("Approver name", 10);
    for name in ["Officer One", "Legal Two"] {
        t.text(name);
        t.keys(&["Enter"]);
    }
    t.wait_for("Legal Two (typed)", 10);
    t.keys(&["Enter"]);
    t.wait_for("Kit zip", 10);
    t.text(k.kit.to_str().unwrap());
    t.keys(&["Enter", "C-u"]);
    t.text(k.key.to_str().unwrap());
    t.keys(&["Enter", "Enter"]);
    t.text(DRILL_OWNER_PASSPHRASE);
    // Read only once the typing is drawn (the field shows its mask), and
    // the scrollback too: the passphrase is in neither.
    let s = t.wait_until("the masked mobile passphrase", 10, |s| {
        s.lines()
            .any(|l| l.contains(strings::KIT_MOBILE_PASS_PROMPT) && l.contains(widgets::MASK))
    });
    assert!(
        !s.contains(DRILL_OWNER_PASSPHRASE),
        "passphrase on screen:\n{s}"
    );
    let h = t.history();
    assert!(
        !h.contains(DRILL_OWNER_PASSPHRASE),
        "passphrase in the pane's history:\n{h}"
    );
    t.keys(&["Enter", "Enter", "Enter", "Enter"]);
    t.wait_for("Choose exactly one output", 10);
    t.keys(&["2"]);
    t.text(&recipient);
    t.keys(&["Enter"]);
    t.text(out.to_str().unwrap());
    t.keys(&["Enter"]);
    t.wait_for("CONFIRM", 10);
    t.keys(&["Enter"]);
    let done = t.wait_for("recovered, checked and written", 120);
    assert!(done.contains("keyset"), "{done}");
    // The age CLI opens the file to every key of the kit.
    let doc: Value = serde_json::from_slice(&common::age(
        &["-d", "-i", id.to_str().unwrap()],
        Some(&out),
    ))
    .unwrap();
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), k.keys.len());
    for dk in &k.keys {
        let got = keys
            .iter()
            .find(|g| g["keyId"] == dk.key_id.as_str())
            .unwrap();
        assert_eq!(got["algo"], dk.algo.as_str());
        assert_eq!(got["verified"], true);
        assert_eq!(got["privateKey"].as_str().unwrap().len(), 64);
        assert!(!t.history().contains(got["privateKey"].as_str().unwrap()));
    }
    t.keys(&["Enter"]);
    t.wait_for("Vendor DR kit", 10);
    t.keys(&["Escape"]);
    t.wait_for("Custodians", 10);
    assert!(!t.history().contains(DRILL_OWNER_PASSPHRASE));
    t.keys(&["q"]);
    assert_eq!(t.exit_status(10), "0");
}
