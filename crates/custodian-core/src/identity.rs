//! Custodian identities: an age x25519 key pair whose secret half is kept in
//! a passphrase envelope.
//!
//! An identity file is JSON:
//!
//! ```json
//! {"format":"custodian-identity","version":1,"name":"Ana",
//!  "recipient":"age1…","createdAt":"2026-11-22T09:30:00Z",
//!  "envelope":{…the sealed AGE-SECRET-KEY-1… string…}}
//! ```
//!
//! A token identity (passphrase + hardware token) also has
//! `"token":{"plugin":"yubikey","recipient":"age1yubikey1…"}`: its envelope
//! seals not the key text but a binary age file holding it, encrypted to that
//! plugin recipient (see [`crate::token`]).
//!
//! The public fields are bound into the envelope's context, so swapping the
//! name or recipient of a file is detected when it is opened, and opening
//! always checks that the unsealed key really belongs to the recipient on the
//! label. `show` needs no passphrase: everything it prints is public.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::x25519;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::audit::AuditError;
use crate::envelope::{self, Envelope, EnvelopeError};
use crate::error::Explain;
use crate::fileformat::Shape;
use crate::fsutil::{self, FsError};
use crate::token::{self, TokenError, TokenRequirement};
use crate::workspace::{CustodianRecord, ROTATION_DAYS, Workspace, WorkspaceError};

/// The value of `format` in an identity file.
pub const FORMAT: &str = "custodian-identity";
/// The identity file version this build reads and writes.
pub const VERSION: u32 = 1;
/// Largest identity file the console reads.
const MAX_FILE: u64 = 64 * 1024;
/// Longest custodian or guardian name.
pub const MAX_NAME: usize = 64;

/// Everything that can go wrong with identities.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A name that cannot be used.
    #[error("`{name}` is not a usable name: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// The file is empty.
    #[error("the identity file is empty")]
    Empty,
    /// The file ends early.
    #[error("the identity file is truncated")]
    Truncated,
    /// Not an identity file.
    #[error("this is not a custodian identity file ({0})")]
    WrongFormat(String),
    /// Written by a newer version.
    #[error("identity file version {0} is not supported (this build reads version {VERSION})")]
    UnsupportedVersion(u64),
    /// The sealed key could not be opened.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The sealed key does not belong to the recipient on the file.
    #[error("the sealed key does not match the file's recipient {recipient}: the file was altered")]
    RecipientMismatch {
        /// The recipient the file claims.
        recipient: String,
    },
    /// A key file that is not an age identity.
    #[error("{0}")]
    NotAnAgeKey(String),
    /// A recipient string that is not an age x25519 recipient.
    #[error("`{0}` is not an age recipient (expected age1…)")]
    BadRecipient(String),
    /// A recipient of an age type this version does not support.
    #[error(
        "`{prefix}…` is {kind}, which custodian does not accept: {why} (it encrypts to X25519 recipients, age1…)"
    )]
    UnsupportedRecipient {
        /// The recipient's prefix, e.g. `age1pq1`.
        prefix: &'static str,
        /// What kind of recipient that is.
        kind: &'static str,
        /// Why it is refused.
        why: &'static str,
    },
    /// A secret key of an age type this version does not support.
    #[error("line {line} holds {kind}, which this version does not support")]
    UnsupportedKey {
        /// The line of the key file.
        line: usize,
        /// What kind of key that is.
        kind: &'static str,
    },
    /// A secret given where a public value belongs; never echoed.
    #[error(transparent)]
    SecretInput(#[from] crate::text::SecretInput),
    /// Plaintext export without the confirmation flag.
    #[error("exporting the plain secret key needs explicit confirmation")]
    ConfirmationRequired,
    /// Writing or reading a file failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The workspace could not be updated.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log could not be written, so the operation did not run.
    #[error("audit log: {0}")]
    Audit(#[from] AuditError),
    /// The hardware token (second factor) did not open the key.
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl Explain for IdentityError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            IdentityError::BadName { .. } => format!(
                "use 1 to {MAX_NAME} letters, digits, spaces, '-', '_' or '.', not starting with '.'"
            ),
            IdentityError::Empty | IdentityError::Truncated => {
                "the file was not copied completely; use an intact copy".into()
            }
            IdentityError::WrongFormat(_) => {
                "check that you chose an identity file (name.identity.json)".into()
            }
            IdentityError::UnsupportedVersion(_) => {
                "open it with the newer version of custodian that wrote it".into()
            }
            IdentityError::Envelope(e) => return e.remedy_for(to),
            IdentityError::RecipientMismatch { .. } => {
                "do not use this file; restore the identity from a backup or from its guardians"
                    .into()
            }
            IdentityError::NotAnAgeKey(_) => {
                "give a key file written by age-keygen (it holds an AGE-SECRET-KEY-1… line)".into()
            }
            IdentityError::UnsupportedRecipient { why, .. } if *why == TAG_WHY => {
                to.pick("give the custodian's X25519 recipient (age1…, from `custodian identity show`); a hardware token belongs on the identity as its second factor (`identity new --token-recipient`), not as the shard's recipient; nothing was changed", "give the custodian's X25519 recipient (age1…, as their identity file shows it); a hardware token belongs on the identity as its second factor (the token recipient field when the identity is made or rotated), not as the shard's recipient; nothing was changed")
            }
            IdentityError::UnsupportedRecipient { .. } | IdentityError::UnsupportedKey { .. } => {
                to.pick("use an X25519 age key pair (age-keygen, or `custodian identity new`); this file or recipient is not damaged, only of a newer kind", "use an X25519 age key pair (age-keygen, or n on the home screen); this file or recipient is not damaged, only of a newer kind")
            }
            IdentityError::BadRecipient(_) => {
                to.pick("copy the recipient exactly, as printed by `custodian identity show`", "copy the recipient exactly, as their identity file shows it")
            }
            IdentityError::ConfirmationRequired => {
                to.pick("add --i-understand-this-writes-a-plaintext-key if you really need a plain key file", "the console never writes a plain key file: choose an encrypted output")
            }
            IdentityError::SecretInput(e) => return e.remedy_for(to),
            IdentityError::File(e) => return e.remedy_for(to),
            IdentityError::Workspace(e) => return e.remedy_for(to),
            IdentityError::Audit(e) => return e.remedy_for(to),
            IdentityError::Token(e) => return e.remedy_for(to),
        })
    }
}

