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
//! The batch reads the wallet list twice — once to validate every line
//! (so a bad list fails before anything is written), once to derive — and
//! holds only one chunk of ids in memory at a time. Each chunk is derived in
//! parallel on a rayon pool and written in input order to a temporary file
//! that is published only when complete.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use k256::elliptic_curve::bigint::{U256, U512};
use k256::elliptic_curve::ops::Reduce;
use k256::{FieldBytes, Scalar};
use rayon::prelude::*;
use sha2::{Digest, Sha256, Sha512};
use zeroize::{Zeroize, Zeroizing};

use super::DrKitError;
use super::kit::DecryptedMasterKey;
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
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(cc.as_slice())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(&[0u8]);
    mac.update(master_key);
    mac.update(&0x8000_0000u32.to_be_bytes());
    let i = Zeroizing::new(mac.finalize().into_bytes());
    // (M + I_L) mod n equals (M mod n + I_L mod n) mod n, so reducing each
    // 256-bit value first is the same integer arithmetic.
    let m = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(master_key));
    let il = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&i[..32]));
    let d = Zeroizing::new(Into::<[u8; 32]>::into((m + il).to_bytes()));
    let h = Zeroizing::new(Sha512::digest(d.as_slice()));
    let share = <Scalar as Reduce<U512>>::reduce_bytes(&h);
    Zeroizing::new(share.to_bytes().into())
}

/// Why a wallet id line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum BadWalletId {
    /// The line is empty.
    Empty,
    /// A UUID, but with uppercase hex digits.
    Uppercase,
    /// Not a canonical hyphenated UUID (spaces, braces, wrong length, …).
    NotCanonical,
}

impl std::fmt::Display for BadWalletId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadWalletId::Empty => "empty wallet id",
            BadWalletId::Uppercase => "uppercase wallet id (ids are lowercase; not corrected)",
            BadWalletId::NotCanonical => "not a canonical lowercase UUID (8-4-4-4-12 hex digits)",
        })
    }
}

/// A refused line of the wallet list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: BadWalletId,
}

/// Checks that `id` is a canonical lowercase UUID string.
pub fn check_wallet_id(id: &str) -> Result<(), BadWalletId> {
    if id.is_empty() {
        return Err(BadWalletId::Empty);
    }
    let b = id.as_bytes();
    if b.len() != UUID_LEN {
        return Err(BadWalletId::NotCanonical);
    }
    // One pass: dashes where they belong, hex digits elsewhere; uppercase
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
            return Err(BadWalletId::NotCanonical);
        }
    }
    if upper {
        return Err(BadWalletId::Uppercase);
    }
    Ok(())
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

/// Reads lines as bytes, reporting each (line number, text) to `f`; fails
/// on the first line that is not UTF-8.
fn for_each_line(
    source: &WalletSource,
    mut f: impl FnMut(u64, &str) -> Result<(), DrKitError>,
) -> Result<(), DrKitError> {
    let path = match source {
        WalletSource::List(ids) => {
            // Each given id is one "line", checked as it is (an embedded line
            // break makes it non-canonical, never two ids).
            for (i, id) in ids.iter().enumerate() {
                f(i as u64 + 1, id)?;
            }
            return Ok(());
        }
        WalletSource::File(p) => p,
    };
    let file = File::open(path).map_err(|source| DrKitError::Io {
        action: "opening",
        path: path.clone(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(64);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source_err| DrKitError::Io {
                action: "reading",
                path: source.path(),
                source: source_err,
            })?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| DrKitError::WalletFileNotUtf8 { line: line_no })?;
        f(line_no, text)?;
    }
}

/// What a validation pass found.
#[derive(Debug, Clone, Default)]
pub struct WalletScan {
    /// Valid ids.
    pub valid: u64,
    /// Refused lines.
    pub bad: Vec<BadLine>,
}

/// Validates every line of the wallet list without deriving anything.
pub fn scan_wallets(source: &WalletSource) -> Result<WalletScan, DrKitError> {
    let mut scan = WalletScan::default();
    for_each_line(source, |line, text| {
        match check_wallet_id(text) {
            Ok(()) => scan.valid += 1,
            Err(reason) => scan.bad.push(BadLine { line, reason }),
        }
        Ok(())
    })?;
    Ok(scan)
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

impl Deriver<'_> {
    /// Appends one wallet's record in `format` to `out` (a leading
    /// separator is the caller's business).
    pub fn write_record(&self, wallet_id: &str, format: OutputFormat, out: &mut Vec<u8>) {
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
                out.extend_from_slice(b"]}");
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
                    out.push(b'\n');
                }
            }
        }
    }

    fn derive_chunk(
        &self,
        ids: &[[u8; UUID_LEN]],
        format: OutputFormat,
        first: bool,
    ) -> Zeroizing<Vec<u8>> {
        const PIECE: usize = 512;
        let pieces: Vec<Zeroizing<Vec<u8>>> = ids
            .par_chunks(PIECE)
            .enumerate()
            .map(|(p, piece)| {
                let mut out = Zeroizing::new(Vec::with_capacity(piece.len() * 200));
                for (i, id) in piece.iter().enumerate() {
                    if format == OutputFormat::VendorJson && !(first && p == 0 && i == 0) {
                        out.extend_from_slice(b",\n");
                    }
                    // Checked canonical (ASCII) before it was queued.
                    let id = std::str::from_utf8(id).unwrap_or_default();
                    self.write_record(id, format, &mut out);
                }
                out
            })
            .collect();
        let mut all = Zeroizing::new(Vec::with_capacity(pieces.iter().map(|p| p.len()).sum()));
        for p in &pieces {
            all.extend_from_slice(p);
        }
        all
    }
}

