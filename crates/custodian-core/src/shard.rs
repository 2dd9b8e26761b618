//! Shard files: one custodian's share of an MPC signing key, age-encrypted
//! to that custodian, with the public facts needed to check it beside it.
//!
//! ```json
//! {"format":"custodian-shard","version":1,
//!  "keyId":"treasury-hot-1","custodian":"Ana","recipient":"age1…",
//!  "scheme":"shamir-secp256k1-order","threshold":2,"index":1,
//!  "rootPublicKey":"02…","sharePublicKey":"03…","createdAt":"…",
//!  "wrappedKeyShare":"-----BEGIN AGE ENCRYPTED FILE-----\n…"}
//! ```
//!
//! The payload inside `wrappedKeyShare` is compact JSON
//! `{"format":"custodian-shard-payload","version":1,"keyId":…,"index":…,
//! "rootPublicKey":…,"share":"<64 hex>"}`. Every time a payload is opened it is
//! checked against the metadata around it — same key id, index and root
//! public key, and `G·share` equal to `sharePublicKey` — so a file whose
//! public fields were edited is refused before its share is used.
//!
//! Rewrapping (rotation, a replacement custodian, restoring to a node)
//! decrypts with the holder's identity and encrypts to the new recipient. The
//! new file is then checked from its bytes: its header must hold exactly one
//! X25519 stanza, the very stanza the age library produced for the new
//! recipient (plus age's harmless `-grease` stanzas), and the payload must
//! decrypt, with the file key we encrypted under, to the same share. The age
//! crate does not expose header stanzas, so [`parse_armored_header`] reads
//! the armor and header itself. The old file is never touched.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::x25519;
use age_core::format::{FileKey, Stanza};
use base64::Engine;
use k256::elliptic_curve::PrimeField;
use k256::elliptic_curve::sec1::ToSec1Point;
use k256::{ProjectivePoint, PublicKey, Scalar};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::{Zeroize, Zeroizing};

use crate::audit::AuditError;
use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::identity::{self, IdentityError, IdentityFile, OpenedIdentity};
use crate::transaction::Transaction;
use crate::workspace::{Workspace, WorkspaceError};

/// The value of `format` in a shard file.
pub const FORMAT: &str = "custodian-shard";
/// The shard file version this build reads and writes.
pub const VERSION: u32 = 1;
/// Shamir's scheme over the integers modulo the secp256k1 group order.
pub const SCHEME: &str = "shamir-secp256k1-order";
/// The value of `format` inside a decrypted payload.
pub const PAYLOAD_FORMAT: &str = "custodian-shard-payload";
/// Largest shard file the console reads.
pub const MAX_FILE: u64 = 256 * 1024;
/// Largest decrypted payload accepted.
const MAX_PAYLOAD: u64 = 4096;
/// Registry section listing the shard files this workspace wrote.
pub const REGISTRY_SECTION: &str = "shards";
/// Longest key id.
pub const MAX_KEY_ID: usize = 128;

/// Everything that can go wrong with a shard file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// The file is empty.
    #[error("the shard file is empty")]
    Empty,
    /// The file ends early.
    #[error("the shard file is truncated")]
    Truncated,
    /// Not a shard file.
    #[error("this is not a custodian shard file ({0})")]
    WrongFormat(String),
    /// Written by a newer version.
    #[error("shard file version {0} is not supported (this build reads version {VERSION})")]
    UnsupportedVersion(u64),
    /// A public field is malformed or out of range.
    #[error("the shard's `{field}` is not valid: {reason}")]
    BadMetadata {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The identity given is not the one the shard is wrapped to.
    #[error(
        "this shard is wrapped to {shard_recipient}, but the identity given is {identity_name}'s ({identity_recipient})"
    )]
    WrongIdentity {
        /// The shard's recipient.
        shard_recipient: String,
        /// The identity's name.
        identity_name: String,
        /// The identity's recipient.
        identity_recipient: String,
    },
    /// The identity could not be opened (wrong passphrase, damaged file).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The payload is not encrypted to the identity, though the metadata says so.
    #[error(
        "the wrapped key share is not encrypted to {recipient}: its recipient field was altered"
    )]
    NotEncryptedToIdentity {
        /// The recipient the metadata claims.
        recipient: String,
    },
    /// The payload is encrypted with a passphrase (age -p), not to a recipient.
    #[error(
        "the wrapped key share is encrypted with a passphrase (age -p, scrypt), not to the holder's age identity"
    )]
    PassphrasePayload,
    /// The payload is encrypted to a recipient type this version cannot open.
    #[error(
        "the wrapped key share is encrypted to a `{tag}` recipient{}, which this version does not support",
        stanza_kind(.tag).map(|k| format!(" ({k})")).unwrap_or_default()
    )]
    UnsupportedPayload {
        /// The age stanza type found.
        tag: String,
    },
    /// The payload can be opened by more than one key.
    #[error(
        "the wrapped key share is encrypted to {count} recipients: besides {recipient}, another key can read this share"
    )]
    MultipleRecipients {
        /// How many X25519 recipients.
        count: usize,
        /// The holder's recipient, as the shard names it.
        recipient: String,
    },
    /// The armored ciphertext is damaged.
    #[error("the wrapped key share is damaged: {0}")]
    CorruptCiphertext(String),
    /// The decrypted payload is not a shard payload.
    #[error("the decrypted key share is not a valid shard payload: {0}")]
    BadPayload(String),
    /// The payload disagrees with the public metadata.
    #[error(
        "the shard's public `{field}` does not match its encrypted payload: the file was altered"
    )]
    PayloadMismatch {
        /// The field that disagrees.
        field: &'static str,
    },
    /// The rewrapped file did not verify.
    #[error("the new shard did not verify: {0}")]
    RewrapCheck(String),
    /// The new holder would hold several shards of one key (below its
    /// threshold) and nobody confirmed it by naming them.
    #[error(
        "{holder} would hold {holds} shards of key {key_id} (the key needs {threshold} to rebuild): confirm by naming {holder}"
    )]
    ConcentrationUnconfirmed {
        /// The new holder.
        holder: String,
        /// The key.
        key_id: String,
        /// Shards they would hold.
        holds: usize,
        /// The key's threshold.
        threshold: u32,
    },
    /// A concentration confirmation named someone else.
    #[error("the confirmation names `{given}`, but the shard would go to `{holder}`")]
    ConcentrationWrongName {
        /// Who was named.
        given: String,
        /// The new holder.
        holder: String,
    },
    /// The new holder would reach the key's threshold alone.
    #[error(
        "{holder} would hold {holds} shards of key {key_id}, which needs {threshold}: they could rebuild it alone"
    )]
    ReachesThreshold {
        /// The new holder.
        holder: String,
        /// The key.
        key_id: String,
        /// Shards they would hold.
        holds: usize,
        /// The key's threshold.
        threshold: u32,
    },
    /// An override named fewer than two distinct approvers.
    #[error("an override needs at least 2 distinct approvers; {0} given")]
    TooFewApprovers(usize),
    /// Encryption failed.
    #[error("could not encrypt the key share: {0}")]
    Encrypt(String),
    /// Writing or reading a file failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace could not be updated.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written, so the operation did not run.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
    /// An override's approvals do not satisfy the workspace policy, or an
    /// approver's identity did not open.
    #[error(transparent)]
    Approval(Box<crate::approvals::ApprovalError>),
}