/// Checks a custodian or guardian name.
pub fn validate_name(name: &str) -> Result<(), IdentityError> {
    crate::text::refuse_secret("name", name)?;
    let bad = |reason| {
        Err(IdentityError::BadName {
            name: name.chars().take(80).collect(),
            reason,
        })
    };
    if name.trim().is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > MAX_NAME {
        return bad("it is too long");
    }
    if name.starts_with('.') || name != name.trim() {
        return bad("it starts with '.' or has leading or trailing spaces");
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
    {
        return bad("it contains a character other than letters, digits, space, '-', '_' or '.'");
    }
    Ok(())
}

/// A file-name-safe form of a (validated) name.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| if c == ' ' { '-' } else { c })
        .collect::<String>()
        .to_lowercase()
}

/// Loads the identity file at `path` and runs `step` on it (a passphrase
/// check or an opening) before an operation writes anything; a refused
/// step is audited as a failed `event` with `details(&file)` and nothing
/// else happens. Rotation, retirement and the guardian split use it.
pub(crate) fn audited_step<T, E>(
    ws: &Workspace,
    event: &str,
    path: &Path,
    details: impl FnOnce(&IdentityFile) -> Value,
    step: impl FnOnce(&IdentityFile) -> Result<T, IdentityError>,
) -> Result<T, E>
where
    E: From<IdentityError> + From<AuditError>,
{
    let file = IdentityFile::load(path)?;
    step(&file).or_else(|e| {
        ws.audit()
            .begin(event, details(&file))?
            .fail(&e.to_string())?;
        Err(e.into())
    })
}

