//! Worker threads: every KDF, key generation and batch job runs off the UI
//! thread and reports back over the event channel — progress as often as it
//! likes, and exactly one `Finished` message.
//!
//! Worker messages are facts ("identity created"), not commands; results are
//! carried as public values or as a rendered [`Report`], never as secrets.
//!
//! Background checks ([`check`]) are the other kind of off-thread work: reads
//! whose cost grows with the workspace (verifying the whole audit chain, the
//! threat scans) that the UI thread must never do itself. They are not jobs
//! the user waits on (Esc and quitting are not held up by them); each reports
//! one [`Checked`] fact, tagged with the request it answers so a late answer
//! to an older request is dropped.

use std::sync::mpsc::Sender;
use std::thread;

use super::event::Event;
use custodian_core::error::Report;
use custodian_core::identity::CreatedIdentity;

/// What a job produced.
/// What an early passphrase check opened: an identity without a hardware
/// token (opening it is the check), handed on to the operation's job
/// instead of opening it again (another KDF); `None` for a token identity,
/// whose token is asked once, by the operation. Shared, never copied: the
/// key is dropped with its last holder (the flow's step, then the job).
pub type CheckedIdentity = Option<std::sync::Arc<custodian_core::identity::OpenedIdentity>>;

#[derive(Debug, Clone)]
pub enum JobResult {
    /// Sheets printed as PDFs (`Action::Print`): the footer line saying
    /// where they went, or why not. Never an `Err` of the job, so a screen
    /// waiting on its own job never takes it for its own.
    Printed(Result<String, custodian_core::error::Report>),
    /// The operator's confirmation of the system time was recorded (or
    /// refused: a clock earlier than the audit log). Like `Printed`, never
    /// an `Err` of the job: the app takes it, not the screen below.
    ClockConfirmed(Result<custodian_core::clock::ClockConfirmation, custodian_core::error::Report>),
    /// The automatic drill finished (passed or not) and wrote its report.
    DrillFinished(Box<custodian_core::drill::run::DrillOutcome>),
    /// The old drill sandboxes still on disk.
    Sandboxes(Vec<custodian_core::drill::sandboxes::SandboxInfo>),
    /// A drill sandbox was deleted (and the deletion audited).
    SandboxDeleted(custodian_core::drill::sandboxes::SandboxInfo),
    /// A new custodian identity was written and verified.
    IdentityCreated(CreatedIdentity),
    /// The DR-kit recovery key pair was written and checked (public facts + QR rows).
    RecoveryKeyCreated(custodian_core::drkit::keys::CreatedKeyPair, Vec<String>),
    /// A public key's verification phrase and QR code.
    PublicKeyChecked(custodian_core::drkit::ops::PublicKeyCheck),
    /// A DR kit was opened with the recovery key.
    KitVerified(custodian_core::drkit::kit::KitReport),
    /// A kit job refused a value typed into one field (e.g. a wrong key
    /// passphrase): the wizard returns to that field, keeping the rest.
    KitInputRefused {
        /// The field at fault.
        field: super::screens::kit_use::KitField,
        /// What was wrong.
        report: custodian_core::error::Report,
    },
    /// The recovery private key opens with the passphrase typed.
    KitKeyOpened,
    /// The kit's workspace keys were recovered in memory and checked (the
    /// public facts of every key, `verified` true or false); nothing output.
    KitKeysListed(Vec<serde_json::Value>),
    /// The kit's workspace keys were recovered to the chosen output.
    KitKeysRecovered(Box<super::screens::kit_keys::RecoveredKeys>),
    /// A workspace-keys run refused a value the wizard can send the user
    /// back to.
    KitKeysRefused {
        /// Where it is fixed.
        fix: super::screens::kit_keys::KitKeysFix,
        /// What is wrong.
        report: Report,
    },
    /// Shares were derived and written.
    SharesDerived(Box<custodian_core::drkit::derive::DeriveSummary>),
    /// A shard file's public metadata was read.
    ShardInspected {
        /// The file.
        path: std::path::PathBuf,
        /// Its parsed, validated metadata.
        file: Box<custodian_core::shard::ShardFile>,
    },
    /// A shard was rewrapped (or restored to a node) and verified.
    ShardRewrapped(custodian_core::shard::RewrapOutcome),
    /// A rewrap was refused for a value the wizard can send the user back to.
    RewrapRefused {
        /// The step that fixes it.
        fix: super::screens::shard_rewrap::RewrapFix,
        /// What is wrong.
        report: Report,
    },
    /// An approver opened their own identity (proof of presence).
    RecoveryApproverChecked(custodian_core::approvals::Approval),
    /// An approver's identity did not open, or they are not registered.
    RecoveryApproverRefused(Report),
    /// One shard's inputs were checked and its passphrase opens the identity.
    RecoveryShardChecked,
    /// One shard's inputs were refused: the field at fault and why.
    RecoveryShardRefused {
        /// The field at fault.
        field: custodian_core::recovery::SourceField,
        /// What is wrong.
        report: Report,
    },
    /// A recovery failed where the wizard can send the user to fix it.
    RecoveryRefused {
        /// The step (and field) that fixes it.
        fix: super::screens::recovery::RecoveryFix,
        /// What is wrong.
        report: Report,
    },
    /// A key was recovered and verified (the key itself only for a one-time display).
    Recovered(Box<custodian_core::recovery::RecoveryOutcome>),
    /// The custodian's passphrase opens their identity (split not begun).
    SplitPassphraseChecked,
    /// A key was split among guardians, proved and written.
    GuardianSplit(Box<custodian_core::guardians::SplitOutcome>),
    /// A guardian share was read (not yet opened).
    GuardianShareLoaded(Box<custodian_core::guardians::LoadedShare>),
    /// A guardian's passphrase opens their share (nothing kept).
    GuardianShareOpened,
    /// A key was rebuilt from guardian shares, verified and re-sealed.
    GuardianCombined(Box<custodian_core::guardians::Combined>),
    /// A rotation's plan was made (share files read and hashed) for the
    /// screen that asked for it.
    RotationPlanned(Box<custodian_core::lifecycle::rotate::RotationPlan>),
    /// A retirement's plan was made for the successor chosen.
    RetirementPlanned(Box<custodian_core::lifecycle::retire::RetirementPlan>),
    /// The custodian's current passphrase opens their identity (rotation
    /// not begun); the identity itself when the check opened it.
    RotatePassphraseChecked(CheckedIdentity),
    /// A custodian was rotated.
    Rotated(Box<custodian_core::lifecycle::rotate::RotationOutcome>),
    /// The retiree's passphrase opens their identity (retirement not
    /// begun); the identity itself when the check opened it.
    RetireePassphraseChecked(CheckedIdentity),
    /// A custodian was retired.
    Retired(Box<custodian_core::lifecycle::retire::RetirementOutcome>),
    /// A guardian proved their share at a roll call (date recorded); the
    /// set's record as it now stands.
    RollCallPassed {
        /// What was recorded.
        outcome: Box<custodian_core::guardians::roll_call::RollCallOutcome>,
        /// The set's record, with the new date.
        split: Box<custodian_core::guardians::SplitRecord>,
    },
    /// A step of the onboarding ceremony finished (see `screens::ceremony`).
    Ceremony(Box<super::screens::ceremony::CeremonyDone>),
    /// An encrypted backup of the workspace was written and read back.
    BackupWritten(Box<super::screens::backup::BackupDone>),
    /// An archive was verified and restored into a new directory.
    RestoreVerified(Box<super::screens::backup::RestoreDone>),
    /// A backup or restore was refused for a value typed into one field.
    BackupRefused {
        /// The field at fault (`screens::backup::F_*` or `R_*`).
        field: usize,
        /// What is wrong.
        report: Report,
    },
    /// A guardian's share was refused: the field at fault and why.
    RollCallRefused {
        /// `roll_call::F_SHARE` or `roll_call::F_PASS`.
        field: usize,
        /// What is wrong.
        report: Report,
    },
}

