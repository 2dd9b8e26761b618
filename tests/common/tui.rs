//! Helpers shared by the whole-app console tests: an offline `App`, drawing
//! it on a fixed-size `TestBackend`, key input, screen text, and the `snap!`
//! macro with the filters for volatile text.
//!
//! Each test file keeps its own terminal size and passes it to [`draw`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use custodian::tui::app::App;
use custodian::tui::event::Event;
use custodian_core::workspace::Workspace;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The app on `ws` with a network probe that always reports "offline",
/// once its start-up background checks (the audit chain) have reported.
/// The clock counts as confirmed by an operator just now (when the registry
/// is readable), so drills, incidents and ceremonies start without the
/// once-a-day question; tests/clock_tui.rs asks it (see [`offline_app_as_is`]).
pub fn offline_app(ws: Workspace) -> App {
    let now = custodian_core::clock::now();
    if ws
        .registry()
        .is_ok_and(|r| custodian_core::clock::needs_confirmation(&r, now))
    {
        super::clock_confirmed_at(&ws, now);
    }
    offline_app_as_is(ws)
}

/// [`offline_app`] on the workspace as it is (the clock not confirmed).
pub fn offline_app_as_is(ws: Workspace) -> App {
    let mut app = offline_app_unchecked(ws);
    assert!(
        app.pump_until_idle(std::time::Duration::from_secs(30)),
        "the start-up background checks did not report"
    );
    app
}

/// The app on `ws` as it is at start: its background checks started but
/// not yet taken in (the screens say "checking…").
pub fn offline_app_unchecked(ws: Workspace) -> App {
    App::with_probe(ws, Box::new(|| Ok(vec![])))
}

/// Renders `app` once on a `width`×`height` test terminal.
pub fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| app.render(f)).unwrap();
    t
}

/// One key press without modifiers.
pub fn key(app: &mut App, code: KeyCode) {
    app.handle(Event::Key(KeyEvent::from(code)));
}

/// One key press, then waits for the background checks it started (the
/// audit viewer, the checklist and the threats read the workspace off the
/// UI thread and say "checking…" until then).
pub fn key_settled(app: &mut App, code: KeyCode) {
    key(app, code);
    assert!(
        app.pump_until_idle(std::time::Duration::from_secs(30)),
        "the background checks did not report"
    );
}

/// Ctrl + `c`.
pub fn ctrl(app: &mut App, c: char) {
    app.handle(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )));
}

/// Types `text` one character key at a time.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// A bracketed paste of `text` (one event, as a terminal sends it).
pub fn paste(app: &mut App, text: &str) {
    app.handle(Event::Paste(text.to_string().into()));
}

/// Presses ← `n` times.
pub fn left(app: &mut App, n: usize) {
    for _ in 0..n {
        key(app, KeyCode::Left);
    }
}

/// The screen as plain text: one line per row, joined by `\n`, no quotes.
pub fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The app's screen at the usual size (120×40) as plain text.
pub fn text(app: &App) -> String {
    text_at(app, 120, 40)
}

/// The app's screen at `width`×`height` as plain text.
pub fn text_at(app: &App, width: u16, height: u16) -> String {
    screen_text(&draw(app, width, height))
}

/// A new passphrase typed twice in the shared "choose twice" block.
pub fn new_pass(app: &mut App, pass: &str) {
    type_text(app, pass);
    key(app, KeyCode::Enter);
    type_text(app, pass);
    key(app, KeyCode::Enter);
}

