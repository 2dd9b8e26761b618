//! `custodian check [--json]`: every local check the threat and checklist
//! screens make, from the same core function ([`checks::run_all`]), as a
//! table or one JSON document. Exit 0 when nothing fails, 1 when anything
//! does ("could not tell" is not a failure). It only reads: a missing
//! workspace is an error, never created.

use clap::Args;
use serde_json::json;

use super::{CmdResult, Ctx, Failure, say, say_json};
use custodian_core::error::Report;
use custodian_core::playbook::checks::{self, CheckStatus};

/// Arguments of `custodian check` (only the global `--json`).
#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Runs `custodian check`.
pub fn run(ctx: &Ctx, _args: CheckArgs) -> CmdResult {
    let ws = ctx.existing_workspace()?;
    let reg = ws.registry()?;
    let results = checks::run_all(
        &ws,
        &reg,
        custodian_core::clock::now(),
        &custodian_core::netcheck::live_interfaces(),
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
