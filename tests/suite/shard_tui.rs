//! Console flows for shards, driven key by key through the real app and
//! real worker threads: the shards list, the inspect view, the rewrap
//! wizard (to a new custodian) and the restore-to-node wizard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::shard_fixture;

use std::time::Duration;

use common::tui::{self, ctrl, key, screen_text, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::identity::OpenedIdentity;
use custodian_core::shard::ShardFile;
use custodian_core::workspace::Workspace;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use shard_fixture::*;

fn draw(app: &App) -> Terminal<TestBackend> {
    tui::draw(app, 110, 30)
}

fn app_for(sb: &common::Sandbox) -> App {
    tui::offline_app(Workspace::open(sb.ws()).unwrap())
}

/// Opens the shards screen and inspects the first shard (Ana's of drill-alpha).
fn inspect_first(app: &mut App) {
    key(app, KeyCode::Char('s'));
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
}

/// Ana, the holder, types her passphrase and the rewrap runs.
fn holder_rewraps(app: &mut App) {
    type_text(app, pass_of("Ana"));
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let text = screen_text(&draw(app));
    assert!(text.contains("New shard written and verified"), "{text}");
}

/// Opens the rewrap wizard on Ana's shard of drill-alpha and names Ben
/// (his recipient and name) as the new holder: Ben would then hold two
/// shards of the 2-of-3 key, so the wizard asks for the override.
fn rewrap_ana_to_ben(app: &mut App, sb: &common::Sandbox) {
    inspect_first(app);
    key(app, KeyCode::Char('w'));
    key(app, KeyCode::Enter);
    let ben = custodian_core::identity::IdentityFile::load(&identity(sb, "Ben"))
        .unwrap()
        .recipient;
    type_text(app, &ben);
    key(app, KeyCode::Tab);
    type_text(app, "Ben");
    key(app, KeyCode::Enter);
}

#[test]
fn shards_list_and_inspect_show_public_metadata() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.current_title(), "Shards");
    snap_both!("shards_list", app);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    let t = draw(&app);
    let text = screen_text(&t);
    let file = ShardFile::load(&shard(&sb, "alpha", 1)).unwrap();
    assert!(text.contains(&file.root_public_key));
    assert!(text.contains(&file.share_public_key));
    assert!(!text.contains("BEGIN AGE"));
    snap_both!("shards_inspect", app);
}

/// `p` on the shard list prints the policy's printed copy (issue 14,
/// Deliver 6): every key id, root public key and recipient in the
/// workspace, as a PDF whose text pdftotext reads back.
#[test]
fn p_on_the_shard_list_prints_every_key_id_root_key_and_recipient() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    key(&mut app, KeyCode::Char('s'));
    assert!(screen_text(&draw(&app)).contains(" p  print keys "));
    let (printed, pdfs) = tui::press_print(&mut app, &sb.ws());
    assert_eq!(pdfs.len(), 1);
    let t = screen_text(&printed);
    assert!(t.contains("PDF written:"), "{t}");
    snap!("shards_keys_printed_80x24", printed);
    snap!("shards_keys_printed_120x40", tui::draw(&app, 120, 40));
    assert_eq!(app.current_title(), "Shards");
    if !common::missing_tool("pdftotext") {
        let reg = Workspace::open(sb.ws()).unwrap().registry().unwrap();
        let recipients: Vec<String> = reg
            .custodians
            .iter()
            .map(|c| format!("{} {}", c.name, c.recipient))
            .collect();
        assert_eq!(recipients.len(), 3);
        common::pdf::assert_has_text(&pdfs[0], &recipients);
        // A root public key (66 hex digits) wraps on the sheet: compared
        // with the line breaks taken out.
        let joined = common::pdf::text(&pdfs[0]).replace(' ', "");
        assert_eq!(reg.shards.len(), 6);
        for r in &reg.shards {
            let f = ShardFile::load(&r.file).unwrap();
            assert!(joined.contains(&f.root_public_key), "{}", f.root_public_key);
            assert!(
                joined.contains(&format!("Keyid{}", f.key_id)),
                "{}",
                f.key_id
            );
        }
    }
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"sheet\":\"keys\""), "the print is audited");
}

#[test]
fn a_bad_path_shows_the_specific_error() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('o'));
    type_text(&mut app, identity(&sb, "Ana").to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("format is `custodian-identity`"), "{text}");
    // The typed path stays, with the error under it, to be corrected in place.
    assert!(text.contains("Shard file: "), "{text}");
    assert!(text.contains("ana.identity.json▏"), "{text}");
    snap_both!("shards_open_failed", app);
    ctrl(&mut app, 'u');
    type_text(&mut app, shard(&sb, "alpha", 1).to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    assert!(screen_text(&draw(&app)).contains("Public metadata only"));
}