/// A job's progress as a wizard shows it: `done` of `total`, and what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Units finished.
    pub done: u64,
    /// Units in all.
    pub total: u64,
    /// What is being done.
    pub label: String,
}

impl Progress {
    /// Nothing done yet of `total`.
    pub fn start(total: u64, label: &str) -> Progress {
        Progress {
            done: 0,
            total,
            label: label.to_string(),
        }
    }

    /// Takes in a progress message; false (and no change) for any other.
    pub fn update(&mut self, msg: &WorkerMsg) -> bool {
        let WorkerMsg::Progress { done, total, label } = msg else {
            return false;
        };
        *self = Progress {
            done: *done,
            total: *total,
            label: label.clone(),
        };
        true
    }
}

/// A message from a worker.
#[derive(Debug)]
pub enum WorkerMsg {
    /// Partial progress: `done` of `total` units, with a label.
    Progress {
        /// Units finished.
        done: u64,
        /// Units in all.
        total: u64,
        /// What is being done.
        label: String,
    },
    /// The job ended, successfully or not.
    Finished(Result<JobResult, Report>),
}

/// Lets a job report progress.
#[derive(Clone)]
pub struct ProgressSink {
    tx: Sender<Event>,
}

impl ProgressSink {
    /// Reports progress (dropped silently if the app has gone).
    pub fn report(&self, done: u64, total: u64, label: impl Into<String>) {
        let _ = self.tx.send(Event::Worker(WorkerMsg::Progress {
            done,
            total,
            label: label.into(),
        }));
    }
}

