//! The vendor's NCW disaster-recovery kit (Fireblocks format): the RSA-4096
//! recovery key pair, reading and verifying a kit, and deriving each
//! wallet's Key Share #1 so an institution can sign without the vendor.
//!
//! - [`keys`]: create the recovery key pair (encrypted PKCS#8 out), read the
//!   private key in every form the vendor's tooling and OpenSSL produce
//!   (legacy `DEK-Info` PEM, encrypted/plain PKCS#8, PKCS#1), and the
//!   verification phrase people read back to the vendor.
//! - [`kit`]: the zip and its `metadata.json` (both layouts), the
//!   master-key entries and their RSA-OAEP-SHA1 decryption, and synthetic
//!   drill kits in exactly the same format.
//! - [`derive`]: Key Share #1 and the asset chain code per wallet, and the
//!   streaming, multi-core batch that writes millions of them to one file.
//!
//! ## Why `rsa` 0.10
//!
//! Key generation must take at most 0.6× OpenSSL's median time for RSA-4096.
//! Measured on the target 2-core machine (median of 9): OpenSSL ≈ 1.2 s,
//! rsa 0.10 ≈ 0.5× of that, rsa 0.9.10 ≈ 1.35 s (≈ 1.1×). The same `rsa`
//! serves recovery's RSA-OAEP-SHA256 wrap to an HSM key.
//!
//! ## RUSTSEC-2023-0071 (Marvin)
//!
//! `rsa` carries this advisory: decryption time leaks information
//! an attacker who can submit many chosen ciphertexts and time the answers
//! could use to decrypt. Here the decryption runs on an offline machine,
//! over a handful of ciphertexts from a kit the operator chose, with no
//! oracle anyone else can query — there is no attacker able to time it.

pub mod derive;
pub mod keys;
pub mod kit;
pub mod ops;
pub mod pbe;
pub mod repeats;
pub mod workspace_keys;
pub mod zipcheck;

use std::path::PathBuf;

use crate::error::Explain;
use crate::fsutil::FsError;