/// A short fingerprint of a recipient, for people to compare aloud:
/// the first 8 bytes of SHA-256(recipient) as four groups of four hex digits.
pub fn fingerprint(recipient: &str) -> String {
    let digest = Sha256::digest(recipient.as_bytes());
    let hex = hex::encode(&digest[..8]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses an age x25519 recipient.
/// A secret pasted here is refused without being echoed, and other
/// unreadable input is echoed only by a short prefix.
pub fn parse_recipient(text: &str) -> Result<x25519::Recipient, IdentityError> {
    crate::text::refuse_secret("recipient", text)?;
    let text = text.trim();
    if let Some((prefix, kind, why)) = unsupported_recipient(text) {
        return Err(IdentityError::UnsupportedRecipient { prefix, kind, why });
    }
    x25519::Recipient::from_str(text)
        .map_err(|_| IdentityError::BadRecipient(crate::text::short_prefix(text)))
}

/// Why a hardware tag recipient is refused.
const TAG_WHY: &str = "hardware-tag recipients are encryption-only (only the hardware holding the key decrypts), and custodian requires a shard recipient it can prove by opening what it wrote";

/// Newer age recipient types (age 1.3 and later) that this version names,
/// with the reason, rather than calling them "not an age recipient". The
/// `age` crate 0.12 has no `age1pq1…` type at all; it encrypts to the tag
/// types (`age1tag1…`: P-256; `age1tagpq1…`: ML-KEM-768 + P-256) but has
/// no identity that opens them, so nothing custodian writes to one could
/// be read back and checked. Bech32 strings are case-insensitive, so the
/// prefix is too.
fn unsupported_recipient(text: &str) -> Option<(&'static str, &'static str, &'static str)> {
    const KINDS: [(&str, &str, &str); 3] = [
        (
            "age1pq1",
            "a post-quantum age recipient (ML-KEM-768 + X25519)",
            "the age library this version is built on (0.12) has no such recipient type",
        ),
        (
            "age1tagpq1",
            "a post-quantum tag age recipient (hardware-bound, ML-KEM-768 + P-256)",
            TAG_WHY,
        ),
        (
            "age1tag1",
            "a tag age recipient (hardware-bound, P-256)",
            TAG_WHY,
        ),
    ];
    let lower = text.get(..12).unwrap_or(text).to_ascii_lowercase();
    KINDS
        .iter()
        .find(|(prefix, _, _)| lower.starts_with(prefix))
        .copied()
}

/// An identity whose secret key is unsealed in memory. The age type zeroizes
/// its key when dropped; this type has no `Debug` that could print it.
pub struct OpenedIdentity {
    /// The custodian's name.
    pub name: String,
    /// The public recipient.
    pub recipient: String,
    key: x25519::Identity,
}

impl std::fmt::Debug for OpenedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedIdentity")
            .field("name", &self.name)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

impl OpenedIdentity {
    /// Wraps an age identity with a name.
    pub fn new(name: impl Into<String>, key: x25519::Identity) -> Self {
        OpenedIdentity {
            name: name.into(),
            recipient: key.to_public().to_string(),
            key,
        }
    }

    /// Generates a fresh identity from the operating system's randomness.
    pub fn generate(name: impl Into<String>) -> Self {
        Self::new(name, x25519::Identity::generate())
    }

    /// The age identity, for decryption.
    pub fn age_identity(&self) -> &x25519::Identity {
        &self.key
    }

    /// The secret key string (`AGE-SECRET-KEY-1…`).
    pub fn secret_key(&self) -> SecretString {
        self.key.to_string()
    }

    /// The 32 raw secret bytes (for Shamir splitting).
    pub fn secret_bytes(&self) -> Result<Zeroizing<[u8; 32]>, IdentityError> {
        let text = self.key.to_string();
        let (_, data) = bech32::decode(text.expose_secret())
            .map_err(|_| IdentityError::NotAnAgeKey("malformed secret key".into()))?;
        let data = Zeroizing::new(data);
        let bytes: [u8; 32] = data
            .as_slice()
            .try_into()
            .map_err(|_| IdentityError::NotAnAgeKey("secret key is not 32 bytes".into()))?;
        Ok(Zeroizing::new(bytes))
    }

    /// Rebuilds an identity from its 32 raw secret bytes.
    pub fn from_secret_bytes(
        name: impl Into<String>,
        bytes: &[u8; 32],
    ) -> Result<Self, IdentityError> {
        let hrp = bech32::Hrp::parse("age-secret-key-")
            .map_err(|_| IdentityError::NotAnAgeKey("internal: bad hrp".into()))?;
        let text = Zeroizing::new(
            bech32::encode::<bech32::Bech32>(hrp, bytes)
                .map_err(|_| IdentityError::NotAnAgeKey("could not encode key".into()))?
                .to_uppercase(),
        );
        let key = x25519::Identity::from_str(&text)
            .map_err(|_| IdentityError::NotAnAgeKey("not a valid age secret key".into()))?;
        Ok(Self::new(name, key))
    }

    /// The contents of a plain age key file, as `age-keygen` writes it.
    pub fn to_age_key_file(&self, created_at: &str) -> SecretString {
        let text = Zeroizing::new(format!(
            "# created: {created_at}\n# public key: {}\n{}\n",
            self.recipient,
            self.key.to_string().expose_secret()
        ));
        SecretString::from(text.as_str())
    }
}

/// A key file that opens what was encrypted to one officer: a sealed
/// custodian identity (its passphrase still to be asked) or a plain
/// `age-keygen` key file. Told apart by the first byte that is not
/// whitespace (`{` for a custodian identity); the secret bytes are read
/// once into zeroizing memory and never copied into a plain `String`.
pub enum KeyFile {
    /// A custodian identity file, still sealed.
    Sealed(Box<IdentityFile>),
    /// A plain age key file, parsed.
    Plain(x25519::Identity),
}

impl KeyFile {
    /// Largest key file read.
    pub const MAX_SIZE: u64 = 1 << 20;

    /// Reads `path` (see [`KeyFile`]).
    pub fn read(path: &Path) -> Result<KeyFile, IdentityError> {
        let bytes = Zeroizing::new(crate::fsutil::read_limited(path, Self::MAX_SIZE)?);
        Self::from_bytes(&bytes)
    }

    /// Tells the two kinds apart and parses `bytes` (see [`KeyFile`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<KeyFile, IdentityError> {
        if bytes.trim_ascii_start().first() == Some(&b'{') {
            return Ok(KeyFile::Sealed(Box::new(IdentityFile::from_bytes(bytes)?)));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| {
            IdentityError::NotAnAgeKey(
                "the file is neither a custodian identity nor an age key file (not text)".into(),
            )
        })?;
        Ok(KeyFile::Plain(parse_age_key_file(text)?))
    }
}

/// Parses the text of an `age-keygen` key file: comments, blank lines and
/// exactly one `AGE-SECRET-KEY-1…` line. A `# public key:` comment, when
/// present, must match the key.
pub fn parse_age_key_file(text: &str) -> Result<x25519::Identity, IdentityError> {
    let mut key = None;
    let mut stated = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("# public key:") {
            stated = Some(rest.trim().to_string());
        } else if line.is_empty() || line.starts_with('#') {
            continue;
        } else if line.starts_with("AGE-SECRET-KEY-1") {
            if key.is_some() {
                return Err(IdentityError::NotAnAgeKey(
                    "the key file holds more than one secret key; import them one at a time".into(),
                ));
            }
            key = Some(x25519::Identity::from_str(line).map_err(|_| {
                IdentityError::NotAnAgeKey(format!(
                    "line {}: not a valid AGE-SECRET-KEY-1 key (damaged or mistyped)",
                    i + 1
                ))
            })?);
        } else if line.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-PQ-1") {
            return Err(IdentityError::UnsupportedKey {
                line: i + 1,
                kind: "a post-quantum age identity (AGE-SECRET-KEY-PQ-1…, ML-KEM-768 + X25519)",
            });
        } else if line.starts_with("AGE-PLUGIN-") {
            return Err(IdentityError::NotAnAgeKey(
                "plugin identities (hardware tokens) cannot be imported".into(),
            ));
        } else {
            return Err(IdentityError::NotAnAgeKey(format!(
                "line {} is neither a comment nor an age secret key",
                i + 1
            )));
        }
    }
    let key = key.ok_or_else(|| {
        IdentityError::NotAnAgeKey("the file holds no AGE-SECRET-KEY-1 line".into())
    })?;
    if stated.is_some_and(|s| s != key.to_public().to_string()) {
        return Err(IdentityError::NotAnAgeKey(
            "the `# public key` comment does not match the secret key".into(),
        ));
    }
    Ok(key)
}

