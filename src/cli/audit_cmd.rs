//! `custodian audit show|verify`.

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json, warn};
use custodian_core::audit::TornTail;

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
        /// Also prove that the entry with this previously recorded hash (a
        /// head written on a report or ceremony record) is still in the
        /// chain, with everything before it unchanged. Entries appended after
        /// it are normal.
        #[arg(long, value_name = "HASH", value_parser = audit_hash)]
        expect_head: Option<String>,
    },
}

/// Parses a recorded audit hash: exactly 64 hexadecimal digits (any case).
/// Anything else is a usage error, never a tampering alarm.
fn audit_hash(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!(
            "an audit hash is 64 hexadecimal digits (as `audit verify` prints after \"head:\"), not {} characters",
            text.chars().count()
        ))
    }
}

/// Runs an audit subcommand.
pub fn run(ctx: &Ctx, cmd: AuditCmd) -> CmdResult {
    let ws = ctx.existing_workspace()?;
    // Reading never repairs; it only says that a repair is waiting.
    let pending = ws.pending_repair();
    if pending > 0 {
        super::warn(format!(
            "{pending} interrupted operation(s) or temporary file(s) are waiting for repair; the next command that writes (or the console) repairs them"
        ));
    }
    let log = ws.audit();
    match cmd {
        AuditCmd::Show { event, key_id } => {
            if let Some(torn) = log.pending_repair()? {
                warn(pending_text(&torn));
            }
            for e in log.entries()? {
                if !e.matches(event.as_deref(), key_id.as_deref()) {
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
