//! `custodian print`: paper copies of what the policy wants on paper, as
//! PDF sheets (A4 or US Letter) with selectable text and QR codes drawn as
//! vectors.
//!
//! | sheet | holds |
//! |---|---|
//! | share card | guardian, custodian, set id, index k-of-n, the grouped line, its QR, instructions |
//! | recovery key | verification phrase, SHA-256 fingerprint of the key (DER SubjectPublicKeyInfo), QR of the PEM |
//! | keys | every custodian recipient, drill key root public key, shard and guardian set in the workspace |
//! | ceremony, incident, drill | the Markdown record as written, with its audit head hash in large groups |
//!
//! No sheet holds a secret that is not already sealed: a share card's line
//! is the share sealed under its guardian's passphrase; everything else is
//! public. Every sheet's text is checked for anything that looks like a
//! secret (an age secret key, a PEM private key, an extended private key)
//! and refused if it does.
//!
//! Writing uses the transaction protocol (event `PRINT`): the PDF is
//! written unnamed with mode 0600, read back and compared, and published
//! under a name that does not exist yet (`<workspace>/printed/<sheet>.pdf`,
//! then `-2`, `-3`… by default; `--out` is never overwritten).

pub mod pdf;
pub mod png;

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::AuditError;
use crate::drkit::DrKitError;
use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::guardians::{GuardianError, ShareFile, printed};
use crate::playbook::PlaybookError;
use crate::workspace::{Registry, Workspace, WorkspaceError};
use pdf::{Font, Layout, Paper};

/// The audit event of a print.
pub const EVENT: &str = "PRINT";
/// Where printed sheets go by default.
pub const DIR: &str = "printed";
/// Largest record file a sheet is made from.
const MAX_RECORD: u64 = 4 << 20;

/// Why a sheet was not printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// The share could not be read.
    #[error(transparent)]
    Share(#[from] GuardianError),
    /// The public key could not be read.
    #[error(transparent)]
    Key(#[from] DrKitError),
    /// The incident could not be read.
    #[error(transparent)]
    Incident(#[from] PlaybookError),
    /// No ceremony with this id (or none completed).
    #[error("{0}")]
    NoCeremony(String),
    /// No drill with this id.
    #[error("no drill `{0}` is recorded in this workspace")]
    NoDrill(String),
    /// The record has no report yet.
    #[error("{0} has no written report yet")]
    NoReport(String),
    /// A record file differs from what the registry recorded.
    #[error(
        "{path} differs from the report recorded at the time (SHA-256 {expected}): it was changed after it was written"
    )]
    ReportAltered {
        /// The file.
        path: PathBuf,
        /// The recorded SHA-256.
        expected: String,
    },
    /// A record file cannot be read as the sheet needs.
    #[error("{path}: {reason}")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The sheet's text holds something that looks like a secret.
    #[error("the {0} sheet would hold text that looks like a secret key; nothing was printed")]
    LooksSecret(&'static str),
    /// A QR code could not be made (too much data).
    #[error("cannot draw the QR code: {0}")]
    Qr(String),
    /// Writing or reading a file failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace could not be read or updated.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written or read.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
}

impl Explain for PrintError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        match self {
            PrintError::Share(e) => e.remedy_for(to),
            PrintError::Key(e) => e.remedy_for(to),
            PrintError::Incident(e) => e.remedy_for(to),
            PrintError::NoCeremony(_) => Some(
                to.pick("`custodian onboard --plan FILE` completes a ceremony; give the id it printed", "complete the onboarding ceremony (O on the home screen) and give the id it shows"),
            ),
            PrintError::NoDrill(_) => {
                Some("give a drill id from the drill report (DRILL-YYYYMMDD-…)".into())
            }
            PrintError::NoReport(_) => Some(
                to.pick("close the incident first (`custodian incident close ID`): the report is written then", "close the incident first (on its scenario screen): the report is written then"),
            ),
            PrintError::ReportAltered { .. } => Some(
                to.pick("compare the file with your backup copy and `custodian audit verify`; print from an unaltered copy", "compare the file with your backup copy and verify the audit log (a on the home screen, then v); print from an unaltered copy"),
            ),
            PrintError::BadRecord { .. } => {
                Some("restore the record from a backup of the workspace".into())
            }
            PrintError::LooksSecret(_) => Some(
                "check the record for a pasted key and treat that key as exposed".into(),
            ),
            PrintError::Qr(_) => None,
            PrintError::File(e) => e.remedy_for(to),
            PrintError::Workspace(e) => e.remedy_for(to),
            PrintError::Audit(e) => e.remedy_for(to),
        }
    }
}

