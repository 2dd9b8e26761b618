//! `custodian print`: every sheet read back by real tools. `pdftotext`
//! (poppler-utils) must find every expected text, `pdfinfo` the paper size,
//! and `zbarimg` (zbar-tools), on pages rendered by `pdftoppm`, must decode
//! every QR code to exactly the data it encodes; a share line decoded from
//! its printed QR code is accepted by `guardians combine`. Expected texts
//! come from the records themselves (and the fingerprint from openssl), not
//! from the printing code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};

use common::pdf::{assert_has_text, hash_rows, image_count, info, mode, qr_codes, text};
use common::{PASS_A, Sandbox, gpass};
use custodian_core::guardians::{ShareFile, printed};
use custodian_core::workspace::Workspace;
use predicates::prelude::*;
use serde_json::Value;

const TOOLS: [&str; 5] = ["pdftotext", "pdfinfo", "pdftoppm", "zbarimg", "pdfimages"];

fn tools_missing() -> bool {
    TOOLS.iter().any(|t| common::missing_tool(t))
}

/// A workspace with Vic's key split 2-of-3 among Ana, Ben and Cy.
struct Split {
    sb: Sandbox,
    shares: Vec<PathBuf>,
}

fn split() -> Split {
    let sb = Sandbox::new();
    let p = sb.pass_file("vic.pass", &[PASS_A]);
    sb.cmd()
        .args(["identity", "new", "--name", "Vic", "--passphrase-file"])
        .arg(&p)
        .assert()
        .success();
    let identity = sb.ws().join("identities/vic.identity.json");
    let lines = [PASS_A.to_string(), gpass("Ana"), gpass("Ben"), gpass("Cy")];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let p = sb.pass_file("split.pass", &refs);
    let out = sb
        .cmd()
        .args(["--json", "guardians", "split", "--identity"])
        .arg(&identity)
        .args([
            "--threshold",
            "2",
            "--guardians",
            "Ana,Ben,Cy",
            "--passphrase-file",
        ])
        .arg(&p)
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let shares = json["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| PathBuf::from(s["file"].as_str().unwrap()))
        .collect();
    Split { sb, shares }
}

fn print_json(sb: &Sandbox, args: &[&str], extra: &[&Path]) -> Value {
    let mut c = sb.cmd();
    c.args(["--json", "print"]).args(args);
    for p in extra {
        c.arg(p);
    }
    let out = c.assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn audit(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.ws().join("audit.jsonl")).unwrap()
}

#[test]
fn share_card_reads_back_and_its_qr_rebuilds_the_key() {
    if tools_missing() {
        return;
    }
    let Split { sb, shares } = split();
    let ben = ShareFile::load(&shares[1]).unwrap();
    let line = ben.printed().unwrap();
    for (paper, size) in [
        ("letter", "612 x 792 pts (letter)"),
        ("a4", "595.276 x 841.89 pts (A4)"),
    ] {
        let out = sb.file(&format!("ben-{paper}.pdf"));
        let v = print_json(
            &sb,
            &["share", "--paper", paper, "--out"],
            &[&out, &shares[1]],
        );
        assert_eq!(v["sheet"], "share");
        assert_eq!(v["pages"], 1, "a share card is one sheet");
        assert_eq!(mode(&out), 0o600);
        assert_eq!(
            v["fileSha256"].as_str().unwrap(),
            custodian_core::fsutil::sha256_hex(&std::fs::read(&out).unwrap())
        );
        assert_eq!(info(&out), (1, size.to_string()));
        // Every fact and every row of groups, as a person reads them.
        let mut expected = vec![
            "Guardian share card: Ben".to_string(),
            "Guardian Ben".into(),
            "Key of Vic".into(),
            format!("Set id {}", ben.set_id),
            "Share #2 of 3 (any 2 of the 3 rebuild the key)".into(),
            format!("Recipient {}", ben.recipient),
            "custodianshare2".into(),
            "nobody can use it without your passphrase".into(),
            "custodian says which group to check".into(),
        ];
        let groups = printed::groups(&line);
        for (i, row) in groups.chunks(6).enumerate() {
            expected.push(format!("{} {}", i * 6 + 1, row.join(" ")));
        }
        assert_has_text(&out, &expected);
        // The grouped text as pdftotext gives it reads back as Ben's share.
        let text = text(&out);
        let start = text.find("custodianshare2").unwrap();
        let typed: String = groups.iter().map(|g| format!("{g} ")).collect();
        assert!(text[start..].contains(typed.trim()) || groups.chunks(6).count() > 1);
        // The QR code holds exactly the plain line (upper case), and is
        // drawn as vectors: the PDF holds no image.
        let qrs = qr_codes(&out);
        assert_eq!(qrs, vec![vec![line.to_ascii_uppercase()]]);
        assert_eq!(image_count(&out), 0, "a raster image on the card");
    }
    // The line decoded from the printed QR code, on paper, is accepted by
    // `guardians combine` with Ana's share file.
    let decoded = &qr_codes(&sb.file("ben-a4.pdf"))[0][0];
    let paper = sb.file("ben-from-qr.txt");
    std::fs::write(&paper, decoded).unwrap();
    let p = sb.pass_file(
        "combine.pass",
        &[
            &gpass("Ana"),
            &gpass("Ben"),
            "a new passphrase for the rebuilt identity file",
        ],
    );
    let rebuilt = sb.file("vic-rebuilt.identity.json");
    sb.cmd()
        .args(["--json", "guardians", "combine"])
        .arg(&shares[0])
        .arg(&paper)
        .arg("--out")
        .arg(&rebuilt)
        .arg("--passphrase-file")
        .arg(&p)
        .assert()
        .success();
    assert!(rebuilt.exists());
    // Both prints are audited.
    assert_eq!(
        audit(&sb)
            .matches(r#""event":"PRINT","status":"COMPLETED""#)
            .count(),
        2
    );
}

#[test]
fn default_names_never_overwrite_and_bad_requests_change_nothing() {
    if tools_missing() {
        return;
    }
    let Split { sb, shares } = split();
    let first = print_json(&sb, &["share"], &[&shares[0]]);
    let second = print_json(&sb, &["share"], &[&shares[0]]);
    let (a, b) = (
        PathBuf::from(first["file"].as_str().unwrap()),
        PathBuf::from(second["file"].as_str().unwrap()),
    );
    assert_eq!(a.parent().unwrap(), sb.ws().join("printed"));
    assert!(b.to_string_lossy().ends_with("-2.pdf"), "{}", b.display());
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "deterministic"
    );
    // --out naming an existing file: refused, the file untouched.
    let before = sb.snapshot();
    let snapshot_but_audit = |s: Vec<(PathBuf, Vec<u8>)>| {
        s.into_iter()
            .filter(|(p, _)| !p.ends_with("audit.jsonl"))
            .collect::<Vec<_>>()
    };
    sb.cmd()
        .args(["print", "share", "--out"])
        .arg(&a)
        .arg(&shares[0])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(
        snapshot_but_audit(sb.snapshot()),
        snapshot_but_audit(before.clone())
    );
    assert!(audit(&sb).contains(r#""event":"PRINT","status":"FAILED""#));
    // Not a share, a missing file, an unknown drill, an unknown ceremony,
    // an unknown incident: each named, nothing written at all.
    let junk = sb.file("junk.txt");
    std::fs::write(&junk, "hello").unwrap();
    let before = sb.snapshot();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["share".into(), junk.display().to_string()],
            "is not a guardian share",
        ),
        (
            vec!["share".into(), sb.file("nope.json").display().to_string()],
            "nope.json",
        ),
        (
            vec!["recovery-key".into(), junk.display().to_string()],
            "junk.txt",
        ),
        (
            vec!["drill".into(), "DRILL-20260101-abcdef".into()],
            "no drill `DRILL-20260101-abcdef`",
        ),
        (
            vec!["ceremony".into()],
            "no onboarding ceremony has been completed",
        ),
        (
            vec!["ceremony".into(), "CER-x".into()],
            "no ceremony `CER-x`",
        ),
        (
            vec!["incident".into(), "INC-20260101-000000-abcdef".into()],
            "INC-20260101-000000-abcdef",
        ),
    ];
    for (args, says) in cases {
        sb.cmd()
            .arg("print")
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(says).and(predicate::str::contains("what to do")));
        assert_eq!(sb.snapshot(), before, "{args:?}");
    }
    // A paper size that does not exist is a usage error.
    sb.cmd()
        .args(["print", "keys", "--paper", "a5"])
        .assert()
        .code(2);
}

