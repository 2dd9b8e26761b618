//! The RSA-4096 recovery key pair: creating it, reading it back in every
//! form it may have been written in, and its verification phrase.
//!
//! New keys are written as encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256 with
//! [`PBKDF2_ITERATIONS`] iterations and AES-256-CBC), a form `openssl pkey`
//! opens. Reading also accepts what the vendor's own tool writes — the legacy
//! OpenSSL PEM with `Proc-Type: 4,ENCRYPTED` / `DEK-Info: AES-256-CBC,<iv>`,
//! whose key is EVP_BytesToKey(MD5, passphrase, iv[0..8]) — and plain PKCS#8
//! and PKCS#1, so a kit can be opened with whatever key file survived.

use std::path::{Path, PathBuf};

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use md5::{Digest as _, Md5};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::pkcs5::pbes2;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
    EncryptedPrivateKeyInfoRef, LineEnding, PrivateKeyInfoRef,
};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{DrKitError, pbe};
use crate::fsutil::{self, FsError};

/// Modulus size of the recovery key, as the vendor requires.
pub const KEY_BITS: usize = 4096;
/// PBKDF2-HMAC-SHA256 iterations protecting a new private key file.
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// The smallest RSA modulus read anywhere (the vendor's is 4096 bits).
pub const MIN_KEY_BITS: usize = 2048;
/// Largest key file we read.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

const PKCS8_ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// The stage a key-pair creation has reached (for progress displays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeygenStage {
    /// Searching for the two 2048-bit primes (the long part).
    GeneratingPrimes,
    /// Encrypting the private key (PBKDF2, 600,000 iterations).
    EncryptingPrivateKey,
    /// Writing and re-reading both files.
    WritingFiles,
}

impl KeygenStage {
    /// Stage number (1-based) and the total, for a progress bar.
    pub fn step(self) -> (u64, u64) {
        match self {
            KeygenStage::GeneratingPrimes => (1, 3),
            KeygenStage::EncryptingPrivateKey => (2, 3),
            KeygenStage::WritingFiles => (3, 3),
        }
    }

    /// What the stage does, for people.
    pub fn label(self) -> &'static str {
        match self {
            KeygenStage::GeneratingPrimes => "generating the RSA-4096 primes",
            KeygenStage::EncryptingPrivateKey => {
                "encrypting the private key (PBKDF2, 600,000 iterations)"
            }
            KeygenStage::WritingFiles => "writing and checking both files",
        }
    }
}

/// A recovery key pair that was written and checked. Public facts only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKeyPair {
    /// The encrypted private key file.
    pub private_path: PathBuf,
    /// The public key PEM file (what is sent to the vendor).
    pub public_path: PathBuf,
    /// The public key PEM text, exactly as written.
    pub public_pem: String,
    /// The verification phrase of that PEM text.
    pub phrase: String,
}

fn rng() -> crate::rng::OsRng {
    crate::rng::os()
}

/// The verification phrase for a public key: the first 8 characters of
/// base64(SHA-256(PEM text)), computed over the exact bytes of the text.
pub fn verification_phrase(public_pem: &str) -> String {
    let digest = Sha256::digest(public_pem.as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    b64[..8].to_string()
}

/// Generates a fresh RSA-4096 key (e = 65537). Slow: call from a worker.
pub fn generate() -> Result<RsaPrivateKey, DrKitError> {
    RsaPrivateKey::new(&mut rng(), KEY_BITS).map_err(|e| DrKitError::Rsa(e.to_string()))
}

/// The public key as SPKI PEM (`BEGIN PUBLIC KEY`), LF line endings.
pub fn public_pem(key: &RsaPublicKey) -> Result<String, DrKitError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| DrKitError::Encode(e.to_string()))
}

/// Encrypts a private key as PKCS#8 PBES2 (PBKDF2-HMAC-SHA256 with
/// `iterations`, AES-256-CBC, random 16-byte salt and IV) PEM.
pub fn encrypt_private_key(
    key: &RsaPrivateKey,
    passphrase: &SecretString,
    iterations: u32,
) -> Result<Zeroizing<String>, DrKitError> {
    let enc = |e: &dyn std::fmt::Display| DrKitError::Encode(e.to_string());
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rand::Rng::fill_bytes(&mut rng(), &mut salt);
    rand::Rng::fill_bytes(&mut rng(), &mut iv);
    let params = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv)
        .map_err(|e| enc(&e))?;
    let plain = key.to_pkcs8_der().map_err(|e| enc(&e))?;
    let info = PrivateKeyInfoRef::try_from(plain.as_bytes()).map_err(|e| enc(&e))?;
    let encrypted = info
        .encrypt_with_params(params, passphrase.expose_secret().as_bytes())
        .map_err(|e| enc(&e))?;
    encrypted
        .to_pem(PKCS8_ENCRYPTED_LABEL, LineEnding::LF)
        .map_err(|e| enc(&e))
}

