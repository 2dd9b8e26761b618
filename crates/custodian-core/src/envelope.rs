//! Passphrase envelopes: how every secret the console keeps is sealed.
//!
//! An envelope is a small JSON document:
//!
//! ```json
//! {"header":{"format":"custodian-envelope","version":1,
//!            "kdf":{"name":"PBKDF2-HMAC-SHA256","iterations":600000,"salt":"…"},
//!            "cipher":{"name":"AES-256-GCM","nonce":"…"},
//!            "context":{…}},
//!  "ciphertext":"…"}
//! ```
//!
//! The key is PBKDF2-HMAC-SHA256(passphrase, salt, iterations) → 32 bytes;
//! the payload is AES-256-GCM under a random 96-bit nonce with the 128-bit tag
//! appended (exactly what WebCrypto's `encrypt` returns). The whole header is
//! bound as additional authenticated data in its *canonical* form, RFC 8785
//! (JCS): keys sorted by UTF-16 code unit, no whitespace, ECMAScript number
//! forms, so any implementation that can sort keys and call
//! `JSON.stringify` rebuilds the same bytes. `context` lets a caller bind its own
//! public metadata (a guardian share header, an identity's name and recipient)
//! to the ciphertext.
//!
//! Parsing is two-stage so that each way a file can be wrong gets its own
//! error: empty, truncated, not an envelope, a future version, a bad parameter,
//! and finally "wrong passphrase or altered" (AES-GCM cannot tell those apart).
//! docs/FORMATS.md documents the format field by field.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::Rng as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::Explain;

/// The value of `header.format`.
pub const FORMAT: &str = "custodian-envelope";
/// The only version this build writes and reads.
pub const VERSION: u32 = 1;
/// The KDF name written in `header.kdf.name`.
pub const KDF_NAME: &str = "PBKDF2-HMAC-SHA256";
/// The cipher name written in `header.cipher.name`.
pub const CIPHER_NAME: &str = "AES-256-GCM";
/// Sealing never uses fewer iterations than this, and opening refuses fewer.
pub const MIN_ITERATIONS: u32 = 600_000;
/// Default iteration count when sealing.
pub const DEFAULT_ITERATIONS: u32 = MIN_ITERATIONS;
/// Opening refuses more iterations than this (about 15 s of work on a laptop):
/// a larger number is either corruption or an attempt to hang the console.
pub const MAX_ITERATIONS: u32 = 10_000_000;
/// Salt length we write; opening accepts 16–64 bytes.
pub const SALT_LEN: usize = 32;
const MIN_SALT_LEN: usize = 16;
const MAX_SALT_LEN: usize = 64;
/// AES-GCM nonce length (96 bits).
pub const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Largest envelope file the console reads (the payloads are keys, not data).
pub const MAX_FILE_LEN: u64 = 1 << 20;

/// Everything that can go wrong sealing or opening an envelope.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The file has no content at all.
    #[error("the envelope is empty")]
    Empty,
    /// The JSON ends early: the file was cut short.
    #[error("the envelope is truncated (it ends in the middle of its JSON)")]
    Truncated,
    /// The bytes are not an envelope at all.
    #[error("this is not a custodian envelope ({0})")]
    WrongFormat(String),
    /// An envelope written by a newer version of the console.
    #[error("envelope version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version in the file.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// A header field is missing or has a value the format does not allow.
    #[error("envelope field `{field}` is invalid: {reason}")]
    BadField {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Sealing was asked to use too few iterations, or a file declares too few.
    #[error("{found} PBKDF2 iterations is below the minimum of {MIN_ITERATIONS}")]
    IterationsTooLow {
        /// The requested or declared count.
        found: u64,
    },
    /// A file declares more iterations than the documented cap.
    #[error("{found} PBKDF2 iterations is above the cap of {MAX_ITERATIONS}")]
    IterationsAboveCap {
        /// The declared count.
        found: u64,
    },
    /// Authentication failed: the passphrase is wrong or the file was altered.
    #[error("could not open the envelope: the passphrase is wrong, or the file was altered")]
    WrongPassphraseOrAltered,
}

