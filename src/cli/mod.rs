//! The command line: clap definitions mapped one-to-one onto library calls.
//!
//! `custodian` with no subcommand opens the full-screen console; every
//! subcommand is a thin wrapper that parses arguments, gathers passphrases
//! from a [`passphrase::Source`], calls the library and prints the result.
//!
//! Exit codes: 0 success, 1 the operation failed (the message and a "what to
//! do" line are printed on stderr), 2 the command line itself was wrong.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};

use custodian_core::error::{Explain, Report};
use custodian_core::passphrase::{self, Prompter, Source};
use custodian_core::workspace::{self, Workspace};

mod audit_cmd;
mod backup_cmd;
mod check_cmd;
mod custodians_cmd;
mod drill_cmd;
mod envelope_cmd;
mod guardians_cmd;
mod identity_cmd;
mod incident_cmd;
mod kit_cmd;
mod onboard_cmd;
mod outputs_cmd;
mod passphrase_cmd;
mod policy_cmd;
mod print_cmd;
mod recover_cmd;
mod retire_cmd;
mod rotate_cmd;
mod shard_cmd;
mod show_once;
mod version_cmd;

pub use version_cmd::running_binary;

/// Offline console for custodians of signing-key material.
#[derive(Debug, Parser)]
#[command(name = "custodian", version, about, long_about = None, disable_version_flag = true)]
pub struct Cli {
    /// Print the version (with --verbose: the commit, the compiler and the
    /// SHA-256 of this executable, to compare with the team's reviewed hash).
    #[arg(short = 'V', long, action = ArgAction::SetTrue)]
    pub version: bool,
    /// With --version: also the commit, the compiler and this executable's SHA-256.
    #[arg(long, requires = "version")]
    pub verbose: bool,
    /// Workspace directory (default: $CUSTODIAN_WORKSPACE, then the platform data directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Print machine-readable JSON where a command supports it.
    #[arg(long, global = true)]
    pub json: bool,
    /// Console only: lock after this many seconds without a key, clearing
    /// every secret held on screen (default 600, ten minutes).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_lock: Option<u64>,
    /// What to do; without a command the full-screen console opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Seal or open a passphrase envelope (PBKDF2-HMAC-SHA256 + AES-256-GCM).
    #[command(subcommand)]
    Envelope(envelope_cmd::EnvelopeCmd),
    /// Create, inspect, open, import or export a custodian's age identity.
    #[command(subcommand)]
    Identity(identity_cmd::IdentityCmd),
    /// Generate or check passphrases.
    #[command(subcommand)]
    Passphrase(passphrase_cmd::PassphraseCmd),
    /// Split a custodian's key among guardians, rebuild it, or inspect a share.
    #[command(subcommand)]
    Guardians(guardians_cmd::GuardiansCmd),
    /// Show or verify the hash-chained audit log.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCmd),
    /// The vendor DR kit: recovery key pair, kit verification, Key Share #1 derivation.
    #[command(subcommand)]
    Kit(kit_cmd::KitCmd),
    /// Inspect a shard, rewrap it to a new custodian, or restore it to a node.
    #[command(subcommand)]
    Shard(shard_cmd::ShardCmd),
    /// Rebuild a raw private key from threshold shards (approved, verified, one output).
    Recover(recover_cmd::RecoverArgs),
    /// Make synthetic drill material.
    #[command(subcommand)]
    Drill(drill_cmd::DrillCmd),
    /// List, show or close playbook incidents.
    #[command(subcommand)]
    Incident(incident_cmd::IncidentCmd),
    /// Run every local check (rotation, guardian splits, key files, passphrase policy, drill,
    /// network, audit chain, leftover temporary files); exit 1 if any fails.
    Check(check_cmd::CheckArgs),
    /// List custodians: the active ones, or (--all) every past identity too.
    #[command(subcommand)]
    Custodians(custodians_cmd::CustodiansCmd),
    /// The onboarding ceremony from a plan: identities, guardian splits, every guardian proves
    /// their share, then a Markdown record. Resumes an interrupted ceremony.
    Onboard(onboard_cmd::OnboardArgs),
    /// Rotate a custodian: new identity, shards rewrapped, guardians re-split, old files retired.
    Rotate(rotate_cmd::RotateArgs),
    /// Retire a custodian: their shards move to a successor, their guardian set is superseded.
    Retire(retire_cmd::RetireArgs),
    /// Plaintext outputs (derived shares, plain key exports, opened envelopes): list them,
    /// destroy one, or record that it was destroyed elsewhere.
    Outputs {
        /// What to do; without one, the list.
        #[command(subcommand)]
        cmd: Option<outputs_cmd::OutputsCmd>,
    },
    /// Show or set the workspace policy (approvals: authenticated or typed).
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCmd),
    /// Write an age-encrypted copy of the workspace for one or more recipients.
    Backup(backup_cmd::BackupArgs),
    /// Restore an encrypted workspace copy into a new directory, verifying every file and the
    /// audit chain.
    Restore(backup_cmd::RestoreArgs),
    /// PDF sheets for paper copies: a guardian's share card, the recovery key, the workspace
    /// keys, a ceremony, incident or drill record (A4 or US Letter; audited, never overwritten).
    Print(print_cmd::PrintArgs),
}

