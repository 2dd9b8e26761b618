#!/usr/bin/env python3
"""Independent builder of complete vendor DR kits, for cross-checking
`custodian kit recover` / `kit verify` with the mobile secret.

Standard library only (hashlib, json, secrets, zipfile) plus the `openssl`
CLI for the RSA-OAEP and AES-256-CBC encryptions; the curve arithmetic
(secp256k1 and ed25519 point multiplication) and Base58Check are written
out here, sharing no code with the Rust implementation.

It makes the workspace keys the vendor's format describes (DESIGN.md, "the
same kit's workspace keys"): random secrets split into cloud shares
(RSA-OAEP-SHA1 to the recovery key, entry `<cosignerNumber>_<keyId>`) and
the owner's mobile share (entry `MOBILE_<keyId>`, AES-256-CBC under
PBKDF2-HMAC-SHA1(passphrase, userId, 10000), or RSA-OAEP-SHA256 to a mobile
RSA key), Lagrange-shared over player ids for the non-CMP algorithms and
additively for the CMP ones.

usage: dr_kit_build.py LAYOUT RECOVERY_PUB.pem MOBILE_PASSPHRASE_FILE OUT.zip EXPECTED.json [MOBILE_PUB.pem]
LAYOUT: "keys" (four keys in two keysets, per-key chain code, NCW master
key) or "legacy" (one ECDSA key, top-level keyId/publicKey).
"""
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
import zipfile

# --- secp256k1 ---------------------------------------------------------
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def k_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def k_mul(k, pt=G):
    acc = None
    while k:
        if k & 1:
            acc = k_add(acc, pt)
        pt = k_add(pt, pt)
        k >>= 1
    return acc


def k_public(d):
    x, y = k_mul(d)
    return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")


# --- ed25519 (RFC 8032 arithmetic, extended coordinates) ---------------
EP = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
ED = -121665 * pow(121666, -1, EP) % EP
BY = 4 * pow(5, -1, EP) % EP


def ed_recover_x(y, sign):
    x2 = (y * y - 1) * pow(ED * y * y + 1, -1, EP) % EP
    x = pow(x2, (EP + 3) // 8, EP)
    if (x * x - x2) % EP:
        x = x * pow(2, (EP - 1) // 4, EP) % EP
    if x & 1 != sign:
        x = EP - x
    return x


BX = ed_recover_x(BY, 0)
B = (BX, BY, 1, BX * BY % EP)


def ed_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % EP
    b = (p[1] + p[0]) * (q[1] + q[0]) % EP
    c = 2 * p[3] * q[3] * ED % EP
    d = 2 * p[2] * q[2] % EP
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % EP, g * h % EP, f * g % EP, e * h % EP)


def ed_mul(s, pt=B):
    acc = (0, 1, 1, 0)
    while s:
        if s & 1:
            acc = ed_add(acc, pt)
        pt = ed_add(pt, pt)
        s >>= 1
    return acc


def ed_public(s):
    x, y, z, _ = ed_mul(s)
    zi = pow(z, -1, EP)
    x, y = x * zi % EP, y * zi % EP
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


# --- extended keys -----------------------------------------------------
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check(raw):
    raw = raw + hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def ext(version, chain, data):
    return b58check(version.to_bytes(4, "big") + bytes(9) + chain + data)


# --- helpers -----------------------------------------------------------
def openssl(args, data):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True, check=True).stdout


def rsa_oaep(pub, plain, digest):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in")
        with open(src, "wb") as f:
            f.write(plain)
        return openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", pub,
                        "-pkeyopt", "rsa_padding_mode:oaep",
                        "-pkeyopt", "rsa_oaep_md:" + digest,
                        "-pkeyopt", "rsa_mgf1_md:" + digest, "-in", src], b"")


def aes_cbc_zero_iv(key, plain):
    return openssl(["enc", "-aes-256-cbc", "-K", key.hex(), "-iv", "00" * 16], plain)


def prefix_le(u):
    return int.from_bytes(uuid.UUID(u).bytes[:4], "little")


def lagrange_shares(secret, xs, order):
    coeffs = [secret] + [secrets.randbelow(order) for _ in xs[1:]]
    return [sum(c * pow(x, i, order) for i, c in enumerate(coeffs)) % order for x in xs]


def additive_shares(secret, count, order):
    parts = [secrets.randbelow(order) for _ in range(count - 1)]
    return parts + [(secret - sum(parts)) % order]


