//! Property tests: the parsers that read files a custodian is handed never
//! panic, whatever the bytes — they return a specific error instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use custodian_core::audit;
use custodian_core::envelope::Envelope;
use custodian_core::identity::{IdentityFile, parse_age_key_file};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        ".{0,40}".prop_map(Value::String),
        "[A-Za-z0-9+/]{0,60}={0,2}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A structurally plausible envelope with one field replaced by anything.
fn mutated_envelope() -> impl Strategy<Value = Vec<u8>> {
    let paths = prop_oneof![
        Just(vec!["header", "format"]),
        Just(vec!["header", "version"]),
        Just(vec!["header", "kdf"]),
        Just(vec!["header", "kdf", "iterations"]),
        Just(vec!["header", "kdf", "salt"]),
        Just(vec!["header", "kdf", "name"]),
        Just(vec!["header", "cipher", "nonce"]),
        Just(vec!["header", "cipher"]),
        Just(vec!["header", "context"]),
        Just(vec!["ciphertext"]),
        Just(vec!["header"]),
    ];
    (paths, json_value()).prop_map(|(path, value)| {
        let mut v = json!({"header":{"format":"custodian-envelope","version":1,
            "kdf":{"name":"PBKDF2-HMAC-SHA256","iterations":600000,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},
            "cipher":{"name":"AES-256-GCM","nonce":"AAAAAAAAAAAAAAAA"}},
            "ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
        let mut slot = &mut v;
        for key in &path[..path.len() - 1] {
            slot = &mut slot[*key];
        }
        slot[path[path.len() - 1]] = value;
        v.to_string().into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn envelope_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Envelope::from_bytes(&bytes);
    }

    #[test]
    fn envelope_parser_rejects_or_validates_mutations(bytes in mutated_envelope()) {
        // Parsing either fails with an error or yields an envelope whose
        // parameters are all within the documented bounds.
        if let Ok(env) = Envelope::from_bytes(&bytes) {
            let it = env.header.kdf.iterations;
            prop_assert!((600_000..=10_000_000).contains(&it));
        }
    }

    #[test]
    fn identity_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = IdentityFile::from_bytes(&bytes);
    }

    #[test]
    fn age_key_file_parser_never_panics(text in ".{0,300}") {
        let _ = parse_age_key_file(&text);
    }

    #[test]
    fn audit_verify_never_panics(lines in prop::collection::vec(json_value(), 0..6)) {
        let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
        let _ = audit::verify(text.as_bytes());
    }
}

/// One drill kit and its RSA-4096 key, made once for the kit properties.
fn drill_kit() -> &'static (Vec<u8>, rsa::PrivateKey) {
    static KIT: std::sync::OnceLock<(Vec<u8>, rsa::PrivateKey)> = std::sync::OnceLock::new();
    KIT.get_or_init(|| {
        let key = custodian_core::drkit::keys::generate().unwrap();
        let (zip, _) = custodian_core::drkit::kit::build_drill_kit(&key.to_public_key()).unwrap();
        (zip, key)
    })
}

/// A drill kit with some bytes changed, or cut short.
fn mutated_kit() -> impl Strategy<Value = Vec<u8>> {
    let flips = prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6);
    (flips, any::<prop::sample::Index>(), any::<bool>()).prop_map(|(flips, cut, truncate)| {
        let mut bytes = drill_kit().0.clone();
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        } else {
            for (at, x) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= x;
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// metadata.json in either layout, or anything else: parsed or refused.
    #[test]
    fn kit_metadata_parser_never_panics(v in json_value(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        use custodian_core::drkit::kit::KitMetadata;
        let _ = KitMetadata::parse(v.to_string().as_bytes());
        let _ = KitMetadata::parse(&json!({ "keys": v.clone(), "masterKeys": v }).to_string().into_bytes());
        let _ = KitMetadata::parse(&bytes);
    }

    /// A damaged kit zip is opened and decrypted, or refused; a master key
    /// that does come out is the right length.
    #[test]
    fn damaged_kits_never_panic(bytes in mutated_kit()) {
        use custodian_core::drkit::kit::RecoveryKit;
        let path = std::path::Path::new("damaged.zip");
        if let Ok(mut kit) = RecoveryKit::from_bytes(path, bytes) {
            let _ = kit.metadata.ncw_master();
            if let Ok(keys) = kit.decrypt_master_keys(&drill_kit().1) {
                for k in &keys {
                    prop_assert_eq!(k.key.len(), 32);
                }
            }
        }
    }

    /// Private key files of every accepted label with arbitrary bodies.
    #[test]
    fn private_key_loader_never_panics(
        label in prop_oneof![
            Just("ENCRYPTED PRIVATE KEY"), Just("PRIVATE KEY"), Just("RSA PRIVATE KEY"), Just("PUBLIC KEY"),
        ],
        headers in prop_oneof![
            Just(String::new()),
            Just("Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n".to_string()),
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: [ -~]{0,40}\n\n",
        ],
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&body);
        let pem = format!("-----BEGIN {label}-----\n{headers}{b64}\n-----END {label}-----\n");
        let pass = secrecy::SecretString::from("a passphrase");
        let _ = custodian_core::drkit::keys::load_private_key_text(&pem, Some(&pass));
        let _ = custodian_core::drkit::keys::load_private_key_text(&pem, None);
    }
}
