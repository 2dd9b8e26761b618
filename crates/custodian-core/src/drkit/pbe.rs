//! Password-based encryption of key files, beyond what the `pkcs5` crate
//! decodes on its own:
//!
//! - naming the algorithm an `EncryptedPrivateKeyInfo` really uses (PBES2's
//!   KDF, PRF and cipher; PBES1; the PKCS#12 schemes), so that a refusal
//!   says what was found instead of an OID or "not a key";
//! - the PKCS#12 scheme `pbeWithSHAAnd3-KeyTripleDES-CBC`
//!   (1.2.840.113549.1.12.1.3), which `openssl pkcs8 -v1 PBE-SHA1-3DES`
//!   writes: the PKCS#12 KDF (RFC 7292 Appendix B.2) with SHA-1 over the
//!   passphrase as a NUL-terminated big-endian BMPString, a 24-byte key
//!   (ID 1) and an 8-byte IV (ID 2), DES-EDE3-CBC with PKCS#7 padding.
//!
//! Why a small KDF here and not the `pkcs12` crate: the KDF is 30 lines over
//! the `sha1` we already ship, it is checked against the published vector
//! of Go's `x/crypto/pkcs12` (and end to end against OpenSSL in
//! tests/drkit_keyforms.rs), while the crate would bring a second
//! generation of the RustCrypto traits that `cargo deny` bans as a
//! duplicate.

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use rsa::pkcs8::der::asn1::{AnyRef, ObjectIdentifier as Oid, OctetStringRef};
use rsa::pkcs8::der::{Decode, Reader, SliceReader, Tag, Tagged};
use rsa::pkcs8::spki::AlgorithmIdentifierRef;
use sha1::{Digest as _, Sha1};
use zeroize::Zeroizing;

use super::DrKitError;

/// PBES2 (RFC 8018).
pub const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
const SCRYPT: Oid = Oid::new_unwrap("1.3.6.1.4.1.11591.4.11");
/// pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292).
pub const PBE_SHA1_3DES: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.3");

/// Names of the algorithms a key file may name.
const NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.5.13", "PBES2"),
    ("1.2.840.113549.1.5.12", "PBKDF2"),
    ("1.3.6.1.4.1.11591.4.11", "scrypt"),
    ("1.2.840.113549.2.7", "HMAC-SHA1"),
    ("1.2.840.113549.2.8", "HMAC-SHA224"),
    ("1.2.840.113549.2.9", "HMAC-SHA256"),
    ("1.2.840.113549.2.10", "HMAC-SHA384"),
    ("1.2.840.113549.2.11", "HMAC-SHA512"),
    ("1.2.840.113549.2.12", "HMAC-SHA512/224"),
    ("1.2.840.113549.2.13", "HMAC-SHA512/256"),
    ("1.2.643.7.1.1.4.1", "HMAC-GOST R 34.11-2012 (256)"),
    ("1.2.643.7.1.1.4.2", "HMAC-GOST R 34.11-2012 (512)"),
    ("1.2.156.10197.1.401.3.1", "HMAC-SM3"),
    ("2.16.840.1.101.3.4.1.2", "AES-128-CBC"),
    ("2.16.840.1.101.3.4.1.22", "AES-192-CBC"),
    ("2.16.840.1.101.3.4.1.42", "AES-256-CBC"),
    ("2.16.840.1.101.3.4.1.6", "AES-128-GCM"),
    ("2.16.840.1.101.3.4.1.26", "AES-192-GCM"),
    ("2.16.840.1.101.3.4.1.46", "AES-256-GCM"),
    ("1.2.840.113549.3.7", "DES-EDE3-CBC"),
    ("1.3.14.3.2.7", "DES-CBC"),
    ("1.2.840.113549.3.2", "RC2-CBC"),
    ("1.2.392.200011.61.1.1.1.2", "Camellia-128-CBC"),
    ("1.2.392.200011.61.1.1.1.3", "Camellia-192-CBC"),
    ("1.2.392.200011.61.1.1.1.4", "Camellia-256-CBC"),
    ("1.2.410.200046.1.1.2", "ARIA-128-CBC"),
    ("1.2.410.200046.1.1.7", "ARIA-192-CBC"),
    ("1.2.410.200046.1.1.12", "ARIA-256-CBC"),
    ("1.2.156.10197.1.104.2", "SM4-CBC"),
    ("1.2.410.200004.1.4", "SEED-CBC"),
    ("1.2.840.113549.1.5.1", "pbeWithMD2AndDES-CBC"),
    ("1.2.840.113549.1.5.3", "pbeWithMD5AndDES-CBC"),
    ("1.2.840.113549.1.5.4", "pbeWithMD2AndRC2-CBC"),
    ("1.2.840.113549.1.5.6", "pbeWithMD5AndRC2-CBC"),
    ("1.2.840.113549.1.5.10", "pbeWithSHA1AndDES-CBC"),
    ("1.2.840.113549.1.5.11", "pbeWithSHA1AndRC2-CBC"),
    ("1.2.840.113549.1.12.1.1", "pbeWithSHAAnd128BitRC4"),
    ("1.2.840.113549.1.12.1.2", "pbeWithSHAAnd40BitRC4"),
    ("1.2.840.113549.1.12.1.3", "pbeWithSHAAnd3-KeyTripleDES-CBC"),
    ("1.2.840.113549.1.12.1.4", "pbeWithSHAAnd2-KeyTripleDES-CBC"),
    ("1.2.840.113549.1.12.1.5", "pbeWithSHAAnd128BitRC2-CBC"),
    ("1.2.840.113549.1.12.1.6", "pbeWithSHAAnd40BitRC2-CBC"),
];

