//! The printable form of a guardian share: one line a guardian can keep on
//! paper, and the same line as a QR code for the terminal.
//!
//! The line is Bech32m (`custodianshare1…`) over a compact binary layout of
//! the share file. Bech32m is a BCH code over the 32-character alphabet: any
//! single mistyped character is always detected (and any error touching up to
//! four characters, with overwhelming probability for longer errors), and the
//! alphabet leaves out the look-alikes `1 b i o`. Reading back rebuilds the
//! exact JSON share file, so the envelope's AAD (its header) is the same and
//! opening works unchanged. Spaces and dashes are ignored on input, so the
//! line may be printed in groups.
//!
//! Layout (version 1), all integers big-endian:
//!
//! ```text
//! u8 layout=1 | [16] set id | u8 threshold | u8 total | u8 index
//! i64 createdAt (unix seconds) | u32 iterations | u8 salt len | salt
//! [12] nonce | u8 ciphertext len | ciphertext | [32] recipient (raw x25519)
//! u8 len | guardian name (UTF-8) | u8 len | custodian name (UTF-8)
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bech32::primitives::decode::{CheckedHrpstring, UncheckedHrpstring};
use bech32::{Bech32, Bech32m, Hrp};

use super::{GuardianError, ShareFile};
use crate::envelope::{self, CipherParams, Envelope, Header, KdfParams};

/// The human-readable prefix of a printed share.
pub const HRP: &str = "custodianshare";
const LAYOUT: u8 = 1;
/// Characters per group when a printed share is shown for copying by hand.
pub const GROUP: usize = 6;

fn bad(reason: impl Into<String>) -> GuardianError {
    GuardianError::BadPrinted {
        reason: reason.into(),
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) -> Result<(), GuardianError> {
    let len = u8::try_from(s.len()).map_err(|_| bad("a name is too long to print"))?;
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn recipient_raw(recipient: &str) -> Result<Vec<u8>, GuardianError> {
    let (hrp, data) =
        bech32::decode(recipient).map_err(|_| bad("the recipient is not an age recipient"))?;
    if hrp.as_str() != "age" || data.len() != 32 {
        return Err(bad("the recipient is not an age x25519 recipient"));
    }
    Ok(data)
}

fn recipient_text(raw: &[u8]) -> Result<String, GuardianError> {
    let hrp = Hrp::parse("age").map_err(|_| bad("internal: bad hrp"))?;
    bech32::encode_lower::<Bech32>(hrp, raw).map_err(|_| bad("the recipient bytes are malformed"))
}

/// Encodes a share file as its printed line (lowercase, no spaces).
pub fn encode(share: &ShareFile) -> Result<String, GuardianError> {
    let h = &share.envelope.header;
    let mut out = vec![LAYOUT];
    let set_id = hex::decode(&share.set_id).map_err(|_| bad("the set id is not hex"))?;
    if set_id.len() != super::SET_ID_LEN {
        return Err(bad("the set id has the wrong length"));
    }
    out.extend_from_slice(&set_id);
    out.extend_from_slice(&[share.threshold, share.total, share.index]);
    let created = crate::clock::parse(&share.created_at)
        .ok_or_else(|| bad("the creation time is not RFC 3339"))?;
    out.extend_from_slice(&created.unix_timestamp().to_be_bytes());
    out.extend_from_slice(&h.kdf.iterations.to_be_bytes());
    let salt = B64
        .decode(&h.kdf.salt)
        .map_err(|_| bad("the salt is not base64"))?;
    out.push(u8::try_from(salt.len()).map_err(|_| bad("the salt is too long"))?);
    out.extend_from_slice(&salt);
    let nonce = B64
        .decode(&h.cipher.nonce)
        .map_err(|_| bad("the nonce is not base64"))?;
    if nonce.len() != envelope::NONCE_LEN {
        return Err(bad("the nonce has the wrong length"));
    }
    out.extend_from_slice(&nonce);
    let ct = B64
        .decode(&share.envelope.ciphertext)
        .map_err(|_| bad("the ciphertext is not base64"))?;
    out.push(u8::try_from(ct.len()).map_err(|_| bad("the ciphertext is too long"))?);
    out.extend_from_slice(&ct);
    out.extend_from_slice(&recipient_raw(&share.recipient)?);
    push_str(&mut out, &share.guardian)?;
    push_str(&mut out, &share.custodian)?;
    let hrp = Hrp::parse(HRP).map_err(|_| bad("internal: bad hrp"))?;
    let line = bech32::encode_lower::<Bech32m>(hrp, &out)
        .map_err(|e| bad(format!("the share is too large to print ({e})")))?;
    // The printed line must rebuild exactly this file, or the AAD would differ.
    if decode(&line)? != *share {
        return Err(bad(
            "this share file cannot be printed faithfully (it was not written by this version)",
        ));
    }
    Ok(line)
}

/// The printed line with its data in groups of [`GROUP`] characters after
/// the `custodianshare1` prefix, for copying by hand.
pub fn grouped(line: &str) -> String {
    let (prefix, data) = match line.rfind('1') {
        Some(at) => line.split_at(at + 1),
        None => ("", line),
    };
    let groups = data
        .as_bytes()
        .chunks(GROUP)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    format!("{prefix} {groups}")
}

/// True when `text` looks like a printed share rather than a JSON file.
pub fn looks_printed(text: &str) -> bool {
    normalise(text)
        .get(..HRP.len() + 1)
        .is_some_and(|p| p.eq_ignore_ascii_case(&format!("{HRP}1")))
}

/// Reading cursor over the decoded bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], GuardianError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| bad("the line ends too early (a group was left out)"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, GuardianError> {
        Ok(self.take(1)?[0])
    }
    fn string(&mut self) -> Result<String, GuardianError> {
        let n = self.u8()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| bad("a name is not UTF-8"))
    }
}