/// Creates the recovery key pair: generates, encrypts, writes both files
/// (never overwriting), and re-reads both before returning. `progress` is
/// told each stage as it starts.
pub fn create_key_pair(
    private_path: &Path,
    public_path: &Path,
    passphrase: &SecretString,
    progress: &mut dyn FnMut(KeygenStage),
) -> Result<CreatedKeyPair, DrKitError> {
    // Refuse early: an hour-long ceremony should not end in "already exists".
    for p in [private_path, public_path] {
        if p.symlink_metadata().is_ok() {
            return Err(FsError::AlreadyExists(p.to_path_buf()).into());
        }
    }
    progress(KeygenStage::GeneratingPrimes);
    let key = generate()?;
    progress(KeygenStage::EncryptingPrivateKey);
    let private_pem = encrypt_private_key(&key, passphrase, PBKDF2_ITERATIONS)?;
    let public = key.to_public_key();
    let public_text = public_pem(&public)?;
    progress(KeygenStage::WritingFiles);
    fsutil::write_new_checked(private_path, private_pem.as_bytes(), |back| {
        let text = std::str::from_utf8(back).map_err(|e| e.to_string())?;
        let reread = load_private_key_text(text, Some(passphrase)).map_err(|e| e.to_string())?;
        if reread.n() == key.n() && reread.e() == key.e() {
            Ok(())
        } else {
            Err("the key read back differs from the key generated".into())
        }
    })?;
    let public_written = fsutil::write_new_checked(public_path, public_text.as_bytes(), |back| {
        let text = std::str::from_utf8(back).map_err(|e| e.to_string())?;
        let reread = load_public_key_text(text).map_err(|e| e.to_string())?;
        if reread == public {
            Ok(())
        } else {
            Err("the public key read back differs".into())
        }
    });
    if let Err(e) = public_written {
        // Half a pair is worse than none: take back the private key we wrote.
        let _ = std::fs::remove_file(private_path);
        return Err(e.into());
    }
    Ok(CreatedKeyPair {
        private_path: private_path.to_path_buf(),
        public_path: public_path.to_path_buf(),
        phrase: verification_phrase(&public_text),
        public_pem: public_text,
    })
}

/// A PEM block split into its label, RFC 1421 headers and decoded body.
struct PemBlock {
    label: String,
    headers: Vec<(String, String)>,
    body: Zeroizing<Vec<u8>>,
}

/// A small PEM reader that, unlike RFC 7468 parsers, keeps the legacy
/// `Proc-Type`/`DEK-Info` headers. Reads the first block only.
fn parse_pem(text: &str) -> Option<PemBlock> {
    let mut lines = text.lines().map(str::trim_end);
    let label = loop {
        let line = lines.next()?;
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            break rest.strip_suffix("-----")?.to_string();
        }
    };
    let end = format!("-----END {label}-----");
    let mut headers = Vec::new();
    let mut b64 = Zeroizing::new(String::new());
    let mut in_headers = true;
    for line in lines {
        if line == end {
            let body = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .ok()?;
            return Some(PemBlock {
                label,
                headers,
                body: Zeroizing::new(body),
            });
        }
        if in_headers {
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
                continue;
            }
            in_headers = false;
            if line.is_empty() {
                continue;
            }
        }
        b64.push_str(line.trim());
    }
    None
}

/// True when reading this key text needs a passphrase.
pub fn needs_passphrase(text: &str) -> bool {
    match parse_pem(text) {
        Some(block) => {
            block.label == PKCS8_ENCRYPTED_LABEL
                || block
                    .headers
                    .iter()
                    .any(|(k, v)| k == "Proc-Type" && v.contains("ENCRYPTED"))
        }
        None => false,
    }
}

