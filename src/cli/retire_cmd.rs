//! `custodian retire --custodian NAME --successor NAME2`: the retiree's
//! shards are rewrapped to the successor, their guardian sets superseded and
//! their files retired — one transaction. The concentration rule applies:
//! `--accept-concentration` when the successor would hold two or more
//! shards of a key, `--approver` (at least twice) when they would reach its
//! threshold alone. Under the workspace policy of authenticated approvals
//! each `--approver` of an override opens their own identity first; the
//! retiree's passphrase is asked after.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, warn};
use custodian_core::lifecycle::retire;
use custodian_core::shard::Concentration;

/// Arguments of `custodian retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The custodian who leaves.
    #[arg(long)]
    pub custodian: String,
    /// The active custodian who takes their shards.
    #[arg(long)]
    pub successor: String,
    /// The retiree's identity file (default: the one registered).
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// Confirm that the successor may hold two or more shards of one key.
    #[arg(long)]
    pub accept_concentration: bool,
    /// Approver of an override when the successor would reach a key's threshold (twice or
    /// more). Where the workspace policy is "authenticated approvals", each is a registered
    /// custodian who opens their own identity: their passphrases are asked first, in order.
    #[arg(long = "approver", value_name = "NAME")]
    pub approvers: Vec<String>,
    /// An override approver without a custodian identity (legal, say): a typed name, marked
    /// as such in the audit log; it does not count towards authenticated approvals.
    #[arg(long = "typed-approver", value_name = "NAME")]
    pub typed_approvers: Vec<String>,
    #[command(flatten)]
    pub pass: PassphraseArgs,
}

/// Runs `custodian retire`.
pub fn run(ctx: &Ctx, args: RetireArgs) -> CmdResult {
    let ws = ctx.writing_workspace()?;
    let plan = retire::plan(
        &ws,
        &args.custodian,
        &args.successor,
        args.identity.as_deref(),
    )?;
    for k in &plan.concentration {
        match k.verdict {
            Concentration::Spread => {}
            Concentration::Several { holds } => warn(format!(
                "{} would hold {holds} shards of key {}",
                plan.successor.name, k.key_id
            )),
            Concentration::ReachesThreshold { holds, threshold } => warn(format!(
                "{} would hold {holds} shards of key {}, which needs {threshold}: enough to rebuild it alone",
                plan.successor.name, k.key_id
            )),
        }
    }
    // Refused before any passphrase is asked; an override's approvers
    // open their identities first, and only when the override is needed.
    let names: Vec<String> = args
        .approvers
        .iter()
        .chain(&args.typed_approvers)
        .cloned()
        .collect();
    let needs_override = plan.concentration.iter().any(|k| match k.verdict {
        Concentration::Spread => false,
        Concentration::Several { .. } => !args.accept_concentration,
        Concentration::ReachesThreshold { .. } => true,
    });
    let mut prompter = args.pass.prompter();
    let (authenticated, typed) = if needs_override && !names.is_empty() {
        super::refuse_repeated_approvers(&ws, &names)?;
        custodian_core::shard::distinct_approvers(&names)?;
        super::split_approvals(super::gather_approvals(
            &ws,
            &mut prompter,
            &args.approvers,
            &args.typed_approvers,
        )?)
    } else {
        (Vec::new(), names)
    };
    retire::check_approvals(&plan, args.accept_concentration, &typed, &authenticated)?;
    let pass = prompter.existing(&format!("Passphrase of {}'s identity", plan.retiree.name))?;
    let opened = retire::open_retiree(&ws, &plan, &pass)?;
    drop(pass);
    let o = retire::retire_approved(
        &ws,
        &plan,
        &opened,
        args.accept_concentration,
        &typed,
        &authenticated,
    )?;
    drop(opened);
    if ctx.json {
        say_json(&json!({
            "custodian": o.retiree, "successor": o.successor,
            "shards": o.shards.iter().map(|(k, i, f)| json!({"keyId": k, "index": i, "file": f})).collect::<Vec<_>>(),
            "supersededSets": o.superseded_sets, "retiredFiles": o.retired_files,
            "destroyElsewhere": o.destroy_elsewhere, "approvers": o.approvers,
        }));
    } else {
        say(format!("retired {}; successor {}", o.retiree, o.successor));
        for (k, i, f) in &o.shards {
            say(format!(
                "  shard {k} #{i}: rewrapped to {} → {}",
                o.successor,
                f.display()
            ));
        }
        if !o.superseded_sets.is_empty() {
            say(format!(
                "  guardian sets superseded: {}",
                o.superseded_sets.join(", ")
            ));
        }
        for r in &o.retired_files {
            if let Some(to) = &r.to {
                say(format!(
                    "  retired: {} → {}",
                    r.from.display(),
                    to.display()
                ));
            }
        }
        if !o.approvers.is_empty() {
            say(format!(
                "  override approved by {} (audited)",
                o.approvers.join(", ")
            ));
        }
    }
    for p in &o.destroy_elsewhere {
        warn(format!(
            "destroy this copy by hand (it could not be moved): {}",
            p.display()
        ));
    }
    Ok(())
}
