//! The workspace's MPC signing keys carried by the same kit (DESIGN.md,
//! "the same kit's workspace keys"): each key's cloud shares (RSA-OAEP-SHA1
//! under the recovery key) and the owner's mobile share (AES-256-CBC under
//! PBKDF2-HMAC-SHA1 of the owner's recovery passphrase, or RSA-OAEP-SHA256
//! under a mobile RSA key) are combined — Lagrange at 0 over the player ids
//! for the non-CMP algorithms, the plain sum for the CMP ones, modulo the
//! curve order — and the result must reproduce the key's public key. A key
//! that does not is reported and its secret dropped at once.
//!
//! The EdDSA value is the raw scalar, not an RFC 8032 seed.

use curve25519_dalek::{EdwardsPoint, Scalar as EdScalar};
use k256::Scalar as KScalar;
use k256::elliptic_curve::PrimeField;
use rsa::{Oaep, PrivateKey as RsaPrivateKey};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::DrKitError;
use super::kit::{KitKey, Layout, RecoveryKit};
use crate::recovery::{DuplicateShareId, lagrange_at_zero};
use crate::shard;

/// PBKDF2-HMAC-SHA1 iterations of the mobile share's wrapping key.
pub const MOBILE_PBKDF2_ITERATIONS: u32 = 10_000;

/// The signing algorithms a kit's keys use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Algo {
    /// `MPC_ECDSA_SECP256K1`
    #[serde(rename = "MPC_ECDSA_SECP256K1")]
    Ecdsa,
    /// `MPC_CMP_ECDSA_SECP256K1`
    #[serde(rename = "MPC_CMP_ECDSA_SECP256K1")]
    CmpEcdsa,
    /// `MPC_EDDSA_ED25519`
    #[serde(rename = "MPC_EDDSA_ED25519")]
    Eddsa,
    /// `MPC_CMP_EDDSA_ED25519`
    #[serde(rename = "MPC_CMP_EDDSA_ED25519")]
    CmpEddsa,
}

impl Algo {
    /// Reads the metadata's `algo` name.
    pub fn parse(name: &str) -> Option<Algo> {
        Some(match name {
            "MPC_ECDSA_SECP256K1" => Algo::Ecdsa,
            "MPC_CMP_ECDSA_SECP256K1" => Algo::CmpEcdsa,
            "MPC_EDDSA_ED25519" => Algo::Eddsa,
            "MPC_CMP_EDDSA_ED25519" => Algo::CmpEddsa,
            _ => return None,
        })
    }

    /// The metadata's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Ecdsa => "MPC_ECDSA_SECP256K1",
            Algo::CmpEcdsa => "MPC_CMP_ECDSA_SECP256K1",
            Algo::Eddsa => "MPC_EDDSA_ED25519",
            Algo::CmpEddsa => "MPC_CMP_EDDSA_ED25519",
        }
    }

    fn is_eddsa(self) -> bool {
        matches!(self, Algo::Eddsa | Algo::CmpEddsa)
    }

    fn is_cmp(self) -> bool {
        matches!(self, Algo::CmpEcdsa | Algo::CmpEddsa)
    }

    /// The algorithm number in a 36-byte mobile plaintext.
    fn mobile_number(self) -> u32 {
        u32::from(self.is_eddsa())
    }
}

/// The owner's (mobile) secret.
pub enum MobileSecret {
    /// The workspace owner's recovery passphrase.
    Passphrase(SecretString),
    /// A mobile RSA private key (entries under RSA-OAEP-SHA256).
    RsaKey(Box<RsaPrivateKey>),
}

/// Which keys to recover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every key of the kit.
    All,
    /// One key id.
    KeyId(String),
    /// One keyset.
    Keyset(u64),
}

/// One workspace key as recovered. Public fields may be printed; the
/// private scalar is held only when the key reproduced its public key.
pub struct WorkspaceKey {
    /// The key id.
    pub key_id: String,
    /// Its algorithm.
    pub algo: Algo,
    /// Its keyset.
    pub keyset_id: u64,
    /// The public key from the metadata (lowercase hex).
    pub public_key: String,
    /// The chain code (lowercase hex).
    pub chain_code: String,
    /// xpub (ECDSA) or fpub (EdDSA).
    pub xpub: String,
    /// Whether the combined shares reproduce `public_key`.
    pub verified: bool,
    /// The private scalar, 32 bytes big-endian, only when verified.
    secret: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for WorkspaceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceKey")
            .field("key_id", &self.key_id)
            .field("algo", &self.algo)
            .field("keyset_id", &self.keyset_id)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

impl WorkspaceKey {
    /// The private scalar (32 bytes big-endian), if verified.
    pub fn private_scalar(&self) -> Option<&[u8; 32]> {
        self.secret.as_deref()
    }

    /// xprv (ECDSA) or fprv (EdDSA), if verified.
    pub fn xprv(&self) -> Option<Zeroizing<String>> {
        let secret = self.secret.as_ref()?;
        let chain = chain_bytes(&self.chain_code)?;
        let mut data = Zeroizing::new([0u8; 33]);
        data[1..].copy_from_slice(secret.as_slice());
        let version = if self.algo.is_eddsa() {
            0x0327_3A10
        } else {
            0x0488_ADE4
        };
        Some(extended_key(version, &chain, &data))
    }

    /// The public facts as JSON.
    pub fn public_json(&self) -> Value {
        serde_json::json!({
            "keyId": self.key_id, "algo": self.algo, "keysetId": self.keyset_id,
            "publicKey": self.public_key, "chainCode": self.chain_code,
            (if self.algo.is_eddsa() { "fpub" } else { "xpub" }): self.xpub,
            "verified": self.verified,
        })
    }
}

fn chain_bytes(hex_text: &str) -> Option<[u8; 32]> {
    hex::decode(hex_text).ok()?.try_into().ok()
}

/// Base58Check of version ‖ depth 0 ‖ parent 0 ‖ child 0 ‖ chain ‖ data.
fn extended_key(version: u32, chain: &[u8; 32], data: &[u8; 33]) -> Zeroizing<String> {
    let mut raw = Zeroizing::new(Vec::with_capacity(82));
    raw.extend_from_slice(&version.to_be_bytes());
    raw.extend_from_slice(&[0u8; 9]);
    raw.extend_from_slice(chain);
    raw.extend_from_slice(data);
    let check = Sha256::digest(Sha256::digest(&*raw));
    raw.extend_from_slice(&check[..4]);
    base58(&raw)
}

/// Bitcoin's base58 alphabet.
fn base58(bytes: &[u8]) -> Zeroizing<String> {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(bytes.len() * 2));
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut out = Zeroizing::new(String::with_capacity(zeros + digits.len()));
    for _ in 0..zeros {
        out.push('1');
    }
    for d in digits.iter().rev() {
        out.push(ALPHABET[*d as usize] as char);
    }
    out
}

