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
//!
//! ## The grouped form (`custodianshare2 …`)
//!
//! What goes on paper: the same Bech32m data characters (checksum included)
//! in groups of five — four characters of the line and one check character —
//! after the prefix `custodianshare2`:
//!
//! ```text
//! custodianshare2 qyqs9 dnx3e 8rr4y …
//! ```
//!
//! The check character of group `g` (1-based) over its characters
//! `c1..cn` (n = 4, fewer in the last group) is the value of the polynomial
//! `(g mod 32, g / 32 mod 32, c1, …, cn, 0)` at `x` in GF(32) modulo the
//! primitive polynomial `x^5 + x^2 + 1`, written with the Bech32 alphabet.
//! Every single wrong character (the check character's included) and every
//! swap of two neighbouring characters of the line changes it, and a group
//! read in another group's place never passes (the number's term differs by
//! a non-zero amount), so a left-out or exchanged group is named too: a
//! typing error is reported as "group 17 is wrong" before the line's own
//! Bech32m checksum is consulted. Reading removes spaces,
//! dashes and line breaks and ignores case; the line rebuilt from the groups
//! must still pass Bech32m, so the grouped form is at least as strong as
//! the plain line, which stays valid for ever.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bech32::primitives::decode::{CheckedHrpstring, UncheckedHrpstring};
use bech32::{Bech32, Bech32m, Hrp};

use super::{GuardianError, ShareFile};
use crate::envelope::{self, CipherParams, Envelope, Header, KdfParams};

/// The human-readable prefix of a printed share.
pub const HRP: &str = "custodianshare";
const LAYOUT: u8 = 1;
/// The prefix of the grouped form.
pub const GROUPED_PREFIX: &str = "custodianshare2";
/// Characters of the line per group of the grouped form (a check character follows).
pub const GROUP_DATA: usize = 4;
/// Characters per group of the grouped form: [`GROUP_DATA`] and one check character.
pub const GROUP: usize = GROUP_DATA + 1;
/// The groups of six that earlier versions printed the plain line in: a
/// checksum hint for a plain line counts in these.
const LEGACY_GROUP: usize = 6;
/// The Bech32 alphabet: the grouped form's characters, check characters included.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

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

/// Multiplies by `x` in GF(32) modulo `x^5 + x^2 + 1`.
fn times_x(v: u8) -> u8 {
    let v = v << 1;
    if v & 0x20 != 0 { v ^ 0x25 } else { v }
}

fn symbol(c: u8) -> Option<u8> {
    CHARSET
        .iter()
        .position(|&x| x == c.to_ascii_lowercase())
        .and_then(|p| u8::try_from(p).ok())
}

/// The check character of group `group` (1-based) holding `chars` (from
/// [`CHARSET`]).
fn group_check(group: usize, chars: &[u8]) -> u8 {
    let mut acc = 0u8;
    // The group number's two low 5-bit digits, then the characters, then a
    // final shift so the last character is weighted by x, not 1.
    let g = [(group & 31) as u8, ((group >> 5) & 31) as u8];
    for v in g.into_iter().chain(chars.iter().filter_map(|&c| symbol(c))) {
        acc = times_x(acc) ^ v;
    }
    CHARSET[usize::from(times_x(acc))]
}

/// The groups of the grouped form (without the prefix): each the next
/// [`GROUP_DATA`] data characters of the plain line and its check character.
pub fn groups(line: &str) -> Vec<String> {
    let data = match line.rfind('1') {
        Some(at) => &line[at + 1..],
        None => line,
    };
    data.to_ascii_lowercase()
        .as_bytes()
        .chunks(GROUP_DATA)
        .enumerate()
        .map(|(i, chunk)| {
            let mut g = chunk.to_vec();
            g.push(group_check(i + 1, chunk));
            String::from_utf8_lossy(&g).into_owned()
        })
        .collect()
}

/// The grouped form of a plain `custodianshare1…` line, on one line:
/// `custodianshare2` and the [`groups`] separated by spaces.
pub fn grouped(line: &str) -> String {
    let mut out = String::from(GROUPED_PREFIX);
    for g in groups(line) {
        out.push(' ');
        out.push_str(&g);
    }
    out
}

fn group_err(group: usize, reason: impl Into<String>) -> GuardianError {
    GuardianError::PrintedGroup {
        group,
        reason: reason.into(),
    }
}

