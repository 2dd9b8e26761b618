//! How much a guardian split costs next to one KDF.
//!
//! Every share is sealed under its own 600,000-iteration PBKDF2, and the
//! custodian's identity is opened with one more. The guardian KDFs run in
//! parallel (rayon), so on a 2-core machine a 3-of-5 split should cost about
//! one KDF (the identity) plus three rounds of two (the five shares), not
//! six KDFs in a row. The same split confined to one rayon thread is
//! measured alongside, so the saving shows even on a loaded machine.
//! Run with `cargo bench --bench guardians`.
//!
//! Measured 2026-11-22 on the shared 2-core build machine (load average
//! about 5, so the second core was mostly busy with other work): single KDF
//! 80 ms; split with parallel guardian KDFs 478 ms (≈ 6.0 KDFs); the same
//! split on one thread 646 ms (≈ 8.1 KDFs).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use custodian_core::envelope;
use custodian_core::guardians::{self, SplitRequest};
use custodian_core::identity;
use custodian_core::workspace::Workspace;
use secrecy::SecretString;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = Workspace::open(dir.path().join("ws")).expect("workspace");
    let pass = SecretString::from("correct horse battery staple orbit lantern");
    let created = identity::create_identity(&ws, "Bench", &pass, None).expect("identity");
    let guardians: Vec<(String, SecretString)> = ["Ana", "Ben", "Cy", "Dee", "Eli"]
        .iter()
        .map(|g| {
            (
                g.to_string(),
                SecretString::from(format!("velvet quarry hobnail drizzle copper {g}")),
            )
        })
        .collect();

    let mut group = c.benchmark_group("guardians");
    group.sample_size(10);
    group.bench_function("single KDF (seal one 33-byte share)", |b| {
        b.iter(|| {
            envelope::seal(
                black_box(&[7u8; 33]),
                &pass,
                envelope::DEFAULT_ITERATIONS,
                None,
            )
            .expect("seal")
        })
    });
    let mut run = 0u32;
    let mut split = || {
        run += 1;
        let out = dir.path().join(format!("run-{run}"));
        guardians::split(
            &ws,
            SplitRequest {
                identity_path: &created.path,
                identity_passphrase: &pass,
                threshold: 3,
                guardians: guardians.clone(),
                out_dir: Some(&out),
            },
            &|_, _, _| {},
        )
        .expect("split")
    };
    group.bench_function("3-of-5 split, guardian KDFs in parallel", |b| {
        b.iter(&mut split)
    });
    // The same code confined to one worker thread: what the parallelism saves
    // under the machine's current load.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    group.bench_function("3-of-5 split, one thread (for comparison)", |b| {
        b.iter(|| one.install(&mut split))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
