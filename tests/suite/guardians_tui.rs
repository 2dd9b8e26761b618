//! The guardian wizards driven through the real app, with real worker
//! threads and real 600,000-iteration envelopes: split a key 2-of-3, then
//! rebuild it from one share file and one printed line, with a wrong
//! passphrase on the way each time (each refused the moment it is typed). Every step is a snapshot (`guardians_split_*`,
//! `guardians_reconstruct_*`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::tui::{self, ctrl, key, type_text};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::guardians::{self, ShareFile};
use custodian_core::identity;
use custodian_core::workspace::Workspace;
use secrecy::SecretString;

const ANA: &str = "amber kettle saddle morsel quiver lagoon";
const BEN: &str = "bramble ditto velvet harbor pluck sierra";
const CY: &str = "cobalt thimble orchid wagon lumber fiesta";

fn pump(app: &mut App) {
    assert!(
        app.pump_until_idle(Duration::from_secs(300)),
        "worker timed out"
    );
}

/// The foreground colour of the first cell of the row that starts with `text`.
fn row_colour(app: &App, text: &str) -> Option<ratatui::style::Color> {
    let terminal = tui::draw(app, 100, 30);
    let buf = terminal.backend().buffer();
    (0..buf.area.height).find_map(|y| {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        row.starts_with(text).then(|| buf[(0, y)].fg)
    })
}

/// Snapshots at 80×24 and 120×40: the shared filters plus guardian set
/// ids and the share subset, with this file's shorter placeholders for
/// recipients and fingerprints.
fn snap(name: &str, app: &App) {
    snap_both!(name, app, FILTERS);
}

/// This file's filters: guardian set ids, the share subset a split proved
/// with (both random), recipients and fingerprints.
const FILTERS: &[(&str, &str)] = &[
    (r"\b[0-9a-f]{32}\b", "[SETID]"),
    (r"set [0-9a-f]{8}\b", "set [SET]"),
    (r"vic\.[0-9a-f]{8}\.", "vic.[SET]."),
    (r"share-[0-9a-f]{8}-", "share-[SET]-"),
    (r"age1[0-9a-z]{58}", "[RECIPIENT]"),
    (r"[0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}", "[FP]"),
    (r"shares #\d, #\d rebuilt", "shares [SUBSET] rebuilt"),
];

