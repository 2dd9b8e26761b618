//! `custodian identity new|show|open|import|export`.

use std::path::PathBuf;

use clap::Subcommand;
use secrecy::SecretString;
use serde_json::json;
use zeroize::Zeroizing;

use super::{CmdResult, Ctx, Failure, PassphraseArgs, say, say_json, show_strength, warn};
use custodian_core::fsutil;
use custodian_core::identity::{self, CreatedIdentity, IdentityError, IdentityFile};

/// Identity subcommands.
#[derive(Debug, Subcommand)]
pub enum IdentityCmd {
    /// Generate a new age identity and seal it under a new passphrase.
    New {
        /// The custodian's name.
        #[arg(long, allow_hyphen_values = true)]
        name: String,
        /// Where to write the identity file (default: <workspace>/identities/<name>.identity.json).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also require this hardware token (an age plugin recipient, e.g. age1yubikey1…):
        /// the key is encrypted to it before it is sealed under the passphrase.
        #[arg(long, value_name = "AGE1…")]
        token_recipient: Option<String>,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Print an identity file's recipient, fingerprint and the factors opening it needs
    /// (no passphrase needed).
    Show {
        /// The identity file.
        file: PathBuf,
    },
    /// Check that a passphrase opens an identity file and the key matches.
    Open {
        /// The identity file.
        file: PathBuf,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Seal an existing age-keygen key file as a custodian identity.
    Import {
        /// The age-keygen key file.
        key_file: PathBuf,
        /// The custodian's name.
        #[arg(long, allow_hyphen_values = true)]
        name: String,
        /// Where to write the identity file.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Write the plain age secret key to a file (dangerous; needs confirmation).
    Export {
        /// The identity file.
        file: PathBuf,
        /// Write a plaintext age key file (the only export there is).
        #[arg(long, required = true)]
        plaintext: bool,
        /// Where to write the key file (must not exist; created 0600).
        #[arg(long)]
        out: PathBuf,
        /// Confirms you understand the key will sit on disk unprotected.
        #[arg(long = "i-understand-this-writes-a-plaintext-key")]
        confirmed: bool,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
}

fn print_created(ctx: &Ctx, c: &CreatedIdentity, verb: &str) {
    if ctx.json {
        say_json(&json!({
            "name": c.name, "recipient": c.recipient, "fingerprint": c.fingerprint,
            "file": c.path, "fileSha256": c.file_sha256, "rotationDue": c.rotation_due,
        }));
    } else {
        say(format!("{verb} identity for {}", c.name));
        say(format!("  recipient:    {}", c.recipient));
        say(format!("  fingerprint:  {}", c.fingerprint));
        say(format!("  file:         {}", c.path.display()));
        say(format!("  rotation due: {}", c.rotation_due));
        say(
            "Record the recipient and fingerprint; keep the identity file apart from any shard file.",
        );
    }
}

/// Refuses a name already in the registry before any passphrase is asked for.
fn refuse_taken(ws: &custodian_core::workspace::Workspace, name: &str) -> Result<(), Failure> {
    if ws.registry()?.custodian(name).is_some() {
        return Err(
            custodian_core::workspace::WorkspaceError::DuplicateCustodian(name.into()).into(),
        );
    }
    Ok(())
}

/// Runs an identity subcommand.
pub fn run(ctx: &Ctx, cmd: IdentityCmd) -> CmdResult {
    match cmd {
        IdentityCmd::New {
            name,
            out,
            token_recipient,
            pass,
        } => {
            identity::validate_name(&name)?;
            // A bad token recipient fails before any passphrase is asked.
            let token = token_recipient
                .as_deref()
                .map(custodian_core::token::parse_recipient)
                .transpose()
                .map_err(IdentityError::from)?;
            let ws = ctx.writing_workspace()?;
            refuse_taken(&ws, &name)?;
            let passphrase = pass.prompter().new_passphrase(
                &format!("New passphrase for {name}'s identity"),
                &mut show_strength,
            )?;
            if let Some(t) = &token {
                eprintln!(
                    "sealing to the token {} ({}); it is asked once now to prove it opens the identity",
                    t.recipient,
                    t.binary()
                );
            }
            let created = identity::create_identity_with_token(
                &ws,
                &name,
                &passphrase,
                token,
                out.as_deref(),
            )?;
            print_created(ctx, &created, "created");
            Ok(())
        }
        IdentityCmd::Show { file } => {
            let id = IdentityFile::load(&file)?;
            // What opening refuses first, without a passphrase.
            id.check_sealed_context()?;
            if ctx.json {
                say_json(&json!({
                    "name": id.name, "recipient": id.recipient,
                    "fingerprint": id.fingerprint(), "createdAt": id.created_at,
                    "iterations": id.envelope.header.kdf.iterations,
                    "factors": id.factors(),
                    "tokenRecipient": id.token.as_ref().map(|t| t.recipient.clone()),
                    "tokenPlugin": id.token.as_ref().map(|t| t.binary()),
                }));
            } else {
                say(format!("name:        {}", id.name));
                say(format!("recipient:   {}", id.recipient));
                say(format!("fingerprint: {}", id.fingerprint()));
                say(format!("created at:  {}", id.created_at));
                say(format!("opening needs: {}", id.factors().join(" + ")));
            }
            Ok(())
        }
        IdentityCmd::Open { file, pass } => {
            let id = IdentityFile::load(&file)?;
            let passphrase = pass
                .prompter()
                .existing(&format!("Passphrase for {}'s identity", id.name))?;
            let ws = ctx.workspace()?;
            let op = ws.audit().begin(
                "IDENTITY_OPEN",
                json!({ "custodian": id.name, "recipient": id.recipient, "file": file }),
            )?;
            match id.open(&passphrase) {
                Ok(opened) => {
                    op.complete(json!({}))?;
                    say(format!(
                        "opened: the passphrase is right and the key matches {} ({})",
                        opened.recipient,
                        identity::fingerprint(&opened.recipient)
                    ));
                    Ok(())
                }
                Err(e) => {
                    op.fail(&e.to_string())?;
                    Err(e.into())
                }
            }
        }
        IdentityCmd::Import {
            key_file,
            name,
            out,
            pass,
        } => {
            identity::validate_name(&name)?;
            let bytes = Zeroizing::new(fsutil::read_limited(&key_file, 64 * 1024)?);
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                Failure::from(IdentityError::NotAnAgeKey(
                    "the key file is not UTF-8 text".into(),
                ))
            })?;
            let text = SecretString::from(text);
            // Parse before asking for a passphrase, so a wrong file fails fast.
            identity::parse_age_key_file(secrecy::ExposeSecret::expose_secret(&text))?;
            let ws = ctx.writing_workspace()?;
            refuse_taken(&ws, &name)?;
            let passphrase = pass.prompter().new_passphrase(
                &format!("New passphrase for {name}'s identity"),
                &mut show_strength,
            )?;
            let created =
                identity::import_identity(&ws, &name, &text, &passphrase, out.as_deref())?;
            print_created(ctx, &created, "imported");
            warn(format!(
                "the plain key file {} still exists: destroy it once you have checked the new identity",
                key_file.display()
            ));
            Ok(())
        }
        IdentityCmd::Export {
            file,
            plaintext: _,
            out,
            confirmed,
            pass,
        } => {
            if !confirmed {
                return Err(IdentityError::ConfirmationRequired.into());
            }
            let id = IdentityFile::load(&file)?;
            warn(
                "this writes the secret key unprotected; anyone who reads the file can decrypt this custodian's shards",
            );
            let passphrase = pass
                .prompter()
                .existing(&format!("Passphrase for {}'s identity", id.name))?;
            let ws = ctx.writing_workspace()?;
            identity::export_plaintext(&ws, &file, &passphrase, &out, true)?;
            say(format!("wrote plain age key file {}", out.display()));
            warn(format!(
                "destroy it as soon as you are done with it: `custodian outputs destroy {}` (recorded until then)",
                out.display()
            ));
            Ok(())
        }
    }
}
