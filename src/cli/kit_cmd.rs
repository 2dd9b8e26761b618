//! `custodian kit keygen|fingerprint|verify|derive|make-drill-kit`: the
//! vendor DR kit (see `custodian_core::drkit`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use secrecy::SecretString;
use serde_json::json;

use super::{
    CmdResult, Ctx, Failure, PassphraseArgs, say, say_json, show_once, show_strength, warn,
};
use custodian_core::drkit::DrKitError;
use custodian_core::drkit::derive::{
    CheckedWallets, DeriveOptions, ListOptions, OutputFormat, WalletSource,
};
use custodian_core::drkit::keys::{self, KeygenStage};
use custodian_core::drkit::kit::RecoveryKit;
use custodian_core::drkit::ops;
use custodian_core::drkit::workspace_keys::{self, KeysOutput, MobileSecret, Selection};
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
    /// Decrypt a kit's master keys with the recovery key and report what it
    /// holds; with the owner's mobile secret, also recover and check every
    /// workspace key against its public key (nothing is output).
    Verify {
        /// The kit zip.
        kit: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        mobile: MobileArgs,
    },
    /// Recover the workspace's MPC signing keys (ECDSA and EdDSA) from the
    /// kit, verified against their public keys, to exactly one output:
    /// --to age1… --out FILE, --hsm-public-key PEM --out F (a new
    /// directory F, or an existing one), or --show-once. The public
    /// manifest (key ids, xpub/fpub, verified) is always printed.
    #[command(group(clap::ArgGroup::new("output").required(true).args(["to", "hsm_public_key", "show_once"])))]
    Recover {
        /// The kit zip.
        kit: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        mobile: MobileArgs,
        /// Encrypt the keys (one JSON document) to this age recipient.
        #[arg(
            long,
            value_name = "AGE1…",
            allow_hyphen_values = true,
            requires = "out"
        )]
        to: Option<String>,
        /// Wrap each key's 32-byte private scalar to this HSM import public
        /// key (RSA PEM, RSA-OAEP-SHA256): one file <key id>.oaep per key
        /// and a public manifest workspace-keys-manifest.json, in the
        /// --out directory.
        #[arg(long, value_name = "PEM", requires = "out")]
        hsm_public_key: Option<PathBuf>,
        /// With --to: the age file to create (must not exist). With
        /// --hsm-public-key: the directory to create (0700; removed again
        /// if the recovery fails), or an existing directory to write into
        /// (none of the files may exist in it yet).
        #[arg(long, value_name = "F")]
        out: Option<PathBuf>,
        /// Show the keys once on this terminal, one key a page, for 60
        /// seconds each; then the screen and its scrollback are cleared.
        #[arg(long, conflicts_with = "out")]
        show_once: bool,
        /// An approver (at least two). Under the "authenticated approvals"
        /// policy each is a registered custodian who opens their own
        /// identity: their passphrases are asked first, in --approver order,
        /// before the recovery key's.
        #[arg(long = "approver", value_name = "NAME")]
        approvers: Vec<String>,
        /// An approver without a custodian identity: a typed name, marked as
        /// such in the audit log; it does not count towards the
        /// authenticated approvals a policy requires.
        #[arg(long = "typed-approver", value_name = "NAME")]
        typed_approvers: Vec<String>,
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
    /// Write a complete synthetic kit encrypted to a public key, for drills
    /// and tests (same as `drill make-kit`).
    MakeDrillKit {
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

/// The workspace owner's (mobile) secret and which keys to take.
#[derive(Debug, Args)]
pub struct MobileArgs {
    /// A file whose first line is the workspace owner's recovery passphrase.
    #[arg(long, value_name = "FILE", conflicts_with = "mobile_key")]
    mobile_passphrase_file: Option<PathBuf>,
    /// The mobile RSA private key (owner entries under RSA-OAEP-SHA256).
    #[arg(long, value_name = "PEM")]
    mobile_key: Option<PathBuf>,
    /// Only this key id.
    #[arg(long, value_name = "ID", conflicts_with = "keyset")]
    key_id: Option<String>,
    /// Only this keyset.
    #[arg(long, value_name = "N")]
    keyset: Option<u64>,
}

impl MobileArgs {
    fn given(&self) -> bool {
        self.mobile_passphrase_file.is_some() || self.mobile_key.is_some()
    }

    fn selection(&self) -> Selection {
        match (&self.key_id, self.keyset) {
            (Some(id), _) => Selection::KeyId(id.clone()),
            (None, Some(n)) => Selection::Keyset(n),
            (None, None) => Selection::All,
        }
    }

    fn secret(&self) -> Result<MobileSecret, Failure> {
        if let Some(f) = &self.mobile_passphrase_file {
            let pass = custodian_core::passphrase::Prompter::new(
                custodian_core::passphrase::Source::File(f.clone()),
            )
            .existing("the workspace owner's recovery passphrase")?;
            return Ok(MobileSecret::Passphrase(pass));
        }
        if let Some(pem) = &self.mobile_key {
            let bytes = zeroize::Zeroizing::new(fsutil::read_limited(pem, keys::MAX_KEY_FILE)?);
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| DrKitError::NotAPrivateKey(pem.display().to_string()))?;
            let pass = if keys::needs_passphrase(text) {
                Some(
                    custodian_core::passphrase::Prompter::new(
                        custodian_core::passphrase::Source::Terminal,
                    )
                    .existing(&format!("Passphrase for {}", pem.display()))?,
                )
            } else {
                None
            };
            return Ok(MobileSecret::RsaKey(Box::new(keys::load_private_key(
                pem,
                pass.as_ref(),
            )?)));
        }
        Err(DrKitError::NoSuchWorkspaceKey(
            "give the workspace owner's secret: --mobile-passphrase-file FILE or --mobile-key PEM"
                .into(),
        )
        .into())
    }
}

