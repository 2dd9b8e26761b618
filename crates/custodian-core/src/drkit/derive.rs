//! Key Share #1 for NCW wallets, one at a time or millions in a stream.
//!
//! For wallet `W`, a cloud cosigner's 32-byte master key `M` and the master
//! key's `walletSeed`:
//!
//! ```text
//! cc    = SHA-256(utf8(W) ‖ walletSeed)
//! I     = HMAC-SHA512(key = cc, data = 0x00 ‖ M ‖ 0x80000000 (4 bytes BE))
//! d     = (int(M) + int(I[0..32])) mod n          (n: the secp256k1 order)
//! share = int(SHA-512(d as 32 bytes BE)) mod n     (32 bytes BE, hex)
//! ```
//!
//! and the wallet's asset chain code is `SHA-256(utf8(W) ‖ assetSeed)`.
//!
//! Wallet ids must already be canonical (lowercase hyphenated UUIDs): the
//! derivation hashes the id's text, so "fixing" an uppercase id would derive
//! a share for a wallet that does not exist. Bad ids are refused by line
//! number, never corrected.
//!
//! The batch reads the wallet list twice — once to check every line
//! ([`CheckedWallets::check`], so a bad list fails before any key is touched
//! or anything is written), once to derive — and holds only a few chunks of
//! ids in memory at a time. Three stages overlap: a reader thread parses
//! chunks of ids, a rayon pool derives each chunk's records in parallel, and
//! a writer thread appends them in input order to a temporary file that is
//! read back and published only when complete ([`NewFileWriter`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, sync_channel};

use hmac::{Hmac, KeyInit, Mac};
use k256::elliptic_curve::ops::Reduce;
use k256::{FieldBytes, Scalar, WideBytes};
use rayon::prelude::*;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use super::DrKitError;
use super::kit::DecryptedMasterKey;
use super::repeats::{self, Candidates, SeenFilter, WalletKey, key_of};
use crate::fsutil::NewFileWriter;

/// Length of a canonical UUID string.
const UUID_LEN: usize = 36;
/// Wallet ids derived per parallel chunk.
pub const CHUNK: usize = 16 * 1024;
/// The JSON field name the vendor's tool uses for a share.
pub const SHARE_FIELD: &str = "MPC_CMP_ECDSA_SECP256K1";

/// The wallet's chain code for Key Share #1: SHA-256(W ‖ walletSeed).
pub fn wallet_chain_code(wallet_id: &str, seed: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(wallet_id.as_bytes());
    h.update(seed);
    h.finalize().into()
}

/// The wallet's asset chain code: SHA-256(W ‖ assetSeed).
pub fn asset_chain_code(wallet_id: &str, asset_seed: &[u8; 32]) -> [u8; 32] {
    wallet_chain_code(wallet_id, asset_seed)
}

/// Key Share #1 for one wallet and one cosigner's master key.
pub fn derive_share(
    wallet_id: &str,
    wallet_seed: &[u8; 32],
    master_key: &[u8; 32],
) -> Zeroizing<[u8; 32]> {
    let cc = Zeroizing::new(wallet_chain_code(wallet_id, wallet_seed));
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(cc.as_slice())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(&[0u8]);
    mac.update(master_key);
    mac.update(&0x8000_0000u32.to_be_bytes());
    let i = Zeroizing::new(mac.finalize().into_bytes());
    // (M + I_L) mod n equals (M mod n + I_L mod n) mod n, so reducing each
    // 256-bit value first is the same integer arithmetic.
    let m = Zeroizing::new(<Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(
        *master_key,
    )));
    let mut il_bytes = Zeroizing::new(FieldBytes::default());
    il_bytes.copy_from_slice(&i[..32]);
    let il = Zeroizing::new(<Scalar as Reduce<FieldBytes>>::reduce(&il_bytes));
    let sum = Zeroizing::new(*m + *il);
    let d = Zeroizing::new(Into::<[u8; 32]>::into(sum.to_bytes()));
    let h: Zeroizing<WideBytes> = Zeroizing::new(Sha512::digest(d.as_slice()));
    let share = Zeroizing::new(<Scalar as Reduce<WideBytes>>::reduce(&h));
    Zeroizing::new(share.to_bytes().into())
}

/// Why a wallet id line was refused: what is wrong with the id itself
/// (spaces and tabs around it are trimmed, and blank lines skipped, before
/// it is checked). In JSON, `"reason"` is `"empty"` (an empty CSV cell),
/// `"uppercase"`, `"noHyphens"`, `"braces"`, `"wrongLength"` (with
/// `"length"`), `"notHex"` or `"misplacedHyphen"` (with `"at"`, the 1-based
/// character), `"missingField"`, `"unclosedQuote"` or `"repeats"` (with
/// `"firstLine"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum BadWalletId {
    /// The wallet id cell of a CSV row is empty.
    Empty,
    /// A UUID, but with uppercase hex digits.
    Uppercase,
    /// The 32 hex digits of a UUID without its hyphens.
    NoHyphens,
    /// A UUID in braces, `{…}`.
    Braces,
    /// Not 36 characters long.
    #[serde(rename_all = "camelCase")]
    WrongLength {
        /// Its length in characters.
        length: usize,
    },
    /// A character that should be a hex digit is not one.
    #[serde(rename_all = "camelCase")]
    NotHex {
        /// Which character (1-based).
        at: usize,
    },
    /// A character that should be a hyphen is not one.
    #[serde(rename_all = "camelCase")]
    MisplacedHyphen {
        /// Which character (1-based).
        at: usize,
    },
    /// A CSV row too short to have the wallet id column.
    MissingField,
    /// A CSV row with a quoted cell that is not closed.
    UnclosedQuote,
    /// The same id as an earlier line (which is kept).
    #[serde(rename_all = "camelCase")]
    Repeats {
        /// The earlier line.
        first_line: u64,
    },
}

impl std::fmt::Display for BadWalletId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadWalletId::Empty => f.write_str("empty wallet id"),
            BadWalletId::Uppercase => {
                f.write_str("uppercase wallet id (ids are lowercase; not corrected)")
            }
            BadWalletId::NoHyphens => f.write_str(
                "32 hex digits without hyphens (a wallet id is written 8-4-4-4-12; not corrected)",
            ),
            BadWalletId::Braces => f.write_str(
                "wallet id in braces (a wallet id is the bare 8-4-4-4-12 form; not corrected)",
            ),
            BadWalletId::WrongLength { length } => write!(
                f,
                "{length} characters long; a wallet id is 36 (8-4-4-4-12 hex digits)"
            ),
            BadWalletId::NotHex { at } => write!(f, "character {at} is not a hex digit"),
            BadWalletId::MisplacedHyphen { at } => write!(f, "character {at} should be a hyphen"),
            BadWalletId::MissingField => {
                f.write_str("the row is too short to have a cell in the wallet id column")
            }
            BadWalletId::UnclosedQuote => {
                f.write_str("a quoted cell is not closed (each CSV row must be on one line)")
            }
            BadWalletId::Repeats { first_line } => {
                write!(f, "repeats the wallet id on line {first_line}")
            }
        }
    }
}

/// A refused line of the wallet list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Why.
    #[serde(flatten)]
    pub reason: BadWalletId,
}

/// Checks that `id` is a canonical lowercase UUID string.
pub fn check_wallet_id(id: &str) -> Result<(), BadWalletId> {
    check_wallet_id_bytes(id.as_bytes())
}

/// Positions of the hyphens in a canonical UUID.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// [`check_wallet_id`] on raw bytes: a line that passes is ASCII, so the
/// batch checks lines before (and usually instead of) decoding them.
fn check_wallet_id_bytes(b: &[u8]) -> Result<(), BadWalletId> {
    if b.len() != UUID_LEN {
        return Err(wrong_shape(b));
    }
    // One pass: hyphens where they belong, hex digits elsewhere; uppercase
    // hex is noted (and refused) only once the shape is known to be right.
    let mut upper = false;
    for (i, &c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => match c {
                b'0'..=b'9' | b'a'..=b'f' => true,
                b'A'..=b'F' => {
                    upper = true;
                    true
                }
                _ => false,
            },
        };
        if !ok {
            // Counted in characters, as a person would count them.
            let at = String::from_utf8_lossy(&b[..i]).chars().count() + 1;
            return Err(if HYPHENS.contains(&i) {
                BadWalletId::MisplacedHyphen { at }
            } else {
                BadWalletId::NotHex { at }
            });
        }
    }
    if upper {
        return Err(BadWalletId::Uppercase);
    }
    Ok(())
}