#[test]
fn rewrap_wizard_writes_a_verified_shard_and_warns_about_the_old_file() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    inspect_first(&mut app);
    key(&mut app, KeyCode::Char('w'));
    assert_eq!(app.current_title(), "Rewrap shard to a new custodian");
    // The holder's identity file is suggested from the registry.
    let t = draw(&app);
    assert!(screen_text(&t).contains("ana.identity.json"));
    snap_both!("shard_rewrap_identity", app);
    key(&mut app, KeyCode::Enter);
    let dee = OpenedIdentity::generate("Dee");
    // A malformed recipient is refused at once.
    type_text(&mut app, "age1nope");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Dee");
    key(&mut app, KeyCode::Enter);
    let t = draw(&app);
    assert!(screen_text(&t).contains("is not an age recipient"));
    snap_both!("shard_rewrap_target_error", app);
    // The focus is already on the field at fault, its text kept.
    for _ in 0..8 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, &dee.recipient);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ana"));
    let t = draw(&app);
    assert!(!screen_text(&t).contains(pass_of("Ana")));
    snap_both!("shard_rewrap_passphrase", app);
    key(&mut app, KeyCode::Enter);
    snap_both!("shard_rewrap_working", app);
    // Esc is refused while the worker runs.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Rewrap shard to a new custodian");
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("New shard written and verified"), "{text}");
    snap_both!("shard_rewrap_done", app);
    // The old-file warning is drawn on yellow.
    let buf = t.backend().buffer();
    let warned = (0..buf.area.height).any(|y| {
        (0..buf.area.width).any(|x| buf[(x, y)].symbol() == "T" && buf[(x, y)].bg == Color::Yellow)
    });
    assert!(warned, "the old-file warning is not highlighted");
    // The new file exists and opens with Dee's key.
    let new = sb.ws().join("shards").join("drill-alpha.1.dee.shard.json");
    let file = ShardFile::load(&new).unwrap();
    let payload = file.open(&dee).unwrap();
    assert_eq!(payload.index, 1);
    // Back on the shards list, the new shard is listed at once.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Shards");
    key(&mut app, KeyCode::Esc);
    let text = screen_text(&draw(&app));
    assert!(text.contains("drill-alpha.1.dee.shard.json"), "{text}");
}

#[test]
fn restore_to_node_wizard_shows_the_checklist() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    inspect_first(&mut app);
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.current_title(), "Restore shard to a node");
    key(&mut app, KeyCode::Enter);
    let node = OpenedIdentity::generate("node");
    type_text(&mut app, &node.recipient);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "mpc-node-7");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(
        text.contains("the node reports key id        drill-alpha"),
        "{text}"
    );
    // The node's recipient is new each run; at 80 columns its fingerprint
    // wraps, where the shared filter cannot see it whole.
    snap_both!(
        "shard_restore_done",
        app,
        &[(
            r#"\(([0-9a-f]{4} ?){0,3} *"\n"([0-9a-f]{4} ?){0,3}\) *"#,
            "([FINGERPRINT, wrapped])"
        )]
    );
}

#[test]
fn rewrap_wizard_with_a_wrong_passphrase_asks_again_in_place_and_writes_no_shard() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    inspect_first(&mut app);
    key(&mut app, KeyCode::Char('w'));
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, &OpenedIdentity::generate("x").recipient);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "Dee");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "not the passphrase at all, sorry");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(text.contains("the passphrase is wrong"), "{text}");
    // Back at the passphrase, masked and empty, the error under it; the
    // recipient and name typed before are kept.
    assert!(text.contains("Holder's passphrase: ▏"), "{text}");
    assert!(text.contains("To:       Dee"), "{text}");
    snap_both!("shard_rewrap_failed", app);
    assert!(!sb.ws().join("shards/drill-alpha.1.dee.shard.json").exists());
    type_text(&mut app, pass_of(holder(1)));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let text = screen_text(&draw(&app));
    assert!(text.contains("New shard written and verified"), "{text}");
    assert!(sb.ws().join("shards/drill-alpha.1.dee.shard.json").exists());
}

