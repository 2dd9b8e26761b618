//! `custodian shard inspect|verify-set|rewrap|restore-to-node`.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, warn};
use custodian_core::identity;
use custodian_core::recovery::{self, RecoveryError};
use custodian_core::shard::{self, RewrapKind, RewrapOutcome, RewrapRequest, ShardFile};

/// The concentration rule's approvals (CLARIFICATIONS 10).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConcentrationArgs {
    /// The new holder would hold two or more shards of the key: confirm by
    /// naming them (recorded in the audit log).
    // Public values: a pasted secret starting with `-` reaches our check, not clap's echo.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub confirm_concentration: Option<String>,
    /// The new holder would reach the key's threshold alone: override by
    /// naming at least two approvers, one per flag (recorded in the audit
    /// log). Where the workspace policy is "authenticated approvals", each is
    /// a registered custodian who opens their own identity: their
    /// passphrases are asked first, in --approver order.
    #[arg(long = "approver", value_name = "NAME", allow_hyphen_values = true)]
    pub approvers: Vec<String>,
    /// An override approver without a custodian identity (legal, say): a
    /// typed name, marked as such in the audit log; it does not count
    /// towards the authenticated approvals a policy requires.
    #[arg(
        long = "typed-approver",
        value_name = "NAME",
        allow_hyphen_values = true
    )]
    pub typed_approvers: Vec<String>,
}