/// An identity file: public facts plus the sealed secret key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The custodian's name.
    pub name: String,
    /// The age recipient.
    pub recipient: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// The secret key, sealed.
    pub envelope: Envelope,
    /// The hardware token whose plugin must also open the key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenRequirement>,
}

impl IdentityFile {
    fn context(
        name: &str,
        recipient: &str,
        created_at: &str,
        token: Option<&TokenRequirement>,
    ) -> Value {
        let mut context = json!({
            "kind": FORMAT,
            "name": name,
            "recipient": recipient,
            "createdAt": created_at,
        });
        // Plain identities keep the context they always had; a token's
        // recipient is bound too, so removing or swapping it is detected.
        if let (Some(t), Some(map)) = (token, context.as_object_mut()) {
            map.insert("tokenRecipient".into(), json!(t.recipient));
        }
        context
    }

    /// Seals an opened identity under a passphrase.
    pub fn seal(
        identity: &OpenedIdentity,
        passphrase: &SecretString,
        created_at: &str,
    ) -> Result<IdentityFile, IdentityError> {
        Self::seal_with_token(identity, passphrase, created_at, None)
    }

    /// Seals an opened identity under a passphrase and, with `token`, its
    /// hardware token: the key is first encrypted to the token's plugin
    /// recipient, and that is what the envelope seals.
    pub fn seal_with_token(
        identity: &OpenedIdentity,
        passphrase: &SecretString,
        created_at: &str,
        token: Option<&TokenRequirement>,
    ) -> Result<IdentityFile, IdentityError> {
        let secret = identity.secret_key();
        let inner = match token {
            Some(t) => Zeroizing::new(token::encrypt(t, secret.expose_secret().as_bytes())?),
            None => Zeroizing::new(secret.expose_secret().as_bytes().to_vec()),
        };
        let envelope = envelope::seal(
            &inner,
            passphrase,
            envelope::DEFAULT_ITERATIONS,
            Some(Self::context(
                &identity.name,
                &identity.recipient,
                created_at,
                token,
            )),
        )?;
        Ok(IdentityFile {
            format: FORMAT.into(),
            version: VERSION,
            name: identity.name.clone(),
            recipient: identity.recipient.clone(),
            created_at: created_at.into(),
            envelope,
            token: token.cloned(),
        })
    }

