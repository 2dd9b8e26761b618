//! The kit itself: a zip holding `metadata.json` and, for each cloud
//! cosigner of the NCW master key, an entry `<P>_<masterKeyId>` with the
//! 32-byte master key encrypted to the recovery key (one RSA-OAEP block,
//! SHA-1 and MGF1-SHA-1, no label).
//!
//! `P` is the decimal value of the cosigner UUID's first four bytes read as
//! a little-endian u32 — a quirk of the vendor's tool, reproduced exactly
//! (`21926ecc-…` → `3429798433`).
//!
//! `metadata.json` comes in two layouts: current kits list signing keys
//! under `keys`; older ones put one `keyId`/`publicKey` at the top level.
//! Both are read; anything we would have to guess about (no NCW master key,
//! two of them, a missing or odd-sized entry) is an error, never a guess.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use sha1::Sha1;
use zeroize::Zeroizing;

use super::{DrKitError, zipcheck};
use crate::fsutil;

/// Largest kit zip we read.
pub const MAX_KIT_SIZE: u64 = 64 * 1024 * 1024;
/// Largest single zip entry we inflate (metadata.json or a key blob).
const MAX_ENTRY_SIZE: u64 = 4 * 1024 * 1024;
/// The metadata entry's name.
pub const METADATA_ENTRY: &str = "metadata.json";
/// The master-key type this tool derives from.
pub const NCW_MASTER_TYPE: &str = "NON_CUSTODIAL_WALLET_MASTER";

/// A cosigner listed in the metadata.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cosigner {
    /// Its UUID.
    pub id: String,
    /// `cloud`, `mobile`, …
    #[serde(rename = "type")]
    pub kind: String,
}

/// A signing key listed in the metadata (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KitKey {
    /// The key id.
    pub key_id: String,
    /// The algorithm name, if given.
    pub algo: Option<String>,
    /// The public key, if given.
    pub public_key: Option<String>,
    /// Its cosigners.
    pub cosigners: Vec<Cosigner>,
    /// Its own chain code (hex), overriding the kit's, if given.
    pub chain_code: Option<String>,
    /// Its keyset (1 when not given).
    pub keyset_id: u64,
}

/// A master key listed in the metadata. The seeds are not secret on their
/// own but are kept out of reports all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKeyInfo {
    /// The master key id.
    pub id: String,
    /// Its type (NON_CUSTODIAL_WALLET_MASTER for NCW).
    pub kind: String,
    /// Mixed into each wallet's chain code for Key Share #1.
    pub wallet_seed: [u8; 32],
    /// Mixed into each wallet's asset chain code.
    pub asset_seed: [u8; 32],
    /// Its cosigners.
    pub cosigners: Vec<Cosigner>,
}

impl std::fmt::Debug for MasterKeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeyInfo")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("cosigners", &self.cosigners)
            .finish_non_exhaustive()
    }
}

/// Which metadata layout the kit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Layout {
    /// `keys: {<keyId>: …}`.
    Keys,
    /// Older: `keyId` / `publicKey` at the top level.
    Legacy,
}

/// The parsed `metadata.json`.
#[derive(Debug, Clone)]
pub struct KitMetadata {
    /// The tenant (workspace) id.
    pub tenant_id: Option<String>,
    /// The layout found.
    pub layout: Layout,
    /// Signing keys.
    pub keys: Vec<KitKey>,
    /// The kit's chain code (hex), if given.
    pub chain_code: Option<String>,
    /// Master keys, of every type.
    pub master_keys: Vec<MasterKeyInfo>,
}

fn bad(msg: impl Into<String>) -> DrKitError {
    DrKitError::BadMetadata(msg.into())
}

fn opt_str(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_string)
}

fn cosigners(v: &Value, whose: &str) -> Result<Vec<Cosigner>, DrKitError> {
    let Some(list) = v.get("cosigners") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| bad(format!("{whose}: cosigners is not a list")))?;
    list.iter()
        .map(|c| {
            Ok(Cosigner {
                id: opt_str(c, "id")
                    .ok_or_else(|| bad(format!("{whose}: a cosigner has no id")))?,
                kind: opt_str(c, "type").unwrap_or_default(),
            })
        })
        .collect()
}