/// Insta filters for volatile text, applied in this order. A snapshot file
/// that needs more (or different placeholders) passes extra filters to
/// [`settings`]; those run first.
pub const FILTERS: &[(&str, &str)] = &[
    (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
    (r"age1[0-9a-z]{58}", "age1[RECIPIENT]"),
    (r"age1[0-9a-z]{10}…[0-9a-z]{8}", "age1[SHORT]"),
    (
        r"[0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}",
        "[FINGERPRINT]",
    ),
    (r"INC-\d{8}-[0-9a-f]{6}", "INC-[ID]"),
    (r"DRILL-\d{8}-[0-9a-f]{6}", "DRILL-[ID]"),
    (r"drill-\d{8}-[0-9a-f]{6}", "drill-[ID]"),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:?\d{2}:?\d{2}Z", "[TIME]"),
    // A time cut off at the screen's edge.
    (r"\d{4}-\d{2}-\d{2}T[0-9:]*", "[TIME]"),
    (r"\d{4}-\d{2}-\d{2}", "[DATE]"),
    (r"\d+\.\d s", "[T] s"),
    (r"0[23][0-9a-f]{64}", "[PUBKEY]"),
    (r"Head: [0-9a-f]{64}", "Head: [HASH]"),
    (r"[0-9a-f]{64}", "[SHA256]"),
];

/// Insta settings with `extra` filters followed by [`FILTERS`].
pub fn settings(extra: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (re, with) in extra.iter().chain(FILTERS) {
        s.add_filter(re, *with);
    }
    s
}

/// What a snapshot records: a drawn terminal (as `TestBackend` prints it,
/// one quoted line per row) or text already in that form.
pub trait SnapshotText {
    fn snapshot_text(&self) -> String;
}

impl SnapshotText for Terminal<TestBackend> {
    fn snapshot_text(&self) -> String {
        format!("{}", self.backend())
    }
}

impl SnapshotText for String {
    fn snapshot_text(&self) -> String {
        self.clone()
    }
}

/// `snap!(name, screen)` asserts the named snapshot of `screen` (a drawn
/// `Terminal<TestBackend>` or its printed `String`) with the shared
/// [`FILTERS`]; `snap!(name, screen, settings)` uses the given
/// `insta::Settings` instead (see [`settings`]). The snapshot file is named
/// after the calling test file, as with `insta::assert_snapshot!`.
#[macro_export]
macro_rules! snap {
    ($name:expr, $screen:expr) => {
        $crate::snap!($name, $screen, $crate::common::tui::settings(&[]))
    };
    ($name:expr, $screen:expr, $settings:expr) => {{
        let text = $crate::common::tui::SnapshotText::snapshot_text(&$screen);
        $settings.bind(|| insta::assert_snapshot!($name, text));
    }};
}

/// `snap_both!(name, app)` asserts the snapshots `{name}_80x24` and
/// `{name}_120x40` of the app drawn at the minimum and the usual size, with
/// the shared [`FILTERS`]; `snap_both!(name, app, &[(re, with), …])` runs
/// the given filters first; `snap_both!(name, app, settings s)` binds the
/// `insta::Settings` `s` instead. Every wizard step is snapshotted at both sizes
/// through this one helper.
#[macro_export]
macro_rules! snap_both {
    ($name:expr, $app:expr) => {
        $crate::snap_both!($name, $app, &[])
    };
    ($name:expr, $app:expr, settings $settings:expr) => {{
        for (w, h) in [(80u16, 24u16), (120, 40)] {
            $crate::snap!(
                format!("{}_{w}x{h}", $name),
                $crate::common::tui::draw(&$app, w, h),
                $settings
            );
        }
    }};
    ($name:expr, $app:expr, $extra:expr) => {{
        for (w, h) in [(80u16, 24u16), (120, 40)] {
            $crate::snap!(
                format!("{}_{w}x{h}", $name),
                $crate::common::tui::draw(&$app, w, h),
                $crate::common::tui::settings($extra)
            );
        }
    }};
}

/// A custodian record for list tests (no identity file behind it).
pub fn custodian(name: &str) -> custodian_core::workspace::CustodianRecord {
    custodian_core::workspace::CustodianRecord {
        name: name.into(),
        recipient: format!("age1{}", name.to_lowercase().replace(' ', "")),
        fingerprint: format!("fp-{name}"),
        created_at: "2026-01-01T00:00:00Z".into(),
        rotation_due: "2099-01-01T00:00:00Z".into(),
        identity_file: None,
        token: None,
    }
}

/// The workspace of `sb` with `n` registered custodians named
/// "Custodian 01"….
pub fn with_custodians(sb: &super::Sandbox, n: usize) -> Workspace {
    let workspace = Workspace::open(sb.ws()).unwrap();
    for i in 1..=n {
        workspace
            .add_custodian(custodian(&format!("Custodian {i:02}")))
            .unwrap();
    }
    workspace
}

/// Keys from home that open each screen, with its title.
pub const SCREENS: &[(&str, &str)] = &[
    ("n", "New custodian identity"),
    ("g", "Split a key among guardians"),
    ("c", "Rebuild a key from guardian shares"),
    ("s", "Shards"),
    ("R", "Recover a raw private key"),
    ("p", "Playbook"),
    ("p1", "Scenario 1"),
    ("p2", "Scenario 2"),
    ("p3", "Scenario 3"),
    ("p4", "Scenario 4"),
    ("p5", "Scenario 5"),
    ("t", "Threats"),
    ("l", "Pre-launch checklist"),
    ("a", "Audit log"),
    ("v", "Vendor DR kit"),
    ("v1", "Create recovery key pair"),
    ("v2", "Check a public key"),
    ("v3", "Verify a DR kit"),
    ("v4", "Derive Key Share #1"),
    ("v5", "Verify the kit's workspace keys"),
    ("v6", "Recover the kit's workspace keys"),
    ("D", "Quarterly drill"),
    ("b", "Backup and restore"),
];

/// Types `keys` from home, then waits for the background checks the
/// screen started.
pub fn open_screen(app: &mut App, keys: &str) {
    type_text(app, keys);
    assert!(
        app.pump_until_idle(std::time::Duration::from_secs(30)),
        "the background checks did not report"
    );
}

/// A drill sandbox beside `real` as a drill leaves it (a workspace marked
/// `sandbox` with some material, recorded by a `DRILL_RUN` in `real`'s
/// audit log), without running the whole drill.
pub fn recorded_drill_sandbox(real: &Workspace, name: &str, drill: &str) -> std::path::PathBuf {
    let sandbox = real.root().with_file_name(name);
    let sb = Workspace::open(&sandbox).unwrap();
    sb.update_registry(|r| {
        r.sandbox = true;
        Ok::<_, custodian_core::workspace::WorkspaceError>(())
    })
    .unwrap();
    std::fs::write(sandbox.join("material.bin"), vec![0u8; 4096]).unwrap();
    let op = real
        .audit()
        .begin(
            "DRILL_RUN",
            serde_json::json!({ "drill": drill, "sandbox": sandbox, "participants": ["A", "B"] }),
        )
        .unwrap();
    op.complete(serde_json::json!({ "drill": drill })).unwrap();
    sandbox
}

/// The footer (the last row) still names Esc and help, whatever notice
/// is shown above it (a print's or a PNG's outcome).
pub fn assert_footer_keeps_esc_and_help(t: &Terminal<TestBackend>) {
    let text = screen_text(t);
    let footer = text.lines().last().unwrap_or_default();
    assert!(footer.contains("Esc"), "the footer lost Esc:\n{text}");
    assert!(
        footer.contains("?  help") || footer.contains("F1  help"),
        "the footer lost help:\n{text}"
    );
}

/// Presses `p` (print) on the current screen and waits for the worker.
/// Returns the screen at 80×24 (a notice above the footer names the PDF;
/// the footer still shows Esc and help) and the PDFs now
/// in `<ws>/printed`, each checked to be a PDF with mode 0600.
pub fn press_print(
    app: &mut App,
    ws: &std::path::Path,
) -> (Terminal<TestBackend>, Vec<std::path::PathBuf>) {
    use std::os::unix::fs::PermissionsExt;
    key(app, KeyCode::Char('p'));
    assert!(
        app.pump_until_idle(std::time::Duration::from_secs(120)),
        "printing timed out"
    );
    let t = draw(app, 80, 24);
    assert_footer_keeps_esc_and_help(&t);
    let mut pdfs: Vec<std::path::PathBuf> = std::fs::read_dir(ws.join("printed"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    pdfs.sort();
    for p in &pdfs {
        assert!(
            std::fs::read(p).unwrap().starts_with(b"%PDF-"),
            "{}",
            p.display()
        );
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    (t, pdfs)
}

/// Command-line advice in text the console shows: a `--flag`, or a
/// `custodian …` command (in backquotes, or a subcommand named after
/// `custodian `). None when the text says what to do in console terms.
pub fn command_line_advice(text: &str) -> Option<String> {
    const COMMANDS: &[&str] = &[
        "audit verify",
        "audit show",
        "backup --",
        "restore ",
        "custodians ",
        "drill run",
        "guardians ",
        "identity new",
        "identity show",
        "incident ",
        "kit ",
        "onboard",
        "outputs",
        "passphrase generate",
        "policy ",
        "recover ",
        "retire ",
        "rotate ",
        "shard ",
        "check --",
        "check`",
    ];
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices("--") {
        if bytes.get(i + 2).is_some_and(|b| b.is_ascii_alphabetic()) {
            let end = text[i..]
                .find(char::is_whitespace)
                .map_or(text.len(), |e| i + e);
            return Some(text[i..end].to_string());
        }
    }
    if let Some(i) = text.find("`custodian") {
        return Some(text[i..].chars().take(40).collect());
    }
    for (i, _) in text.match_indices("custodian ") {
        let rest = &text[i + "custodian ".len()..];
        if COMMANDS.iter().any(|c| rest.starts_with(c)) {
            return Some(text[i..].chars().take(40).collect());
        }
    }
    None
}

/// Asserts that `text`, as the console shows it, gives no command-line
/// advice ([`command_line_advice`]).
#[track_caller]
pub fn assert_no_command_line_advice(text: &str) {
    if let Some(found) = command_line_advice(text) {
        panic!("the console gives command-line advice ({found}):\n{text}");
    }
}

/// Screens the [`SCREENS`] table leaves out, opened by keys from home: a
/// custodian row's rotation and retirement, the roll call, the ceremony,
/// and each threat's details (its checks and mitigations).
pub const MORE_SCREENS: &[(&str, &str)] = &[
    ("o", "Rotate custodian"),
    ("x", "Retire custodian"),
    ("G", "Guardian roll call"),
    ("O", "Onboarding ceremony"),
    ("t1", "Threats"),
    ("t2", "Threats"),
    ("t3", "Threats"),
    ("t4", "Threats"),
    ("t5", "Threats"),
    ("t6", "Threats"),
];

/// `n` shard records (files on disk, registered) spread over the
/// custodians `Custodian 01…`, enough for the shards list to scroll at
/// 80×24. Returns the last row's file name.
pub fn with_shards(w: &Workspace, n: u32) -> String {
    let dir = w.root().join("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let mut last = String::new();
    let records = (1..=n)
        .map(|i| {
            let name = format!("key-{i:02}.1.custodian-{i:02}.shard.json");
            let file = dir.join(&name);
            std::fs::write(&file, b"{}").unwrap();
            last = name;
            custodian_core::shard::ShardRecord {
                key_id: format!("key-{i:02}"),
                index: 1,
                custodian: format!("Custodian {i:02}"),
                recipient: custodian(&format!("Custodian {i:02}")).recipient,
                file,
                file_sha256: "0".repeat(64),
                created_at: "2026-01-01T00:00:00Z".into(),
                origin: "test".into(),
                replaces: None,
            }
        })
        .collect();
    custodian_core::shard::register(w, records).unwrap();
    last
}

/// A drill sandbox beside `real` with its drill card (12 synthetic
/// custodians, so the card scrolls at 80×24), walked by `app` as `o` after
/// a drill does; home `C` then opens the card.
pub fn walk_sandbox_with_card(app: &mut App, real: &Workspace) {
    use custodian_core::drill::card::{self, CardContent, CardEntry};
    let path = recorded_drill_sandbox(real, "ws-drill-card", "DRILL-20260101-cccccc");
    let sandbox = Workspace::open(&path).unwrap();
    let pass = secrecy::SecretString::from("drill correct horse battery staple again");
    let files: Vec<std::path::PathBuf> = (1..=12)
        .map(|i| path.join(format!("drill-{i:02}.identity.json")))
        .collect();
    let content = CardContent {
        drill: "DRILL-20260101-cccccc",
        custodians: files
            .iter()
            .enumerate()
            .map(|(i, f)| CardEntry {
                who: format!("Drill {:02}", i + 1),
                file: f,
                passphrase: &pass,
            })
            .collect(),
        guardians: Vec::new(),
        recovery_key: None,
        kit: None,
        key_id: "drill-alpha",
        shards: Vec::new(),
    };
    card::write(&sandbox, &content).unwrap();
    app.enter_sandbox(path);
}

/// Opens the drill card (home `C`) walking a sandbox with a card
/// ([`walk_sandbox_with_card`]).
pub fn open_drill_card(app: &mut App, real: &Workspace) {
    walk_sandbox_with_card(app, real);
    key(app, KeyCode::Char('C'));
    assert_eq!(app.current_title(), "Drill card");
}

/// Locks `app` as an hour without a key does, and returns the lock
/// screen's footer at 80×24.
pub fn lock_now(app: &mut App) -> String {
    assert!(app.lock_if_idle(std::time::Instant::now() + std::time::Duration::from_secs(3600)));
    let screen = text_at(app, 80, 24);
    screen.lines().last().unwrap_or("").to_string()
}