/// Reads the grouped form back into the plain line, checking each group.
fn ungroup(text: &str) -> Result<String, GuardianError> {
    // The pieces as typed, split at spaces, dashes and line breaks.
    let mut tokens = text
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|t| !t.is_empty());
    // The prefix may be typed in pieces or run into the first group.
    let mut prefix = String::new();
    let mut body_tokens: Vec<String> = Vec::new();
    for t in tokens.by_ref() {
        let need = GROUPED_PREFIX.len() - prefix.len();
        if t.len() <= need {
            prefix.push_str(t);
        } else {
            let cut = t.char_indices().nth(need).map_or(t.len(), |(i, _)| i);
            prefix.push_str(&t[..cut]);
            body_tokens.push(t[cut..].to_string());
        }
        if prefix.len() >= GROUPED_PREFIX.len() {
            break;
        }
    }
    if !prefix.eq_ignore_ascii_case(GROUPED_PREFIX) {
        return Err(bad(format!("it does not start with `{GROUPED_PREFIX}`")));
    }
    body_tokens.extend(tokens.map(str::to_string));
    if body_tokens.is_empty() {
        return Err(bad("no groups follow the prefix"));
    }
    // Typed in pieces: every piece but the last must be whole groups, or
    // the piece that is not names the group a character was lost from or
    // added to.
    if body_tokens.len() > 1 {
        let mut before = 0usize;
        for t in &body_tokens[..body_tokens.len() - 1] {
            let n = t.chars().count();
            if n % GROUP != 0 {
                let group = before / GROUP + 1;
                return Err(group_err(
                    group,
                    format!(
                        "it has {n} characters where each group has {GROUP} (a character was left out or added)"
                    ),
                ));
            }
            before += n;
        }
    }
    let body: String = body_tokens.concat();
    let mut data = String::with_capacity(body.len());
    let chars: Vec<char> = body.chars().collect();
    let count = chars.len().div_ceil(GROUP);
    for (i, chunk) in chars.chunks(GROUP).enumerate() {
        let group = i + 1;
        if let Some(c) = chunk
            .iter()
            .find(|c| !c.is_ascii() || symbol(**c as u8).is_none())
        {
            return Err(group_err(
                group,
                format!(
                    "`{c}` is not used in printed shares (they never hold b, i, o or 1; check for 8, 1 or l, 0)"
                ),
            ));
        }
        let bytes: Vec<u8> = chunk.iter().map(|c| c.to_ascii_lowercase() as u8).collect();
        if bytes.len() < 2 {
            return Err(group_err(
                group,
                "the last group has one character; it needs at least one character and its check character",
            ));
        }
        let (payload, check) = bytes.split_at(bytes.len() - 1);
        if group_check(group, payload) != check[0] {
            let why = if group == count {
                "its check character does not match (the last group: is a character missing?)"
            } else {
                "its check character does not match"
            };
            return Err(group_err(group, why));
        }
        data.push_str(&String::from_utf8_lossy(payload));
    }
    Ok(format!("{HRP}1{data}"))
}

/// True when `text` looks like a printed share rather than a JSON file.
pub fn looks_printed(text: &str) -> bool {
    let clean = normalise(text);
    let starts = |p: &str| {
        clean
            .get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    };
    starts(&format!("{HRP}1")) || starts(GROUPED_PREFIX)
}

/// True when `text` is in the grouped form.
fn is_grouped(text: &str) -> bool {
    normalise(text)
        .get(..GROUPED_PREFIX.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(GROUPED_PREFIX))
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
/// hint for the person re-typing, as (group, character), both 1-based, in
/// groups of `group` data characters. Never used to correct silently.
fn locate_typo(clean: &str, group: usize) -> Option<(usize, usize)> {
    let lower = clean.to_ascii_lowercase();
    let start = lower.rfind('1')? + 1;
    let mut bytes = lower.into_bytes();
    for pos in start..bytes.len() {
        let orig = bytes[pos];
        for &c in CHARSET.iter() {
            if c == orig {
                continue;
            }
            bytes[pos] = c;
            let candidate = String::from_utf8_lossy(&bytes);
            if CheckedHrpstring::new::<Bech32m>(&candidate).is_ok() {
                let d = pos - start;
                return Some((d / group + 1, d % group + 1));
            }
        }
        bytes[pos] = orig;
    }
    None
}

/// Parses a printed line back into the share file it was made from.
///
/// Takes the plain `custodianshare1…` line or the grouped
/// `custodianshare2 …` form, typed with any spaces, dashes and line breaks
/// and in either case; a wrong group of the grouped form is named.
pub fn decode(text: &str) -> Result<ShareFile, GuardianError> {
    let grouped = is_grouped(text);
    let clean = if grouped {
        ungroup(text)?
    } else {
        normalise(text)
    };
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
            let typo = locate_typo(&clean, if grouped { GROUP_DATA } else { LEGACY_GROUP });
            if grouped && typo.is_none() {
                return Err(bad(
                    "every group's check character matches but the line's own checksum does not: a group at the end may be missing (the card says how many groups there are)",
                ));
            }
            return Err(GuardianError::PrintedChecksum {
                typo: locate_typo(&clean, if grouped { GROUP_DATA } else { LEGACY_GROUP }),
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