fn seed(v: &Value, field: &str, whose: &str) -> Result<[u8; 32], DrKitError> {
    let text = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("master key {whose} has no {field}")))?;
    let bytes =
        hex::decode(text).map_err(|_| bad(format!("master key {whose}: {field} is not hex")))?;
    bytes
        .try_into()
        .map_err(|_| bad(format!("master key {whose}: {field} is not 32 bytes")))
}

fn keyset(v: &Value, whose: &str) -> Result<u64, DrKitError> {
    match v.get("keysetId") {
        None | Some(Value::Null) => Ok(1),
        Some(k) => k.as_u64().ok_or_else(|| {
            bad(format!(
                "key {whose}: keysetId is not a non-negative integer"
            ))
        }),
    }
}

impl KitMetadata {
    /// Parses `metadata.json` bytes (either layout).
    pub fn parse(bytes: &[u8]) -> Result<KitMetadata, DrKitError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let obj = v.as_object().ok_or_else(|| bad("not a JSON object"))?;
        let (layout, keys) = match obj.get("keys") {
            Some(keys) => {
                let keys = keys
                    .as_object()
                    .ok_or_else(|| bad("keys is not an object"))?;
                let list = keys
                    .iter()
                    .map(|(id, k)| {
                        Ok(KitKey {
                            key_id: id.clone(),
                            algo: opt_str(k, "algo"),
                            public_key: opt_str(k, "publicKey"),
                            cosigners: cosigners(k, id)?,
                            chain_code: opt_str(k, "chainCode"),
                            keyset_id: keyset(k, id)?,
                        })
                    })
                    .collect::<Result<Vec<_>, DrKitError>>()?;
                (Layout::Keys, list)
            }
            None => {
                let key = opt_str(&v, "keyId").map(|key_id| KitKey {
                    key_id,
                    algo: opt_str(&v, "algo"),
                    public_key: opt_str(&v, "publicKey"),
                    cosigners: Vec::new(),
                    chain_code: None,
                    keyset_id: 1,
                });
                (Layout::Legacy, key.into_iter().collect())
            }
        };
        let master_keys = match obj.get("masterKeys") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(id, mk)| {
                    Ok(MasterKeyInfo {
                        id: id.clone(),
                        kind: opt_str(mk, "type").unwrap_or_default(),
                        wallet_seed: seed(mk, "walletSeed", id)?,
                        asset_seed: seed(mk, "assetSeed", id)?,
                        cosigners: cosigners(mk, id)?,
                    })
                })
                .collect::<Result<Vec<_>, DrKitError>>()?,
            Some(_) => return Err(bad("masterKeys is not an object")),
        };
        Ok(KitMetadata {
            tenant_id: opt_str(&v, "tenantId"),
            layout,
            keys,
            chain_code: opt_str(&v, "chainCode"),
            master_keys,
        })
    }

    /// Whether a kit with this metadata has an entry named `name`:
    /// `metadata.json`, a cloud entry `<number>_<id>` for a listed key or
    /// master key, a mobile entry `MOBILE_<keyId>`, and in the old layout
    /// the bare `<number>` and `MOBILE`.
    pub fn expects_entry(&self, name: &str) -> bool {
        let number =
            |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|c| c.is_ascii_digit());
        let listed = |id: &str| {
            self.keys.iter().any(|k| k.key_id == id) || self.master_keys.iter().any(|m| m.id == id)
        };
        if name == METADATA_ENTRY {
            return true;
        }
        if self.layout == Layout::Legacy && (name == "MOBILE" || number(name)) {
            return true;
        }
        match name.split_once('_') {
            Some(("MOBILE", id)) => self.keys.iter().any(|k| k.key_id == id),
            Some((n, id)) => number(n) && listed(id),
            None => false,
        }
    }

    /// The one NCW master key; none or several is an error.
    pub fn ncw_master(&self) -> Result<&MasterKeyInfo, DrKitError> {
        let ncw: Vec<&MasterKeyInfo> = self
            .master_keys
            .iter()
            .filter(|m| m.kind == NCW_MASTER_TYPE)
            .collect();
        match ncw.as_slice() {
            [] => Err(DrKitError::NoMasterKey),
            [one] => Ok(one),
            many => Err(DrKitError::TooManyMasterKeys {
                count: many.len(),
                ids: many
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// The folder that holds `metadata.json`: the zip's top level, or one
/// folder down (a kit zipped as a folder). Anything else is no kit; the
/// entry whose name comes closest is named to help.
fn metadata_folder(names: &[String]) -> Result<String, DrKitError> {
    if names.iter().any(|n| n == METADATA_ENTRY) {
        return Ok(String::new());
    }
    let one_down: Vec<&String> = names
        .iter()
        .filter(|n| {
            n.strip_suffix(METADATA_ENTRY)
                .and_then(|f| f.strip_suffix('/'))
                .is_some_and(|f| !f.is_empty() && !f.contains('/'))
        })
        .collect();
    match one_down.as_slice() {
        [one] => Ok(one[..one.len() - METADATA_ENTRY.len()].to_string()),
        [] => Err(DrKitError::MissingMetadata {
            nearest: nearest_metadata(names),
        }),
        many => Err(DrKitError::SeveralMetadata(
            many.iter().map(|n| n.to_string()).collect(),
        )),
    }
}

/// The entry most likely meant as `metadata.json`: its last path part
/// within a few edits of the name (case ignored), the closest and then the
/// shallowest first.
fn nearest_metadata(names: &[String]) -> Option<String> {
    names
        .iter()
        .filter(|n| !n.ends_with('/'))
        .map(|n| {
            let base = n.rsplit('/').next().unwrap_or(n).to_ascii_lowercase();
            (
                edit_distance(&base, METADATA_ENTRY),
                n.matches('/').count(),
                n,
            )
        })
        .filter(|(d, _, _)| *d <= 4)
        .min()
        .map(|(_, _, n)| n.clone())
}

/// Levenshtein distance, on bytes (the names compared are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The zip entry prefix for a cosigner: the first four bytes of its UUID as
/// a little-endian u32, in decimal.
pub fn cosigner_prefix(cosigner_id: &str) -> Result<u32, DrKitError> {
    let hexdigits: String = cosigner_id.chars().filter(|c| *c != '-').collect();
    let ok = hexdigits.len() == 32
        && cosigner_id.len() == 36
        && hexdigits.chars().all(|c| c.is_ascii_hexdigit());
    let bytes = hex::decode(&hexdigits[..8.min(hexdigits.len())]).ok();
    match bytes {
        Some(b) if ok && b.len() == 4 => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => Err(DrKitError::BadCosignerId(cosigner_id.to_string())),
    }
}

/// The zip entry holding `master_key_id`'s key for `cosigner_id`.
pub fn master_key_entry_name(cosigner_id: &str, master_key_id: &str) -> Result<String, DrKitError> {
    Ok(format!(
        "{}_{}",
        cosigner_prefix(cosigner_id)?,
        master_key_id
    ))
}

/// A decrypted master key for one cloud cosigner. The key is secret: it is
/// zeroized on drop and never shown by `Debug`.
pub struct DecryptedMasterKey {
    /// The master key id.
    pub master_key_id: String,
    /// The cloud cosigner.
    pub cosigner_id: String,
    /// The zip entry it came from.
    pub entry: String,
    /// The 32-byte master key.
    pub key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DecryptedMasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptedMasterKey")
            .field("master_key_id", &self.master_key_id)
            .field("cosigner_id", &self.cosigner_id)
            .field("entry", &self.entry)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// An opened kit: the metadata plus access to its entries.
pub struct RecoveryKit {
    /// Where it was read from.
    pub path: PathBuf,
    /// SHA-256 of the zip file, for the audit log and reports.
    pub sha256: String,
    /// The parsed metadata.
    pub metadata: KitMetadata,
    /// Every entry name in the kit, relative to the folder holding
    /// `metadata.json` (folder entries left out).
    pub entries: Vec<String>,
    /// The folder holding `metadata.json` (`""` or `"name/"`).
    folder: String,
    archive: zip::ZipArchive<Cursor<Vec<u8>>>,
}

impl std::fmt::Debug for RecoveryKit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryKit")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<Vec<u8>>>,
    name: &str,
) -> Result<Option<Vec<u8>>, String> {
    let file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut buf = Vec::new();
    file.take(MAX_ENTRY_SIZE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_ENTRY_SIZE {
        return Err(format!(
            "entry {name} is larger than {MAX_ENTRY_SIZE} bytes"
        ));
    }
    Ok(Some(buf))
}

impl RecoveryKit {
    /// Opens a kit zip and parses its metadata.
    pub fn open(path: &Path) -> Result<RecoveryKit, DrKitError> {
        let bytes = fsutil::read_limited(path, MAX_KIT_SIZE)?;
        Self::from_bytes(path, bytes)
    }

    /// Opens a kit held in memory (`path` is for messages).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<RecoveryKit, DrKitError> {
        let sha256 = fsutil::sha256_hex(&bytes);
        let not_zip = |reason: String| DrKitError::NotAZip {
            path: path.to_path_buf(),
            reason,
        };
        // The zip reader's own verdict first (its words for a file that is
        // no zip at all), then the stricter structural check.
        zip::ZipArchive::new(Cursor::new(bytes.as_slice())).map_err(|e| not_zip(e.to_string()))?;
        let names: Vec<String> = zipcheck::check(&bytes, not_zip)?
            .into_iter()
            .map(|e| e.name)
            .collect();
        let mut archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_zip(e.to_string()))?;
        let folder = metadata_folder(&names)?;
        let mut entries = Vec::with_capacity(names.len());
        for name in &names {
            let unexpected = || DrKitError::UnexpectedEntry {
                entry: name.clone(),
            };
            let relative = name.strip_prefix(folder.as_str()).ok_or_else(unexpected)?;
            if relative.is_empty() {
                continue; // the folder's own entry
            }
            entries.push(relative.to_string());
        }
        let meta = read_entry(&mut archive, &format!("{folder}{METADATA_ENTRY}"))
            .map_err(not_zip)?
            .ok_or(DrKitError::MissingMetadata { nearest: None })?;
        let metadata = KitMetadata::parse(&meta)?;
        if let Some(odd) = entries.iter().find(|e| !metadata.expects_entry(e)) {
            return Err(DrKitError::UnexpectedEntry {
                entry: format!("{folder}{odd}"),
            });
        }
        Ok(RecoveryKit {
            path: path.to_path_buf(),
            sha256,
            metadata,
            entries,
            folder,
            archive,
        })
    }

    /// An entry's bytes, by its name relative to the kit's folder.
    pub(crate) fn entry(&mut self, name: &str) -> Result<Option<Vec<u8>>, String> {
        read_entry(&mut self.archive, &format!("{}{name}", self.folder))
    }

    /// Decrypts the NCW master key for each of its cloud cosigners.
    pub fn decrypt_master_keys(
        &mut self,
        key: &RsaPrivateKey,
    ) -> Result<Vec<DecryptedMasterKey>, DrKitError> {
        let master = self.metadata.ncw_master()?.clone();
        let cloud: Vec<&Cosigner> = master
            .cosigners
            .iter()
            .filter(|c| c.kind == "cloud")
            .collect();
        if cloud.is_empty() {
            return Err(DrKitError::NoCloudCosigner(master.id.clone()));
        }
        let mut out = Vec::with_capacity(cloud.len());
        for c in cloud {
            let entry = master_key_entry_name(&c.id, &master.id)?;
            let blob = self
                .entry(&entry)
                .map_err(|reason| DrKitError::NotAZip {
                    path: self.path.clone(),
                    reason,
                })?
                .ok_or_else(|| DrKitError::MissingMasterKeyEntry {
                    entry: entry.clone(),
                    master_key_id: master.id.clone(),
                    cosigner_id: c.id.clone(),
                })?;
            let key_bytes = decrypt_master_key(key, &blob, &entry)?;
            out.push(DecryptedMasterKey {
                master_key_id: master.id.clone(),
                cosigner_id: c.id.clone(),
                entry,
                key: key_bytes,
            });
        }
        Ok(out)
    }
}

/// Decrypts one master-key blob: RSA-OAEP, SHA-1 + MGF1-SHA-1, no label,
/// and the plaintext must be exactly 32 bytes.
pub fn decrypt_master_key(
    key: &RsaPrivateKey,
    blob: &[u8],
    entry: &str,
) -> Result<Zeroizing<[u8; 32]>, DrKitError> {
    let wrong_key = || DrKitError::WrongRsaKey {
        entry: entry.to_string(),
    };
    if blob.len() != key.size() {
        return Err(wrong_key());
    }
    let plain = match key.decrypt(Oaep::<Sha1>::new(), blob) {
        Ok(p) => Zeroizing::new(p),
        Err(_) => {
            // Encrypted to this key with another OAEP digest is not "a
            // different key": say which.
            if key.decrypt(Oaep::<sha2::Sha256>::new(), blob).is_ok() {
                return Err(DrKitError::EntryOaepSha256 {
                    entry: entry.to_string(),
                });
            }
            return Err(wrong_key());
        }
    };
    if plain.len() != 32 {
        return Err(DrKitError::MasterKeyWrongLength {
            entry: entry.to_string(),
            len: plain.len(),
        });
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&plain);
    Ok(out)
}

/// What verifying a kit found. Public facts only: no key, no seed.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KitReport {
    /// The kit file.
    pub kit: PathBuf,
    /// Its SHA-256.
    pub kit_sha256: String,
    /// The tenant id.
    pub tenant_id: Option<String>,
    /// The metadata layout.
    pub layout: Layout,
    /// Signing keys listed.
    pub keys: Vec<KitKey>,
    /// Master keys listed: (id, type, cosigner count).
    pub master_keys: Vec<MasterKeySummary>,
    /// Entries decrypted: one per cloud cosigner of the NCW master key.
    pub decrypted: Vec<DecryptedSummary>,
}

/// A master key as a report shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MasterKeySummary {
    /// Its id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its cosigners.
    pub cosigners: Vec<Cosigner>,
}

/// A decrypted entry as a report shows it (no key bytes).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptedSummary {
    /// The master key id.
    pub master_key_id: String,
    /// The cloud cosigner.
    pub cosigner_id: String,
    /// The zip entry.
    pub entry: String,
}

