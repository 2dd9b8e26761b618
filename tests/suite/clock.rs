//! A sane clock (custody hygiene): an air-gapped laptop's clock drifts or
//! is set wrong. An audited operation is refused when the clock is earlier
//! than the newest audit entry — the log must never go backwards — and
//! nothing changes. The clock is faked with `CUSTODIAN_FAKE_NOW`, which
//! only test builds (the `fault-injection` feature) read.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{PASS_A, PASS_B, Sandbox};

#[test]
fn a_clock_behind_the_audit_log_is_refused_and_nothing_changes() {
    let sb = Sandbox::new();
    sb.cmd()
        .args(["identity", "new", "--name", "Ana", "--passphrase-file"])
        .arg(sb.pass_file("a", &[PASS_A]))
        .assert()
        .success();
    // A torn line waiting for repair must wait too: it is cut only when
    // its repair entry can be written.
    let log = sb.ws().join("audit.jsonl");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"{\"seq\":");
    std::fs::write(&log, &bytes).unwrap();
    let pass = sb.pass_file("b", &[PASS_B]);
    let before = sb.snapshot();
    let out = sb
        .cmd()
        .env("CUSTODIAN_FAKE_NOW", "2001-01-01T00:00:00Z")
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(&pass)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2001-01-01T00:00:00Z") && err.contains("earlier than the newest audit entry"),
        "{err}"
    );
    assert!(err.contains("set the system clock"), "{err}");
    assert_eq!(sb.snapshot(), before, "a refused operation changed files");

    // The right time again: the operation goes through.
    sb.cmd()
        .args(["identity", "new", "--name", "Ben", "--passphrase-file"])
        .arg(&pass)
        .assert()
        .success();
    sb.cmd().args(["audit", "verify"]).assert().success();
}
