//! `custodian check [--json]`: every local check the threat and checklist
//! screens make, from the same core function ([`checks::run_all`]), as a
//! table or one JSON document. Exit 0 when nothing fails, 1 when anything
//! does ("could not tell" is not a failure). It only reads: a missing
//! workspace is an error, never created.
//!
//! `custodian check --accept-binary [--reviewed-sha256 HASH]` is the one
//! writing form: after the team compared the running binary's hash with its
//! reviewed one, it makes that binary the workspace's accepted one (audited
//! `BINARY_ACCEPTED`, old and new hash). With `--reviewed-sha256` the
//! comparison is made here too: a different hash accepts nothing.

use clap::Args;
use serde_json::json;

use super::{CmdResult, Ctx, Failure, say, say_json};
use custodian_core::binary::{self, Accepted};
use custodian_core::error::Report;
use custodian_core::playbook::checks::{self, CheckStatus};

/// Arguments of `custodian check` (and the global `--json`).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Accept the running binary as the workspace's binary, after comparing
    /// its SHA-256 (`custodian --version --verbose`) with the team's reviewed
    /// hash. Audited with the old and the new hash.
    #[arg(long)]
    pub accept_binary: bool,
    /// With --accept-binary: the team's reviewed SHA-256; nothing is accepted
    /// unless the running binary has exactly this hash.
    #[arg(long, value_name = "SHA256", requires = "accept_binary")]
    pub reviewed_sha256: Option<String>,
    /// Set the workspace's hardware-token policy (threat 3): with `required`, a custodian
    /// whose identity opens with a passphrase alone fails the check; `advised` (the
    /// default) reports them. Audited as TOKEN_POLICY_SET.
    #[arg(long, value_name = "POLICY", value_parser = ["advised", "required"], conflicts_with = "accept_binary")]
    pub token_policy: Option<String>,
}

/// Runs `custodian check`.
pub fn run(ctx: &Ctx, args: CheckArgs) -> CmdResult {
    if args.accept_binary {
        return accept_binary(ctx, args.reviewed_sha256.as_deref());
    }
    if let Some(policy) = args.token_policy.as_deref() {
        let policy = if policy == "required" {
            custodian_core::token::TokenPolicy::Required
        } else {
            custodian_core::token::TokenPolicy::Advised
        };
        let ws = ctx.writing_workspace()?;
        let previous = custodian_core::token::set_policy(&ws, policy)?;
        if ctx.json {
            say_json(&json!({ "tokenPolicy": policy.as_str(), "previous": previous.as_str() }));
        } else {
            say(format!(
                "hardware-token policy: {} (was {}); recorded in the audit log as TOKEN_POLICY_SET",
                policy.as_str(),
                previous.as_str()
            ));
        }
        return Ok(());
    }
    let ws = ctx.existing_workspace()?;
    let reg = ws.registry()?;
    let results = checks::run_all(
        &ws,
        &reg,
        custodian_core::clock::now(),
        &custodian_core::netcheck::live_interfaces(),
        &super::running_binary(),
    );
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.status == CheckStatus::Fail)
        .map(|r| r.id.as_str())
        .collect();
    if ctx.json {
        say_json(&json!({
            "ok": failed.is_empty(),
            "workspace": ws.root(),
            "checks": results.iter().map(|r| json!({
                "id": r.id.as_str(),
                "title": r.id.title(),
                "status": r.status.as_str(),
                "findings": r.findings,
            })).collect::<Vec<_>>(),
        }));
    } else {
        for r in &results {
            let mark = match r.status {
                CheckStatus::Pass => "PASS",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Unknown => " ?  ",
            };
            say(format!("{mark}  {}", r.id.title()));
            for f in &r.findings {
                say(format!("      {f}"));
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(Failure {
        report: Report {
            message: format!(
                "{} of {} checks failed: {}",
                failed.len(),
                results.len(),
                failed.join(", ")
            ),
            causes: Vec::new(),
            remedy: Some(
                "fix what the findings above name, then run `custodian check` again".into(),
            ),
        },
        code: 1,
    })
}

/// `custodian check --accept-binary`: the running binary becomes the
/// accepted one (see the module docs).
fn accept_binary(ctx: &Ctx, reviewed: Option<&str>) -> CmdResult {
    // A malformed hash is a usage error, found before anything is opened.
    if let Some(h) = reviewed {
        binary::parse_sha256(h).map_err(|e| Failure {
            report: Report::from_error(&e),
            code: 2,
        })?;
    }
    let running = super::running_binary().map_err(|e| Failure {
        report: Report {
            message: format!("could not hash the running binary: {e}"),
            causes: Vec::new(),
            remedy: Some("check that /proc is mounted and the executable is readable".into()),
        },
        code: 1,
    })?;
    let ws = ctx.writing_workspace()?;
    let done = binary::accept(&ws, &running, reviewed)?;
    let (record, previous, changed) = match done {
        Accepted::Recorded { record, previous } => (record, previous, true),
        Accepted::Unchanged(record) | Accepted::Kept(record) => (record, None, false),
    };
    if ctx.json {
        say_json(&json!({
            "accepted": true,
            "changed": changed,
            "sha256": record.sha256,
            "previous": previous,
            "version": record.version,
            "commit": record.commit,
        }));
    } else if changed {
        say(format!("accepted this binary: sha256 {}", record.sha256));
        match previous {
            Some(p) => say(format!("it replaces:          sha256 {p}")),
            None => say("no binary was accepted before"),
        }
        say("recorded in the audit log as BINARY_ACCEPTED");
    } else {
        say(format!(
            "this binary is already the accepted one: sha256 {}",
            record.sha256
        ));
    }
    Ok(())
}
