//! DR kit benches: batch derivation throughput (wallets/s, 1 and 2 threads,
//! end to end: read ids, derive, write the vendor JSON file) and RSA-4096
//! key generation. scripts/compare-keygen.sh times OpenSSL in the same run.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custodian_core::drkit::derive::{self, DeriveOptions, Deriver, OutputFormat, WalletSource};
use custodian_core::drkit::keys;
use custodian_core::drkit::kit::{self, DecryptedMasterKey};
use zeroize::Zeroizing;

const WALLETS: u64 = 100_000;

fn wallet_file(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("wallets.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    for i in 0..WALLETS {
        // Deterministic canonical ids; the derivation cost does not depend on them.
        let spread = (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        writeln!(f, "{}", kit::uuid_text(spread)).unwrap();
    }
    f.flush().unwrap();
    p
}

fn derivation(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let source = WalletSource::File(wallet_file(dir.path()));
    let mks = vec![DecryptedMasterKey {
        master_key_id: "d157d768-16d7-4914-89b1-edfda4f2058b".into(),
        cosigner_id: "21926ecc-4a8a-4614-bbac-7c591aa7efdd".into(),
        entry: "3429798433_d157d768-16d7-4914-89b1-edfda4f2058b".into(),
        key: Zeroizing::new([7u8; 32]),
    }];
    let deriver = Deriver {
        wallet_seed: [1u8; 32],
        asset_seed: [2u8; 32],
        master_keys: &mks,
    };
    let mut g = c.benchmark_group("derive_100k_wallets_to_file");
    g.throughput(Throughput::Elements(WALLETS));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    for threads in [1usize, 2] {
        g.bench_function(format!("{threads}_threads"), |b| {
            let mut n = 0u64;
            b.iter(|| {
                n += 1;
                let out = dir.path().join(format!("out-{threads}-{n}.json"));
                let opts = DeriveOptions {
                    format: OutputFormat::VendorJson,
                    skip_invalid: false,
                    threads: Some(threads),
                };
                derive::derive_to_file(&deriver, &source, &out, &opts, &mut |_| {}).unwrap();
                std::fs::remove_file(&out).unwrap();
            })
        });
    }
    g.finish();
}

fn keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("rsa4096_keygen");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("rsa", |b| b.iter(|| keys::generate().unwrap()));
    g.finish();
}

criterion_group!(benches, derivation, keygen);
criterion_main!(benches);
