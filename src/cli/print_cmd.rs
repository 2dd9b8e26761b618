//! `custodian print share|recovery-key|keys|ceremony|incident|drill`: PDF
//! sheets for the paper copies the policy wants (see
//! [`custodian_core::print`]). Each print is one audited transaction; the
//! file is never written over.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{CmdResult, Ctx, say, say_json};
use custodian_core::print::{self, What, pdf::Paper};

/// `custodian print` arguments.
#[derive(Debug, Args)]
pub struct PrintArgs {
    /// What to print.
    #[command(subcommand)]
    pub what: PrintCmd,
    /// Paper size.
    #[arg(long, value_enum, default_value_t = PaperArg::A4, global = true)]
    pub paper: PaperArg,
    /// The PDF file to write (never written over; default: <workspace>/printed/<sheet>.pdf,
    /// or -2, -3… when that exists).
    #[arg(long, value_name = "FILE", global = true)]
    pub out: Option<PathBuf>,
}

/// Paper sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaperArg {
    /// ISO A4 (210 × 297 mm).
    A4,
    /// US Letter (8.5 × 11 in).
    Letter,
}

/// The sheets.
#[derive(Debug, Subcommand)]
pub enum PrintCmd {
    /// A guardian's share card: name, set id, index k-of-n, the grouped line, its QR code and
    /// instructions.
    Share {
        /// The share file (or a file holding a printed line).
        share: PathBuf,
    },
    /// The vendor recovery key's public half: verification phrase, fingerprint, QR code.
    RecoveryKey {
        /// The public key PEM file.
        public: PathBuf,
    },
    /// Every key id, root public key and recipient in the workspace.
    Keys,
    /// An onboarding ceremony record with its audit head (default: the last completed one).
    Ceremony {
        /// The ceremony id.
        id: Option<String>,
    },
    /// A closed incident's report with its audit head.
    Incident {
        /// The incident id.
        id: String,
    },
    /// A drill report with its sandbox audit head.
    Drill {
        /// The drill id (DRILL-YYYYMMDD-…).
        id: String,
    },
}

/// Runs `custodian print`.
pub fn run(ctx: &Ctx, args: PrintArgs) -> CmdResult {
    let paper = match args.paper {
        PaperArg::A4 => Paper::A4,
        PaperArg::Letter => Paper::Letter,
    };
    let what = match args.what {
        PrintCmd::Share { share } => What::Share(share),
        PrintCmd::RecoveryKey { public } => What::RecoveryKey(public),
        PrintCmd::Keys => What::Keys,
        PrintCmd::Ceremony { id } => What::Ceremony(id),
        PrintCmd::Incident { id } => What::Incident(id),
        PrintCmd::Drill { id } => What::Drill(id),
    };
    let ws = ctx.writing_workspace()?;
    let done = print::print(&ws, &what, paper, args.out.as_deref())?;
    if ctx.json {
        say_json(&json!({
            "sheet": done.kind, "subject": done.subject, "file": done.path,
            "fileSha256": done.sha256, "pages": done.pages, "paper": paper.name(),
            "qr": done.qr_payloads,
        }));
    } else {
        say(format!(
            "printed the {} sheet for {} ({} page{}, {}): {}",
            done.kind,
            done.subject,
            done.pages,
            if done.pages == 1 { "" } else { "s" },
            paper.name(),
            done.path.display()
        ));
        say(format!("  sha256: {}", done.sha256));
    }
    Ok(())
}