/// A sheet ready to write.
pub struct Sheet {
    /// `share`, `recovery-key`, `keys`, `ceremony`, `incident` or `drill`.
    pub kind: &'static str,
    /// What it is about (guardian and set, key file, record id).
    pub subject: String,
    /// The default file name (without the directory).
    pub file_stem: String,
    /// The PDF.
    pub pdf: Vec<u8>,
    /// Its pages.
    pub pages: usize,
    /// Every piece of text on it, in order (for tests and `--json`).
    pub texts: Vec<String>,
    /// Exactly what each QR code on it encodes.
    pub qr_payloads: Vec<String>,
}

/// What a print wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// The sheet kind.
    pub kind: &'static str,
    /// Its subject.
    pub subject: String,
    /// The PDF file.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// Pages.
    pub pages: usize,
    /// What its QR codes encode.
    pub qr_payloads: Vec<String>,
}

/// Builds sheet text while it lays it out, remembering every text.
struct Writer {
    layout: Layout,
    texts: Vec<String>,
    qrs: Vec<String>,
}

const BODY: f32 = 10.0;

impl Writer {
    fn new(paper: Paper, footer: &str) -> Writer {
        Writer {
            layout: Layout::new(paper, footer),
            texts: Vec::new(),
            qrs: Vec::new(),
        }
    }

    fn title(&mut self, text: &str) {
        self.layout.para(Font::SansBold, 18.0, 0.0, text);
        self.layout.gap(4.0);
        self.texts.push(text.into());
    }

    fn heading(&mut self, text: &str) {
        self.layout.gap(6.0);
        self.layout.para(Font::SansBold, 12.0, 0.0, text);
        self.texts.push(text.into());
    }

    fn para(&mut self, text: &str) {
        self.layout.para(Font::Sans, BODY, 0.0, text);
        self.texts.push(text.into());
    }

    /// A label and a value in two columns; long values wrap in their column.
    fn field(&mut self, label: &str, value: &str) {
        let col = 110.0;
        let max = Layout::fits(Font::Mono, BODY, self.layout.width() - col);
        let lines = pdf::wrap(value, max);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                self.layout.line_at(Font::SansBold, BODY, 0.0, label);
                self.layout.beside(Font::Mono, BODY, col, line);
            } else {
                self.layout.line_at(Font::Mono, BODY, col, line);
            }
        }
        self.texts.push(label.into());
        self.texts.extend(lines);
    }

    /// Monospace lines, each kept whole when it fits (wrapped otherwise).
    fn mono(&mut self, size: f32, text: &str) {
        let max = Layout::fits(Font::Mono, size, self.layout.width());
        for line in pdf::wrap(text, max) {
            self.layout.line_at(Font::Mono, size, 0.0, &line);
            self.texts.push(line);
        }
    }

    /// A hash in large groups of four for comparing by hand, four groups a
    /// line.
    fn big_hash(&mut self, label: &str, hash: &str) {
        self.heading(label);
        let groups: Vec<String> = hash
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.layout.ensure(4.0 * 26.0);
        for row in groups.chunks(4) {
            let line = row.join(" ");
            self.layout.line_at(Font::MonoBold, 20.0, 0.0, &line);
            self.texts.push(line);
        }
    }

    /// A QR code of `data`, at most `max_side` points including its quiet
    /// zone, below the cursor (or against the right margin with `right`).
    /// Returns its side in points.
    fn qr(
        &mut self,
        data: &str,
        ec: qrcode::EcLevel,
        max_side: f32,
        right: bool,
    ) -> Result<f32, PrintError> {
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), ec)
            .map_err(|e| PrintError::Qr(e.to_string()))?;
        let modules = code.width();
        let colors = code.to_colors();
        let dark = |x: usize, y: usize| colors[y * modules + x] == qrcode::Color::Dark;
        // Whole points per module where possible (crisper on printers),
        // never below 1.5 pt (0.53 mm) so phone cameras still resolve it.
        let module = (max_side / (modules as f32 + 8.0)).floor().max(1.5);
        if !right {
            self.layout.gap(4.0);
        }
        let side = self.layout.qr(modules, &dark, module, 0.0, right);
        self.qrs.push(data.to_string());
        Ok(side)
    }

    fn finish(
        self,
        kind: &'static str,
        subject: String,
        file_stem: String,
        title: &str,
    ) -> Result<Sheet, PrintError> {
        let all = self.texts.join("\n");
        if crate::text::secret_look(&all).is_some()
            || self
                .qrs
                .iter()
                .any(|q| crate::text::secret_look(q).is_some())
        {
            return Err(PrintError::LooksSecret(kind));
        }
        let pages = self.layout.pages();
        Ok(Sheet {
            kind,
            subject,
            file_stem,
            pages,
            pdf: self.layout.finish(title),
            texts: self.texts,
            qr_payloads: self.qrs,
        })
    }
}