    /// Parses an identity file, naming what is wrong with it.
    pub fn from_bytes(bytes: &[u8]) -> Result<IdentityFile, IdentityError> {
        let value =
            crate::fileformat::parse_versioned(bytes, FORMAT, VERSION).map_err(|s| match s {
                Shape::Empty => IdentityError::Empty,
                Shape::Truncated => IdentityError::Truncated,
                Shape::WrongFormat(why) => IdentityError::WrongFormat(why),
                Shape::UnsupportedVersion(v) => IdentityError::UnsupportedVersion(v),
            })?;
        // Check the embedded envelope on its own first for its specific errors.
        Envelope::from_value(value.get("envelope").unwrap_or(&Value::Null))?;
        let file: IdentityFile =
            serde_json::from_value(value).map_err(|e| IdentityError::WrongFormat(e.to_string()))?;
        // Every public field is checked as opening checks it, so `show`
        // refuses what `open` would.
        validate_name(&file.name).map_err(|e| match e {
            IdentityError::BadName { reason, .. } => {
                IdentityError::WrongFormat(format!("`name` is not a valid name: {reason}"))
            }
            other => other,
        })?;
        if crate::clock::parse(&file.created_at).is_none() {
            return Err(IdentityError::WrongFormat(
                "`createdAt` is not an RFC 3339 time".into(),
            ));
        }
        parse_recipient(&file.recipient)?;
        if let Some(t) = &file.token {
            let parsed = token::parse_recipient(&t.recipient)?;
            if parsed.plugin != t.plugin {
                return Err(IdentityError::WrongFormat(
                    "`token.plugin` does not match the token recipient".into(),
                ));
            }
        }
        Ok(file)
    }

    /// Refuses public fields that do not match the context sealed with the
    /// key: the first thing [`IdentityFile::open`] checks, and what `show`
    /// checks before printing them.
    pub fn check_sealed_context(&self) -> Result<(), IdentityError> {
        let expected = Self::context(
            &self.name,
            &self.recipient,
            &self.created_at,
            self.token.as_ref(),
        );
        if self.envelope.context() != Some(&expected) {
            return Err(IdentityError::RecipientMismatch {
                recipient: self.recipient.clone(),
            });
        }
        Ok(())
    }

    /// Reads and parses an identity file.
    pub fn load(path: &Path) -> Result<IdentityFile, IdentityError> {
        Self::from_bytes(&fsutil::read_limited(path, MAX_FILE)?)
    }

