#!/usr/bin/env python3
"""Independent recovery of a vendor DR kit's workspace keys, following the
vendor's format (DESIGN.md, "the same kit's workspace keys"), for checking
that kits custodian *makes* (`drill make-kit`) are complete: every key a
tool following the format recovers must reproduce its public key.

Standard library plus the `openssl` CLI (RSA-OAEP-SHA1 and AES-256-CBC
decryption); the curve arithmetic and Base58Check are dr_kit_build.py's,
which shares no code with the Rust implementation.

usage: dr_kit_recover.py KIT.zip RECOVERY_PRIVATE.pem MOBILE_PASSPHRASE_FILE OUT.json
Writes a JSON list: keyId, algo, keysetId, publicKey, chainCode,
privateKey (32-byte scalar, big-endian hex), xpub, xprv. Exits 1 naming
the key when a key's shares do not reproduce its public key, or an entry
is missing.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dr_kit_build import N, L, k_public, ed_public, ext, prefix_le  # noqa: E402


def openssl(args, data):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in")
        with open(src, "wb") as f:
            f.write(data)
        r = subprocess.run(["openssl"] + args + ["-in", src], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
        return r.stdout


def rsa_oaep_sha1_decrypt(key, blob):
    return openssl(["pkeyutl", "-decrypt", "-inkey", key,
                    "-pkeyopt", "rsa_padding_mode:oaep",
                    "-pkeyopt", "rsa_oaep_md:sha1",
                    "-pkeyopt", "rsa_mgf1_md:sha1"], blob)


def aes_cbc_zero_iv_decrypt(key, blob):
    return openssl(["enc", "-d", "-aes-256-cbc", "-K", key.hex(), "-iv", "00" * 16], blob)


def fail(msg):
    print("dr_kit_recover: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    kit_path, rec_key, pass_file, out_path = sys.argv[1:5]
    passphrase = open(pass_file, "rb").read().split(b"\n")[0]
    z = zipfile.ZipFile(kit_path)
    names = z.namelist()
    meta = json.loads(z.read("metadata.json"))
    if "keys" in meta:
        keys = meta["keys"]
        legacy = False
    else:
        keys = {meta["keyId"]: {"publicKey": meta["publicKey"], "algo": "MPC_ECDSA_SECP256K1"}}
        legacy = True
    out = []
    for key_id, k in keys.items():
        algo = k.get("algo", "MPC_ECDSA_SECP256K1")
        eddsa = "EDDSA" in algo
        cmp_ = "CMP" in algo
        order = L if eddsa else N
        key_dword = prefix_le(key_id)
        points = []
        for name in names:
            if legacy:
                number = name if name.isdigit() else None
            else:
                number = name[:-len("_" + key_id)] if name.endswith("_" + key_id) else None
            if not number or not number.isdigit():
                continue
            share = int.from_bytes(rsa_oaep_sha1_decrypt(rec_key, z.read(name)), "big")
            points.append(((int(number) << 32) | key_dword, share))
        if not points:
            fail("key %s: no cloud share entry" % key_id)
        mobile_name = "MOBILE" if legacy else "MOBILE_" + key_id
        if mobile_name not in names:
            fail("key %s: no mobile entry %s" % (key_id, mobile_name))
        mobile = json.loads(z.read(mobile_name))
        wrap = hashlib.pbkdf2_hmac("sha1", passphrase, mobile["userId"].encode(), 10000, 32)
        plain = aes_cbc_zero_iv_decrypt(wrap, bytes.fromhex(mobile["encryptedKey"]))
        if plain[:1] == b"{":
            mv = bytes.fromhex(json.loads(plain)["key"])
        elif len(plain) == 36:
            mv = plain[4:]
        else:
            mv = plain
        device_player = int.from_bytes(uuid.UUID(mobile["deviceId"]).bytes[:6], "big")
        points.append((device_player, int.from_bytes(mv, "big")))
        if cmp_:
            secret = sum(v for _, v in points) % order
        else:
            secret = 0
            for i, (xi, yi) in enumerate(points):
                num, den = 1, 1
                for j, (xj, _) in enumerate(points):
                    if i != j:
                        num = num * xj % order
                        den = den * (xj - xi) % order
                secret = (secret + yi * num * pow(den, -1, order)) % order
        public = ed_public(secret) if eddsa else k_public(secret)
        if public.hex() != k["publicKey"].lower():
            fail("key %s (%s): the shares do not reproduce its public key" % (key_id, algo))
        chain = bytes.fromhex(k.get("chainCode") or meta["chainCode"])
        pub_data = (b"\0" + public) if eddsa else public
        prv_data = b"\0" + secret.to_bytes(32, "big")
        out.append({
            "keyId": key_id, "algo": algo, "keysetId": k.get("keysetId", 1),
            "publicKey": public.hex(), "chainCode": chain.hex(),
            "privateKey": secret.to_bytes(32, "big").hex(),
            "xpub": ext(0x03273E4B if eddsa else 0x0488B21E, chain, pub_data),
            "xprv": ext(0x03273A10 if eddsa else 0x0488ADE4, chain, prv_data),
        })
    with open(out_path, "x") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