/// What is wrong with an id that is not 36 bytes long.
fn wrong_shape(b: &[u8]) -> BadWalletId {
    if b.is_empty() {
        return BadWalletId::Empty;
    }
    if b.len() == 32 && b.iter().all(u8::is_ascii_hexdigit) {
        return BadWalletId::NoHyphens;
    }
    if let [b'{', inner @ .., b'}'] = b
        && matches!(
            check_wallet_id_bytes(inner),
            Ok(()) | Err(BadWalletId::Uppercase)
        )
    {
        return BadWalletId::Braces;
    }
    BadWalletId::WrongLength {
        length: String::from_utf8_lossy(b).chars().count(),
    }
}

/// The output file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum OutputFormat {
    /// The vendor tool's JSON object: `{W: {chaincode, shares: [...]}}`.
    #[default]
    VendorJson,
    /// One JSON object per line, same fields plus `walletId`.
    Jsonl,
    /// `walletId,cosignerId,chaincode,share` rows with a header.
    Csv,
}

impl OutputFormat {
    /// The format's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::VendorJson => "vendor-json",
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Csv => "csv",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        match name {
            "vendor-json" => Some(OutputFormat::VendorJson),
            "jsonl" => Some(OutputFormat::Jsonl),
            "csv" => Some(OutputFormat::Csv),
            _ => None,
        }
    }

    fn header(self) -> &'static [u8] {
        match self {
            OutputFormat::VendorJson => b"{\n",
            OutputFormat::Jsonl => b"",
            OutputFormat::Csv => b"walletId,cosignerId,chaincode,share\n",
        }
    }

    fn footer(self, any: bool) -> &'static [u8] {
        match (self, any) {
            (OutputFormat::VendorJson, true) => b"\n}\n",
            (OutputFormat::VendorJson, false) => b"}\n",
            _ => b"",
        }
    }
}

/// Where wallet ids come from.
#[derive(Debug, Clone)]
pub enum WalletSource {
    /// Ids given directly (command-line arguments, a pasted list).
    List(Vec<String>),
    /// A text file, one id per line (LF or CRLF line ends).
    File(PathBuf),
}

impl WalletSource {
    fn path(&self) -> PathBuf {
        match self {
            WalletSource::List(_) => PathBuf::from("<wallet list>"),
            WalletSource::File(p) => p.clone(),
        }
    }
}

/// Longest line kept whole: a wallet id is 36 bytes, so anything longer is
/// refused anyway, and a file with no line breaks must not fill memory.
const MAX_LINE: usize = 4096;

/// One line of the wallet list, without its LF or CRLF end.
struct Line<'a> {
    /// 1-based line number.
    number: u64,
    /// Its bytes (the first [`MAX_LINE`] of them when `cut`).
    bytes: &'a [u8],
    /// The line was longer than [`MAX_LINE`] bytes.
    cut: bool,
}

/// The UTF-8 byte-order mark some editors put at the start of a file.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// `b` without the spaces and tabs around it.
fn trim_blanks(b: &[u8]) -> &[u8] {
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    &b[start..end]
}

impl<'a> Line<'a> {
    /// The line without a byte-order mark (which only line 1 may start
    /// with).
    fn unmarked(&self) -> &'a [u8] {
        if self.number == 1 {
            self.bytes.strip_prefix(BOM).unwrap_or(self.bytes)
        } else {
            self.bytes
        }
    }

    /// The line without a byte-order mark and without the spaces and tabs
    /// around it, as the vendor's tool reads it.
    fn content(&self) -> &'a [u8] {
        let b = self.unmarked();
        match b {
            [b' ' | b'\t', ..] | [.., b' ' | b'\t'] => trim_blanks(b),
            _ => b,
        }
    }

    /// Fails the whole list if the line is not UTF-8 (a cut can split a
    /// character; that is not a decoding error).
    fn require_utf8(&self) -> Result<(), DrKitError> {
        match std::str::from_utf8(self.bytes) {
            Ok(_) => Ok(()),
            Err(e) if self.cut && e.error_len().is_none() => Ok(()),
            Err(_) => Err(DrKitError::WalletFileNotUtf8 { line: self.number }),
        }
    }

    /// The verdict on `id`, found on this line; a line that is not UTF-8
    /// fails the whole list.
    fn check(&self, id: &[u8]) -> Result<Result<(), BadWalletId>, DrKitError> {
        match check_wallet_id_bytes(id) {
            Ok(()) => Ok(Ok(())),
            Err(reason) => self.require_utf8().map(|()| Err(reason)),
        }
    }
}

/// How a wallet list is read, as its first non-blank line shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "shape", rename_all = "camelCase")]
pub enum ListShape {
    /// One wallet id per line.
    Ids,
    /// CSV with a header row: the ids are in one column, and every other
    /// column is carried to the output as a label.
    #[serde(rename_all = "camelCase")]
    Csv {
        /// The header row's line number.
        header_line: u64,
        /// The wallet id column's name, as the header writes it.
        column_name: String,
        /// The wallet id column (0-based).
        #[serde(skip)]
        column: usize,
        /// Every column's name, as the header writes it.
        #[serde(skip)]
        names: Vec<String>,
    },
}

impl ListShape {
    /// The label columns (every column but the wallet id's), in order.
    pub fn label_names(&self) -> Vec<&str> {
        match self {
            ListShape::Ids => Vec::new(),
            ListShape::Csv { column, names, .. } => names
                .iter()
                .enumerate()
                .filter(|(i, _)| i != column)
                .map(|(_, n)| n.as_str())
                .collect(),
        }
    }
}

/// How to read a wallet list.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// The CSV column holding the wallet ids (case ignored). Without it, a
    /// first line that is no wallet id but has commas is taken as a header
    /// row, and its column named like `walletId`, `wallet_id`, `wallet id`
    /// or else `id` (case ignored) holds the ids.
    pub column: Option<String>,
}

/// The cells of one CSV row (RFC 4180: comma-separated; a cell in double
/// quotes may hold commas, and `""` stands for a quote); `None` if a quote
/// is not closed. Unquoted cells are not trimmed.
fn csv_cells(row: &[u8]) -> Option<Vec<Cow<'_, [u8]>>> {
    let mut cells = Vec::new();
    let mut rest = row;
    loop {
        if let Some(body) = trim_blanks_start(rest).strip_prefix(b"\"") {
            let mut cell = Vec::new();
            let mut i = 0;
            loop {
                match body.get(i) {
                    None => return None,
                    Some(b'"') if body.get(i + 1) == Some(&b'"') => {
                        cell.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => break,
                    Some(&c) => {
                        cell.push(c);
                        i += 1;
                    }
                }
            }
            // Text between the closing quote and the next comma is kept,
            // as spreadsheets keep it.
            let after = &body[i + 1..];
            let end = memchr::memchr(b',', after);
            cell.extend_from_slice(trim_blanks(&after[..end.unwrap_or(after.len())]));
            cells.push(Cow::Owned(cell));
            match end {
                Some(e) => rest = &after[e + 1..],
                None => return Some(cells),
            }
        } else {
            match memchr::memchr(b',', rest) {
                Some(i) => {
                    cells.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + 1..];
                }
                None => {
                    cells.push(Cow::Borrowed(rest));
                    return Some(cells);
                }
            }
        }
    }
}

fn trim_blanks_start(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(b.len());
    &b[start..]
}

