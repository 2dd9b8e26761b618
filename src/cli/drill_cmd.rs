//! `custodian drill …`: synthetic material for rehearsals.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_strength, warn};
use crate::drill::key::{self, MakeKeyRequest};

/// Drill subcommands.
#[derive(Debug, Subcommand)]
pub enum DrillCmd {
    /// Make a random secp256k1 drill key split into shards for the custodians.
    MakeKey {
        /// Custodian names, comma-separated, in index order.
        #[arg(long, value_delimiter = ',', required = true)]
        custodians: Vec<String>,
        /// Shares needed to recover the key.
        #[arg(long, default_value_t = 2)]
        threshold: u32,
        /// Key id (must start with `drill-`; random when omitted).
        #[arg(long)]
        key_id: Option<String>,
        /// Directory for the shard files (default: <workspace>/shards).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Create sandbox identities for custodians not yet registered
        /// (one new passphrase each, in the order named).
        #[arg(long)]
        generate_identities: bool,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
}

/// Runs a drill subcommand.
pub fn run(ctx: &Ctx, cmd: DrillCmd) -> CmdResult {
    match cmd {
        DrillCmd::MakeKey {
            custodians,
            threshold,
            key_id,
            out_dir,
            generate_identities,
            pass,
        } => {
            key::check_request(&custodians, threshold)?;
            let ws = ctx.workspace()?;
            if !ws.is_sandbox() {
                warn(
                    "this workspace is not marked as a drill sandbox; the key is still recorded as drill material",
                );
            }
            let missing = key::missing_custodians(&ws, &custodians)?;
            let mut generate = Vec::new();
            if generate_identities {
                let mut prompter = pass.prompter();
                for name in &missing {
                    let p = prompter.new_passphrase(
                        &format!("New passphrase for sandbox identity {name}"),
                        &mut show_strength,
                    )?;
                    generate.push((name.clone(), p));
                }
            } else if let Some(first) = missing.first() {
                return Err(key::DrillKeyError::UnknownCustodian(first.clone()).into());
            }
            let record = key::make_key(
                &ws,
                MakeKeyRequest {
                    custodians,
                    threshold,
                    key_id,
                    out_dir,
                    generate,
                },
            )?;
            if ctx.json {
                say_json(&json!({
                    "keyId": record.key_id, "rootPublicKey": record.root_public_key,
                    "threshold": record.threshold, "custodians": record.custodians,
                    "files": record.files,
                }));
            } else {
                say(format!(
                    "drill key {} ({}-of-{})",
                    record.key_id,
                    record.threshold,
                    record.custodians.len()
                ));
                say(format!("  root public key: {}", record.root_public_key));
                for (i, (c, f)) in record.custodians.iter().zip(&record.files).enumerate() {
                    say(format!("  shard {} for {c}: {}", i + 1, f.display()));
                }
                for name in &missing {
                    if generate_identities {
                        say(format!("  generated sandbox identity for {name}"));
                    }
                }
            }
            Ok(())
        }
    }
}