/// Reads a private key file (see [`load_private_key_text`]).
pub fn load_private_key(
    path: &Path,
    passphrase: Option<&SecretString>,
) -> Result<RsaPrivateKey, DrKitError> {
    let bytes = Zeroizing::new(fsutil::read_limited(path, MAX_KEY_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| DrKitError::NotAPrivateKey(path.display().to_string()))?;
    load_private_key_text(text, passphrase).map_err(|e| match e {
        DrKitError::NotAPrivateKey(_) => DrKitError::NotAPrivateKey(path.display().to_string()),
        other => other,
    })
}

/// Reads an RSA private key from PEM text in any supported form. The
/// passphrase is needed only for encrypted forms ([`needs_passphrase`]).
pub fn load_private_key_text(
    text: &str,
    passphrase: Option<&SecretString>,
) -> Result<RsaPrivateKey, DrKitError> {
    let not_key = || DrKitError::NotAPrivateKey("the key".into());
    let block = parse_pem(text).ok_or_else(not_key)?;
    let pass = || passphrase.ok_or(DrKitError::WrongPassphrase);
    let key = match block.label.as_str() {
        PKCS8_ENCRYPTED_LABEL => {
            let loose = pbe::parse_encrypted(&block.body).ok_or_else(not_key)?;
            let doc = if loose.algorithm.oid == pbe::PBES2 {
                decrypt_pbes2(&block.body, &loose, pass)?
            } else if loose.algorithm.oid == pbe::PBE_SHA1_3DES {
                pbe::decrypt_pbe_sha1_3des(
                    &loose,
                    pass()?.expose_secret(),
                    crate::envelope::MAX_ITERATIONS,
                )?
            } else {
                return Err(DrKitError::UnsupportedKeyEncryption(pbe::describe(
                    &loose.algorithm,
                )));
            };
            // A wrong passphrase passes the padding check 1 time in 256;
            // then the plaintext is not DER.
            RsaPrivateKey::from_pkcs8_der(&doc).map_err(|_| {
                if PrivateKeyInfoRef::try_from(doc.as_slice()).is_ok() {
                    not_key()
                } else {
                    DrKitError::WrongPassphrase
                }
            })?
        }
        "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&block.body).map_err(|_| not_key())?,
        "RSA PRIVATE KEY" => {
            let encrypted = block
                .headers
                .iter()
                .any(|(k, v)| k == "Proc-Type" && v.contains("ENCRYPTED"));
            if encrypted {
                let der = decrypt_legacy(&block, pass()?)?;
                RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| DrKitError::WrongPassphrase)?
            } else {
                RsaPrivateKey::from_pkcs1_der(&block.body).map_err(|_| not_key())?
            }
        }
        _ => return Err(not_key()),
    };
    check_key_size(&key)?;
    key.validate().map_err(|e| DrKitError::Rsa(e.to_string()))?;
    Ok(key)
}

/// Refuses a modulus under [`MIN_KEY_BITS`]: such keys can be factored.
pub fn check_key_size(key: &impl PublicKeyParts) -> Result<(), DrKitError> {
    let bits = key_bits(key);
    if bits < MIN_KEY_BITS {
        return Err(DrKitError::KeyTooSmall { bits });
    }
    Ok(())
}

/// Decrypts PKCS#8 PBES2 (every PBKDF2 PRF from HMAC-SHA1 to HMAC-SHA512,
/// scrypt; AES-128/192/256-CBC and DES-EDE3-CBC). A scheme the `pkcs5`
/// crate does not decode is refused naming what it is.
fn decrypt_pbes2<'p>(
    der: &[u8],
    loose: &pbe::EncryptedInfo<'_>,
    pass: impl Fn() -> Result<&'p SecretString, DrKitError>,
) -> Result<Zeroizing<Vec<u8>>, DrKitError> {
    let unsupported = || DrKitError::UnsupportedKeyEncryption(pbe::describe(&loose.algorithm));
    let info = EncryptedPrivateKeyInfoRef::try_from(der).map_err(|_| unsupported())?;
    check_key_kdf_cost(&info.encryption_algorithm)?;
    let doc = info
        .decrypt(pass()?.expose_secret().as_bytes())
        .map_err(|e| match e {
            rsa::pkcs8::Error::EncryptedPrivateKey(rsa::pkcs8::pkcs5::Error::DecryptFailed) => {
                DrKitError::WrongPassphrase
            }
            // A wrong passphrase passes the CBC padding check about 1 time
            // in 256; `decrypt` then fails to read the plaintext as DER. The
            // scheme itself was read above, so this is the passphrase.
            rsa::pkcs8::Error::Asn1(_) => DrKitError::WrongPassphrase,
            _ => unsupported(),
        })?;
    Ok(Zeroizing::new(doc.as_bytes().to_vec()))
}