/// Why a DR-kit operation did not succeed. No variant ever carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrKitError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// The audit log could not be written, so the operation did not start.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// The workspace could not be used.
    #[error(transparent)]
    Workspace(#[from] crate::workspace::WorkspaceError),
    /// The private key file is not a PEM form we know.
    #[error(
        "{0} is not an RSA private key in a form we read (PKCS#8, PKCS#1 or legacy encrypted PEM)"
    )]
    NotAPrivateKey(String),
    /// The public key file is not an RSA public key PEM.
    #[error("{0} is not an RSA public key PEM (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)")]
    NotAPublicKey(String),
    /// The key is encrypted and decrypting it with the passphrase failed.
    #[error("the passphrase does not open the private key")]
    WrongPassphrase,
    /// The private key uses a cipher or KDF we do not read (named).
    #[error("the private key is encrypted with {0}, which this tool does not read")]
    UnsupportedKeyEncryption(String),
    /// An RSA key under 2048 bits.
    #[error(
        "the key is RSA-{bits}: keys under 2048 bits can be factored and are refused (the vendor's recovery key is RSA-4096)"
    )]
    KeyTooSmall {
        /// The modulus size found.
        bits: usize,
    },
    /// The kit lists no key matching the selection.
    #[error("{0}")]
    NoSuchWorkspaceKey(String),
    /// A key's algorithm is not one of the four the vendor uses.
    #[error(
        "key {key_id} has algorithm {algo}, which is not one of MPC_ECDSA_SECP256K1, MPC_CMP_ECDSA_SECP256K1, MPC_EDDSA_ED25519, MPC_CMP_EDDSA_ED25519"
    )]
    UnknownKeyAlgorithm {
        /// The key.
        key_id: String,
        /// The algo found.
        algo: String,
    },
    /// An entry a workspace key needs is missing.
    #[error("key {key_id}: the kit has {what}")]
    MissingKeyEntry {
        /// The key.
        key_id: String,
        /// What is missing.
        what: String,
    },
    /// An entry opened but does not hold a share of the expected form.
    #[error("entry {entry} opened but does not hold a key share of the expected form")]
    BadShare {
        /// The entry.
        entry: String,
    },
    /// An entry does not open although the same secret opens the kit's others.
    #[error(
        "entry {entry} does not decrypt, although the same secret opens the kit's other entries: the entry is damaged"
    )]
    DamagedEntry {
        /// The entry.
        entry: String,
    },
    /// The mobile secret opens no mobile entry.
    #[error("{} does not open the owner's share entry {entry}", if *.rsa { "the mobile RSA key" } else { "the owner's recovery passphrase" })]
    WrongMobileSecret {
        /// The first entry that did not open.
        entry: String,
        /// Whether a mobile RSA key was given (else a passphrase).
        rsa: bool,
    },
    /// A mobile plaintext names another algorithm than the metadata.
    #[error(
        "entry {entry} holds a share for algorithm number {found}, but the metadata says {algo}"
    )]
    MobileAlgorithmMismatch {
        /// The entry.
        entry: String,
        /// The number found (0 ECDSA, 1 EdDSA).
        found: u32,
        /// The metadata's algo.
        algo: &'static str,
    },
    /// Keys whose shares do not reproduce their public key.
    #[error("{} not reproduce {} public key from {} shares: {}; nothing was output", if .0.len() == 1 { "this key does" } else { "these keys do" }, if .0.len() == 1 { "its" } else { "their" }, if .0.len() == 1 { "its" } else { "their" }, .0.join(", "))]
    KeysNotReproduced(Vec<String>),
    /// A kit entry is encrypted to this key, but with OAEP-SHA256.
    #[error(
        "entry {entry} is encrypted to this key with RSA-OAEP-SHA256, but the vendor's kits use RSA-OAEP-SHA1 for it: the kit was not made by the vendor's tool, or was re-encrypted"
    )]
    EntryOaepSha256 {
        /// The entry name.
        entry: String,
    },
    /// The key is not RSA-4096 (the vendor's kits are encrypted to RSA-4096 keys).
    #[error("the key is RSA-{bits}; the recovery key must be RSA-4096")]
    WrongKeySize {
        /// The modulus size found.
        bits: usize,
    },
    /// The RSA library refused the key or an operation.
    #[error("RSA key error: {0}")]
    Rsa(String),
    /// The file is not a zip archive.
    #[error("{path} is not a readable zip archive: {reason}")]
    NotAZip {
        /// The kit path.
        path: PathBuf,
        /// What the zip reader said.
        reason: String,
    },
    /// The zip has no metadata.json at its top level or one folder down.
    #[error(
        "the kit has no metadata.json at its top level or one folder down; it is not a vendor DR kit{}",
        .nearest.as_ref().map(|n| format!(" (the nearest entry is {n})")).unwrap_or_default()
    )]
    MissingMetadata {
        /// The entry whose name comes closest, if any comes close.
        nearest: Option<String>,
    },
    /// Several folders of the zip hold a metadata.json.
    #[error("the kit holds {} metadata.json files ({}); which one is meant would be a guess", .0.len(), .0.join(", "))]
    SeveralMetadata(Vec<String>),
    /// Two entries of the zip have the same name.
    #[error("the kit holds two entries named {entry}; which one is meant would be a guess")]
    DuplicateEntry {
        /// The name.
        entry: String,
    },
    /// An entry's local header and the central directory disagree.
    #[error(
        "the kit's entry {entry} has a local header that disagrees with the zip's central directory ({field}): the zip was damaged or altered"
    )]
    ZipHeadersDisagree {
        /// The entry, as the central directory names it.
        entry: String,
        /// What differs.
        field: &'static str,
    },
    /// An entry that a vendor kit does not have.
    #[error(
        "the kit holds an entry {entry} that is not part of a vendor DR kit (a kit has metadata.json and entries named after the key ids it lists)"
    )]
    UnexpectedEntry {
        /// The entry's full name in the zip.
        entry: String,
    },
    /// metadata.json does not parse or lacks a required field.
    #[error("metadata.json is not valid: {0}")]
    BadMetadata(String),
    /// No NON_CUSTODIAL_WALLET_MASTER master key in the metadata.
    #[error("metadata.json lists no NCW master key (type NON_CUSTODIAL_WALLET_MASTER)")]
    NoMasterKey,
    /// More than one NCW master key: which one to use would be a guess.
    #[error("metadata.json lists {count} NCW master keys ({ids}); expected exactly one")]
    TooManyMasterKeys {
        /// How many.
        count: usize,
        /// Their ids.
        ids: String,
    },
    /// A master key has no cloud cosigner, so there is nothing to decrypt.
    #[error("master key {0} has no cloud cosigner")]
    NoCloudCosigner(String),
    /// A cosigner id is not a UUID, so its entry name cannot be computed.
    #[error("cosigner id {0:?} is not a UUID")]
    BadCosignerId(String),
    /// The encrypted master-key entry is missing from the zip.
    #[error("the kit has no entry {entry} (master key {master_key_id}, cosigner {cosigner_id})")]
    MissingMasterKeyEntry {
        /// The entry name expected.
        entry: String,
        /// The master key.
        master_key_id: String,
        /// The cosigner.
        cosigner_id: String,
    },
    /// The entry does not decrypt under this private key.
    #[error(
        "entry {entry} does not decrypt with this private key: it was encrypted to a different RSA key"
    )]
    WrongRsaKey {
        /// The entry name.
        entry: String,
    },
    /// The entry decrypted but is not a 32-byte master key.
    #[error("entry {entry} decrypted to {len} bytes; a master key is exactly 32 bytes")]
    MasterKeyWrongLength {
        /// The entry name.
        entry: String,
        /// The plaintext length.
        len: usize,
    },
    /// A wallet id is not a canonical lowercase UUID.
    #[error("{}", invalid_ids_message(.0))]
    InvalidWalletIds(Vec<derive::BadLine>),
    /// `--column` names a column the CSV header row does not have.
    #[error("the wallet list's header row has no column named {name} (its columns: {columns})")]
    NoSuchColumn {
        /// The name asked for.
        name: String,
        /// The header's columns, comma-separated.
        columns: String,
    },
    /// The first line looks like a CSV header but no column holds wallet ids.
    #[error(
        "the wallet list's first line looks like a CSV header row but has no wallet id column (its columns: {columns})"
    )]
    NoWalletIdColumn {
        /// The header's columns, comma-separated.
        columns: String,
    },
    /// The wallet file is not UTF-8 text.
    #[error("the wallet list is not UTF-8 text (first bad byte on line {line})")]
    WalletFileNotUtf8 {
        /// 1-based line number.
        line: u64,
    },
    /// The list is so long that checking it for repeated ids would take
    /// more memory than the check is allowed.
    #[error(
        "more than {} different wallet ids repeat, or may repeat, an earlier line: too many to check; nothing was written",
        crate::text::grouped(*.limit as u64)
    )]
    TooManyWalletIdsToCheck {
        /// Lines that may repeat, at most.
        limit: usize,
    },
    /// So many lines are not wallet ids that this is not a wallet list.
    #[error(
        "more than {} lines of the wallet list are not wallet ids; nothing was written",
        crate::text::grouped(*.limit as u64)
    )]
    TooManyBadLines {
        /// Refused lines kept at most.
        limit: usize,
    },
    /// The wallet list file changed between two reads of one run.
    #[error("{} changed while it was being read; nothing was written", .0.display())]
    WalletListChanged(std::path::PathBuf),
    /// No wallet ids were given (or all were skipped).
    #[error("there are no wallet ids to derive")]
    NoWallets,
    /// An output/input/other I/O failure while streaming.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The approvals do not satisfy the workspace policy (named).
    #[error(transparent)]
    Approval(#[from] crate::approvals::ApprovalError),
    /// Fewer approvers than a recovery needs.
    #[error(
        "recovering workspace keys needs at least {} approvers; {given} named",
        crate::recovery::MIN_APPROVERS
    )]
    TooFewApprovers {
        /// How many were named.
        given: usize,
    },
    /// The HSM import key is unusable.
    #[error(transparent)]
    HsmKey(crate::recovery::RecoveryError),
    /// The output directory of the HSM output is unusable.
    #[error("output directory {}: {reason}", path.display())]
    OutputDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Two of a key's shares carry the same player id.
    #[error("key {key_id}: two of its shares carry player id {id}; the kit is malformed")]
    DuplicatePlayerId {
        /// The key.
        key_id: String,
        /// The repeated id.
        id: u64,
    },
    /// A key id that cannot name a file.
    #[error("key id {0:?} is not a UUID, so it cannot name an output file")]
    KeyIdNotAFileName(String),
    /// Writing the output format failed (should not happen).
    #[error("could not encode the output: {0}")]
    Encode(String),
}

