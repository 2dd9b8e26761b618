//! `custodian onboard --plan plan.json`: the onboarding ceremony without the
//! console, for automation and tests (see `custodian_core::lifecycle::onboard`).
//!
//! Passphrases are asked in this order (one line each from
//! `--passphrase-file`/`--passphrase-fd`), custodian by custodian in plan
//! order: the custodian's new identity passphrase; each guardian's new
//! passphrase in share order; then each guardian types their passphrase
//! again, in share order, to prove their share. On a resumed ceremony the
//! steps already done ask nothing; a custodian whose identity exists but is
//! not yet split is first asked their identity passphrase.

use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_strength};
use custodian_core::guardians::{self, SplitRequest};
use custodian_core::identity;
use custodian_core::lifecycle::{
    LifecycleError,
    onboard::{self, Plan, Step},
};
use custodian_core::playbook::model::Playbook;

/// Arguments of `custodian onboard`.
#[derive(Debug, Args)]
pub struct OnboardArgs {
    /// The plan: {"present": [names], "custodians": [{"name", "guardians": [names], "threshold"}]}.
    #[arg(long)]
    pub plan: PathBuf,
    #[command(flatten)]
    pub pass: PassphraseArgs,
    #[command(flatten)]
    pub time: super::ConfirmTimeArgs,
}

/// Runs `custodian onboard`.
pub fn run(ctx: &Ctx, args: OnboardArgs) -> CmdResult {
    let (plan, sha) = Plan::load(&args.plan)?;
    let ws = ctx.writing_workspace()?;
    super::confirm_clock(&ws, args.time, "onboarding ceremony")?;
    let (cer, resumed) = onboard::start_or_resume(&ws, &plan, &sha)?;
    // The ceremony fixes which binary the team runs (threat 6): recorded
    // unless one already is; a different one is flagged by `check`.
    let recorded = super::running_binary().and_then(|bin| {
        custodian_core::binary::record_if_unset(&ws, &bin, "onboarding ceremony")
            .map_err(|e| custodian_core::error::Report::from_error(&e).to_string())
    });
    if let Err(e) = recorded {
        super::warn(format!("the ceremony records no accepted binary: {e}"));
    }
    if !ctx.json {
        say(if resumed {
            format!("resuming ceremony {} (started {})", cer.id, cer.started_at)
        } else {
            format!("ceremony {} started", cer.id)
        });
    }
    let mut prompter = args.pass.prompter();
    for pc in &plan.custodians {
        let mut identity_pass: Option<SecretString> = None;
        loop {
            let reg = ws.registry()?;
            match onboard::step_of(&reg, &plan, &cer.started_at, &pc.name) {
                Step::NeedsIdentity => {
                    let p = prompter.new_passphrase(
                        &format!("Passphrase for {}'s new identity", pc.name),
                        &mut show_strength,
                    )?;
                    let c = identity::create_identity(&ws, &pc.name, &p, None)?;
                    if !ctx.json {
                        say(format!(
                            "{}: identity {} ({})",
                            pc.name, c.recipient, c.fingerprint
                        ));
                    }
                    identity_pass = Some(p);
                }
                Step::NeedsSplit { identity_file } => {
                    let path = identity_file
                        .ok_or_else(|| LifecycleError::NoIdentityFile(pc.name.clone()))?;
                    let p = match identity_pass.take() {
                        Some(p) => p,
                        None => {
                            let p = prompter
                                .existing(&format!("Passphrase of {}'s identity", pc.name))?;
                            guardians::check_split_passphrase(&ws, &path, &p)?;
                            p
                        }
                    };
                    let passes = super::guardian_passphrases(&mut prompter, &pc.guardians)?;
                    let o = guardians::split(
                        &ws,
                        SplitRequest {
                            identity_path: &path,
                            identity_passphrase: &p,
                            threshold: pc.threshold().into(),
                            guardians: passes,
                            out_dir: None,
                        },
                        &|_, _, _| {},
                    )?;
                    if !ctx.json {
                        say(format!(
                            "{}: split {}-of-{} (set {})",
                            pc.name, o.threshold, o.total, o.set_id
                        ));
                    }
                }
                Step::NeedsProof { split, pending } => {
                    for (g, file) in pending {
                        let index = split.guardians.iter().position(|x| x == &g).unwrap_or(0) + 1;
                        let p = prompter.existing(&format!(
                            "Guardian {g}: type your passphrase again to prove share #{index} of {}",
                            pc.name
                        ))?;
                        onboard::prove_share(&ws, &file, p)?;
                        if !ctx.json {
                            say(format!("{}: guardian {g} proved share #{index}", pc.name));
                        }
                    }
                }
                Step::Done { .. } => break,
            }
        }
    }
    let onboard::Completed { path, head, .. } =
        onboard::complete(&ws, &plan, &cer, Some(Playbook::builtin()))?;
    if ctx.json {
        say_json(&json!({
            "ceremony": cer.id, "record": path, "auditHead": head,
            "custodians": plan.custodians.iter().map(|c| &c.name).collect::<Vec<_>>(),
        }));
    } else {
        say(format!(
            "ceremony {} complete: record {}",
            cer.id,
            path.display()
        ));
        say(format!("audit head: {head} — write it down"));
    }
    Ok(())
}
