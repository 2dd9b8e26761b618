//! `age-plugin-custodiantest`: a software "hardware token" for the test suite.
//!
//! It speaks the real age plugin protocol (recipient-v1 and identity-v1,
//! through the `age-plugin` crate), so custodian's token path — the plugin
//! launcher, PIN and touch callbacks, errors — runs in CI without a YubiKey,
//! and the real `age` CLI can use the same plugin from its PATH.
//!
//! The "token" is a file named by `CUSTODIANTEST_TOKEN`:
//!
//! ```text
//! AGE-SECRET-KEY-1…      the token's X25519 key (never leaves the plugin)
//! pin 123456             optional: the PIN the plugin asks for
//! tries 3                PIN tries left; 0 = locked
//! ```
//!
//! - `age-plugin-custodiantest --generate [--pin PIN]` makes a token file
//!   (never overwriting) and prints its identity and recipient.
//! - Recipient: `age1custodiantest1…` (bech32 of the X25519 public key).
//! - Identity: `AGE-PLUGIN-CUSTODIANTEST-1…` (bech32 of the same public key: a
//!   handle naming which token, not a secret).
//! - Stanza: `-> custodiantest EPHEMERAL` + body, an X25519 stanza retagged.
//! - Unwrapping asks for the PIN (`request-secret`) when the token has one,
//!   then shows "touch your token" (`msg`). `CUSTODIANTEST_TOUCH=timeout`
//!   simulates a touch that never comes; `CUSTODIANTEST_TOUCH=wait:FILE`
//!   one that comes when FILE exists (at most 120 s later).
//!
//! Test use only: it is an example of the root package (built by
//! `cargo test --all-targets`), never part of a release.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::PathBuf;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::{Identity as _, Recipient as _, x25519};
use age_core::format::{FileKey, Stanza};
use age_plugin::{
    Callbacks, PluginHandler, identity, print_new_identity, recipient, run_state_machine,
};
use bech32::{Bech32, Hrp};

const NAME: &str = "custodiantest";
const TAG: &str = "custodiantest";

/// The software token: its key, PIN and tries left.
struct Token {
    key: x25519::Identity,
    pin: Option<String>,
    tries: u32,
    path: PathBuf,
}

fn token_path() -> Result<PathBuf, String> {
    std::env::var_os("CUSTODIANTEST_TOKEN")
        .map(PathBuf::from)
        .ok_or_else(|| "no token inserted (CUSTODIANTEST_TOKEN is not set)".to_string())
}

impl Token {
    fn load() -> Result<Token, String> {
        let path = token_path()?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("no token inserted ({}: {e})", path.display()))?;
        let mut key = None;
        let mut pin = None;
        let mut tries = 3;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("pin ") {
                pin = Some(rest.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("tries ") {
                tries = rest.trim().parse().map_err(|_| "damaged token file")?;
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                key =
                    Some(x25519::Identity::from_str(line.trim()).map_err(|_| "damaged token key")?);
            }
        }
        Ok(Token {
            key: key.ok_or("the token file holds no key")?,
            pin,
            tries,
            path,
        })
    }

    fn save(&self) -> io::Result<()> {
        let mut text = format!("{}\n", self.key.to_string().expose_secret());
        if let Some(pin) = &self.pin {
            text.push_str(&format!("pin {pin}\ntries {}\n", self.tries));
        }
        std::fs::write(&self.path, text)
    }

    fn public_bytes(&self) -> Vec<u8> {
        public_bytes(&self.key.to_public())
    }
}

fn public_bytes(r: &x25519::Recipient) -> Vec<u8> {
    bech32::decode(&r.to_string())
        .map(|(_, data)| data)
        .unwrap_or_default()
}

fn x25519_recipient(bytes: &[u8]) -> Option<x25519::Recipient> {
    let text = bech32::encode::<Bech32>(Hrp::parse("age").ok()?, bytes).ok()?;
    x25519::Recipient::from_str(&text).ok()
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = RecipientPlugin;
    type IdentityV1 = IdentityPlugin;

    fn recipient_v1(self) -> io::Result<RecipientPlugin> {
        Ok(RecipientPlugin { to: Vec::new() })
    }

    fn identity_v1(self) -> io::Result<IdentityPlugin> {
        Ok(IdentityPlugin { wanted: Vec::new() })
    }
}

struct RecipientPlugin {
    to: Vec<x25519::Recipient>,
}

impl age_plugin::recipient::RecipientPluginV1 for RecipientPlugin {
    fn add_recipient(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        match x25519_recipient(bytes).filter(|_| plugin_name == NAME) {
            Some(r) => {
                self.to.push(r);
                Ok(())
            }
            None => Err(recipient::Error::Recipient {
                index,
                message: "not a custodiantest recipient".into(),
            }),
        }
    }

    fn add_identity(&mut self, index: usize, _: &str, _: &[u8]) -> Result<(), recipient::Error> {
        Err(recipient::Error::Identity {
            index,
            message: "encrypt to the recipient (age1custodiantest1…), not the identity".into(),
        })
    }

    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _callbacks: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        let mut out = Vec::new();
        for file_key in &file_keys {
            let mut stanzas = Vec::new();
            for r in &self.to {
                let (wrapped, _) = r
                    .wrap_file_key(file_key)
                    .map_err(|e| io::Error::other(e.to_string()))?;
                stanzas.extend(wrapped.into_iter().map(|s| Stanza {
                    tag: TAG.into(),
                    ..s
                }));
            }
            out.push(stanzas);
        }
        Ok(Ok(out))
    }
}

