//! `custodian audit show|verify`.

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json, warn};
use custodian_core::audit::{Entry, TornTail};

/// What a reader says about a torn final line it must not repair itself.
fn pending_text(torn: &TornTail) -> String {
    format!(
        "repair pending: the log ends with a torn line ({} bytes, sha256 {}) left by a crash or \
         full disk, not tampering; the next writing command cuts it off and records the repair",
        torn.bytes, torn.sha256
    )
}

/// Audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Print the audit log, optionally filtered.
    Show {
        /// Only entries whose event contains this text (case-insensitive).
        #[arg(long)]
        event: Option<String>,
        /// Only entries about this key id.
        #[arg(long)]
        key_id: Option<String>,
    },
    /// Verify the hash chain and print the head hash.
    Verify {
        /// Fail unless the entry with this previously recorded hash is still in the chain,
        /// with everything before it unchanged (later entries are fine).
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
    },
}

/// Does an entry match the show filters?
pub fn matches(e: &Entry, event: Option<&str>, key_id: Option<&str>) -> bool {
    event.is_none_or(|ev| e.event.to_lowercase().contains(&ev.to_lowercase()))
        && key_id.is_none_or(|k| e.key_id() == Some(k))
}

/// Runs an audit subcommand.
pub fn run(ctx: &Ctx, cmd: AuditCmd) -> CmdResult {
    let log = ctx.existing_workspace()?.audit();
    match cmd {
        AuditCmd::Show { event, key_id } => {
            if let Some(torn) = log.pending_repair()? {
                warn(pending_text(&torn));
            }
            for e in log.entries()? {
                if !matches(&e, event.as_deref(), key_id.as_deref()) {
                    continue;
                }
                if ctx.json {
                    say(serde_json::to_string(&e).unwrap_or_default());
                } else {
                    say(format!(
                        "{:>5}  {}  {:<28} {:<9} {}",
                        e.seq,
                        e.time,
                        e.event,
                        e.status.as_str(),
                        e.details
                    ));
                }
            }
            Ok(())
        }
        AuditCmd::Verify { expect_head } => {
            let status = match &expect_head {
                Some(expected) => log.verify_expecting(expected)?,
                None => log.verify()?,
            };
            if ctx.json {
                let repairs: Vec<_> = status
                    .repairs
                    .iter()
                    .map(|r| {
                        json!({ "seq": r.seq, "removedBytes": r.removed.bytes,
                                "removedSha256": r.removed.sha256 })
                    })
                    .collect();
                let pending = status
                    .pending_repair
                    .as_ref()
                    .map(|t| json!({ "removedBytes": t.bytes, "removedSha256": t.sha256 }));
                say_json(&json!({
                    "ok": true,
                    "entries": status.entries,
                    "head": status.head,
                    "expectedHeadAt": status.expected_at,
                    "tailRepairs": repairs,
                    "pendingTailRepair": pending,
                }));
            } else {
                say(format!("audit log intact: {} entries", status.entries));
                say(format!("head: {}", status.head));
                if let Some(at) = status.expected_at {
                    say(format!(
                        "recorded head found at entry {at}; everything up to it is unchanged"
                    ));
                }
                for r in &status.repairs {
                    say(format!(
                        "repaired: entry {} records a torn final line cut off after a crash or full disk \
                         ({} bytes, sha256 {}); this is not tampering",
                        r.seq, r.removed.bytes, r.removed.sha256
                    ));
                }
                if let Some(torn) = &status.pending_repair {
                    say(pending_text(torn));
                }
            }
            Ok(())
        }
    }
}
