//! `custodian drill make-key` through the binary: sandbox identities on
//! request, shards that open and recombine, the drill key in the registry,
//! and refusals that leave nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{PASS_A, PASS_B, Sandbox};
use custodian_core::identity::IdentityFile;
use custodian_core::recovery;
use custodian_core::shard::{self, ShardFile};
use predicates::str::contains;
use secrecy::SecretString;

#[test]
fn make_key_generates_identities_and_shards_that_rebuild_the_root_key() {
    let sb = Sandbox::new();
    let pass = sb.pass_file("p", &[PASS_A, PASS_B, PASS_A]);
    let out = sb
        .cmd()
        .args(["--json", "drill", "make-key", "--custodians", "Ana,Ben,Cy"])
        .args([
            "--threshold",
            "2",
            "--key-id",
            "drill-q3",
            "--generate-identities",
        ])
        .arg("--passphrase-file")
        .arg(&pass)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["keyId"], "drill-q3");
    let root = v["rootPublicKey"].as_str().unwrap().to_string();
    let files: Vec<std::path::PathBuf> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().into())
        .collect();
    assert_eq!(files.len(), 3);
    // Each shard opens with its custodian's new identity and the shares rebuild the root.
    let mut points = Vec::new();
    for (i, (f, (name, p))) in files
        .iter()
        .zip([("ana", PASS_A), ("ben", PASS_B), ("cy", PASS_A)])
        .enumerate()
    {
        let file = ShardFile::load(f).unwrap();
        assert_eq!(file.index, i as u32 + 1);
        assert_eq!(file.root_public_key, root);
        let id = IdentityFile::load(&sb.ws().join(format!("identities/{name}.identity.json")))
            .unwrap()
            .open(&SecretString::from(p))
            .unwrap();
        points.push((file.index, file.open(&id).unwrap().scalar().unwrap()));
    }
    let key = recovery::interpolate_at_zero(&points[1..]).unwrap();
    assert_eq!(
        shard::public_key_hex(&shard::public_of(&key).unwrap()),
        root
    );
    let reg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.ws().join("registry.json")).unwrap()).unwrap();
    assert_eq!(reg["drillKeys"][0]["keyId"], "drill-q3");
    assert_eq!(reg["drillKeys"][0]["rootPublicKey"], root.as_str());
    assert_eq!(reg["custodians"].as_array().unwrap().len(), 3);
    assert_eq!(reg["shards"].as_array().unwrap().len(), 3);
}

#[test]
fn make_key_refusals_leave_nothing_behind() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.ws()).unwrap();
    std::fs::set_permissions(sb.ws(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let before = sb.snapshot();
    sb.cmd()
        .args([
            "drill",
            "make-key",
            "--custodians",
            "Ana,Ben",
            "--threshold",
            "3",
        ])
        .assert()
        .code(1)
        .stderr(contains("a 3-of-2 split is not possible"));
    sb.cmd()
        .args(["drill", "make-key", "--custodians", "Ana,Ana,Ben"])
        .assert()
        .code(1)
        .stderr(contains("custodian `Ana` is named twice"));
    sb.cmd()
        .args(["drill", "make-key", "--custodians", "Ana,Ben,Cy"])
        .assert()
        .code(1)
        .stderr(contains("custodian `Ana` is not registered"))
        .stderr(contains("--generate-identities"));
    assert_eq!(before, sb.snapshot());
}