// Boxed: an approval error names a person and may carry an identity error,
// which would make every result of this type large.
impl From<crate::approvals::ApprovalError> for ShardError {
    fn from(e: crate::approvals::ApprovalError) -> Self {
        ShardError::Approval(Box::new(e))
    }
}

impl Explain for ShardError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            ShardError::Empty | ShardError::Truncated => {
                "the file was not copied completely; use an intact copy of the shard".into()
            }
            ShardError::WrongFormat(_) => {
                "check that you chose a shard file (*.shard.json)".into()
            }
            ShardError::UnsupportedVersion(_) => {
                "open it with the newer version of custodian that wrote it".into()
            }
            ShardError::BadMetadata { .. } | ShardError::PayloadMismatch { .. } => {
                "do not use this file; use the custodian's backup copy and report the altered file"
                    .into()
            }
            ShardError::WrongIdentity { .. } => {
                to.pick("give the identity file of the custodian this shard belongs to (see `custodian shard inspect`)", "give the identity file of the custodian this shard belongs to (the shards list, s on the home screen, names them)")
            }
            ShardError::Identity(e) => return e.remedy_for(to),
            ShardError::NotEncryptedToIdentity { .. } => {
                "do not use this file; use the custodian's backup copy and report the altered file"
                    .into()
            }
            ShardError::PassphrasePayload => {
                "a shard's share must be encrypted to its holder's recipient (age -r age1…): ask whoever made this file to encrypt it that way; the file is not damaged"
                    .into()
            }
            ShardError::UnsupportedPayload { .. } => {
                "decrypt the share with the tool that made it and encrypt it to the holder's X25519 recipient (age1…); the file is not damaged"
                    .into()
            }
            ShardError::MultipleRecipients { .. } => {
                to.pick("find out who holds the other key; if that is expected, run again with --accept-multiple-recipients (the count is recorded in the audit log)", "find out who holds the other key; if that is expected, press y to accept it (the count is recorded in the audit log)")
            }
            ShardError::CorruptCiphertext(_) | ShardError::BadPayload(_) => {
                "the encrypted share is damaged; use the custodian's backup copy".into()
            }
            ShardError::RewrapCheck(_) => {
                "nothing was kept; check the disk and try again, the original shard is untouched"
                    .into()
            }
            ShardError::Encrypt(_) => "check the recipient and try again".into(),
            ShardError::ConcentrationUnconfirmed { holder, .. } => to.pick(format!(
                "if {holder} may hold that many, confirm with --confirm-concentration \"{holder}\" (recorded in the audit log); otherwise choose another holder"
            ), format!(
                "if {holder} may hold that many, type their name, {holder}, to confirm (recorded in the audit log); otherwise Esc and choose another holder"
            )),
            ShardError::ConcentrationWrongName { holder, .. } => {
                to.pick(format!("name the new holder exactly: --confirm-concentration \"{holder}\""), format!("type the new holder's name exactly: {holder}"))
            }
            ShardError::ReachesThreshold { .. } => {
                to.pick("choose another holder, or override with --approver NAME at least twice (the approvers are recorded in the audit log; where the workspace requires authenticated approvals, each opens their own identity)", "choose another holder, or have two different approvers override on the approvers step (they are recorded in the audit log; where the workspace requires authenticated approvals, each types their own passphrase)")
            }
            ShardError::TooFewApprovers(_) => {
                to.pick("name two or more different approvers with --approver", "add two or more different approvers on the approvers step")
            }
            ShardError::File(e) => return e.remedy_for(to),
            ShardError::Workspace(e) => return e.remedy_for(to),
            ShardError::Audit(e) => return e.remedy_for(to),
            ShardError::Approval(e) => return e.remedy_for(to),
        })
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> ShardError {
    ShardError::BadMetadata {
        field,
        reason: reason.into(),
    }
}

/// Checks a key id: 1 to 128 letters, digits, '-', '_', '.', ':'.
pub fn validate_key_id(key_id: &str) -> Result<(), ShardError> {
    if key_id.is_empty() || key_id.len() > MAX_KEY_ID {
        return Err(bad(
            "keyId",
            format!("must be 1 to {MAX_KEY_ID} characters"),
        ));
    }
    if !key_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(bad(
            "keyId",
            "only letters, digits, '-', '_', '.' and ':' are allowed",
        ));
    }
    Ok(())
}

/// Parses a SEC1 compressed secp256k1 public key from hex (66 digits).
pub fn parse_public_key(field: &'static str, text: &str) -> Result<PublicKey, ShardError> {
    if text.len() != 66 || !(text.starts_with("02") || text.starts_with("03")) {
        return Err(bad(
            field,
            "expected a SEC1 compressed point: 66 hex digits starting 02 or 03",
        ));
    }
    let bytes = hex::decode(text).map_err(|_| bad(field, "not hexadecimal"))?;
    PublicKey::from_sec1_bytes(&bytes).map_err(|_| bad(field, "not a point on secp256k1"))
}

/// A public key as SEC1 compressed hex.
pub fn public_key_hex(pk: &PublicKey) -> String {
    hex::encode(pk.to_sec1_point(true).as_bytes())
}

/// `G·s` as a public key (None for the zero scalar).
pub fn public_of(s: &Scalar) -> Option<PublicKey> {
    PublicKey::from_affine((ProjectivePoint::GENERATOR * s).to_affine()).ok()
}

/// A shard file: public metadata plus the armored, age-encrypted share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The MPC key this is a share of.
    pub key_id: String,
    /// Who holds it (a custodian, or a node's name).
    pub custodian: String,
    /// The age recipient the share is wrapped to.
    pub recipient: String,
    /// Always [`SCHEME`].
    pub scheme: String,
    /// Shares needed to rebuild the key.
    pub threshold: u32,
    /// This share's x coordinate (1–255).
    pub index: u32,
    /// The key's public key, SEC1 compressed hex.
    pub root_public_key: String,
    /// `G·share`, SEC1 compressed hex.
    pub share_public_key: String,
    /// RFC 3339 time the file was written.
    pub created_at: String,
    /// The ASCII-armored age ciphertext of the payload.
    pub wrapped_key_share: String,
}