struct IdentityPlugin {
    /// (index, public bytes; empty = whichever token is inserted).
    wanted: Vec<(usize, Vec<u8>)>,
}

impl IdentityPlugin {
    /// PIN and touch, as a token would ask them; Err is the message to report.
    fn unlock(
        &self,
        token: &mut Token,
        callbacks: &mut impl Callbacks<identity::Error>,
    ) -> io::Result<Result<(), String>> {
        if let Some(pin) = token.pin.clone() {
            if token.tries == 0 {
                return Ok(Err("PIN locked: no tries left on this token".into()));
            }
            let given =
                match callbacks.request_secret("Enter the PIN of your custodiantest token")? {
                    Ok(s) => s,
                    Err(_) => return Ok(Err("PIN entry cancelled".into())),
                };
            if given.expose_secret() != pin {
                token.tries -= 1;
                token.save()?;
                return Ok(Err(if token.tries == 0 {
                    "wrong PIN; the token is now locked".into()
                } else {
                    format!("wrong PIN ({} tries left)", token.tries)
                }));
            }
            if token.tries != 3 {
                token.tries = 3;
                token.save()?;
            }
        }
        let _ = callbacks.message("Touch your custodiantest token now")?;
        let touch = std::env::var("CUSTODIANTEST_TOUCH").unwrap_or_default();
        if touch == "timeout" {
            return Ok(Err("touch not received in time (cancelled)".into()));
        }
        // A touch that comes when the file appears (a test holds the
        // plugin "waiting for the touch" as long as it likes).
        if let Some(file) = touch.strip_prefix("wait:") {
            let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while !std::path::Path::new(file).exists() {
                if std::time::Instant::now() > until {
                    return Ok(Err("touch not received in time (cancelled)".into()));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        Ok(Ok(()))
    }
}

impl age_plugin::identity::IdentityPluginV1 for IdentityPlugin {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        if plugin_name != NAME || !(bytes.is_empty() || bytes.len() == 32) {
            return Err(identity::Error::Identity {
                index,
                message: "not a custodiantest identity".into(),
            });
        }
        self.wanted.push((index, bytes.to_vec()));
        Ok(())
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut out = HashMap::new();
        let index = self.wanted.first().map(|(i, _)| *i).unwrap_or(0);
        let fail = |message: String| identity::Error::Identity { index, message };
        let mut token = match Token::load() {
            Ok(t) => t,
            Err(message) => {
                for (i, stanzas) in files.iter().enumerate() {
                    if stanzas.iter().any(|s| s.tag == TAG) {
                        out.insert(i, Err(vec![fail(message.clone())]));
                    }
                }
                return Ok(out);
            }
        };
        let ours = token.public_bytes();
        if !self.wanted.iter().any(|(_, b)| b.is_empty() || *b == ours) {
            for (i, stanzas) in files.iter().enumerate() {
                if stanzas.iter().any(|s| s.tag == TAG) {
                    out.insert(
                        i,
                        Err(vec![fail(
                            "the inserted token is not the one this identity names (wrong token)"
                                .into(),
                        )]),
                    );
                }
            }
            return Ok(out);
        }
        let mut unlocked = false;
        for (i, stanzas) in files.into_iter().enumerate() {
            let candidates: Vec<Stanza> = stanzas
                .into_iter()
                .filter(|s| s.tag == TAG)
                .map(|s| Stanza {
                    tag: "X25519".into(),
                    ..s
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            if !unlocked {
                match self.unlock(&mut token, &mut callbacks)? {
                    Ok(()) => unlocked = true,
                    Err(message) => {
                        out.insert(i, Err(vec![fail(message)]));
                        continue;
                    }
                }
            }
            // A stanza for another custodiantest key is simply not ours:
            // the file has no entry (age reports "no identity matched").
            if let Some(key) = candidates
                .iter()
                .find_map(|s| token.key.unwrap_stanza(s).and_then(Result::ok))
            {
                out.insert(i, Ok(key));
            }
        }
        Ok(out)
    }
}

fn generate(pin: Option<String>) -> Result<(), String> {
    let path = token_path()?;
    let key = x25519::Identity::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = format!("{}\n", key.to_string().expose_secret());
    if let Some(pin) = pin {
        text.push_str(&format!("pin {pin}\ntries 3\n"));
    }
    file.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    let public = public_bytes(&key.to_public());
    print_new_identity(NAME, &public, &public);
    Ok(())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(machine) = args.iter().find_map(|a| a.strip_prefix("--age-plugin=")) {
        return run_state_machine(machine, Handler);
    }
    match args.first().map(String::as_str) {
        Some("--generate") => {
            let pin = match args.get(1).map(String::as_str) {
                Some("--pin") => args.get(2).cloned(),
                _ => None,
            };
            generate(pin).map_err(io::Error::other)
        }
        // `cargo test` runs example targets too (this one has no test
        // harness): with no plugin arguments there is nothing to do.
        _ => {
            eprintln!(
                "age-plugin-custodiantest: the test suite's software token; \
                 `--generate [--pin PIN]` with CUSTODIANTEST_TOKEN=FILE makes one"
            );
            Ok(())
        }
    }
}
