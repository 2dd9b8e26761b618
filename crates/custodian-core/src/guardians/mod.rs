//! Guardians: a custodian's age key split k-of-n with Shamir's scheme over
//! GF(256), one share per guardian, each sealed under that guardian's own
//! passphrase; and the verified reconstruction that rebuilds the key when the
//! custodian cannot.
//!
//! Splitting uses [`blahaj`], the maintained fork of `sharks` (same API and
//! share bytes) that fixes RUSTSEC-2024-0398 (biased polynomial
//! coefficients). `blahaj` interpolates whatever it is given, so a duplicate
//! x-coordinate or a share from another set yields a *silently wrong* secret.
//! This module therefore validates before it interpolates — every way a set
//! of shares can be wrong gets its own [`GuardianError`] naming the guardians
//! involved — and verifies after: the rebuilt key's recipient must equal the
//! one recorded in the shares, and with more than k shares every k-subset is
//! tried so a share that disagrees with the rest is named.
//!
//! A share file is JSON (see docs/FORMATS.md):
//!
//! ```json
//! {"format":"custodian-guardian-share","version":1,"setId":"…32 hex…",
//!  "threshold":3,"total":5,"index":2,"guardian":"Ben","custodian":"Ana",
//!  "recipient":"age1…","createdAt":"2026-11-22T09:30:00Z",
//!  "envelope":{…the 33 share bytes, sealed; context = the fields above…}}
//! ```
//!
//! The public fields are the envelope's context, so they are authenticated
//! (AAD) by the guardian's passphrase: a header edited to claim another index
//! or set fails to open. Each guardian's PBKDF2 runs on its own rayon task, so
//! a 5-share split costs about three KDFs on two cores, not five (see
//! `benches/guardians.rs`).

pub mod printed;
pub mod roll_call;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::audit::AuditError;
use crate::envelope::{self, Envelope, EnvelopeError};
use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::identity::{self, IdentityError, IdentityFile, OpenedIdentity};
use crate::token::TokenRequirement;
use crate::transaction::Transaction;
use crate::workspace::{CustodianRecord, ROTATION_DAYS, Workspace, WorkspaceError};

/// The value of `format` in a share file.
pub const FORMAT: &str = "custodian-guardian-share";
/// The share file version this build reads and writes.
pub const VERSION: u32 = 1;
/// The registry section holding split records.
pub const SECTION: &str = "guardianSplits";
/// Default threshold (the institutional policy is 3-of-5).
pub const DEFAULT_THRESHOLD: u8 = 3;
/// Most guardians a split may have (GF(256) has 255 non-zero x-coordinates).
pub const MAX_GUARDIANS: usize = 255;
/// Random set id length in bytes.
pub const SET_ID_LEN: usize = 16;
/// Length of a share's payload: the x-coordinate then 32 y bytes.
const SHARE_LEN: usize = 33;
/// Largest share file the console reads.
const MAX_FILE: u64 = 64 * 1024;
/// Audit event for a split.
pub const EVENT_SPLIT: &str = "GUARDIAN_SPLIT";
/// Audit event for a reconstruction.
pub const EVENT_COMBINE: &str = "GUARDIAN_COMBINE";

/// Everything that can go wrong splitting or reconstructing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardianError {
    /// The threshold and guardian count do not make a usable split.
    #[error(
        "a {threshold}-of-{total} split is not possible: need 2 ≤ threshold ≤ guardians ≤ {MAX_GUARDIANS}"
    )]
    BadThreshold {
        /// Requested threshold.
        threshold: usize,
        /// Number of guardians.
        total: usize,
    },
    /// The same guardian name (ignoring case) was given twice.
    #[error("guardian `{0}` is listed twice")]
    DuplicateGuardian(String),
    /// A share file with no content.
    #[error("{0}: the share file is empty")]
    Empty(String),
    /// A share file that ends early.
    #[error("{0}: the share file is truncated")]
    Truncated(String),
    /// Not a share file at all.
    #[error("{source_name}: this is not a guardian share ({reason})")]
    WrongFormat {
        /// The file or input.
        source_name: String,
        /// What it looks like instead.
        reason: String,
    },
    /// A share written by a newer version.
    #[error("share version {0} is not supported (this build reads version {VERSION})")]
    UnsupportedVersion(u64),
    /// A printed share line that cannot be read.
    #[error("the printed share cannot be read: {reason}")]
    BadPrinted {
        /// What is wrong.
        reason: String,
    },
    /// A printed share whose checksum does not match: a character was mistyped.
    #[error("the printed share's checksum does not match: a character was mistyped{}", match typo { Some((g, c)) => format!(" (group {g}, character {c} looks wrong)"), None => String::new() })]
    PrintedChecksum {
        /// Where a single substitution would make the checksum valid: the
        /// 1-based group after the `custodianshare1` prefix and the 1-based
        /// character within it. A hint for re-typing, never applied.
        typo: Option<(usize, usize)>,
    },
    /// One group of a grouped printed share (`custodianshare2 …`) is wrong:
    /// its check character does not match, it holds a character the form
    /// never uses, or it has the wrong length.
    #[error("group {group} of the printed share is wrong: {reason}")]
    PrintedGroup {
        /// The 1-based group after the `custodianshare2` prefix, as printed.
        group: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A share claims index 0, which would be the secret itself.
    #[error(
        "{guardian}'s share has index 0, which no real share has: the file is damaged or forged"
    )]
    IndexZero {
        /// The guardian named in the share.
        guardian: String,
    },
    /// A share's index is above the set's total.
    #[error("{guardian}'s share has index {index}, but the set has only {total} shares")]
    IndexOutOfRange {
        /// The guardian named in the share.
        guardian: String,
        /// Its index.
        index: u8,
        /// The set's total.
        total: u8,
    },
    /// Shares from two different splits.
    #[error(
        "shares from different sets: {first} (set {first_set}) and {second} (set {second_set}) were not split together"
    )]
    MixedSets {
        /// One guardian.
        first: String,
        /// Their set id (short form).
        first_set: String,
        /// A guardian from another set.
        second: String,
        /// That set id (short form).
        second_set: String,
    },
    /// Two shares of the same set disagree about the threshold or total.
    #[error("{field} mismatch: {first}'s share says {first_value}, {second}'s says {second_value}")]
    ParameterMismatch {
        /// `threshold` or `total`.
        field: &'static str,
        /// One guardian.
        first: String,
        /// What their share says.
        first_value: u8,
        /// Another guardian.
        second: String,
        /// What theirs says.
        second_value: u8,
    },
    /// Two different shares claim the same index.
    #[error(
        "{first}'s and {second}'s shares both have index {index} but different contents: one of them is not genuine"
    )]
    DuplicateIndex {
        /// The index.
        index: u8,
        /// One guardian.
        first: String,
        /// The other.
        second: String,
    },
    /// No share was given at all.
    #[error("no guardian share was given")]
    NoShares,
    /// Fewer distinct shares than the threshold.
    #[error("have {have} of {need} needed; missing: {missing}")]
    TooFew {
        /// Distinct shares given.
        have: usize,
        /// The threshold.
        need: usize,
        /// Who could supply the rest.
        missing: String,
    },
    /// A guardian's passphrase did not open their share.
    #[error("{guardian}'s passphrase does not open share {index} (or the share was altered)")]
    WrongPassphrase {
        /// The guardian.
        guardian: String,
        /// Their share's index.
        index: u8,
    },
    /// The header fields differ from what the envelope authenticates.
    #[error("{guardian}'s share header was altered (it no longer matches its sealed context)")]
    HeaderAltered {
        /// The guardian named in the share.
        guardian: String,
    },
    /// The sealed payload is not a share for this index.
    #[error("{guardian}'s share opened but its contents are damaged: {reason}")]
    ShareDamaged {
        /// The guardian.
        guardian: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Exactly k shares interpolated to a key that is not the recorded one.
    #[error(
        "the shares rebuilt a key with recipient {got}, not the recorded {expected}: at least one share is not genuine"
    )]
    RecipientMismatch {
        /// The recipient recorded in the shares.
        expected: String,
        /// What the rebuilt key gives.
        got: String,
    },
    /// With extra shares, one share disagrees with the rest.
    #[error(
        "{} disagree{} with the other shares: every combination including {} rebuilds the wrong key",
        .guardians.join(", "), if .guardians.len() == 1 { "s" } else { "" },
        if .guardians.len() == 1 { "it" } else { "them" }
    )]
    DisagreeingShare {
        /// The guardians whose shares disagree.
        guardians: Vec<String>,
    },
    /// No combination of the shares rebuilds the recorded key.
    #[error("no {threshold} of these shares rebuild the recorded key {expected}")]
    NoConsistentSubset {
        /// The threshold.
        threshold: u8,
        /// The recorded recipient.
        expected: String,
    },
    /// The split's own proof (rebuilding from k shares in memory) failed.
    #[error("the split did not prove itself: shares {indices:?} rebuilt a different key")]
    SplitProofFailed {
        /// The subset tried.
        indices: Vec<u8>,
    },
    /// The shares' custodian name is registered with a different key.
    #[error(
        "custodian `{name}` is registered here with recipient {registered}, not the rebuilt {rebuilt}"
    )]
    CustodianConflict {
        /// The name.
        name: String,
        /// The recipient in the registry.
        registered: String,
        /// The rebuilt key's recipient.
        rebuilt: String,
    },
    /// The shares belong to a set a later split (a rotation, a re-split)
    /// replaced.
    #[error(
        "set {set} of {custodian}'s key was superseded on {at} by set {by_set}: its shares no longer count"
    )]
    Superseded {
        /// The old set (short form).
        set: String,
        /// The custodian.
        custodian: String,
        /// When it was superseded (RFC 3339).
        at: String,
        /// The set that replaced it (short form).
        by_set: String,
    },
    /// A roll call needs the split's record, and this workspace has none.
    #[error("set {set} is not recorded in this workspace, so its shares cannot be checked")]
    UnknownSet {
        /// The set (short form).
        set: String,
    },
    /// The split was recorded before share commitments existed.
    #[error(
        "set {set} of {custodian}'s key was split before share commitments were recorded; its shares cannot be checked without rebuilding the key"
    )]
    NoCommitments {
        /// The set (short form).
        set: String,
        /// The custodian.
        custodian: String,
    },
    /// A share opened, but its bytes are not the ones handed out.
    #[error(
        "{guardian}'s share #{index} opens with their passphrase, but its contents differ from what was split in set {set}: it is not the share that was handed out"
    )]
    CommitmentMismatch {
        /// The guardian.
        guardian: String,
        /// The share index.
        index: u8,
        /// The set (short form).
        set: String,
    },
    /// Something about the identity file.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Something about an envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Writing or reading a file failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace could not be updated.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written, so the operation did not run.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
}

