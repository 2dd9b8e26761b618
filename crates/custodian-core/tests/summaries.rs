//! Summaries the shells used to compute for themselves and now ask core for:
//! the audit viewer's filters and the rewrap wizard's identity suggestion.

use custodian_core::audit::AuditLog;
use custodian_core::workspace::Registry;
use serde_json::json;
use std::path::Path;

#[test]
fn audit_show_filters_match_event_as_substring_and_key_id_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.jsonl"));
    log.record("SHARD_REWRAP", json!({"keyId": "key-1"}))
        .unwrap();
    log.record("IDENTITY_NEW", json!({"name": "Ana"})).unwrap();
    let entries = log.entries().unwrap();
    let (rewrap, identity) = (&entries[0], &entries[1]);

    assert!(rewrap.matches(None, None));
    assert!(rewrap.matches(Some("rewrap"), None));
    assert!(rewrap.matches(Some("rewrap"), Some("key-1")));
    assert!(!rewrap.matches(None, Some("key-")), "key ids match exactly");
    assert!(!rewrap.matches(Some("identity"), None));
    assert!(
        !identity.matches(None, Some("key-1")),
        "no key id, no match"
    );
}

#[test]
fn the_identity_file_for_a_recipient_is_the_registered_custodians() {
    let reg = Registry::from_json(
        json!({
        "version": 1,
        "custodians": [
            {"name": "Ana", "recipient": "age1ana", "fingerprint": "", "createdAt": "",
             "rotationDue": "", "identityFile": "/ids/ana.identity"},
            {"name": "Ben", "recipient": "age1ben", "fingerprint": "", "createdAt": "",
             "rotationDue": ""}
        ]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        reg.identity_file_for("age1ana"),
        Some(Path::new("/ids/ana.identity"))
    );
    assert_eq!(
        reg.identity_file_for("age1ben"),
        None,
        "registered without a file"
    );
    assert_eq!(reg.identity_file_for("age1nobody"), None);
}
