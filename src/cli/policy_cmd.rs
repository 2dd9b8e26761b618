//! `custodian policy show|set`: the workspace policy. Today one setting:
//! `approvals` — `authenticated` (each approver opens their own registered
//! identity; the default for new workspaces) or `typed` (names only; what
//! workspaces created before the setting keep until it is set). Setting it
//! is audited (`POLICY_SET`, old and new value). See
//! [`custodian_core::approvals`].

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json};
use custodian_core::approvals::{self, ApprovalPolicy};

/// Policy subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Show the policy in force.
    Show,
    /// Change a setting (audited).
    Set {
        /// The setting.
        setting: Setting,
        /// Its new value.
        value: Value,
        /// Who decided it (recorded in the audit log).
        #[arg(long, value_name = "NAME")]
        operator: Option<String>,
    },
}

/// Settings `policy set` knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Setting {
    /// Who may approve a recovery, an override or an incident close.
    Approvals,
}

/// Values of the `approvals` setting.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Value {
    /// Each approver opens their own registered identity.
    Authenticated,
    /// Typed names.
    Typed,
}

/// Runs a policy subcommand.
pub fn run(ctx: &Ctx, cmd: PolicyCmd) -> CmdResult {
    match cmd {
        PolicyCmd::Show => {
            let ws = ctx.existing_workspace()?;
            let reg = ws.registry()?;
            let p = approvals::policy(&reg);
            if ctx.json {
                say_json(
                    &json!({ "approvals": p.as_str(), "explicit": reg.policy.approvals.is_some() }),
                );
            } else {
                say(format!(
                    "approvals: {}{}",
                    p.as_str(),
                    if reg.policy.approvals.is_none() {
                        " (not set: a workspace created before the setting existed)"
                    } else {
                        ""
                    }
                ));
            }
            Ok(())
        }
        PolicyCmd::Set {
            setting: Setting::Approvals,
            value,
            operator,
        } => {
            let new = match value {
                Value::Authenticated => ApprovalPolicy::Authenticated,
                Value::Typed => ApprovalPolicy::Typed,
            };
            let ws = ctx.writing_workspace()?;
            let old = approvals::set_policy(&ws, new, operator.as_deref())?;
            if ctx.json {
                say_json(
                    &json!({ "approvals": new.as_str(), "previous": old.map(ApprovalPolicy::as_str) }),
                );
            } else {
                say(format!(
                    "approvals: {} (was {}); recorded in the audit log as POLICY_SET",
                    new.as_str(),
                    old.map(ApprovalPolicy::as_str).unwrap_or("not set")
                ));
            }
            Ok(())
        }
    }
}