/// The decrypted contents of a shard. The share scalar is zeroized on drop
/// and never printed.
pub struct SharePayload {
    /// The key id the payload belongs to.
    pub key_id: String,
    /// The share's x coordinate.
    pub index: u32,
    /// The key's root public key (SEC1 compressed hex).
    pub root_public_key: String,
    share: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SharePayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharePayload")
            .field("key_id", &self.key_id)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PayloadWire {
    format: String,
    version: u32,
    key_id: String,
    index: u32,
    root_public_key: String,
    share: String,
}

impl SharePayload {
    /// A payload for a share scalar.
    pub fn new(key_id: &str, index: u32, root_public_key: &str, share: &Scalar) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&share.to_bytes());
        SharePayload {
            key_id: key_id.into(),
            index,
            root_public_key: root_public_key.into(),
            share: bytes,
        }
    }

    /// The share as a scalar (secret: keep it short-lived).
    pub fn scalar(&self) -> Result<Scalar, ShardError> {
        let repr = k256::FieldBytes::from(*self.share);
        Option::<Scalar>::from(Scalar::from_repr(repr))
            .ok_or_else(|| ShardError::BadPayload("the share is not below the curve order".into()))
    }

    /// The share's public key, `G·share`, as hex.
    pub fn share_public_key(&self) -> Result<String, ShardError> {
        let s = self.scalar()?;
        public_of(&s)
            .map(|p| public_key_hex(&p))
            .ok_or_else(|| ShardError::BadPayload("the share is zero".into()))
    }

    /// The payload's bytes (secret).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let share_hex = Zeroizing::new(hex::encode(*self.share));
        let text = Zeroizing::new(format!(
            "{{\"format\":\"{PAYLOAD_FORMAT}\",\"version\":1,\"keyId\":{},\"index\":{},\"rootPublicKey\":{},\"share\":\"{}\"}}",
            Value::String(self.key_id.clone()),
            self.index,
            Value::String(self.root_public_key.clone()),
            share_hex.as_str()
        ));
        Zeroizing::new(text.as_bytes().to_vec())
    }

    /// Parses payload bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ShardError> {
        let wire: PayloadWire = serde_json::from_slice(bytes)
            .map_err(|_| ShardError::BadPayload("not a shard payload (JSON expected)".into()))?;
        let share_hex = Zeroizing::new(wire.share);
        if wire.format != PAYLOAD_FORMAT {
            return Err(ShardError::BadPayload(format!(
                "format is `{}`",
                wire.format.chars().take(40).collect::<String>()
            )));
        }
        if wire.version != 1 {
            return Err(ShardError::BadPayload(format!(
                "payload version {} is not supported",
                wire.version
            )));
        }
        let mut share = Zeroizing::new([0u8; 32]);
        if share_hex.len() != 64 || hex::decode_to_slice(share_hex.as_bytes(), &mut *share).is_err()
        {
            return Err(ShardError::BadPayload(
                "the share is not 64 hex digits".into(),
            ));
        }
        let payload = SharePayload {
            key_id: wire.key_id,
            index: wire.index,
            root_public_key: wire.root_public_key,
            share,
        };
        payload.scalar()?;
        Ok(payload)
    }

    /// Checks the payload against a shard's public metadata.
    pub fn check_against(&self, shard: &ShardFile) -> Result<(), ShardError> {
        if self.key_id != shard.key_id {
            return Err(ShardError::PayloadMismatch { field: "keyId" });
        }
        if self.index != shard.index {
            return Err(ShardError::PayloadMismatch { field: "index" });
        }
        if self.root_public_key != shard.root_public_key {
            return Err(ShardError::PayloadMismatch {
                field: "rootPublicKey",
            });
        }
        if self.share_public_key()? != shard.share_public_key {
            return Err(ShardError::PayloadMismatch {
                field: "sharePublicKey",
            });
        }
        Ok(())
    }
}

/// One recipient stanza read from an age header (public data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderStanza {
    /// The stanza type, e.g. `X25519`.
    pub tag: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its decoded body.
    pub body: Vec<u8>,
}

impl From<&Stanza> for HeaderStanza {
    fn from(s: &Stanza) -> Self {
        HeaderStanza {
            tag: s.tag.clone(),
            args: s.args.clone(),
            body: s.body.clone(),
        }
    }
}

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END: &str = "-----END AGE ENCRYPTED FILE-----";

/// Reads the recipient stanzas from an ASCII-armored age file: strips the
/// armor, decodes the base64, and parses the v1 header up to its MAC line.
pub fn parse_armored_header(armored: &str) -> Result<Vec<HeaderStanza>, ShardError> {
    let corrupt = |m: &str| ShardError::CorruptCiphertext(m.to_string());
    let text = armored.trim();
    let inner = text
        .strip_prefix(ARMOR_BEGIN)
        .and_then(|t| t.strip_suffix(ARMOR_END))
        .ok_or_else(|| corrupt("missing the age armor lines"))?;
    let b64: String = inner.lines().map(str::trim).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| corrupt("the armor is not valid base64"))?;
    let mut lines = bytes.split(|&b| b == b'\n');
    if lines.next() != Some(b"age-encryption.org/v1".as_slice()) {
        return Err(corrupt("not an age v1 file"));
    }
    let mut stanzas = Vec::new();
    let mut current: Option<(HeaderStanza, String)> = None;
    for line in lines {
        let line = std::str::from_utf8(line).map_err(|_| corrupt("header is not text"))?;
        if let Some((mut stanza, mut body)) = current.take() {
            body.push_str(line);
            if line.len() < 64 {
                stanza.body = base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(body.as_bytes())
                    .map_err(|_| corrupt("a stanza body is not base64"))?;
                stanzas.push(stanza);
            } else if line.len() == 64 {
                current = Some((stanza, body));
            } else {
                return Err(corrupt("a stanza body line is too long"));
            }
        } else if let Some(rest) = line.strip_prefix("-> ") {
            let mut parts = rest.split(' ');
            let tag = parts.next().unwrap_or_default().to_string();
            if tag.is_empty() {
                return Err(corrupt("a stanza has no type"));
            }
            current = Some((
                HeaderStanza {
                    tag,
                    args: parts.map(str::to_string).collect(),
                    body: Vec::new(),
                },
                String::new(),
            ));
        } else if line.starts_with("---") {
            if stanzas.is_empty() {
                return Err(corrupt("the header has no recipient stanza"));
            }
            return Ok(stanzas);
        } else {
            return Err(corrupt("unexpected line in the age header"));
        }
    }
    Err(corrupt("the age header ends early"))
}

/// The X25519 stanzas of an armored file; every other stanza must be
/// age's `-grease` filler.
pub fn x25519_stanzas(armored: &str) -> Result<Vec<HeaderStanza>, ShardError> {
    let stanzas = parse_armored_header(armored)?;
    let mut out = Vec::new();
    for s in stanzas {
        if s.tag == "X25519" {
            out.push(s);
        } else if !s.tag.ends_with("-grease") {
            return Err(ShardError::RewrapCheck(format!(
                "the header has a `{}` recipient stanza",
                s.tag.chars().take(20).collect::<String>()
            )));
        }
    }
    Ok(out)
}

