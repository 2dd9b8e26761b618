#!/usr/bin/env python3
"""Independent NCW Key Share #1 derivation, for cross-checking custodian.

Uses only the Python standard library (hashlib, hmac, json, zipfile): no
code shared with the Rust implementation. Reads the kit's metadata.json for
the NCW master key's walletSeed/assetSeed and its cloud cosigners, takes the
decrypted 32-byte master key (hex) from a file, and prints one JSON line per
wallet: {"walletId", "chaincode", "shares": [{"cosigner", "MPC_CMP_ECDSA_SECP256K1"}]}.

usage: ncw_derive.py KIT.zip MASTER_KEY_HEX_FILE WALLETS_FILE
"""
import hashlib
import hmac
import json
import sys
import zipfile

# secp256k1 group order
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def share(wallet_id: str, wallet_seed: bytes, master: bytes) -> str:
    cc = hashlib.sha256(wallet_id.encode("utf-8") + wallet_seed).digest()
    i = hmac.new(cc, b"\x00" + master + (0x80000000).to_bytes(4, "big"), hashlib.sha512).digest()
    d = (int.from_bytes(master, "big") + int.from_bytes(i[:32], "big")) % N
    s = int.from_bytes(hashlib.sha512(d.to_bytes(32, "big")).digest(), "big") % N
    return format(s, "064x")


def main() -> None:
    kit, key_file, wallets = sys.argv[1:4]
    with zipfile.ZipFile(kit) as z:
        meta = json.loads(z.read("metadata.json"))
    ncw = [m for m in meta["masterKeys"].values() if m["type"] == "NON_CUSTODIAL_WALLET_MASTER"]
    assert len(ncw) == 1, "expected exactly one NCW master key"
    mk = ncw[0]
    wallet_seed = bytes.fromhex(mk["walletSeed"])
    asset_seed = bytes.fromhex(mk["assetSeed"])
    cloud = [c["id"] for c in mk["cosigners"] if c["type"] == "cloud"]
    master = bytes.fromhex(open(key_file).read().strip())
    assert len(master) == 32
    with open(wallets, encoding="utf-8") as f:
        for line in f:
            w = line.rstrip("\n")
            chain = hashlib.sha256(w.encode("utf-8") + asset_seed).hexdigest()
            print(json.dumps({
                "walletId": w,
                "chaincode": chain,
                "shares": [{"cosigner": c, "MPC_CMP_ECDSA_SECP256K1": share(w, wallet_seed, master)} for c in cloud],
            }))


if __name__ == "__main__":
    # The published vector from DESIGN.md, checked before anything else.
    assert share(
        "2d33e419-4c84-44b1-9d9a-3598f96642b0",
        bytes.fromhex("3c590f865cdf272d9e0490f5918b1a5e4904b07e7c0beccf40ad33d82ba26102"),
        bytes.fromhex("0de5a6cf9a4b2f6ba69a7f8348b9fb54df48d5af176c2564d9349425a7efe31c"),
    ) == "f357ec43a3aba03aeccd4727db2ab43afb472b12fe690c2266dbf8e9294ad25d"
    main()