fn print_workspace_keys(keys: &[serde_json::Value]) {
    for k in keys {
        let ext = k.get("xpub").or_else(|| k.get("fpub"));
        say(format!(
            "key {}  {}  keyset {}",
            k["keyId"].as_str().unwrap_or_default(),
            k["algo"].as_str().unwrap_or_default(),
            k["keysetId"]
        ));
        say(format!(
            "  public key: {}",
            k["publicKey"].as_str().unwrap_or_default()
        ));
        say(format!(
            "  {}: {}",
            if k.get("fpub").is_some() {
                "fpub"
            } else {
                "xpub"
            },
            ext.and_then(|v| v.as_str()).unwrap_or_default()
        ));
        say(format!(
            "  {}",
            if k["verified"] == true {
                "verified: the shares reproduce this public key"
            } else {
                "NOT verified"
            }
        ));
    }
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
    key_passphrase_from(args, &mut args.pass.prompter())
}

/// [`key_passphrase`] from a prompter that may already have given others.
fn key_passphrase_from(
    args: &KeyArgs,
    prompter: &mut custodian_core::passphrase::Prompter,
) -> Result<Option<SecretString>, Failure> {
    let bytes = zeroize::Zeroizing::new(fsutil::read_limited(&args.key, keys::MAX_KEY_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| DrKitError::NotAPrivateKey(args.key.display().to_string()))?;
    if !keys::needs_passphrase(text) {
        return Ok(None);
    }
    Ok(Some(prompter.existing(&format!(
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
        KitCmd::Verify { kit, key, mobile } if mobile.given() => {
            let opened = RecoveryKit::open(&kit)?;
            workspace_keys::selected_keys(&opened, &mobile.selection())?;
            let pass = key_passphrase(&key)?;
            let secret = mobile.secret()?;
            let ws = ctx.workspace()?;
            let keys = workspace_keys::verify_audited(
                &ws,
                opened,
                &key.key,
                pass.as_ref(),
                &secret,
                &mobile.selection(),
            )?;
            if ctx.json {
                say_json(&json!({ "kit": kit, "keys": keys }));
            } else {
                print_workspace_keys(&keys);
                say(format!(
                    "OK: {} recovered and verified against {} public keys. No secret was printed or written.",
                    count(keys.len() as u64, "workspace key", "workspace keys"),
                    if keys.len() == 1 { "its" } else { "their" }
                ));
            }
            Ok(())
        }
        KitCmd::Recover {
            kit,
            key,
            mobile,
            to,
            hsm_public_key,
            out,
            show_once,
            approvers,
            typed_approvers,
        } => {
            let output = match (to, hsm_public_key, out) {
                (Some(recipient), None, Some(out)) => KeysOutput::Age { recipient, out },
                (None, Some(public_key_pem), Some(dir)) => KeysOutput::Hsm {
                    public_key_pem,
                    dir,
                },
                _ => {
                    debug_assert!(show_once);
                    show_once::require_terminal(
                        "--to age1… --out FILE or --hsm-public-key PEM --out F",
                    )?;
                    KeysOutput::Screen
                }
            };
            // Everything public first: the kit, the selection, the output.
            let opened = RecoveryKit::open(&kit)?;
            workspace_keys::check_output(&opened, &mobile.selection(), &output)?;
            let ws = ctx.writing_workspace()?;
            // People before secrets: the approvers open their identities
            // first, then the recovery key's passphrase, then the owner's.
            let mut prompter = key.pass.prompter();
            let approvals = super::recover_cmd::gather_approvals(
                &ws,
                &approvers,
                &typed_approvers,
                &mut prompter,
            )?;
            workspace_keys::check_approvals(&ws, &approvals)?;
            let pass = key_passphrase_from(&key, &mut prompter)?;
            let secret = mobile.secret()?;
            let mut outcome = workspace_keys::recover_audited(
                &ws,
                opened,
                &workspace_keys::RecoverRequest {
                    key_path: &key.key,
                    passphrase: pass.as_ref(),
                    mobile: &secret,
                    select: &mobile.selection(),
                    output: &output,
                    approvals: &approvals,
                },
            )?;
            drop(pass);
            drop(secret);
            let mut shown = None;
            if let Some(keys) = outcome.shown_once.take() {
                let width = show_once::width();
                let pages: Vec<show_once::Page> = keys
                    .iter()
                    .map(|k| show_once::Page {
                        title: format!(
                            "WORKSPACE KEY {} — shown once. Do not photograph unless your procedure says so.",
                            k.key_id
                        ),
                        lines: k.lines(width),
                    })
                    .collect();
                let n = keys.len().to_string();
                let was_shown = show_once::show_pages(
                    &format!("Type the number of keys ({n}) to show their private keys once"),
                    &n,
                    &pages,
                )
                .map_err(|e| show_once::terminal_failed(&e))?;
                drop(pages);
                drop(keys);
                workspace_keys::record_cleared(&ws, &outcome.audit_op, was_shown, None)?;
                shown = Some(was_shown);
            }
            if ctx.json {
                say_json(&json!({
                    "kit": kit, "keys": outcome.keys,
                    "files": outcome.written.iter().map(|w| json!({"file": w.0, "sha256": w.1})).collect::<Vec<_>>(),
                    "manifest": outcome.manifest,
                    "shownOnce": shown,
                    "approvals": approvals.iter().map(|a| a.audit_value()).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            print_workspace_keys(&outcome.keys);
            for a in &approvals {
                say(format!(
                    "approved by {}{}",
                    a.name,
                    if a.is_authenticated() {
                        " (opened their identity)"
                    } else {
                        " (typed name)"
                    }
                ));
            }
            for (path, sha) in &outcome.written {
                say(format!("wrote {} (sha256 {sha})", path.display()));
            }
            match (&output, shown) {
                (KeysOutput::Hsm { .. }, _) => say(
                    "Each .oaep file holds one key's 32-byte private scalar (EdDSA: the raw scalar, not an RFC 8032 seed), wrapped with RSA-OAEP-SHA256 to the HSM key; the manifest is public. Nothing else was written or logged.",
                ),
                (KeysOutput::Age { .. }, _) => say(
                    "The private keys are only in that file (EdDSA: the raw scalar, not an RFC 8032 seed); nothing else was written or logged.",
                ),
                (KeysOutput::Screen, Some(true)) => say(
                    "The keys were shown once and the screen and its scrollback have been cleared. Nothing was written or logged.",
                ),
                (KeysOutput::Screen, _) => warn(
                    "the number was not confirmed; the keys were discarded without being shown",
                ),
            }
            Ok(())
        }
        KitCmd::Verify {
            kit,
            key,
            mobile: _,
        } => {
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
        KitCmd::MakeDrillKit {
            public,
            out,
            mobile_passphrase_file,
        } => make_drill_kit(ctx, &public, &out, mobile_passphrase_file.as_deref()),
    }
}

/// `kit make-drill-kit` and `drill make-kit`: a complete synthetic kit
/// encrypted to `public`, written to `out`.
pub(super) fn make_drill_kit(
    ctx: &Ctx,
    public: &std::path::Path,
    out: &std::path::Path,
    mobile_passphrase_file: Option<&std::path::Path>,
) -> CmdResult {
    if out.symlink_metadata().is_ok() {
        return Err(fsutil::FsError::AlreadyExists(out.to_path_buf()).into());
    }
    let owner = match mobile_passphrase_file {
        Some(f) => custodian_core::passphrase::Prompter::new(
            custodian_core::passphrase::Source::File(f.to_path_buf()),
        )
        .existing("the drill's owner (mobile) passphrase")?,
        None => SecretString::from(custodian_core::drkit::kit::DRILL_OWNER_PASSPHRASE),
    };
    let ws = ctx.workspace()?;
    let made = ops::make_drill_kit_with(&ws, public, out, &owner)?;
    if ctx.json {
        say_json(&serde_json::to_value(&made).unwrap_or_default());
    } else {
        say(format!("wrote drill kit {}", made.path.display()));
        say(format!("  tenant:          {}", made.tenant_id));
        say(format!("  NCW master key:  {}", made.master_key_id));
        say(format!("  cloud cosigner:  {}", made.cosigner_id));
        say(format!("  master-key entry {}", made.entry));
        for k in &made.keys {
            say(format!(
                "  workspace key:   {}  {}  keyset {}",
                k.key_id, k.algo, k.keyset_id
            ));
        }
        say(if mobile_passphrase_file.is_some() {
            "  owner entries:   under the passphrase in the file given".to_string()
        } else {
            format!(
                "  owner entries:   under the published drill passphrase \"{}\"",
                custodian_core::drkit::kit::DRILL_OWNER_PASSPHRASE
            )
        });
        say(
            "This kit is synthetic: drill material only. `custodian kit recover` recovers every key in it.",
        );
    }
    Ok(())
}
