//! Property tests for what the playbook reads from disk: incident records
//! and whatever files sit in a workspace the threat checks scan. Whatever
//! the bytes, they give an error or a finding, never a panic, and a bad
//! incident file is never rewritten.
#![allow(clippy::unwrap_used)]

use custodian_core::playbook::incident::{self, StepHow};
use custodian_core::playbook::{Playbook, PlaybookError, checks};
use custodian_core::workspace::Workspace;
use proptest::prelude::*;

const ID: &str = "INC-20260101-abcdef";

fn workspace() -> (tempfile::TempDir, Workspace) {
    let d = tempfile::tempdir().unwrap();
    let ws = Workspace::open(d.path().join("ws")).unwrap();
    (d, ws)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_incident_files_are_refused_and_left_alone(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let (_d, ws) = workspace();
        let path = ws.subdir(incident::DIR).unwrap().join(format!("{ID}.json"));
        std::fs::write(&path, &bytes).unwrap();
        let loaded = incident::load(&ws, ID);
        let refused = matches!(loaded, Err(PlaybookError::BadIncident { .. }));
        prop_assert!(refused, "{:?}", loaded.map(|i| i.id));
        let step = incident::complete_step(
            &ws, Playbook::builtin(), ID, "record-loss", "Ana", StepHow::Attested, &[],
        );
        prop_assert!(step.is_err());
        prop_assert_eq!(std::fs::read(&path).unwrap(), bytes);
        prop_assert!(ws.audit().entries().unwrap().is_empty());
    }

    #[test]
    fn mutated_incident_fields_never_panic(field in "[a-zA-Z]{1,12}", value in ".{0,30}") {
        let (_d, ws) = workspace();
        let inc = incident::open(&ws, Playbook::builtin(), 2, "Ana", None).unwrap();
        let path = ws.root().join(incident::DIR).join(format!("{}.json", inc.id));
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        v[field.as_str()] = serde_json::Value::String(value);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        let _ = incident::load(&ws, &inc.id);
        let _ = incident::list(&ws).unwrap();
    }

    #[test]
    fn the_key_file_scanner_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), name in "[a-z]{1,8}\\.(json|pem|txt)") {
        let (_d, ws) = workspace();
        std::fs::write(ws.root().join(name), &bytes).unwrap();
        let reg = ws.registry().unwrap();
        let results = checks::run_all(
            &ws,
            &reg,
            custodian_core::clock::now(),
            &Ok(vec![]),
            &Err("not hashed in this test".into()),
        );
        prop_assert_eq!(results.len(), checks::CheckId::ALL.len());
    }
}