/// The first `n` bytes of a UUID's text.
fn uuid_bytes(id: &str) -> Option<[u8; 16]> {
    let hexdigits: String = id.chars().filter(|c| *c != '-').collect();
    if id.len() != 36 || hexdigits.len() != 32 {
        return None;
    }
    hex::decode(hexdigits).ok()?.try_into().ok()
}

/// A share as a field element of the key's curve.
#[derive(Clone, Copy)]
enum Share {
    K(KScalar),
    Ed(EdScalar),
}

fn share_from_be(algo: Algo, bytes: &[u8]) -> Option<Share> {
    let trimmed = {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    };
    if trimmed.len() > 32 {
        return None;
    }
    let mut be = Zeroizing::new([0u8; 32]);
    be[32 - trimmed.len()..].copy_from_slice(trimmed);
    if algo.is_eddsa() {
        let mut le = Zeroizing::new(*be);
        le.reverse();
        Some(Share::Ed(EdScalar::from_bytes_mod_order(*le)))
    } else {
        Option::<KScalar>::from(KScalar::from_repr((*be).into())).map(Share::K)
    }
}

/// Combines (player id, share) pairs: the sum for CMP, else Lagrange at 0
/// ([`crate::recovery::lagrange_at_zero`], shared with shard recovery). A
/// player id that appears twice is an error for both.
fn combine(algo: Algo, shares: &[(u64, Share)]) -> Result<Share, DuplicateShareId> {
    for (i, (x, _)) in shares.iter().enumerate() {
        if shares[..i].iter().any(|(y, _)| y == x) {
            return Err(DuplicateShareId(*x));
        }
    }
    if algo.is_eddsa() {
        let pts: Vec<(u64, EdScalar)> = shares
            .iter()
            .filter_map(|(x, s)| match s {
                Share::Ed(v) => Some((*x, *v)),
                Share::K(_) => None,
            })
            .collect();
        if algo.is_cmp() {
            return Ok(Share::Ed(pts.iter().fold(EdScalar::ZERO, |a, p| a + p.1)));
        }
        lagrange_at_zero(&pts).map(Share::Ed)
    } else {
        let pts: Vec<(u64, KScalar)> = shares
            .iter()
            .filter_map(|(x, s)| match s {
                Share::K(v) => Some((*x, *v)),
                Share::Ed(_) => None,
            })
            .collect();
        if algo.is_cmp() {
            return Ok(Share::K(pts.iter().fold(KScalar::ZERO, |a, p| a + p.1)));
        }
        lagrange_at_zero(&pts).map(Share::K)
    }
}

/// (public key hex, private scalar big-endian) of a combined key.
fn public_and_secret(key: &Share) -> Option<(String, Zeroizing<[u8; 32]>)> {
    match key {
        Share::K(s) => {
            let public = shard::public_key_hex(&shard::public_of(s)?);
            let mut be = Zeroizing::new([0u8; 32]);
            be.copy_from_slice(&s.to_bytes());
            Some((public, be))
        }
        Share::Ed(s) => {
            let public = hex::encode(EdwardsPoint::mul_base(s).compress().to_bytes());
            let mut be = Zeroizing::new(s.to_bytes());
            be.reverse();
            Some((public, be))
        }
    }
}

fn xpub_of(algo: Algo, public_hex: &str, chain: &[u8; 32]) -> Option<String> {
    let point = hex::decode(public_hex).ok()?;
    let mut data = [0u8; 33];
    if algo.is_eddsa() {
        if point.len() != 32 {
            return None;
        }
        data[1..].copy_from_slice(&point);
        Some(extended_key(0x0327_3E4B, chain, &data).to_string())
    } else {
        if point.len() != 33 {
            return None;
        }
        data.copy_from_slice(&point);
        Some(extended_key(0x0488_B21E, chain, &data).to_string())
    }
}

/// The cloud entries of a key: (cosigner number, entry name).
fn cloud_entries(kit: &RecoveryKit, key_id: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = kit
        .entries
        .iter()
        .filter_map(|e| {
            let number = match kit.metadata.layout {
                Layout::Legacy if e.bytes().all(|c| c.is_ascii_digit()) => e.as_str(),
                _ => e.strip_suffix(key_id)?.strip_suffix('_')?,
            };
            if number.is_empty() || !number.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            Some((number.parse().ok()?, e.clone()))
        })
        .collect();
    out.sort();
    out
}

fn mobile_entry_name(kit: &RecoveryKit, key_id: &str) -> String {
    match kit.metadata.layout {
        Layout::Legacy => "MOBILE".into(),
        Layout::Keys => format!("MOBILE_{key_id}"),
    }
}

fn read(kit: &mut RecoveryKit, name: &str) -> Result<Option<Vec<u8>>, DrKitError> {
    kit.entry(name).map_err(|reason| DrKitError::NotAZip {
        path: kit.path.clone(),
        reason,
    })
}

/// Decrypts a cloud entry (RSA-OAEP-SHA1); `None` when it does not open.
fn open_cloud(key: &RsaPrivateKey, blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    key.decrypt(Oaep::<sha1::Sha1>::new(), blob)
        .ok()
        .map(Zeroizing::new)
}

/// The mobile entry's plaintext; `None` when the secret does not open it.
fn open_mobile(entry: &Value, secret: &MobileSecret) -> Option<Zeroizing<Vec<u8>>> {
    let encrypted = hex::decode(entry.get("encryptedKey")?.as_str()?).ok()?;
    match secret {
        MobileSecret::RsaKey(key) => key
            .decrypt(Oaep::<Sha256>::new(), &encrypted)
            .ok()
            .map(Zeroizing::new),
        MobileSecret::Passphrase(pass) => {
            use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
            let user = entry.get("userId")?.as_str()?;
            let mut wrap = Zeroizing::new([0u8; 32]);
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                pass.expose_secret().as_bytes(),
                user.as_bytes(),
                MOBILE_PBKDF2_ITERATIONS,
                wrap.as_mut_slice(),
            );
            let mut buf = Zeroizing::new(encrypted);
            let len = cbc::Decryptor::<aes::Aes256>::new_from_slices(wrap.as_slice(), &[0u8; 16])
                .ok()?
                .decrypt_padded::<Pkcs7>(&mut buf)
                .ok()?
                .len();
            buf.truncate(len);
            Some(buf)
        }
    }
}