/// Groups of the grouped share line per printed row.
pub const GROUPS_PER_ROW: usize = 6;

/// The rows of a share card's grouped line: `custodianshare2` and rows of
/// [`GROUPS_PER_ROW`] groups, each row with the number of its first group.
pub fn share_rows(line: &str) -> Vec<(usize, String)> {
    printed::groups(line)
        .chunks(GROUPS_PER_ROW)
        .enumerate()
        .map(|(i, row)| (i * GROUPS_PER_ROW + 1, row.join(" ")))
        .collect()
}

/// A guardian's share card.
pub fn share_sheet(share: &ShareFile, paper: Paper) -> Result<Sheet, PrintError> {
    share.validate("the share")?;
    let line = share.printed()?;
    let groups = printed::groups(&line);
    let mut w = Writer::new(
        paper,
        &format!(
            "custodian share card   ·   {} #{} of set {}",
            share.guardian,
            share.index,
            share.short_set()
        ),
    );
    w.title(&format!("Guardian share card: {}", share.guardian));
    w.field("Guardian", &share.guardian);
    w.field("Key of", &share.custodian);
    w.field("Set id", &share.set_id);
    w.field(
        "Share",
        &format!(
            "#{} of {} (any {} of the {} rebuild the key)",
            share.index, share.total, share.threshold, share.total
        ),
    );
    w.field("Recipient", &share.recipient);
    w.field("Made", &share.created_at);
    w.heading(&format!(
        "Your share: {} groups (each 4 characters and a check character)",
        groups.len()
    ));
    // The rows on the left, the same share as a QR code on the right.
    let rows = share_rows(&line);
    w.layout.ensure(17.0 * (rows.len() + 1) as f32);
    let top = w.layout.y();
    let side = w.qr(&line.to_ascii_uppercase(), qrcode::EcLevel::M, 170.0, true)?;
    w.layout
        .line_at(Font::MonoBold, 12.0, 0.0, printed::GROUPED_PREFIX);
    w.texts.push(printed::GROUPED_PREFIX.into());
    for (first, row) in rows {
        w.layout.line_at(Font::MonoBold, 12.0, 22.0, &row);
        w.layout.beside(Font::Sans, 7.0, 0.0, &first.to_string());
        w.texts.push(row);
    }
    w.layout.below(top - side);
    w.heading("What this card is, and what to do with it");
    for p in [
        format!(
            "1. This card is your share of {}'s key. It is locked with the passphrase you chose: the card alone opens nothing, and nobody can use it without your passphrase. Never write the passphrase on this card.",
            share.custodian
        ),
        "2. Keep the card somewhere private and dry, apart from your passphrase. Do not photograph it or type it into any computer unless the custodians ask you to for a rebuild.".into(),
        "3. For a rebuild, the custodians scan the QR code (it holds the same share), or you type the line: custodianshare2, then each group as printed, with spaces between groups. The small number at the left of a row is the number of its first group: do not type it. If a group is mistyped, custodian says which group to check.".into(),
        format!(
            "4. Any {} of the {} guardians together can rebuild the key; fewer learn nothing. If this card is lost, damaged or seen by someone else, tell the custodians: they will make a new split and this card stops mattering.",
            share.threshold, share.total
        ),
    ] {
        w.para(&p);
        w.layout.gap(2.0);
    }
    let subject = format!(
        "{} #{} of set {}",
        share.guardian,
        share.index,
        share.short_set()
    );
    let stem = format!(
        "share-{}-{}-{}",
        share.short_set(),
        share.index,
        file_safe(&share.guardian)
    );
    w.finish(
        "share",
        subject,
        stem,
        &format!("Guardian share card: {}", share.guardian),
    )
}