#[test]
fn recovery_key_sheet_matches_openssl_and_its_qr_is_the_pem() {
    if tools_missing() || common::missing_tool("openssl") {
        return;
    }
    let sb = Sandbox::new();
    let private = sb.file("rk.key");
    let public = sb.file("rk.pub.pem");
    common::openssl_rsa_pair(&private, &public);
    let der = std::process::Command::new("openssl")
        .args([
            "pkey",
            "-pubin",
            "-in",
            public.to_str().unwrap(),
            "-outform",
            "DER",
        ])
        .output()
        .unwrap()
        .stdout;
    let fingerprint = custodian_core::fsutil::sha256_hex(&der);
    let pem = std::fs::read_to_string(&public).unwrap();
    let phrase = custodian_core::drkit::keys::verification_phrase(&pem);
    let out = sb.file("rk.pdf");
    let v = print_json(
        &sb,
        &["recovery-key", "--paper", "letter", "--out"],
        &[&out, &public],
    );
    assert_eq!(v["sheet"], "recovery-key");
    let mut expected = vec![
        "Vendor recovery key (public half)".to_string(),
        "Key RSA-4096".into(),
        format!("Verification phrase {phrase}"),
        "SHA-256 fingerprint (DER SubjectPublicKeyInfo)".into(),
    ];
    expected.extend(hash_rows(&fingerprint));
    assert_has_text(&out, &expected);
    assert!(!text(&out).contains("PRIVATE"));
    let qrs: Vec<String> = qr_codes(&out).concat();
    assert_eq!(qrs, vec![pem]);
    assert_eq!(image_count(&out), 0, "the QR code is drawn as vectors");
}