impl Explain for EnvelopeError {
    fn remedy_for(&self, _to: crate::error::Audience) -> Option<String> {
        Some(
            match self {
                EnvelopeError::Empty | EnvelopeError::Truncated => {
                    "the file was not copied completely; use an intact copy"
                }
                EnvelopeError::WrongFormat(_) => "check that you chose the right file",
                EnvelopeError::UnsupportedVersion { .. } => {
                    "open it with the newer version of custodian that wrote it"
                }
                EnvelopeError::BadField { .. } => {
                    "the file is damaged or was not written by custodian; use an intact copy"
                }
                EnvelopeError::IterationsTooLow { .. } => {
                    "use at least 600,000 iterations (the default)"
                }
                EnvelopeError::IterationsAboveCap { .. } => {
                    "the file is damaged or hostile; use an intact copy"
                }
                EnvelopeError::WrongPassphraseOrAltered => {
                    "check the passphrase (caps lock, keyboard layout) and try again; if it is right, the file has been altered: use a backup copy"
                }
            }
            .to_string(),
        )
    }
}

/// KDF parameters, as stored in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Always [`KDF_NAME`].
    pub name: String,
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// Base64 (standard, padded) salt.
    pub salt: String,
}

/// Cipher parameters, as stored in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CipherParams {
    /// Always [`CIPHER_NAME`].
    pub name: String,
    /// Base64 (standard, padded) 12-byte nonce.
    pub nonce: String,
}

/// The envelope header: every parameter needed to open it, bound as AAD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// Key derivation.
    pub kdf: KdfParams,
    /// Authenticated encryption.
    pub cipher: CipherParams,
    /// Caller metadata bound to the ciphertext (public, never secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

/// A sealed envelope. Holds only public parameters and ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The authenticated header.
    pub header: Header,
    /// Base64 of AES-GCM ciphertext with the 16-byte tag appended.
    pub ciphertext: String,
}

/// Serialises a JSON value in the canonical form of RFC 8785 (JCS): object
/// keys sorted by their UTF-16 code units, no insignificant whitespace,
/// numbers in their ECMAScript form, strings with the minimal escapes. That
/// is what `JSON.stringify` gives in JavaScript once keys are sorted with
/// `Array.prototype.sort()`, so a WebCrypto peer rebuilds the same bytes.
///
/// It is the AAD, so it must stay stable: for ASCII keys and integers —
/// every header this tool has written — it is byte for byte the form
/// earlier releases used (sorting by byte or by code point differed only
/// for keys beyond U+FFFF against keys in U+E000–U+FFFF, and in number
/// forms such as `1e+21`).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    // A Value holds only string keys and finite numbers, so none of the
    // canonicalizer's refusals (NaN, non-string keys) can happen here.
    serde_json_canonicalizer::to_vec(value).unwrap_or_default()
}

/// The derived key as the cipher's key type, by reference (no copy).
fn aes_key(key: &[u8; 32]) -> &aes_gcm::Key<Aes256Gcm> {
    key.into()
}

fn derive_key(passphrase: &SecretString, salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        passphrase.expose_secret().as_bytes(),
        salt,
        iterations,
        key.as_mut(),
    );
    key
}

impl Header {
    /// The exact bytes bound as AAD.
    pub fn aad(&self) -> Vec<u8> {
        // Serialising our own struct to a Value cannot fail.
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        canonical_json(&value)
    }
}

/// Checks an iteration count for sealing: at least [`MIN_ITERATIONS`], at
/// most [`MAX_ITERATIONS`].
pub fn check_iterations(iterations: u32) -> Result<(), EnvelopeError> {
    if iterations < MIN_ITERATIONS {
        return Err(EnvelopeError::IterationsTooLow {
            found: iterations.into(),
        });
    }
    if iterations > MAX_ITERATIONS {
        return Err(EnvelopeError::IterationsAboveCap {
            found: iterations.into(),
        });
    }
    Ok(())
}