/// The SHA-256 of a public key's DER SubjectPublicKeyInfo, in hex: what
/// `openssl pkey -pubin -outform DER | sha256sum` prints.
pub fn spki_sha256(key: &rsa::PublicKey) -> Result<String, PrintError> {
    use rsa::pkcs8::EncodePublicKey;
    let der = key
        .to_public_key_der()
        .map_err(|e| PrintError::Key(DrKitError::Encode(format!("public key: {e}"))))?;
    Ok(hex::encode(Sha256::digest(der.as_bytes())))
}

/// The vendor recovery key's public half.
pub fn recovery_key_sheet(public: &Path, paper: Paper) -> Result<Sheet, PrintError> {
    let (key, text) = crate::drkit::keys::load_public_key(public)?;
    let phrase = crate::drkit::keys::verification_phrase(&text);
    let bits = crate::drkit::keys::key_bits(&key);
    let fp = spki_sha256(&key)?;
    let name = public
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| public.display().to_string());
    let mut w = Writer::new(paper, &format!("custodian recovery key   ·   {name}"));
    w.title("Vendor recovery key (public half)");
    w.field("File", &name);
    w.field("Key", &format!("RSA-{bits}"));
    w.heading("Verification phrase");
    w.layout.line_at(Font::MonoBold, 28.0, 0.0, &phrase);
    w.texts.push(phrase.clone());
    w.big_hash("SHA-256 fingerprint (DER SubjectPublicKeyInfo)", &fp);
    w.heading("The public key as a QR code (the PEM text, exactly)");
    w.qr(
        &text,
        qrcode::EcLevel::L,
        w.layout.width().min(300.0),
        false,
    )?;
    w.heading("How to use this sheet");
    w.para("The verification phrase is the first 8 characters of base64(SHA-256) of the PEM file's exact text: compare it with the phrase the vendor's console shows for the key you uploaded. The fingerprint is the SHA-256 of the key itself (openssl pkey -pubin -in KEY.pem -outform DER | sha256sum); it does not change when the PEM is re-wrapped. This sheet holds only the public key: the private key never appears on paper.");
    let stem = format!("recovery-key-{}", file_safe(name.trim_end_matches(".pem")));
    w.finish(
        "recovery-key",
        name,
        stem,
        "Vendor recovery key (public half)",
    )
}

/// Every key id, root public key and recipient in the workspace.
pub fn keys_sheet(ws: &Workspace, paper: Paper) -> Result<Sheet, PrintError> {
    let reg = ws.registry()?;
    let head = ws.audit().verify()?;
    let mut w = Writer::new(paper, "custodian keys   ·   printed copy");
    w.title("Workspace keys: the printed copy");
    w.para("Every key id, root public key and recipient this workspace records, for the policy's printed copy. All of it is public; compare it with the primary copy when auditing.");
    keys_body(&mut w, &reg);
    w.big_hash(
        &format!("Audit head when printed ({} entries)", head.entries),
        &head.head,
    );
    w.para(&format!(
        "custodian audit verify --expect-head {} proves later that no entry up to here was changed or removed.",
        head.head
    ));
    w.finish(
        "keys",
        "workspace keys".into(),
        "keys".into(),
        "Workspace keys",
    )
}

