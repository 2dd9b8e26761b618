//! Property tests: the parsers that read files a custodian is handed never
//! panic, whatever the bytes — they return a specific error instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use custodian::audit;
use custodian::envelope::Envelope;
use custodian::identity::{IdentityFile, parse_age_key_file};
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
