// Encrypts stdin to one age recipient with the `age-encryption` package (the
// library the platform's JS SDK uses) and prints the ASCII-armored result.
// Usage: node encrypt.mjs age1… < plaintext > armored
import { Encrypter, armor } from "age-encryption";

const recipient = process.argv[2];
if (!recipient) {
  console.error("usage: node encrypt.mjs <age1 recipient>");
  process.exit(2);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const plaintext = new Uint8Array(Buffer.concat(chunks));

const e = new Encrypter();
e.addRecipient(recipient);
const ciphertext = await e.encrypt(plaintext);
process.stdout.write(armor.encode(ciphertext));
