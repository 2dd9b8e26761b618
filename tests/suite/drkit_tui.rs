//! The DR kit screens driven key by key through the real app and real
//! worker threads: create the recovery key pair, check its phrase, verify a
//! drill kit (and fail with a wrong passphrase), derive shares for a pasted
//! list. Snapshots on a fixed 110×30 `TestBackend`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::tui::{self, ctrl, key, screen_text, type_text};
use common::{PASS_A, PASS_B, Sandbox};
use crossterm::event::KeyCode;
use custodian::tui::app::App;
use custodian_core::drkit::{derive, keys, kit};
use custodian_core::workspace::Workspace;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

const WALLET_1: &str = "2d33e419-4c84-44b1-9d9a-3598f96642b0";
const WALLET_2: &str = "0d8f6b1e-3c2a-4f5e-9b7d-1a2b3c4d5e6f";

fn draw(app: &App) -> Terminal<TestBackend> {
    tui::draw(app, 110, 30)
}

fn clear_field(app: &mut App) {
    ctrl(app, 'u');
}

/// The shared filters plus the check phrase and wallet ids; then, since
/// substitutions change line lengths, drop the padding they leave.
fn settings() -> insta::Settings {
    let mut s = tui::settings(&[
        (r"phrase: [A-Za-z0-9+/]{8}", "phrase: [PHRASE]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[UUID]",
        ),
        (r"\b\d{1,10}_\[UUID\]", "[P]_[UUID]"),
    ]);
    s.add_filter(r#"(?m) +"$"#, "\"");
    s
}

/// [`settings`] for a screen whose "Decrypted: cloud cosigner …" line wraps
/// where the random player id's length puts the break (or not at all): the
/// wrapped line is joined, and the blank rows at the bottom dropped, so the
/// snapshot does not depend on that length.
fn settings_unwrapped() -> insta::Settings {
    let mut s = settings();
    s.add_filter(
        r#""(Decrypted: cloud cosigner[^"\n]*)"\n"([^"\n]*bytes\))""#,
        "\"${1} ${2}\"",
    );
    s.add_filter(r#"(\n"")+\n?$"#, "");
    s
}

fn app(sb: &Sandbox) -> App {
    tui::offline_app(Workspace::open(sb.ws()).unwrap())
}

/// Creates the recovery key pair through the wizard (default paths).
fn create_key_pair(app: &mut App) -> String {
    key(app, KeyCode::Char('v'));
    key(app, KeyCode::Char('1'));
    key(app, KeyCode::Enter); // private path (default) → public path
    key(app, KeyCode::Enter); // → passphrase
    type_text(app, PASS_A);
    key(app, KeyCode::Enter);
    type_text(app, PASS_A);
    key(app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(300)));
    screen_text(&draw(app))
}

#[test]
fn keygen_check_verify_and_derive_through_the_console() {
    let sb = Sandbox::new();
    let mut app = app(&sb);
    let home = draw(&app);
    assert!(screen_text(&home).contains(" v vendor DR kit"));

    key(&mut app, KeyCode::Char('v'));
    assert_eq!(app.current_title(), "Vendor DR kit");
    snap_both!("kit_menu", app, settings settings());
    key(&mut app, KeyCode::Esc);

    // 1. Create the recovery key pair.
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('1'));
    snap_both!("kit_keygen_paths", app, settings settings());
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    let done = create_key_pair(&mut app);
    let drkit = sb.ws().join("drkit");
    let private = drkit.join("recovery-private.pem");
    let public = drkit.join("recovery-public.pem");
    let public_pem = std::fs::read_to_string(&public).unwrap();
    let phrase = keys::verification_phrase(&public_pem);
    assert!(
        done.contains(&format!("Verification phrase: {phrase}")),
        "{done}"
    );
    snap_both!("kit_keygen_done", app, settings settings());
    // The QR view: too big for 110×30, so it says how big the terminal must be.
    key(&mut app, KeyCode::Char('v'));
    let small = screen_text(&draw(&app));
    assert!(small.contains("too small for the QR code"));
    // The size it names is exactly enough: at that size the QR shows, one
    // row or column less is still too small.
    let needed = small
        .split("at least ")
        .nth(1)
        .and_then(|t| t.split(" characters").next())
        .unwrap()
        .to_string();
    let (w, h) = needed.split_once('×').unwrap();
    let (w, h): (u16, u16) = (w.parse().unwrap(), h.parse().unwrap());
    assert!(!screen_text(&tui::draw(&app, w, h)).contains("too small for the QR code"));
    assert!(screen_text(&tui::draw(&app, w, h - 1)).contains("too small for the QR code"));
    assert!(screen_text(&tui::draw(&app, w - 1, h)).contains("too small for the QR code"));
    let mut big = Terminal::new(TestBackend::new(140, 80)).unwrap();
    big.draw(|f| app.render(f)).unwrap();
    let qr_cell = &big.backend().buffer()[(2, 3)];
    assert_eq!(qr_cell.bg, Color::Black);
    assert!(screen_text(&big).contains('█') || screen_text(&big).contains('▀'));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.current_title(), "Home");

    // 2. Check the public key: same phrase.
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    assert!(screen_text(&draw(&app)).contains(&format!("Verification phrase: {phrase}")));
    snap_both!("kit_fingerprint_shown", app, settings settings());
    // p prints the recovery key sheet on the worker; the footer names it.
    let (printed, pdfs) = tui::press_print(&mut app, &sb.ws());
    assert_eq!(pdfs.len(), 1);
    assert!(
        screen_text(&printed).contains(&format!("PDF written: {}", pdfs[0].display())),
        "{}",
        screen_text(&printed)
    );
    snap!("kit_fingerprint_printed_80x24", printed, settings());
    snap!(
        "kit_fingerprint_printed_120x40",
        tui::draw(&app, 120, 40),
        settings()
    );
    // At 80×24 the QR code cannot fit: the screen says how big the terminal
    // must be and offers a PNG, written next to the public key (finding 7).
    key(&mut app, KeyCode::Char('v'));
    let small = screen_text(&tui::draw(&app, 80, 24));
    assert!(small.contains("too small for the QR code"), "{small}");
    assert!(
        small.contains("press w to write the QR code as a PNG"),
        "{small}"
    );
    key(&mut app, KeyCode::Char('w'));
    let png = public.with_file_name(format!(
        "{}.qr.png",
        public.file_name().unwrap().to_string_lossy()
    ));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(common::pdf::mode(&png), 0o600);
    // zbarimg reads exactly the public key file's PEM from it.
    if !common::missing_tool("zbarimg") {
        assert_eq!(
            common::pdf::qr_of_png(&png).as_deref(),
            Some(keys::load_public_key(&public).unwrap().1.as_str())
        );
    }
    let text = screen_text(&tui::draw(&app, 80, 24));
    assert!(text.contains("QR code written as a PNG image"), "{text}");
    // A second one never overwrites the first.
    key(&mut app, KeyCode::Char('w'));
    assert!(
        png.with_file_name(format!(
            "{}.qr-2.png",
            public.file_name().unwrap().to_string_lossy()
        ))
        .exists()
    );
    assert_eq!(std::fs::read(&png).unwrap(), bytes);
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);

    // A drill kit for that key.
    let (pk, _) = keys::load_public_key(&public).unwrap();
    let kit_path = sb.file("drill-kit.zip");
    let drill = kit::make_drill_kit(
        &pk,
        &kit_path,
        &secrecy::SecretString::from(kit::DRILL_OWNER_PASSPHRASE),
    )
    .unwrap();

    // 3. Verify with a wrong passphrase: a specific error, then the right one.
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('3'));
    type_text(&mut app, kit_path.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter); // key path prefilled
    type_text(&mut app, PASS_B);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let failed = draw(&app);
    assert!(screen_text(&failed).contains("the passphrase does not open the private key"));
    snap_both!("kit_verify_wrong_passphrase", app, settings settings());
    // The focus stays on the masked passphrase field, the error under it,
    // the kit and key paths kept: what is typed next is never in clear.
    let text = screen_text(&failed);
    assert!(text.contains("Key passphrase: ▏"), "{text}");
    assert!(text.contains(kit_path.to_str().unwrap()), "{text}");
    type_text(&mut app, PASS_A);
    let text = screen_text(&draw(&app));
    assert!(!text.contains(PASS_A), "{text}");
    assert!(text.contains("Key passphrase: •••"), "{text}");
    // ↑ and ↓ move between the fields and back.
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let verified = screen_text(&draw(&app));
    assert!(
        verified.contains("The recovery key opens this kit"),
        "{verified}"
    );
    assert!(verified.contains(&drill.entry));
    snap_both!("kit_verify_done", app, settings settings_unwrapped());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);

    // 4. Derive for a pasted list with one bad line, skipping it.
    let out = sb.file("shares.jsonl");
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.current_title(), "Derive Key Share #1");
    type_text(&mut app, kit_path.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, PASS_A);
    key(&mut app, KeyCode::Enter);
    // The passphrase is checked as it is left, before the wallets.
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    assert!(screen_text(&draw(&app)).contains("The passphrase opens the recovery private key"));
    key(&mut app, KeyCode::Tab); // paste a list
    type_text(&mut app, WALLET_1);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, &WALLET_2.to_uppercase());
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, WALLET_2);
    ctrl(&mut app, 'd');
    clear_field(&mut app);
    type_text(&mut app, out.to_str().unwrap());
    ctrl(&mut app, 'f'); // vendor-json → jsonl
    ctrl(&mut app, 's'); // skip invalid
    snap_both!("kit_derive_output", app, settings settings());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(120)));
    let derived = screen_text(&draw(&app));
    assert!(derived.contains("2 shares for 2 wallets"), "{derived}");
    assert!(derived.contains("line 2: uppercase wallet id"), "{derived}");
    snap_both!("kit_derive_done", app, settings settings());

    // The file holds exactly what the library derives for that kit.
    let text = std::fs::read_to_string(&out).unwrap();
    let mut opened = kit::RecoveryKit::open(&kit_path).unwrap();
    let master = opened.metadata.ncw_master().unwrap().clone();
    let pkey = keys::load_private_key(&private, Some(&PASS_A.into())).unwrap();
    let mks = opened.decrypt_master_keys(&pkey).unwrap();
    for (line, w) in text.lines().zip([WALLET_1, WALLET_2]) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let share = derive::derive_share(w, &master.wallet_seed, &mks[0].key);
        assert_eq!(v["walletId"], w);
        assert_eq!(
            v["shares"][0]["MPC_CMP_ECDSA_SECP256K1"],
            hex::encode(share.as_slice())
        );
        // The share is in the file, never on screen.
        assert!(!derived.contains(&hex::encode(share.as_slice())));
    }
}

#[test]
fn a_bad_wallet_list_fails_in_the_console_without_an_output_file() {
    let sb = Sandbox::new();
    let mut app = app(&sb);
    let wallets = sb.file("wallets.txt");
    std::fs::write(&wallets, format!("{WALLET_1}\n{{{WALLET_1}}}\n")).unwrap();
    let out = sb.file("never.json");
    key(&mut app, KeyCode::Char('v'));
    key(&mut app, KeyCode::Char('4'));
    type_text(&mut app, "/nonexistent/kit.zip");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, wallets.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, out.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    assert!(app.pump_until_idle(Duration::from_secs(60)));
    let t = draw(&app);
    let text = screen_text(&t);
    // The wallet list is checked before the kit or the key is touched.
    assert!(text.contains("line 2: wallet id in braces"), "{text}");
    assert!(!out.exists());
    snap_both!("kit_derive_bad_wallets", app, settings settings());
}
