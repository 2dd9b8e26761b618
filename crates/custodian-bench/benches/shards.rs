//! Shard and recovery costs, without the identity KDF (measured in the
//! envelope bench): splitting a key, Lagrange interpolation (including the
//! 3-of-5 subset search that names a bad shard), sealing a share payload to
//! an age recipient with its read-back verification, and reading an age
//! header's stanzas.

use criterion::{Criterion, criterion_group, criterion_main};
use custodian_core::recovery;
use custodian_core::shard::{self, SharePayload};

fn bench_shards(c: &mut Criterion) {
    let secret = *<k256::NonZeroScalar as k256::elliptic_curve::Generate>::generate_from_rng(
        &mut custodian_core::rng::os(),
    );
    let root = shard::public_key_hex(&shard::public_of(&secret).expect("non-zero"));
    let shares = shard::split_scalar(&secret, 2, 3);
    let five = shard::split_scalar(&secret, 3, 5);
    let recipient = age::x25519::Identity::generate().to_public();
    let payload = SharePayload::new("drill-bench", 1, &root, &shares[0].1);
    let bytes = payload.to_bytes();
    let sealed = shard::seal_to(&recipient, &bytes).expect("seal");

    let mut group = c.benchmark_group("shards");
    group.bench_function("split_2_of_3", |b| {
        b.iter(|| shard::split_scalar(&secret, 2, 3))
    });
    group.bench_function("interpolate_2_and_verify_root", |b| {
        b.iter(|| {
            let k = recovery::interpolate_at_zero(&shares[..2]).expect("distinct");
            shard::public_of(&k).map(|p| shard::public_key_hex(&p) == root)
        })
    });
    group.bench_function("subset_search_3_of_5_all_10_subsets", |b| {
        b.iter(|| {
            let mut ok = 0;
            for i in 0..5 {
                for j in i + 1..5 {
                    for k in j + 1..5 {
                        let key = recovery::interpolate_at_zero(&[five[i], five[j], five[k]])
                            .expect("distinct");
                        if shard::public_of(&key).map(|p| shard::public_key_hex(&p))
                            == Some(root.clone())
                        {
                            ok += 1;
                        }
                    }
                }
            }
            ok
        })
    });
    group.bench_function("seal_payload_to_age_recipient", |b| {
        b.iter(|| shard::seal_to(&recipient, &bytes))
    });
    group.bench_function("verify_written_shard_ciphertext", |b| {
        b.iter(|| sealed.verify(&sealed.armored, &bytes))
    });
    group.bench_function("parse_armored_header", |b| {
        b.iter(|| shard::x25519_stanzas(&sealed.armored))
    });
    group.finish();
}

criterion_group!(benches, bench_shards);
criterion_main!(benches);