/// A header cell reduced for matching: lowercase, without `_`, `-` and spaces.
fn column_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Decides how the list is read from its first non-blank line.
fn decide_shape(line: &Line<'_>, options: &ListOptions) -> Result<ListShape, DrKitError> {
    let content = line.content();
    if options.column.is_none()
        && (check_wallet_id_bytes(content).is_ok() || memchr::memchr(b',', content).is_none())
    {
        return Ok(ListShape::Ids);
    }
    line.require_utf8()?;
    let names: Vec<String> = csv_cells(content)
        .unwrap_or_default()
        .iter()
        .map(|c| String::from_utf8_lossy(trim_blanks(c)).into_owned())
        .collect();
    let columns = names.join(", ");
    let column = match &options.column {
        Some(wanted) => names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(wanted.trim()))
            .ok_or_else(|| DrKitError::NoSuchColumn {
                name: wanted.clone(),
                columns: columns.clone(),
            })?,
        None => {
            let keys: Vec<String> = names.iter().map(|n| column_key(n)).collect();
            keys.iter()
                .position(|k| k == "walletid")
                .or_else(|| keys.iter().position(|k| k == "id"))
                .ok_or(DrKitError::NoWalletIdColumn { columns })?
        }
    };
    Ok(ListShape::Csv {
        header_line: line.number,
        column_name: names[column].clone(),
        column,
        names,
    })
}

/// What one line of the list holds.
enum Entry<'a> {
    /// Nothing but spaces and tabs (or nothing): skipped.
    Blank,
    /// The CSV header row.
    Header,
    /// A wallet id that passed the check; `trimmed` if spaces or tabs
    /// around it were removed. `cells` holds the CSV row's cells.
    Id {
        id: Cow<'a, [u8]>,
        trimmed: bool,
        cells: Option<Vec<Cow<'a, [u8]>>>,
    },
    /// A refused line.
    Bad(BadWalletId),
}

/// Reads lines of one list in order, deciding its shape on the first
/// non-blank line (or taking the shape an earlier pass decided).
struct ListReader<'o> {
    options: &'o ListOptions,
    shape: Option<ListShape>,
}

impl<'o> ListReader<'o> {
    fn new(options: &'o ListOptions, shape: Option<ListShape>) -> Self {
        ListReader { options, shape }
    }

    fn entry<'a>(&mut self, line: &Line<'a>) -> Result<Entry<'a>, DrKitError> {
        let content = line.content();
        if content.is_empty() {
            return Ok(Entry::Blank);
        }
        let shape = match &self.shape {
            Some(shape) => shape,
            None => {
                let shape = decide_shape(line, self.options)?;
                let header = matches!(shape, ListShape::Csv { .. });
                self.shape = Some(shape);
                if header {
                    return Ok(Entry::Header);
                }
                &ListShape::Ids
            }
        };
        match shape {
            ListShape::Ids => Ok(match line.check(content)? {
                Ok(()) => Entry::Id {
                    id: content.into(),
                    trimmed: content.len() != line.unmarked().len(),
                    cells: None,
                },
                Err(reason) => Entry::Bad(reason),
            }),
            ListShape::Csv {
                header_line,
                column,
                ..
            } => {
                if line.number == *header_line {
                    return Ok(Entry::Header);
                }
                line.require_utf8()?;
                let Some(cells) = csv_cells(content) else {
                    return Ok(Entry::Bad(BadWalletId::UnclosedQuote));
                };
                let Some(cell) = cells.get(*column) else {
                    return Ok(Entry::Bad(BadWalletId::MissingField));
                };
                let id = trim_blanks(cell);
                let trimmed = id.len() != cell.len();
                Ok(match line.check(id)? {
                    Ok(()) => Entry::Id {
                        id: id.to_vec().into(),
                        trimmed,
                        cells: Some(cells),
                    },
                    Err(reason) => Entry::Bad(reason),
                })
            }
        }
    }
}

/// The SHA-256 of a wallet list file's bytes as one pass read them (a list
/// given in memory cannot change, and has none).
type ListPrint = Option<[u8; 32]>;

/// Calls `f` with each line of the wallet list, in order, and returns the
/// SHA-256 of the bytes read, so that two passes can prove they read the
/// same list. Lines are found in large buffered reads and handed over
/// without copying, except those that straddle two reads.
fn for_each_line(
    source: &WalletSource,
    mut f: impl FnMut(Line<'_>) -> Result<(), DrKitError>,
) -> Result<ListPrint, DrKitError> {
    let path = match source {
        WalletSource::List(ids) => {
            // Each given id is one "line", checked as it is (an embedded line
            // break makes it non-canonical, never two ids).
            for (i, id) in ids.iter().enumerate() {
                f(Line {
                    number: i as u64 + 1,
                    bytes: id.as_bytes(),
                    cut: false,
                })?;
            }
            return Ok(None);
        }
        WalletSource::File(p) => p,
    };
    let io_error = |action: &'static str| {
        move |source: std::io::Error| DrKitError::Io {
            action,
            path: path.clone(),
            source,
        }
    };
    let file = File::open(path).map_err(io_error("opening"))?;
    let mut print = Sha256::new();
    split_lines(BufReader::with_capacity(1 << 20, file), &mut print, f).map_err(|e| match e {
        LinesError::Read(source) => io_error("reading")(source),
        LinesError::Stopped(e) => e,
    })?;
    Ok(Some(print.finalize().into()))
}

/// Why [`split_lines`] stopped.
enum LinesError {
    /// The reader failed.
    Read(std::io::Error),
    /// The callback refused a line.
    Stopped(DrKitError),
}

/// Splits what `reader` yields into LF- or CRLF-ended lines (the last one
/// may have no end) and hands each to `f`; lines longer than [`MAX_LINE`]
/// are cut there, and marked. Every byte read is also fed to `print`.
fn split_lines(
    mut reader: impl BufRead,
    print: &mut Sha256,
    mut f: impl FnMut(Line<'_>) -> Result<(), DrKitError>,
) -> Result<(), LinesError> {
    // The start of a line that the previous read ended inside.
    let mut carry: Vec<u8> = Vec::with_capacity(UUID_LEN + 2);
    let mut cut = false;
    let mut number = 0u64;
    let keep = |carry: &mut Vec<u8>, cut: &mut bool, bytes: &[u8]| {
        let room = MAX_LINE - carry.len();
        if bytes.len() > room {
            *cut = true;
        }
        carry.extend_from_slice(&bytes[..bytes.len().min(room)]);
    };
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LinesError::Read(e)),
        };
        if buf.is_empty() {
            break;
        }
        print.update(buf);
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', buf) {
            number += 1;
            let mut piece = &buf[start..nl];
            start = nl + 1;
            if carry.is_empty() && !cut {
                if piece.len() > MAX_LINE {
                    piece = &piece[..MAX_LINE];
                    cut = true;
                }
                if let [rest @ .., b'\r'] = piece
                    && !cut
                {
                    piece = rest;
                }
                f(Line {
                    number,
                    bytes: piece,
                    cut: std::mem::take(&mut cut),
                })
                .map_err(LinesError::Stopped)?;
            } else {
                keep(&mut carry, &mut cut, piece);
                if carry.last() == Some(&b'\r') && !cut {
                    carry.pop();
                }
                f(Line {
                    number,
                    bytes: &carry,
                    cut: std::mem::take(&mut cut),
                })
                .map_err(LinesError::Stopped)?;
                carry.clear();
            }
        }
        keep(&mut carry, &mut cut, &buf[start..]);
        let n = buf.len();
        reader.consume(n);
    }
    if !carry.is_empty() || cut {
        // A last line without a line break.
        f(Line {
            number: number + 1,
            bytes: &carry,
            cut,
        })
        .map_err(LinesError::Stopped)?;
    }
    Ok(())
}

/// Refused lines kept at most: a file with more is not a wallet list.
pub const MAX_BAD_LINES: usize = 1_000_000;

/// A wallet list whose every line has been checked, and what was found.
/// Deriving takes one of these, so a list is always checked as a whole
/// before a key is touched or an output file is created, and the derive
/// pass proves it read the same bytes.
#[derive(Debug, Clone)]
pub struct CheckedWallets {
    source: WalletSource,
    options: ListOptions,
    shape: ListShape,
    valid: u64,
    blank: u64,
    trimmed: u64,
    bad: Vec<BadLine>,
    print: ListPrint,
}

/// Notes a refused line, unless there are already too many.
fn refuse(bad: &mut Vec<BadLine>, line: u64, reason: BadWalletId) -> Result<(), DrKitError> {
    if bad.len() >= MAX_BAD_LINES {
        return Err(DrKitError::TooManyBadLines {
            limit: MAX_BAD_LINES,
        });
    }
    bad.push(BadLine { line, reason });
    Ok(())
}

impl CheckedWallets {
    /// Reads and checks every line of `source` without deriving anything
    /// (see [`CheckedWallets::check_with`]), with the default options.
    pub fn check(source: WalletSource) -> Result<CheckedWallets, DrKitError> {
        Self::check_with(source, &ListOptions::default())
    }

