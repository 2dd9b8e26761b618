//! `custodian drill …`: synthetic material for rehearsals.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_strength, warn};
use custodian_core::drill::key::{self, MakeKeyRequest};

/// Drill subcommands.
#[derive(Debug, Subcommand)]
pub enum DrillCmd {
    /// Run the quarterly drill: a new sandbox with synthetic custodians,
    /// guardians, a 2-of-3 key and a vendor kit; all five scenarios run for
    /// real and verified; a Markdown + JSON report in this workspace.
    Run {
        /// People taking part, comma-separated (at least two: the recovery quorum).
        #[arg(long, value_delimiter = ',', required = true)]
        participants: Vec<String>,
        /// Sandbox directory, new or empty (default: beside the workspace).
        #[arg(long)]
        sandbox: Option<PathBuf>,
        /// Generate every passphrase (non-interactive, for CI). Without it,
        /// the three synthetic custodians' passphrases are typed by the participants.
        #[arg(long)]
        auto: bool,
        #[command(flatten)]
        pass: PassphraseArgs,
        #[command(flatten)]
        time: super::ConfirmTimeArgs,
    },
    /// Write a complete synthetic vendor DR kit (the vendor's exact format)
    /// encrypted to a recovery public key: three workspace keys (ECDSA and
    /// EdDSA in keyset 1, CMP ECDSA in keyset 2) with cloud and owner
    /// entries, and the NCW master key.
    MakeKit {
        /// The recovery public key PEM.
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
        /// Where to write the kit zip (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A file whose first line is the drill's owner (mobile) passphrase
        /// (default: the published drill passphrase "drill kit owner passphrase").
        #[arg(long, value_name = "FILE")]
        mobile_passphrase_file: Option<PathBuf>,
    },
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
        DrillCmd::MakeKit {
            public,
            out,
            mobile_passphrase_file,
        } => super::kit_cmd::make_drill_kit(ctx, &public, &out, mobile_passphrase_file.as_deref()),
        DrillCmd::Run {
            participants,
            sandbox,
            auto,
            pass,
            time,
        } => {
            let ws = ctx.workspace()?;
            super::confirm_clock(&ws, time, "drill run")?;
            let id = custodian_core::drill::run::new_drill_id();
            let sandbox = match sandbox {
                Some(s) => s,
                None => custodian_core::drill::run::default_sandbox(&ws, &id),
            };
            let custodian_passphrases = if auto {
                None
            } else {
                let mut prompter = pass.prompter();
                let mut list = Vec::new();
                for name in custodian_core::drill::run::CUSTODIANS {
                    list.push(prompter.new_passphrase(
                        &format!("Drill passphrase for synthetic custodian {name}"),
                        &mut show_strength,
                    )?);
                }
                Some(list)
            };
            let opts = custodian_core::drill::run::DrillOptions {
                id,
                sandbox,
                participants,
                custodian_passphrases,
            };
            let show = |done: u64, total: u64, what: &str| {
                if !ctx.json {
                    eprintln!("[{done}/{total}] {what}");
                }
            };
            let outcome = custodian_core::drill::run::run_drill(&ws, &opts, &show)?;
            let r = &outcome.report;
            if ctx.json {
                say_json(&serde_json::to_value(r).unwrap_or_default());
            } else {
                say(format!(
                    "drill {}: {}",
                    r.id,
                    if r.passed { "PASSED" } else { "FAILED" }
                ));
                for s in &r.scenarios {
                    say(format!(
                        "  scenario {}  {:<4}  {:>6.1} s  {}",
                        s.number,
                        if s.passed { "pass" } else { "FAIL" },
                        s.duration_ms as f64 / 1000.0,
                        s.title
                    ));
                    if let Some(e) = &s.error {
                        say(format!("      stopped: {e}"));
                    }
                }
                say(format!("report: {}", outcome.markdown.display()));
                say(format!("        {}", outcome.json.display()));
                say(format!(
                    "sandbox: {} (walk the scenarios yourself: custodian --workspace {})",
                    r.sandbox.display(),
                    r.sandbox.display()
                ));
            }
            if r.passed {
                Ok(())
            } else {
                Err(super::Failure {
                    report: custodian_core::error::Report {
                        message: format!("drill {} failed", r.id),
                        causes: Vec::new(),
                        remedy: Some(format!(
                            "read {} for the failing checks; the sandbox is kept for inspection",
                            outcome.markdown.display()
                        )),
                    },
                    code: 1,
                })
            }
        }
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