/// Opens a kit, decrypts every cloud cosigner's master key with `key`, and
/// reports what it found. The decrypted keys are dropped (zeroized) here.
pub fn verify_kit(kit: &mut RecoveryKit, key: &RsaPrivateKey) -> Result<KitReport, DrKitError> {
    let decrypted = kit.decrypt_master_keys(key)?;
    Ok(KitReport {
        kit: kit.path.clone(),
        kit_sha256: kit.sha256.clone(),
        tenant_id: kit.metadata.tenant_id.clone(),
        layout: kit.metadata.layout,
        keys: kit.metadata.keys.clone(),
        master_keys: kit
            .metadata
            .master_keys
            .iter()
            .map(|m| MasterKeySummary {
                id: m.id.clone(),
                kind: m.kind.clone(),
                cosigners: m.cosigners.clone(),
            })
            .collect(),
        decrypted: decrypted
            .iter()
            .map(|d| DecryptedSummary {
                master_key_id: d.master_key_id.clone(),
                cosigner_id: d.cosigner_id.clone(),
                entry: d.entry.clone(),
            })
            .collect(),
    })
}

/// What a synthetic drill kit contains (public facts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillKit {
    /// Where it was written.
    pub path: PathBuf,
    /// The random tenant id.
    pub tenant_id: String,
    /// The NCW master key id.
    pub master_key_id: String,
    /// The cloud cosigner id.
    pub cosigner_id: String,
    /// The master-key entry name.
    pub entry: String,
    /// The synthetic workspace keys (public facts).
    pub keys: Vec<DrillKitKey>,
}

