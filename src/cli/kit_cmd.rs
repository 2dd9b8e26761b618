//! `custodian kit keygen|fingerprint|verify|derive|make-drill-kit`: the
//! vendor DR kit (see `custodian_core::drkit`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use secrecy::SecretString;
use serde_json::json;

use super::{CmdResult, Ctx, Failure, PassphraseArgs, say, say_json, show_strength, warn};
use custodian_core::drkit::DrKitError;
use custodian_core::drkit::derive::{
    CheckedWallets, DeriveOptions, ListOptions, OutputFormat, WalletSource,
};
use custodian_core::drkit::keys::{self, KeygenStage};
use custodian_core::drkit::kit::RecoveryKit;
use custodian_core::drkit::ops;
use custodian_core::fsutil;
use custodian_core::text::{count, grouped};

/// DR kit subcommands.
#[derive(Debug, Subcommand)]
pub enum KitCmd {
    /// Create the RSA-4096 recovery key pair (the public key goes to the vendor).
    Keygen {
        /// Where to write the encrypted private key (default: <workspace>/drkit/recovery-private.pem).
        #[arg(long, value_name = "FILE")]
        private: Option<PathBuf>,
        /// Where to write the public key (default: <workspace>/drkit/recovery-public.pem).
        #[arg(long, value_name = "FILE")]
        public: Option<PathBuf>,
        /// Also print the public key as a QR code.
        #[arg(long)]
        qr: bool,
        #[command(flatten)]
        pass: PassphraseArgs,
    },
    /// Print a public key's verification phrase (compare it with the vendor's).
    Fingerprint {
        /// The public key PEM.
        public: PathBuf,
        /// Also print the public key as a QR code.
        #[arg(long)]
        qr: bool,
    },
    /// Decrypt a kit's master keys with the recovery key and report what it holds.
    Verify {
        /// The kit zip.
        kit: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Derive Key Share #1 (and the asset chain code) for wallets into a new file.
    Derive {
        /// The kit zip.
        kit: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// A wallet id (repeatable).
        #[arg(
            long = "wallet",
            value_name = "ID",
            required_unless_present = "wallets",
            conflicts_with = "wallets"
        )]
        wallet: Vec<String>,
        /// A file of wallet ids: one per line (spaces and tabs around an id
        /// and blank lines are skipped), or CSV with a header row.
        #[arg(long, value_name = "FILE")]
        wallets: Option<PathBuf>,
        /// The CSV column holding the wallet ids (default: the column named
        /// like walletId, wallet_id or id); other columns become labels.
        #[arg(long, value_name = "NAME", requires = "wallets")]
        column: Option<String>,
        /// Where to write the shares (must not exist; created 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::VendorJson)]
        format: FormatArg,
        /// Leave out (and list) bad wallet id lines instead of failing.
        #[arg(long)]
        skip_invalid: bool,
        /// Worker threads (default: all cores).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
    /// Write a synthetic kit encrypted to a public key, for drills and tests.
    MakeDrillKit {
        /// The recovery public key PEM.
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
        /// Where to write the kit zip (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// The recovery private key and where its passphrase comes from.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The recovery private key (legacy encrypted PEM, PKCS#8 or PKCS#1).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    pass: PassphraseArgs,
}

/// Output formats on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// The vendor tool's JSON object.
    VendorJson,
    /// One JSON object per wallet per line.
    Jsonl,
    /// CSV with a header row, one row per share.
    Csv,
}

impl From<FormatArg> for OutputFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::VendorJson => OutputFormat::VendorJson,
            FormatArg::Jsonl => OutputFormat::Jsonl,
            FormatArg::Csv => OutputFormat::Csv,
        }
    }
}