fn keys_body(w: &mut Writer, reg: &Registry) {
    w.heading(&format!("Custodians ({})", reg.custodians.len()));
    if reg.custodians.is_empty() {
        w.para("none");
    }
    for c in &reg.custodians {
        w.field(&c.name, &c.recipient);
        w.field("", &format!("fingerprint {}", c.fingerprint));
    }
    w.heading(&format!("Drill keys ({})", reg.drill_keys.len()));
    if reg.drill_keys.is_empty() {
        w.para("none");
    }
    for k in &reg.drill_keys {
        w.field("Key id", &k.key_id);
        w.field("Root public", &k.root_public_key);
        w.field(
            "Shards",
            &format!(
                "{} of {}: {}",
                k.threshold,
                k.custodians.len(),
                k.custodians.join(", ")
            ),
        );
    }
    w.heading(&format!("Shards ({})", reg.shards.len()));
    if reg.shards.is_empty() {
        w.para("none");
    }
    let mut shards: Vec<_> = reg.shards.iter().collect();
    shards.sort_by(|a, b| (&a.key_id, a.index).cmp(&(&b.key_id, b.index)));
    for s in shards {
        w.field("Key id", &format!("{} #{}", s.key_id, s.index));
        w.field("", &format!("{} {}", s.custodian, s.recipient));
    }
    let splits = &reg.guardian_splits.splits;
    w.heading(&format!("Guardian sets ({})", splits.len()));
    if splits.is_empty() {
        w.para("none");
    }
    for s in splits {
        w.field("Set id", &s.set_id);
        w.field(
            "",
            &format!(
                "{} {}-of-{}: {}",
                s.custodian,
                s.threshold,
                s.total,
                s.guardians.join(", ")
            ),
        );
        w.field("", &s.recipient);
    }
}

/// A record to print: its Markdown file and the head it names.
struct Record<'a> {
    kind: &'static str,
    title: String,
    id: &'a str,
    path: &'a Path,
    /// The SHA-256 the file had when written, when one was recorded.
    expected_sha: Option<&'a str>,
    head_label: &'static str,
    head: &'a str,
}