/// What an age payload's header says about who can open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadKind {
    /// Encrypted to this many X25519 recipients (a shard as written: 1).
    X25519 {
        /// How many.
        count: usize,
    },
    /// Encrypted with a passphrase (`age -p`: one `scrypt` stanza).
    Passphrase,
    /// Encrypted to a recipient type this version does not read.
    Unsupported {
        /// The first such stanza type.
        tag: String,
    },
}

/// Names a stanza type of the newer or plugin age recipients.
fn stanza_kind(tag: &str) -> Option<&'static str> {
    match tag {
        "mlkem768x25519" => Some("post-quantum, age1pq1…"),
        "p256tag" => Some("hardware-bound tag, age1tag1…"),
        "mlkem768p256tag" => Some("post-quantum hardware-bound tag, age1tagpq1…"),
        "piv-p256" | "yubikey" => Some("a YubiKey plugin"),
        _ => None,
    }
}

/// Reads the kind of payload from an armored age file's header, without
/// decrypting anything (age's `-grease` stanzas are ignored).
pub fn payload_kind(armored: &str) -> Result<PayloadKind, ShardError> {
    let stanzas = parse_armored_header(armored)?;
    let real: Vec<&HeaderStanza> = stanzas
        .iter()
        .filter(|s| !s.tag.ends_with("-grease"))
        .collect();
    if real.iter().any(|s| s.tag == "scrypt") {
        return Ok(PayloadKind::Passphrase);
    }
    if let Some(other) = real.iter().find(|s| s.tag != "X25519") {
        return Ok(PayloadKind::Unsupported {
            tag: other.tag.chars().take(40).collect(),
        });
    }
    Ok(PayloadKind::X25519 { count: real.len() })
}

impl PayloadKind {
    /// How `shard inspect` describes it.
    pub fn describe(&self) -> String {
        match self {
            PayloadKind::X25519 { count } => crate::text::count(
                *count as u64,
                "X25519 recipient stanza",
                "X25519 recipient stanzas",
            ),
            PayloadKind::Passphrase => {
                "passphrase-encrypted (age -p, scrypt), not to a recipient".into()
            }
            PayloadKind::Unsupported { tag } => format!(
                "encrypted to a `{tag}` recipient{}, which this version does not support",
                stanza_kind(tag)
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// A recipient wrapper that remembers the stanza the age library made for
/// the real recipient, and a copy of the file key, so the written file can
/// be checked without the recipient's secret key.
struct Recording<'a> {
    inner: &'a x25519::Recipient,
    seen: Mutex<Option<(HeaderStanza, Zeroizing<[u8; 16]>)>>,
}

impl age::Recipient for Recording<'_> {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let (stanzas, labels) = self.inner.wrap_file_key(file_key)?;
        if let (Some(first), Ok(mut seen)) = (stanzas.first(), self.seen.lock()) {
            *seen = Some((
                HeaderStanza::from(first),
                Zeroizing::new(*file_key.expose_secret()),
            ));
        }
        Ok((stanzas, labels))
    }
}

/// An identity that unwraps exactly one known stanza to a known file key.
struct KnownFileKey {
    stanza: HeaderStanza,
    key: Zeroizing<[u8; 16]>,
}

impl age::Identity for KnownFileKey {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        (HeaderStanza::from(stanza) == self.stanza).then(|| Ok(FileKey::new(Box::new(*self.key))))
    }
}

/// Something written to one age recipient that can be checked later from
/// the written bytes alone.
pub struct SealedTo {
    /// The armored ciphertext.
    pub armored: String,
    check: KnownFileKey,
}

impl std::fmt::Debug for SealedTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedTo").finish_non_exhaustive()
    }
}

/// Encrypts `plaintext` (armored) to one age recipient, keeping what is
/// needed to verify the result.
pub fn seal_to(recipient: &x25519::Recipient, plaintext: &[u8]) -> Result<SealedTo, ShardError> {
    let recording = Recording {
        inner: recipient,
        seen: Mutex::new(None),
    };
    let enc_err = |e: std::io::Error| ShardError::Encrypt(e.to_string());
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recording as _))
        .map_err(|e| ShardError::Encrypt(e.to_string()))?;
    let mut out = Vec::new();
    let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(enc_err)?;
    let mut writer = encryptor.wrap_output(armor).map_err(enc_err)?;
    writer.write_all(plaintext).map_err(enc_err)?;
    writer.finish().and_then(|a| a.finish()).map_err(enc_err)?;
    let armored = String::from_utf8(out).map_err(|e| ShardError::Encrypt(e.to_string()))?;
    let (stanza, key) = recording
        .seen
        .into_inner()
        .ok()
        .flatten()
        .ok_or_else(|| ShardError::Encrypt("no recipient stanza was produced".into()))?;
    Ok(SealedTo {
        armored,
        check: KnownFileKey { stanza, key },
    })
}

impl SealedTo {
    /// Checks armored bytes (as read back from disk): exactly one X25519
    /// stanza, the one made for our recipient, and a payload that decrypts
    /// to `expected`.
    pub fn verify(&self, armored: &str, expected: &[u8]) -> Result<(), String> {
        let x = x25519_stanzas(armored).map_err(|e| e.to_string())?;
        if x.len() != 1 {
            return Err(format!(
                "the file is encrypted to {} X25519 recipients, not exactly one",
                x.len()
            ));
        }
        if x[0] != self.check.stanza {
            return Err("the recipient stanza is not the one made for the new recipient".into());
        }
        let plain = decrypt_armored(armored, &self.check).map_err(|e| e.to_string())?;
        if plain.as_slice() != expected {
            return Err("the payload does not decrypt to the same share".into());
        }
        Ok(())
    }
}

fn decrypt_armored(
    armored: &str,
    identity: &dyn age::Identity,
) -> Result<Zeroizing<Vec<u8>>, ShardError> {
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(armored.as_bytes()))
        .map_err(|e| ShardError::CorruptCiphertext(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => ShardError::NotEncryptedToIdentity {
                recipient: String::new(),
            },
            other => ShardError::CorruptCiphertext(other.to_string()),
        })?;
    let mut plain = Zeroizing::new(Vec::new());
    (&mut reader)
        .take(MAX_PAYLOAD + 1)
        .read_to_end(&mut plain)
        .map_err(|e| ShardError::CorruptCiphertext(e.to_string()))?;
    if plain.len() as u64 > MAX_PAYLOAD {
        return Err(ShardError::BadPayload("the payload is too large".into()));
    }
    Ok(plain)
}

impl ShardFile {
    /// Parses a shard file and validates its public fields.
    pub fn from_bytes(bytes: &[u8]) -> Result<ShardFile, ShardError> {
        let value =
            crate::fileformat::parse_versioned(bytes, FORMAT, VERSION).map_err(|s| match s {
                crate::fileformat::Shape::Empty => ShardError::Empty,
                crate::fileformat::Shape::Truncated => ShardError::Truncated,
                crate::fileformat::Shape::WrongFormat(why) => ShardError::WrongFormat(why),
                crate::fileformat::Shape::UnsupportedVersion(v) => {
                    ShardError::UnsupportedVersion(v)
                }
            })?;
        let file: ShardFile =
            serde_json::from_value(value).map_err(|e| ShardError::WrongFormat(e.to_string()))?;
        file.validate()?;
        Ok(file)
    }