impl Explain for GuardianError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        use GuardianError as G;
        Some(match self {
            G::BadThreshold { .. } => {
                "choose a threshold of at least 2 and no more than the number of guardians".into()
            }
            G::DuplicateGuardian(_) => "give each guardian once, with distinct names".into(),
            G::Empty(_) | G::Truncated(_) => {
                "the share was not copied completely; use the guardian's intact copy or their printed line".into()
            }
            G::WrongFormat { .. } => {
                "give a guardian share file (*.share.json) or a printed custodianshare1… or custodianshare2… line".into()
            }
            G::UnsupportedVersion(_) => {
                "open it with the newer version of custodian that wrote it".into()
            }
            G::BadPrinted { .. } => {
                "compare the line with the guardian's paper copy, group by group".into()
            }
            G::PrintedChecksum { .. } => {
                "re-type the line from the paper copy, checking each group (no letters b, i, o or digit 1 after the prefix)".into()
            }
            G::PrintedGroup { group, .. } => format!(
                "compare group {group} with the paper copy character by character (groups are numbered from 1 after `custodianshare2`; a left-out group shows as the one after it)"
            ),
            G::IndexZero { .. } | G::IndexOutOfRange { .. } => {
                "leave this share out and ask the guardian for their original copy".into()
            }
            G::MixedSets { .. } => {
                to.pick("use shares from one split only: `custodian guardians inspect` shows each share's set id", "use shares from one split only: each share names its set, and the shares added so far show theirs on this screen")
            }
            G::ParameterMismatch { .. } | G::DuplicateIndex { .. } => {
                "leave out the suspect share, ask both guardians for their original copies, and report it".into()
            }
            G::NoShares => "give the guardians' share files or printed lines".into(),
            G::TooFew { .. } => "ask the missing guardians for their shares".into(),
            G::WrongPassphrase { guardian, .. } => format!(
                "ask {guardian} to type their passphrase again (caps lock, keyboard layout); if it is right, their copy was altered"
            ),
            G::HeaderAltered { .. } | G::ShareDamaged { .. } => {
                "leave this share out and ask the guardian for their original copy; report it".into()
            }
            G::RecipientMismatch { .. } => {
                "bring one more guardian's share so the disagreeing share can be found".into()
            }
            G::DisagreeingShare { .. } => {
                "leave the named share out and run again; report it, it is not genuine".into()
            }
            G::NoConsistentSubset { .. } => {
                "more than one share is not genuine; bring more guardians' shares".into()
            }
            G::SplitProofFailed { .. } => {
                "nothing was written; run the split again and report this".into()
            }
            G::CustodianConflict { .. } => {
                "use a workspace where this custodian is not registered with another key".into()
            }
            G::Superseded { by_set, .. } => format!(
                "use the guardians' shares of set {by_set}; the shares of the old set should be destroyed"
            ),
            G::UnknownSet { .. } => {
                to.pick("run the roll call with --workspace pointing at the workspace where the key was split or last rotated", "run the roll call in the workspace where the key was split or last rotated (start the console there)")
            }
            G::NoCommitments { custodian, .. } => to.pick(format!(
                "split {custodian}'s key again (`custodian guardians split --identity FILE …`) or rotate it \
                 (`custodian rotate --custodian {custodian}`): the new set records commitments and supersedes this one"
            ), format!(
                "split {custodian}'s key again (g on the home screen) or rotate it (o on their row on the home screen): the new set records commitments and supersedes this one"
            )),
            G::CommitmentMismatch { guardian, .. } => format!(
                "do not use this share: ask {guardian} for the copy they were given at the split, and report it"
            ),
            G::Identity(e) => return e.remedy_for(to),
            G::Envelope(e) => return e.remedy_for(to),
            G::File(e) => return e.remedy_for(to),
            G::Workspace(e) => return e.remedy_for(to),
            G::Audit(e) => return e.remedy_for(to),
        })
    }
}