    /// Reads and checks every line of `source` without deriving anything:
    /// blank lines are skipped and spaces and tabs around an id trimmed
    /// (both counted), a CSV header row is recognised (see
    /// [`ListOptions`]), and each id must be canonical and must not repeat
    /// an earlier line's (see [`repeats`]; the list is read a second time
    /// only if the filter flagged a line).
    pub fn check_with(
        source: WalletSource,
        options: &ListOptions,
    ) -> Result<CheckedWallets, DrKitError> {
        Self::check_reading(source, options, |s, f| for_each_line(s, f))
    }

    /// [`CheckedWallets::check_with`] with the list read by `read` (each
    /// call one whole pass, as [`for_each_line`] does), so a test can change
    /// the list between passes.
    fn check_reading(
        source: WalletSource,
        options: &ListOptions,
        mut read: impl FnMut(
            &WalletSource,
            &mut dyn FnMut(Line<'_>) -> Result<(), DrKitError>,
        ) -> Result<ListPrint, DrKitError>,
    ) -> Result<CheckedWallets, DrKitError> {
        let expected = match &source {
            WalletSource::List(ids) => ids.len() as u64,
            WalletSource::File(p) => std::fs::metadata(p).map_or(0, |m| m.len() / 37),
        };
        let mut seen = SeenFilter::with_expected(expected);
        let mut candidates = Candidates::default();
        let mut overflow = false;
        let mut pending: Vec<WalletKey> = Vec::with_capacity(256);
        let mut record = |pending: &mut Vec<WalletKey>| {
            seen.insert_all(pending, |id| overflow |= !candidates.add(id));
            pending.clear();
        };
        let (mut valid, mut blank, mut trimmed) = (0u64, 0u64, 0u64);
        let mut bad = Vec::new();
        let mut reader = ListReader::new(options, None);
        let print = read(&source, &mut |line| {
            match reader.entry(&line)? {
                Entry::Blank => blank += 1,
                Entry::Header => {}
                Entry::Id { id, trimmed: t, .. } => {
                    valid += 1;
                    trimmed += u64::from(t);
                    pending.push(key_of(&id));
                    if pending.len() == pending.capacity() {
                        record(&mut pending);
                    }
                }
                Entry::Bad(reason) => refuse(&mut bad, line.number, reason)?,
            }
            Ok(())
        })?;
        record(&mut pending);
        let shape = reader.shape.unwrap_or(ListShape::Ids);
        if overflow {
            return Err(DrKitError::TooManyWalletIdsToCheck {
                limit: repeats::MAX_CANDIDATES,
            });
        }
        if !candidates.is_empty() {
            let mut repeated = 0u64;
            let mut reader = ListReader::new(options, Some(shape.clone()));
            let again = read(&source, &mut |line| {
                if let Entry::Id { id, .. } = reader.entry(&line)?
                    && let Some(first_line) = candidates.confirm(line.number, &key_of(&id))
                {
                    repeated += 1;
                    refuse(&mut bad, line.number, BadWalletId::Repeats { first_line })?;
                }
                Ok(())
            })?;
            if again != print {
                return Err(DrKitError::WalletListChanged(source.path()));
            }
            valid = valid.saturating_sub(repeated);
            bad.sort_by_key(|b| b.line);
        }
        Ok(CheckedWallets {
            source,
            options: options.clone(),
            shape,
            valid,
            blank,
            trimmed,
            bad,
            print,
        })
    }

    /// Where the ids come from.
    pub fn source(&self) -> &WalletSource {
        &self.source
    }

    /// How the list was read: one id per line, or CSV with a header row.
    pub fn shape(&self) -> &ListShape {
        &self.shape
    }

    /// Valid ids, each counted once.
    pub fn valid(&self) -> u64 {
        self.valid
    }

    /// Blank lines (empty, or only spaces and tabs), skipped.
    pub fn blank_lines(&self) -> u64 {
        self.blank
    }

    /// Valid ids that had spaces or tabs around them, trimmed.
    pub fn trimmed_lines(&self) -> u64 {
        self.trimmed
    }

    /// Refused lines, in line order.
    pub fn bad(&self) -> &[BadLine] {
        &self.bad
    }

    /// Refuses the list if it has bad lines, unless they are to be skipped,
    /// or if no valid id is left.
    pub fn require_usable(&self, skip_invalid: bool) -> Result<(), DrKitError> {
        if !self.bad.is_empty() && !skip_invalid {
            return Err(DrKitError::InvalidWalletIds(self.bad.clone()));
        }
        if self.valid == 0 {
            return Err(DrKitError::NoWallets);
        }
        Ok(())
    }
}

/// Options for [`derive_to_file`].
#[derive(Debug, Clone, Default)]
pub struct DeriveOptions {
    /// Output format.
    pub format: OutputFormat,
    /// Leave bad lines out (listing them) instead of failing.
    pub skip_invalid: bool,
    /// Worker threads (default: every core).
    pub threads: Option<usize>,
}

/// What a batch derivation did. Public facts only.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeriveSummary {
    /// The output file.
    pub out: PathBuf,
    /// Its SHA-256.
    pub out_sha256: String,
    /// Its format.
    pub format: &'static str,
    /// Wallets derived.
    pub wallets: u64,
    /// Shares derived (wallets × cloud cosigners).
    pub shares: u64,
    /// The cloud cosigners shares were derived for.
    pub cosigners: Vec<String>,
    /// Lines left out under `skip_invalid`.
    pub skipped: Vec<BadLine>,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Ids read with spaces or tabs around them, trimmed.
    pub trimmed_lines: u64,
    /// How the list was read (`{"shape": "ids"}`, or `{"shape": "csv",
    /// "headerLine": 1, "columnName": "walletId"}`).
    pub list: ListShape,
    /// The CSV columns carried to the output as labels, in order.
    pub labels: Vec<String>,
}

impl DeriveSummary {
    /// How the list was read, when there is more to say than "one id per
    /// line": a CSV header and its labels, blank lines skipped, ids trimmed.
    pub fn list_notes(&self) -> Vec<String> {
        use crate::text::count;
        let mut notes = Vec::new();
        if let ListShape::Csv {
            header_line,
            column_name,
            ..
        } = &self.list
        {
            let mut note = format!(
                "read as CSV: header row on line {header_line}, wallet ids in column {column_name}"
            );
            if !self.labels.is_empty() {
                note.push_str(&format!("; labels carried: {}", self.labels.join(", ")));
            }
            notes.push(note);
        }
        if self.blank_lines > 0 || self.trimmed_lines > 0 {
            notes.push(format!(
                "skipped {}; trimmed spaces or tabs around {}",
                count(self.blank_lines, "blank line", "blank lines"),
                count(self.trimmed_lines, "wallet id", "wallet ids")
            ));
        }
        notes
    }

    /// "1,000,000 shares for 1,000,000 wallets and 1 cloud cosigner".
    pub fn counts(&self) -> String {
        use crate::text::count;
        format!(
            "{} for {} and {}",
            count(self.shares, "share", "shares"),
            count(self.wallets, "wallet", "wallets"),
            count(
                self.cosigners.len() as u64,
                "cloud cosigner",
                "cloud cosigners"
            )
        )
    }
}

/// The derivation inputs for one kit: the master key's seeds and each
/// cloud cosigner's decrypted master key.
pub struct Deriver<'a> {
    /// The master key's walletSeed.
    pub wallet_seed: [u8; 32],
    /// The master key's assetSeed.
    pub asset_seed: [u8; 32],
    /// One decrypted master key per cloud cosigner.
    pub master_keys: &'a [DecryptedMasterKey],
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0xf) as usize]);
    }
}

/// Appends `text` as a JSON string.
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    // Serialising a str cannot fail.
    out.extend_from_slice(serde_json::to_string(text).unwrap_or_default().as_bytes());
}

/// Appends `text` as a CSV cell, quoted when it holds a comma, a quote, a
/// line break or surrounding spaces.
fn push_csv_cell(out: &mut Vec<u8>, text: &str) {
    let plain = !text.contains([',', '"', '\n', '\r']) && text.trim() == text;
    if plain {
        out.extend_from_slice(text.as_bytes());
    } else {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    }
}