    /// Checks every public field.
    pub fn validate(&self) -> Result<(), ShardError> {
        validate_key_id(&self.key_id)?;
        identity::validate_name(&self.custodian).map_err(|e| bad("custodian", e.to_string()))?;
        identity::parse_recipient(&self.recipient)
            .map_err(|_| bad("recipient", "not an age1… recipient"))?;
        if self.scheme != SCHEME {
            return Err(bad("scheme", format!("expected `{SCHEME}`")));
        }
        if !(2..=255).contains(&self.threshold) {
            return Err(bad("threshold", "must be 2 to 255"));
        }
        if !(1..=255).contains(&self.index) {
            return Err(bad("index", "must be 1 to 255"));
        }
        parse_public_key("rootPublicKey", &self.root_public_key)?;
        parse_public_key("sharePublicKey", &self.share_public_key)?;
        if crate::clock::parse(&self.created_at).is_none() {
            return Err(bad("createdAt", "not an RFC 3339 time"));
        }
        if !self.wrapped_key_share.trim_start().starts_with(ARMOR_BEGIN) {
            return Err(bad(
                "wrappedKeyShare",
                "not an ASCII-armored age file (-----BEGIN AGE ENCRYPTED FILE-----)",
            ));
        }
        Ok(())
    }

    /// Reads and parses a shard file.
    pub fn load(path: &Path) -> Result<ShardFile, ShardError> {
        Self::from_bytes(&fsutil::read_limited(path, MAX_FILE)?)
    }

    /// The file's bytes: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Public facts for display and JSON output.
    pub fn public_summary(&self) -> Value {
        json!({
            "keyId": self.key_id, "custodian": self.custodian,
            "recipient": self.recipient,
            "recipientFingerprint": identity::fingerprint(&self.recipient),
            "scheme": self.scheme, "threshold": self.threshold, "index": self.index,
            "rootPublicKey": self.root_public_key,
            "sharePublicKey": self.share_public_key, "createdAt": self.created_at,
        })
    }

    /// Refuses an identity that is not the one this shard is wrapped to.
    pub fn check_identity(&self, recipient: &str, name: &str) -> Result<(), ShardError> {
        if recipient != self.recipient {
            return Err(ShardError::WrongIdentity {
                shard_recipient: self.recipient.clone(),
                identity_name: name.to_string(),
                identity_recipient: recipient.to_string(),
            });
        }
        Ok(())
    }

    /// Checks, before anything is decrypted, that the payload is of the
    /// kind a shard holds: encrypted to X25519 recipients, and to exactly
    /// one unless `accept_multiple`. Returns how many can open it.
    pub fn check_payload(&self, accept_multiple: bool) -> Result<usize, ShardError> {
        match payload_kind(&self.wrapped_key_share)? {
            PayloadKind::Passphrase => Err(ShardError::PassphrasePayload),
            PayloadKind::Unsupported { tag } => Err(ShardError::UnsupportedPayload { tag }),
            PayloadKind::X25519 { count } if count > 1 && !accept_multiple => {
                Err(ShardError::MultipleRecipients {
                    count,
                    recipient: self.recipient.clone(),
                })
            }
            PayloadKind::X25519 { count } => Ok(count),
        }
    }

    /// Decrypts the share with an opened identity and checks it against the
    /// metadata; a payload more than one key can open is refused.
    pub fn open(&self, identity: &OpenedIdentity) -> Result<SharePayload, ShardError> {
        self.open_accepting(identity, false)
    }

    /// [`ShardFile::open`], accepting a payload that more than one key can
    /// open when `accept_multiple` (the caller audits that).
    pub fn open_accepting(
        &self,
        identity: &OpenedIdentity,
        accept_multiple: bool,
    ) -> Result<SharePayload, ShardError> {
        self.check_identity(&identity.recipient, &identity.name)?;
        self.check_payload(accept_multiple)?;
        let plain = decrypt_armored(&self.wrapped_key_share, identity.age_identity()).map_err(
            |e| match e {
                ShardError::NotEncryptedToIdentity { .. } => ShardError::NotEncryptedToIdentity {
                    recipient: self.recipient.clone(),
                },
                other => other,
            },
        )?;
        let payload = SharePayload::from_bytes(&plain)?;
        payload.check_against(self)?;
        Ok(payload)
    }

    /// Builds a shard file for a payload, encrypted to `recipient`; returns
    /// the file and the means to verify its written bytes.
    pub fn seal(
        payload: &SharePayload,
        custodian: &str,
        recipient: &str,
        threshold: u32,
    ) -> Result<(ShardFile, SealedTo), ShardError> {
        let to = identity::parse_recipient(recipient)?;
        let sealed = seal_to(&to, &payload.to_bytes())?;
        let file = ShardFile {
            format: FORMAT.into(),
            version: VERSION,
            key_id: payload.key_id.clone(),
            custodian: custodian.into(),
            recipient: to.to_string(),
            scheme: SCHEME.into(),
            threshold,
            index: payload.index,
            root_public_key: payload.root_public_key.clone(),
            share_public_key: payload.share_public_key()?,
            created_at: crate::clock::now_string(),
            wrapped_key_share: sealed.armored.clone(),
        };
        file.validate()?;
        Ok((file, sealed))
    }

    /// Writes a sealed shard as a new file and checks what was written.
    pub fn write_checked(
        &self,
        path: &Path,
        sealed: &SealedTo,
        payload: &SharePayload,
    ) -> Result<String, ShardError> {
        let bytes = self.to_bytes();
        fsutil::write_new_checked(path, &bytes, self.read_back_check(sealed, payload))?;
        Ok(fsutil::sha256_hex(&bytes))
    }

    /// [`ShardFile::write_checked`] as an output of a transaction: published
    /// when the transaction commits.
    pub fn write_staged(
        &self,
        tx: &mut Transaction<'_>,
        path: &Path,
        sealed: &SealedTo,
        payload: &SharePayload,
    ) -> Result<String, ShardError> {
        let bytes = self.to_bytes();
        Ok(tx.write_output(path, &bytes, self.read_back_check(sealed, payload))?)
    }

    /// The semantic read-back check of a written shard file.
    fn read_back_check<'a>(
        &'a self,
        sealed: &'a SealedTo,
        payload: &SharePayload,
    ) -> impl FnOnce(&[u8]) -> Result<(), String> + 'a {
        let expected = payload.to_bytes();
        move |read| {
            let back = ShardFile::from_bytes(read).map_err(|e| e.to_string())?;
            let mut without_time = back.clone();
            without_time.created_at = self.created_at.clone();
            if &without_time != self {
                return Err("the metadata read back differs".into());
            }
            sealed.verify(&back.wrapped_key_share, &expected)
        }
    }
}