/// One guardian share file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// Random id shared by every share of one split (32 hex digits).
    pub set_id: String,
    /// Shares needed to rebuild the key.
    pub threshold: u8,
    /// Shares made.
    pub total: u8,
    /// This share's x-coordinate, 1..=total.
    pub index: u8,
    /// The guardian holding this share.
    pub guardian: String,
    /// The custodian whose key was split.
    pub custodian: String,
    /// The recipient of the key that was split.
    pub recipient: String,
    /// RFC 3339 time of the split.
    pub created_at: String,
    /// The sealed share bytes.
    pub envelope: Envelope,
}

impl ShareFile {
    /// The public fields as bound into the envelope (its AAD context).
    pub fn context(&self) -> Value {
        Label {
            set_id: &self.set_id,
            threshold: self.threshold,
            total: self.total,
            index: self.index,
            guardian: &self.guardian,
            custodian: &self.custodian,
            recipient: &self.recipient,
            created_at: &self.created_at,
        }
        .context()
    }

    /// The set id's first 8 hex digits, for people.
    pub fn short_set(&self) -> String {
        short_set(&self.set_id)
    }

    /// Parses a share file's bytes, naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<ShareFile, GuardianError> {
        Self::parse(bytes, "the share")
    }

    fn parse(bytes: &[u8], source_name: &str) -> Result<ShareFile, GuardianError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(GuardianError::Empty(source_name.into()));
        }
        if let Ok(text) = std::str::from_utf8(bytes)
            && printed::looks_printed(text)
        {
            return printed::decode(text);
        }
        let wrong = |reason: String| GuardianError::WrongFormat {
            source_name: source_name.into(),
            reason,
        };
        let value =
            crate::fileformat::parse_versioned(bytes, FORMAT, VERSION).map_err(|s| match s {
                crate::fileformat::Shape::Empty => GuardianError::Empty(source_name.into()),
                crate::fileformat::Shape::Truncated => GuardianError::Truncated(source_name.into()),
                crate::fileformat::Shape::WrongFormat(why) => wrong(why),
                crate::fileformat::Shape::UnsupportedVersion(v) => {
                    GuardianError::UnsupportedVersion(v)
                }
            })?;
        Envelope::from_value(value.get("envelope").unwrap_or(&Value::Null))?;
        let share: ShareFile = serde_json::from_value(value).map_err(|e| wrong(e.to_string()))?;
        if share.set_id.len() != SET_ID_LEN * 2
            || !share.set_id.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(wrong("`setId` is not 32 hex digits".into()));
        }
        identity::validate_name(&share.guardian)?;
        identity::validate_name(&share.custodian)?;
        identity::parse_recipient(&share.recipient)?;
        Ok(share)
    }

    /// Checks the fields opening and combining rely on, so `inspect`
    /// refuses what they would. (`combine` checks a whole set first, to
    /// name the odd share out; this is the one-share view.)
    pub fn validate(&self, source_name: &str) -> Result<(), GuardianError> {
        let wrong = |reason: &str| GuardianError::WrongFormat {
            source_name: source_name.into(),
            reason: reason.into(),
        };
        if self.threshold < 2 || self.threshold > self.total {
            return Err(wrong("`threshold` must be 2 to `total`"));
        }
        if self.index == 0 || self.index > self.total {
            return Err(wrong("`index` must be 1 to `total`"));
        }
        if crate::clock::parse(&self.created_at).is_none() {
            return Err(wrong("`createdAt` is not an RFC 3339 time"));
        }
        if self.envelope.context() != Some(&self.context()) {
            return Err(GuardianError::HeaderAltered {
                guardian: self.guardian.clone(),
            });
        }
        Ok(())
    }

    /// Reads a share file, or a file holding a printed share line.
    pub fn load(path: &Path) -> Result<ShareFile, GuardianError> {
        let bytes = fsutil::read_limited(path, MAX_FILE)?;
        Self::parse(&bytes, &path.display().to_string())
    }

    /// The file's bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The printed one-line form.
    pub fn printed(&self) -> Result<String, GuardianError> {
        printed::encode(self)
    }

    /// Opens the share with its guardian's passphrase.
    pub fn open(&self, passphrase: &SecretString) -> Result<OpenedShare, GuardianError> {
        if self.envelope.context() != Some(&self.context()) {
            return Err(GuardianError::HeaderAltered {
                guardian: self.guardian.clone(),
            });
        }
        let plain = self.envelope.open(passphrase).map_err(|e| match e {
            EnvelopeError::WrongPassphraseOrAltered => GuardianError::WrongPassphrase {
                guardian: self.guardian.clone(),
                index: self.index,
            },
            other => other.into(),
        })?;
        let bytes = plain.expose_secret();
        if bytes.len() != SHARE_LEN {
            return Err(GuardianError::ShareDamaged {
                guardian: self.guardian.clone(),
                reason: "the share is not 33 bytes",
            });
        }
        if bytes[0] != self.index {
            return Err(GuardianError::ShareDamaged {
                guardian: self.guardian.clone(),
                reason: "the sealed index differs from the header's",
            });
        }
        Ok(OpenedShare {
            index: self.index,
            guardian: self.guardian.clone(),
            bytes: Zeroizing::new(bytes.clone()),
        })
    }
}

/// A share's public fields, before it is sealed.
struct Label<'a> {
    set_id: &'a str,
    threshold: u8,
    total: u8,
    index: u8,
    guardian: &'a str,
    custodian: &'a str,
    recipient: &'a str,
    created_at: &'a str,
}

impl Label<'_> {
    fn context(&self) -> Value {
        json!({
            "kind": FORMAT,
            "setId": self.set_id,
            "threshold": self.threshold,
            "total": self.total,
            "index": self.index,
            "guardian": self.guardian,
            "custodian": self.custodian,
            "recipient": self.recipient,
            "createdAt": self.created_at,
        })
    }

    fn seal(&self, share: &[u8], passphrase: &SecretString) -> Result<ShareFile, GuardianError> {
        let envelope = envelope::seal(
            share,
            passphrase,
            envelope::DEFAULT_ITERATIONS,
            Some(self.context()),
        )?;
        Ok(ShareFile {
            format: FORMAT.into(),
            version: VERSION,
            set_id: self.set_id.into(),
            threshold: self.threshold,
            total: self.total,
            index: self.index,
            guardian: self.guardian.into(),
            custodian: self.custodian.into(),
            recipient: self.recipient.into(),
            created_at: self.created_at.into(),
            envelope,
        })
    }
}