/// The share in a mobile plaintext: JSON `{"key": hex}`, 36 bytes (algo
/// number LE ‖ share), or the share itself.
fn mobile_share(
    plain: &[u8],
    algo: Algo,
    entry: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, DrKitError> {
    if plain.first() == Some(&b'{') {
        let v: Value = match serde_json::from_slice(plain) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        };
        return Ok(v
            .get("key")
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
            .map(Zeroizing::new));
    }
    if plain.len() == 36 {
        let number = u32::from_le_bytes([plain[0], plain[1], plain[2], plain[3]]);
        if number != algo.mobile_number() {
            return Err(DrKitError::MobileAlgorithmMismatch {
                entry: entry.to_string(),
                found: number,
                algo: algo.name(),
            });
        }
        return Ok(Some(Zeroizing::new(plain[4..].to_vec())));
    }
    if plain.len() == 32 {
        return Ok(Some(Zeroizing::new(plain.to_vec())));
    }
    Ok(None)
}

/// The keys of the kit that `select` picks, in metadata order.
pub fn selected_keys(kit: &RecoveryKit, select: &Selection) -> Result<Vec<KitKey>, DrKitError> {
    let keys: Vec<KitKey> = kit
        .metadata
        .keys
        .iter()
        .filter(|k| match select {
            Selection::All => true,
            Selection::KeyId(id) => &k.key_id == id,
            Selection::Keyset(n) => k.keyset_id == *n,
        })
        .cloned()
        .collect();
    if keys.is_empty() {
        return Err(DrKitError::NoSuchWorkspaceKey(match select {
            Selection::All => "the kit lists no workspace keys".into(),
            Selection::KeyId(id) => format!("the kit lists no key {id}"),
            Selection::Keyset(n) => format!("the kit lists no key in keyset {n}"),
        }));
    }
    Ok(keys)
}

/// Recovers the selected workspace keys. Every entry is decrypted and
/// checked; a key that does not reproduce its public key comes back with
/// `verified: false` and no secret. Errors name the first entry that
/// cannot be used.
pub fn recover(
    kit: &mut RecoveryKit,
    rsa: &RsaPrivateKey,
    mobile: &MobileSecret,
    select: &Selection,
) -> Result<Vec<WorkspaceKey>, DrKitError> {
    let keys = selected_keys(kit, select)?;
    // Whether the recovery key and the mobile secret open at least one
    // entry of their kind: then an entry they do not open is damaged, not
    // meant for another key or passphrase.
    let mut rsa_opened_one = false;
    let mut mobile_opened_one = false;
    let mut out = Vec::with_capacity(keys.len());
    let mut pending_cloud_failure: Option<String> = None;
    let mut pending_mobile_failure: Option<String> = None;
    for k in &keys {
        let algo = match &k.algo {
            None if kit.metadata.layout == Layout::Legacy => Algo::Ecdsa,
            None => {
                return Err(DrKitError::BadMetadata(format!(
                    "key {} has no algo",
                    k.key_id
                )));
            }
            Some(a) => Algo::parse(a).ok_or_else(|| DrKitError::UnknownKeyAlgorithm {
                key_id: k.key_id.clone(),
                algo: a.clone(),
            })?,
        };
        let public_key = k
            .public_key
            .clone()
            .ok_or_else(|| DrKitError::BadMetadata(format!("key {} has no publicKey", k.key_id)))?
            .to_ascii_lowercase();
        let chain_code = k
            .chain_code
            .clone()
            .or_else(|| kit.metadata.chain_code.clone())
            .map(|c| c.to_ascii_lowercase())
            .filter(|c| chain_bytes(c).is_some())
            .ok_or_else(|| {
                DrKitError::BadMetadata(format!(
                    "key {} has no 32-byte chainCode (nor has the kit)",
                    k.key_id
                ))
            })?;
        let chain = chain_bytes(&chain_code).unwrap_or([0; 32]);
        let xpub = xpub_of(algo, &public_key, &chain).ok_or_else(|| {
            DrKitError::BadMetadata(format!(
                "key {}: publicKey is not a {} public key",
                k.key_id,
                if algo.is_eddsa() {
                    "32-byte ed25519"
                } else {
                    "33-byte compressed secp256k1"
                }
            ))
        })?;
        let key_prefix = uuid_bytes(&k.key_id)
            .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .ok_or_else(|| DrKitError::BadCosignerId(k.key_id.clone()))?;
        let mut shares: Vec<(u64, Share)> = Vec::new();
        let cloud = cloud_entries(kit, &k.key_id);
        if cloud.is_empty() {
            return Err(DrKitError::MissingKeyEntry {
                key_id: k.key_id.clone(),
                what: format!("no cloud share entry <cosigner>_{}", k.key_id),
            });
        }
        for (number, entry) in cloud {
            let blob = read(kit, &entry)?.unwrap_or_default();
            let Some(plain) = open_cloud(rsa, &blob) else {
                if rsa.decrypt(Oaep::<Sha256>::new(), &blob).is_ok() {
                    return Err(DrKitError::EntryOaepSha256 { entry });
                }
                pending_cloud_failure.get_or_insert(entry);
                continue;
            };
            rsa_opened_one = true;
            let share = share_from_be(algo, &plain).ok_or_else(|| DrKitError::BadShare {
                entry: entry.clone(),
            })?;
            shares.push(((number << 32) | key_prefix, share));
        }
        let mobile_name = mobile_entry_name(kit, &k.key_id);
        let mobile_bytes = read(kit, &mobile_name)?.ok_or_else(|| DrKitError::MissingKeyEntry {
            key_id: k.key_id.clone(),
            what: format!("no mobile (owner's) share entry {mobile_name}"),
        })?;
        let entry_json: Value =
            serde_json::from_slice(&mobile_bytes).map_err(|_| DrKitError::BadShare {
                entry: mobile_name.clone(),
            })?;
        let device = entry_json
            .get("deviceId")
            .and_then(Value::as_str)
            .and_then(uuid_bytes)
            .ok_or_else(|| DrKitError::BadShare {
                entry: mobile_name.clone(),
            })?;
        let mut id6 = [0u8; 8];
        id6[2..].copy_from_slice(&device[..6]);
        let mobile_player = u64::from_be_bytes(id6);
        match open_mobile(&entry_json, mobile) {
            None => {
                pending_mobile_failure.get_or_insert(mobile_name);
            }
            Some(plain) => {
                // A wrong passphrase passes the padding check 1 time in 256;
                // then the plaintext is no share: the entry did not open.
                let share = mobile_share(&plain, algo, &mobile_name)?
                    .and_then(|raw| share_from_be(algo, &raw));
                match share {
                    Some(share) => {
                        mobile_opened_one = true;
                        shares.push((mobile_player, share));
                    }
                    None => {
                        pending_mobile_failure.get_or_insert(mobile_name);
                    }
                }
            }
        }
        if pending_cloud_failure.is_some() || pending_mobile_failure.is_some() {
            // Keep going: whether another entry opens decides the words.
            continue;
        }
        let combined = combine(algo, &shares).map_err(|d| DrKitError::DuplicatePlayerId {
            key_id: k.key_id.clone(),
            id: d.0,
        })?;
        let recovered = public_and_secret(&combined);
        let (verified, secret) = match recovered {
            Some((public, secret)) if public == public_key => (true, Some(secret)),
            Some((_, mut secret)) => {
                secret.zeroize();
                (false, None)
            }
            None => (false, None),
        };
        out.push(WorkspaceKey {
            key_id: k.key_id.clone(),
            algo,
            keyset_id: k.keyset_id,
            public_key,
            chain_code,
            xpub,
            verified,
            secret,
        });
    }
    if let Some(entry) = pending_cloud_failure {
        return Err(if rsa_opened_one || master_entry_opens(kit, rsa) {
            DrKitError::DamagedEntry { entry }
        } else {
            DrKitError::WrongRsaKey { entry }
        });
    }
    if let Some(entry) = pending_mobile_failure {
        return Err(if mobile_opened_one {
            DrKitError::DamagedEntry { entry }
        } else {
            DrKitError::WrongMobileSecret {
                entry,
                rsa: matches!(mobile, MobileSecret::RsaKey(_)),
            }
        });
    }
    Ok(out)
}