#[test]
fn keys_sheet_lists_every_recipient_set_and_the_audit_head() {
    if tools_missing() {
        return;
    }
    let Split { sb, shares } = split();
    let ws = Workspace::open(sb.ws()).unwrap();
    let reg = ws.registry().unwrap();
    let head = ws.audit().verify().unwrap().head;
    let v = print_json(&sb, &["keys"], &[]);
    let out = PathBuf::from(v["file"].as_str().unwrap());
    let vic = reg.custodian("Vic").unwrap();
    let set = &reg.guardian_splits.splits[0];
    let mut expected = vec![
        "Workspace keys: the printed copy".to_string(),
        "Custodians (1)".into(),
        format!("Vic {}", vic.recipient),
        format!("fingerprint {}", vic.fingerprint),
        "Guardian sets (1)".into(),
        format!("Set id {}", set.set_id),
        "Vic 2-of-3: Ana, Ben, Cy".into(),
        format!("custodian audit verify --expect-head {head}"),
    ];
    expected.extend(hash_rows(&head));
    assert_has_text(&out, &expected);
    // The head printed is one the chain still holds.
    sb.cmd()
        .args(["audit", "verify", "--expect-head", &head])
        .assert()
        .success();
    assert_eq!(qr_codes(&out).concat(), Vec::<String>::new());
    drop(shares);
}

fn record_lines(md: &Path) -> Vec<String> {
    // Lines that must come through whole: headings and plain sentences
    // short enough not to wrap.
    std::fs::read_to_string(md)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && l.chars().count() < 80)
        .map(String::from)
        .collect()
}

#[test]
fn incident_sheet_is_the_report_with_its_head_and_an_altered_report_is_refused() {
    if tools_missing() {
        return;
    }
    use custodian_core::playbook::incident;
    let sb = Sandbox::new();
    let ws = Workspace::open(sb.ws()).unwrap();
    let inc = incident::load(&ws, &common::incident_with_a_step(&sb)).unwrap();
    // Open: no report yet.
    sb.cmd()
        .args(["print", "incident", &inc.id])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "incident {} has no written report yet",
            inc.id
        )));
    sb.cmd()
        .args(["incident", "close", &inc.id, "--operator", "Dee"])
        .assert()
        .success();
    let report = incident::load(&ws, &inc.id).unwrap().report.unwrap();
    let v = print_json(&sb, &["incident", &inc.id], &[]);
    let out = PathBuf::from(v["file"].as_str().unwrap());
    let mut expected = vec![
        format!("Incident report {}", inc.id),
        "Audit head at close".into(),
    ];
    expected.extend(hash_rows(&report.audit_head));
    expected.extend(record_lines(&report.path));
    assert_has_text(&out, &expected);
    // The report changed after it was written: refused, by its recorded hash.
    let mut text = std::fs::read_to_string(&report.path).unwrap();
    text.push_str("\nAll fine, nothing happened.\n");
    std::fs::write(&report.path, text).unwrap();
    sb.cmd()
        .args(["print", "incident", &inc.id])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("was changed after it was written"));
}