#[test]
fn split_then_rebuild_through_the_console() {
    let sandbox = common::Sandbox::new();
    let ws = Workspace::open(sandbox.ws()).unwrap();
    let created =
        identity::create_identity(&ws, "Vic", &SecretString::from(common::PASS_A), None).unwrap();
    let mut app = tui::offline_app(ws.clone());

    // --- split wizard ---
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.current_title(), "Split a key among guardians");
    snap("guardians_split_custodian", &app);
    key(&mut app, KeyCode::Enter);
    // A bad plan is refused with its reason.
    type_text(&mut app, "Ana, Ben");
    key(&mut app, KeyCode::Enter);
    snap("guardians_split_plan_error", &app);
    type_text(&mut app, ", Cy");
    key(&mut app, KeyCode::Up);
    ctrl(&mut app, 'u');
    type_text(&mut app, "2");
    snap("guardians_split_plan", &app);
    // Enter on k moves to the guardians; Enter there goes on.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    // A wrong custodian passphrase is caught before any guardian types.
    type_text(&mut app, common::PASS_B);
    key(&mut app, KeyCode::Enter);
    snap("guardians_split_checking", &app);
    pump(&mut app);
    snap("guardians_split_unlock_wrong", &app);
    let log = std::fs::read_to_string(sandbox.ws().join("audit.jsonl")).unwrap();
    let last = log.lines().last().unwrap();
    assert!(
        last.contains("GUARDIAN_SPLIT") && last.contains("FAILED"),
        "{last}"
    );
    type_text(&mut app, common::PASS_A);
    snap("guardians_split_unlock", &app);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    for (i, pass) in [ANA, BEN, CY].iter().enumerate() {
        type_text(&mut app, pass);
        if i == 1 {
            snap("guardians_split_guardian", &app);
        }
        key(&mut app, KeyCode::Enter);
        type_text(&mut app, pass);
        key(&mut app, KeyCode::Enter);
    }
    snap("guardians_split_working", &app);
    // Esc is refused while the worker runs.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Split a key among guardians");
    pump(&mut app);
    snap("guardians_split_done", &app);
    // p prints every guardian's share card; the footer says where.
    let (printed, pdfs) = tui::press_print(&mut app, &sandbox.ws());
    assert_eq!(pdfs.len(), 3);
    assert!(tui::screen_text(&printed).contains("3 PDFs written in"));
    snap!(
        "guardians_split_printed_80x24",
        printed,
        tui::settings(FILTERS)
    );
    snap!(
        "guardians_split_printed_120x40",
        tui::draw(&app, 120, 40),
        tui::settings(FILTERS)
    );
    // w writes each share's QR code (no terminal shows it whole) as a PNG:
    // 0600, audited, never over a file; zbarimg reads exactly the share
    // card's payload, which `guardians combine` takes as a printed line.
    key(&mut app, KeyCode::Char('w'));
    pump(&mut app);
    let pngs: Vec<std::path::PathBuf> = {
        let mut v: Vec<_> = std::fs::read_dir(sandbox.ws().join("printed"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(pngs.len(), 3);
    let t = tui::draw(&app, 120, 40);
    assert!(tui::screen_text(&t).contains("3 PNGs written in"));
    tui::assert_footer_keeps_esc_and_help(&t);
    tui::assert_footer_keeps_esc_and_help(&tui::draw(&app, 80, 24));
    snap!("guardians_split_png_120x40", t, tui::settings(FILTERS));
    snap!(
        "guardians_split_png_80x24",
        tui::draw(&app, 80, 24),
        tui::settings(FILTERS)
    );
    for (png, file) in pngs
        .iter()
        .zip(&guardians::splits(&ws).unwrap().splits[0].files)
    {
        assert_eq!(common::pdf::mode(png), 0o600, "{}", png.display());
        let line = ShareFile::load(file).unwrap().printed().unwrap();
        if !common::missing_tool("zbarimg") {
            let read = common::pdf::qr_of_png(png).unwrap();
            assert_eq!(read, line.to_ascii_uppercase(), "{}", png.display());
        }
    }
    // Again: new files beside the first, the first unchanged.
    let first = std::fs::read(&pngs[0]).unwrap();
    key(&mut app, KeyCode::Char('w'));
    pump(&mut app);
    assert_eq!(std::fs::read(&pngs[0]).unwrap(), first);
    assert_eq!(
        std::fs::read_dir(sandbox.ws().join("printed"))
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "png"))
            .count(),
        6
    );
    assert_eq!(
        row_colour(&app, "✔ Key split, proved and sealed"),
        Some(ratatui::style::Color::Green)
    );

    let section = guardians::splits(&ws).unwrap();
    assert_eq!(section.splits.len(), 1);
    let record = section.splits[0].clone();
    assert_eq!(record.guardians, vec!["Ana", "Ben", "Cy"]);
    assert_eq!((record.threshold, record.total), (2, 3));
    assert_eq!(record.recipient, created.recipient);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");

    // --- reconstruct wizard ---
    key(&mut app, KeyCode::Char('c'));
    assert_eq!(app.current_title(), "Rebuild a key from guardian shares");
    snap("guardians_reconstruct_empty", &app);
    type_text(&mut app, &record.files[0].display().to_string());
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    snap("guardians_reconstruct_one_share", &app);
    // Continuing with too few shares names who is missing.
    key(&mut app, KeyCode::Enter);
    snap("guardians_reconstruct_too_few", &app);
    // Cy's share arrives as a printed line, typed in groups — first with
    // one character of group 3 mistyped: the group is named under the
    // field, and the line stays as typed, to be corrected there.
    let cy = ShareFile::load(&record.files[2]).unwrap();
    let good = guardians::printed::grouped(&cy.printed().unwrap());
    let mut tokens: Vec<String> = good.split(' ').map(str::to_string).collect();
    let first = tokens[3].remove(0);
    tokens[3].insert(0, if first == 'q' { 'p' } else { 'q' });
    let wrong = tokens.join(" ");
    type_text(&mut app, &wrong);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    let screen = tui::text(&app);
    assert!(
        screen.contains("group 3 of the printed share is wrong"),
        "{screen}"
    );
    assert_eq!(
        row_colour(&app, "group 3 of the printed share is wrong"),
        Some(ratatui::style::Color::Red)
    );
    // The field still holds the line as typed: its end is on screen, and
    // the share list did not grow.
    for group in &tokens[tokens.len() - 3..] {
        assert!(screen.contains(group.as_str()), "typed line lost: {screen}");
    }
    assert!(
        screen.contains("1 of 2 shares needed are in") && !screen.contains("✔ #3"),
        "the wrong line was taken: {screen}"
    );
    // The typed groups are random (a fresh split each run): masked.
    let groups = [
        FILTERS,
        &[
            (r#"line: custodianshare2[^"]*"#, "line: [GROUPS]"),
            (
                r#""[02-9ac-hj-np-z]{1,5}( [02-9ac-hj-np-z]{1,5})* *▏? *""#,
                r#""[GROUPS]""#,
            ),
        ],
    ]
    .concat();
    snap_both!("guardians_reconstruct_wrong_group", app, &groups);
    ctrl(&mut app, 'u');
    type_text(&mut app, &good);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    snap("guardians_reconstruct_two_shares", &app);
    key(&mut app, KeyCode::Enter);
    snap("guardians_reconstruct_passphrases", &app);
    type_text(&mut app, BEN); // Ana mistypes (uses Ben's passphrase)
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    // Caught at once, naming Ana; only she types again.
    snap("guardians_reconstruct_wrong_passphrase", &app);
    assert_eq!(
        row_colour(&app, "Ana's passphrase does not open share 1"),
        Some(ratatui::style::Color::Red)
    );
    type_text(&mut app, ANA);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    snap("guardians_reconstruct_one_collected", &app);
    type_text(&mut app, CY);
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    type_text(&mut app, common::PASS_B);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, common::PASS_B);
    snap("guardians_reconstruct_new_passphrase", &app);
    let before = sandbox.snapshot();
    assert!(
        !before
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("rebuilt")),
        "an identity file was written before the rebuild"
    );
    key(&mut app, KeyCode::Enter);
    pump(&mut app);
    snap("guardians_reconstruct_done", &app);

    // The rebuilt file opens under the new passphrase to the same key, and
    // the custodian was not registered twice.
    let section = guardians::splits(&ws).unwrap();
    assert_eq!(section.reconstructions.len(), 1);
    let rebuilt = &section.reconstructions[0];
    assert_eq!(rebuilt.guardians, vec!["Ana", "Cy"]);
    let file = identity::IdentityFile::load(&rebuilt.identity_file).unwrap();
    let opened = file.open(&SecretString::from(common::PASS_B)).unwrap();
    assert_eq!(opened.recipient, created.recipient);
    assert_eq!(ws.registry().unwrap().custodians.len(), 1);
    let events: Vec<(String, String)> = ws
        .audit()
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.event.starts_with("GUARDIAN"))
        .map(|e| (e.event, e.status.as_str().to_string()))
        .collect();
    assert_eq!(
        events,
        [
            // The wrong custodian passphrase, refused before the guardians typed.
            ("GUARDIAN_SPLIT", "INITIATED"),
            ("GUARDIAN_SPLIT", "FAILED"),
            ("GUARDIAN_SPLIT", "INITIATED"),
            ("GUARDIAN_SPLIT", "COMPLETED"),
            // The wrong guardian passphrase was refused before the rebuild.
            ("GUARDIAN_COMBINE", "INITIATED"),
            ("GUARDIAN_COMBINE", "COMPLETED"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.current_title(), "Home");
}

/// Issue 12: the split wizard's custodian list is the shared list
/// component. With more custodians than fit at 80×24 it says how many are
/// hidden, End (and j/k, PgDn) move the selection with the window following
/// it, and Enter takes the one selected.
#[test]
fn the_split_custodian_list_scrolls_with_many_custodians_at_80x24() {
    let sandbox = common::Sandbox::new();
    let ws = Workspace::open(sandbox.ws()).unwrap();
    for i in 1..=30 {
        let mut c = tui::custodian(&format!("Custodian {i:02}"));
        c.identity_file = Some(sandbox.ws().join(format!("custodian-{i:02}.identity.json")));
        ws.add_custodian(c).unwrap();
    }
    let mut app = tui::offline_app(ws);
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.current_title(), "Split a key among guardians");
    let small = |app: &App| tui::screen_text(&tui::draw(app, 80, 24));
    let t = small(&app);
    assert!(t.contains("▶ Custodian 01"), "{t}");
    assert!(t.contains("more below"), "{t}");
    assert!(!t.contains("Custodian 30"), "{t}");
    assert!(t.contains("Esc"), "{t}");
    key(&mut app, KeyCode::End);
    let t = small(&app);
    assert!(t.contains("▶ Custodian 30"), "{t}");
    assert!(t.contains("more above"), "{t}");
    assert!(!t.contains("Custodian 01"), "{t}");
    assert!(t.contains("Recipient: age1custodian30"), "{t}");
    snap_both!("guardians_split_custodian_many", app);
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::PageDown);
    let t = small(&app);
    assert!(!t.contains("▶ Custodian 02"), "{t}");
    assert!(t.contains("▶ Custodian"), "{t}");
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Enter);
    let t = small(&app);
    assert!(t.contains("Custodian: Custodian 30"), "{t}");
}