/// Refuses a key file whose password hashing would run for hours or take
/// gigabytes (a damaged or hostile file), before any of it runs: PBKDF2 is
/// capped at the same 10,000,000 iterations as envelopes; scrypt at 256 MiB
/// of memory (128·N·r) and 2^24 block mixes (N·r·p), which is 16 times what
/// OpenSSL's own `-scrypt` default asks. (PBES1's count is 16 bits.)
fn check_key_kdf_cost(scheme: &rsa::pkcs8::pkcs5::EncryptionScheme) -> Result<(), DrKitError> {
    use rsa::pkcs8::pkcs5::EncryptionScheme;
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    let too_costly = |what: String| {
        Err(DrKitError::UnsupportedKeyEncryption(format!(
            "{what}: more work than a key file needs; refused before trying"
        )))
    };
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(p) if p.iteration_count > crate::envelope::MAX_ITERATIONS => {
            too_costly(format!("PBKDF2 with {} iterations", p.iteration_count))
        }
        pbes2::Kdf::Scrypt(p)
            if u128::from(p.cost_parameter) * u128::from(p.block_size) * 128 > 256 << 20
                || u128::from(p.cost_parameter)
                    * u128::from(p.block_size)
                    * u128::from(p.parallelization)
                    > 1 << 24 =>
        {
            too_costly(format!(
                "scrypt with N = {}, r = {}, p = {}",
                p.cost_parameter, p.block_size, p.parallelization
            ))
        }
        _ => Ok(()),
    }
}

/// OpenSSL's EVP_BytesToKey with MD5 and one iteration, as the legacy PEM
/// encryption uses it: D1 = MD5(pass ‖ salt), Di = MD5(Di-1 ‖ pass ‖ salt).
fn evp_bytes_to_key_md5(pass: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut prev: Option<Zeroizing<[u8; 16]>> = None;
    while out.len() < len {
        let mut h = Md5::new();
        if let Some(p) = &prev {
            h.update(p.as_slice());
        }
        h.update(pass);
        h.update(salt);
        let d: Zeroizing<[u8; 16]> = Zeroizing::new(h.finalize().into());
        out.extend_from_slice(d.as_slice());
        prev = Some(d);
    }
    out.truncate(len);
    out
}

fn decrypt_legacy(block: &PemBlock, pass: &SecretString) -> Result<Zeroizing<Vec<u8>>, DrKitError> {
    let unsupported = |what: String| DrKitError::UnsupportedKeyEncryption(what);
    let dek = block
        .headers
        .iter()
        .find(|(k, _)| k == "DEK-Info")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| unsupported("legacy PEM encryption without a DEK-Info header".into()))?;
    let (cipher, iv_hex) = dek.split_once(',').ok_or_else(|| {
        unsupported(format!(
            "legacy PEM encryption with a DEK-Info header that does not parse ({dek})"
        ))
    })?;
    let cipher = cipher.trim();
    // (key length, IV length) of each cipher OpenSSL's PEM writer offers
    // that the vendor's loader reads.
    let (key_len, iv_len) = match cipher {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        other => return Err(unsupported(format!("legacy PEM encryption {other}"))),
    };
    let iv = hex::decode(iv_hex.trim())
        .ok()
        .filter(|iv| iv.len() == iv_len)
        .ok_or_else(|| {
            unsupported(format!(
                "legacy PEM encryption {cipher} with an IV that is not {iv_len} bytes of hex ({})",
                iv_hex.trim()
            ))
        })?;
    let key = evp_bytes_to_key_md5(pass.expose_secret().as_bytes(), &iv[..8], key_len);
    let mut buf = Zeroizing::new(block.body.to_vec());
    let init = |e: aes::cipher::InvalidLength| DrKitError::Encode(e.to_string());
    let len = match cipher {
        "AES-128-CBC" => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(init)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        "AES-192-CBC" => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(init)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        "AES-256-CBC" => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(init)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        _ => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(init)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
    }
    .map_err(|_| DrKitError::WrongPassphrase)?;
    buf.truncate(len);
    Ok(buf)
}