def main():
    layout, rec_pub, pass_file, out_zip, expected_path = sys.argv[1:6]
    mobile_pub = sys.argv[6] if len(sys.argv) > 6 else None
    passphrase = open(pass_file, "rb").read().split(b"\n")[0]
    entries = {}
    expected = []
    top_chain = secrets.token_bytes(32)
    cloud = [str(uuid.uuid4()), str(uuid.uuid4())]
    if layout == "keys":
        plan = [("MPC_ECDSA_SECP256K1", 1, None, "json"),
                ("MPC_CMP_ECDSA_SECP256K1", 1, None, "36"),
                ("MPC_EDDSA_ED25519", 1, secrets.token_bytes(32), "json"),
                ("MPC_CMP_EDDSA_ED25519", 2, secrets.token_bytes(32), "36")]
    else:
        plan = [("MPC_ECDSA_SECP256K1", 1, None, "32")]
    keys = {}
    for algo, keyset, own_chain, mobile_form in plan:
        key_id = str(uuid.uuid4())
        eddsa = "EDDSA" in algo
        order = L if eddsa else N
        secret = secrets.randbelow(order - 1) + 1
        public = ed_public(secret) if eddsa else k_public(secret)
        numbers = [prefix_le(c) for c in cloud]
        key_dword = int.from_bytes(uuid.UUID(key_id).bytes[:4], "little")
        device = str(uuid.uuid4())
        user = str(uuid.uuid4())
        mobile_player = int.from_bytes(uuid.UUID(device).bytes[:6], "big")
        players = [(n << 32) | key_dword for n in numbers] + [mobile_player]
        if "CMP" in algo:
            values = additive_shares(secret, len(players), order)
        else:
            values = lagrange_shares(secret, players, order)
        for n, v in zip(numbers, values):
            name = str(n) if layout == "legacy" else "%d_%s" % (n, key_id)
            entries[name] = rsa_oaep(rec_pub, v.to_bytes(32, "big"), "sha1")
        mv = values[-1].to_bytes(32, "big")
        if mobile_form == "json":
            plain = json.dumps({"key": mv.hex()}).encode()
        elif mobile_form == "36":
            plain = (1 if eddsa else 0).to_bytes(4, "little") + mv
        else:
            plain = mv
        if mobile_pub:
            enc = rsa_oaep(mobile_pub, plain, "sha256")
        else:
            wrap = hashlib.pbkdf2_hmac("sha1", passphrase, user.encode(), 10000, 32)
            enc = aes_cbc_zero_iv(wrap, plain)
        mobile_name = "MOBILE" if layout == "legacy" else "MOBILE_" + key_id
        entries[mobile_name] = json.dumps({"keyId": key_id, "userId": user, "deviceId": device,
                                           "encryptedKey": enc.hex()}).encode()
        chain = own_chain or top_chain
        meta = {"publicKey": public.hex(), "algo": algo,
                "cosigners": [{"id": c, "type": "cloud"} for c in cloud]}
        if own_chain:
            meta["chainCode"] = own_chain.hex()
        if keyset != 1:
            meta["keysetId"] = keyset
        keys[key_id] = meta
        pub_data = (b"\0" + public) if eddsa else public
        prv_data = b"\0" + secret.to_bytes(32, "big")
        expected.append({
            "keyId": key_id, "algo": algo, "keysetId": keyset,
            "publicKey": public.hex(), "chainCode": chain.hex(),
            "privateKey": secret.to_bytes(32, "big").hex(),
            "xpub": ext(0x03273E4B if eddsa else 0x0488B21E, chain, pub_data),
            "xprv": ext(0x03273A10 if eddsa else 0x0488ADE4, chain, prv_data),
        })
    if layout == "legacy":
        (key_id, meta), = keys.items()
        metadata = {"tenantId": str(uuid.uuid4()), "keyId": key_id,
                    "publicKey": meta["publicKey"], "chainCode": top_chain.hex()}
    else:
        master_id = str(uuid.uuid4())
        entries["%d_%s" % (prefix_le(cloud[0]), master_id)] = rsa_oaep(rec_pub, secrets.token_bytes(32), "sha1")
        metadata = {"tenantId": str(uuid.uuid4()), "chainCode": top_chain.hex(), "keys": keys,
                    "masterKeys": {master_id: {
                        "type": "NON_CUSTODIAL_WALLET_MASTER",
                        "walletSeed": secrets.token_hex(32), "assetSeed": secrets.token_hex(32),
                        "cosigners": [{"id": cloud[0], "type": "cloud"}]}}}
    with zipfile.ZipFile(out_zip, "x", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps(metadata, indent=1))
        for name, data in entries.items():
            z.writestr(name, data)
    with open(expected_path, "x") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