/// An algorithm's name, or "an unknown algorithm (OID …)".
fn name(oid: &Oid) -> String {
    let dotted = oid.to_string();
    NAMES
        .iter()
        .find(|(o, _)| *o == dotted)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| format!("an unknown algorithm (OID {dotted})"))
}

/// The name with its OID, for the schemes people look up by number.
fn name_with_oid(oid: &Oid) -> String {
    let n = name(oid);
    if n.starts_with("an unknown") {
        n
    } else {
        format!("{n} ({oid})")
    }
}

/// `EncryptedPrivateKeyInfo` read loosely: the algorithm and the data,
/// whatever the algorithm is.
pub struct EncryptedInfo<'a> {
    /// The encryption algorithm and its parameters.
    pub algorithm: AlgorithmIdentifierRef<'a>,
    /// The ciphertext.
    pub data: &'a [u8],
}

/// Reads `SEQUENCE { AlgorithmIdentifier, OCTET STRING }`; `None` if the
/// bytes are not that.
pub fn parse_encrypted(der: &[u8]) -> Option<EncryptedInfo<'_>> {
    let mut reader = SliceReader::new(der).ok()?;
    let (algorithm, data) = reader
        .sequence(|r| {
            let alg = AlgorithmIdentifierRef::decode(r)?;
            let data = <&OctetStringRef>::decode(r)?;
            Ok::<_, rsa::pkcs8::der::Error>((alg, data))
        })
        .ok()?;
    if !reader.is_finished() {
        return None;
    }
    Some(EncryptedInfo {
        algorithm,
        data: data.as_bytes(),
    })
}

/// The elements of a SEQUENCE given as `ANY`.
fn elements<'a>(any: &AnyRef<'a>) -> Option<Vec<AnyRef<'a>>> {
    if any.tag() != Tag::Sequence {
        return None;
    }
    let mut r = SliceReader::new(any.value()).ok()?;
    let mut out = Vec::new();
    while !r.is_finished() {
        out.push(AnyRef::decode(&mut r).ok()?);
    }
    Some(out)
}

fn alg_of(any: &AnyRef<'_>) -> Option<Oid> {
    let parts = elements(any)?;
    parts.first()?.decode_as::<Oid>().ok()
}

/// What a key file's encryption algorithm is, in words: "PKCS#8 PBES2 with
/// PBKDF2-HMAC-SHA1 and AES-256-CBC", "PKCS#8 pbeWithMD5AndDES-CBC
/// (1.2.840.113549.1.5.3)".
pub fn describe(alg: &AlgorithmIdentifierRef<'_>) -> String {
    if alg.oid != PBES2 {
        return format!("PKCS#8 {}", name_with_oid(&alg.oid));
    }
    let unreadable = "PKCS#8 PBES2 with parameters that do not parse".to_string();
    let Some(parts) = alg.parameters.as_ref().and_then(elements) else {
        return unreadable;
    };
    let [kdf, cipher] = parts.as_slice() else {
        return unreadable;
    };
    let (Some(kdf_oid), Some(cipher_oid)) = (alg_of(kdf), alg_of(cipher)) else {
        return unreadable;
    };
    let kdf_text = if kdf_oid == PBKDF2 {
        // PBKDF2-params: salt, iterationCount, keyLength OPTIONAL,
        // prf AlgorithmIdentifier DEFAULT hmacWithSHA1.
        let prf = elements(kdf)
            .and_then(|k| k.get(1).and_then(elements))
            .and_then(|p| p.iter().skip(2).find(|a| a.tag() == Tag::Sequence).copied())
            .map(|prf| alg_of(&prf));
        match prf {
            None => "PBKDF2-HMAC-SHA1".to_string(),
            Some(Some(oid)) => format!("PBKDF2-{}", name(&oid)),
            Some(None) => "PBKDF2 with a PRF that does not parse".to_string(),
        }
    } else if kdf_oid == SCRYPT {
        "scrypt".to_string()
    } else {
        name(&kdf_oid)
    };
    format!("PKCS#8 PBES2 with {kdf_text} and {}", name(&cipher_oid))
}

