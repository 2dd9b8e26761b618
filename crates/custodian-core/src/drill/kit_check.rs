//! The DR-kit part of a drill: a recovery key pair and a synthetic vendor
//! kit in the sandbox, then the kit verified and Key Share #1 derived for
//! random wallets through the production path — and every derived share
//! recomputed here independently, with plain 512-bit integer division
//! instead of the curve-scalar arithmetic (Montgomery/Barrett) the deriver uses.

use std::path::PathBuf;

use hmac::{Hmac, KeyInit, Mac};
use k256::elliptic_curve::bigint::{NonZero, U512};
use secrecy::SecretString;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use crate::drkit::DrKitError;
use crate::drkit::derive::{
    CheckedWallets, DeriveOptions, OutputFormat, SHARE_FIELD, WalletSource,
};
use crate::drkit::kit::RecoveryKit;
use crate::drkit::{keys, ops};
use crate::workspace::Workspace;

/// The secp256k1 group order n, big-endian hex.
const ORDER_HEX: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

/// The sandbox's kit material (paths and the in-memory key passphrase).
pub struct KitMaterial {
    ws: Workspace,
    private: PathBuf,
    kit: PathBuf,
    passphrase: SecretString,
}

impl KitMaterial {
    /// The recovery private key file, its passphrase and the kit (for the
    /// drill card).
    pub fn card_parts(&self) -> (&std::path::Path, &SecretString, &std::path::Path) {
        (&self.private, &self.passphrase, &self.kit)
    }
}

/// Creates the recovery key pair and a synthetic kit encrypted to it.
pub fn make(ws: &Workspace, passphrase: &SecretString) -> Result<KitMaterial, DrKitError> {
    let (private, public) = ops::default_key_paths(ws)?;
    ops::create_recovery_key(ws, &private, &public, passphrase, &mut |_| {})?;
    let kit = ws.subdir("drkit")?.join("drill-kit.zip");
    ops::make_drill_kit(ws, &public, &kit)?;
    Ok(KitMaterial {
        ws: ws.clone(),
        private,
        kit,
        passphrase: passphrase.clone(),
    })
}

/// Key Share #1, recomputed with 512-bit integers: d = (M + I_L) mod n,
/// share = SHA-512(d) mod n.
fn independent_share(wallet: &str, wallet_seed: &[u8], master: &[u8]) -> String {
    // Right-aligns up to 64 big-endian bytes in a 512-bit integer.
    let wide = |bytes: &[u8]| {
        let mut buf = [0u8; 64];
        buf[64 - bytes.len()..].copy_from_slice(bytes);
        U512::from_be_slice(&buf)
    };
    let Ok(order) = hex::decode(ORDER_HEX) else {
        return String::new();
    };
    let Some(n) = Option::<NonZero<U512>>::from(NonZero::new(wide(&order))) else {
        return String::new();
    };
    let cc = Sha256::new()
        .chain_update(wallet.as_bytes())
        .chain_update(wallet_seed)
        .finalize();
    let Ok(mut mac) = <Hmac<Sha512> as KeyInit>::new_from_slice(&cc) else {
        return String::new();
    };
    mac.update(&[0]);
    mac.update(master);
    mac.update(&[0x80, 0, 0, 0]);
    let i = mac.finalize().into_bytes();
    // Two values below 2^256: their sum cannot overflow 512 bits.
    let d = wide(master).wrapping_add(&wide(&i[..32])).rem(&n);
    let d_bytes = d.to_be_bytes();
    let share = wide(&Sha512::digest(&d_bytes[32..])).rem(&n);
    hex::encode(&share.to_be_bytes()[32..])
}

/// Verifies the kit, derives shares for `wallets` random wallet ids through
/// the production path, and compares each with the independent result.
pub fn check(m: &KitMaterial, wallets: usize) -> Result<bool, DrKitError> {
    let report = ops::verify(
        &m.ws,
        RecoveryKit::open(&m.kit)?,
        &m.private,
        Some(&m.passphrase),
    )?;
    if report.decrypted.is_empty() {
        return Ok(false);
    }
    let ids: Vec<String> = (0..wallets)
        .map(|_| crate::drkit::kit::random_uuid())
        .collect();
    let out = m.ws.subdir("drkit")?.join(format!(
        "derived-{}.jsonl",
        &crate::drkit::kit::random_uuid()[..8]
    ));
    let options = DeriveOptions {
        format: OutputFormat::Jsonl,
        skip_invalid: false,
        threads: None,
    };
    ops::derive(
        &m.ws,
        RecoveryKit::open(&m.kit)?,
        &m.private,
        Some(&m.passphrase),
        &CheckedWallets::check(WalletSource::List(ids.clone()))?,
        &out,
        &options,
        &mut |_| {},
    )?;

    // The independent side: read the seeds and master keys again ourselves.
    let key = keys::load_private_key(&m.private, Some(&m.passphrase))?;
    let mut kit = RecoveryKit::open(&m.kit)?;
    let master = kit.metadata.ncw_master()?.clone();
    let mks = kit.decrypt_master_keys(&key)?;
    let text = std::fs::read_to_string(&out).map_err(|e| DrKitError::Encode(e.to_string()))?;
    let mut seen = 0usize;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| DrKitError::Encode(e.to_string()))?;
        let Some(w) = v["walletId"].as_str() else {
            return Ok(false);
        };
        let chain = hex::encode(
            Sha256::new()
                .chain_update(w.as_bytes())
                .chain_update(master.asset_seed)
                .finalize(),
        );
        if v["chaincode"].as_str() != Some(chain.as_str()) {
            return Ok(false);
        }
        for mk in &mks {
            let expected = independent_share(w, &master.wallet_seed, mk.key.as_slice());
            let got = v["shares"]
                .as_array()
                .and_then(|a| a.iter().find(|s| s["cosigner"] == mk.cosigner_id.as_str()))
                .and_then(|s| s[SHARE_FIELD].as_str());
            if got != Some(expected.as_str()) {
                return Ok(false);
            }
        }
        seen += 1;
    }
    Ok(seen == wallets && ids.iter().all(|w| text.contains(w.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_share_matches_the_published_vector() {
        let seed = hex::decode("3c590f865cdf272d9e0490f5918b1a5e4904b07e7c0beccf40ad33d82ba26102")
            .unwrap();
        let m = hex::decode("0de5a6cf9a4b2f6ba69a7f8348b9fb54df48d5af176c2564d9349425a7efe31c")
            .unwrap();
        assert_eq!(
            independent_share("2d33e419-4c84-44b1-9d9a-3598f96642b0", &seed, &m),
            "f357ec43a3aba03aeccd4727db2ab43afb472b12fe690c2266dbf8e9294ad25d"
        );
    }
}