/// A record sheet: the Markdown text as written, with its head.
fn record_sheet(r: &Record<'_>, paper: Paper) -> Result<Sheet, PrintError> {
    let Record {
        kind,
        ref title,
        id,
        path,
        expected_sha,
        head_label,
        head,
    } = *r;
    let bytes = fsutil::read_limited(path, MAX_RECORD)?;
    if let Some(expected) = expected_sha
        && fsutil::sha256_hex(&bytes) != expected
    {
        return Err(PrintError::ReportAltered {
            path: path.to_path_buf(),
            expected: expected.to_string(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| PrintError::BadRecord {
        path: path.to_path_buf(),
        reason: "the record is not UTF-8 text".into(),
    })?;
    let mut w = Writer::new(paper, &format!("custodian {kind} record   ·   {id}"));
    w.title(title);
    w.field("Record", id);
    w.field("File", &path.display().to_string());
    w.big_hash(head_label, head);
    w.para(&format!(
        "custodian audit verify --expect-head {head} proves that no audit entry up to this one was changed or removed."
    ));
    w.layout.rule();
    for line in text.lines() {
        w.mono(8.5, line);
    }
    w.finish(
        kind,
        id.to_string(),
        format!("{kind}-{}", file_safe(id)),
        title,
    )
}

/// The onboarding ceremony record (`id`, or the last completed one).
pub fn ceremony_sheet(ws: &Workspace, id: Option<&str>, paper: Paper) -> Result<Sheet, PrintError> {
    let reg = ws.registry()?;
    let done: Vec<_> = reg
        .ceremonies
        .iter()
        .filter(|c| c.completed_at.is_some())
        .collect();
    let c = match id {
        Some(id) => reg.ceremonies.iter().find(|c| c.id == id).ok_or_else(|| {
            PrintError::NoCeremony(format!("no ceremony `{id}` is recorded in this workspace"))
        })?,
        None => done.last().copied().ok_or_else(|| {
            PrintError::NoCeremony(
                "no onboarding ceremony has been completed in this workspace".into(),
            )
        })?,
    };
    let (Some(file), Some(head)) = (&c.record_file, &c.audit_head) else {
        return Err(PrintError::NoReport(format!("ceremony {}", c.id)));
    };
    record_sheet(
        &Record {
            kind: "ceremony",
            title: format!("Onboarding ceremony {}", c.id),
            id: &c.id,
            path: file,
            expected_sha: None,
            head_label: "Audit head at completion",
            head,
        },
        paper,
    )
}

/// A closed incident's report.
pub fn incident_sheet(ws: &Workspace, id: &str, paper: Paper) -> Result<Sheet, PrintError> {
    let incident = crate::playbook::incident::load(ws, id)?;
    let Some(report) = &incident.report else {
        return Err(PrintError::NoReport(format!("incident {id}")));
    };
    record_sheet(
        &Record {
            kind: "incident",
            title: format!("Incident report {}", incident.id),
            id: &incident.id,
            path: &report.path,
            expected_sha: Some(&report.sha256),
            head_label: "Audit head at close",
            head: &report.audit_head,
        },
        paper,
    )
}

/// A drill's report.
pub fn drill_sheet(ws: &Workspace, id: &str, paper: Paper) -> Result<Sheet, PrintError> {
    let reg = ws.registry()?;
    let record = reg
        .drills
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| PrintError::NoDrill(id.to_string()))?;
    let md = record
        .report
        .clone()
        .ok_or_else(|| PrintError::NoReport(format!("drill {id}")))?;
    let json_path = md.with_extension("json");
    let bytes = fsutil::read_limited(&json_path, MAX_RECORD)?;
    let report: crate::drill::run::DrillReport =
        serde_json::from_slice(&bytes).map_err(|e| PrintError::BadRecord {
            path: json_path.clone(),
            reason: format!("not a drill report ({e})"),
        })?;
    let expected = fsutil::sha256_hex(crate::drill::run::render_markdown(&report).as_bytes());
    record_sheet(
        &Record {
            kind: "drill",
            title: format!("Drill report {id}"),
            id,
            path: &md,
            expected_sha: Some(&expected),
            head_label: "Sandbox audit head at the end",
            head: &report.sandbox_audit_head,
        },
        paper,
    )
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The first free `<dir>/<stem>.<ext>`, `-2.<ext>`, `-3.<ext>`…
fn free_path_ext(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut n = 1;
    loop {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = dir.join(name);
        if path.symlink_metadata().is_err() {
            return path;
        }
        n += 1;
    }
}

/// Writes a guardian share's QR code as a PNG image, for a share whose QR
/// does not fit the terminal (CLARIFICATIONS 19): the same payload as the
/// share card's QR (the sealed line, upper case), at the next free
/// `<workspace>/printed/share-SET-K-NAME.qr.png`, through the same audited
/// transaction as a sheet (event `PRINT`, sheet `share-qr`): written
/// unnamed, mode 0600, read back and compared, never over a file. The line
/// is the share sealed under its guardian's passphrase; nothing else is in
/// the image.
pub fn share_qr_png(ws: &Workspace, share_file: &Path) -> Result<Printed, PrintError> {
    let share = ShareFile::load(share_file)?;
    share.validate("the share")?;
    let payload = share.printed()?.to_ascii_uppercase();
    let png = png::qr(payload.as_bytes(), qrcode::EcLevel::M).map_err(PrintError::Qr)?;
    let stem = format!(
        "share-{}-{}-{}.qr",
        share.short_set(),
        share.index,
        file_safe(&share.guardian)
    );
    let subject = format!(
        "{} #{} of set {}",
        share.guardian,
        share.index,
        share.short_set()
    );
    write(
        ws,
        None,
        Output {
            kind: "share-qr",
            subject,
            stem: &stem,
            ext: "png",
            bytes: &png,
            detail: ("format", "png"),
            pages: None,
            qr_payloads: vec![payload],
        },
    )
}

/// One printed file, as [`write`] publishes it.
struct Output<'a> {
    /// The sheet kind (the audit entry's `sheet`).
    kind: &'static str,
    /// What it is about.
    subject: String,
    /// The default file name, without directory or extension.
    stem: &'a str,
    /// `pdf` or `png`.
    ext: &'static str,
    /// The file's bytes.
    bytes: &'a [u8],
    /// The audit entry's last detail: the paper of a sheet, the format of
    /// an image.
    detail: (&'static str, &'static str),
    /// A sheet's pages (recorded at the commit); an image has none.
    pages: Option<usize>,
    /// What its QR codes encode.
    qr_payloads: Vec<String>,
}

/// Writes `file` under `out` (never over a file) or the next free name in
/// `<workspace>/printed/`, through one audited transaction: written
/// unnamed, mode 0600, read back and compared before it is published.
fn write(ws: &Workspace, out: Option<&Path>, file: Output<'_>) -> Result<Printed, PrintError> {
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => free_path_ext(&ws.subdir(DIR)?, file.stem, file.ext),
    };
    let (key, value) = file.detail;
    let mut details = json!({ "sheet": file.kind, "subject": file.subject, "file": path });
    details[key] = json!(value);
    let mut tx = ws.begin(EVENT, details)?;
    let bytes = file.bytes;
    let sha = match tx.write_output(&path, bytes, |read| {
        if read == bytes {
            Ok(())
        } else {
            Err(format!(
                "the {} read back differs from what was written",
                file.ext.to_ascii_uppercase()
            ))
        }
    }) {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(PrintError::from(e))),
    };
    let pages = file.pages;
    tx.commit(
        |_| Ok::<_, PrintError>(()),
        |_| match pages {
            Some(pages) => json!({ "fileSha256": sha, "pages": pages }),
            None => json!({ "fileSha256": sha }),
        },
    )?;
    Ok(Printed {
        kind: file.kind,
        subject: file.subject,
        path,
        sha256: sha,
        pages: pages.unwrap_or(1),
        qr_payloads: file.qr_payloads,
    })
}

