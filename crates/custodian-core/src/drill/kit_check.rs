//! The DR-kit part of a drill: a recovery key pair and a synthetic vendor
//! kit in the sandbox, then the kit verified and Key Share #1 derived for
//! random wallets through the production path — and every derived share
//! recomputed here independently, with arbitrary-precision integers instead
//! of the curve-scalar arithmetic the deriver uses.

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use rsa::BigUint;
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

/// Key Share #1, recomputed with big integers: d = (M + I_L) mod n,
/// share = SHA-512(d) mod n.
fn independent_share(wallet: &str, wallet_seed: &[u8], master: &[u8]) -> String {
    let n = BigUint::parse_bytes(ORDER_HEX.as_bytes(), 16).unwrap_or_default();
    let cc = Sha256::new()
        .chain_update(wallet.as_bytes())
        .chain_update(wallet_seed)
        .finalize();
    let Ok(mut mac) = <Hmac<Sha512> as Mac>::new_from_slice(&cc) else {
        return String::new();
    };
    mac.update(&[0]);
    mac.update(master);
    mac.update(&[0x80, 0, 0, 0]);
    let i = mac.finalize().into_bytes();
    let d = (BigUint::from_bytes_be(master) + BigUint::from_bytes_be(&i[..32])) % &n;
    let mut d_bytes = [0u8; 32];
    let raw = d.to_bytes_be();
    d_bytes[32 - raw.len()..].copy_from_slice(&raw);
    let share = BigUint::from_bytes_be(&Sha512::digest(d_bytes)) % &n;
    format!("{:0>64}", share.to_str_radix(16))
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