fn invalid_ids_message(lines: &[derive::BadLine]) -> String {
    const SHOWN: usize = 10;
    let mut s = format!(
        "{} refused; nothing was written:",
        crate::text::count(
            lines.len() as u64,
            "wallet list line was",
            "wallet list lines were"
        )
    );
    for bad in lines.iter().take(SHOWN) {
        s.push_str(&format!("\n    line {}: {}", bad.line, bad.reason));
    }
    if lines.len() > SHOWN {
        s.push_str(&format!("\n    … and {} more", lines.len() - SHOWN));
    }
    s
}

impl Explain for DrKitError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        use DrKitError::*;
        Some(match self {
            Fs(e) => return e.remedy_for(to),
            Audit(e) => return e.remedy_for(to),
            Workspace(e) => return e.remedy_for(to),
            NotAPrivateKey(_) => "give the recovery private key file (BEGIN ENCRYPTED PRIVATE KEY, BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)".into(),
            NotAPublicKey(_) => to.pick("give the recovery public key PEM written by `custodian kit keygen` or the vendor's tool", "give the recovery public key PEM written when the key pair was created (1 in the DR kit menu) or by the vendor's tool"),
            WrongPassphrase => "check the passphrase (and its caps lock and keyboard layout) and try again".into(),
            UnsupportedKeyEncryption(_) => "on the offline machine, convert a copy with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY.pem -out NEW.pem` (OpenSSL 3 needs `-provider legacy -provider default` to read DES, RC2 and RC4 keys), then use NEW.pem and destroy the copy".into(),
            NoSuchWorkspaceKey(_) => to.pick("run `custodian kit verify` to list the kit's keys and keysets", "verify the kit (3 in the DR kit menu) to list its keys and keysets"),
            UnknownKeyAlgorithm { .. } | MobileAlgorithmMismatch { .. } | BadShare { .. } => "keep the kit unchanged and contact whoever produced it".into(),
            MissingKeyEntry { .. } => "the kit is incomplete: ask for the full kit again and check its checksum".into(),
            DamagedEntry { .. } => "do not use this copy of the kit: use another copy and compare its checksum with the vendor's".into(),
            WrongMobileSecret { rsa: false, .. } => "check the workspace owner's recovery passphrase (the one set in the mobile app), its caps lock and keyboard layout".into(),
            WrongMobileSecret { rsa: true, .. } => "use the mobile RSA private key this kit's owner entries were encrypted to".into(),
            KeysNotReproduced(_) => "do not use this kit for those keys: ask the vendor for the kit again; the keys listed as verified are sound".into(),
            KeyTooSmall { .. } => to.pick("use the RSA-4096 recovery key pair the kit was made for; a new pair comes from `custodian kit keygen`", "use the RSA-4096 recovery key pair the kit was made for; a new pair comes from 1 in the DR kit menu"),
            EntryOaepSha256 { .. } => "ask the vendor for the kit exactly as their tool made it, and compare its checksum".into(),
            WrongKeySize { .. } => "use the RSA-4096 recovery key pair the kit was made for".into(),
            Rsa(_) => "check that this is the right key file".into(),
            MissingMetadata { nearest: Some(n) } => format!("if {n} is the kit's metadata, the zip was re-made: use the kit zip exactly as the vendor delivered it"),
            NotAZip { .. } | MissingMetadata { .. } | BadMetadata(_) | SeveralMetadata(_) => "check that this is the DR kit zip the vendor delivered, unmodified".into(),
            DuplicateEntry { .. } | ZipHeadersDisagree { .. } => "do not use this zip: ask for the kit again and compare its checksum with the vendor's".into(),
            UnexpectedEntry { .. } => "use the kit zip exactly as the vendor delivered it (a zip re-made on a Mac gains __MACOSX/ entries: zip the original files again without them)".into(),
            NoMasterKey | TooManyMasterKeys { .. } | NoCloudCosigner(_) | BadCosignerId(_) => "this kit is not in the format this tool knows; keep it unchanged and contact whoever produced it".into(),
            MissingMasterKeyEntry { .. } => "the kit is incomplete: ask for the full kit again and check its checksum".into(),
            WrongRsaKey { .. } => to.pick("use the recovery private key whose public key was sent to the vendor (compare verification phrases with `custodian kit fingerprint`)", "use the recovery private key whose public key was sent to the vendor (compare verification phrases with 2 in the DR kit menu)"),
            MasterKeyWrongLength { .. } => "the kit or the key is not the right one; do not use shares derived from it".into(),
            InvalidWalletIds(_) => to.pick("fix those lines (wallet ids are lowercase UUIDs such as 2d33e419-4c84-44b1-9d9a-3598f96642b0; each appears once), or pass --skip-invalid to leave them out", "fix those lines (wallet ids are lowercase UUIDs such as 2d33e419-4c84-44b1-9d9a-3598f96642b0; each appears once), or press Ctrl-S on the wallets step to skip them"),
            NoSuchColumn { .. } => to.pick("name the column that holds the wallet ids with --column (case is ignored)", "give a list of one wallet id per line (the console reads no table columns): a file, or paste the ids (Tab switches)"),
            NoWalletIdColumn { .. } => to.pick("name the column that holds the wallet ids with --column NAME, or give a list of one wallet id per line", "give a list of one wallet id per line (the console reads no table columns): a file, or paste the ids (Tab switches)"),
            WalletFileNotUtf8 { .. } => "save the wallet list as UTF-8 text, one wallet id per line".into(),
            TooManyWalletIdsToCheck { .. } => "remove the repeated ids; a list of more than about 50,000,000 ids must also be split into smaller files".into(),
            TooManyBadLines { .. } => to.pick("check that --wallets names the list of wallet ids, one id per line", "check that the wallet list file holds wallet ids, one id per line"),
            WalletListChanged(_) => "make sure nothing writes to the wallet list during the run (work on a copy), then run again".into(),
            NoWallets => to.pick("give wallet ids with --wallet or a file with --wallets", "give a wallet list file, or paste wallet ids (Tab switches)"),
            Io { .. } => "check the disk and the path, then try again".into(),
            Encode(_) => "this is a bug; please report it".into(),
            Approval(e) => return e.remedy_for(to),
            TooFewApprovers { .. } => to.pick("name every approver of the quorum with --approver (registered custodians, who open their own identity) or --typed-approver: at least two different people", "add every approver of the quorum on the approvers step (registered custodians type their own passphrase; a typed name leaves it empty where the policy allows): at least two different people"),
            HsmKey(e) => return e.remedy_for(to),
            OutputDir { .. } => to.pick("give a new directory name in an existing folder (custodian creates it), or an existing directory (for example the HSM transfer medium) that holds none of the files named above", "give a new directory name in an existing folder (it is created), or an existing directory (for example the HSM transfer medium) that holds none of the files named above"),
            KeyIdNotAFileName(_) | DuplicatePlayerId { .. } => "keep the kit unchanged and contact whoever produced it".into(),
        })
    }
}