fn short_set(set_id: &str) -> String {
    set_id.chars().take(8).collect()
}

/// A share's secret bytes, unsealed (zeroized on drop, no `Debug` of them).
#[derive(Clone)]
pub struct OpenedShare {
    /// Its index.
    pub index: u8,
    /// Its guardian.
    pub guardian: String,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenedShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedShare")
            .field("index", &self.index)
            .field("guardian", &self.guardian)
            .finish_non_exhaustive()
    }
}

/// A share read from somewhere, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedShare {
    /// A path or "printed line".
    pub source: String,
    /// The parsed share.
    pub share: ShareFile,
}

impl LoadedShare {
    /// Loads a share from a path (JSON share file or a file holding a printed line).
    pub fn from_path(path: &Path) -> Result<LoadedShare, GuardianError> {
        Ok(LoadedShare {
            source: path.display().to_string(),
            share: ShareFile::load(path)?,
        })
    }

    /// Parses a printed line typed by a person.
    pub fn from_printed(line: &str) -> Result<LoadedShare, GuardianError> {
        Ok(LoadedShare {
            source: "printed line".into(),
            share: printed::decode(line)?,
        })
    }
}

/// What the registry records about a split (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitRecord {
    /// The set id.
    pub set_id: String,
    /// The custodian whose key was split.
    pub custodian: String,
    /// Its recipient.
    pub recipient: String,
    /// Shares needed.
    pub threshold: u8,
    /// Shares made.
    pub total: u8,
    /// Guardians in index order (index = position + 1).
    pub guardians: Vec<String>,
    /// Where each share was written, in index order.
    pub files: Vec<PathBuf>,
    /// SHA-256 of each share file, in index order.
    pub file_sha256: Vec<String>,
    /// When.
    pub created_at: String,
    /// A commitment to each share's bytes, in index order (see
    /// [`roll_call::commitment`]); empty for a split recorded before
    /// commitments existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitments: Vec<String>,
    /// Set when a later split of the custodian's key replaced this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<Superseded>,
    /// Guardian name → the last roll call they passed (RFC 3339).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roll_call: BTreeMap<String, String>,
}

/// Why and when a split stopped counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Superseded {
    /// When (RFC 3339).
    pub at: String,
    /// The set that replaced it.
    pub by_set: String,
    /// `re-split`, `rotation` or `retirement`.
    pub reason: String,
}

impl SplitRecord {
    /// Refuses a set that was superseded, naming when and by which set.
    pub fn check_current(&self) -> Result<(), GuardianError> {
        match &self.superseded {
            None => Ok(()),
            Some(s) => Err(GuardianError::Superseded {
                set: short_set(&self.set_id),
                custodian: self.custodian.clone(),
                at: s.at.clone(),
                by_set: if s.by_set.is_empty() {
                    format!("none ({})", s.reason)
                } else {
                    short_set(&s.by_set)
                },
            }),
        }
    }
}

/// A reconstruction, as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconstructionRecord {
    /// The set the shares came from.
    pub set_id: String,
    /// The custodian whose key was rebuilt.
    pub custodian: String,
    /// Its recipient.
    pub recipient: String,
    /// Guardians whose shares were used.
    pub guardians: Vec<String>,
    /// The new identity file.
    pub identity_file: PathBuf,
    /// When.
    pub created_at: String,
}

/// The `guardianSplits` registry section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitsSection {
    /// Every split made in this workspace.
    #[serde(default)]
    pub splits: Vec<SplitRecord>,
    /// Every reconstruction made in this workspace.
    #[serde(default)]
    pub reconstructions: Vec<ReconstructionRecord>,
}

impl SplitsSection {
    /// True when nothing was split or rebuilt here.
    pub fn is_empty(&self) -> bool {
        self.splits.is_empty() && self.reconstructions.is_empty()
    }

    /// Marks every current split of `recipient`'s key superseded by `by_set`.
    pub fn supersede(&mut self, recipient: &str, by_set: &str, at: &str, reason: &str) {
        for s in self
            .splits
            .iter_mut()
            .filter(|s| s.recipient == recipient && s.superseded.is_none() && s.set_id != by_set)
        {
            s.superseded = Some(Superseded {
                at: at.into(),
                by_set: by_set.into(),
                reason: reason.into(),
            });
        }
    }

    /// The current (not superseded) splits of a key.
    pub fn current_for<'a>(&'a self, recipient: &'a str) -> impl Iterator<Item = &'a SplitRecord> {
        self.splits
            .iter()
            .filter(move |s| s.recipient == recipient && s.superseded.is_none())
    }

    /// True when the custodian (by name or recipient) has a split of their
    /// key on record, at `shape` (threshold, total) when one is given.
    pub fn has_split_for(&self, name: &str, recipient: &str, shape: Option<(u8, u8)>) -> bool {
        self.splits.iter().any(|s| {
            (s.custodian == name || s.recipient == recipient)
                && shape.is_none_or(|(k, n)| s.threshold == k && s.total == n)
        })
    }
}

/// Reads the registry's split records.
pub fn splits(ws: &Workspace) -> Result<SplitsSection, GuardianError> {
    Ok(ws.registry()?.guardian_splits)
}

/// What a split asks for.
pub struct SplitRequest<'a> {
    /// The custodian's identity file.
    pub identity_path: &'a Path,
    /// Its passphrase.
    pub identity_passphrase: &'a SecretString,
    /// Shares needed to rebuild.
    pub threshold: usize,
    /// Guardians with their chosen passphrases, in index order.
    pub guardians: Vec<(String, SecretString)>,
    /// Directory for the share files (default `<workspace>/guardian-shares`).
    pub out_dir: Option<&'a Path>,
}

/// One share written by a split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenShare {
    /// The guardian.
    pub guardian: String,
    /// The index.
    pub index: u8,
    /// Where.
    pub path: PathBuf,
    /// SHA-256 of the file.
    pub sha256: String,
    /// The printed one-line form.
    pub printed: String,
}

/// What a split produced (all public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitOutcome {
    /// The set id.
    pub set_id: String,
    /// The custodian.
    pub custodian: String,
    /// The recipient of the split key.
    pub recipient: String,
    /// Threshold.
    pub threshold: u8,
    /// Total.
    pub total: u8,
    /// The written shares, in index order.
    pub shares: Vec<WrittenShare>,
    /// The indices of the k-subset that proved the split.
    pub proved_with: Vec<u8>,
}

/// Progress callback: (done, total, what).
pub type Progress<'a> = &'a (dyn Fn(u64, u64, &str) + Sync);

/// Checks a threshold and guardian list before anything else happens.
pub fn check_plan(threshold: usize, guardians: &[String]) -> Result<(), GuardianError> {
    let total = guardians.len();
    if threshold < 2 || threshold > total || total > MAX_GUARDIANS {
        return Err(GuardianError::BadThreshold { threshold, total });
    }
    let mut seen = std::collections::HashSet::new();
    for g in guardians {
        identity::validate_name(g)?;
        if !seen.insert(identity::file_stem(g)) {
            return Err(GuardianError::DuplicateGuardian(g.clone()));
        }
    }
    Ok(())
}