/// Progress of a batch: `done` of `total` wallets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeriveProgress {
    /// Wallets derived so far.
    pub done: u64,
    /// Wallets to derive.
    pub total: u64,
}

/// Derives every wallet of `source` and writes them to a new file `out`.
///
/// The whole list is validated first: unless `skip_invalid`, any bad line
/// fails the run before the output file is created. The output appears only
/// when complete (temporary file, fsync, no-clobber publish, read-back).
pub fn derive_to_file(
    deriver: &Deriver<'_>,
    source: &WalletSource,
    out: &Path,
    options: &DeriveOptions,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Result<DeriveSummary, DrKitError> {
    let scan = scan_wallets(source)?;
    derive_scanned(deriver, source, &scan, out, options, progress)
}

/// [`derive_to_file`] for a list already validated by [`scan_wallets`]
/// (callers that check the list before touching any key scan it once).
pub fn derive_scanned(
    deriver: &Deriver<'_>,
    source: &WalletSource,
    scan: &WalletScan,
    out: &Path,
    options: &DeriveOptions,
    progress: &mut dyn FnMut(DeriveProgress),
) -> Result<DeriveSummary, DrKitError> {
    if deriver.master_keys.is_empty() {
        return Err(DrKitError::NoMasterKey);
    }
    if !scan.bad.is_empty() && !options.skip_invalid {
        return Err(DrKitError::InvalidWalletIds(scan.bad.clone()));
    }
    if scan.valid == 0 {
        return Err(DrKitError::NoWallets);
    }
    let total = scan.valid;
    progress(DeriveProgress { done: 0, total });

    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = options.threads {
        builder = builder.num_threads(n.max(1));
    }
    let pool = builder
        .build()
        .map_err(|e| DrKitError::Encode(format!("thread pool: {e}")))?;

    let mut writer = NewFileWriter::create(out)?;
    writer.write_all(options.format.header())?;
    // Derivation (the pool) and writing + hashing (one writer thread) overlap:
    // chunk k is written while chunk k+1 is derived.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Zeroizing<Vec<u8>>>(2);
    let (done, writer) = std::thread::scope(|scope| {
        let writer_thread = scope.spawn(move || -> Result<NewFileWriter, DrKitError> {
            for bytes in rx {
                writer.write_all(&bytes)?;
            }
            Ok(writer)
        });
        let mut chunk: Vec<[u8; UUID_LEN]> = Vec::with_capacity(CHUNK);
        let mut done = 0u64;
        let mut flush = |chunk: &mut Vec<[u8; UUID_LEN]>,
                         done: &mut u64|
         -> Result<(), DrKitError> {
            if chunk.is_empty() {
                return Ok(());
            }
            let bytes = pool.install(|| deriver.derive_chunk(chunk, options.format, *done == 0));
            if tx.send(bytes).is_err() {
                // The writer stopped; its error is reported when it is joined.
                return Err(DrKitError::Encode("the output writer stopped".into()));
            }
            *done += chunk.len() as u64;
            chunk.zeroize();
            chunk.clear();
            progress(DeriveProgress { done: *done, total });
            Ok(())
        };
        let read = for_each_line(source, |_, text| {
            if check_wallet_id(text).is_ok() {
                let mut id = [0u8; UUID_LEN];
                id.copy_from_slice(text.as_bytes());
                chunk.push(id);
                if chunk.len() == CHUNK {
                    flush(&mut chunk, &mut done)?;
                }
            }
            Ok(())
        })
        .and_then(|()| flush(&mut chunk, &mut done));
        drop(tx);
        let written = writer_thread
            .join()
            .unwrap_or_else(|_| Err(DrKitError::Encode("the output writer panicked".into())));
        // A writer error explains a send failure better than the send does.
        let writer = written?;
        read?;
        Ok::<_, DrKitError>((done, writer))
    })?;
    let mut writer = writer;
    if done != total {
        // The file changed between the two passes.
        return Err(DrKitError::Io {
            action: "re-reading",
            path: source.path(),
            source: std::io::Error::other("the wallet list changed while it was being read"),
        });
    }
    writer.write_all(options.format.footer(done > 0))?;
    let out_sha256 = writer.finish()?;
    Ok(DeriveSummary {
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
        skipped: scan.bad.clone(),
    })
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
        for bad in [
            " 2d33e419-4c84-44b1-9d9a-3598f96642b0",
            "2d33e4194c8444b19d9a3598f96642b0",
            "{2d33e419-4c84-44b1-9d9a-3598f96642b0}",
            "2d33e419-4c84-44b1-9d9a-3598f96642bg",
            "2d33e419-4c84-44b1-9d9a_3598f96642b0",
        ] {
            assert_eq!(
                check_wallet_id(bad),
                Err(BadWalletId::NotCanonical),
                "{bad}"
            );
        }
    }
}