/// Reads a public key PEM file; returns the key and the exact text (the
/// phrase is computed over the text).
pub fn load_public_key(path: &Path) -> Result<(RsaPublicKey, String), DrKitError> {
    let bytes = fsutil::read_limited(path, MAX_KEY_FILE)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| DrKitError::NotAPublicKey(path.display().to_string()))?;
    let key = load_public_key_text(&text).map_err(|e| match e {
        DrKitError::NotAPublicKey(_) => DrKitError::NotAPublicKey(path.display().to_string()),
        other => other,
    })?;
    Ok((key, text))
}

/// Parses SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) PEM text.
pub fn load_public_key_text(text: &str) -> Result<RsaPublicKey, DrKitError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let not_key = || DrKitError::NotAPublicKey("the key".into());
    let block = parse_pem(text).ok_or_else(not_key)?;
    let key = match block.label.as_str() {
        "PUBLIC KEY" => RsaPublicKey::from_public_key_der(&block.body).map_err(|_| not_key())?,
        "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_der(&block.body).map_err(|_| not_key())?,
        _ => return Err(not_key()),
    };
    check_key_size(&key)?;
    Ok(key)
}

/// The public key PEM as a QR code, drawn with Unicode half blocks (two
/// modules per character row) for a dark terminal: light modules are
/// filled, dark ones left blank. One `String` per terminal row.
pub fn qr_lines(public_pem: &str) -> Result<Vec<String>, DrKitError> {
    use qrcode::render::unicode::Dense1x2;
    let code =
        qrcode::QrCode::with_error_correction_level(public_pem.as_bytes(), qrcode::EcLevel::L)
            .map_err(|e| DrKitError::Encode(format!("QR code: {e}")))?;
    let text = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    Ok(text.lines().map(str::to_string).collect())
}

/// The public key PEM as a QR code in a PNG image (see
/// [`crate::print::png::qr`]), for when the terminal cannot show it. Built
/// from the same `qrcode` matrix as [`qr_lines`].
pub fn qr_png(public_pem: &str) -> Result<Vec<u8>, DrKitError> {
    crate::print::png::qr(public_pem.as_bytes(), qrcode::EcLevel::L).map_err(DrKitError::Encode)
}