/// Seals `plaintext` under `passphrase` with the given iteration count,
/// binding `context` (public metadata) into the authenticated header.
pub fn seal(
    plaintext: &[u8],
    passphrase: &SecretString,
    iterations: u32,
    context: Option<Value>,
) -> Result<Envelope, EnvelopeError> {
    check_iterations(iterations)?;
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    let mut rng = crate::rng::os();
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        kdf: KdfParams {
            name: KDF_NAME.into(),
            iterations,
            salt: B64.encode(salt),
        },
        cipher: CipherParams {
            name: CIPHER_NAME.into(),
            nonce: B64.encode(nonce),
        },
        context,
    };
    let key = derive_key(passphrase, &salt, iterations);
    let cipher = Aes256Gcm::new(aes_key(&key));
    let aad = header.aad();
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        // AES-GCM encryption only fails for absurd lengths; the payloads here are keys.
        .map_err(|_| EnvelopeError::BadField {
            field: "ciphertext",
            reason: "payload too large to seal".into(),
        })?;
    Ok(Envelope {
        header,
        ciphertext: B64.encode(ciphertext),
    })
}

fn decode_b64(field: &'static str, text: &str) -> Result<Vec<u8>, EnvelopeError> {
    B64.decode(text).map_err(|e| EnvelopeError::BadField {
        field,
        reason: format!("not valid base64 ({e})"),
    })
}

