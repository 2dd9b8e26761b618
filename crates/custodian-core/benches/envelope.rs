//! Envelope costs: sealing and opening are dominated by the 600,000-iteration
//! PBKDF2; scripts/compare-kdf.sh puts the same KDF through OpenSSL in the
//! same run for a ratio.

use criterion::{Criterion, criterion_group, criterion_main};
use custodian_core::envelope::{self, Envelope};
use secrecy::SecretString;

fn bench_envelope(c: &mut Criterion) {
    let pass = SecretString::from("correct horse battery staple orbit lantern");
    let sealed = envelope::seal(
        b"AGE-SECRET-KEY-1",
        &pass,
        envelope::DEFAULT_ITERATIONS,
        None,
    )
    .expect("seal")
    .to_bytes();
    let mut group = c.benchmark_group("envelope");
    group.sample_size(10);
    group.bench_function("seal_600k", |b| {
        b.iter(|| {
            envelope::seal(
                b"AGE-SECRET-KEY-1",
                &pass,
                envelope::DEFAULT_ITERATIONS,
                None,
            )
        })
    });
    group.bench_function("open_600k", |b| {
        b.iter(|| Envelope::from_bytes(&sealed).and_then(|e| e.open(&pass)))
    });
    group.finish();
}

criterion_group!(benches, bench_envelope);
criterion_main!(benches);