/// Asks for the key's passphrase only when the key file is encrypted.
fn key_passphrase(args: &KeyArgs) -> Result<Option<SecretString>, Failure> {
    let bytes = zeroize::Zeroizing::new(fsutil::read_limited(&args.key, keys::MAX_KEY_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| DrKitError::NotAPrivateKey(args.key.display().to_string()))?;
    if !keys::needs_passphrase(text) {
        return Ok(None);
    }
    Ok(Some(args.pass.prompter().existing(&format!(
        "Passphrase for {}",
        args.key.display()
    ))?))
}

fn print_qr(pem: &str) -> Result<(), Failure> {
    for line in keys::qr_lines(pem)? {
        say(line);
    }
    Ok(())
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Bar {
    tty: bool,
    last: u64,
}

impl Bar {
    fn new() -> Bar {
        Bar {
            tty: std::io::stderr().is_terminal(),
            last: u64::MAX,
        }
    }

    fn show(&mut self, done: u64, total: u64) {
        if !self.tty || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        if pct == self.last {
            return;
        }
        self.last = pct;
        let filled = (pct / 2) as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {pct:3}% {}/{} wallets",
            "#".repeat(filled),
            " ".repeat(50 - filled),
            grouped(done),
            grouped(total),
        );
        if done == total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// Runs a kit subcommand.
pub fn run(ctx: &Ctx, cmd: KitCmd) -> CmdResult {
    match cmd {
        KitCmd::Keygen {
            private,
            public,
            qr,
            pass,
        } => {
            let ws = ctx.workspace()?;
            let (private, public) = match (private, public) {
                (Some(a), Some(b)) => (a, b),
                (a, b) => {
                    let (da, db) = ops::default_key_paths(&ws)?;
                    (a.unwrap_or(da), b.unwrap_or(db))
                }
            };
            for p in [&private, &public] {
                if p.symlink_metadata().is_ok() {
                    return Err(fsutil::FsError::AlreadyExists(p.clone()).into());
                }
            }
            let passphrase = pass.prompter().new_passphrase(
                "New passphrase for the recovery private key",
                &mut show_strength,
            )?;
            let mut stage = |s: KeygenStage| {
                let (n, of) = s.step();
                eprintln!("[{n}/{of}] {}…", s.label());
            };
            let created =
                ops::create_recovery_key(&ws, &private, &public, &passphrase, &mut stage)?;
            if ctx.json {
                say_json(&json!({
                    "privateKey": created.private_path, "publicKey": created.public_path,
                    "phrase": created.phrase,
                }));
            } else {
                say(format!(
                    "private key:         {} (encrypted PKCS#8)",
                    created.private_path.display()
                ));
                say(format!(
                    "public key:          {}",
                    created.public_path.display()
                ));
                say(format!("verification phrase: {}", created.phrase));
                say(
                    "Send the public key to the vendor; read this phrase back with them before they build a kit.",
                );
                say(
                    "Store the private key and its passphrase apart, offline; without both no kit can be opened.",
                );
                if qr {
                    print_qr(&created.public_pem)?;
                }
            }
            Ok(())
        }
        KitCmd::Fingerprint { public, qr } => {
            let (key, text) = keys::load_public_key(&public)?;
            let phrase = keys::verification_phrase(&text);
            if ctx.json {
                say_json(
                    &json!({ "publicKey": public, "phrase": phrase, "bits": keys::key_bits(&key) }),
                );
            } else {
                say(format!("verification phrase: {phrase}"));
                say(format!("key:                 RSA-{}", keys::key_bits(&key)));
                if qr {
                    print_qr(&text)?;
                }
            }
            Ok(())
        }
        KitCmd::Verify { kit, key } => {
            // Parse the kit first: a wrong file fails before any passphrase.
            let opened = RecoveryKit::open(&kit)?;
            let pass = key_passphrase(&key)?;
            let ws = ctx.workspace()?;
            let report = ops::verify(&ws, opened, &key.key, pass.as_ref())?;
            if ctx.json {
                say_json(&serde_json::to_value(&report).unwrap_or_default());
                return Ok(());
            }
            say(format!("kit:        {}", report.kit.display()));
            say(format!("sha256:     {}", report.kit_sha256));
            say(format!(
                "tenant:     {}",
                report.tenant_id.as_deref().unwrap_or("(not given)")
            ));
            say(format!("layout:     {:?}", report.layout));
            say(format!("keys:       {}", report.keys.len()));
            for k in &report.keys {
                say(format!(
                    "  {}  {}",
                    k.key_id,
                    k.algo.as_deref().unwrap_or("(algorithm not given)")
                ));
            }
            say(format!("master keys: {}", report.master_keys.len()));
            for m in &report.master_keys {
                say(format!(
                    "  {}  {}  {}",
                    m.id,
                    m.kind,
                    count(m.cosigners.len() as u64, "cosigner", "cosigners")
                ));
            }
            for d in &report.decrypted {
                say(format!(
                    "decrypted:  master key {} for cloud cosigner {} (entry {}, 32 bytes)",
                    d.master_key_id, d.cosigner_id, d.entry
                ));
            }
            say("OK: the recovery key opens this kit. No secret was printed or written.");
            Ok(())
        }
        KitCmd::Derive {
            kit,
            key,
            wallet,
            wallets,
            column,
            out,
            format,
            skip_invalid,
            threads,
        } => {
            let source = match wallets {
                Some(f) => WalletSource::File(f),
                None => WalletSource::List(wallet),
            };
            // Everything that can be checked without secrets is checked first.
            if out.symlink_metadata().is_ok() {
                return Err(fsutil::FsError::AlreadyExists(out).into());
            }
            let checked = CheckedWallets::check_with(source, &ListOptions { column })?;
            checked.require_usable(skip_invalid)?;
            let opened = RecoveryKit::open(&kit)?;
            opened.metadata.ncw_master()?;
            let pass = key_passphrase(&key)?;
            let ws = ctx.writing_workspace()?;
            let mut bar = Bar::new();
            let summary = ops::derive(
                &ws,
                opened,
                &key.key,
                pass.as_ref(),
                &checked,
                &out,
                &DeriveOptions {
                    format: format.into(),
                    skip_invalid,
                    threads,
                },
                &mut |p| bar.show(p.done, p.total),
            )?;
            for s in &summary.skipped {
                warn(format!("skipped line {}: {}", s.line, s.reason));
            }
            if ctx.json {
                say_json(&serde_json::to_value(&summary).unwrap_or_default());
            } else {
                say(format!("derived {}", summary.counts()));
                for note in summary.list_notes() {
                    say(note);
                }
                if !summary.skipped.is_empty() {
                    say(format!(
                        "skipped {} (listed above)",
                        count(
                            summary.skipped.len() as u64,
                            "invalid line",
                            "invalid lines"
                        )
                    ));
                }
                say(format!(
                    "wrote {} ({})",
                    summary.out.display(),
                    summary.format
                ));
                say(format!("sha256 {}", summary.out_sha256));
                warn(
                    "that file holds private key shares: keep it offline and destroy it when the recovery is done",
                );
            }
            Ok(())
        }
        KitCmd::MakeDrillKit { public, out } => make_drill_kit(ctx, &public, &out),
    }
}

/// `kit make-drill-kit` (and, once wired, `drill make-kit`): a synthetic
/// kit encrypted to `public`, written to `out`.
pub(super) fn make_drill_kit(
    ctx: &Ctx,
    public: &std::path::Path,
    out: &std::path::Path,
) -> CmdResult {
    let ws = ctx.workspace()?;
    let made = ops::make_drill_kit(&ws, public, out)?;
    if ctx.json {
        say_json(&serde_json::to_value(&made).unwrap_or_default());
    } else {
        say(format!("wrote drill kit {}", made.path.display()));
        say(format!("  tenant:          {}", made.tenant_id));
        say(format!("  NCW master key:  {}", made.master_key_id));
        say(format!("  cloud cosigner:  {}", made.cosigner_id));
        say(format!("  master-key entry {}", made.entry));
        say("This kit is synthetic: drill material only.");
    }
    Ok(())
}