/// Where passphrases come from (the terminal when neither is given).
#[derive(Debug, Clone, Args, Default)]
pub struct PassphraseArgs {
    /// Read passphrases from this file, one per line, in the order asked.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_fd")]
    pub passphrase_file: Option<PathBuf>,
    /// Read passphrases from this inherited file descriptor, one per line.
    #[arg(long, value_name = "N")]
    pub passphrase_fd: Option<u32>,
}

impl PassphraseArgs {
    /// The prompter for these arguments.
    pub fn prompter(&self) -> Prompter {
        Prompter::new(match (&self.passphrase_file, self.passphrase_fd) {
            (Some(p), _) => Source::File(p.clone()),
            (None, Some(fd)) => Source::Fd(fd),
            (None, None) => Source::Terminal,
        })
    }
}

/// A failure ready to print: the rendered error and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// What to print.
    pub report: Report,
    /// The process exit code.
    pub code: u8,
}

impl<E: Explain> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure {
            report: Report::from_error(&err),
            code: 1,
        }
    }
}

/// The result every command returns.
pub type CmdResult = Result<(), Failure>;

/// Shared context for commands.
pub struct Ctx {
    /// The resolved workspace directory.
    pub workspace_dir: PathBuf,
    /// JSON output requested.
    pub json: bool,
}

impl Ctx {
    /// Opens (creating if needed) the workspace, for commands that write.
    pub fn workspace(&self) -> Result<Workspace, Failure> {
        Ok(Workspace::open(&self.workspace_dir)?)
    }

    /// Opens an existing workspace for a command that only reads: a missing
    /// one is an error naming the path, never created.
    pub fn existing_workspace(&self) -> Result<Workspace, Failure> {
        Ok(Workspace::open_existing(&self.workspace_dir)?)
    }

    /// Opens the workspace for a command that writes: whatever an
    /// interrupted operation left is finished or rolled back first (and
    /// said on stderr).
    pub fn writing_workspace(&self) -> Result<Workspace, Failure> {
        let (ws, repaired) = Workspace::open_for_writing(&self.workspace_dir)?;
        if !repaired.is_empty() {
            warn(repaired.summary());
        }
        // A sane clock: say so when it is more than a day past the last
        // operator-confirmed time.
        if let Ok(reg) = ws.registry()
            && let Some(w) =
                custodian_core::clock::drift_warning(&reg, custodian_core::clock::now())
        {
            warn(w);
        }
        Ok(ws)
    }
}

/// `--confirm-time` for drills, incidents and the ceremony record.
#[derive(Debug, Clone, Copy, Args, Default)]
pub struct ConfirmTimeArgs {
    /// Confirm that the system clock shows the right date and time (UTC);
    /// recorded in the audit log. Without it, a terminal asks once a day.
    #[arg(long)]
    pub confirm_time: bool,
}

/// Asks the operator, once a day, to confirm the system's date and time
/// and records it (audited `CLOCK_CONFIRMED`): with `--confirm-time`, or a
/// y/N question on a terminal. Called before the operation's transaction,
/// with the other human input. Without a terminal and without the flag it
/// warns and goes on, so scripted runs keep working.
pub fn confirm_clock(ws: &Workspace, args: ConfirmTimeArgs, context: &str) -> CmdResult {
    use std::io::IsTerminal;
    let clock = custodian_core::clock::now();
    let reg = ws.registry()?;
    if !args.confirm_time && !custodian_core::clock::needs_confirmation(&reg, clock) {
        return Ok(());
    }
    let shown = custodian_core::clock::format(clock);
    let confirmed = if args.confirm_time {
        true
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprint!("The system clock says {shown} (UTC). Is this the right date and time? [y/N] ");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Err(Failure {
                report: Report {
                    message: format!("the operator did not confirm the system time ({shown})"),
                    causes: Vec::new(),
                    remedy: Some(
                        "set the system clock from a trusted clock, then run the command again; nothing was changed"
                            .into(),
                    ),
                },
                code: 1,
            });
        }
        true
    } else {
        warn(format!(
            "the date and time ({shown}) were not confirmed by an operator; check the clock and pass --confirm-time"
        ));
        false
    };
    if confirmed {
        custodian_core::clock::confirm(ws, context, None)?;
        eprintln!("recorded: the operator confirmed the system time {shown}");
    }
    Ok(())
}

