//! `custodian guardians split|combine|inspect`.
//!
//! Passphrases are asked in a fixed order so a passphrase file can answer
//! them line by line: for `split`, the custodian's identity passphrase, then
//! each guardian's new passphrase in the order of `--guardians`; for
//! `combine`, each share's guardian in index order, then the new passphrase
//! for the rebuilt identity. `combine` validates the shares before asking
//! for anything. `roll-call` asks each share's guardian in index order,
//! after checking the shares against the split record.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_strength, warn};
use custodian_core::guardians::{
    self, Collection, LoadedShare, ShareFile, ShareSet, SplitRequest, printed, roll_call,
};
use custodian_core::identity::{self, IdentityFile};

/// Guardian subcommands.
#[derive(Debug, Subcommand)]
pub enum GuardiansCmd {
    /// Split a custodian's key k-of-n among guardians, one sealed share file each.
    Split {
        /// The custodian's identity file.
        #[arg(long)]
        identity: PathBuf,
        /// Shares needed to rebuild the key.
        #[arg(long, default_value_t = guardians::DEFAULT_THRESHOLD)]
        threshold: u8,
        /// Guardian names, comma-separated, in share order.
        #[arg(long, value_delimiter = ',', required = true)]
        guardians: Vec<String>,
        /// Directory for the share files (default: <workspace>/guardian-shares).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Rebuild a custodian's key from guardian shares and seal it under a new passphrase.
    Combine {
        /// Share files (JSON, or a text file holding a printed custodianshare1… line or its
        /// grouped custodianshare2 … form).
        #[arg(required = true)]
        shares: Vec<PathBuf>,
        /// Where to write the rebuilt identity (default: <workspace>/identities/<name>.rebuilt-<time>.identity.json).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Enrol this hardware token (age1NAME1…) for the rebuilt identity. Without it, an
        /// identity the registry records with a token is re-sealed to that same token.
        #[arg(long, value_name = "AGE1…")]
        token_recipient: Option<String>,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Roll call: each guardian opens their own share, checked against the split's
    /// commitment without rebuilding the key; the date is recorded per guardian.
    RollCall {
        /// Share files of one set (JSON, or a file holding a printed line).
        #[arg(required = true)]
        shares: Vec<PathBuf>,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Show a share's public header, its printed line and (with --qr) its QR code. No passphrase.
    Inspect {
        /// The share file (or a file holding a printed line).
        share: PathBuf,
        /// Also draw the printed line as a QR code.
        #[arg(long)]
        qr: bool,
    },
}

/// Runs a guardians subcommand.
pub fn run(ctx: &Ctx, cmd: GuardiansCmd) -> CmdResult {
    match cmd {
        GuardiansCmd::Split {
            identity: identity_path,
            threshold,
            guardians: names,
            out_dir,
            pass,
        } => {
            let names: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();
            guardians::check_plan(threshold.into(), &names)?;
            let file = IdentityFile::load(&identity_path)?;
            let ws = ctx.writing_workspace()?;
            let mut prompter = pass.prompter();
            let identity_pass =
                prompter.existing(&format!("Passphrase for {}'s identity", file.name))?;
            // Checked now, before the guardians each choose and type theirs.
            guardians::check_split_passphrase(&ws, &identity_path, &identity_pass)?;
            let guardian_passes = super::guardian_passphrases(&mut prompter, &names)?;
            let outcome = guardians::split(
                &ws,
                SplitRequest {
                    identity_path: &identity_path,
                    identity_passphrase: &identity_pass,
                    threshold: threshold.into(),
                    guardians: guardian_passes,
                    out_dir: out_dir.as_deref(),
                },
                &|_, _, _| {},
            )?;
            if ctx.json {
                say_json(&json!({
                    "setId": outcome.set_id, "custodian": outcome.custodian,
                    "recipient": outcome.recipient, "threshold": outcome.threshold,
                    "total": outcome.total, "provedWith": outcome.proved_with,
                    "shares": outcome.shares.iter().map(|s| json!({
                        "guardian": s.guardian, "index": s.index, "file": s.path,
                        "fileSha256": s.sha256, "printed": s.printed,
                        "grouped": printed::grouped(&s.printed),
                    })).collect::<Vec<_>>(),
                }));
            } else {
                say(format!(
                    "split {}'s key {}-of-{} (set {})",
                    outcome.custodian, outcome.threshold, outcome.total, outcome.set_id
                ));
                say(format!(
                    "  recipient:   {} ({})",
                    outcome.recipient,
                    identity::fingerprint(&outcome.recipient)
                ));
                say(format!(
                    "  proved:      shares {:?} rebuild the same key",
                    outcome.proved_with
                ));
                for s in &outcome.shares {
                    say(format!(
                        "  #{} {}: {}",
                        s.index,
                        s.guardian,
                        s.path.display()
                    ));
                    say(format!("     printed: {}", printed::grouped(&s.printed)));
                }
                say("Give each guardian their own file (or printed line) and nothing else.");
            }
            Ok(())
        }
        GuardiansCmd::Combine {
            shares,
            out,
            token_recipient,
            pass,
        } => {
            let token = token_recipient
                .as_deref()
                .map(custodian_core::token::parse_recipient)
                .transpose()
                .map_err(custodian_core::identity::IdentityError::from)?;
            let ws = ctx.writing_workspace()?;
            let mut collection = Collection::new();
            for path in &shares {
                let loaded = LoadedShare::from_path(path)?;
                if let Some(note) = collection.add(loaded)? {
                    warn(note);
                }
            }
            let set_id = collection
                .members()
                .next()
                .map(|m| m.share.set_id.clone())
                .unwrap_or_default();
            let known = ShareSet::known_split(&ws, &set_id);
            let set = collection.finish(known.as_ref())?;
            let mut prompter = pass.prompter();
            let mut passes = Vec::new();
            for m in &set.members {
                passes.push(prompter.existing(&format!(
                    "Passphrase of guardian {} (share #{})",
                    m.share.guardian, m.share.index
                ))?);
            }
            let new_pass = prompter.new_passphrase(
                &format!("New passphrase for {}'s rebuilt identity", set.custodian),
                &mut show_strength,
            )?;
            let c = guardians::combine_with_token(
                &ws,
                &set,
                &passes,
                &new_pass,
                token,
                out.as_deref(),
                &|_, _, _| {},
            )?;
            if ctx.json {
                say_json(&json!({
                    "custodian": c.custodian, "recipient": c.recipient,
                    "fingerprint": c.fingerprint, "file": c.path, "fileSha256": c.file_sha256,
                    "guardians": c.guardians, "registered": c.registered, "notes": c.notes,
                }));
            } else {
                say(format!(
                    "rebuilt {}'s key from {} shares and verified it",
                    c.custodian,
                    c.guardians.len()
                ));
                say(format!("  recipient:   {}", c.recipient));
                say(format!("  fingerprint: {}", c.fingerprint));
                say(format!("  file:        {}", c.path.display()));
                say(if c.registered {
                    "  registry:    custodian added to this workspace"
                } else {
                    "  registry:    custodian already registered with this key; reconstruction recorded"
                });
            }
            Ok(())
        }
        GuardiansCmd::RollCall { shares, pass } => {
            let ws = ctx.writing_workspace()?;
            let loaded = shares
                .iter()
                .map(|p| LoadedShare::from_path(p))
                .collect::<Result<Vec<_>, _>>()?;
            let call = roll_call::prepare(&ws, loaded)?;
            let mut prompter = pass.prompter();
            let mut passes = Vec::new();
            for m in &call.shares {
                passes.push(prompter.existing(&format!(
                    "Passphrase of guardian {} (share #{})",
                    m.share.guardian, m.share.index
                ))?);
            }
            let o = roll_call::run(&ws, &call, &passes, &|_, _, _| {})?;
            if ctx.json {
                say_json(&json!({
                    "setId": o.set_id, "custodian": o.custodian, "date": o.date,
                    "passed": o.passed.iter().map(|(g, i)| json!({"guardian": g, "index": i})).collect::<Vec<_>>(),
                    "threshold": o.threshold, "seenThisQuarter": o.seen_this_quarter,
                }));
            } else {
                for (g, i) in &o.passed {
                    say(format!(
                        "  #{i} {g}: share opens and matches the split's commitment"
                    ));
                }
                say(format!(
                    "roll call recorded for {}'s set {} on {}: {} of {} needed guardians seen this quarter",
                    o.custodian,
                    &o.set_id[..8.min(o.set_id.len())],
                    o.date,
                    o.seen_this_quarter,
                    o.threshold
                ));
            }
            Ok(())
        }
        GuardiansCmd::Inspect { share, qr } => {
            let s = ShareFile::load(&share)?;
            s.validate(&share.display().to_string())?;
            let line = s.printed()?;
            if ctx.json {
                say_json(&json!({
                    "setId": s.set_id, "threshold": s.threshold, "total": s.total,
                    "index": s.index, "guardian": s.guardian, "custodian": s.custodian,
                    "recipient": s.recipient, "fingerprint": identity::fingerprint(&s.recipient),
                    "createdAt": s.created_at, "iterations": s.envelope.header.kdf.iterations,
                    "printed": line,
                    "grouped": printed::grouped(&line),
                }));
                return Ok(());
            }
            say(format!("guardian:    {}", s.guardian));
            say(format!(
                "share:       #{} of {} (any {} rebuild the key)",
                s.index, s.total, s.threshold
            ));
            say(format!("set:         {}", s.set_id));
            say(format!("custodian:   {}", s.custodian));
            say(format!("recipient:   {}", s.recipient));
            say(format!(
                "fingerprint: {}",
                identity::fingerprint(&s.recipient)
            ));
            say(format!("created at:  {}", s.created_at));
            say(format!("printed:     {}", printed::grouped(&line)));
            if qr {
                say(printed::qr_text(&line)?);
            }
            Ok(())
        }
    }
}