    /// The file's bytes: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The recipient's short fingerprint.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.recipient)
    }

    /// Checks the passphrase (and the sealed context) without asking the
    /// token: for pre-checks that must not ask a token twice.
    pub fn check_passphrase(&self, passphrase: &SecretString) -> Result<(), IdentityError> {
        self.check_sealed_context()?;
        if self.token.is_none() {
            return self.open(passphrase).map(drop);
        }
        self.envelope.open(passphrase)?;
        Ok(())
    }

    /// The console's early passphrase check, keeping what it opened: an
    /// identity without a hardware token is opened by the check (the same
    /// KDF) and returned, so the operation need not open it again; a token
    /// identity's passphrase alone is checked (`None`), its token asked
    /// once, when the operation opens it.
    pub fn check_or_open(
        &self,
        passphrase: &SecretString,
    ) -> Result<Option<OpenedIdentity>, IdentityError> {
        if self.token.is_some() {
            self.check_passphrase(passphrase).map(|()| None)
        } else {
            self.open(passphrase).map(Some)
        }
    }

    /// The factors opening this identity needs, in order.
    pub fn factors(&self) -> Vec<String> {
        let mut factors = vec!["passphrase".to_string()];
        if let Some(t) = &self.token {
            factors.push(format!("hardware token ({}, {})", t.binary(), t.recipient));
        }
        factors
    }

    /// Unseals the key and checks it belongs to the recipient on the file.
    /// A token identity then asks its token, through the installed
    /// [`token::TokenUi`], after the passphrase has been checked.
    pub fn open(&self, passphrase: &SecretString) -> Result<OpenedIdentity, IdentityError> {
        // The context in the envelope must be the one the public fields imply.
        self.check_sealed_context()?;
        let sealed = self.envelope.open(passphrase)?;
        let unwrapped;
        let plain: &[u8] = match &self.token {
            Some(t) => {
                unwrapped = token::decrypt(t, sealed.expose_secret())?;
                &unwrapped
            }
            None => sealed.expose_secret(),
        };
        let text = std::str::from_utf8(plain)
            .map_err(|_| IdentityError::NotAnAgeKey("sealed key is not text".into()))?;
        let key = x25519::Identity::from_str(text.trim())
            .map_err(|_| IdentityError::NotAnAgeKey("sealed key is not an age key".into()))?;
        if key.to_public().to_string() != self.recipient {
            return Err(IdentityError::RecipientMismatch {
                recipient: self.recipient.clone(),
            });
        }
        Ok(OpenedIdentity::new(self.name.clone(), key))
    }
}

/// A token identity is opened once in memory before it is written — the
/// token asked once (PIN, touch) — so one sealed to a token this machine
/// cannot use fails with the token's own error and nothing is written.
/// Plain identities are re-opened from the written bytes instead.
pub fn verify_token_seal(
    file: &IdentityFile,
    passphrase: &SecretString,
    recipient: &str,
) -> Result<(), IdentityError> {
    if file.token.is_none() {
        return Ok(());
    }
    let reopened = file.open(passphrase)?;
    if reopened.recipient != recipient {
        return Err(IdentityError::RecipientMismatch {
            recipient: recipient.to_string(),
        });
    }
    Ok(())
}

/// The read-back check of a token identity that [`verify_token_seal`]
/// opened in memory: the written file must parse to exactly that file.
pub fn same_file(back: &IdentityFile, written: &IdentityFile) -> Result<(), String> {
    if back == written {
        Ok(())
    } else {
        Err("the identity file read back differs from the one opened before writing".into())
    }
}

/// What a successful create or import produced (all public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedIdentity {
    /// Where the identity file was written.
    pub path: PathBuf,
    /// The custodian's name.
    pub name: String,
    /// The age recipient.
    pub recipient: String,
    /// Short fingerprint of the recipient.
    pub fingerprint: String,
    /// SHA-256 of the written file.
    pub file_sha256: String,
    /// Rotation due date.
    pub rotation_due: String,
}

/// Default path for a custodian's identity file in the workspace.
pub fn default_path(ws: &Workspace, name: &str) -> Result<PathBuf, IdentityError> {
    Ok(ws
        .identities_dir()?
        .join(format!("{}.identity.json", file_stem(name))))
}

/// Seals `identity` under `passphrase`, writes it to `out` (or the default
/// path), reads it back and re-opens it, registers the custodian and audits
/// the whole operation as `event`.
pub fn store_identity(
    ws: &Workspace,
    identity: OpenedIdentity,
    passphrase: &SecretString,
    out: Option<&Path>,
    event: &str,
) -> Result<CreatedIdentity, IdentityError> {
    store_identity_with_token(ws, identity, passphrase, None, out, event)
}