/// The concentration rule in the rewrap wizard: Ana's share of the 2-of-3
/// key to Ben would let Ben rebuild it alone. The wizard stops before the
/// passphrase and asks for two approvers; one name given twice is refused
/// in place; two distinct approvers let it through, and the audit log names
/// them.
#[test]
fn rewrap_wizard_asks_two_approvers_when_the_new_holder_would_reach_the_threshold() {
    let sb = sandbox();
    let mut app = app_for(&sb);
    rewrap_ana_to_ben(&mut app, &sb);
    let t = draw(&app);
    let text = screen_text(&t);
    assert!(
        text.contains("Ben would hold 2 shards of key drill-alpha, which needs 2"),
        "{text}"
    );
    assert!(
        text.contains("ONE PERSON COULD REBUILD THIS KEY ALONE"),
        "{text}"
    );
    for (w, h) in [(80, 24), (120, 40)] {
        snap!(
            format!("shard_rewrap_concentration_{w}x{h}"),
            tui::draw(&app, w, h)
        );
    }
    // The workspace accepts typed names: Enter on a name adds it.
    type_text(&mut app, "Olga Reyes");
    key(&mut app, KeyCode::Enter);
    // Continuing with one approver is refused in place.
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&draw(&app));
    assert!(
        text.contains("at least 2 distinct approvers; 1 given"),
        "{text}"
    );
    // The same person again is refused by name, and the field is emptied.
    type_text(&mut app, "olga reyes");
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&draw(&app));
    assert!(
        text.contains("approver `olga reyes` is named twice"),
        "{text}"
    );
    type_text(&mut app, "Pat Kim");
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&draw(&app));
    assert!(
        text.contains("Approvers: Olga Reyes (typed), Pat Kim (typed)"),
        "{text}"
    );
    key(&mut app, KeyCode::Enter);
    holder_rewraps(&mut app);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains(r#""overrideApprovers":["Olga Reyes","Pat Kim"]"#),
        "{audit}"
    );
}

/// Below the threshold the wizard asks for the new holder's name; another
/// name is refused in place.
#[test]
fn rewrap_wizard_confirms_a_second_shard_by_the_holders_name() {
    let sb = sandbox();
    let ws = Workspace::open(sb.ws()).unwrap();
    custodian_core::drill::key::make_key(
        &ws,
        custodian_core::drill::key::MakeKeyRequest {
            custodians: ["Ana", "Ben", "Cy"].map(String::from).to_vec(),
            threshold: 3,
            key_id: Some("drill-gamma".into()),
            out_dir: None,
            generate: Vec::new(),
        },
    )
    .unwrap();
    drop(ws);
    let mut app = app_for(&sb);
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('o'));
    type_text(&mut app, shard(&sb, "gamma", 1).to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    key(&mut app, KeyCode::Char('w'));
    key(&mut app, KeyCode::Enter);
    let ben = custodian_core::identity::IdentityFile::load(&identity(&sb, "Ben"))
        .unwrap()
        .recipient;
    type_text(&mut app, &ben);
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&draw(&app));
    assert!(
        text.contains("SEVERAL SHARDS OF ONE KEY TO ONE PERSON"),
        "{text}"
    );
    assert!(
        text.contains("Ben would hold 2 shards of key drill-gamma (it needs 3 to rebuild)"),
        "{text}"
    );
    for (w, h) in [(80, 24), (120, 40)] {
        snap!(
            format!("shard_rewrap_concentration_several_{w}x{h}"),
            tui::draw(&app, w, h)
        );
    }
    type_text(&mut app, "Cy");
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&draw(&app));
    assert!(
        text.contains("the confirmation names `Cy`, but the shard would go to `Ben`"),
        "{text}"
    );
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "Ben");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let text = screen_text(&draw(&app));
    assert!(text.contains("New shard written and verified"), "{text}");
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(audit.contains(r#""confirmedHolder":"Ben""#), "{audit}");
}

/// The concentration override under the "authenticated approvals" policy
/// (the default of a new workspace): each approver is a registered
/// custodian who opens their own identity. A wrong passphrase is refused
/// under the passphrase field naming whose it is, with the name kept; a
/// typed name does not count, so continuing with one is refused; the
/// rewrap then runs and its audit entry records the approvers'
/// recipients — never a passphrase.
#[test]
fn rewrap_override_under_authenticated_approvals_opens_each_approvers_identity() {
    let sb = sandbox();
    common::require_authenticated_approvals(&Workspace::open(sb.ws()).unwrap());
    let mut app = app_for(&sb);
    rewrap_ana_to_ben(&mut app, &sb);
    let text = screen_text(&tui::draw(&app, 80, 24));
    assert!(text.contains("each opening their own"), "{text}");
    assert!(text.contains("Approver's own passphrase"), "{text}");
    // Cy, with a wrong passphrase: Enter on the name goes on to it.
    type_text(&mut app, "Cy");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "not the passphrase of cy");
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let text = screen_text(&tui::draw(&app, 80, 24));
    assert!(
        text.contains("approver `Cy`: the passphrase does not open their identity"),
        "{text}"
    );
    assert!(text.contains("Approvers: none yet"), "{text}");
    snap_both!("shard_rewrap_approver_wrong_passphrase", app);
    // Typed again in place: the name was kept.
    type_text(&mut app, pass_of("Cy"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    // A typed name (no passphrase) is recorded, but does not count.
    type_text(&mut app, "Dee Legal");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    let text = screen_text(&tui::draw(&app, 80, 24));
    assert!(
        text.contains("Approvers: Cy (identity opened), Dee Legal (typed)"),
        "{text}"
    );
    assert!(text.contains("requires authenticated approvals"), "{text}");
    assert!(text.contains("Approver name"), "{text}");
    let full = tui::text(&app);
    tui::assert_no_command_line_advice(&full);
    assert!(full.contains("What to do"), "{full}");
    // Backspace on the empty form takes the typed name back; Ana opens hers.
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "Ana");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ana"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let text = screen_text(&tui::draw(&app, 80, 24));
    assert!(
        text.contains("Approvers: Cy (identity opened), Ana (identity opened)"),
        "{text}"
    );
    snap_both!("shard_rewrap_approvers_authenticated", app);
    key(&mut app, KeyCode::Enter);
    holder_rewraps(&mut app);
    let ws = Workspace::open(sb.ws()).unwrap();
    let entry = ws
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.event == "SHARD_REWRAP" && !e.details["concentration"].is_null())
        .unwrap();
    let c = &entry.details["concentration"];
    assert_eq!(c["overrideApprovers"], serde_json::json!(["Cy", "Ana"]));
    let approvals = c["overrideApprovals"].as_array().unwrap();
    assert_eq!(approvals.len(), 2, "{c}");
    for a in approvals {
        assert_eq!(a["identityOpened"], true, "{c}");
        assert!(a["recipient"].as_str().unwrap().starts_with("age1"), "{c}");
    }
    let log = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(!log.contains(pass_of("Ana")) && !log.contains("not the passphrase"));
}