/// Shard subcommands.
#[derive(Debug, Subcommand)]
pub enum ShardCmd {
    /// Show a shard file's public metadata (no passphrase, no secret).
    Inspect {
        /// The shard file.
        file: PathBuf,
    },
    /// Check that shards belong together, on public data only (no
    /// passphrase, nothing decrypted): their share public keys,
    /// interpolated in the exponent, give the root public key.
    VerifySet {
        /// The shard files (at least the threshold).
        #[arg(required = true, num_args = 1..)]
        shards: Vec<PathBuf>,
    },
    /// Re-encrypt a shard from its holder's identity to a new custodian's recipient.
    Rewrap {
        /// The shard file (left untouched).
        shard: PathBuf,
        /// The current holder's identity file.
        #[arg(long)]
        identity: PathBuf,
        /// The new recipient (age1…).
        // Public values: a pasted secret starting with `-` reaches our check, not clap's echo.
        #[arg(long, allow_hyphen_values = true)]
        to: String,
        /// The new holder's name.
        // Public values: a pasted secret starting with `-` reaches our check, not clap's echo.
        #[arg(long, allow_hyphen_values = true)]
        name: String,
        /// Where to write the new shard (default: <workspace>/shards/…).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rewrap even if the share can be opened by more than one key
        /// (the count is recorded in the audit log).
        #[arg(long)]
        accept_multiple_recipients: bool,
        #[command(flatten)]
        concentration: ConcentrationArgs,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Re-encrypt a shard to a node's import recipient, for the platform to import.
    RestoreToNode {
        /// The shard file (left untouched).
        shard: PathBuf,
        /// The holder's identity file.
        #[arg(long)]
        identity: PathBuf,
        /// The node's import recipient (age1…).
        // Public values: a pasted secret starting with `-` reaches our check, not clap's echo.
        #[arg(long, allow_hyphen_values = true)]
        node_recipient: String,
        /// The node's name.
        // Public values: a pasted secret starting with `-` reaches our check, not clap's echo.
        #[arg(long, allow_hyphen_values = true)]
        node: String,
        /// Where to write the import file (default: <workspace>/shards/…).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rewrap even if the share can be opened by more than one key
        /// (the count is recorded in the audit log).
        #[arg(long)]
        accept_multiple_recipients: bool,
        #[command(flatten)]
        concentration: ConcentrationArgs,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
}

/// The lines `shard inspect` prints (also used by the console).
pub fn inspect_lines(file: &ShardFile) -> Vec<String> {
    let stanzas = match shard::payload_kind(&file.wrapped_key_share) {
        Ok(kind) => kind.describe(),
        Err(e) => format!("unreadable header: {e}"),
    };
    vec![
        format!("key id:           {}", file.key_id),
        format!("holder:           {}", file.custodian),
        format!("recipient:        {}", file.recipient),
        format!(
            "fingerprint:      {}",
            identity::fingerprint(&file.recipient)
        ),
        format!("scheme:           {}", file.scheme),
        format!("threshold:        {}", file.threshold),
        format!("index:            {}", file.index),
        format!("root public key:  {}", file.root_public_key),
        format!("share public key: {}", file.share_public_key),
        format!("created at:       {}", file.created_at),
        format!("wrapped share:    age, armored, {stanzas}"),
    ]
}

fn print_outcome(ctx: &Ctx, o: &RewrapOutcome) {
    if ctx.json {
        say_json(&json!({
            "file": o.path, "fileSha256": o.file_sha256, "keyId": o.key_id,
            "index": o.index, "name": o.name, "recipient": o.recipient,
            "rootPublicKey": o.root_public_key, "oldFile": o.old_path,
        }));
    } else {
        say(format!("wrote and verified {}", o.path.display()));
        say(format!("  key id:      {} (index {})", o.key_id, o.index));
        say(format!("  holder:      {}", o.name));
        say(format!(
            "  recipient:   {} ({})",
            o.recipient,
            identity::fingerprint(&o.recipient)
        ));
        say(format!("  sha256:      {}", o.file_sha256));
        say(
            "  checked: metadata read back, exactly one X25519 recipient, payload decrypts to the same share",
        );
    }
}

/// Runs a shard subcommand.
pub fn run(ctx: &Ctx, cmd: ShardCmd) -> CmdResult {
    match cmd {
        ShardCmd::Inspect { file } => {
            let shard = ShardFile::load(&file)?;
            if ctx.json {
                say_json(&shard.public_summary());
            } else {
                for line in inspect_lines(&shard) {
                    say(line);
                }
            }
            Ok(())
        }
        ShardCmd::VerifySet { shards } => {
            let mut files = Vec::with_capacity(shards.len());
            for path in &shards {
                let file = ShardFile::load(path).map_err(|source| RecoveryError::Shard {
                    file: path.clone(),
                    source,
                })?;
                files.push((path.clone(), file));
            }
            let refs: Vec<(PathBuf, &ShardFile)> =
                files.iter().map(|(p, f)| (p.clone(), f)).collect();
            let checked = recovery::check_set_public(&refs)?;
            if ctx.json {
                say_json(&serde_json::to_value(&checked).unwrap_or_default());
            } else {
                say(format!(
                    "OK: shards {} belong to key {} (threshold {})",
                    checked
                        .indices
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    checked.key_id,
                    checked.threshold
                ));
                say(format!("root public key: {}", checked.root_public_key));
                say("checked on public data only: nothing was decrypted");
            }
            Ok(())
        }
        ShardCmd::Rewrap {
            shard,
            identity,
            to,
            name,
            out,
            accept_multiple_recipients,
            concentration,
            pass,
        } => {
            let outcome = rewrap(
                ctx,
                shard,
                identity,
                to,
                name,
                out,
                pass,
                RewrapKind::Custodian,
                accept_multiple_recipients,
                concentration,
            )?;
            print_outcome(ctx, &outcome);
            warn(format!(
                "the old shard file {} is left in place: once {} has confirmed they can open the new one, destroy it (e.g. `shred -u`) and any copies",
                outcome.old_path.display(),
                outcome.name
            ));
            Ok(())
        }
        ShardCmd::RestoreToNode {
            shard,
            identity,
            node_recipient,
            node,
            out,
            accept_multiple_recipients,
            concentration,
            pass,
        } => {
            let outcome = rewrap(
                ctx,
                shard,
                identity,
                node_recipient,
                node,
                out,
                pass,
                RewrapKind::Node,
                accept_multiple_recipients,
                concentration,
            )?;
            print_outcome(ctx, &outcome);
            if !ctx.json {
                for line in node_checklist(&outcome) {
                    say(line);
                }
            }
            Ok(())
        }
    }
}

/// The after-import checklist for a restore to a node.
pub fn node_checklist(o: &RewrapOutcome) -> Vec<String> {
    vec![
        String::new(),
        "After the import, confirm on the node:".into(),
        format!("  [ ] import {} on node {}", o.path.display(), o.name),
        format!("  [ ] the node reports key id        {}", o.key_id),
        format!("  [ ] the node reports root pub key  {}", o.root_public_key),
        format!("  [ ] the node reports share index   {}", o.index),
        format!("  [ ] the import file's sha256 is     {}", o.file_sha256),
        format!(
            "Your own shard {} is unchanged; keep it.",
            o.old_path.display()
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn rewrap(
    ctx: &Ctx,
    shard_path: PathBuf,
    identity_path: PathBuf,
    to: String,
    name: String,
    out: Option<PathBuf>,
    pass: PassphraseArgs,
    kind: RewrapKind,
    accept_multiple_recipients: bool,
    concentration: ConcentrationArgs,
) -> Result<RewrapOutcome, super::Failure> {
    let ws = ctx.writing_workspace()?;
    // Everything public is checked before the passphrase is asked for.
    let (source, id, _) = shard::preflight_rewrap(
        &ws,
        &shard_path,
        &identity_path,
        &to,
        &name,
        out.as_deref(),
        accept_multiple_recipients,
    )?;
    // The concentration rule, before the holder's passphrase. An override
    // is approved first: under the "authenticated" policy each --approver
    // opens their own identity now (CLARIFICATIONS 4: people before the
    // transaction), and only when the move needs the override.
    let reg = ws.registry()?;
    let to_recipient = identity::parse_recipient(&to)?.to_string();
    let names: Vec<String> = concentration
        .approvers
        .iter()
        .chain(&concentration.typed_approvers)
        .cloned()
        .collect();
    let needs_override = match shard::concentration_after(
        &reg,
        &source.key_id,
        source.index,
        &to_recipient,
        source.threshold,
    ) {
        shard::Concentration::Spread => false,
        shard::Concentration::Several { .. } => concentration.confirm_concentration.is_none(),
        shard::Concentration::ReachesThreshold { .. } => true,
    };
    let mut prompter = pass.prompter();
    let (authenticated, typed) = if needs_override && !names.is_empty() {
        super::refuse_repeated_approvers(&ws, &names)?;
        shard::distinct_approvers(&names)?;
        super::split_approvals(super::gather_approvals(
            &ws,
            &mut prompter,
            &concentration.approvers,
            &concentration.typed_approvers,
        )?)
    } else {
        (Vec::new(), names)
    };
    let approval = shard::ConcentrationApproval {
        confirm_holder: concentration.confirm_concentration,
        approvers: typed,
    };
    let decision = shard::check_rewrap_concentration_approved(
        &reg,
        &source,
        &to_recipient,
        &name,
        &approval,
        &authenticated,
    )?;
    match decision.verdict {
        shard::Concentration::Spread => {}
        shard::Concentration::Several { holds } => warn(format!(
            "{name} will hold {holds} shards of key {} (it needs {} to rebuild); confirmed by naming {name} (recorded in the audit log)",
            source.key_id, decision.threshold
        )),
        shard::Concentration::ReachesThreshold { holds, threshold } => warn(format!(
            "{name} will hold {holds} shards of key {}, enough to rebuild it alone ({threshold} needed); override approved by {} (recorded in the audit log)",
            source.key_id,
            decision
                .approvals
                .iter()
                .map(custodian_core::approvals::Approval::describe)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    let readers = source.check_payload(true)?;
    if readers > 1 {
        warn(format!(
            "the source share can be opened by {readers} keys, not only {}'s; rewrapping as asked (recorded in the audit log)",
            source.custodian
        ));
    }
    let passphrase = prompter.existing(&format!("Passphrase for {}'s identity", id.name))?;
    Ok(shard::rewrap_shard_approved(
        &ws,
        &RewrapRequest {
            shard: shard_path,
            identity: identity_path,
            passphrase,
            to,
            name,
            out,
            kind,
            accept_multiple_recipients,
            concentration: approval,
        },
        &authenticated,
    )?)
}
