// An independent implementation of the custodian envelope using only
// WebCrypto (crypto.subtle PBKDF2 + AES-GCM) — no npm packages — as the
// platform's JS side would. Used by tests/webcrypto.rs as a real peer.
//
//   node envelope_webcrypto.mjs open FILE PASSFILE        -> plaintext (base64) on stdout
//   node envelope_webcrypto.mjs seal PLAINFILE PASSFILE OUT [CONTEXTFILE]
//     (CONTEXTFILE: a JSON object to bind as header.context instead of the default)
import { readFileSync, writeFileSync } from "node:fs";

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

// Canonical JSON as RFC 8785 (JCS) defines it, which is what plain JavaScript
// gives: Array.prototype.sort() orders keys by UTF-16 code unit, and
// JSON.stringify writes numbers and strings in the ECMAScript forms JCS uses.
function canonical(v) {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v !== null && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}

const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const unb64 = (text) => new Uint8Array(Buffer.from(text, "base64"));

function passphrase(file) {
  return readFileSync(file, "utf8").split(/\r?\n/)[0];
}

async function aesKey(pass, salt, iterations) {
  const base = await subtle.importKey("raw", enc.encode(pass), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function open(file, passFile) {
  const env = JSON.parse(readFileSync(file, "utf8"));
  const h = env.header;
  if (h.format !== "custodian-envelope" || h.version !== 1) throw new Error("not a v1 envelope");
  if (h.kdf.name !== "PBKDF2-HMAC-SHA256" || h.cipher.name !== "AES-256-GCM") throw new Error("unsupported algorithms");
  const key = await aesKey(passphrase(passFile), unb64(h.kdf.salt), h.kdf.iterations);
  const plain = await subtle.decrypt(
    { name: "AES-GCM", iv: unb64(h.cipher.nonce), additionalData: enc.encode(canonical(h)), tagLength: 128 },
    key,
    unb64(env.ciphertext),
  );
  process.stdout.write(b64(new Uint8Array(plain)) + "\n");
}

async function seal(plainFile, passFile, out, contextFile) {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const header = {
    format: "custodian-envelope",
    version: 1,
    kdf: { name: "PBKDF2-HMAC-SHA256", iterations: 600000, salt: b64(salt) },
    cipher: { name: "AES-256-GCM", nonce: b64(nonce) },
    context: contextFile
      ? JSON.parse(readFileSync(contextFile, "utf8"))
      : { kind: "webcrypto-peer", note: "sealed by Node" },
  };
  const key = await aesKey(passphrase(passFile), salt, 600000);
  const ct = await subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: enc.encode(canonical(header)), tagLength: 128 },
    key,
    readFileSync(plainFile),
  );
  writeFileSync(out, JSON.stringify({ header, ciphertext: b64(new Uint8Array(ct)) }) + "\n", { mode: 0o600 });
}

const [cmd, ...args] = process.argv.slice(2);
try {
  if (cmd === "open") await open(...args);
  else if (cmd === "seal") await seal(...args);
  else throw new Error("usage: open FILE PASSFILE | seal PLAIN PASSFILE OUT");
} catch (e) {
  process.stderr.write(`webcrypto peer: ${e.message}\n`);
  process.exit(1);
}