/// A workspace this command created records the running binary as its
/// accepted one (threat 6: `custodian check` flags any other binary later):
/// the console at once, a command once it has succeeded and written its
/// first audit entry — so a refused command still leaves nothing behind.
/// A failure here does not fail the command: it is said, and `custodian
/// check` reports "no accepted binary recorded" until one is accepted.
fn record_binary_if_new(dir: &Path) {
    if !dir.join(workspace::AUDIT_FILE).exists() {
        return;
    }
    if let Ok(ws) = Workspace::open_existing(dir) {
        record_accepted_binary(&ws);
    }
}

/// Records the running binary as `ws`'s accepted one unless one is; a
/// failure is a warning (see [`record_binary_if_new`]).
fn record_accepted_binary(ws: &Workspace) {
    let recorded = running_binary()
        .map_err(|e| format!("could not hash the running binary: {e}"))
        .and_then(|bin| {
            custodian_core::binary::record_if_unset(ws, &bin, "workspace created")
                .map_err(|e| Report::from_error(&e).to_string())
        });
    if let Err(e) = recorded {
        warn(format!("the new workspace records no accepted binary: {e}"));
    }
}

/// Prints a line to stdout, ignoring a closed pipe.
pub fn say(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.as_ref());
}

/// Prints a warning to stderr.
pub fn warn(text: impl AsRef<str>) {
    eprintln!("warning: {}", text.as_ref());
}

/// Prints a JSON value to stdout.
pub fn say_json(value: &serde_json::Value) {
    say(serde_json::to_string_pretty(value).unwrap_or_default());
}

/// Each guardian in `names`, in order, chooses a new passphrase for their
/// share (split, rotation and onboarding ask the same way).
pub fn guardian_passphrases(
    prompter: &mut Prompter,
    names: &[String],
) -> Result<Vec<(String, secrecy::SecretString)>, Failure> {
    let total = names.len();
    let mut out = Vec::with_capacity(total);
    for (i, name) in names.iter().enumerate() {
        let p = prompter.new_passphrase(
            &format!(
                "New passphrase for guardian {name} (share {} of {total})",
                i + 1
            ),
            &mut show_strength,
        )?;
        out.push((name.clone(), p));
    }
    Ok(out)
}

/// The approvals of an operation, gathered before anything else is asked
/// (CLARIFICATIONS 4). Under the workspace policy of authenticated
/// approvals each of `approvers` is a registered custodian who opens their
/// own identity (their passphrase is asked now, in order: proof of
/// presence); under the "typed" policy they are typed names. `typed` names
/// (people without an identity) are always typed, marked so in the audit log.
pub fn gather_approvals(
    ws: &Workspace,
    prompter: &mut Prompter,
    approvers: &[String],
    typed: &[String],
) -> Result<Vec<custodian_core::approvals::Approval>, Failure> {
    use custodian_core::approvals::{self, ApprovalPolicy};
    let reg = ws.registry()?;
    if approvals::policy(&reg) != ApprovalPolicy::Authenticated {
        let names: Vec<String> = approvers.iter().chain(typed).cloned().collect();
        return Ok(approvals::gather(&[], &names));
    }
    refuse_repeated_approvers(ws, &[approvers, typed].concat())?;
    let mut given = Vec::new();
    for name in approvers {
        let pass = prompter.existing(&format!(
            "Approver {}: passphrase for your own identity",
            name.trim()
        ))?;
        given.push(approvals::authenticate(&reg, name, &pass)?);
    }
    Ok(approvals::gather(&given, typed))
}