/// The file a share is written to.
pub fn share_path(dir: &Path, custodian: &str, set_id: &str, index: u8, guardian: &str) -> PathBuf {
    dir.join(format!(
        "{}.{}.{index}-{}.share.json",
        identity::file_stem(custodian),
        short_set(set_id),
        identity::file_stem(guardian)
    ))
}

/// Splits 32 secret bytes into one share per name (index = position + 1),
/// any `threshold` of which rebuild them. No file, no passphrase: the raw
/// arithmetic [`split`] seals, exposed for property tests.
pub fn deal(secret: &[u8; 32], threshold: u8, names: &[String]) -> Vec<OpenedShare> {
    blahaj::Sharks(threshold)
        .dealer(secret)
        .zip(names)
        .map(|(s, name)| {
            let bytes = Zeroizing::new(Vec::from(&s));
            OpenedShare {
                index: bytes[0],
                guardian: name.clone(),
                bytes,
            }
        })
        .collect()
}

/// Rebuilds a key from exactly `threshold` opened shares with distinct
/// indices and checks it against `recipient`. Fewer shares are refused
/// (blahaj would otherwise interpolate a wrong secret from them).
pub fn rebuild_key(
    custodian: &str,
    threshold: u8,
    recipient: &str,
    shares: &[OpenedShare],
) -> Result<OpenedIdentity, GuardianError> {
    let mut indices: Vec<u8> = shares.iter().map(|s| s.index).collect();
    indices.sort_unstable();
    indices.dedup();
    if indices.len() < usize::from(threshold) || indices.contains(&0) {
        return Err(GuardianError::TooFew {
            have: indices.len(),
            need: threshold.into(),
            missing: "more distinct shares".into(),
        });
    }
    let chosen: Vec<&[u8]> = shares.iter().map(|s| s.bytes.as_slice()).collect();
    let key = interpolate(threshold, &chosen)?;
    let rebuilt = OpenedIdentity::from_secret_bytes(custodian, &key)?;
    if rebuilt.recipient != recipient {
        return Err(GuardianError::RecipientMismatch {
            expected: recipient.into(),
            got: rebuilt.recipient,
        });
    }
    Ok(rebuilt)
}

/// Lagrange interpolation at 0 through blahaj. Callers have already checked
/// the count, the distinct indices and the 33-byte length of every share, so
/// blahaj's own refusals cannot happen here; if one did, it is reported as
/// damaged input rather than interpolated.
fn interpolate(threshold: u8, shares: &[&[u8]]) -> Result<Zeroizing<[u8; 32]>, GuardianError> {
    let damaged = || GuardianError::ShareDamaged {
        guardian: "one of the guardians".into(),
        reason: "the shares cannot be interpolated together",
    };
    let parsed = shares
        .iter()
        .map(|s| blahaj::Share::try_from(*s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| damaged())?;
    let secret = Zeroizing::new(
        blahaj::Sharks(threshold)
            .recover(parsed.iter())
            .map_err(|_| damaged())?,
    );
    let arr: [u8; 32] = secret.as_slice().try_into().map_err(|_| damaged())?;
    Ok(Zeroizing::new(arr))
}

/// Checks a custodian's identity passphrase before a split asks each
/// guardian to choose and type theirs (one extra KDF, so nobody types five
/// passphrases only to learn the first one was wrong). A wrong passphrase
/// is audited as a failed split; a right one writes nothing.
pub fn check_split_passphrase(
    ws: &Workspace,
    identity_path: &Path,
    passphrase: &SecretString,
) -> Result<(), GuardianError> {
    // The passphrase only: a token identity asks its token once, in the split.
    identity::audited_step(
        ws,
        EVENT_SPLIT,
        identity_path,
        |file| json!({ "custodian": file.name, "identityFile": identity_path }),
        |file| file.check_passphrase(passphrase),
    )
}

/// Splits a custodian's key among guardians; see the module docs.
///
/// Order of work: check the plan and the output paths, write INITIATED, open
/// the identity, split, seal every share in parallel, prove the split by
/// rebuilding from a random k-subset in memory, write and read back every
/// file (removing those already written if one fails), record the split in
/// the registry, write COMPLETED.
pub fn split(
    ws: &Workspace,
    req: SplitRequest<'_>,
    progress: Progress<'_>,
) -> Result<SplitOutcome, GuardianError> {
    let names: Vec<String> = req.guardians.iter().map(|(n, _)| n.clone()).collect();
    check_plan(req.threshold, &names)?;
    let threshold = req.threshold as u8;
    let total = names.len() as u8;
    let file = IdentityFile::load(req.identity_path)?;
    // A directory made here is removed again if the split fails.
    let out_dir = match req.out_dir {
        Some(d) => Some(Workspace::output_dir(d)?),
        None => None,
    };
    let dir = match &out_dir {
        Some(d) => d.path().to_path_buf(),
        None => ws.subdir("guardian-shares")?,
    };
    let set_id = new_set_id();
    let paths: Vec<PathBuf> = names
        .iter()
        .enumerate()
        .map(|(i, g)| share_path(&dir, &file.name, &set_id, i as u8 + 1, g))
        .collect();
    if let Some(p) = paths.iter().find(|p| p.exists()) {
        return Err(FsError::AlreadyExists(p.clone()).into());
    }
    let mut tx = ws.begin(
        EVENT_SPLIT,
        json!({
            "custodian": file.name, "recipient": file.recipient, "setId": set_id,
            "threshold": threshold, "total": total, "guardians": names,
            "identityFile": req.identity_path,
        }),
    )?;
    let staged = tx
        .reserve(&dir, u64::from(total) * MAX_FILE)
        .map_err(GuardianError::from)
        .and_then(|()| {
            split_inner(
                &mut tx, &req, &file, &set_id, threshold, total, &paths, progress,
            )
        });
    let (outcome, record) = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let committed = tx.commit(
        |reg| {
            // A new split of the same key replaces the earlier sets.
            reg.guardian_splits.supersede(
                &record.recipient,
                &record.set_id,
                &record.created_at,
                "re-split",
            );
            reg.guardian_splits.splits.push(record);
            Ok::<_, GuardianError>(outcome)
        },
        |outcome| {
            json!({
                "files": outcome.shares.iter().map(|s| json!({
                    "guardian": s.guardian, "index": s.index, "file": s.path, "fileSha256": s.sha256
                })).collect::<Vec<_>>(),
                "provedWith": outcome.proved_with,
            })
        },
    );
    if committed.is_ok()
        && let Some(dir) = out_dir
    {
        dir.keep();
    }
    committed
}

#[allow(clippy::too_many_arguments)]
fn split_inner(
    tx: &mut Transaction<'_>,
    req: &SplitRequest<'_>,
    file: &IdentityFile,
    set_id: &str,
    threshold: u8,
    total: u8,
    paths: &[PathBuf],
    progress: Progress<'_>,
) -> Result<(SplitOutcome, SplitRecord), GuardianError> {
    progress(0, u64::from(total) + 2, "opening the custodian's identity");
    let opened = file.open(req.identity_passphrase)?;
    stage_split(
        tx,
        &opened,
        &file.name,
        set_id,
        threshold,
        &req.guardians,
        paths,
        progress,
    )
}

/// A fresh random set id (32 hex digits).
pub(crate) fn new_set_id() -> String {
    let mut id = [0u8; SET_ID_LEN];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut id);
    hex::encode(id)
}

