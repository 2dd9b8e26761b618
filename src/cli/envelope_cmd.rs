//! `custodian envelope seal|open`.

use std::path::PathBuf;

use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, show_strength};
use custodian_core::envelope::{self, Envelope};
use custodian_core::fsutil;
use custodian_core::outputs;

/// Largest plaintext `seal` accepts: envelopes hold keys, not bulk data.
const MAX_PLAINTEXT: u64 = 256 * 1024;

/// Envelope subcommands.
#[derive(Debug, Subcommand)]
pub enum EnvelopeCmd {
    /// Seal a file under a new passphrase.
    Seal {
        /// The file to seal (at most 256 KiB).
        input: PathBuf,
        /// Where to write the envelope (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// PBKDF2 iterations (at least 600000).
        #[arg(long, default_value_t = envelope::DEFAULT_ITERATIONS)]
        iterations: u32,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Open an envelope and write its contents to a new file.
    Open {
        /// The envelope file.
        input: PathBuf,
        /// Where to write the plaintext (must not exist; created 0600).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
}

/// Runs an envelope subcommand.
pub fn run(ctx: &Ctx, cmd: EnvelopeCmd) -> CmdResult {
    let ws = ctx.workspace()?;
    match cmd {
        EnvelopeCmd::Seal {
            input,
            out,
            iterations,
            pass,
        } => {
            let plaintext = zeroize::Zeroizing::new(fsutil::read_limited(&input, MAX_PLAINTEXT)?);
            if out.exists() {
                return Err(fsutil::FsError::AlreadyExists(out).into());
            }
            // Check the parameters before asking for anything.
            envelope::check_iterations(iterations)?;
            let passphrase = pass
                .prompter()
                .new_passphrase("New passphrase for the envelope", &mut show_strength)?;
            let op = ws.audit().begin(
                "ENVELOPE_SEAL",
                json!({ "input": input, "file": out, "iterations": iterations }),
            )?;
            let result = (|| {
                let env = envelope::seal(&plaintext, &passphrase, iterations, None)?;
                let bytes = env.to_bytes();
                fsutil::write_new_checked(&out, &bytes, |read| {
                    let back = Envelope::from_bytes(read).map_err(|e| e.to_string())?;
                    let opened = back.open(&passphrase).map_err(|e| e.to_string())?;
                    if opened.expose_secret().as_slice() == plaintext.as_slice() {
                        Ok(())
                    } else {
                        Err("re-opened contents differ".into())
                    }
                })?;
                Ok::<_, super::Failure>(fsutil::sha256_hex(&bytes))
            })();
            match result {
                Ok(sha) => {
                    op.complete(json!({ "fileSha256": sha }))?;
                    say(format!("sealed {} -> {}", input.display(), out.display()));
                    Ok(())
                }
                Err(e) => {
                    op.fail(&e.report.message)?;
                    Err(e)
                }
            }
        }
        EnvelopeCmd::Open { input, out, pass } => {
            let bytes = fsutil::read_limited(&input, envelope::MAX_FILE_LEN)?;
            let env = Envelope::from_bytes(&bytes)?;
            if out.exists() {
                return Err(fsutil::FsError::AlreadyExists(out).into());
            }
            let passphrase = pass.prompter().existing("Envelope passphrase")?;
            // A transaction: the plaintext file and its record among the
            // workspace's plaintext outputs exist together or not at all.
            let ws = ctx.writing_workspace()?;
            outputs::open_envelope_to_file(
                &ws,
                &env,
                &input,
                &fsutil::sha256_hex(&bytes),
                &passphrase,
                &out,
            )?;
            say(format!("opened {} -> {}", input.display(), out.display()));
            super::warn(format!(
                "{} holds the secret in plaintext; when done, run `custodian outputs destroy {}`",
                out.display(),
                out.display()
            ));
            Ok(())
        }
    }
}
