//! `custodian audit show|verify`.

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json};
use custodian_core::audit::GENESIS;
use custodian_core::error::Explain;

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

/// A recorded head hash that the (intact) chain does not contain.
#[derive(Debug, thiserror::Error)]
#[error(
    "the recorded audit hash {expected} is not in the audit log ({entries} entries, head {head})"
)]
struct RecordedHeadMissing {
    expected: String,
    entries: u64,
    head: String,
}

impl Explain for RecordedHeadMissing {
    fn remedy(&self) -> Option<String> {
        Some("check the hash was copied correctly; if it was, treat this as a security incident: keep this copy as evidence, compare with backups, and tell your security officer".into())
    }
}

/// Runs an audit subcommand.
pub fn run(ctx: &Ctx, cmd: AuditCmd) -> CmdResult {
    let log = ctx.workspace()?.audit();
    match cmd {
        AuditCmd::Show { event, key_id } => {
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
            let status = log.verify()?;
            // The chain verified, so an entry found by its hash has every
            // entry before it unchanged.
            let recorded = match &expect_head {
                None => None,
                Some(h) if h == GENESIS => Some(0),
                Some(h) => match log.entries()?.iter().find(|e| &e.hash == h) {
                    Some(e) => Some(e.seq),
                    None => {
                        return Err(RecordedHeadMissing {
                            expected: h.clone(),
                            entries: status.entries,
                            head: status.head,
                        }
                        .into());
                    }
                },
            };
            if ctx.json {
                let mut out = json!({ "ok": true, "entries": status.entries, "head": status.head });
                if let (Some(h), Some(seq)) = (&expect_head, recorded) {
                    out["recordedHead"] =
                        json!({ "hash": h, "seq": seq, "appendedAfter": status.entries - seq });
                }
                say_json(&out);
            } else {
                say(format!("audit log intact: {} entries", status.entries));
                say(format!("head: {}", status.head));
                if let Some(seq) = recorded {
                    say(format!(
                        "recorded head found: entry {seq}, unchanged with everything before it; {} appended since",
                        custodian_core::text::count(status.entries - seq, "entry", "entries")
                    ));
                }
            }
            Ok(())
        }
    }
}
