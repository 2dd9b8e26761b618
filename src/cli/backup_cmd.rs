//! `custodian backup --to age1… [--to …] --out FILE` and `custodian restore
//! FILE --identity ID --into DIR`: an age-encrypted copy of the workspace
//! and its verified restore into a new directory. See
//! [`custodian_core::backup`].

use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json};
use custodian_core::backup;
use custodian_core::identity::KeyFile;

/// Arguments of `custodian backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A recipient (age1…) the archive is encrypted to; repeat for several.
    #[arg(long = "to", value_name = "AGE1…", required = true)]
    pub to: Vec<String>,
    /// Where to write the archive (must not exist; outside the workspace).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `custodian restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive `custodian backup` wrote.
    pub archive: PathBuf,
    /// A custodian identity file (its passphrase is asked) or a plain age
    /// key file of one of the archive's recipients.
    #[arg(long, value_name = "ID")]
    pub identity: PathBuf,
    /// The new workspace directory (must not exist, or be empty; outside
    /// the workspace).
    #[arg(long, value_name = "DIR")]
    pub into: PathBuf,
    #[command(flatten)]
    pub pass: PassphraseArgs,
}

/// Runs `custodian backup`.
pub fn backup(ctx: &Ctx, args: BackupArgs) -> CmdResult {
    let ws = ctx.writing_workspace()?;
    let rec = backup::backup(&ws, &args.to, &args.out)?;
    if ctx.json {
        say_json(&json!({
            "out": rec.out, "sha256": rec.sha256, "recipients": rec.recipients,
            "auditHead": rec.audit_head, "auditSeq": rec.audit_seq, "files": rec.files,
        }));
    } else {
        say(format!(
            "wrote {} ({} files) for {} recipient(s)",
            rec.out.display(),
            rec.files,
            rec.recipients.len()
        ));
        say(format!("archive sha256: {}", rec.sha256));
        say(format!("audit head in the archive: {}", rec.audit_head));
        say("keep it off-site; restore with `custodian restore FILE --identity ID --into NEW_DIR`");
    }
    Ok(())
}

/// Runs `custodian restore`.
pub fn restore(ctx: &Ctx, args: RestoreArgs) -> CmdResult {
    // A sealed custodian identity or a plain age key file.
    let opened;
    let plain;
    let key = match KeyFile::read(&args.identity)? {
        KeyFile::Sealed(file) => {
            let passphrase: SecretString = args
                .pass
                .prompter()
                .existing(&format!("Passphrase for {}'s identity", file.name))?;
            opened = file.open(&passphrase)?;
            opened.age_identity()
        }
        KeyFile::Plain(key) => {
            plain = key;
            &plain
        }
    };
    let done = backup::restore(&args.archive, key, &args.into, &ctx.workspace_dir)?;
    let m = &done.manifest;
    if ctx.json {
        say_json(&json!({
            "into": done.into, "files": m.files.len(), "auditHead": m.audit_head,
            "auditEntries": m.audit_entries, "createdAt": m.created_at,
            "archiveSha256": done.archive_sha256, "restoreOp": done.op,
            "auditHeadAfter": done.head_after,
        }));
    } else {
        say(format!(
            "restored {} files into {}",
            m.files.len(),
            done.into.display()
        ));
        say(format!(
            "every file's SHA-256 matched; the audit chain ({} entries) is intact up to the recorded head {}",
            done.audit_entries, done.audit_head
        ));
        say(format!("the archive was made at {}", m.created_at));
        say(format!(
            "recorded in the restored copy's audit log as {} (archive sha256 {}); its head is now {}",
            backup::RESTORE_EVENT,
            done.archive_sha256,
            done.head_after
        ));
    }
    Ok(())
}