/// Whether the recovery key opens the kit's NCW master-key entry.
fn master_entry_opens(kit: &mut RecoveryKit, rsa: &RsaPrivateKey) -> bool {
    kit.decrypt_master_keys(rsa).is_ok()
}

/// One synthetic workspace key in the vendor's exact format, for drill
/// kits: its metadata entry and its zip entries (cloud shares under
/// RSA-OAEP-SHA1 to the recovery key, the owner's share under AES-256-CBC
/// with PBKDF2-HMAC-SHA1 of the owner's passphrase).
pub(crate) struct SyntheticKey {
    /// The key id.
    pub key_id: String,
    /// Its metadata object.
    pub metadata: Value,
    /// (entry name, bytes).
    pub entries: Vec<(String, Vec<u8>)>,
}

/// Makes a random key of `algo` shared between the cloud cosigners and the
/// owner's device, exactly as [`recover`] reads it: player ids
/// `(cosigner number << 32) | key-id prefix` and the device id's first six
/// bytes; Lagrange shares for the non-CMP algorithms, additive for CMP.
pub(crate) fn synthetic_key(
    key_id: String,
    algo: Algo,
    keyset_id: u64,
    chain_code: Option<&str>,
    cloud: &[String],
    rsa: &rsa::PublicKey,
    owner_passphrase: &SecretString,
) -> Result<SyntheticKey, DrKitError> {
    use rand::Rng as _;
    let enc = |e: &dyn std::fmt::Display| DrKitError::Encode(e.to_string());
    let device = super::kit::random_uuid();
    let user = super::kit::random_uuid();
    let key_prefix = uuid_bytes(&key_id)
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .ok_or_else(|| DrKitError::BadCosignerId(key_id.clone()))?;
    let mut numbers = Vec::with_capacity(cloud.len());
    for c in cloud {
        numbers.push(u64::from(super::kit::cosigner_prefix(c)?));
    }
    let device_bytes =
        uuid_bytes(&device).ok_or_else(|| DrKitError::BadCosignerId(device.clone()))?;
    let mut id6 = [0u8; 8];
    id6[2..].copy_from_slice(&device_bytes[..6]);
    let mut players: Vec<u64> = numbers.iter().map(|n| (n << 32) | key_prefix).collect();
    players.push(u64::from_be_bytes(id6));
    let mut rng = crate::rng::os();
    let mut random_share = || -> Share {
        let mut wide = Zeroizing::new([0u8; 64]);
        rng.fill_bytes(wide.as_mut_slice());
        if algo.is_eddsa() {
            Share::Ed(EdScalar::from_bytes_mod_order_wide(&wide))
        } else {
            Share::K(
                *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
                    &mut crate::rng::os(),
                ),
            )
        }
    };
    // The secret, then the shares: CMP additive (random parts, the last
    // one making up the sum), else a random polynomial through all players.
    let n = players.len();
    let coefficients: Vec<Share> = (0..n).map(|_| random_share()).collect();
    let secret = coefficients[0];
    let shares: Vec<Share> = if algo.is_cmp() {
        let mut parts: Vec<Share> = coefficients[1..].to_vec();
        let last = match secret {
            Share::K(s) => Share::K(parts.iter().fold(s, |acc, p| match p {
                Share::K(v) => acc - v,
                Share::Ed(_) => acc,
            })),
            Share::Ed(s) => Share::Ed(parts.iter().fold(s, |acc, p| match p {
                Share::Ed(v) => acc - v,
                Share::K(_) => acc,
            })),
        };
        parts.push(last);
        parts
    } else {
        players
            .iter()
            .map(|x| match secret {
                Share::K(_) => {
                    let x = KScalar::from(*x);
                    let mut acc = KScalar::ZERO;
                    for c in coefficients.iter().rev() {
                        if let Share::K(c) = c {
                            acc = acc * x + c;
                        }
                    }
                    Share::K(acc)
                }
                Share::Ed(_) => {
                    let x = EdScalar::from(*x);
                    let mut acc = EdScalar::ZERO;
                    for c in coefficients.iter().rev() {
                        if let Share::Ed(c) = c {
                            acc = acc * x + c;
                        }
                    }
                    Share::Ed(acc)
                }
            })
            .collect()
    };
    let (public, _) = public_and_secret(&secret)
        .ok_or_else(|| DrKitError::Encode("the synthetic key is zero".into()))?;
    let be = |s: &Share| -> Zeroizing<[u8; 32]> {
        match s {
            Share::K(v) => {
                let mut b = Zeroizing::new([0u8; 32]);
                b.copy_from_slice(&v.to_bytes());
                b
            }
            Share::Ed(v) => {
                let mut b = Zeroizing::new(v.to_bytes());
                b.reverse();
                b
            }
        }
    };
    let mut entries = Vec::with_capacity(n);
    for (number, share) in numbers.iter().zip(&shares) {
        let blob = rsa
            .encrypt(
                &mut crate::rng::os(),
                Oaep::<sha1::Sha1>::new(),
                be(share).as_slice(),
            )
            .map_err(|e| enc(&e))?;
        entries.push((format!("{number}_{key_id}"), blob));
    }
    // The owner's share: JSON {"key": hex} under AES-256-CBC, zero IV.
    let owner = be(&shares[n - 1]);
    let plain = Zeroizing::new(format!("{{\"key\":\"{}\"}}", hex::encode(owner.as_slice())));
    let mut wrap = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
        owner_passphrase.expose_secret().as_bytes(),
        user.as_bytes(),
        MOBILE_PBKDF2_ITERATIONS,
        wrap.as_mut_slice(),
    );
    let encrypted = {
        use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
        let len = plain.len();
        let mut buf = Zeroizing::new(vec![0u8; (len / 16 + 1) * 16]);
        buf[..len].copy_from_slice(plain.as_bytes());
        let out = cbc::Encryptor::<aes::Aes256>::new_from_slices(wrap.as_slice(), &[0u8; 16])
            .map_err(|e| enc(&e))?
            .encrypt_padded::<Pkcs7>(&mut buf, len)
            .map_err(|e| enc(&e))?;
        hex::encode(out)
    };
    let mobile = serde_json::json!({
        "keyId": key_id, "userId": user, "deviceId": device, "encryptedKey": encrypted,
    });
    entries.push((
        format!("MOBILE_{key_id}"),
        serde_json::to_vec(&mobile).map_err(|e| enc(&e))?,
    ));
    let mut metadata = serde_json::json!({
        "publicKey": public,
        "algo": algo.name(),
        "cosigners": cloud.iter().map(|c| serde_json::json!({"id": c, "type": "cloud"})).collect::<Vec<_>>(),
    });
    if let Some(c) = chain_code {
        metadata["chainCode"] = Value::String(c.to_string());
    }
    if keyset_id != 1 {
        metadata["keysetId"] = Value::from(keyset_id);
    }
    Ok(SyntheticKey {
        key_id,
        metadata,
        entries,
    })
}