/// The modulus size in bits.
pub fn key_bits(key: &impl PublicKeyParts) -> usize {
    key.size() * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An encrypted PKCS#8 PEM whose KDF is `kdf` (the ciphertext is
    /// filler: the cost check must refuse it before decrypting anything).
    fn encrypted_key_with(kdf: pbes2::Kdf) -> String {
        use rsa::pkcs8::der::{Encode, asn1::OctetStringRef};
        use rsa::pkcs8::pkcs5::EncryptionScheme;
        let info = EncryptedPrivateKeyInfoRef {
            encryption_algorithm: EncryptionScheme::Pbes2(pbes2::Parameters {
                kdf,
                encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: [7; 16] },
            }),
            encrypted_data: OctetStringRef::new(&[0u8; 64]).unwrap(),
        };
        let der = info.to_der().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{b64}\n-----END ENCRYPTED PRIVATE KEY-----\n"
        )
    }

    fn scrypt(n: u64, r: u16, p: u16) -> pbes2::ScryptParams {
        pbes2::ScryptParams {
            salt: pbes2::Salt::new([2; 16]).unwrap(),
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: Some(32),
        }
    }

    #[test]
    fn a_key_file_asking_for_hours_of_hashing_is_refused_at_once() {
        let pass = SecretString::from("whatever");
        let mut pbkdf2 = pbes2::Pbkdf2Params::hmac_sha256(600_000, &[1; 16]).unwrap();
        pbkdf2.iteration_count = 4_000_000_000;
        let huge = scrypt(1 << 30, 8, 1);
        // Within N's old bound, but 512 MiB of memory.
        let wide = scrypt(1 << 17, 32, 1);
        for (kdf, says) in [
            (
                pbes2::Kdf::Pbkdf2(pbkdf2),
                "PBKDF2 with 4000000000 iterations",
            ),
            (pbes2::Kdf::Scrypt(huge), "scrypt with N = 1073741824"),
            (pbes2::Kdf::Scrypt(wide), "scrypt with N = 131072, r = 32"),
        ] {
            let err = load_private_key_text(&encrypted_key_with(kdf), Some(&pass)).unwrap_err();
            assert!(
                matches!(&err, DrKitError::UnsupportedKeyEncryption(m) if m.contains(says)),
                "{err}"
            );
        }
        // Under the cap the file is tried (and here, filler, fails as a wrong
        // passphrase would).
        let ok = pbes2::Pbkdf2Params::hmac_sha256(1_000, &[1; 16]).unwrap();
        let err = load_private_key_text(&encrypted_key_with(pbes2::Kdf::Pbkdf2(ok)), Some(&pass))
            .unwrap_err();
        assert!(
            !matches!(err, DrKitError::UnsupportedKeyEncryption(_)),
            "{err}"
        );
        // OpenSSL's `pkcs8 -scrypt` default (N = 2^14, r = 8, p = 1) is not
        // refused for its cost.
        let openssl_default = scrypt(1 << 14, 8, 1);
        let err = load_private_key_text(
            &encrypted_key_with(pbes2::Kdf::Scrypt(openssl_default)),
            Some(&pass),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("more work than"), "{err}");
    }

    /// A wrong passphrase that happens to pass the CBC padding check (about
    /// 1 in 256) is still "the passphrase does not open the private key",
    /// never "encrypted with …, which this tool does not read" (the suite
    /// caught it once as a flaky `drkit_keyforms` failure).
    #[test]
    fn every_wrong_passphrase_is_a_wrong_passphrase() {
        let cheap = pbes2::Pbkdf2Params::hmac_sha256(1_000, &[1; 16]).unwrap();
        let pem = encrypted_key_with(pbes2::Kdf::Pbkdf2(cheap));
        for i in 0..2048 {
            let pass = SecretString::from(format!("wrong {i}"));
            let err = load_private_key_text(&pem, Some(&pass)).unwrap_err();
            assert!(matches!(err, DrKitError::WrongPassphrase), "{i}: {err}");
        }
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -pass pass:password -S 0102030405060708`
        let key = evp_bytes_to_key_md5(b"password", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        assert_eq!(
            hex::encode_upper(key.as_slice()),
            "E7B0971E52CA5CC8D0539FB3412F6316F7BA2E6EE293D9F3457B99436B51CE02"
        );
    }

    #[test]
    fn phrase_is_eight_base64_chars_of_the_pem_digest() {
        let p = verification_phrase("-----BEGIN PUBLIC KEY-----\n");
        assert_eq!(p.len(), 8);
        let full = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(p, full[..8]);
    }

    #[test]
    fn non_pem_text_is_not_a_key() {
        assert!(matches!(
            load_private_key_text("hello", None),
            Err(DrKitError::NotAPrivateKey(_))
        ));
        assert!(matches!(
            load_public_key_text("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"),
            Err(DrKitError::NotAPublicKey(_))
        ));
    }

    #[test]
    fn the_qr_png_is_a_greyscale_image_of_the_same_matrix() {
        use crate::print::png::{MODULE_PX as PNG_MODULE_PX, QUIET as PNG_QUIET};
        use std::io::Read as _;
        let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
        let png = qr_png(pem).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let side = u32::from_be_bytes(png[16..20].try_into().unwrap()) as usize;
        assert_eq!(
            u32::from_be_bytes(png[20..24].try_into().unwrap()) as usize,
            side
        );
        assert_eq!(png[24], 8, "bit depth");
        assert_eq!(png[25], 0, "greyscale");
        // Chunk CRCs, as any PNG reader checks them.
        let mut at = 8;
        let mut idat = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            let mut h = crc32fast::Hasher::new();
            h.update(kind);
            h.update(data);
            assert_eq!(h.finalize(), crc);
            if kind == b"IDAT" {
                idat.extend_from_slice(data);
            }
            at += 12 + len;
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(idat.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), side * (side + 1));
        let px = |x: usize, y: usize| raw[y * (side + 1) + 1 + x];
        let code = qrcode::QrCode::with_error_correction_level(pem.as_bytes(), qrcode::EcLevel::L)
            .unwrap();
        assert_eq!(side, (code.width() + 2 * PNG_QUIET) * PNG_MODULE_PX);
        // Quiet zone white; the finder pattern's corner module black; every
        // module matches the matrix.
        assert_eq!(px(0, 0), 255);
        let colors = code.to_colors();
        for my in 0..code.width() {
            for mx in 0..code.width() {
                let x = (PNG_QUIET + mx) * PNG_MODULE_PX + PNG_MODULE_PX / 2;
                let y = (PNG_QUIET + my) * PNG_MODULE_PX + PNG_MODULE_PX / 2;
                let dark = colors[my * code.width() + mx] == qrcode::Color::Dark;
                assert_eq!(px(x, y), if dark { 0 } else { 255 });
            }
        }
    }
}
