//! `custodian audit show|verify`.

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json};
use custodian_core::audit::{AuditError, Entry};

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
        /// Fail unless the head equals this previously recorded hash.
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
    let ws = ctx.workspace()?;
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
            let status = log.verify()?;
            if let Some(expected) = expect_head.filter(|e| !e.eq_ignore_ascii_case(&status.head)) {
                return Err(AuditError::HeadMismatch {
                    expected,
                    actual: status.head,
                }
                .into());
            }
            if ctx.json {
                say_json(&json!({ "ok": true, "entries": status.entries, "head": status.head }));
            } else {
                say(format!("audit log intact: {} entries", status.entries));
                say(format!("head: {}", status.head));
            }
            Ok(())
        }
    }
}