/// Under the workspace policy of authenticated approvals, a person named
/// twice (case-insensitively) is refused by name before any passphrase is
/// asked. (Under "typed", repeated names count once, as they always did.)
pub fn refuse_repeated_approvers(ws: &Workspace, names: &[String]) -> CmdResult {
    use custodian_core::approvals::{self, ApprovalPolicy};
    if approvals::policy(&ws.registry()?) != ApprovalPolicy::Authenticated {
        return Ok(());
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i]
            .iter()
            .any(|m| m.trim().eq_ignore_ascii_case(n.trim()))
        {
            return Err(approvals::ApprovalError::SamePerson(n.trim().to_string()).into());
        }
    }
    Ok(())
}

/// Splits gathered approvals into the identities opened and the typed names.
pub fn split_approvals(
    all: Vec<custodian_core::approvals::Approval>,
) -> (Vec<custodian_core::approvals::Approval>, Vec<String>) {
    let (authenticated, typed): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|a| a.is_authenticated());
    (authenticated, typed.into_iter().map(|a| a.name).collect())
}

/// Shows a strength estimate on stderr (it never contains the passphrase).
pub fn show_strength(s: &passphrase::Strength) {
    eprintln!(
        "strength: {} ({}/4), about 10^{} guesses; offline crack time: {}",
        s.label(),
        s.score,
        s.guesses_log10,
        s.crack_time
    );
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    // Before anything is parsed or read: no core dumps, no attaching.
    for problem in custodian_core::hardening::harden() {
        warn(problem);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.report);
            ExitCode::from(failure.code)
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> CmdResult {
    if cli.version {
        return version_cmd::run(cli.verbose, cli.json);
    }
    let workspace_dir = workspace::resolve(cli.workspace.as_deref())?;
    let ctx = Ctx {
        workspace_dir,
        json: cli.json,
    };
    let existed = ctx.workspace_dir.exists();
    // What a hardware token's plugin asks for (PIN, touch) reaches the user
    // as masked terminal prompts for every command that opens an identity.
    if cli.command.is_some() {
        custodian_core::token::install_ui(std::sync::Arc::new(
            custodian_core::token::TerminalUi::from_env(),
        ));
    }
    let result = match cli.command {
        None => {
            // What opening repaired is shown in the console's footer (a
            // line on stderr would vanish under the alternate screen).
            let (ws, repaired) = Workspace::open_for_writing(&ctx.workspace_dir)?;
            if !existed {
                // The console's first audit entry: the accepted binary.
                record_accepted_binary(&ws);
            }
            let notice = (!repaired.is_empty()).then(|| repaired.summary());
            let idle = cli.idle_lock.map(std::time::Duration::from_secs);
            return crate::tui::run(&ws, notice, idle).map_err(Failure::from);
        }
        Some(Command::Envelope(cmd)) => envelope_cmd::run(&ctx, cmd),
        Some(Command::Identity(cmd)) => identity_cmd::run(&ctx, cmd),
        Some(Command::Passphrase(cmd)) => passphrase_cmd::run(&ctx, cmd),
        Some(Command::Audit(cmd)) => audit_cmd::run(&ctx, cmd),
        Some(Command::Kit(cmd)) => kit_cmd::run(&ctx, cmd),
        Some(Command::Shard(cmd)) => shard_cmd::run(&ctx, cmd),
        Some(Command::Recover(args)) => recover_cmd::run(&ctx, args),
        Some(Command::Drill(cmd)) => drill_cmd::run(&ctx, cmd),
        Some(Command::Incident(cmd)) => incident_cmd::run(&ctx, cmd),
        Some(Command::Guardians(cmd)) => guardians_cmd::run(&ctx, cmd),
        Some(Command::Check(args)) => check_cmd::run(&ctx, args),
        Some(Command::Custodians(cmd)) => custodians_cmd::run(&ctx, cmd),
        Some(Command::Onboard(args)) => onboard_cmd::run(&ctx, args),
        Some(Command::Rotate(args)) => rotate_cmd::run(&ctx, args),
        Some(Command::Retire(args)) => retire_cmd::run(&ctx, args),
        Some(Command::Outputs { cmd }) => outputs_cmd::run(&ctx, cmd),
        Some(Command::Policy(cmd)) => policy_cmd::run(&ctx, cmd),
        Some(Command::Backup(args)) => backup_cmd::backup(&ctx, args),
        Some(Command::Restore(args)) => backup_cmd::restore(&ctx, args),
        Some(Command::Print(args)) => print_cmd::run(&ctx, args),
    };
    if result.is_ok() && !existed {
        record_binary_if_new(&ctx.workspace_dir);
    }
    result
}

/// Shows a path for humans.
pub fn show_path(p: &Path) -> String {
    p.display().to_string()
}