/// What a background check found.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The audit chain was verified: entries and head, or the problem.
    AuditChain {
        /// Which request this answers.
        request: u64,
        /// Entries and head hash, or what is wrong.
        result: Result<(u64, String), String>,
    },
    /// The audit log was read and its chain verified, for the viewer.
    AuditLog {
        /// Which request this answers.
        request: u64,
        /// Every entry (none when the log could not be read).
        entries: Vec<custodian_core::audit::Entry>,
        /// Entries and head hash, or what is wrong.
        chain: Result<(u64, String), String>,
    },
    /// The checklist's items were checked against the workspace.
    Checklist {
        /// Which request this answers.
        request: u64,
        /// Every item with its state.
        lines: Vec<super::screens::checklist::ChecklistLine>,
    },
    /// The local threat checks ran.
    Threats {
        /// Which request this answers.
        request: u64,
        /// Every check's result.
        results: Vec<custodian_core::playbook::checks::CheckResult>,
    },
    /// The check stopped unexpectedly (an internal error) and found nothing.
    Stopped {
        /// Which request this answers.
        request: u64,
    },
}

impl Checked {
    /// The request this answers.
    pub fn request(&self) -> u64 {
        match self {
            Checked::AuditChain { request, .. }
            | Checked::AuditLog { request, .. }
            | Checked::Checklist { request, .. }
            | Checked::Threats { request, .. }
            | Checked::Stopped { request } => *request,
        }
    }
}

/// Runs background check number `request` on a new thread; its answer
/// arrives as one [`Event::Checked`] (a check that panics answers
/// [`Checked::Stopped`], never a made-up result).
pub fn check<F>(tx: &Sender<Event>, request: u64, check: F)
where
    F: FnOnce() -> Checked + Send + 'static,
{
    let tx = tx.clone();
    thread::spawn(move || {
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check))
            .unwrap_or(Checked::Stopped { request });
        let _ = tx.send(Event::Checked(found));
    });
}

/// Runs `job` on a new thread; its result arrives as one `Finished` message.
/// A panicking job is reported as a failure, not lost.
pub fn spawn<F>(tx: &Sender<Event>, job: F)
where
    F: FnOnce(ProgressSink) -> Result<JobResult, Report> + Send + 'static,
{
    let tx = tx.clone();
    thread::spawn(move || {
        // A token identity opened by this job asks through this console's
        // dialog (src/tui/token.rs).
        let _token_ui = custodian_core::token::thread_ui(std::sync::Arc::new(
            super::token::Bridge::new(tx.clone()),
        ));
        let sink = ProgressSink { tx: tx.clone() };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(sink)))
            .unwrap_or_else(|_| {
                Err(Report {
                    message: "the operation stopped unexpectedly (internal error)".into(),
                    causes: Vec::new(),
                    remedy: Some(
                        "nothing was reported as done; check the audit log and try again".into(),
                    ),
                })
            });
        let _ = tx.send(Event::Worker(WorkerMsg::Finished(result)));
    });
}

#[cfg(test)]
mod progress_tests {
    use super::*;

    #[test]
    fn progress_takes_progress_messages_only() {
        let mut p = Progress::start(5, "starting");
        assert!(p.update(&WorkerMsg::Progress {
            done: 2,
            total: 5,
            label: "sealing".into()
        }));
        assert_eq!(
            p,
            Progress {
                done: 2,
                total: 5,
                label: "sealing".into()
            }
        );
        assert!(!p.update(&WorkerMsg::Finished(Ok(JobResult::SplitPassphraseChecked))));
        assert_eq!(p.done, 2, "other messages leave it as it was");
    }
}