/// Which sheet to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A share card from a share file or a file holding a printed line.
    Share(PathBuf),
    /// The recovery key's public half.
    RecoveryKey(PathBuf),
    /// The workspace keys.
    Keys,
    /// A ceremony record (the last completed one when `None`).
    Ceremony(Option<String>),
    /// An incident report.
    Incident(String),
    /// A drill report.
    Drill(String),
}

/// Builds the sheet for `what`.
pub fn sheet(ws: &Workspace, what: &What, paper: Paper) -> Result<Sheet, PrintError> {
    match what {
        What::Share(p) => share_sheet(&ShareFile::load(p)?, paper),
        What::RecoveryKey(p) => recovery_key_sheet(p, paper),
        What::Keys => keys_sheet(ws, paper),
        What::Ceremony(id) => ceremony_sheet(ws, id.as_deref(), paper),
        What::Incident(id) => incident_sheet(ws, id, paper),
        What::Drill(id) => drill_sheet(ws, id, paper),
    }
}

/// Builds and writes the sheet for `what`.
pub fn print(
    ws: &Workspace,
    what: &What,
    paper: Paper,
    out: Option<&Path>,
) -> Result<Printed, PrintError> {
    let s = sheet(ws, what, paper)?;
    write(
        ws,
        out,
        Output {
            kind: s.kind,
            subject: s.subject,
            stem: &s.file_stem,
            ext: "pdf",
            bytes: &s.pdf,
            detail: ("paper", paper.name()),
            pages: Some(s.pages),
            qr_payloads: s.qr_payloads,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_whose_text_looks_like_a_secret_is_refused() {
        for secret in [
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
        ] {
            let mut w = Writer::new(Paper::A4, "t");
            w.para("a record");
            w.mono(8.5, secret);
            assert!(matches!(
                w.finish("incident", "x".into(), "x".into(), "t"),
                Err(PrintError::LooksSecret("incident"))
            ));
            let mut w = Writer::new(Paper::A4, "t");
            w.qr(secret, qrcode::EcLevel::L, 200.0, false).unwrap();
            assert!(w.finish("share", "x".into(), "x".into(), "t").is_err());
        }
        // A 64-hex audit head is public and prints.
        let mut w = Writer::new(Paper::A4, "t");
        w.big_hash("head", &"ab".repeat(32));
        assert!(w.finish("keys", "x".into(), "x".into(), "t").is_ok());
    }

    #[test]
    fn share_rows_number_their_first_group() {
        let line = "custodianshare1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq";
        let rows = share_rows(line);
        assert_eq!(rows[0].0, 1);
        assert_eq!(rows[1].0, 1 + GROUPS_PER_ROW);
        assert_eq!(rows[0].1.split(' ').count(), GROUPS_PER_ROW);
    }
}