/// A workspace key of a drill kit (public facts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillKitKey {
    /// The key id.
    pub key_id: String,
    /// The metadata's algorithm name.
    pub algo: String,
    /// The keyset.
    pub keyset_id: u64,
}

/// The owner's (mobile) recovery passphrase of a drill kit made without
/// one: published here and in the README, since a drill kit's workspace
/// keys are synthetic and worth nothing.
pub const DRILL_OWNER_PASSPHRASE: &str = "drill kit owner passphrase";

/// A random (version 4) UUID, canonical lowercase: synthetic ids for drills.
pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_text(u128::from_be_bytes(b))
}

/// 128 bits as canonical UUID text (lowercase, 8-4-4-4-12).
pub fn uuid_text(bits: u128) -> String {
    let h = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn random_hex32() -> String {
    let mut b = [0u8; 32];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut b);
    hex::encode(b)
}

/// [`build_drill_kit_with`] under [`DRILL_OWNER_PASSPHRASE`].
pub fn build_drill_kit(public: &RsaPublicKey) -> Result<(Vec<u8>, DrillKit), DrKitError> {
    build_drill_kit_with(public, &SecretString::from(DRILL_OWNER_PASSPHRASE))
}

/// Builds a complete synthetic kit in the vendor's format, encrypted to
/// `public`: a random tenant; three workspace keys (MPC_ECDSA_SECP256K1 and
/// MPC_EDDSA_ED25519 in keyset 1, the EdDSA one with its own chain code,
/// and MPC_CMP_ECDSA_SECP256K1 in keyset 2), each shared between two cloud
/// cosigners (RSA-OAEP-SHA1 entries `<number>_<keyId>`) and the owner's
/// device (`MOBILE_<keyId>` under `owner_passphrase`); and one NCW master
/// key with its 32-byte master key under RSA-OAEP-SHA1. Returns the zip
/// bytes and its description (`path` left empty).
pub fn build_drill_kit_with(
    public: &RsaPublicKey,
    owner_passphrase: &SecretString,
) -> Result<(Vec<u8>, DrillKit), DrKitError> {
    use super::workspace_keys::{Algo, synthetic_key};
    let enc = |e: &dyn std::fmt::Display| DrKitError::Encode(e.to_string());
    let tenant_id = random_uuid();
    let master_key_id = random_uuid();
    let cosigner_id = random_uuid();
    let cloud = [cosigner_id.clone(), random_uuid()];
    let entry = master_key_entry_name(&cosigner_id, &master_key_id)?;
    let mut master = Zeroizing::new([0u8; 32]);
    rand::Rng::fill_bytes(&mut crate::rng::os(), master.as_mut_slice());
    let mut rng = crate::rng::os();
    let blob = public
        .encrypt(&mut rng, Oaep::<Sha1>::new(), master.as_slice())
        .map_err(|e| enc(&e))?;
    let eddsa_chain = random_hex32();
    let plan: [(Algo, u64, Option<&str>); 3] = [
        (Algo::Ecdsa, 1, None),
        (Algo::Eddsa, 1, Some(eddsa_chain.as_str())),
        (Algo::CmpEcdsa, 2, None),
    ];
    let mut keys = Map::new();
    let mut listed = Vec::new();
    let mut key_entries = Vec::new();
    // Key ids in ascending order, so the metadata (whose keys sort by id)
    // lists the keys in the plan's order.
    let mut ids: Vec<String> = plan.iter().map(|_| random_uuid()).collect();
    ids.sort();
    for ((algo, keyset_id, chain), key_id) in plan.into_iter().zip(ids) {
        let k = synthetic_key(
            key_id,
            algo,
            keyset_id,
            chain,
            &cloud,
            public,
            owner_passphrase,
        )?;
        listed.push(DrillKitKey {
            key_id: k.key_id.clone(),
            algo: algo.name().to_string(),
            keyset_id,
        });
        keys.insert(k.key_id, k.metadata);
        key_entries.extend(k.entries);
    }
    let mut master_keys = Map::new();
    master_keys.insert(
        master_key_id.clone(),
        json!({
            "type": NCW_MASTER_TYPE,
            "walletSeed": random_hex32(),
            "assetSeed": random_hex32(),
            "cosigners": [{"id": cosigner_id, "type": "cloud"}],
        }),
    );
    let metadata = json!({
        "chainCode": random_hex32(),
        "tenantId": tenant_id,
        "keys": keys,
        "masterKeys": master_keys,
    });
    let meta_bytes = serde_json::to_vec_pretty(&metadata).map_err(|e| enc(&e))?;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    zip.start_file(METADATA_ENTRY, opts).map_err(|e| enc(&e))?;
    zip.write_all(&meta_bytes).map_err(|e| enc(&e))?;
    zip.start_file(entry.as_str(), opts).map_err(|e| enc(&e))?;
    zip.write_all(&blob).map_err(|e| enc(&e))?;
    for (name, bytes) in &key_entries {
        zip.start_file(name.as_str(), opts).map_err(|e| enc(&e))?;
        zip.write_all(bytes).map_err(|e| enc(&e))?;
    }
    let bytes = zip.finish().map_err(|e| enc(&e))?.into_inner();
    Ok((
        bytes,
        DrillKit {
            path: PathBuf::new(),
            tenant_id,
            master_key_id,
            cosigner_id,
            entry,
            keys: listed,
        },
    ))
}