/// Splits an opened key among `guardians` (index = position + 1), proves
/// the split in memory, seals every share and stages each file as an
/// output of `tx`. Returns what to report and what to record, with a
/// commitment to every share. Shared by `split` and by rotation.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_split(
    tx: &mut Transaction<'_>,
    opened: &OpenedIdentity,
    custodian: &str,
    set_id: &str,
    threshold: u8,
    guardians: &[(String, SecretString)],
    paths: &[PathBuf],
    progress: Progress<'_>,
) -> Result<(SplitOutcome, SplitRecord), GuardianError> {
    let total = guardians.len() as u8;
    let recipient = opened.recipient.clone();
    let steps = u64::from(total) + 2;
    let secret = opened.secret_bytes()?;
    let names: Vec<String> = guardians.iter().map(|(n, _)| n.clone()).collect();
    let raw = deal(&secret, threshold, &names);

    // Prove the split in memory before sealing anything.
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.shuffle(&mut crate::rng::os());
    let mut subset: Vec<usize> = order[..threshold.into()].to_vec();
    subset.sort_unstable();
    let proved_with: Vec<u8> = subset.iter().map(|i| raw[*i].index).collect();
    let chosen: Vec<OpenedShare> = subset.iter().map(|i| raw[*i].clone()).collect();
    let proof = rebuild_key(custodian, threshold, &recipient, &chosen);
    if !matches!(proof, Ok(ref id) if id.recipient == recipient) {
        return Err(GuardianError::SplitProofFailed {
            indices: proved_with,
        });
    }
    progress(1, steps, "split proved; sealing shares");
    let commitments: Vec<String> = raw
        .iter()
        .map(|s| roll_call::commitment(set_id, s.index, &s.bytes))
        .collect::<Result<_, _>>()?;

    let created_at = crate::clock::now_string();
    let done = std::sync::atomic::AtomicU64::new(1);
    let sealed: Vec<ShareFile> = guardians
        .par_iter()
        .zip(raw.par_iter())
        .map(|((guardian, pass), opened)| {
            let bytes = opened.bytes.as_slice();
            let share = Label {
                set_id,
                threshold,
                total,
                index: opened.index,
                guardian,
                custodian,
                recipient: &recipient,
                created_at: &created_at,
            }
            .seal(bytes, pass)?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            progress(n, steps, &format!("sealed {guardian}'s share"));
            Ok(share)
        })
        .collect::<Result<_, GuardianError>>()?;

    // Each share is written unnamed and read back; the transaction
    // publishes them all, or none, when it commits.
    let mut written: Vec<WrittenShare> = Vec::new();
    for (share, path) in sealed.iter().zip(paths) {
        let bytes = share.to_bytes();
        let sha256 = tx.write_output(path, &bytes, |read| {
            let back = ShareFile::from_bytes(read).map_err(|e| e.to_string())?;
            if back == *share {
                Ok(())
            } else {
                Err("the share read back differs".into())
            }
        })?;
        written.push(WrittenShare {
            guardian: share.guardian.clone(),
            index: share.index,
            path: path.clone(),
            sha256,
            printed: share.printed()?,
        });
    }
    let record = SplitRecord {
        set_id: set_id.into(),
        custodian: custodian.into(),
        recipient: recipient.clone(),
        threshold,
        total,
        guardians: sealed.iter().map(|s| s.guardian.clone()).collect(),
        files: paths.to_vec(),
        file_sha256: written.iter().map(|w| w.sha256.clone()).collect(),
        created_at: created_at.clone(),
        commitments,
        superseded: None,
        roll_call: BTreeMap::new(),
    };
    progress(steps, steps, "shares written and read back");
    Ok((
        SplitOutcome {
            set_id: set_id.into(),
            custodian: custodian.into(),
            recipient,
            threshold,
            total,
            shares: written,
            proved_with,
        },
        record,
    ))
}

/// A validated set of shares: one per index, all from one split, at least
/// the threshold of them. Built only by [`ShareSet::assemble`].
#[derive(Debug, Clone)]
pub struct ShareSet {
    /// The distinct shares, in index order.
    pub members: Vec<LoadedShare>,
    /// Notes for the user (identical duplicates that were ignored).
    pub notes: Vec<String>,
    /// The set id.
    pub set_id: String,
    /// Threshold.
    pub threshold: u8,
    /// Total.
    pub total: u8,
    /// The custodian.
    pub custodian: String,
    /// The recorded recipient.
    pub recipient: String,
}

/// Shares gathered so far (the console's reconstruct wizard adds them one at
/// a time): every consistency check except "enough of them".
#[derive(Debug, Clone, Default)]
pub struct Collection {
    members: BTreeMap<u8, LoadedShare>,
    notes: Vec<String>,
}

impl Collection {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// The distinct shares so far, in index order.
    pub fn members(&self) -> impl Iterator<Item = &LoadedShare> {
        self.members.values()
    }

    /// How many distinct shares.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Notes about ignored duplicates.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The threshold of the set, once a share is in.
    pub fn threshold(&self) -> Option<u8> {
        self.members.values().next().map(|m| m.share.threshold)
    }

    /// Adds a share after checking it against those already in. On error
    /// the collection is unchanged. Returns a note when the share was an
    /// identical duplicate and was ignored.
    pub fn add(&mut self, new: LoadedShare) -> Result<Option<String>, GuardianError> {
        let s = &new.share;
        if s.index == 0 {
            return Err(GuardianError::IndexZero {
                guardian: s.guardian.clone(),
            });
        }
        if s.index > s.total {
            return Err(GuardianError::IndexOutOfRange {
                guardian: s.guardian.clone(),
                index: s.index,
                total: s.total,
            });
        }
        if s.threshold < 2 || s.threshold > s.total {
            return Err(GuardianError::BadThreshold {
                threshold: s.threshold.into(),
                total: s.total.into(),
            });
        }
        if let Some(first) = self.members.values().next() {
            let f = &first.share;
            if f.set_id != s.set_id || f.recipient != s.recipient {
                return Err(GuardianError::MixedSets {
                    first: f.guardian.clone(),
                    first_set: f.short_set(),
                    second: s.guardian.clone(),
                    second_set: s.short_set(),
                });
            }
            for (field, a, b) in [
                ("threshold", f.threshold, s.threshold),
                ("total", f.total, s.total),
            ] {
                if a != b {
                    return Err(GuardianError::ParameterMismatch {
                        field,
                        first: f.guardian.clone(),
                        first_value: a,
                        second: s.guardian.clone(),
                        second_value: b,
                    });
                }
            }
        }
        if let Some(existing) = self.members.get(&s.index) {
            if existing.share == *s {
                let note = format!(
                    "{}'s share #{} was given twice ({}); the copy was ignored",
                    s.guardian, s.index, new.source
                );
                self.notes.push(note.clone());
                return Ok(Some(note));
            }
            return Err(GuardianError::DuplicateIndex {
                index: s.index,
                first: existing.share.guardian.clone(),
                second: s.guardian.clone(),
            });
        }
        self.members.insert(s.index, new);
        Ok(None)
    }

