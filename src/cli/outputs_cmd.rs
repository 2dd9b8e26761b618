//! `custodian outputs [list|destroy FILE|destroyed-elsewhere FILE --operator NAME]`:
//! the plaintext outputs this workspace wrote (derived key shares, plain
//! key exports, opened envelopes), and their destruction. See
//! [`custodian_core::outputs`].

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json, warn};
use custodian_core::outputs::{self, FLASH_CAVEAT, PlaintextOutput};

/// Outputs subcommands; without one, the list.
#[derive(Debug, Subcommand)]
pub enum OutputsCmd {
    /// List every recorded plaintext output (with --json: one document).
    List,
    /// Overwrite a recorded output with one pass of random bytes, fsync it
    /// and remove it; audited.
    Destroy {
        /// The output file, as `custodian outputs` lists it.
        file: PathBuf,
    },
    /// Record that a named operator destroyed an output by other means; audited.
    DestroyedElsewhere {
        /// The output file, as `custodian outputs` lists it.
        file: PathBuf,
        /// Who destroyed it.
        #[arg(long, value_name = "NAME")]
        operator: String,
    },
}

fn to_json(o: &PlaintextOutput, now: time::OffsetDateTime) -> serde_json::Value {
    json!({
        "path": o.path, "kind": o.kind, "size": o.size, "sha256": o.sha256,
        "createdAt": o.created_at, "op": o.op, "destroyed": o.destroyed,
        "overdue": o.is_stale(now),
    })
}

/// Runs `custodian outputs`.
pub fn run(ctx: &Ctx, cmd: Option<OutputsCmd>) -> CmdResult {
    match cmd.unwrap_or(OutputsCmd::List) {
        OutputsCmd::List => {
            let ws = ctx.existing_workspace()?;
            let reg = ws.registry()?;
            let now = custodian_core::clock::now();
            if ctx.json {
                say_json(&serde_json::Value::Array(
                    reg.plaintext_outputs
                        .iter()
                        .map(|o| to_json(o, now))
                        .collect(),
                ));
                return Ok(());
            }
            if reg.plaintext_outputs.is_empty() {
                say("no plaintext outputs recorded");
                return Ok(());
            }
            for o in &reg.plaintext_outputs {
                let state = match &o.destroyed {
                    Some(d) => match &d.operator {
                        Some(op) => format!("destroyed elsewhere ({op}, {})", d.at),
                        None => format!("destroyed ({})", d.at),
                    },
                    None if o.is_stale(now) => "NOT DESTROYED, older than a day".into(),
                    None => "not destroyed".into(),
                };
                say(format!("{}  {state}", o.path.display()));
                say(format!(
                    "    {}, {} bytes, sha256 {}, written {}",
                    o.kind.label(),
                    o.size,
                    o.sha256,
                    o.created_at
                ));
            }
            Ok(())
        }
        OutputsCmd::Destroy { file } => {
            let ws = ctx.writing_workspace()?;
            let done = outputs::destroy(&ws, &file)?;
            if ctx.json {
                say_json(
                    &json!({ "destroyed": to_json(&done, custodian_core::clock::now()), "caveat": FLASH_CAVEAT }),
                );
            } else {
                say(format!(
                    "destroyed {}: overwritten with one pass of random bytes, fsynced and removed; recorded in the audit log",
                    done.path.display()
                ));
            }
            warn(FLASH_CAVEAT);
            Ok(())
        }
        OutputsCmd::DestroyedElsewhere { file, operator } => {
            let ws = ctx.writing_workspace()?;
            let done = outputs::destroyed_elsewhere(&ws, &file, &operator)?;
            if ctx.json {
                say_json(&json!({ "destroyed": to_json(&done, custodian_core::clock::now()) }));
            } else {
                say(format!(
                    "recorded: {} destroyed elsewhere by {}",
                    done.path.display(),
                    operator.trim()
                ));
            }
            Ok(())
        }
    }
}