/// The audit event of `kit verify` with the mobile secret.
pub const EVENT_VERIFY: &str = "DRKIT_VERIFY_WORKSPACE_KEYS";
/// The audit event of `kit recover`.
pub const EVENT_RECOVER: &str = "DRKIT_RECOVER_WORKSPACE_KEYS";
/// `format` of the age output's JSON document.
pub const OUTPUT_FORMAT: &str = "custodian-workspace-keys";

/// `format` of the HSM output's public manifest.
pub const MANIFEST_FORMAT: &str = "custodian-workspace-keys-hsm";
/// The HSM output's manifest file name inside `--out DIR`.
pub const MANIFEST_NAME: &str = "workspace-keys-manifest.json";
/// Audit event recording that a one-time display of the keys was cleared.
pub const EVENT_CLEARED: &str = "DRKIT_RECOVER_SCREEN_CLEARED";
/// What the scalar is, said wherever a private scalar is shown or written.
pub const SCALAR_NOTE: &str = "the 32-byte private scalar, big-endian; for EdDSA keys it is the raw scalar, not an RFC 8032 seed";

/// Where recovered keys go: one way only.
#[derive(Debug, Clone)]
pub enum KeysOutput {
    /// One age file (armored) holding the JSON document, to a recipient.
    Age {
        /// The age recipient.
        recipient: String,
        /// The file to create.
        out: std::path::PathBuf,
    },
    /// One RSA-OAEP-SHA256 block per key (the 32-byte scalar) wrapped to
    /// an HSM import key, in `dir/<key id>.oaep`, plus a public manifest
    /// `dir/`[`MANIFEST_NAME`]. A `dir` that does not exist is created
    /// (0700) by the transaction and removed again if it fails; an
    /// existing directory is written into, and none of the files may
    /// exist in it yet.
    Hsm {
        /// The HSM import public key (RSA PEM).
        public_key_pem: std::path::PathBuf,
        /// The directory to create, or an existing one to write into.
        dir: std::path::PathBuf,
    },
    /// Handed back to the caller for a one-time display.
    Screen,
}

impl KeysOutput {
    fn describe(&self) -> Value {
        match self {
            KeysOutput::Age { recipient, out } => {
                serde_json::json!({"age": recipient, "file": out})
            }
            KeysOutput::Hsm {
                public_key_pem,
                dir,
            } => serde_json::json!({
                "kind": "hsm-rsa-oaep-sha256", "publicKey": public_key_pem, "dir": dir,
            }),
            KeysOutput::Screen => serde_json::json!("screen, once"),
        }
    }
}

/// The file an HSM output writes for a key.
pub fn hsm_file_name(key_id: &str) -> Result<String, DrKitError> {
    if uuid_bytes(key_id).is_none() {
        return Err(DrKitError::KeyIdNotAFileName(key_id.to_string()));
    }
    Ok(format!("{key_id}.oaep"))
}

/// The checked HSM output: the import key and the files to create.
struct HsmPlan {
    key: rsa::PublicKey,
    key_sha256: String,
    /// The output directory, and whether the transaction creates it.
    dir: std::path::PathBuf,
    create_dir: bool,
    /// (key id, path) per key, in selection order.
    files: Vec<(String, std::path::PathBuf)>,
    manifest: std::path::PathBuf,
}

/// Checks everything public about an output before any secret is asked
/// for or any transaction starts: the recipient, the HSM key (RSA, at
/// least 2048 bits, not a pasted secret), the output directory, and that
/// no file to be written exists yet. Nothing is written.
pub fn check_output(
    kit: &RecoveryKit,
    select: &Selection,
    output: &KeysOutput,
) -> Result<(), DrKitError> {
    plan_output(kit, select, output).map(|_| ())
}

