//! `custodian rotate --custodian NAME`: a new identity for the same
//! custodian, every registered shard rewrapped to it, the guardians' re-split
//! of the new key, and the old files retired — one transaction.
//!
//! Passphrases are asked before anything is written, in this order (one
//! line each from `--passphrase-file`/`--passphrase-fd`): the custodian's
//! current passphrase (checked at once), the new identity's passphrase,
//! then each guardian's new passphrase in share order.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_strength, warn};
use custodian_core::guardians;
use custodian_core::lifecycle::rotate::{self, RotationRequest};

/// Arguments of `custodian rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The custodian to rotate.
    #[arg(long)]
    pub custodian: String,
    /// Their current identity file (default: the one registered).
    #[arg(long)]
    pub identity: Option<PathBuf>,
    /// Guardians of the new key's split (default: those of the current set).
    #[arg(long, value_delimiter = ',')]
    pub guardians: Vec<String>,
    /// Threshold of the new split (default: that of the current set, or 3).
    #[arg(long)]
    pub threshold: Option<u8>,
    /// Remove the old identity file instead of moving it to retired/.
    #[arg(long)]
    pub destroy_old_identity: bool,
    /// Enrol this hardware token (an age plugin recipient, e.g. age1yubikey1…) for the new
    /// identity. Without it, a custodian registered with a token keeps that token: the new
    /// identity needs the passphrase and the token, as the old one did.
    // Public value: a pasted secret starting with `-` reaches our check, not clap's echo.
    #[arg(long, value_name = "AGE1…", allow_hyphen_values = true)]
    pub token_recipient: Option<String>,
    #[command(flatten)]
    pub pass: PassphraseArgs,
}

/// Runs `custodian rotate`.
pub fn run(ctx: &Ctx, args: RotateArgs) -> CmdResult {
    // A bad token recipient fails before anything is opened or asked.
    let token = args
        .token_recipient
        .as_deref()
        .map(custodian_core::token::parse_recipient)
        .transpose()
        .map_err(custodian_core::identity::IdentityError::from)?;
    let ws = ctx.writing_workspace()?;
    let plan = rotate::plan(&ws, &args.custodian, args.identity.as_deref())?;
    let names: Vec<String> = if args.guardians.is_empty() {
        plan.guardians.clone()
    } else {
        args.guardians
            .iter()
            .map(|g| g.trim().to_string())
            .collect()
    };
    let threshold = args.threshold.unwrap_or(if plan.threshold > 0 {
        plan.threshold
    } else {
        guardians::DEFAULT_THRESHOLD
    });
    if !names.is_empty() {
        guardians::check_plan(threshold.into(), &names)?;
    }
    let mut prompter = args.pass.prompter();
    let old_pass = prompter.existing(&format!(
        "Current passphrase of {}'s identity",
        plan.custodian.name
    ))?;
    let old = rotate::open_old(&ws, &plan, &old_pass)?;
    drop(old_pass);
    let new_pass = prompter.new_passphrase(
        &format!("Passphrase for {}'s new identity", plan.custodian.name),
        &mut show_strength,
    )?;
    let guardian_passes = super::guardian_passphrases(&mut prompter, &names)?;
    let o = rotate::rotate(
        &ws,
        RotationRequest {
            plan: &plan,
            old: &old,
            new_passphrase: &new_pass,
            guardians: guardian_passes,
            threshold,
            destroy_old_identity: args.destroy_old_identity,
            token,
        },
        &|_, _, _| {},
    )?;
    drop(old);
    if ctx.json {
        say_json(&json!({
            "custodian": o.custodian, "oldRecipient": o.old_recipient,
            "recipient": o.new_recipient, "fingerprint": o.new_fingerprint,
            "identityFile": o.identity_file, "rotationDue": o.rotation_due,
            "shards": o.shards.iter().map(|(k, i, f)| json!({"keyId": k, "index": i, "file": f})).collect::<Vec<_>>(),
            "newSet": o.split.as_ref().map(|s| json!({
                "setId": s.set_id, "threshold": s.threshold, "total": s.total,
                "shares": s.shares.iter().map(|w| json!({
                    "guardian": w.guardian, "index": w.index, "file": w.path,
                    "fileSha256": w.sha256, "printed": w.printed,
                })).collect::<Vec<_>>(),
            })),
            "supersededSets": o.superseded_sets,
            "retiredFiles": o.retired_files,
            "destroyElsewhere": o.destroy_elsewhere,
        }));
    } else {
        say(format!("rotated {}", o.custodian));
        say(format!(
            "  new recipient: {} ({})",
            o.new_recipient, o.new_fingerprint
        ));
        say(format!("  identity:      {}", o.identity_file.display()));
        say(format!("  rotation due:  {}", o.rotation_due));
        for (k, i, f) in &o.shards {
            say(format!(
                "  shard {k} #{i}: rewrapped and verified → {}",
                f.display()
            ));
        }
        if let Some(s) = &o.split {
            say(format!(
                "  guardians:     new set {} ({}-of-{}); superseded: {}",
                s.set_id,
                s.threshold,
                s.total,
                o.superseded_sets.join(", ")
            ));
            for w in &s.shares {
                say(format!(
                    "     #{} {}: {}",
                    w.index,
                    w.guardian,
                    w.path.display()
                ));
            }
        }
        for r in &o.retired_files {
            match &r.to {
                Some(to) => say(format!(
                    "  retired:       {} → {}",
                    r.from.display(),
                    to.display()
                )),
                None => say(format!("  destroyed:     {}", r.from.display())),
            }
        }
        if o.split.is_none() {
            warn(format!(
                "{}'s key was never split among guardians; split the new one with `custodian guardians split`",
                o.custodian
            ));
        }
        if !o.superseded_sets.is_empty() {
            say(
                "Each guardian must destroy their share of the old set; it is refused from now on.",
            );
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
