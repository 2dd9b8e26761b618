//! `custodian recover`: offline threshold recovery of a raw key from
//! custodian shards, with exactly one output.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use serde_json::json;

use zeroize::Zeroizing;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_once, warn};
use custodian_core::approvals::{self, Approval};
use custodian_core::recovery::{self, RecoveredKey, RecoveryOutput, ShardSource};

/// Arguments of `custodian recover`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("output").required(true).args(["hsm_public_key", "to", "show_once"])))]
pub struct RecoverArgs {
    /// A shard file; repeat, each followed by its holder's --identity.
    #[arg(long = "shard", required = true)]
    pub shards: Vec<PathBuf>,
    /// The identity file of the custodian holding the shard before it.
    #[arg(long = "identity", required = true)]
    pub identities: Vec<PathBuf>,
    /// An approver of the quorum (at least two, named before anything is decrypted). Where the
    /// workspace policy is "authenticated approvals", each is a registered custodian who opens
    /// their own identity: their passphrases are asked first, in --approver order.
    #[arg(long = "approver")]
    pub approvers: Vec<String>,
    /// An approver without a custodian identity (legal, say): a typed name, marked as such in
    /// the audit log; it does not count towards the authenticated approvals a policy requires.
    #[arg(long = "typed-approver", value_name = "NAME")]
    pub typed_approvers: Vec<String>,
    /// Wrap the key to this HSM import public key (RSA PEM) with RSA-OAEP-SHA256.
    #[arg(long, requires = "out")]
    pub hsm_public_key: Option<PathBuf>,
    /// Encrypt the key (64 hex digits and a newline) to this age recipient.
    // A pasted secret starting with `-` reaches our check, not clap's echo.
    #[arg(long, requires = "out", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Where the wrapped or encrypted key is written (must not exist).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Show the key once on this terminal, after typing the key id, for 60 seconds.
    #[arg(long, conflicts_with = "out")]
    pub show_once: bool,
    #[command(flatten)]
    pub pass: PassphraseArgs,
}

/// Runs `custodian recover`.
pub fn run(ctx: &Ctx, args: RecoverArgs) -> CmdResult {
    if args.shards.len() != args.identities.len() {
        return Err(recovery::RecoveryError::UnpairedInputs {
            shards: args.shards.len(),
            identities: args.identities.len(),
        }
        .into());
    }
    let output = match (&args.hsm_public_key, &args.to, &args.out) {
        (Some(pem), None, Some(out)) => RecoveryOutput::Hsm {
            public_key_pem: pem.clone(),
            out: out.clone(),
        },
        (None, Some(to), Some(out)) => RecoveryOutput::Age {
            recipient: to.clone(),
            out: out.clone(),
        },
        _ => {
            show_once::require_terminal("--hsm-public-key or --to with --out")?;
            RecoveryOutput::Screen
        }
    };
    let sources: Vec<ShardSource> = args
        .shards
        .iter()
        .zip(&args.identities)
        .map(|(s, i)| ShardSource {
            shard: s.clone(),
            identity: i.clone(),
        })
        .collect();
    let names: Vec<String> = args
        .approvers
        .iter()
        .chain(&args.typed_approvers)
        .cloned()
        .collect();
    let mut plan = recovery::plan(&sources, &names, output)?;
    let ws = ctx.writing_workspace()?;
    let mut prompter = args.pass.prompter();
    // Approvals first: under the "authenticated" policy each --approver
    // opens their own identity (proof of presence), before any shard
    // passphrase is asked and before the transaction starts.
    plan.approvals = gather_approvals(&ws, &args.approvers, &args.typed_approvers, &mut prompter)?;
    let mut passphrases = Vec::new();
    for (_, s, _, id) in &plan.shards {
        passphrases.push(prompter.existing(&format!(
            "Passphrase for {}'s identity (shard {})",
            id.name, s.index
        ))?);
    }
    let outcome = recovery::recover(&ws, &plan, &passphrases)?;
    drop(passphrases);
    if let Some(key) = &outcome.shown_once {
        let shown = show_once(&outcome.key_id, key).map_err(|e| show_once::terminal_failed(&e))?;
        recovery::record_cleared(&ws, &outcome.key_id, &outcome.audit_op, None)?;
        if !shown {
            warn("the key id was not confirmed; the key was discarded without being shown");
            return Ok(());
        }
        say("The key was shown once and the screen has been cleared.");
        return Ok(());
    }
    if ctx.json {
        say_json(&json!({
            "keyId": outcome.key_id, "rootPublicKey": outcome.root_public_key,
            "indices": outcome.indices, "verified": true,
            "file": outcome.written.as_ref().map(|w| &w.0),
            "fileSha256": outcome.written.as_ref().map(|w| &w.1),
        }));
    } else {
        say(format!(
            "recovered key {} from shards {:?} and verified it against root public key {}",
            outcome.key_id, outcome.indices, outcome.root_public_key
        ));
        if let Some((path, sha)) = &outcome.written {
            say(format!("wrote {} (sha256 {sha})", path.display()));
        }
        say("The key was not written anywhere else and is not in the audit log.");
    }
    Ok(())
}

/// The approvals of a recovery, gathered before any other secret is asked
/// for and before any transaction starts (CLARIFICATIONS 4). Under the
/// "authenticated" policy each `approvers` name opens their own identity
/// (their passphrase is asked in order) and `typed` names are marked as
/// typed; under the "typed" policy every name is a typed approval.
pub(super) fn gather_approvals(
    ws: &custodian_core::workspace::Workspace,
    approvers: &[String],
    typed: &[String],
    prompter: &mut custodian_core::passphrase::Prompter,
) -> Result<Vec<Approval>, super::Failure> {
    let given = super::gather_approvals(ws, prompter, approvers, typed)?;
    approvals::check(approvals::policy(&ws.registry()?), &given)?;
    Ok(given)
}

/// Asks for the key id, then shows the key once (see [`show_once`]).
fn show_once(key_id: &str, key: &RecoveredKey) -> std::io::Result<bool> {
    let page = show_once::Page {
        title: format!(
            "PRIVATE KEY {key_id} — shown once. Do not photograph unless your procedure says so."
        ),
        lines: vec![Zeroizing::new(format!(
            "    {}",
            key.grouped_hex().as_str()
        ))],
    };
    show_once::show_pages(
        &format!("Type the key id ({key_id}) to show the private key once"),
        key_id,
        &[page],
    )
}