fn plan_output(
    kit: &RecoveryKit,
    select: &Selection,
    output: &KeysOutput,
) -> Result<Option<HsmPlan>, DrKitError> {
    let keys = selected_keys(kit, select)?;
    match output {
        KeysOutput::Screen => Ok(None),
        KeysOutput::Age { recipient, out } => {
            crate::identity::parse_recipient(recipient)
                .map_err(|e| DrKitError::Encode(format!("--to: {e}")))?;
            if out.symlink_metadata().is_ok() {
                return Err(crate::fsutil::FsError::AlreadyExists(out.clone()).into());
            }
            Ok(None)
        }
        KeysOutput::Hsm {
            public_key_pem,
            dir,
        } => {
            let key = crate::recovery::load_hsm_key(public_key_pem).map_err(DrKitError::HsmKey)?;
            let key_sha256 = {
                use rsa::pkcs8::EncodePublicKey;
                let der = key
                    .to_public_key_der()
                    .map_err(|e| DrKitError::Rsa(e.to_string()))?;
                hex::encode(Sha256::digest(der.as_bytes()))
            };
            // `--out F`: a new directory F is created (in the transaction);
            // an existing directory is written into.
            let create_dir = match dir.symlink_metadata() {
                Ok(m) if m.is_dir() => false,
                Ok(_) => {
                    return Err(DrKitError::OutputDir {
                        path: dir.clone(),
                        reason: "exists and is not a directory; the HSM output is a directory of one file per key and a manifest: name a new one (custodian creates it) or an existing directory".into(),
                    });
                }
                Err(_) => {
                    let parent = dir
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .unwrap_or(std::path::Path::new("."));
                    if !parent.is_dir() {
                        return Err(DrKitError::OutputDir {
                            path: dir.clone(),
                            reason: format!(
                                "cannot be created: the folder {} does not exist",
                                parent.display()
                            ),
                        });
                    }
                    true
                }
            };
            let mut files = Vec::with_capacity(keys.len());
            for k in &keys {
                files.push((k.key_id.clone(), dir.join(hsm_file_name(&k.key_id)?)));
            }
            let manifest = dir.join(MANIFEST_NAME);
            let existing: Vec<String> = files
                .iter()
                .map(|f| &f.1)
                .chain(std::iter::once(&manifest))
                .filter(|p| p.symlink_metadata().is_ok())
                .map(|p| p.display().to_string())
                .collect();
            if !existing.is_empty() {
                return Err(DrKitError::OutputDir {
                    path: dir.clone(),
                    reason: format!(
                        "already holds {}; nothing is ever overwritten",
                        existing.join(", ")
                    ),
                });
            }
            Ok(Some(HsmPlan {
                key,
                key_sha256,
                dir: dir.clone(),
                create_dir,
                files,
                manifest,
            }))
        }
    }
}

/// One recovered key for a one-time display. Never in Debug.
pub struct ShownKey {
    /// The key id.
    pub key_id: String,
    /// Its algorithm.
    pub algo: Algo,
    /// Its keyset.
    pub keyset_id: u64,
    /// The private scalar (see [`SCALAR_NOTE`]), hex in groups of 8.
    pub scalar_grouped: Zeroizing<String>,
    /// xprv (ECDSA) or fprv (EdDSA).
    pub extended: Zeroizing<String>,
}

impl std::fmt::Debug for ShownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShownKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ShownKey {
    /// "xprv" or "fprv".
    pub fn extended_name(&self) -> &'static str {
        if self.algo.is_eddsa() { "fprv" } else { "xprv" }
    }

    /// The display lines, none wider than `width` columns (the private
    /// values are cut into pieces to fit).
    pub fn lines(&self, width: usize) -> Vec<Zeroizing<String>> {
        let width = width.max(20);
        let mut out = vec![
            Zeroizing::new(format!(
                "key {}  {}  keyset {}",
                self.key_id,
                self.algo.name(),
                self.keyset_id
            )),
            Zeroizing::new(if self.algo.is_eddsa() {
                "private scalar (raw scalar, not an RFC 8032 seed):".to_string()
            } else {
                "private scalar (32 bytes, big-endian):".to_string()
            }),
        ];
        for chunk in wrap_secret(&self.scalar_grouped, width - 4) {
            out.push(Zeroizing::new(format!("    {}", chunk.as_str())));
        }
        out.push(Zeroizing::new(format!("{}:", self.extended_name())));
        for chunk in wrap_secret(&self.extended, width - 4) {
            out.push(Zeroizing::new(format!("    {}", chunk.as_str())));
        }
        out
    }
}

fn wrap_secret(text: &str, width: usize) -> Vec<Zeroizing<String>> {
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(text.chars().collect());
    chars
        .chunks(width.max(1))
        .map(|c| Zeroizing::new(c.iter().collect::<String>()))
        .collect()
}

fn shown_key(k: &WorkspaceKey) -> Option<ShownKey> {
    let scalar = k.private_scalar()?;
    let hexed = Zeroizing::new(hex::encode(scalar));
    let mut grouped = Zeroizing::new(String::with_capacity(72));
    for (i, c) in hexed.chars().enumerate() {
        if i > 0 && i % 8 == 0 {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    Some(ShownKey {
        key_id: k.key_id.clone(),
        algo: k.algo,
        keyset_id: k.keyset_id,
        scalar_grouped: grouped,
        extended: k.xprv()?,
    })
}

/// What `kit recover` produced. Public facts, plus the keys to show once
/// when the output is the screen.
pub struct KeysOutcome {
    /// Every key's public facts (`verified` true for all: otherwise nothing
    /// is output).
    pub keys: Vec<Value>,
    /// The files written and their SHA-256 (age: one; HSM: one per key,
    /// then the manifest).
    pub written: Vec<(std::path::PathBuf, String)>,
    /// The HSM manifest (public), when written.
    pub manifest: Option<std::path::PathBuf>,
    /// The private keys to show once (screen output).
    pub shown_once: Option<Vec<ShownKey>>,
    /// The audit operation (to record the screen clearing against).
    pub audit_op: String,
}

impl std::fmt::Debug for KeysOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeysOutcome")
            .field("keys", &self.keys)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

/// The secret document: every key with its private scalar and xprv/fprv.
fn secret_document(kit_sha256: &str, keys: &[WorkspaceKey]) -> Zeroizing<String> {
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut v = k.public_json();
            if let Some(s) = k.private_scalar() {
                v["privateKey"] = Value::String(hex::encode(s));
            }
            if let Some(x) = k.xprv() {
                v[if k.algo.is_eddsa() { "fprv" } else { "xprv" }] = Value::String(x.to_string());
            }
            v
        })
        .collect();
    let doc = serde_json::json!({
        "format": OUTPUT_FORMAT, "version": 1, "kitSha256": kit_sha256,
        "note": format!("privateKey is {SCALAR_NOTE}"),
        "keys": list,
    });
    Zeroizing::new(serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
}

fn refuse_unverified(keys: &[WorkspaceKey]) -> Result<(), DrKitError> {
    let failed: Vec<String> = keys
        .iter()
        .filter(|k| !k.verified)
        .map(|k| format!("{} ({})", k.key_id, k.algo.name()))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(DrKitError::KeysNotReproduced(failed))
    }
}