#[test]
fn ceremony_and_drill_sheets_carry_their_records_and_heads() {
    if tools_missing() {
        return;
    }
    let sb = Sandbox::new();
    // A one-custodian ceremony, 2-of-2.
    let plan = serde_json::json!({
        "present": ["Olga Reyes", "Pat Kim"],
        "custodians": [{"name": "Ana", "guardians": ["Gus", "Hal"], "threshold": 2}],
    });
    let plan_path = sb.file("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let lines = [
        format!("{PASS_A} Ana"),
        gpass("Gus"),
        gpass("Hal"),
        gpass("Gus"),
        gpass("Hal"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    sb.cmd()
        .args(["onboard", "--plan"])
        .arg(&plan_path)
        .arg("--passphrase-file")
        .arg(sb.pass_file("cer.pass", &refs))
        .assert()
        .success();
    let ws = Workspace::open(sb.ws()).unwrap();
    let cer = ws.registry().unwrap().ceremonies[0].clone();
    let v = print_json(&sb, &["ceremony", "--paper", "letter"], &[]);
    let out = PathBuf::from(v["file"].as_str().unwrap());
    let mut expected = vec![
        format!("Onboarding ceremony {}", cer.id),
        "Audit head at completion".into(),
    ];
    expected.extend(hash_rows(cer.audit_head.as_ref().unwrap()));
    expected.extend(record_lines(cer.record_file.as_ref().unwrap()));
    assert_has_text(&out, &expected);
    assert_eq!(info(&out).1, "612 x 792 pts (letter)");

    // A drill, run in its own sandbox beside the workspace.
    let drill_sandbox = sb.file("drill-sandbox");
    let report = common::auto_drill(&sb, &drill_sandbox);
    let id = report["id"].as_str().unwrap().to_string();
    let head = report["sandboxAuditHead"].as_str().unwrap().to_string();
    let v = print_json(&sb, &["drill", &id], &[]);
    let out = PathBuf::from(v["file"].as_str().unwrap());
    let md = sb.ws().join("drills").join(format!("{id}.md"));
    let mut expected = vec![
        format!("Drill report {id}"),
        "Sandbox audit head at the end".into(),
    ];
    expected.extend(hash_rows(&head));
    expected.extend(record_lines(&md));
    assert_has_text(&out, &expected);
    assert!(
        audit(&sb)
            .matches(r#""event":"PRINT","status":"COMPLETED""#)
            .count()
            == 2
    );
}

/// The sandbox of a child run of the console's `lp` test (its parent made it).
const LP_DIR: &str = "PRINT_LP_DIR";

/// Fake `lpstat` and `lp` in `dir/bin`, for the console's print: `lpstat
/// -d` names the printer in `dir/printer` when that file exists (CUPS's
/// words) and says there is none otherwise; `lp` fails as CUPS does when
/// `dir/lp-fails` exists, and records each call's arguments
/// (`dir/calls/N/argv`, one a line) and the file it was given
/// (`dir/calls/N/file`).
fn fake_lp(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let d = dir.display();
    let scripts = [
        (
            "lpstat",
            format!(
                "#!/bin/sh\n\
                 echo \"$@\" >> '{d}/lpstat-calls'\n\
                 if [ -f '{d}/printer' ]; then\n\
                 echo \"system default destination: $(cat '{d}/printer')\"\n\
                 else echo 'no system default destination'; fi\n"
            ),
        ),
        (
            "lp",
            format!(
                "#!/bin/sh\n\
                 n=$(ls '{d}/calls' 2>/dev/null | wc -l)\n\
                 mkdir -p '{d}/calls/'$n\n\
                 printf '%s\\n' \"$@\" > '{d}/calls/'$n/argv\n\
                 for a; do last=$a; done\n\
                 cp \"$last\" '{d}/calls/'$n/file\n\
                 if [ -f '{d}/lp-fails' ]; then\n\
                 echo 'lp: The printer or class does not exist.' >&2; exit 1; fi\n\
                 echo 'request id is paper-room-7 (1 file(s))'\n"
            ),
        ),
    ];
    for (name, text) in scripts {
        let p = bin.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// The calls the fake `lp` recorded: (arguments, the file's bytes).
fn lp_calls(dir: &Path) -> Vec<(Vec<String>, Vec<u8>)> {
    (0..)
        .map(|n| dir.join(format!("calls/{n}")))
        .take_while(|c| c.exists())
        .map(|c| {
            let argv = std::fs::read_to_string(c.join("argv")).unwrap();
            (
                argv.lines().map(String::from).collect(),
                std::fs::read(c.join("file")).unwrap(),
            )
        })
        .collect()
}

/// The console's print key (issue 14, Deliver 6) with a fake CUPS on the
/// PATH: no default printer → the footer says where the PDF is and `lp` is
/// not run; a default printer → exactly the PDF written is handed to `lp
/// -d PRINTER`, and the footer says it was sent; a failing `lp` → its own
/// words in the footer, and the PDF is kept where it says. No real printer
/// is needed (none exists on the machine the tests run on).
#[test]
fn the_console_hands_exactly_the_written_pdf_to_lp_when_a_printer_is_configured() {
    use crossterm::event::KeyCode;
    let name = common::this_test!();
    if !common::in_child(&name) {
        let sb = Sandbox::new();
        let p = sb.pass_file("vic.pass", &[PASS_A]);
        sb.cmd()
            .args(["identity", "new", "--name", "Vic", "--passphrase-file"])
            .arg(&p)
            .assert()
            .success();
        let bin = fake_lp(sb.path());
        return common::run_child(
            &name,
            &[
                ("PATH", common::token::path_with(&bin)),
                (LP_DIR, sb.path().into()),
            ],
        );
    }
    let dir = PathBuf::from(std::env::var_os(LP_DIR).unwrap());
    let ws = dir.join("ws");
    let mut app = common::tui::offline_app(Workspace::open(&ws).unwrap());
    common::tui::key(&mut app, KeyCode::Char('s'));
    let wide = |app: &custodian::tui::app::App| common::tui::text_at(app, 250, 40);
    let new_pdf = |before: &[PathBuf], now: &[PathBuf]| -> PathBuf {
        let new: Vec<&PathBuf> = now.iter().filter(|p| !before.contains(p)).collect();
        assert_eq!(new.len(), 1, "{now:?}");
        new[0].clone()
    };

    // (1) No default printer: the PDF's path, and lp is not run.
    let (t, pdfs) = common::tui::press_print(&mut app, &ws);
    assert_eq!(pdfs.len(), 1);
    let t = common::tui::screen_text(&t);
    assert!(t.contains("PDF written: "), "{t}");
    let w = wide(&app);
    assert!(
        w.contains(&format!("PDF written: {}", pdfs[0].display())),
        "{w}"
    );
    assert!(!w.contains("Sent to") && !w.contains("Not printed"), "{w}");
    assert!(
        dir.join("lpstat-calls").exists(),
        "the console did not ask lpstat for a default printer"
    );
    assert!(lp_calls(&dir).is_empty(), "lp ran without a printer");

    // (2) A default printer: exactly the written PDF goes to it.
    std::fs::write(dir.join("printer"), "paper-room").unwrap();
    let (t, now) = common::tui::press_print(&mut app, &ws);
    let sent = new_pdf(&pdfs, &now);
    let t = common::tui::screen_text(&t);
    assert!(
        t.contains("Sent to printer paper-room · PDF written: "),
        "{t}"
    );
    let w = wide(&app);
    assert!(
        w.contains(&format!(
            "Sent to printer paper-room · PDF written: {}",
            sent.display()
        )),
        "{w}"
    );
    let calls = lp_calls(&dir);
    assert_eq!(calls.len(), 1, "one sheet, one lp");
    let sent_text = sent.to_str().unwrap().to_string();
    assert_eq!(calls[0].0, ["-d", "paper-room", "--", sent_text.as_str()]);
    assert_eq!(
        calls[0].1,
        std::fs::read(&sent).unwrap(),
        "lp got other bytes"
    );

    // (3) lp fails: its words, and the PDF kept where the footer says.
    std::fs::write(dir.join("lp-fails"), "").unwrap();
    let before = now;
    let (t, now) = common::tui::press_print(&mut app, &ws);
    let kept = new_pdf(&before, &now);
    let t = common::tui::screen_text(&t);
    // At 80 columns the footer still says where the PDF is.
    let kept_line = format!("Not printed on paper-room; PDF kept: {}", kept.display());
    assert!(t.contains(&kept_line), "{t}");
    let w = wide(&app);
    assert!(
        w.contains(&format!(
            "{kept_line} · `lp` exited 1: lp: The printer or class does not exist."
        )),
        "{w}"
    );
    assert!(std::fs::read(&kept).unwrap().starts_with(b"%PDF-"));
    let calls = lp_calls(&dir);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].0.last().unwrap(), kept.to_str().unwrap());
    assert_eq!(app.current_title(), "Shards");
}
