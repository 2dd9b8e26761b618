//! `custodian incident list|show|close`: the incident records the console's
//! scenario screens keep, from the command line (for reports, scripts, and
//! closing an incident on a machine without a full-screen terminal).

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json, warn};
use custodian_core::playbook::Playbook;
use custodian_core::playbook::incident::{self, Incident};

/// Incident subcommands.
#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// List every incident in the workspace, oldest first.
    List,
    /// Show one incident: steps done, who did them, files produced.
    Show {
        /// The incident id (`INC-…`).
        id: String,
    },
    /// Close an incident and write its Markdown report.
    Close {
        /// The incident id (`INC-…`).
        id: String,
        /// Who closes it.
        #[arg(long)]
        operator: String,
        /// An approver of the close. Where the workspace policy is "authenticated approvals"
        /// (at least two needed), each is a registered custodian who opens their own
        /// identity: their passphrases are asked first, in --approver order.
        #[arg(long = "approver", value_name = "NAME")]
        approvers: Vec<String>,
        /// An approver without a custodian identity (legal, say): a typed name, marked as
        /// such in the audit log and the report; it does not count towards authenticated
        /// approvals.
        #[arg(long = "typed-approver", value_name = "NAME")]
        typed_approvers: Vec<String>,
        #[command(flatten)]
        time: super::ConfirmTimeArgs,
        #[command(flatten)]
        pass: super::PassphraseArgs,
    },
}

fn progress(inc: &Incident) -> String {
    let (done, total) = inc.progress();
    format!("{done}/{total}")
}

fn state(inc: &Incident) -> &'static str {
    if inc.is_closed() { "closed" } else { "open" }
}

/// Runs an incident subcommand.
pub fn run(ctx: &Ctx, cmd: IncidentCmd) -> CmdResult {
    match cmd {
        IncidentCmd::List => {
            let ws = ctx.existing_workspace()?;
            let all = incident::list(&ws)?;
            let mut json_out = Vec::new();
            for item in all {
                match item {
                    Ok(inc) => {
                        if ctx.json {
                            json_out.push(json!({
                                "id": inc.id, "scenario": inc.scenario, "startedAt": inc.started_at,
                                "state": state(&inc), "stepsDone": inc.steps.len(),
                                "closedAt": inc.closed_at,
                            }));
                        } else {
                            say(format!(
                                "{}  scenario {}  {}  {:<6}  {} steps  {}",
                                inc.id,
                                inc.scenario,
                                inc.started_at,
                                state(&inc),
                                progress(&inc),
                                inc.scenario_title
                            ));
                        }
                    }
                    Err(e) => warn(e.to_string()),
                }
            }
            if ctx.json {
                say_json(&serde_json::Value::Array(json_out));
            }
            Ok(())
        }
        IncidentCmd::Show { id } => {
            let ws = ctx.existing_workspace()?;
            let inc = incident::load(&ws, &id)?;
            if ctx.json {
                say_json(&serde_json::to_value(&inc).unwrap_or_default());
                return Ok(());
            }
            say(format!("incident:  {}", inc.id));
            say(format!(
                "scenario:  {} — {}",
                inc.scenario, inc.scenario_title
            ));
            say(format!("state:     {}", state(&inc)));
            say(format!("opened:    {}", inc.started_at));
            if let Some(a) = &inc.affected {
                say(format!("concerns:  {a}"));
            }
            say(format!("operators: {}", inc.operators.join(", ")));
            say(format!("steps:     {} done", progress(&inc)));
            for s in &inc.steps {
                say(format!(
                    "  {}  {}  by {} ({})",
                    s.completed_at,
                    s.step,
                    s.operator,
                    s.how.describe()
                ));
                if !s.out_of_order.is_empty() {
                    say(format!(
                        "      confirmed out of order (not done then: {})",
                        s.out_of_order.join(", ")
                    ));
                }
                if let Some(n) = &s.notes {
                    say(format!("      notes: {n}"));
                }
                for f in &s.files {
                    say(format!("      {}  {}", f.sha256, f.path.display()));
                }
            }
            for r in &inc.reopened {
                say(format!(
                    "  {}  {} reopened by {}: {} (it was confirmed by {} at {})",
                    r.reopened_at,
                    r.record.step,
                    r.reopened_by,
                    r.reason,
                    r.record.operator,
                    r.record.completed_at
                ));
            }
            if let Some(r) = &inc.report {
                say(format!("report:    {}", r.path.display()));
                say(format!("audit head named in the report: {}", r.audit_head));
            }
            Ok(())
        }
        IncidentCmd::Close {
            id,
            operator,
            approvers,
            typed_approvers,
            time,
            pass,
        } => {
            let ws = ctx.workspace()?;
            // A wrong id or a closed incident fails before anyone is asked anything.
            if incident::load(&ws, &id)?.is_closed() {
                return Err(custodian_core::playbook::PlaybookError::IncidentClosed(id).into());
            }
            // The approvers open their identities before the close starts.
            let approvals =
                super::gather_approvals(&ws, &mut pass.prompter(), &approvers, &typed_approvers)?;
            custodian_core::approvals::check(
                custodian_core::approvals::policy(&ws.registry()?),
                &approvals,
            )?;
            super::confirm_clock(&ws, time, "incident close")?;
            let inc =
                incident::close_approved(&ws, Playbook::builtin(), &id, &operator, &approvals)?;
            if let Some(r) = &inc.report {
                if ctx.json {
                    say_json(&json!({
                        "id": inc.id, "report": r.path, "reportSha256": r.sha256,
                        "auditHead": r.audit_head,
                    }));
                } else {
                    say(format!(
                        "closed {}; report written to {}",
                        inc.id,
                        r.path.display()
                    ));
                    say(format!("audit head: {}", r.audit_head));
                    for a in &inc.close_approvals {
                        say(format!("approved by {}", a.describe()));
                    }
                    say(
                        "Write the audit head down; `custodian audit verify --expect-head HASH` checks it later.",
                    );
                }
            }
            Ok(())
        }
    }
}