/// [`store_identity`], with an optional hardware token as second factor:
/// the key is encrypted to the token before it is sealed, and the file is
/// re-opened with both factors (asking the token once) before success, so an
/// identity sealed to a token this machine cannot use is never registered.
pub fn store_identity_with_token(
    ws: &Workspace,
    identity: OpenedIdentity,
    passphrase: &SecretString,
    token: Option<TokenRequirement>,
    out: Option<&Path>,
    event: &str,
) -> Result<CreatedIdentity, IdentityError> {
    validate_name(&identity.name)?;
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => default_path(ws, &identity.name)?,
    };
    if ws.registry()?.custodian(&identity.name).is_some() {
        return Err(WorkspaceError::DuplicateCustodian(identity.name.clone()).into());
    }
    if path.exists() {
        return Err(FsError::AlreadyExists(path).into());
    }
    let token_recipient = token.as_ref().map(|t| t.recipient.clone());
    let mut tx = ws.begin(
        event,
        json!({ "custodian": identity.name, "recipient": identity.recipient, "file": path,
                "tokenRecipient": token_recipient }),
    )?;
    let staged = (|| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tx.reserve(dir, MAX_FILE)?;
        }
        let now = crate::clock::now();
        let created_at = crate::clock::format(now);
        let file =
            IdentityFile::seal_with_token(&identity, passphrase, &created_at, token.as_ref())?;
        verify_token_seal(&file, passphrase, &identity.recipient)?;
        let bytes = file.to_bytes();
        let file_sha256 = tx.write_output(&path, &bytes, |read| {
            let back = IdentityFile::from_bytes(read).map_err(|e| e.to_string())?;
            if back.token.is_some() {
                return same_file(&back, &file);
            }
            let reopened = back.open(passphrase).map_err(|e| e.to_string())?;
            if reopened.recipient == identity.recipient {
                Ok(())
            } else {
                Err("re-opened key has a different recipient".into())
            }
        })?;
        let rotation_due = crate::clock::format(crate::clock::plus_days(now, ROTATION_DAYS));
        let created = CreatedIdentity {
            path: path.clone(),
            name: identity.name.clone(),
            recipient: identity.recipient.clone(),
            fingerprint: fingerprint(&identity.recipient),
            file_sha256,
            rotation_due: rotation_due.clone(),
        };
        let record = CustodianRecord {
            name: identity.name.clone(),
            recipient: identity.recipient.clone(),
            fingerprint: created.fingerprint.clone(),
            created_at,
            rotation_due,
            identity_file: Some(path.clone()),
            token: token_recipient.clone(),
        };
        Ok::<_, IdentityError>((created, record))
    })();
    let (created, record) = match staged {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e)),
    };
    // The name is checked again under the workspace lock: of several
    // concurrent creations of one name, one registers and the others roll
    // back, leaving no file.
    tx.commit(
        |reg| {
            if reg.custodian(&record.name).is_some() {
                return Err(IdentityError::from(WorkspaceError::DuplicateCustodian(
                    record.name.clone(),
                )));
            }
            reg.custodians.push(record);
            Ok(created)
        },
        |created| json!({ "fileSha256": created.file_sha256 }),
    )
}

/// Generates a new identity for `name` and stores it; see [`store_identity`].
pub fn create_identity(
    ws: &Workspace,
    name: &str,
    passphrase: &SecretString,
    out: Option<&Path>,
) -> Result<CreatedIdentity, IdentityError> {
    create_identity_with_token(ws, name, passphrase, None, out)
}

/// [`create_identity`] with an optional hardware token as second factor.
pub fn create_identity_with_token(
    ws: &Workspace,
    name: &str,
    passphrase: &SecretString,
    token: Option<TokenRequirement>,
    out: Option<&Path>,
) -> Result<CreatedIdentity, IdentityError> {
    validate_name(name)?;
    store_identity_with_token(
        ws,
        OpenedIdentity::generate(name),
        passphrase,
        token,
        out,
        "IDENTITY_CREATE",
    )
}

