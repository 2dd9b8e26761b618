//! `custodian passphrase generate|check`.

use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{CmdResult, Ctx, PassphraseArgs, say, say_json, show_strength};
use custodian_core::passphrase;

/// Passphrase subcommands.
#[derive(Debug, Subcommand)]
pub enum PassphraseCmd {
    /// Print a new diceware passphrase from the EFF large word list.
    Generate {
        /// Number of words (6 to 32).
        #[arg(
            long,
            default_value_t = passphrase::DEFAULT_WORDS,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
                .range(passphrase::MIN_WORDS as u64..=passphrase::MAX_WORDS as u64)
        )]
        words: usize,
    },
    /// Check a passphrase against the creation policy and estimate its strength.
    Check {
        #[command(flatten)]
        pass: PassphraseArgs,
    },
}

/// Runs a passphrase subcommand.
pub fn run(ctx: &Ctx, cmd: PassphraseCmd) -> CmdResult {
    match cmd {
        PassphraseCmd::Generate { words } => {
            let p = passphrase::generate(words)?;
            let bits = passphrase::generated_bits(words);
            if ctx.json {
                say_json(
                    &json!({ "passphrase": p.expose_secret(), "words": words, "bits": bits.floor() }),
                );
            } else {
                say(p.expose_secret());
                eprintln!("{words} words from the EFF large list: about {bits:.0} bits of entropy");
            }
            Ok(())
        }
        PassphraseCmd::Check { pass } => {
            let p = pass.prompter().existing("Passphrase to check")?;
            let strength = passphrase::estimate(&p);
            show_strength(&strength);
            passphrase::check_new(&p)?;
            say("meets the policy");
            Ok(())
        }
    }
}
