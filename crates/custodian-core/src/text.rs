//! Text as people read it and type it: numbers (`1,000,000 wallets`,
//! `1 share`), and the one check every public-value input goes through so
//! that a secret pasted in the wrong place is never echoed back.
//!
//! Public-value places (recipients, public key files, names, paths) call
//! [`refuse_secret`] before parsing. What counts as a secret follows the
//! clarifications: an age secret key, a PEM private key, an extended
//! private key (`xprv…`/`tprv…`), and — where a public value of another
//! shape belongs, such as an `age1…` recipient or a name — a bare run of 64
//! hex digits (a raw 32-byte key). Hashes and public keys in places meant
//! for them are not checked here. Other unreadable input is echoed at most
//! by [`short_prefix`].

/// `n` with a comma between each group of three digits.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` grouped, then the singular or plural noun.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n), if n == 1 { one } else { many })
}

/// What a secret-looking input looked like (never the input itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretLook {
    /// `AGE-SECRET-KEY-1…`.
    AgeSecretKey,
    /// A PEM block holding a `PRIVATE KEY`.
    PemPrivateKey,
    /// A BIP32-style extended private key (`xprv…`, `tprv…`).
    ExtendedPrivateKey,
    /// 64 hex digits: a raw 32-byte key where none belongs.
    RawKeyHex,
}

impl SecretLook {
    /// How a custodian would name it.
    pub fn describe(self) -> &'static str {
        match self {
            SecretLook::AgeSecretKey => "an age secret key (AGE-SECRET-KEY-1…)",
            SecretLook::PemPrivateKey => "a PEM private key",
            SecretLook::ExtendedPrivateKey => "an extended private key (xprv…)",
            SecretLook::RawKeyHex => "a raw 32-byte key (64 hex digits)",
        }
    }
}

/// What the input looks like, if it looks like a secret.
pub fn secret_look(input: &str) -> Option<SecretLook> {
    let upper = input.to_ascii_uppercase();
    if upper.contains("AGE-SECRET-KEY-") {
        return Some(SecretLook::AgeSecretKey);
    }
    if upper.contains("PRIVATE KEY") && upper.contains("-----BEGIN") {
        return Some(SecretLook::PemPrivateKey);
    }
    let trimmed = input.trim();
    if input
        .split(|c: char| c.is_whitespace() || c == ',' || c == '"')
        .any(|w| (w.starts_with("xprv") || w.starts_with("tprv")) && w.len() > 100)
    {
        return Some(SecretLook::ExtendedPrivateKey);
    }
    let hex = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(SecretLook::RawKeyHex);
    }
    None
}

/// A secret typed or pasted where a public value belongs. Its message never
/// holds the input: it says what the input looked like and that it must be
/// treated as exposed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {field} given is {}, not a public value: it was a secret, it is not shown here, \
     and it must be treated as exposed",
    look.describe()
)]
pub struct SecretInput {
    /// The place it was given (`recipient`, `name`, `HSM public key file`…).
    pub field: &'static str,
    /// What it looked like.
    pub look: SecretLook,
}

impl crate::error::Explain for SecretInput {
    fn remedy_for(&self, _to: crate::error::Audience) -> Option<String> {
        Some(
            "replace that key now (it may sit in shell history, scrollback or a clipboard) and \
             clear those; then give the public value instead"
                .into(),
        )
    }
}

/// Refuses an input meant for a public value that looks like a secret.
pub fn refuse_secret(field: &'static str, input: &str) -> Result<(), SecretInput> {
    match secret_look(input) {
        Some(look) => Err(SecretInput { field, look }),
        None => Ok(()),
    }
}

/// At most the first few characters of an unreadable public-value input,
/// for an error message.
pub fn short_prefix(input: &str) -> String {
    const SHOWN: usize = 12;
    let trimmed = input.trim();
    let mut out: String = trimmed.chars().take(SHOWN).collect();
    if trimmed.chars().count() > SHOWN {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_and_never_in_the_message() {
        let age = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS3F5GQ";
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        let xprv = format!("xprv9s21ZrQH143K{}", "a".repeat(95));
        let hex64 = "0123456789abcdef".repeat(4);
        for (input, look) in [
            (age.to_string(), SecretLook::AgeSecretKey),
            (age.to_lowercase(), SecretLook::AgeSecretKey),
            (format!("  {age}\n"), SecretLook::AgeSecretKey),
            (pem.to_string(), SecretLook::PemPrivateKey),
            (xprv.clone(), SecretLook::ExtendedPrivateKey),
            (hex64.clone(), SecretLook::RawKeyHex),
            (format!("0x{hex64}"), SecretLook::RawKeyHex),
        ] {
            let err = refuse_secret("recipient", &input).unwrap_err();
            assert_eq!(err.look, look);
            let text = crate::error::Report::from_error(&err).to_string();
            assert!(text.contains("treated as exposed"), "{text}");
            for piece in [&input[..], &input.trim()[..20.min(input.trim().len())]] {
                assert!(!text.contains(piece.trim()), "{text}");
            }
        }
        for public in [
            "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            "Ana Lopez",
            "/tmp/out.age",
            "-----BEGIN PUBLIC KEY-----",
            &"ab".repeat(31),
        ] {
            assert_eq!(secret_look(public), None, "{public}");
        }
    }

    #[test]
    fn a_short_prefix_is_short() {
        assert_eq!(short_prefix("age1short"), "age1short");
        assert_eq!(short_prefix("  abcdefghijklmnopq "), "abcdefghijkl…");
    }

    #[test]
    fn digits_are_grouped_in_threes() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(12_345_678), "12,345,678");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(count(1, "wallet", "wallets"), "1 wallet");
        assert_eq!(count(0, "wallet", "wallets"), "0 wallets");
        assert_eq!(count(16384, "wallet", "wallets"), "16,384 wallets");
    }
}