/// Records rendered by one task of the pool, in input order.
type Pieces = Vec<Zeroizing<Vec<u8>>>;

/// The output's buffers once read back ([`NewFileWriter::spares`]), for
/// the pool to fill again: a run allocates a few dozen buffers instead of
/// one per piece, and each is wiped once, when dropped, instead of after
/// every piece.
struct Spares(Option<Mutex<Receiver<Zeroizing<Vec<u8>>>>>);

impl Spares {
    /// An empty buffer: a spare when one is back, else a new one.
    fn take(&self) -> Zeroizing<Vec<u8>> {
        self.0
            .as_ref()
            .and_then(|r| r.lock().ok()?.try_recv().ok())
            .unwrap_or_default()
    }
}

impl Deriver<'_> {
    /// Appends one wallet's record in `format` to `out` (a leading
    /// separator is the caller's business).
    pub fn write_record(&self, wallet_id: &str, format: OutputFormat, out: &mut Vec<u8>) {
        self.write_labelled_record(wallet_id, &[], format, out);
    }

    /// [`Deriver::write_record`] with labels (column name, value) carried
    /// from a CSV list: in JSON a `"labels"` object after `"shares"`, in
    /// CSV extra cells after `share` (the header names them).
    pub fn write_labelled_record(
        &self,
        wallet_id: &str,
        labels: &[(&str, &str)],
        format: OutputFormat,
        out: &mut Vec<u8>,
    ) {
        let chain = asset_chain_code(wallet_id, &self.asset_seed);
        let w = wallet_id.as_bytes();
        match format {
            OutputFormat::VendorJson | OutputFormat::Jsonl => {
                if format == OutputFormat::VendorJson {
                    out.extend_from_slice(b"  \"");
                    out.extend_from_slice(w);
                    out.extend_from_slice(b"\": {\"chaincode\": \"");
                } else {
                    out.extend_from_slice(b"{\"walletId\": \"");
                    out.extend_from_slice(w);
                    out.extend_from_slice(b"\", \"chaincode\": \"");
                }
                push_hex(out, &chain);
                out.extend_from_slice(b"\", \"shares\": [");
                for (i, mk) in self.master_keys.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(b", ");
                    }
                    let share = derive_share(wallet_id, &self.wallet_seed, &mk.key);
                    out.extend_from_slice(b"{\"cosigner\": \"");
                    out.extend_from_slice(mk.cosigner_id.as_bytes());
                    out.extend_from_slice(b"\", \"");
                    out.extend_from_slice(SHARE_FIELD.as_bytes());
                    out.extend_from_slice(b"\": \"");
                    push_hex(out, share.as_slice());
                    out.extend_from_slice(b"\"}");
                }
                out.push(b']');
                if !labels.is_empty() {
                    out.extend_from_slice(b", \"labels\": {");
                    for (i, (name, value)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.extend_from_slice(b", ");
                        }
                        push_json_string(out, name);
                        out.extend_from_slice(b": ");
                        push_json_string(out, value);
                    }
                    out.push(b'}');
                }
                out.push(b'}');
                if format == OutputFormat::Jsonl {
                    out.push(b'\n');
                }
            }
            OutputFormat::Csv => {
                for mk in self.master_keys {
                    let share = derive_share(wallet_id, &self.wallet_seed, &mk.key);
                    out.extend_from_slice(w);
                    out.push(b',');
                    out.extend_from_slice(mk.cosigner_id.as_bytes());
                    out.push(b',');
                    push_hex(out, &chain);
                    out.push(b',');
                    push_hex(out, share.as_slice());
                    for (_, value) in labels {
                        out.push(b',');
                        push_csv_cell(out, value);
                    }
                    out.push(b'\n');
                }
            }
        }
    }

    /// Renders a chunk of ids on the current pool, as pieces to be written
    /// in order; `first` when the chunk starts the file.
    fn derive_chunk(
        &self,
        chunk: &IdChunk,
        label_names: &[&str],
        format: OutputFormat,
        first: bool,
        spares: &Spares,
    ) -> Pieces {
        const PIECE: usize = 512;
        chunk
            .ids
            .par_chunks(PIECE)
            .enumerate()
            .map(|(p, piece)| {
                let mut out = spares.take();
                out.reserve(piece.len() * self.record_len());
                let mut labels: Vec<(&str, &str)> = Vec::with_capacity(label_names.len());
                for (i, id) in piece.iter().enumerate() {
                    if format == OutputFormat::VendorJson && !(first && p == 0 && i == 0) {
                        out.extend_from_slice(b",\n");
                    }
                    // Checked canonical (so ASCII) before it was queued.
                    let id = std::str::from_utf8(id).unwrap_or_default();
                    labels.clear();
                    if let Some(values) = chunk.labels.get(p * PIECE + i) {
                        labels.extend(
                            label_names
                                .iter()
                                .copied()
                                .zip(values.iter().map(String::as_str)),
                        );
                    }
                    self.write_labelled_record(id, &labels, format, &mut out);
                }
                out
            })
            .collect()
    }

    /// About how many bytes a run over `wallets` writes (a generous
    /// estimate, for the free-space check before it starts).
    pub fn estimated_output(&self, wallets: u64) -> u64 {
        wallets.saturating_mul(self.record_len() as u64)
    }

    /// A generous size for one record, so a piece's buffer never regrows.
    fn record_len(&self) -> usize {
        let per_cosigner: usize = self
            .master_keys
            .iter()
            .map(|m| m.cosigner_id.len() + 256)
            .sum();
        256 + per_cosigner
    }
}