/// A shard file this workspace wrote, as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardRecord {
    /// The key.
    pub key_id: String,
    /// The share index.
    pub index: u32,
    /// Holder (custodian or node).
    pub custodian: String,
    /// The recipient it is wrapped to.
    pub recipient: String,
    /// Where it was written.
    pub file: PathBuf,
    /// SHA-256 of the file.
    pub file_sha256: String,
    /// When.
    pub created_at: String,
    /// `drill`, `rewrap` or `restore-to-node`.
    pub origin: String,
    /// The file it was rewrapped from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<PathBuf>,
}

/// Adds shard records to the registry.
pub fn register(ws: &Workspace, records: Vec<ShardRecord>) -> Result<(), WorkspaceError> {
    ws.update_registry(|reg| {
        add_records(reg, records);
        Ok::<_, WorkspaceError>(())
    })
}

/// Adds shard records to a registry being changed (inside a transaction).
pub fn add_records(reg: &mut crate::workspace::Registry, records: Vec<ShardRecord>) {
    reg.shards.extend(records);
}

/// The default file name for a shard.
pub fn default_file_name(key_id: &str, index: u32, holder: &str) -> String {
    let key = key_id.replace(':', "_");
    format!("{key}.{index}.{}.shard.json", identity::file_stem(holder))
}

/// Which rewrap this is: to a custodian (rotation, replacement) or to a
/// node's import recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewrapKind {
    /// `localRewrapShard`: to a custodian.
    Custodian,
    /// `restoreShardToNode`: to a node's import recipient.
    Node,
}

impl RewrapKind {
    fn event(self) -> &'static str {
        match self {
            RewrapKind::Custodian => "SHARD_REWRAP",
            RewrapKind::Node => "SHARD_RESTORE_TO_NODE",
        }
    }

    fn origin(self) -> &'static str {
        match self {
            RewrapKind::Custodian => "rewrap",
            RewrapKind::Node => "restore-to-node",
        }
    }
}

/// What a rewrap asks for (all public but the passphrase).
pub struct RewrapRequest {
    /// The shard to rewrap.
    pub shard: PathBuf,
    /// The holder's identity file.
    pub identity: PathBuf,
    /// Its passphrase.
    pub passphrase: SecretString,
    /// The new recipient.
    pub to: String,
    /// The new holder's name (custodian or node).
    pub name: String,
    /// Where to write (default: `<workspace>/shards/<default name>`).
    pub out: Option<PathBuf>,
    /// Custodian rewrap or restore to node.
    pub kind: RewrapKind,
    /// Rewrap a share that more than one key can open (audited with the
    /// count) instead of refusing it.
    pub accept_multiple_recipients: bool,
    /// What people approved if the new holder would hold several shards
    /// of the key (see [`Concentration`]).
    pub concentration: ConcentrationApproval,
}

impl std::fmt::Debug for RewrapRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewrapRequest")
            .field("shard", &self.shard)
            .field("to", &self.to)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a rewrap produced (public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrapOutcome {
    /// The new file.
    pub path: PathBuf,
    /// The old file, left in place for the custodian to destroy.
    pub old_path: PathBuf,
    /// SHA-256 of the new file.
    pub file_sha256: String,
    /// The key.
    pub key_id: String,
    /// Its root public key.
    pub root_public_key: String,
    /// The share index.
    pub index: u32,
    /// The new holder.
    pub name: String,
    /// The new recipient.
    pub recipient: String,
}

/// Checks everything that can be checked without a passphrase; returns the
/// parsed shard, identity file and output path.
pub fn preflight_rewrap(
    ws: &Workspace,
    req_shard: &Path,
    req_identity: &Path,
    to: &str,
    name: &str,
    out: Option<&Path>,
    accept_multiple_recipients: bool,
) -> Result<(ShardFile, IdentityFile, PathBuf), ShardError> {
    // What people typed first: a pasted secret is refused before anything
    // else is said about the request.
    identity::parse_recipient(to)?;
    identity::validate_name(name)?;
    let shard = ShardFile::load(req_shard)?;
    let id = IdentityFile::load(req_identity)?;
    shard.check_identity(&id.recipient, &id.name)?;
    shard.check_payload(accept_multiple_recipients)?;
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => ws
            .subdir("shards")?
            .join(default_file_name(&shard.key_id, shard.index, name)),
    };
    if path.symlink_metadata().is_ok() {
        return Err(FsError::AlreadyExists(path).into());
    }
    Ok((shard, id, path))
}

/// Rewraps a shard to a new recipient (see the module docs). The original
/// file is never modified. The concentration override's approvers are the
/// typed names of `req.concentration` only: under a workspace policy of
/// authenticated approvals an override needs [`rewrap_shard_approved`].
pub fn rewrap_shard(ws: &Workspace, req: &RewrapRequest) -> Result<RewrapOutcome, ShardError> {
    rewrap_shard_approved(ws, req, &[])
}

/// [`rewrap_shard`] with the override's `authenticated` approvals
/// (approvers who opened their own identity, from
/// [`crate::approvals::authenticate`], gathered before this is called).
pub fn rewrap_shard_approved(
    ws: &Workspace,
    req: &RewrapRequest,
    authenticated: &[crate::approvals::Approval],
) -> Result<RewrapOutcome, ShardError> {
    let (shard, id, path) = preflight_rewrap(
        ws,
        &req.shard,
        &req.identity,
        &req.to,
        &req.name,
        req.out.as_deref(),
        req.accept_multiple_recipients,
    )?;
    let to = identity::parse_recipient(&req.to)?.to_string();
    let recipients = shard.check_payload(req.accept_multiple_recipients)?;
    let decision = check_rewrap_concentration_approved(
        &ws.registry()?,
        &shard,
        &to,
        &req.name,
        &req.concentration,
        authenticated,
    )?;
    let mut details = json!({
        "keyId": shard.key_id, "index": shard.index,
        "rootPublicKey": shard.root_public_key,
        "from": {"custodian": shard.custodian, "recipient": shard.recipient,
                 "file": req.shard, "fileSha256": fsutil::file_fingerprint(&req.shard)?},
        "to": {"name": req.name, "recipient": to, "file": path},
    });
    if recipients > 1 {
        // Accepted explicitly: the record says how many keys could read it.
        details["from"]["payloadRecipients"] = json!(recipients);
        details["acceptedMultipleRecipients"] = json!(true);
    }
    if let Some(c) = decision.audit_details() {
        details["concentration"] = c;
    }
    let mut tx = ws.begin(req.kind.event(), details)?;
    let staged = (|| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tx.reserve(dir, MAX_FILE)?;
        }
        let opened = id.open(&req.passphrase)?;
        let payload = shard.open_accepting(&opened, req.accept_multiple_recipients)?;
        drop(opened);
        let (new_file, sealed) = ShardFile::seal(&payload, &req.name, &to, shard.threshold)?;
        let sha = new_file.write_staged(&mut tx, &path, &sealed, &payload)?;
        let record = ShardRecord {
            key_id: new_file.key_id.clone(),
            index: new_file.index,
            custodian: new_file.custodian.clone(),
            recipient: new_file.recipient.clone(),
            file: path.clone(),
            file_sha256: sha.clone(),
            created_at: new_file.created_at.clone(),
            origin: req.kind.origin().into(),
            replaces: Some(req.shard.clone()),
        };
        let outcome = RewrapOutcome {
            path: path.clone(),
            old_path: req.shard.clone(),
            file_sha256: sha,
            key_id: new_file.key_id,
            root_public_key: new_file.root_public_key,
            index: new_file.index,
            name: new_file.custodian,
            recipient: new_file.recipient,
        };
        Ok::<_, ShardError>((record, outcome))
    })();
    let (record, outcome) = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    tx.commit(
        |reg| {
            add_records(reg, vec![record]);
            Ok::<_, ShardError>(outcome)
        },
        |outcome| json!({ "newFileSha256": outcome.file_sha256, "oldFileLeftInPlace": true }),
    )
}