#[test]
fn rewrap_of_a_share_two_keys_can_open_asks_in_console_terms_and_accepts_with_y() {
    if common::missing_tool("age") {
        return;
    }
    let sb = sandbox();
    let two = two_key_shard(&sb);
    let mut app = app_for(&sb);
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('o'));
    type_text(&mut app, two.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(30)));
    key(&mut app, KeyCode::Char('w'));
    // Ben's identity is suggested.
    key(&mut app, KeyCode::Enter);
    let dee = OpenedIdentity::generate("Dee");
    type_text(&mut app, &dee.recipient);
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Dee");
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    // Refused, with what to do in console keys, and nothing written.
    let t = tui::text(&app);
    assert!(t.contains("another key can read this share"), "{t}");
    assert!(t.contains("press y"), "{t}");
    tui::assert_no_command_line_advice(&t);
    let small = tui::text_at(&app, 80, 24);
    assert!(small.contains("accept (audited)"), "{small}");
    assert!(small.contains("Esc"), "{small}");
    let dee_file = sb.ws().join("shards").join("drill-alpha.2.dee.shard.json");
    assert!(!dee_file.exists());
    // Esc goes back without accepting; the second time y accepts, the
    // passphrase is asked again and the rewrap records the count.
    key(&mut app, KeyCode::Esc);
    assert!(!tui::text(&app).contains("another key can read"));
    // Identity, then the target (recipient, name: kept) again.
    for _ in 0..3 {
        key(&mut app, KeyCode::Enter);
    }
    assert!(tui::text(&app).contains("Holder's passphrase"));
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(tui::text(&app).contains("another key can read"));
    key(&mut app, KeyCode::Char('y'));
    assert!(tui::text(&app).contains("Holder's passphrase"));
    type_text(&mut app, pass_of("Ben"));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = tui::text(&app);
    assert!(t.contains("New shard written and verified"), "{t}");
    let file = ShardFile::load(&dee_file).unwrap();
    assert_eq!(file.open(&dee).unwrap().index, 2);
    let audit = std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap();
    assert!(audit.contains(r#""payloadRecipients":2"#), "{audit}");
    assert!(
        audit.contains(r#""acceptedMultipleRecipients":true"#),
        "{audit}"
    );
}
