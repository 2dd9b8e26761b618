//! The drill card: the sandbox's synthetic passphrases on one page, so the
//! drill's scenarios can be walked by hand afterwards.
//!
//! A drill generates every passphrase itself (custodians, guardians, the
//! recovery key) and holds them in memory; without them, a hand walk of the
//! sandbox stops at the first passphrase prompt. The card is written only
//! into a workspace whose registry says `sandbox` (never the real one), is
//! marked DRILL at the top and on every section, and goes away with the
//! sandbox. It is one of the plaintext outputs the transaction rules do not
//! cover (CLARIFICATIONS 5): the material it opens is synthetic.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::fsutil;
use crate::workspace::Workspace;

/// The card's file name, in the sandbox's root.
pub const FILE: &str = "DRILL-CARD.md";
/// Largest card read back.
const MAX_CARD: u64 = 1 << 20;

/// Why the card could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The workspace is not a drill sandbox: a card is never written to, or
    /// read from, a real workspace.
    #[error("{} is not a drill sandbox; drill cards exist only in sandboxes", .0.display())]
    NotSandbox(PathBuf),
    /// This sandbox has no card (made before cards existed, or removed).
    #[error("this sandbox has no drill card ({})", .0.display())]
    Missing(PathBuf),
    /// Writing or reading failed.
    #[error(transparent)]
    File(#[from] fsutil::FsError),
    /// The sandbox's audit log could not be written.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// The sandbox's registry could not record the card.
    #[error(transparent)]
    Registry(#[from] crate::workspace::WorkspaceError),
}

impl crate::error::Explain for CardError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            CardError::NotSandbox(_) => "open the drill sandbox (D, then o) to see its card".into(),
            CardError::Missing(_) => {
                "run a new drill (D); it writes a card into its sandbox".into()
            }
            CardError::File(e) => return e.remedy_for(to),
            CardError::Audit(e) => return e.remedy_for(to),
            CardError::Registry(e) => return e.remedy_for(to),
        })
    }
}

/// One line of the card: who, which file, which passphrase.
pub struct CardEntry<'a> {
    /// Custodian, guardian or key.
    pub who: String,
    /// The file the passphrase opens.
    pub file: &'a Path,
    /// The passphrase.
    pub passphrase: &'a SecretString,
}