/// The PKCS#12 KDF (RFC 7292 B.2) with SHA-1 (u = 20, v = 64).
/// `password` is already the BMPString with its two-byte NUL terminator.
pub fn pkcs12_kdf_sha1(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    id: u8,
    len: usize,
) -> Zeroizing<Vec<u8>> {
    const V: usize = 64;
    let fill = |src: &[u8]| -> Zeroizing<Vec<u8>> {
        if src.is_empty() {
            return Zeroizing::new(Vec::new());
        }
        let n = V * src.len().div_ceil(V);
        Zeroizing::new(src.iter().copied().cycle().take(n).collect())
    };
    let mut i = fill(salt);
    i.extend_from_slice(&fill(password));
    let d = [id; V];
    let mut out = Zeroizing::new(Vec::with_capacity(len + 20));
    while out.len() < len {
        let mut a = Zeroizing::new(<[u8; 20]>::from(
            Sha1::new().chain_update(d).chain_update(&*i).finalize(),
        ));
        for _ in 1..iterations {
            *a = Sha1::digest(*a).into();
        }
        out.extend_from_slice(&*a);
        if out.len() >= len {
            break;
        }
        // I_j = (I_j + B + 1) mod 2^512 for each 64-byte block, B = A repeated.
        let b: Zeroizing<Vec<u8>> = Zeroizing::new(a.iter().copied().cycle().take(V).collect());
        for block in i.chunks_mut(V) {
            let mut carry = 1u16;
            for k in (0..V).rev() {
                let sum = u16::from(block[k]) + u16::from(b[k]) + carry;
                block[k] = (sum & 0xff) as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(len);
    out
}

/// The passphrase as PKCS#12 wants it: UTF-16BE with a two-byte NUL.
fn bmp_password(pass: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(pass.len() * 2 + 2));
    for unit in pass.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// Decrypts `pbeWithSHAAnd3-KeyTripleDES-CBC` data; the result is the
/// plaintext (a PrivateKeyInfo when the passphrase is right).
pub fn decrypt_pbe_sha1_3des(
    info: &EncryptedInfo<'_>,
    pass: &str,
    max_iterations: u32,
) -> Result<Zeroizing<Vec<u8>>, DrKitError> {
    let bad_params = || {
        DrKitError::UnsupportedKeyEncryption(
            "PKCS#8 pbeWithSHAAnd3-KeyTripleDES-CBC with parameters that do not parse".into(),
        )
    };
    // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
    let params = info.algorithm.parameters.as_ref().ok_or_else(bad_params)?;
    let parts = elements(params).ok_or_else(bad_params)?;
    let [salt, iterations] = parts.as_slice() else {
        return Err(bad_params());
    };
    let salt = salt
        .decode_as::<&OctetStringRef>()
        .map_err(|_| bad_params())?;
    let iterations = iterations.decode_as::<u32>().map_err(|_| bad_params())?;
    if iterations == 0 {
        return Err(bad_params());
    }
    if iterations > max_iterations {
        return Err(DrKitError::UnsupportedKeyEncryption(format!(
            "PKCS#8 pbeWithSHAAnd3-KeyTripleDES-CBC with {iterations} iterations: more work than a key file needs; refused before trying"
        )));
    }
    let password = bmp_password(pass);
    let key = pkcs12_kdf_sha1(&password, salt.as_bytes(), iterations, 1, 24);
    let iv = pkcs12_kdf_sha1(&password, salt.as_bytes(), iterations, 2, 8);
    let mut buf = Zeroizing::new(info.data.to_vec());
    let len = cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
        .map_err(|e| DrKitError::Encode(e.to_string()))?
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| DrKitError::WrongPassphrase)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs12_kdf_matches_the_published_vector() {
        // Go's golang.org/x/crypto/pkcs12 pbkdf_test.go
        // (TestThatPBKDFWorksCorrectlyForLongKeys): SHA-1, 3-key 3DES key,
        // salt ff×8, password "sesame", 2048 iterations.
        let key = pkcs12_kdf_sha1(&bmp_password("sesame"), &[0xff; 8], 2048, 1, 24);
        assert_eq!(
            hex::encode(key.as_slice()),
            "7cd9fd3e2b3be7691a44e3bef0f9ea0fb9b897d4e325d9d1"
        );
    }

    #[test]
    fn unknown_algorithms_are_named_by_oid() {
        let oid = Oid::new_unwrap("1.2.3.4");
        assert_eq!(name(&oid), "an unknown algorithm (OID 1.2.3.4)");
        assert_eq!(
            name_with_oid(&Oid::new_unwrap("1.2.840.113549.1.5.3")),
            "pbeWithMD5AndDES-CBC (1.2.840.113549.1.5.3)"
        );
    }
}
