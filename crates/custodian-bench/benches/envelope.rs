//! Envelope costs: sealing and opening are dominated by the 600,000-iteration
//! PBKDF2-HMAC-SHA256; scripts/compare-kdf.sh puts the same KDF through
//! OpenSSL in the same run for a ratio.
//!
//! The `kdf_limit` group sets the KDF beside its serial limit: PBKDF2 with
//! 600,000 iterations is 1.2 million SHA-256 compressions (two per HMAC),
//! each waiting for the one before, so no implementation can beat 1.2
//! million back-to-back compressions through the same SHA-256 backend. After
//! criterion's own report, the bench times both again interleaved (so both
//! see the same machine load) and prints the medians and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use custodian_core::envelope::{self, Envelope};
use secrecy::SecretString;

const ITERATIONS: u32 = envelope::DEFAULT_ITERATIONS;
/// Two compressions per PBKDF2 iteration (inner and outer HMAC hash).
const COMPRESSIONS: u32 = 2 * ITERATIONS;
/// Interleaved pairs timed for the printed ratio.
const RATIO_SAMPLES: usize = 15;

/// The envelope's KDF exactly as sealing and opening call it.
fn kdf() -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        black_box(b"correct horse battery staple orbit lantern"),
        black_box(&[7u8; 16]),
        ITERATIONS,
        &mut key,
    );
    key
}

/// The serial limit: 1.2 million compressions, each on the state the last
/// one produced, through the same `sha2` backend (SHA-NI where the CPU has it).
fn serial_compressions() -> [u32; 8] {
    let mut state = [
        0x6a09e667u32,
        0xbb67ae85,
        0x3c6ef372,
        0xa54ff53a,
        0x510e527f,
        0x9b05688c,
        0x1f83d9ab,
        0x5be0cd19,
    ];
    let block = [0u8; 64];
    let blocks = core::slice::from_ref(&block);
    for _ in 0..COMPRESSIONS {
        sha2::block_api::compress256(&mut state, black_box(blocks));
    }
    state
}

fn bench_envelope(c: &mut Criterion) {
    let pass = SecretString::from("correct horse battery staple orbit lantern");
    let sealed = envelope::seal(b"AGE-SECRET-KEY-1", &pass, ITERATIONS, None)
        .expect("seal")
        .to_bytes();
    let mut group = c.benchmark_group("envelope");
    group.sample_size(10);
    group.bench_function("seal_600k", |b| {
        b.iter(|| envelope::seal(b"AGE-SECRET-KEY-1", &pass, ITERATIONS, None))
    });
    group.bench_function("open_600k", |b| {
        b.iter(|| Envelope::from_bytes(&sealed).and_then(|e| e.open(&pass)))
    });
    group.finish();
}

fn bench_kdf_limit(c: &mut Criterion) {
    let mut group = c.benchmark_group("kdf_limit");
    group.sample_size(20);
    group.bench_function("pbkdf2_hmac_sha256_600k", |b| b.iter(kdf));
    group.bench_function("sha256_compress_1_2m_serial", |b| {
        b.iter(serial_compressions)
    });
    group.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times the KDF and the limit alternately and prints the ratio.
fn print_ratio() {
    let (mut kdf_times, mut limit_times) = (Vec::new(), Vec::new());
    for _ in 0..RATIO_SAMPLES {
        let s = Instant::now();
        black_box(kdf());
        kdf_times.push(s.elapsed());
        let s = Instant::now();
        black_box(serial_compressions());
        limit_times.push(s.elapsed());
    }
    let (k, l) = (median(kdf_times), median(limit_times));
    println!(
        "kdf_limit (median of {RATIO_SAMPLES}, interleaved): PBKDF2-HMAC-SHA256 600k {:.1} ms, \
         1.2M serial SHA-256 compressions {:.1} ms, ratio {:.2} (target <= 1.30)",
        k.as_secs_f64() * 1e3,
        l.as_secs_f64() * 1e3,
        k.as_secs_f64() / l.as_secs_f64()
    );
}

criterion_group!(benches, bench_envelope, bench_kdf_limit);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratio();
}