/// Imports an `age-keygen` key file's text as a sealed identity.
pub fn import_identity(
    ws: &Workspace,
    name: &str,
    key_file_text: &SecretString,
    passphrase: &SecretString,
    out: Option<&Path>,
) -> Result<CreatedIdentity, IdentityError> {
    validate_name(name)?;
    let key = parse_age_key_file(key_file_text.expose_secret())?;
    store_identity(
        ws,
        OpenedIdentity::new(name, key),
        passphrase,
        out,
        "IDENTITY_IMPORT",
    )
}

/// Opens an identity file and writes its plain age key file to `out`
/// (0600, never overwriting). Requires `confirmed`.
pub fn export_plaintext(
    ws: &Workspace,
    identity_path: &Path,
    passphrase: &SecretString,
    out: &Path,
    confirmed: bool,
) -> Result<PathBuf, IdentityError> {
    if !confirmed {
        return Err(IdentityError::ConfirmationRequired);
    }
    let file = IdentityFile::load(identity_path)?;
    if out.exists() {
        return Err(FsError::AlreadyExists(out.to_path_buf()).into());
    }
    // A transaction, so the plain key file and its record in the
    // registry's plaintext outputs exist together or not at all.
    let mut tx = ws.begin(
        "IDENTITY_EXPORT_PLAINTEXT",
        json!({
            "custodian": file.name, "recipient": file.recipient,
            "file": crate::outputs::absolute(out),
        }),
    )?;
    let result = (|| {
        let opened = file.open(passphrase)?;
        let text = opened.to_age_key_file(&file.created_at);
        let bytes = text.expose_secret().as_bytes();
        let sha = tx.write_output(out, bytes, |read| {
            let s = std::str::from_utf8(read).map_err(|e| e.to_string())?;
            let key = parse_age_key_file(s).map_err(|e| e.to_string())?;
            if key.to_public().to_string() == opened.recipient {
                Ok(())
            } else {
                Err("exported key has a different recipient".into())
            }
        })?;
        tx.track_plaintext(
            out,
            crate::outputs::OutputKind::PlainAgeKey,
            bytes.len() as u64,
            &sha,
        );
        Ok::<_, IdentityError>(sha)
    })();
    match result {
        Ok(sha) => tx.commit(
            |_| Ok::<_, IdentityError>(out.to_path_buf()),
            |_| json!({ "fileSha256": sha }),
        ),
        Err(e) => Err(tx.fail_with(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_round_trip_to_the_same_recipient() {
        let id = OpenedIdentity::generate("Ana");
        let bytes = id.secret_bytes().unwrap();
        let back = OpenedIdentity::from_secret_bytes("Ana", &bytes).unwrap();
        assert_eq!(back.recipient, id.recipient);
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("Ana Lopez-2").is_ok());
        for bad in ["", " Ana", ".hidden", "a/b", "x\ny", &"n".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(file_stem("Ana Lopez"), "ana-lopez");
    }

    #[test]
    fn fingerprints_are_four_groups() {
        let f = fingerprint("age1xyz");
        assert_eq!(f.len(), 19);
        assert_eq!(f.split(' ').count(), 4);
    }

    #[test]
    fn key_files_with_wrong_comment_or_junk_are_refused() {
        let id = OpenedIdentity::generate("x");
        let good = id.to_age_key_file("2026-01-01T00:00:00Z");
        assert!(parse_age_key_file(good.expose_secret()).is_ok());
        let other = OpenedIdentity::generate("y").recipient;
        let lying = good.expose_secret().replace(&id.recipient, &other);
        assert!(parse_age_key_file(&lying).is_err());
        assert!(parse_age_key_file("hello\n").is_err());
        assert!(parse_age_key_file("# only a comment\n").is_err());
    }

    #[test]
    fn key_files_are_told_apart_by_their_first_byte() {
        let id = OpenedIdentity::generate("x");
        let good = id.to_age_key_file("2026-01-01T00:00:00Z");
        match KeyFile::from_bytes(good.expose_secret().as_bytes()) {
            Ok(KeyFile::Plain(k)) => assert_eq!(k.to_public().to_string(), id.recipient),
            _ => panic!("a plain age key file was not read as one"),
        }
        // A `{` after whitespace is a custodian identity, parsed as one.
        assert!(matches!(
            KeyFile::from_bytes(b"  \n{\"not\": 1}"),
            Err(e) if !matches!(e, IdentityError::NotAnAgeKey(_))
        ));
        assert!(matches!(
            KeyFile::from_bytes(&[0xff, 0xfe, b'A']),
            Err(IdentityError::NotAnAgeKey(_))
        ));
    }
}