/// Writes a drill kit for `public` to `out` (never overwriting), and checks
/// it reopens with its entry present.
pub fn make_drill_kit(
    public: &RsaPublicKey,
    out: &Path,
    owner_passphrase: &SecretString,
) -> Result<DrillKit, DrKitError> {
    let (bytes, mut kit) = build_drill_kit_with(public, owner_passphrase)?;
    fsutil::write_new_checked(out, &bytes, |back| {
        let reopened = RecoveryKit::from_bytes(out, back.to_vec()).map_err(|e| e.to_string())?;
        let master = reopened.metadata.ncw_master().map_err(|e| e.to_string())?;
        let complete = kit.keys.iter().all(|k| {
            reopened.entries.contains(&format!("MOBILE_{}", k.key_id))
                && reopened.metadata.keys.iter().any(|m| m.key_id == k.key_id)
        });
        if master.id == kit.master_key_id && reopened.entries.contains(&kit.entry) && complete {
            Ok(())
        } else {
            Err("the kit read back lacks its master-key entry".into())
        }
    })?;
    kit.path = out.to_path_buf();
    Ok(kit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosigner_prefix_matches_the_vendor_example() {
        assert_eq!(
            cosigner_prefix("21926ecc-4a8a-4614-bbac-7c591aa7efdd").unwrap(),
            3_429_798_433
        );
        assert!(cosigner_prefix("21926ecc").is_err());
        assert!(cosigner_prefix("zz926ecc-4a8a-4614-bbac-7c591aa7efdd").is_err());
    }

    const COSIGNER: &str = "21926ecc-4a8a-4614-bbac-7c591aa7efdd";

    /// A kit's metadata naming signing key `k1` and NCW master key `m1`
    /// with one cloud cosigner (entry prefix 3429798433).
    fn metadata() -> Vec<u8> {
        json!({
            "tenantId": "t",
            "keys": {"k1": {"publicKey": "02ab", "algo": "MPC_ECDSA_SECP256K1"}},
            "masterKeys": {"m1": {
                "type": NCW_MASTER_TYPE,
                "walletSeed": "11".repeat(32),
                "assetSeed": "22".repeat(32),
                "cosigners": [{"id": COSIGNER, "type": "cloud"}],
            }},
        })
        .to_string()
        .into_bytes()
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            if name.ends_with('/') {
                zip.add_directory(*name, opts).unwrap();
            } else {
                zip.start_file(*name, opts).unwrap();
                zip.write_all(data).unwrap();
            }
        }
        zip.finish().unwrap().into_inner()
    }

    fn open(bytes: Vec<u8>) -> Result<RecoveryKit, String> {
        RecoveryKit::from_bytes(Path::new("kit.zip"), bytes).map_err(|e| e.to_string())
    }

    #[test]
    fn a_kit_zipped_as_a_folder_is_read_from_that_folder() {
        let meta = metadata();
        let kit = open(zip_of(&[
            ("kit-2026/", b""),
            ("kit-2026/metadata.json", &meta),
            ("kit-2026/3429798433_m1", b"blob"),
            ("kit-2026/3429798433_k1", b"share"),
            ("kit-2026/MOBILE_k1", b"{}"),
        ]))
        .unwrap();
        assert_eq!(kit.metadata.ncw_master().unwrap().id, "m1");
        assert!(
            kit.entries.iter().any(|e| e == "3429798433_m1"),
            "{:?}",
            kit.entries
        );
    }

    #[test]
    fn two_entries_with_one_name_are_refused() {
        let meta = metadata();
        let mut zip = zip_of(&[("metadata.json", &meta), ("metadata.jsoo", b"{}")]);
        let at = zip
            .windows(13)
            .enumerate()
            .filter(|(_, w)| w == b"metadata.jsoo")
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        for i in at {
            zip[i..i + 13].copy_from_slice(b"metadata.json");
        }
        let err = open(zip).unwrap_err();
        assert!(err.contains("two entries named metadata.json"), "{err}");
    }

    #[test]
    fn local_and_central_headers_that_disagree_are_refused() {
        let meta = metadata();
        let mut zip = zip_of(&[("metadata.json", &meta), ("3429798433_m1", b"blob")]);
        // Rename the entry in its local header only (the first copy).
        let i = zip.windows(13).position(|w| w == b"3429798433_m1").unwrap();
        zip[i..i + 13].copy_from_slice(b"3429798433_m2");
        let err = open(zip).unwrap_err();
        assert!(
            err.contains("3429798433_m1") && err.contains("local header"),
            "{err}"
        );
    }

    #[test]
    fn entries_a_kit_does_not_have_are_refused_by_name() {
        let meta = metadata();
        let err = open(zip_of(&[
            ("metadata.json", &meta),
            ("3429798433_m1", b"blob"),
            ("notes.txt", b"hello"),
        ]))
        .unwrap_err();
        assert!(err.contains("notes.txt"), "{err}");
        // Every name a kit has is accepted, in both layouts.
        open(zip_of(&[
            ("metadata.json", &meta),
            ("3429798433_m1", b"blob"),
            ("12_k1", b"share"),
            ("MOBILE_k1", b"{}"),
        ]))
        .unwrap();
        let legacy = json!({"tenantId": "t", "keyId": "k1", "publicKey": "02ab"}).to_string();
        open(zip_of(&[
            ("metadata.json", legacy.as_bytes()),
            ("3429798433", b"share"),
            ("MOBILE", b"{}"),
        ]))
        .unwrap();
    }

    #[test]
    fn a_missing_metadata_names_the_nearest_candidate() {
        let meta = metadata();
        let err = open(zip_of(&[
            ("export/kit/metadata.json", &meta),
            ("export/kit/3429798433_m1", b"blob"),
        ]))
        .unwrap_err();
        assert!(err.contains("export/kit/metadata.json"), "{err}");
        let err = open(zip_of(&[
            ("Metadata.JSON", &meta),
            ("3429798433_m1", b"blob"),
        ]))
        .unwrap_err();
        assert!(err.contains("Metadata.JSON"), "{err}");
    }

    #[test]
    fn legacy_layout_parses_and_two_ncw_master_keys_are_refused() {
        let m = KitMetadata::parse(
            br#"{"tenantId":"t","keyId":"k1","publicKey":"02ab","masterKeys":{
              "a":{"type":"NON_CUSTODIAL_WALLET_MASTER","walletSeed":"00000000000000000000000000000000000000000000000000000000000000aa","assetSeed":"00000000000000000000000000000000000000000000000000000000000000bb","cosigners":[]},
              "b":{"type":"NON_CUSTODIAL_WALLET_MASTER","walletSeed":"00000000000000000000000000000000000000000000000000000000000000aa","assetSeed":"00000000000000000000000000000000000000000000000000000000000000bb","cosigners":[]}}}"#,
        )
        .unwrap();
        assert_eq!(m.layout, Layout::Legacy);
        assert_eq!(m.keys[0].key_id, "k1");
        assert!(matches!(
            m.ncw_master(),
            Err(DrKitError::TooManyMasterKeys { count: 2, .. })
        ));
    }
}