/// How concentrated one key's shards would be in one person's hands — the
/// one rule every operation that moves shards between people applies:
/// holding two or more shards of a key needs an explicit, audited
/// confirmation; holding enough to reach the key's threshold alone is
/// refused unless an override names at least two approvers (audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concentration {
    /// At most one shard of the key.
    Spread,
    /// Two or more, below the threshold: warn, confirm.
    Several {
        /// Shards held.
        holds: usize,
    },
    /// Enough to rebuild the key alone: refuse without an override.
    ReachesThreshold {
        /// Shards held.
        holds: usize,
        /// The key's threshold.
        threshold: u32,
    },
}

/// Approvers an override of [`Concentration::ReachesThreshold`] needs.
pub const OVERRIDE_APPROVERS: usize = 2;

/// What people approved for a move the concentration rule stops: the
/// new holder's name typed back (two or more shards), or the approvers of
/// an override (reaching the threshold). Both are recorded in the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcentrationApproval {
    /// The new holder's name, typed to confirm they may hold several shards.
    pub confirm_holder: Option<String>,
    /// Approvers of an override; at least [`OVERRIDE_APPROVERS`] distinct.
    pub approvers: Vec<String>,
}

/// The rule's verdict for one move, with what was approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcentrationDecision {
    /// The verdict.
    pub verdict: Concentration,
    /// The key's threshold.
    pub threshold: u32,
    /// The holder, as confirmed (for [`Concentration::Several`]).
    pub confirmed_holder: Option<String>,
    /// The distinct approvers (for an override).
    pub approvers: Vec<String>,
    /// Their approvals: identity opened, or a typed name (for an override).
    pub approvals: Vec<crate::approvals::Approval>,
}

impl ConcentrationDecision {
    /// The audit log's record of the decision (None when the shards stay spread).
    pub fn audit_details(&self) -> Option<Value> {
        let holds = match self.verdict {
            Concentration::Spread => return None,
            Concentration::Several { holds } | Concentration::ReachesThreshold { holds, .. } => {
                holds
            }
        };
        let mut v = json!({ "holds": holds, "threshold": self.threshold });
        if let Some(h) = &self.confirmed_holder {
            v["confirmedHolder"] = json!(h);
        }
        if !self.approvers.is_empty() {
            v["overrideApprovers"] = json!(self.approvers);
            v["overrideApprovals"] = crate::approvals::audit_values(&self.approvals);
        }
        Some(v)
    }
}

/// The distinct names among `approvers` (case-insensitive), each checked
/// by the name rules; an empty list stays empty, a list with fewer than
/// [`OVERRIDE_APPROVERS`] distinct names is refused.
pub fn distinct_approvers(approvers: &[String]) -> Result<Vec<String>, ShardError> {
    let mut distinct: Vec<String> = Vec::new();
    for a in approvers {
        identity::validate_name(a)?;
        if !distinct.iter().any(|d| d.eq_ignore_ascii_case(a)) {
            distinct.push(a.clone());
        }
    }
    if !distinct.is_empty() && distinct.len() < OVERRIDE_APPROVERS {
        return Err(ShardError::TooFewApprovers(distinct.len()));
    }
    Ok(distinct)
}

/// What `holder` (recipient `to`) would hold of `key_id` after receiving
/// share `index`: the registered shard files of that key wrapped to them
/// that exist, plus this one.
pub fn concentration_after(
    reg: &crate::workspace::Registry,
    key_id: &str,
    index: u32,
    to: &str,
    threshold: u32,
) -> Concentration {
    let mut held = holdings(reg, to, key_id);
    held.insert(index);
    concentration(held.len(), threshold)
}

/// Applies the concentration rule to a rewrap or restore of `shard` to
/// `to` (named `name`): refuses what `approval` does not cover. Public
/// facts only, so it runs before any passphrase is asked. The override's
/// approvers are typed names here; see [`check_rewrap_concentration_approved`].
pub fn check_rewrap_concentration(
    reg: &crate::workspace::Registry,
    shard: &ShardFile,
    to: &str,
    name: &str,
    approval: &ConcentrationApproval,
) -> Result<ConcentrationDecision, ShardError> {
    check_rewrap_concentration_approved(reg, shard, to, name, approval, &[])
}

/// The override's approvals against the workspace policy: the
/// `authenticated` ones (identities opened) and the `typed` names, at least
/// [`OVERRIDE_APPROVERS`] different people; under the "authenticated"
/// policy, enough of them opened their identity
/// ([`crate::approvals::check`]). Returns the distinct names and the approvals.
pub fn override_approvals(
    reg: &crate::workspace::Registry,
    typed: &[String],
    authenticated: &[crate::approvals::Approval],
) -> Result<(Vec<String>, Vec<crate::approvals::Approval>), ShardError> {
    let approvals = crate::approvals::gather(authenticated, typed);
    if approvals.is_empty() {
        return Ok((Vec::new(), approvals));
    }
    let names: Vec<String> = approvals.iter().map(|a| a.name.clone()).collect();
    for n in &names {
        identity::validate_name(n)?;
    }
    crate::approvals::check(crate::approvals::ApprovalPolicy::Typed, &approvals)?;
    if names.len() < OVERRIDE_APPROVERS {
        return Err(ShardError::TooFewApprovers(names.len()));
    }
    crate::approvals::check(crate::approvals::policy(reg), &approvals)?;
    Ok((names, approvals))
}