/// `kit verify` with the mobile secret: every selected workspace key is
/// recovered and checked against its public key, then dropped; audited.
/// Keys that do not reproduce are an error naming them.
pub fn verify_audited(
    ws: &crate::workspace::Workspace,
    kit: RecoveryKit,
    key_path: &std::path::Path,
    passphrase: Option<&SecretString>,
    mobile: &MobileSecret,
    select: &Selection,
) -> Result<Vec<Value>, DrKitError> {
    let (listed, verdict) = verify_listed(ws, kit, key_path, passphrase, mobile, select)?;
    verdict?;
    Ok(listed)
}

/// Like [`verify_audited`], but a key that does not reproduce its public
/// key is listed with `"verified": false` instead of hiding the others
/// (the console shows every key). The audit entry is FAILED, naming those
/// keys, when any does not reproduce. No private value leaves this call.
pub fn verify_listed_audited(
    ws: &crate::workspace::Workspace,
    kit: RecoveryKit,
    key_path: &std::path::Path,
    passphrase: Option<&SecretString>,
    mobile: &MobileSecret,
    select: &Selection,
) -> Result<Vec<Value>, DrKitError> {
    verify_listed(ws, kit, key_path, passphrase, mobile, select).map(|(listed, _)| listed)
}

/// The audited verification both of the above share: every key's public
/// facts, and the verdict ([`refuse_unverified`] on the recovered keys,
/// computed once) that the audit entry records.
fn verify_listed(
    ws: &crate::workspace::Workspace,
    mut kit: RecoveryKit,
    key_path: &std::path::Path,
    passphrase: Option<&SecretString>,
    mobile: &MobileSecret,
    select: &Selection,
) -> Result<(Vec<Value>, Result<(), DrKitError>), DrKitError> {
    let op = ws.audit().begin(
        EVENT_VERIFY,
        serde_json::json!({ "kit": kit.path, "kitSha256": kit.sha256, "key": key_path,
            "mobileSecret": match mobile { MobileSecret::Passphrase(_) => "passphrase", MobileSecret::RsaKey(_) => "rsa-key" } }),
    )?;
    let result = super::keys::load_private_key(key_path, passphrase)
        .and_then(|rsa| recover(&mut kit, &rsa, mobile, select))
        .map(|keys| {
            let listed = keys
                .iter()
                .map(WorkspaceKey::public_json)
                .collect::<Vec<_>>();
            (listed, refuse_unverified(&keys))
        });
    match result {
        Ok((listed, verdict)) => {
            match &verdict {
                Ok(()) => {
                    op.complete(serde_json::json!({ "verified": listed.len() }))?;
                }
                Err(e) => {
                    op.fail(&e.to_string())?;
                }
            }
            Ok((listed, verdict))
        }
        Err(e) => {
            op.fail(&e.to_string())?;
            Err(e)
        }
    }
}

/// Checks a recovery's approvals against the workspace policy: at least
/// [`crate::recovery::MIN_APPROVERS`] different people, and under the
/// "authenticated" policy at least that many who opened their identity.
pub fn check_approvals(
    ws: &crate::workspace::Workspace,
    approvals: &[crate::approvals::Approval],
) -> Result<crate::approvals::ApprovalPolicy, DrKitError> {
    let policy = crate::approvals::policy(&ws.registry()?);
    crate::approvals::check(policy, approvals)?;
    if approvals.len() < crate::recovery::MIN_APPROVERS {
        return Err(DrKitError::TooFewApprovers {
            given: approvals.len(),
        });
    }
    Ok(policy)
}

/// Everything `kit recover` needs besides the workspace and the kit.
pub struct RecoverRequest<'a> {
    /// The recovery private key file.
    pub key_path: &'a std::path::Path,
    /// Its passphrase, when encrypted.
    pub passphrase: Option<&'a SecretString>,
    /// The owner's (mobile) secret.
    pub mobile: &'a MobileSecret,
    /// Which keys.
    pub select: &'a Selection,
    /// The one output.
    pub output: &'a KeysOutput,
    /// The approvals, gathered (identities opened) before this call.
    pub approvals: &'a [crate::approvals::Approval],
}