/// The label values of one CSV row: every cell but the wallet id's, in
/// column order (a short row's missing cells are empty).
fn row_labels(shape: &ListShape, cells: &[Cow<'_, [u8]>]) -> Vec<String> {
    let ListShape::Csv { column, names, .. } = shape else {
        return Vec::new();
    };
    (0..names.len())
        .filter(|i| i != column)
        .map(|i| {
            cells
                .get(i)
                .map(|c| String::from_utf8_lossy(trim_blanks(c)).into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// A chunk of checked ids on their way to the pool, with each id's label
/// values when the list is CSV (else `labels` is empty).
#[derive(Default)]
struct IdChunk {
    ids: Vec<[u8; UUID_LEN]>,
    labels: Vec<Vec<String>>,
}

/// Progress of a batch: `done` of `total` wallets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeriveProgress {
    /// Wallets derived so far.
    pub done: u64,
    /// Wallets to derive.
    pub total: u64,
}

/// Checks the whole of `source`, then derives every valid wallet into a new
/// file `out` (see [`derive_checked`]).
pub fn derive_to_file(
    deriver: &Deriver<'_>,
    source: &WalletSource,
    out: &Path,
    options: &DeriveOptions,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Result<DeriveSummary, DrKitError> {
    let wallets = CheckedWallets::check(source.clone())?;
    derive_checked(deriver, &wallets, out, options, progress)
}

/// Derives every valid wallet of a checked list and writes them to a new
/// file `out`.
///
/// Unless `skip_invalid`, a list with bad lines fails before the output file
/// is created. The output appears only when complete and read back (see
/// [`NewFileWriter`]); if the list changed since it was checked, the run
/// fails and leaves nothing behind.
pub fn derive_checked(
    deriver: &Deriver<'_>,
    wallets: &CheckedWallets,
    out: &Path,
    options: &DeriveOptions,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Result<DeriveSummary, DrKitError> {
    if deriver.master_keys.is_empty() {
        return Err(DrKitError::NoMasterKey);
    }
    wallets.require_usable(options.skip_invalid)?;
    progress(DeriveProgress {
        done: 0,
        total: wallets.valid,
    });
    let writer = NewFileWriter::create(out)?;
    let (done, writer) = derive_stream(deriver, wallets, writer, options, progress)?;
    let out_sha256 = writer.finish()?;
    Ok(summary(deriver, wallets, out, options, done, out_sha256))
}

/// What a finished run reports.
pub fn summary(
    deriver: &Deriver<'_>,
    wallets: &CheckedWallets,
    out: &Path,
    options: &DeriveOptions,
    done: u64,
    out_sha256: String,
) -> DeriveSummary {
    DeriveSummary {
        out: out.to_path_buf(),
        out_sha256,
        format: options.format.name(),
        wallets: done,
        shares: done * deriver.master_keys.len() as u64,
        cosigners: deriver
            .master_keys
            .iter()
            .map(|m| m.cosigner_id.clone())
            .collect(),
        skipped: wallets.bad.clone(),
        blank_lines: wallets.blank,
        trimmed_lines: wallets.trimmed,
        list: wallets.shape.clone(),
        labels: wallets
            .shape
            .label_names()
            .iter()
            .map(|n| n.to_string())
            .collect(),
    }
}

/// Derives every valid wallet of a checked list into `writer` (a new file
/// not yet published) and returns the number of wallets written with the
/// writer, ready to finish: [`derive_checked`] publishes it on its own, an
/// audited run through its transaction.
pub fn derive_stream(
    deriver: &Deriver<'_>,
    wallets: &CheckedWallets,
    mut writer: NewFileWriter,
    options: &DeriveOptions,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Result<(u64, NewFileWriter), DrKitError> {
    if deriver.master_keys.is_empty() {
        return Err(DrKitError::NoMasterKey);
    }
    wallets.require_usable(options.skip_invalid)?;
    let total = wallets.valid;
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = options.threads {
        builder = builder.num_threads(n.max(1));
    }
    let pool = builder
        .build()
        .map_err(|e| DrKitError::Encode(format!("thread pool: {e}")))?;

    let label_names = wallets.shape.label_names();
    if options.format == OutputFormat::Csv && !label_names.is_empty() {
        // The CSV header names the label cells after `share`.
        let mut header = b"walletId,cosignerId,chaincode,share".to_vec();
        for name in &label_names {
            header.push(b',');
            push_csv_cell(&mut header, name);
        }
        header.push(b'\n');
        writer.write_all(&header)?;
    } else {
        writer.write_all(options.format.header())?;
    }
    let format = options.format;
    let label_names = &label_names;
    let spares = Spares(writer.spares().map(Mutex::new));
    let spares = &spares;
    let (done, writer) = std::thread::scope(|scope| {
        // Reader → (chunks of ids) → this thread and the pool → (pieces) →
        // writer. The bounded channels keep memory constant.
        let (ids_tx, ids_rx) = sync_channel::<IdChunk>(2);
        let reader = scope.spawn(move || -> Result<(), DrKitError> {
            let new_chunk = || IdChunk {
                ids: Vec::with_capacity(CHUNK),
                labels: Vec::new(),
            };
            let mut chunk = new_chunk();
            let mut list = ListReader::new(&wallets.options, Some(wallets.shape.clone()));
            let csv = matches!(wallets.shape, ListShape::Csv { .. });
            let mut stopped = false;
            // Repeated ids (skipped under skip_invalid), in line order.
            let mut repeats = wallets
                .bad
                .iter()
                .filter(|b| matches!(b.reason, BadWalletId::Repeats { .. }))
                .map(|b| b.line)
                .peekable();
            let read = for_each_line(&wallets.source, |line| {
                if repeats.next_if_eq(&line.number).is_some() {
                    return Ok(());
                }
                if !csv {
                    // The common case, kept lean: one id per line.
                    if let Ok(id) = <[u8; UUID_LEN]>::try_from(line.content())
                        && check_wallet_id_bytes(&id).is_ok()
                    {
                        chunk.ids.push(id);
                    }
                } else if let Entry::Id {
                    id,
                    cells: Some(cells),
                    ..
                } = list.entry(&line)?
                    && let Ok(id) = <[u8; UUID_LEN]>::try_from(&*id)
                {
                    chunk.ids.push(id);
                    chunk.labels.push(row_labels(&wallets.shape, &cells));
                }
                if chunk.ids.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, new_chunk());
                    if ids_tx.send(full).is_err() {
                        // The writer failed; its error is the one reported.
                        stopped = true;
                        return Err(DrKitError::Encode("derivation stopped".into()));
                    }
                }
                Ok(())
            })
            .map(Some)
            .or_else(|e| if stopped { Ok(None) } else { Err(e) })?;
            if !chunk.ids.is_empty() {
                let _ = ids_tx.send(chunk);
            }
            // The same count of ids is not enough: the same bytes were read.
            if read.is_some_and(|print| print != wallets.print) {
                return Err(DrKitError::WalletListChanged(wallets.source.path()));
            }
            Ok(())
        });
        let (pieces_tx, pieces_rx) = sync_channel::<Pieces>(2);
        // The writer's I/O steps count as this thread's in fault tests.
        let faults = crate::fsutil::fault::Inherit::current();
        let writer_thread = scope.spawn(move || -> Result<NewFileWriter, DrKitError> {
            faults.enter();
            for pieces in pieces_rx {
                for piece in pieces {
                    writer.write_owned(piece)?;
                }
            }
            Ok(writer)
        });
        let mut done = 0u64;
        for chunk in ids_rx {
            let pieces = pool
                .install(|| deriver.derive_chunk(&chunk, label_names, format, done == 0, spares));
            if pieces_tx.send(pieces).is_err() {
                break;
            }
            done += chunk.ids.len() as u64;
            progress(DeriveProgress { done, total });
        }
        drop(pieces_tx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(DrKitError::Encode("the wallet reader panicked".into())));
        let written = writer_thread
            .join()
            .unwrap_or_else(|_| Err(DrKitError::Encode("the output writer panicked".into())));
        // A writer error explains a stopped reader better than the reader does.
        let writer = written?;
        read?;
        Ok::<_, DrKitError>((done, writer))
    })?;
    let mut writer = writer;
    if done != total {
        // A list in memory cannot change, and a file that did was caught
        // by its fingerprint; this is the last line of defence.
        return Err(DrKitError::WalletListChanged(wallets.source.path()));
    }
    writer.write_all(options.format.footer(done > 0))?;
    Ok((done, writer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    #[test]
    fn published_vector() {
        let share = derive_share(
            "2d33e419-4c84-44b1-9d9a-3598f96642b0",
            &h32("3c590f865cdf272d9e0490f5918b1a5e4904b07e7c0beccf40ad33d82ba26102"),
            &h32("0de5a6cf9a4b2f6ba69a7f8348b9fb54df48d5af176c2564d9349425a7efe31c"),
        );
        assert_eq!(
            hex::encode(share.as_slice()),
            "f357ec43a3aba03aeccd4727db2ab43afb472b12fe690c2266dbf8e9294ad25d"
        );
    }

    #[test]
    fn wallet_ids_are_checked_not_fixed() {
        assert_eq!(
            check_wallet_id("2d33e419-4c84-44b1-9d9a-3598f96642b0"),
            Ok(())
        );
        assert_eq!(check_wallet_id(""), Err(BadWalletId::Empty));
        assert_eq!(
            check_wallet_id("2D33E419-4C84-44B1-9D9A-3598F96642B0"),
            Err(BadWalletId::Uppercase)
        );
        for (bad, why) in [
            (
                " 2d33e419-4c84-44b1-9d9a-3598f96642b0",
                BadWalletId::WrongLength { length: 37 },
            ),
            ("2d33e4194c8444b19d9a3598f96642b0", BadWalletId::NoHyphens),
            (
                "{2d33e419-4c84-44b1-9d9a-3598f96642b0}",
                BadWalletId::Braces,
            ),
            (
                "2d33e419-4c84-44b1-9d9a-3598f96642bg",
                BadWalletId::NotHex { at: 36 },
            ),
            (
                "2d33e419-4c84-44b1-9d9a_3598f96642b0",
                BadWalletId::MisplacedHyphen { at: 24 },
            ),
            (
                "é2d33e419-4c84-44b1-9d9a-3598f96642",
                BadWalletId::NotHex { at: 1 },
            ),
        ] {
            assert_eq!(check_wallet_id(bad), Err(why), "{bad}");
        }
    }

    /// What `split_lines` should yield: (line bytes, cut) for each line.
    fn reference_lines(data: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        let ended = data.last() == Some(&b'\n') || data.is_empty();
        if ended {
            lines.pop();
        }
        let count = lines.len();
        lines
            .into_iter()
            .enumerate()
            .map(|(i, mut l)| {
                let has_lf = i + 1 < count || ended;
                if l.len() > MAX_LINE {
                    return (l[..MAX_LINE].to_vec(), true);
                }
                if has_lf && l.last() == Some(&b'\r') {
                    l = &l[..l.len() - 1];
                }
                (l.to_vec(), false)
            })
            .collect()
    }

    fn split_with(data: &[u8], capacity: usize) -> Vec<(Vec<u8>, bool)> {
        let mut got = Vec::new();
        let mut next = 1u64;
        let reader = BufReader::with_capacity(capacity, data);
        let mut print = Sha256::new();
        let r = split_lines(reader, &mut print, |line| {
            assert_eq!(line.number, next, "lines are numbered in order");
            next += 1;
            got.push((line.bytes.to_vec(), line.cut));
            Ok(())
        });
        assert!(r.is_ok());
        assert_eq!(print.finalize().as_slice(), Sha256::digest(data).as_slice());
        got
    }

    #[test]
    fn lines_that_straddle_reads_are_joined() {
        let id = "2d33e419-4c84-44b1-9d9a-3598f96642b0";
        let long = "x".repeat(MAX_LINE + 10);
        let data = format!("{id}\r\n\n{id}\n{long}\n\r\n{id}\r");
        // Every read size from one byte up puts a read boundary at every
        // offset, including between a CR and its LF.
        for capacity in 1..=data.len() + 1 {
            assert_eq!(
                split_with(data.as_bytes(), capacity),
                reference_lines(data.as_bytes()),
                "read size {capacity}"
            );
        }
        let got = split_with(data.as_bytes(), 8);
        assert_eq!(
            got[0],
            (id.as_bytes().to_vec(), false),
            "CRLF is a line end"
        );
        assert_eq!(got[1], (Vec::new(), false), "an empty line is a line");
        assert_eq!(
            got[3].0.len(),
            MAX_LINE,
            "a long line is cut, not held whole"
        );
        assert!(got[3].1);
        assert_eq!(
            got[5],
            (format!("{id}\r").into_bytes(), false),
            "a CR without LF is part of the line"
        );
    }

    #[test]
    fn a_cut_line_is_refused_as_not_canonical_even_inside_a_character() {
        // "é" is two bytes; put its first byte exactly at the cut.
        let mut data = vec![b'a'; MAX_LINE - 1];
        data.extend_from_slice("é and more".as_bytes());
        data.push(b'\n');
        let mut verdicts = Vec::new();
        split_lines(
            BufReader::with_capacity(100, &data[..]),
            &mut Sha256::new(),
            |line| {
                verdicts.push(line.check(line.bytes).map_err(|e| e.to_string()));
                Ok(())
            },
        )
        .ok();
        assert_eq!(
            verdicts,
            vec![Ok(Err(BadWalletId::WrongLength { length: MAX_LINE }))]
        );

        // A bad byte that is really there is reported with its line.
        let mut verdicts = Vec::new();
        split_lines(
            &b"2d33e419-4c84-44b1-9d9a-3598f96642b0\n\xff\xfe\n"[..],
            &mut Sha256::new(),
            |line| {
                verdicts.push(line.check(line.bytes).map_err(|e| e.to_string()));
                Ok(())
            },
        )
        .ok();
        assert_eq!(verdicts[0], Ok(Ok(())));
        assert_eq!(
            verdicts[1],
            Err(DrKitError::WalletFileNotUtf8 { line: 2 }.to_string())
        );
    }

    proptest::proptest! {
        #[test]
        fn splitting_matches_the_reference_for_any_bytes_and_read_size(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"\n".to_vec()),
                    proptest::strategy::Just(b"\r\n".to_vec()),
                    proptest::strategy::Just(b"\r".to_vec()),
                    proptest::strategy::Just(b"2d33e419-4c84-44b1-9d9a-3598f96642b0".to_vec()),
                    proptest::strategy::Just(vec![b'y'; MAX_LINE - 3]),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
                ],
                0..24,
            ),
            capacity in 1usize..200,
        ) {
            let data: Vec<u8> = parts.concat();
            proptest::prop_assert_eq!(split_with(&data, capacity), reference_lines(&data));
        }
    }

    #[test]
    fn refused_lines_serialise_flat() {
        let lines = [
            BadLine {
                line: 3,
                reason: BadWalletId::Empty,
            },
            BadLine {
                line: 4,
                reason: BadWalletId::NotHex { at: 3 },
            },
            BadLine {
                line: 6,
                reason: BadWalletId::Repeats { first_line: 1 },
            },
        ];
        assert_eq!(
            serde_json::to_string(&lines).unwrap(),
            r#"[{"line":3,"reason":"empty"},{"line":4,"reason":"notHex","at":3},{"line":6,"reason":"repeats","firstLine":1}]"#
        );
    }

    #[test]
    fn repeated_ids_are_refused_with_the_line_they_repeat() {
        let mut ids: Vec<String> = (0..50_000u32)
            .map(|i| {
                let spread = u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
                crate::drkit::kit::uuid_text(spread)
            })
            .collect();
        // Lines 50,001-50,003 repeat lines 1, 777 and 50,000; one more
        // repeat of line 1, after a bad line.
        ids.push(ids[0].clone());
        ids.push(ids[776].clone());
        ids.push(ids[49_999].clone());
        ids.push("not an id".into());
        ids.push(ids[0].clone());
        let checked = CheckedWallets::check(WalletSource::List(ids)).unwrap();
        assert_eq!(checked.valid, 50_000);
        let repeat = |line, first_line| BadLine {
            line,
            reason: BadWalletId::Repeats { first_line },
        };
        assert_eq!(
            checked.bad,
            [
                repeat(50_001, 1),
                repeat(50_002, 777),
                repeat(50_003, 50_000),
                BadLine {
                    line: 50_004,
                    reason: BadWalletId::WrongLength { length: 9 }
                },
                repeat(50_005, 1),
            ]
        );
        assert!(matches!(
            checked.require_usable(false),
            Err(DrKitError::InvalidWalletIds(_))
        ));
        assert!(checked.require_usable(true).is_ok());
    }

    const A: &str = "2d33e419-4c84-44b1-9d9a-3598f96642b0";
    const B: &str = "0d8f6b1e-3c2a-4f5e-9b7d-1a2b3c4d5e6f";
    const C: &str = "69c4e0de-3b9b-4c55-a5e7-2f8c1d5b0a11";

    fn checked_file(bytes: &[u8]) -> CheckedWallets {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("wallets.txt");
        std::fs::write(&list, bytes).unwrap();
        CheckedWallets::check(WalletSource::File(list)).unwrap()
    }

    /// Lists as people have them: a BOM, CRLF, spaces and tabs around ids,
    /// blank lines (also whitespace-only ones) — all accepted, the ids
    /// themselves unchanged.
    #[test]
    fn lists_with_a_bom_crlf_surrounding_blanks_and_blank_lines_are_read() {
        let text = format!("\u{feff}{A}\r\n  {B}  \r\n\r\n\t{C}\t\n \t \n\n");
        let checked = checked_file(text.as_bytes());
        assert_eq!(checked.bad(), []);
        assert_eq!(checked.valid(), 3);
        assert_eq!((checked.trimmed_lines(), checked.blank_lines()), (2, 3));
    }

    /// The id itself is still never fixed, and the reason names what is
    /// wrong with the id.
    #[test]
    fn bad_ids_are_refused_with_what_is_wrong_with_them() {
        let reason = |line: &str| {
            let checked = CheckedWallets::check(WalletSource::List(vec![line.into()])).unwrap();
            checked.bad()[0].reason.to_string()
        };
        assert_eq!(
            reason(&format!("  {}  ", A.to_uppercase())),
            "uppercase wallet id (ids are lowercase; not corrected)"
        );
        assert_eq!(
            reason("2d33e4194c8444b19d9a3598f96642b0"),
            "32 hex digits without hyphens (a wallet id is written 8-4-4-4-12; not corrected)"
        );
        assert_eq!(
            reason(&format!("{{{A}}}")),
            "wallet id in braces (a wallet id is the bare 8-4-4-4-12 form; not corrected)"
        );
        assert_eq!(
            reason("2d33e419-4c84-44b1-9d9a-3598f96642bg"),
            "character 36 is not a hex digit"
        );
        assert_eq!(
            reason("2d33e419-4c84-44b1-9d9a_3598f96642b0"),
            "character 24 should be a hyphen"
        );
        assert_eq!(
            reason("2d33e419-4c84"),
            "13 characters long; a wallet id is 36 (8-4-4-4-12 hex digits)"
        );
        assert_eq!(
            reason(&format!("{A} {B}")),
            "73 characters long; a wallet id is 36 (8-4-4-4-12 hex digits)"
        );
    }

    fn derive_text(
        text: &str,
        column: Option<&str>,
        format: OutputFormat,
    ) -> Result<(CheckedWallets, String), DrKitError> {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("wallets.csv");
        std::fs::write(&list, text).unwrap();
        let checked = CheckedWallets::check_with(
            WalletSource::File(list),
            &ListOptions {
                column: column.map(str::to_string),
            },
        )?;
        let keys = test_deriver_keys();
        let deriver = Deriver {
            wallet_seed: [1; 32],
            asset_seed: [2; 32],
            master_keys: &keys,
        };
        let out = dir.path().join("out");
        let options = DeriveOptions {
            format,
            ..DeriveOptions::default()
        };
        derive_checked(&deriver, &checked, &out, &options, &mut |_| {})?;
        Ok((checked, std::fs::read_to_string(&out).unwrap()))
    }

    #[test]
    fn a_csv_with_a_header_row_is_read_by_its_wallet_id_column() {
        let text = format!(
            "\u{feff}Name,Wallet_ID,Tier\r\nAlice,{A},gold\r\n\r\n\"Bob, Jr.\", {B} ,\"say \"\"hi\"\"\"\r\n"
        );
        let (checked, out) = derive_text(&text, None, OutputFormat::Jsonl).unwrap();
        assert_eq!(checked.valid(), 2);
        assert_eq!(checked.blank_lines(), 1);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["walletId"], A);
        assert_eq!(
            lines[0]["labels"],
            serde_json::json!({"Name": "Alice", "Tier": "gold"})
        );
        assert_eq!(lines[1]["walletId"], B);
        assert_eq!(
            lines[1]["labels"],
            serde_json::json!({"Name": "Bob, Jr.", "Tier": "say \"hi\""})
        );

        // The same shares as a plain list of the same ids.
        let (_, plain) = derive_text(&format!("{A}\n{B}\n"), None, OutputFormat::Jsonl).unwrap();
        for (with, without) in out.lines().zip(plain.lines()) {
            let mut with: serde_json::Value = serde_json::from_str(with).unwrap();
            with.as_object_mut().unwrap().remove("labels");
            assert_eq!(
                with,
                serde_json::from_str::<serde_json::Value>(without).unwrap()
            );
        }

        // Vendor JSON and CSV carry the labels too.
        let (_, vendor) = derive_text(&text, None, OutputFormat::VendorJson).unwrap();
        let vendor: serde_json::Value = serde_json::from_str(&vendor).unwrap();
        assert_eq!(vendor[B]["labels"]["Name"], "Bob, Jr.");
        let (_, csv) = derive_text(&text, None, OutputFormat::Csv).unwrap();
        let mut rows = csv.lines();
        assert_eq!(
            rows.next().unwrap(),
            "walletId,cosignerId,chaincode,share,Name,Tier"
        );
        assert!(
            rows.nth(1)
                .unwrap()
                .ends_with(",\"Bob, Jr.\",\"say \"\"hi\"\"\"")
        );
    }

    #[test]
    fn a_csv_column_can_be_named_and_a_missing_one_is_refused() {
        let text = format!("id,wallet\nx,{A}\ny,{B}\n");
        let (checked, out) = derive_text(&text, Some("WALLET"), OutputFormat::Jsonl).unwrap();
        assert_eq!(checked.valid(), 2);
        assert!(out.contains(r#""labels": {"id": "x"}"#), "{out}");
        let err = derive_text(&text, Some("walletid"), OutputFormat::Jsonl).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the wallet list's header row has no column named walletid (its columns: id, wallet)"
        );
        let err = derive_text("name,tier\nAlice,gold\n", None, OutputFormat::Jsonl).unwrap_err();
        assert!(err.to_string().contains("no wallet id column"), "{err}");
    }

    /// Many chunks and pieces, on two threads, so the pool fills buffers
    /// the read-back has handed back: every record is the one derived on
    /// its own, in order, in each format.
    #[test]
    fn a_run_of_many_chunks_writes_each_record_in_order_in_every_format() {
        let n = CHUNK * 2 + 777;
        let ids: Vec<String> = (0..n as u32)
            .map(|i| {
                let h = hex::encode(Sha256::digest(i.to_be_bytes()));
                format!(
                    "{}-{}-4{}-8{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[13..16],
                    &h[17..20],
                    &h[20..32]
                )
            })
            .collect();
        let keys = test_deriver_keys();
        let deriver = Deriver {
            wallet_seed: [1; 32],
            asset_seed: [2; 32],
            master_keys: &keys,
        };
        for format in [
            OutputFormat::Jsonl,
            OutputFormat::Csv,
            OutputFormat::VendorJson,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let list = dir.path().join("wallets.txt");
            std::fs::write(&list, ids.join("\n")).unwrap();
            let out = dir.path().join("out");
            let options = DeriveOptions {
                format,
                threads: Some(2),
                ..DeriveOptions::default()
            };
            let summary = derive_to_file(
                &deriver,
                &WalletSource::File(list),
                &out,
                &options,
                &mut |_| {},
            )
            .unwrap();
            assert_eq!(summary.wallets, n as u64);
            let written = std::fs::read(&out).unwrap();
            let mut expected = format.header().to_vec();
            for (i, id) in ids.iter().enumerate() {
                if format == OutputFormat::VendorJson && i > 0 {
                    expected.extend_from_slice(b",\n");
                }
                deriver.write_record(id, format, &mut expected);
            }
            expected.extend_from_slice(format.footer(true));
            assert_eq!(written.len(), expected.len(), "{format:?}");
            if let Some(at) = written.iter().zip(&expected).position(|(a, b)| a != b) {
                panic!("{format:?}: byte {at} differs");
            }
            assert_eq!(summary.out_sha256, hex::encode(Sha256::digest(&written)));
        }
    }

    fn test_deriver_keys() -> Vec<DecryptedMasterKey> {
        vec![DecryptedMasterKey {
            master_key_id: "d157d768-16d7-4914-89b1-edfda4f2058b".into(),
            cosigner_id: "21926ecc-4a8a-4614-bbac-7c591aa7efdd".into(),
            entry: "entry".into(),
            key: Zeroizing::new([7u8; 32]),
        }]
    }

    #[test]
    fn a_list_edited_between_check_and_derive_is_refused_even_at_the_same_length() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("wallets.txt");
        let a = "2d33e419-4c84-44b1-9d9a-3598f96642b0";
        let b = "0d8f6b1e-3c2a-4f5e-9b7d-1a2b3c4d5e6f";
        std::fs::write(&list, format!("{a}\n{b}\n")).unwrap();
        let checked = CheckedWallets::check(WalletSource::File(list.clone())).unwrap();
        assert_eq!((checked.valid(), checked.bad().len()), (2, 0));
        // Same length, same count of valid ids, but now a repeat.
        std::fs::write(&list, format!("{a}\n{a}\n")).unwrap();
        let keys = test_deriver_keys();
        let deriver = Deriver {
            wallet_seed: [1; 32],
            asset_seed: [2; 32],
            master_keys: &keys,
        };
        let out = dir.path().join("out.json");
        let err = derive_checked(
            &deriver,
            &checked,
            &out,
            &DeriveOptions::default(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(err, DrKitError::WalletListChanged(_)), "{err}");
        assert!(!out.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_list_that_changes_between_the_checks_own_two_reads_is_refused() {
        // Two ids with a repeat (so the check reads again), then four.
        let a = "2d33e419-4c84-44b1-9d9a-3598f96642b0";
        let mut passes = [2usize, 4].into_iter();
        let err = CheckedWallets::check_reading(
            WalletSource::File("wallets.txt".into()),
            &ListOptions::default(),
            |_, f| {
                let text = format!("{a}\n").repeat(passes.next().unwrap_or(0));
                let mut print = Sha256::new();
                split_lines(text.as_bytes(), &mut print, f).map_err(|_| DrKitError::NoWallets)?;
                Ok(Some(print.finalize().into()))
            },
        )
        .unwrap_err();
        assert!(matches!(err, DrKitError::WalletListChanged(_)), "{err}");
    }
}
