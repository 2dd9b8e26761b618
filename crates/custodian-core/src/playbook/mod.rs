//! The playbook: what custodians follow when something breaks, and what they
//! check before it does.
//!
//! - [`model`]: the scenarios, threats, policy table and pre-launch checklist,
//!   as data compiled in from `assets/playbook.json`;
//! - [`incident`]: an incident record per scenario run, kept as a state file
//!   in the workspace, each step audited, closed with a Markdown report;
//! - [`checks`]: what the console can verify locally about the threats
//!   (file placement and modes, passphrase policy, rotation, guardians,
//!   network, drills);
//! - [`checklist`]: the pre-launch checklist, verified from the workspace
//!   where possible and otherwise ticked by a named operator.
//!
//! Nothing here touches a secret: incidents and checklist ticks record names,
//! times, step ids and file fingerprints.

use std::path::PathBuf;

use crate::audit::AuditError;
use crate::error::Explain;
use crate::fsutil::FsError;
use crate::workspace::WorkspaceError;

pub mod checklist;
pub mod checks;
pub mod incident;
pub mod model;

pub use model::{Operation, Playbook, Scenario, Step};

/// Why a playbook operation could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlaybookError {
    /// The playbook data is malformed (only possible for a custom playbook).
    #[error("the playbook data is invalid: {0}")]
    BadData(String),
    /// No scenario with this number.
    #[error("there is no scenario {0}; scenarios are numbered 1 to 5")]
    UnknownScenario(u8),
    /// The scenario has no step with this id.
    #[error("scenario {scenario} has no step `{step}`")]
    UnknownStep {
        /// The scenario number.
        scenario: u8,
        /// The step id asked for.
        step: String,
    },
    /// A step was already recorded as done.
    #[error("step `{0}` is already recorded as done")]
    StepAlreadyDone(String),
    /// No operator name was given, or it is not a plain name.
    #[error("an operator name is required (letters, digits, spaces, '-', '_' or '.')")]
    MissingOperator,
    /// The custodian named as concerned by an incident is not a plain name.
    #[error("`{0}` is not a custodian name (letters, digits, spaces, '-', '_' or '.')")]
    BadCustodianName(String),
    /// No incident with this id exists in the workspace.
    #[error("no incident `{0}` in this workspace")]
    UnknownIncident(String),
    /// The incident is closed; nothing more can be recorded on it.
    #[error("incident {0} is closed")]
    IncidentClosed(String),
    /// An incident file could not be read.
    #[error("incident file {} is unreadable: {reason}", path.display())]
    BadIncident {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A step to reopen is not recorded as done.
    #[error("step `{0}` is not recorded as done, so there is nothing to reopen")]
    StepNotDone(String),
    /// Reopening a step needs a reason.
    #[error("a reason is required to reopen a step")]
    MissingReason,
    /// Step notes (or a reopen reason) that cannot be recorded.
    #[error("the notes cannot be recorded: {0}")]
    BadNotes(String),
    /// The checklist has no item with this id.
    #[error("the checklist has no item `{0}`")]
    UnknownChecklistItem(String),
    /// The item is verified from the workspace and cannot be ticked by hand.
    #[error("`{0}` is verified automatically from the workspace; it cannot be ticked by hand")]
    AutomaticItem(String),
    /// The audit chain is broken, so no report can name a trustworthy head.
    #[error("the audit log does not verify: {0}")]
    AuditBroken(String),
    /// The workspace could not be used.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The audit log could not be written.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A close's approvals do not satisfy the workspace policy.
    #[error(transparent)]
    Approval(Box<crate::approvals::ApprovalError>),
}

// Boxed: an approval error names a person and may carry an identity error,
// which would make every result of this type large.
impl From<crate::approvals::ApprovalError> for PlaybookError {
    fn from(e: crate::approvals::ApprovalError) -> Self {
        PlaybookError::Approval(Box::new(e))
    }
}

impl Explain for PlaybookError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            PlaybookError::BadData(_) => "reinstall custodian; the built-in playbook is damaged".into(),
            PlaybookError::UnknownScenario(_) => "pick a scenario from 1 to 5".into(),
            PlaybookError::UnknownStep { .. } => "pick a step shown on the scenario screen".into(),
            PlaybookError::StepAlreadyDone(_) => {
                "nothing to do; the incident report will show who did it and when".into()
            }
            PlaybookError::MissingOperator => "type the name of the person confirming".into(),
            PlaybookError::BadCustodianName(_) => {
                "type the custodian's name as the registry shows it, or leave it empty".into()
            }
            PlaybookError::UnknownIncident(_) => to.pick("run `custodian incident list` to see the ids", "open the incident from its scenario (p on the home screen), which lists its incidents"),
            PlaybookError::IncidentClosed(_) => {
                "open a new incident from the scenario screen if the situation continues".into()
            }
            PlaybookError::BadIncident { .. } => {
                "keep the file as evidence and compare it with the audit log's INCIDENT entries".into()
            }
            PlaybookError::StepNotDone(_) => "pick a step marked done ([✔])".into(),
            PlaybookError::MissingReason => {
                "say why the confirmation was a mistake; the report keeps it".into()
            }
            PlaybookError::BadNotes(_) => {
                "write what happened in plain words; never paste key material".into()
            }
            PlaybookError::UnknownChecklistItem(_) => "pick an item shown on the checklist".into(),
            PlaybookError::AutomaticItem(_) => {
                "do the work it describes; the console will see it in the workspace".into()
            }
            PlaybookError::AuditBroken(_) => {
                to.pick("treat this as a security incident: run `custodian audit verify` and tell your security officer", "treat this as a security incident: verify the audit log (a on the home screen, then v) and tell your security officer")
            }
            PlaybookError::Workspace(e) => return e.remedy_for(to),
            PlaybookError::File(e) => return e.remedy_for(to),
            PlaybookError::Audit(e) => return e.remedy_for(to),
            PlaybookError::Approval(e) => return e.remedy_for(to),
        })
    }
}

/// Checks an operator's name: the same rule as a custodian's name.
pub fn validate_operator(name: &str) -> Result<String, PlaybookError> {
    let name = name.trim();
    crate::identity::validate_name(name).map_err(|_| PlaybookError::MissingOperator)?;
    Ok(name.to_string())
}

/// Longest step note or reopen reason, in characters.
pub const MAX_NOTES: usize = 2000;

/// Checks free text recorded with a step (notes, a reopen reason): at most
/// [`MAX_NOTES`] characters, no control characters, and nothing that looks
/// like key material (it goes into the audit log and the report). Returns
/// the trimmed text, or `None` when it is empty.
pub fn validate_notes(text: &str) -> Result<Option<String>, PlaybookError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_NOTES {
        return Err(PlaybookError::BadNotes(format!(
            "they are longer than {MAX_NOTES} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(PlaybookError::BadNotes(
            "they hold a control character (a line break or tab)".into(),
        ));
    }
    // A hash or fingerprint (64 hex digits) is a public value and fine here.
    match crate::text::secret_look(text) {
        Some(look) if look != crate::text::SecretLook::RawKeyHex => {
            Err(PlaybookError::BadNotes(format!(
                "they hold what looks like {}; it is not recorded, and it must be treated as exposed",
                look.describe()
            )))
        }
        _ => Ok(Some(text.to_string())),
    }
}