/// Removes what a person may add when copying: spaces, dashes, line breaks.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Finds a single character whose replacement makes the checksum valid: a
/// hint for the person re-typing, as (group, character) in the grouped form,
/// both 1-based. Never used to correct silently.
fn locate_typo(clean: &str) -> Option<(usize, usize)> {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = clean.to_ascii_lowercase();
    let start = lower.rfind('1')? + 1;
    let mut bytes = lower.into_bytes();
    for pos in start..bytes.len() {
        let orig = bytes[pos];
        for &c in CHARSET {
            if c == orig {
                continue;
            }
            bytes[pos] = c;
            let candidate = String::from_utf8_lossy(&bytes);
            if CheckedHrpstring::new::<Bech32m>(&candidate).is_ok() {
                let d = pos - start;
                return Some((d / GROUP + 1, d % GROUP + 1));
            }
        }
        bytes[pos] = orig;
    }
    None
}

/// Parses a printed line back into the share file it was made from.
pub fn decode(text: &str) -> Result<ShareFile, GuardianError> {
    let clean = normalise(text);
    if clean.is_empty() {
        return Err(bad("the line is empty"));
    }
    let unchecked =
        UncheckedHrpstring::new(&clean).map_err(|e| bad(format!("not a printed share ({e})")))?;
    if !unchecked.hrp().as_str().eq_ignore_ascii_case(HRP) {
        return Err(bad(format!(
            "it starts with `{}`, not `{HRP}1`",
            unchecked.hrp().as_str()
        )));
    }
    let checked = match CheckedHrpstring::new::<Bech32m>(&clean) {
        Ok(c) => c,
        Err(_) => {
            return Err(GuardianError::PrintedChecksum {
                typo: locate_typo(&clean),
            });
        }
    };
    let bytes: Vec<u8> = checked.byte_iter().collect();
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    let layout = r.u8()?;
    if layout != LAYOUT {
        return Err(GuardianError::UnsupportedVersion(u64::from(layout)));
    }
    let set_id = hex::encode(r.take(super::SET_ID_LEN)?);
    let threshold = r.u8()?;
    let total = r.u8()?;
    let index = r.u8()?;
    let created = i64::from_be_bytes(
        r.take(8)?
            .try_into()
            .map_err(|_| bad("bad creation time"))?,
    );
    let created_at = crate::clock::format(
        time::OffsetDateTime::from_unix_timestamp(created)
            .map_err(|_| bad("the creation time is out of range"))?,
    );
    let iterations = u32::from_be_bytes(
        r.take(4)?
            .try_into()
            .map_err(|_| bad("bad iteration count"))?,
    );
    let salt_len = r.u8()? as usize;
    let salt = B64.encode(r.take(salt_len)?);
    let nonce = B64.encode(r.take(envelope::NONCE_LEN)?);
    let ct_len = r.u8()? as usize;
    let ciphertext = B64.encode(r.take(ct_len)?);
    let recipient = recipient_text(r.take(32)?)?;
    let guardian = r.string()?;
    let custodian = r.string()?;
    if r.at != bytes.len() {
        return Err(bad("the line has extra data at the end"));
    }
    let mut share = ShareFile {
        format: super::FORMAT.into(),
        version: super::VERSION,
        set_id,
        threshold,
        total,
        index,
        guardian,
        custodian,
        recipient,
        created_at,
        envelope: Envelope {
            header: Header {
                format: envelope::FORMAT.into(),
                version: envelope::VERSION,
                kdf: KdfParams {
                    name: envelope::KDF_NAME.into(),
                    iterations,
                    salt,
                },
                cipher: CipherParams {
                    name: envelope::CIPHER_NAME.into(),
                    nonce,
                },
                context: None,
            },
            ciphertext,
        },
    };
    share.envelope.header.context = Some(share.context());
    // Same checks as a JSON share file (iteration range, names, recipient).
    ShareFile::from_bytes(&share.to_bytes())
}

/// The printed line as a QR code drawn with Unicode half blocks (two rows
/// of modules per text line), dark modules as spaces on a light quiet zone
/// so phone cameras read it on dark terminals. Uppercase so the QR uses its
/// compact alphanumeric mode.
pub fn qr_text(line: &str) -> Result<String, GuardianError> {
    use qrcode::render::unicode::Dense1x2;
    let upper = line.to_ascii_uppercase();
    let code = qrcode::QrCode::with_error_correction_level(upper.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| bad(format!("cannot draw a QR code ({e})")))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build())
}