    /// Who could still bring a share: guardian names from the registry's
    /// record of the split when known, otherwise share numbers.
    pub fn missing(&self, known: Option<&SplitRecord>) -> Vec<String> {
        let Some(first) = self.members.values().next() else {
            return Vec::new();
        };
        (1..=first.share.total)
            .filter(|i| !self.members.contains_key(i))
            .map(
                |i| match known.and_then(|k| k.guardians.get(usize::from(i) - 1)) {
                    Some(name) => format!("{name} (#{i})"),
                    None => format!("share #{i}"),
                },
            )
            .collect()
    }

    /// Finishes collecting: refuses fewer shares than the threshold.
    pub fn finish(self, known: Option<&SplitRecord>) -> Result<ShareSet, GuardianError> {
        let Some(first) = self.members.values().next().cloned() else {
            return Err(GuardianError::NoShares);
        };
        if let Some(k) = known.filter(|k| k.set_id == first.share.set_id) {
            k.check_current()?;
        }
        let need = usize::from(first.share.threshold);
        if self.members.len() < need {
            let more = need - self.members.len();
            return Err(GuardianError::TooFew {
                have: self.members.len(),
                need,
                missing: format!("{} (any {more} of them)", self.missing(known).join(", ")),
            });
        }
        Ok(ShareSet {
            members: self.members.into_values().collect(),
            notes: self.notes,
            set_id: first.share.set_id,
            threshold: first.share.threshold,
            total: first.share.total,
            custodian: first.share.custodian,
            recipient: first.share.recipient,
        })
    }
}

impl ShareSet {
    /// Validates shares before any passphrase is asked for.
    pub fn assemble(
        shares: Vec<LoadedShare>,
        known: Option<&SplitRecord>,
    ) -> Result<ShareSet, GuardianError> {
        let mut c = Collection::new();
        for s in shares {
            c.add(s)?;
        }
        c.finish(known)
    }

    /// The registry's record of this split, if this workspace made it.
    pub fn known_split(ws: &Workspace, set_id: &str) -> Option<SplitRecord> {
        splits(ws)
            .ok()?
            .splits
            .into_iter()
            .find(|s| s.set_id == set_id)
    }
}

/// Every k-subset of 0..n, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut cur: Vec<usize> = (0..k).collect();
    if k == 0 || k > n {
        return out;
    }
    loop {
        out.push(cur.clone());
        let mut i = k;
        while i > 0 && cur[i - 1] == n - k + i - 1 {
            i -= 1;
        }
        if i == 0 {
            return out;
        }
        cur[i - 1] += 1;
        for j in i..k {
            cur[j] = cur[j - 1] + 1;
        }
    }
}

/// Rebuilds the key from a validated set's opened shares; see [`rebuild_verified`].
pub fn rebuild(set: &ShareSet, opened: &[OpenedShare]) -> Result<OpenedIdentity, GuardianError> {
    rebuild_verified(&set.custodian, set.threshold, &set.recipient, opened)
}

/// Rebuilds the key from opened shares and verifies it against the recorded
/// recipient. With exactly k shares the one combination must match; with
/// more, every k-subset is tried, and a share that appears only in failing
/// combinations is named. Any disagreement is an error, even when some
/// combination succeeds: a share that is not genuine must be looked into
/// before the key is trusted.
pub fn rebuild_verified(
    custodian: &str,
    threshold: u8,
    recipient: &str,
    opened: &[OpenedShare],
) -> Result<OpenedIdentity, GuardianError> {
    let k = usize::from(threshold);
    if opened.len() <= k {
        return rebuild_key(custodian, threshold, recipient, opened);
    }
    let combos = subsets(opened.len(), k);
    let mut good: Option<OpenedIdentity> = None;
    let mut failing: Vec<&Vec<usize>> = Vec::new();
    for combo in &combos {
        let chosen: Vec<OpenedShare> = combo.iter().map(|i| opened[*i].clone()).collect();
        match rebuild_key(custodian, threshold, recipient, &chosen) {
            Ok(id) => good = Some(id),
            Err(GuardianError::RecipientMismatch { .. }) => failing.push(combo),
            Err(e) => return Err(e),
        }
    }
    match good {
        Some(id) if failing.is_empty() => Ok(id),
        Some(_) => {
            // A share is suspect when no combination containing it succeeds.
            let suspects: Vec<String> = (0..opened.len())
                .filter(|i| {
                    combos
                        .iter()
                        .filter(|c| c.contains(i))
                        .all(|c| failing.contains(&c))
                })
                .map(|i| opened[i].guardian.clone())
                .collect();
            if suspects.is_empty() {
                Err(GuardianError::NoConsistentSubset {
                    threshold,
                    expected: recipient.into(),
                })
            } else {
                Err(GuardianError::DisagreeingShare {
                    guardians: suspects,
                })
            }
        }
        None => Err(GuardianError::NoConsistentSubset {
            threshold,
            expected: recipient.into(),
        }),
    }
}

/// Opens every share of a set with its guardian's passphrase, in parallel.
/// `passphrases[i]` belongs to `set.members[i]`. The first failure (in index
/// order) is returned, naming its guardian.
pub fn open_all(
    set: &ShareSet,
    passphrases: &[SecretString],
    progress: Progress<'_>,
) -> Result<Vec<OpenedShare>, GuardianError> {
    let total = set.members.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<OpenedShare, GuardianError>> = set
        .members
        .par_iter()
        .zip(passphrases.par_iter())
        .map(|(m, p)| {
            let r = m.share.open(p);
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            progress(n, total, &format!("opened {}'s share", m.share.guardian));
            r
        })
        .collect();
    results.into_iter().collect()
}

/// What a reconstruction produced (all public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Combined {
    /// The custodian.
    pub custodian: String,
    /// The verified recipient.
    pub recipient: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The new identity file.
    pub path: PathBuf,
    /// SHA-256 of it.
    pub file_sha256: String,
    /// Guardians whose shares were used.
    pub guardians: Vec<String>,
    /// True when the custodian was added to this workspace's registry
    /// (false when it was already registered with this recipient).
    pub registered: bool,
    /// Notes (ignored duplicates).
    pub notes: Vec<String>,
}

/// Default path for a rebuilt identity: never the original's name, so the
/// original file (if it still exists) is never confused with it.
pub fn default_rebuilt_path(ws: &Workspace, custodian: &str) -> Result<PathBuf, GuardianError> {
    let stamp = crate::clock::now_string().replace(':', "");
    Ok(ws.identities_dir()?.join(format!(
        "{}.rebuilt-{stamp}.identity.json",
        identity::file_stem(custodian)
    )))
}