/// What the card lists.
pub struct CardContent<'a> {
    /// The drill id.
    pub drill: &'a str,
    /// The synthetic custodians' identities.
    pub custodians: Vec<CardEntry<'a>>,
    /// Every guardian share.
    pub guardians: Vec<CardEntry<'a>>,
    /// The DR kit's recovery private key.
    pub recovery_key: Option<CardEntry<'a>>,
    /// The synthetic vendor kit.
    pub kit: Option<&'a Path>,
    /// The drill key's id and shard files.
    pub key_id: &'a str,
    /// Shard files, by custodian.
    pub shards: Vec<(String, &'a Path)>,
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The card's Markdown.
pub fn render(ws: &Workspace, c: &CardContent<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# DRILL CARD — {} — synthetic material only\n",
        c.drill
    );
    let _ = writeln!(
        out,
        "> DRILL. These passphrases open only the synthetic material in the sandbox \
         `{}`. They are not real passphrases and must never be used as one. The card \
         goes away with the sandbox.\n",
        ws.root().display()
    );
    let _ = writeln!(
        out,
        "The drill ran every scenario once; files it replaced along the way are kept. \
         Walk a scenario by hand with the passphrases below (a new identity you create \
         gets a passphrase you choose).\n"
    );
    let table = |out: &mut String, title: &str, rows: &[CardEntry<'_>]| {
        let _ = writeln!(out, "## DRILL — {title}\n");
        let _ = writeln!(out, "| Who | File | Passphrase |\n|---|---|---|");
        for r in rows {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` |",
                md(&r.who),
                md(&r.file.display().to_string()),
                r.passphrase.expose_secret()
            );
        }
        let _ = writeln!(out);
    };
    table(&mut out, "custodian identities", &c.custodians);
    table(&mut out, "guardian shares", &c.guardians);
    if let Some(k) = &c.recovery_key {
        table(
            &mut out,
            "vendor DR kit recovery key",
            std::slice::from_ref(k),
        );
    }
    let _ = writeln!(out, "## DRILL — files without a passphrase\n");
    let _ = writeln!(out, "- drill key `{}`", md(c.key_id));
    for (who, f) in &c.shards {
        let _ = writeln!(out, "  - shard of {}: {}", md(who), f.display());
    }
    if let Some(k) = c.kit {
        let _ = writeln!(out, "- synthetic vendor kit: {}", k.display());
    }
    out
}

/// Where a sandbox keeps its card, if `ws` is a sandbox.
pub fn path(ws: &Workspace) -> Result<PathBuf, CardError> {
    if !ws.is_sandbox() {
        return Err(CardError::NotSandbox(ws.root().to_path_buf()));
    }
    Ok(ws.root().join(FILE))
}

/// Writes the card into sandbox `ws` (0600, never over a file, read back)
/// as one transaction audited in the sandbox as `DRILL_CARD` (its path and
/// fingerprint, never its text) that also records the card as a plaintext
/// output (issue 18: listed by `custodian outputs` in the sandbox, flagged
/// after a day, destroyed on request), so the file and its record exist
/// together or not at all. Refused for a workspace that is not a sandbox.
pub fn write(ws: &Workspace, content: &CardContent<'_>) -> Result<PathBuf, CardError> {
    let path = path(ws)?;
    let text = render(ws, content);
    let mut tx = ws.begin(
        "DRILL_CARD",
        json!({ "drill": content.drill, "file": path }),
    )?;
    let staged = (|| {
        let sha = tx.write_output(&path, text.as_bytes(), |read| {
            if read == text.as_bytes() {
                Ok(())
            } else {
                Err("the drill card read back differs".into())
            }
        })?;
        tx.track_plaintext(
            &path,
            crate::outputs::OutputKind::DrillCard,
            text.len() as u64,
            &sha,
        );
        Ok::<_, CardError>(sha)
    })();
    let sha = match staged {
        Ok(sha) => sha,
        Err(e) => return Err(tx.fail_with(e)),
    };
    tx.commit(
        |_| Ok::<_, CardError>(sha),
        |sha| json!({ "fileSha256": sha }),
    )?;
    Ok(path)
}

/// The card's text, for the console walking sandbox `ws`.
pub fn read(ws: &Workspace) -> Result<String, CardError> {
    let path = path(ws)?;
    if !path.exists() {
        return Err(CardError::Missing(path));
    }
    let bytes = fsutil::read_limited(&path, MAX_CARD)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_never_written_to_or_read_from_a_real_workspace() {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        let pass = SecretString::from("drill words here".to_string());
        let f = d.path().join("x");
        let content = CardContent {
            drill: "DRILL-1",
            custodians: vec![CardEntry {
                who: "Drill Ana".into(),
                file: &f,
                passphrase: &pass,
            }],
            guardians: Vec::new(),
            recovery_key: None,
            kit: None,
            key_id: "k",
            shards: Vec::new(),
        };
        assert!(matches!(
            write(&ws, &content),
            Err(CardError::NotSandbox(_))
        ));
        assert!(!ws.root().join(FILE).exists());
        assert!(matches!(read(&ws), Err(CardError::NotSandbox(_))));

        ws.update_registry(|r| {
            r.sandbox = true;
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        assert!(matches!(read(&ws), Err(CardError::Missing(_))));
        let p = write(&ws, &content).unwrap();
        let text = read(&ws).unwrap();
        assert!(text.starts_with("# DRILL CARD"));
        assert!(text.contains("| Drill Ana |"));
        assert!(text.contains("`drill words here`"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Never over an existing card; the audit entry holds no passphrase.
        assert!(write(&ws, &content).is_err());
        let log = std::fs::read_to_string(ws.root().join("audit.jsonl")).unwrap_or_default();
        assert!(log.contains("DRILL_CARD"));
        assert!(!log.contains("drill words here"));
    }
}