/// `kit recover`: the selected workspace keys, verified, to one output,
/// in a transaction (each file is written unnamed, read back and checked
/// before the commit publishes it). Nothing is output unless every
/// selected key reproduces its public key, and nothing starts unless the
/// approvals satisfy the workspace policy.
pub fn recover_audited(
    ws: &crate::workspace::Workspace,
    mut kit: RecoveryKit,
    req: &RecoverRequest<'_>,
) -> Result<KeysOutcome, DrKitError> {
    let hsm = plan_output(&kit, req.select, req.output)?;
    let policy = check_approvals(ws, req.approvals)?;
    let mut tx = ws.begin(
        EVENT_RECOVER,
        serde_json::json!({ "kit": kit.path, "kitSha256": kit.sha256, "key": req.key_path,
            "selection": format!("{:?}", req.select),
            "approvals": req.approvals.iter().map(crate::approvals::Approval::audit_value).collect::<Vec<_>>(),
            "approvalPolicy": policy.as_str(),
            "output": req.output.describe() }),
    )?;
    let audit_op = tx.op_id().to_string();
    let run = (|| {
        let rsa = super::keys::load_private_key(req.key_path, req.passphrase)?;
        let keys = recover(&mut kit, &rsa, req.mobile, req.select)?;
        refuse_unverified(&keys)?;
        let public: Vec<Value> = keys.iter().map(WorkspaceKey::public_json).collect();
        match req.output {
            KeysOutput::Screen => {
                let shown: Vec<ShownKey> = keys.iter().filter_map(shown_key).collect();
                Ok((public, Vec::new(), None, Some(shown)))
            }
            KeysOutput::Age { recipient, out } => {
                let doc = secret_document(&kit.sha256, &keys);
                let to = crate::identity::parse_recipient(recipient)
                    .map_err(|e| DrKitError::Encode(format!("--to: {e}")))?;
                let sealed = shard::seal_to(&to, doc.as_bytes())
                    .map_err(|e| DrKitError::Encode(e.to_string()))?;
                let sha = tx.write_output(out, sealed.armored.as_bytes(), |read| {
                    let s = std::str::from_utf8(read).map_err(|e| e.to_string())?;
                    sealed.verify(s, doc.as_bytes())
                })?;
                Ok((public, vec![(out.clone(), sha)], None, None))
            }
            KeysOutput::Hsm { .. } => {
                let plan = hsm
                    .as_ref()
                    .ok_or_else(|| DrKitError::Encode("the HSM output was not planned".into()))?;
                let size = rsa::traits::PublicKeyParts::size(&plan.key);
                if plan.create_dir {
                    tx.create_dir(&plan.dir)?;
                }
                let mut written = Vec::with_capacity(plan.files.len() + 1);
                let mut listed = Vec::with_capacity(keys.len());
                for (k, (id, path)) in keys.iter().zip(&plan.files) {
                    debug_assert_eq!(&k.key_id, id);
                    let scalar = k
                        .private_scalar()
                        .ok_or_else(|| DrKitError::KeysNotReproduced(vec![k.key_id.clone()]))?;
                    let block = plan
                        .key
                        .encrypt(&mut crate::rng::os(), Oaep::<Sha256>::new(), scalar)
                        .map_err(|e| DrKitError::Rsa(e.to_string()))?;
                    let sha = tx.write_output(path, &block, |read| {
                        if read.len() == size {
                            Ok(())
                        } else {
                            Err("the wrapped key has the wrong length".into())
                        }
                    })?;
                    let mut v = k.public_json();
                    v["file"] = Value::String(hsm_file_name(&k.key_id)?);
                    v["fileSha256"] = Value::String(sha.clone());
                    listed.push(v);
                    written.push((path.clone(), sha));
                }
                let manifest = serde_json::json!({
                    "format": MANIFEST_FORMAT, "version": 1, "kitSha256": kit.sha256,
                    "wrapping": "RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label",
                    "hsmPublicKeySha256": plan.key_sha256,
                    "plaintext": SCALAR_NOTE,
                    "keys": listed,
                });
                let text = serde_json::to_string_pretty(&manifest)
                    .map_err(|e| DrKitError::Encode(e.to_string()))?
                    + "\n";
                let sha = tx.write_output(&plan.manifest, text.as_bytes(), |read| {
                    if read == text.as_bytes() {
                        Ok(())
                    } else {
                        Err("the manifest read back differs".into())
                    }
                })?;
                written.push((plan.manifest.clone(), sha));
                Ok((public, written, Some(plan.manifest.clone()), None))
            }
        }
    })();
    let (keys, written, manifest, shown_once) = match run {
        Ok(r) => r,
        Err(e) => return Err(tx.fail_with(e)),
    };
    let outcome = KeysOutcome {
        keys,
        written,
        manifest,
        shown_once,
        audit_op,
    };
    tx.commit(
        |_| Ok::<_, DrKitError>(outcome),
        |o| {
            serde_json::json!({
                "keys": o.keys.iter().map(|k| serde_json::json!({"keyId": k["keyId"], "algo": k["algo"], "verified": k["verified"]})).collect::<Vec<_>>(),
                "outputs": o.written.iter().map(|w| serde_json::json!({"file": w.0, "sha256": w.1})).collect::<Vec<_>>(),
            })
        },
    )
}

/// Records that a one-time display of recovered keys was cleared: the
/// recovery's operation, whether the keys were shown and, where the caller
/// knows it (the console), how the display ended ("shown-and-cleared",
/// "timed-out", "abandoned").
pub fn record_cleared(
    ws: &crate::workspace::Workspace,
    op: &str,
    shown: bool,
    ended: Option<&str>,
) -> Result<(), crate::audit::AuditError> {
    let mut details = serde_json::Map::new();
    details.insert("recoverOp".into(), op.into());
    if let Some(ended) = ended {
        details.insert("ended".into(), ended.into());
    }
    details.insert("shown".into(), shown.into());
    ws.audit()
        .record(EVENT_CLEARED, Value::Object(details))
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58check_matches_bip32_test_vector_1() {
        // BIP-32 test vector 1, chain m: xpub from its chain code and key.
        let chain: [u8; 32] =
            hex::decode("873dff81c02f525623fd1fe5167eac3a55a049de3d314bb42ee227ffed37d508")
                .unwrap()
                .try_into()
                .unwrap();
        let key: [u8; 33] =
            hex::decode("0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2")
                .unwrap()
                .try_into()
                .unwrap();
        assert_eq!(
            extended_key(0x0488_B21E, &chain, &key).as_str(),
            "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8"
        );
    }

    #[test]
    fn lagrange_and_sum_rebuild_on_both_curves() {
        for algo in [Algo::Ecdsa, Algo::Eddsa] {
            // f(x) = 5 + 7x: f(1) = 12, f(2) = 19.
            let s = |v: u8| share_from_be(algo, &[v]).unwrap();
            let key = combine(algo, &[(1, s(12)), (2, s(19))]).unwrap();
            assert_eq!(
                combine(algo, &[(1, s(12)), (1, s(19))]).err(),
                Some(DuplicateShareId(1)),
                "{algo:?}"
            );
            let five = s(5);
            let same = match (key, five) {
                (Share::K(a), Share::K(b)) => a == b,
                (Share::Ed(a), Share::Ed(b)) => a == b,
                _ => false,
            };
            assert!(same, "{algo:?}");
        }
        let cmp = combine(
            Algo::CmpEddsa,
            &[
                (1, share_from_be(Algo::CmpEddsa, &[2]).unwrap()),
                (9, share_from_be(Algo::CmpEddsa, &[3]).unwrap()),
            ],
        )
        .unwrap();
        assert!(matches!(cmp, Share::Ed(v) if v == EdScalar::from(5u64)));
    }
}
