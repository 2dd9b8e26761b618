//! `custodian custodians list [--all]`: who holds keys now, and (with
//! `--all`) every identity that was rotated or retired, with its dates and
//! successor. It only reads.

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json};
use custodian_core::lifecycle::{self, CustodianStatus};

/// Custodian subcommands.
#[derive(Debug, Subcommand)]
pub enum CustodiansCmd {
    /// List the active custodians (with --all, past identities too).
    List {
        /// Also list rotated and retired identities.
        #[arg(long)]
        all: bool,
    },
    /// Confirm that a copy a rotation or retirement could not move (listed by
    /// `custodian check`) was destroyed; audited with the operator's name.
    ConfirmDestroyed {
        /// The copy, exactly as listed.
        path: std::path::PathBuf,
        /// Who destroyed it.
        #[arg(long)]
        operator: String,
    },
}

/// Runs a custodians subcommand.
pub fn run(ctx: &Ctx, cmd: CustodiansCmd) -> CmdResult {
    let all = match cmd {
        CustodiansCmd::List { all } => all,
        CustodiansCmd::ConfirmDestroyed { path, operator } => {
            let ws = ctx.writing_workspace()?;
            lifecycle::confirm_destroyed(&ws, &path, operator.trim())?;
            say(format!(
                "recorded: {} destroyed (confirmed by {})",
                path.display(),
                operator.trim()
            ));
            return Ok(());
        }
    };
    let ws = ctx.existing_workspace()?;
    let reg = ws.registry()?;
    let roster: Vec<_> = lifecycle::roster(&reg)
        .into_iter()
        .filter(|e| all || e.status == CustodianStatus::Active)
        .collect();
    if ctx.json {
        say_json(&json!(
            roster
                .iter()
                .map(|e| json!({
                    "name": e.name, "recipient": e.recipient, "fingerprint": e.fingerprint,
                    "status": e.status.as_str(), "since": e.since,
                    "rotationDue": (e.status == CustodianStatus::Active).then_some(&e.until),
                    "endedAt": (e.status != CustodianStatus::Active).then_some(&e.until),
                    "successor": e.successor.as_ref().map(|s| json!({"name": s.name, "recipient": s.recipient})),
                }))
                .collect::<Vec<_>>()
        ));
        return Ok(());
    }
    for e in &roster {
        match (&e.status, &e.successor) {
            (CustodianStatus::Active, _) => say(format!(
                "active   {:<20} {}  since {}  rotation due {}",
                e.name, e.fingerprint, e.since, e.until
            )),
            (status, Some(s)) => say(format!(
                "{:<8} {:<20} {}  {} – {}  successor {} ({})",
                status.as_str(),
                e.name,
                e.fingerprint,
                e.since,
                e.until,
                s.name,
                custodian_core::identity::fingerprint(&s.recipient)
            )),
            (status, None) => say(format!("{:<8} {}", status.as_str(), e.name)),
        }
    }
    let retired = lifecycle::retired_count(&reg);
    if !all && retired > 0 {
        say(format!(
            "({}; --all lists them)",
            custodian_core::text::count(retired as u64, "retired custodian", "retired custodians")
        ));
    }
    Ok(())
}