/// Reconstructs the key from a validated set, verifies it, and re-seals it
/// into a new identity file under `new_passphrase`.
///
/// Registry: when the custodian is already registered with the same
/// recipient, the registry's custodian list is left alone (no duplicate) and
/// only the reconstruction is recorded; when the name is registered with a
/// different recipient the operation is refused before anything is opened;
/// when it is unknown (recovery on a fresh machine), the custodian is added
/// with the new file.
pub fn combine(
    ws: &Workspace,
    set: &ShareSet,
    passphrases: &[SecretString],
    new_passphrase: &SecretString,
    out: Option<&Path>,
    progress: Progress<'_>,
) -> Result<Combined, GuardianError> {
    combine_with_token(ws, set, passphrases, new_passphrase, None, out, progress)
}

/// [`combine`], re-sealing with a hardware token as second factor.
///
/// Shares hold the raw key, so rebuilding never needs the token (that is the
/// way back from a lost one). The rebuilt identity needs a token again when
/// the registry records one for this custodian: `token` enrols a new token,
/// and without it the registered one is used. With no registered token,
/// `token` adds one.
pub fn combine_with_token(
    ws: &Workspace,
    set: &ShareSet,
    passphrases: &[SecretString],
    new_passphrase: &SecretString,
    token: Option<TokenRequirement>,
    out: Option<&Path>,
    progress: Progress<'_>,
) -> Result<Combined, GuardianError> {
    let registered = ws.registry()?.custodian(&set.custodian).cloned();
    let token = match token {
        Some(t) => Some(t),
        None => match registered.as_ref().and_then(|r| r.token.as_deref()) {
            Some(r) => Some(crate::token::parse_recipient(r).map_err(IdentityError::from)?),
            None => None,
        },
    };
    if let Some(r) = &registered
        && r.recipient != set.recipient
    {
        return Err(GuardianError::CustodianConflict {
            name: set.custodian.clone(),
            registered: r.recipient.clone(),
            rebuilt: set.recipient.clone(),
        });
    }
    // A superseded set is refused here too, whoever assembled the shares.
    if let Some(k) = ShareSet::known_split(ws, &set.set_id) {
        k.check_current()?;
    }
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => default_rebuilt_path(ws, &set.custodian)?,
    };
    if path.symlink_metadata().is_ok() {
        return Err(FsError::AlreadyExists(path).into());
    }
    let guardians: Vec<String> = set
        .members
        .iter()
        .map(|m| m.share.guardian.clone())
        .collect();
    // One transaction: the rebuilt identity file and the registry change
    // (the reconstruction recorded, the custodian added or their token
    // updated) land together or not at all, whatever fails or is killed.
    let mut tx = ws.begin(
        EVENT_COMBINE,
        json!({
            "custodian": set.custodian, "recipient": set.recipient, "setId": set.set_id,
            "threshold": set.threshold,
            "shares": set.members.iter().map(|m| json!({
                "guardian": m.share.guardian, "index": m.share.index,
                "fileSha256": fsutil::sha256_hex(&m.share.to_bytes()),
            })).collect::<Vec<_>>(),
            "file": path,
            "tokenRecipient": token.as_ref().map(|t| t.recipient.clone()),
        }),
    )?;
    let staged = (|| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tx.reserve(dir, 64 * 1024)?;
        }
        let opened = open_all(set, passphrases, progress)?;
        let rebuilt = rebuild(set, &opened)?;
        drop(opened);
        let now = crate::clock::now();
        let created_at = crate::clock::format(now);
        let file =
            IdentityFile::seal_with_token(&rebuilt, new_passphrase, &created_at, token.as_ref())?;
        identity::verify_token_seal(&file, new_passphrase, &set.recipient)?;
        let bytes = file.to_bytes();
        let sha = tx.write_output(&path, &bytes, |read| {
            let back = IdentityFile::from_bytes(read).map_err(|e| e.to_string())?;
            if back.token.is_some() {
                return identity::same_file(&back, &file);
            }
            let reopened = back.open(new_passphrase).map_err(|e| e.to_string())?;
            if reopened.recipient == set.recipient {
                Ok(())
            } else {
                Err("re-opened key has a different recipient".into())
            }
        })?;
        Ok::<_, GuardianError>((now, created_at, sha))
    })();
    let (now, created_at, sha) = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let record = ReconstructionRecord {
        set_id: set.set_id.clone(),
        custodian: set.custodian.clone(),
        recipient: set.recipient.clone(),
        guardians: guardians.clone(),
        identity_file: path.clone(),
        created_at: created_at.clone(),
    };
    tx.commit(
        |reg| {
            // Checked again under the lock: the registry may have changed
            // since the plan was made.
            if let Some(r) = reg.custodian(&set.custodian)
                && r.recipient != set.recipient
            {
                return Err(GuardianError::CustodianConflict {
                    name: set.custodian.clone(),
                    registered: r.recipient.clone(),
                    rebuilt: set.recipient.clone(),
                });
            }
            reg.guardian_splits.reconstructions.push(record);
            let added = reg.custodian(&set.custodian).is_none();
            if let Some(t) = &token
                && let Some(c) = reg.custodians.iter_mut().find(|c| c.name == set.custodian)
            {
                // A new token enrolled by the rebuild replaces the lost one.
                c.token = Some(t.recipient.clone());
            }
            if added {
                reg.custodians.push(CustodianRecord {
                    name: set.custodian.clone(),
                    recipient: set.recipient.clone(),
                    fingerprint: identity::fingerprint(&set.recipient),
                    created_at: created_at.clone(),
                    rotation_due: crate::clock::format(crate::clock::plus_days(now, ROTATION_DAYS)),
                    identity_file: Some(path.clone()),
                    token: token.as_ref().map(|t| t.recipient.clone()),
                });
            }
            Ok(Combined {
                custodian: set.custodian.clone(),
                recipient: set.recipient.clone(),
                fingerprint: identity::fingerprint(&set.recipient),
                path: path.clone(),
                file_sha256: sha.clone(),
                guardians: guardians.clone(),
                registered: added,
                notes: set.notes.clone(),
            })
        },
        |c| json!({ "fileSha256": c.file_sha256, "registered": c.registered }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_enumerates_every_combination_once() {
        let s = subsets(5, 3);
        assert_eq!(s.len(), 10);
        assert_eq!(s[0], vec![0, 1, 2]);
        assert_eq!(s[9], vec![2, 3, 4]);
        let mut d = s.clone();
        d.dedup();
        assert_eq!(d.len(), 10);
        assert_eq!(subsets(3, 3), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn plans_are_checked() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_plan(3, &g(&["A", "B", "C"])).is_ok());
        assert!(matches!(
            check_plan(1, &g(&["A", "B"])),
            Err(GuardianError::BadThreshold { .. })
        ));
        assert!(matches!(
            check_plan(3, &g(&["A", "B"])),
            Err(GuardianError::BadThreshold { .. })
        ));
        assert!(matches!(
            check_plan(2, &g(&["Ana", "ana", "B"])),
            Err(GuardianError::DuplicateGuardian(n)) if n == "ana"
        ));
    }
}