/// [`check_rewrap_concentration`] with the override's `authenticated`
/// approvals besides the typed names of `approval.approvers`.
pub fn check_rewrap_concentration_approved(
    reg: &crate::workspace::Registry,
    shard: &ShardFile,
    to: &str,
    name: &str,
    approval: &ConcentrationApproval,
    authenticated: &[crate::approvals::Approval],
) -> Result<ConcentrationDecision, ShardError> {
    // Names repeated among the typed ones count once (as before); the
    // approvals themselves refuse a person named twice across the lists.
    let mut typed: Vec<String> = Vec::new();
    for a in &approval.approvers {
        identity::validate_name(a)?;
        if !typed.iter().any(|d| d.eq_ignore_ascii_case(a)) {
            typed.push(a.clone());
        }
    }
    let named = typed.len() + authenticated.len();
    if named > 0 && named < OVERRIDE_APPROVERS {
        return Err(ShardError::TooFewApprovers(named));
    }
    // Checked against the policy only where the override is used.
    // The new holder never approves their own override.
    let overridden = || -> Result<(Vec<String>, Vec<crate::approvals::Approval>), ShardError> {
        let (names, approvals) = override_approvals(reg, &typed, authenticated)?;
        crate::approvals::refuse_self_approval(
            &approvals,
            &[crate::approvals::Party {
                name,
                recipient: to,
                role: "new holder",
            }],
        )?;
        Ok((names, approvals))
    };
    let any_approver = named > 0;
    let verdict = concentration_after(reg, &shard.key_id, shard.index, to, shard.threshold);
    let mut decision = ConcentrationDecision {
        verdict,
        threshold: shard.threshold,
        confirmed_holder: None,
        approvers: Vec::new(),
        approvals: Vec::new(),
    };
    match verdict {
        Concentration::Spread => {}
        Concentration::ReachesThreshold { holds, threshold } => {
            if !any_approver {
                return Err(ShardError::ReachesThreshold {
                    holder: name.into(),
                    key_id: shard.key_id.clone(),
                    holds,
                    threshold,
                });
            }
            (decision.approvers, decision.approvals) = overridden()?;
        }
        Concentration::Several { holds } => match &approval.confirm_holder {
            Some(given) if given.trim() == name => {
                decision.confirmed_holder = Some(name.into());
            }
            Some(given) => {
                return Err(ShardError::ConcentrationWrongName {
                    given: given.trim().into(),
                    holder: name.into(),
                });
            }
            // An override by two approvers covers the lesser case too.
            None if any_approver => (decision.approvers, decision.approvals) = overridden()?,
            None => {
                return Err(ShardError::ConcentrationUnconfirmed {
                    holder: name.into(),
                    key_id: shard.key_id.clone(),
                    holds,
                    threshold: shard.threshold,
                });
            }
        },
    }
    Ok(decision)
}

/// Applies the concentration rule to `holds` shards of a key needing `threshold`.
pub fn concentration(holds: usize, threshold: u32) -> Concentration {
    if holds >= threshold as usize {
        Concentration::ReachesThreshold { holds, threshold }
    } else if holds >= 2 {
        Concentration::Several { holds }
    } else {
        Concentration::Spread
    }
}

/// The indices of `key_id` whose registered shard files, wrapped to
/// `recipient`, are present: what that person holds now.
pub fn holdings(
    reg: &crate::workspace::Registry,
    recipient: &str,
    key_id: &str,
) -> std::collections::BTreeSet<u32> {
    reg.shards
        .iter()
        .filter(|r| r.recipient == recipient && r.key_id == key_id)
        .filter(|r| r.file.symlink_metadata().is_ok())
        .map(|r| r.index)
        .collect()
}

/// Splits a secret scalar into `total` Shamir shares over the curve order,
/// any `threshold` of which rebuild it; share `i` is `f(i)`.
pub fn split_scalar(secret: &Scalar, threshold: u32, total: u32) -> Vec<(u32, Scalar)> {
    let mut coeffs = vec![*secret];
    for _ in 1..threshold {
        coeffs.push(
            *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
                &mut crate::rng::os(),
            ),
        );
    }
    let shares = (1..=total)
        .map(|i| {
            let x = Scalar::from(u64::from(i));
            // Horner's rule from the highest coefficient down.
            let y = coeffs.iter().rev().fold(Scalar::ZERO, |acc, c| acc * x + c);
            (i, y)
        })
        .collect();
    for c in &mut coeffs {
        c.zeroize();
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parser_reads_age_output_and_grease() {
        let id = x25519::Identity::generate();
        let sealed = seal_to(&id.to_public(), b"hello").unwrap();
        let all = parse_armored_header(&sealed.armored).unwrap();
        assert!(all.iter().any(|s| s.tag == "X25519"));
        let x = x25519_stanzas(&sealed.armored).unwrap();
        assert_eq!(x.len(), 1);
        assert_eq!(x[0].args.len(), 1);
        assert_eq!(x[0].body.len(), 32);
        sealed.verify(&sealed.armored, b"hello").unwrap();
        assert!(sealed.verify(&sealed.armored, b"other").is_err());
        let plain = age::decrypt(&id, sealed.armored.as_bytes()).unwrap();
        assert_eq!(plain, b"hello");
    }

    #[test]
    fn a_file_to_two_recipients_fails_verification() {
        let a = x25519::Identity::generate().to_public();
        let b = x25519::Identity::generate().to_public();
        let sealed = seal_to(&a, b"x").unwrap();
        let enc = age::Encryptor::with_recipients(
            [&a as &dyn age::Recipient, &b as &dyn age::Recipient].into_iter(),
        )
        .unwrap();
        let mut out = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).unwrap();
        let mut w = enc.wrap_output(armor).unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap().finish().unwrap();
        let two = String::from_utf8(out).unwrap();
        assert_eq!(x25519_stanzas(&two).unwrap().len(), 2);
        assert!(sealed.verify(&two, b"x").unwrap_err().contains("2 X25519"));
    }

    #[test]
    fn payload_round_trips_and_split_shares_are_on_the_polynomial() {
        let secret = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
            &mut crate::rng::os(),
        );
        let shares = split_scalar(&secret, 2, 3);
        // For a line, f(1) - f(0) = f(2) - f(1).
        assert_eq!(shares[0].1 - secret, shares[1].1 - shares[0].1);
        let root = public_key_hex(&public_of(&secret).unwrap());
        let p = SharePayload::new("k1", 2, &root, &shares[1].1);
        let back = SharePayload::from_bytes(&p.to_bytes()).unwrap();
        assert_eq!(back.index, 2);
        assert_eq!(back.scalar().unwrap(), shares[1].1);
    }

    proptest::proptest! {
        #[test]
        fn the_header_parser_never_panics_on_arbitrary_armor(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&body);
            let armored = format!("{ARMOR_BEGIN}\n{b64}\n{ARMOR_END}\n");
            let _ = parse_armored_header(&armored);
            let mut with_magic = b"age-encryption.org/v1\n-> X25519 ".to_vec();
            with_magic.extend_from_slice(&body);
            let b64 = base64::engine::general_purpose::STANDARD.encode(&with_magic);
            let _ = x25519_stanzas(&format!("{ARMOR_BEGIN}\n{b64}\n{ARMOR_END}\n"));
        }

        #[test]
        fn payload_parsing_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = SharePayload::from_bytes(&bytes);
        }
    }
}