impl Envelope {
    /// Parses an envelope from a JSON value (for formats that embed one).
    pub fn from_value(value: &Value) -> Result<Envelope, EnvelopeError> {
        let header = value
            .get("header")
            .and_then(Value::as_object)
            .ok_or_else(|| EnvelopeError::WrongFormat("no `header` object".into()))?;
        match header.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(EnvelopeError::WrongFormat(format!(
                    "format is `{}`",
                    other.chars().take(40).collect::<String>()
                )));
            }
            None => return Err(EnvelopeError::WrongFormat("no `format` field".into())),
        }
        match header.get("version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(found) => {
                return Err(EnvelopeError::UnsupportedVersion {
                    found,
                    supported: VERSION,
                });
            }
            None => {
                return Err(EnvelopeError::BadField {
                    field: "header.version",
                    reason: "missing or not a whole number".into(),
                });
            }
        }
        // Range-check iterations before the strict parse so a huge value gets
        // the specific error rather than a generic overflow.
        if let Some(iter) = header
            .get("kdf")
            .and_then(|k| k.get("iterations"))
            .and_then(Value::as_u64)
        {
            if iter > u64::from(MAX_ITERATIONS) {
                return Err(EnvelopeError::IterationsAboveCap { found: iter });
            }
            if iter < u64::from(MIN_ITERATIONS) {
                return Err(EnvelopeError::IterationsTooLow { found: iter });
            }
        }
        let env: Envelope =
            serde_json::from_value(value.clone()).map_err(|e| EnvelopeError::BadField {
                field: "header",
                reason: e.to_string(),
            })?;
        env.validate()?;
        Ok(env)
    }

    /// Parses an envelope file's bytes, naming exactly what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(EnvelopeError::Empty);
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                EnvelopeError::Truncated
            } else {
                EnvelopeError::WrongFormat(format!("not valid JSON: {e}"))
            }
        })?;
        Envelope::from_value(&value)
    }

    /// The envelope as a JSON value (for formats that embed one).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The envelope file's bytes: compact JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    fn validate(&self) -> Result<(), EnvelopeError> {
        let h = &self.header;
        if h.kdf.name != KDF_NAME {
            return Err(EnvelopeError::BadField {
                field: "header.kdf.name",
                reason: format!("`{}` is not supported (expected {KDF_NAME})", h.kdf.name),
            });
        }
        if h.cipher.name != CIPHER_NAME {
            return Err(EnvelopeError::BadField {
                field: "header.cipher.name",
                reason: format!(
                    "`{}` is not supported (expected {CIPHER_NAME})",
                    h.cipher.name
                ),
            });
        }
        let salt = decode_b64("header.kdf.salt", &h.kdf.salt)?;
        if !(MIN_SALT_LEN..=MAX_SALT_LEN).contains(&salt.len()) {
            return Err(EnvelopeError::BadField {
                field: "header.kdf.salt",
                reason: format!(
                    "{} bytes; must be {MIN_SALT_LEN} to {MAX_SALT_LEN}",
                    salt.len()
                ),
            });
        }
        let nonce = decode_b64("header.cipher.nonce", &h.cipher.nonce)?;
        if nonce.len() != NONCE_LEN {
            return Err(EnvelopeError::BadField {
                field: "header.cipher.nonce",
                reason: format!("{} bytes; must be {NONCE_LEN}", nonce.len()),
            });
        }
        let ct = decode_b64("ciphertext", &self.ciphertext)?;
        if ct.len() < TAG_LEN {
            return Err(EnvelopeError::BadField {
                field: "ciphertext",
                reason: "shorter than the 16-byte authentication tag".into(),
            });
        }
        Ok(())
    }

    /// The public context bound into this envelope, if any.
    pub fn context(&self) -> Option<&Value> {
        self.header.context.as_ref()
    }

    /// Opens the envelope with `passphrase`, returning the plaintext.
    pub fn open(&self, passphrase: &SecretString) -> Result<SecretBox<Vec<u8>>, EnvelopeError> {
        self.validate()?;
        let salt = decode_b64("header.kdf.salt", &self.header.kdf.salt)?;
        let nonce = decode_b64("header.cipher.nonce", &self.header.cipher.nonce)?;
        // validate() checked the length; this cannot fail after it.
        let nonce = Nonce::try_from(nonce.as_slice()).map_err(|_| EnvelopeError::BadField {
            field: "header.cipher.nonce",
            reason: format!("must be {NONCE_LEN} bytes"),
        })?;
        let ct = decode_b64("ciphertext", &self.ciphertext)?;
        let key = derive_key(passphrase, &salt, self.header.kdf.iterations);
        let cipher = Aes256Gcm::new(aes_key(&key));
        let aad = self.header.aad();
        let plaintext = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map_err(|_| EnvelopeError::WrongPassphraseOrAltered)?;
        Ok(SecretBox::new(Box::new(plaintext)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_recursively() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":"x","c":[2,{"f":1,"e":0}]}}"#).unwrap();
        assert_eq!(
            canonical_json(&v),
            br#"{"a":{"c":[2,{"e":0,"f":1}],"d":"x"},"b":1}"#.to_vec()
        );
    }

    /// RFC 8785 section 3.2.3: keys sort by UTF-16 code unit, so the emoji
    /// (a surrogate pair, 0xD83D…) comes before U+FB33, not after it.
    #[test]
    fn canonical_json_sorts_keys_by_utf16_code_unit_as_rfc_8785_does() {
        let v: Value = serde_json::from_str(
            r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(String::from_utf8(canonical_json(&v)).unwrap(), expected);
    }

    /// RFC 8785 section 3.2.2: numbers in ECMAScript form, strings with
    /// the minimal escapes.
    #[test]
    fn canonical_json_writes_numbers_and_strings_as_rfc_8785_does() {
        let v: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#,
        )
        .unwrap();
        let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assert_eq!(String::from_utf8(canonical_json(&v)).unwrap(), expected);
    }

    #[test]
    fn sealing_below_the_minimum_is_refused() {
        let pass = SecretString::from("correct horse battery staple");
        let err = seal(b"k", &pass, 599_999, None).unwrap_err();
        assert!(matches!(
            err,
            EnvelopeError::IterationsTooLow { found: 599_999 }
        ));
    }
}
