//! Prints the seconds each of N RSA-4096 key generations takes (one per
//! line), for scripts/compare-keygen.sh. Usage: keygen_time [N]
#![allow(clippy::unwrap_used)]

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for _ in 0..n {
        let t = std::time::Instant::now();
        custodian_core::drkit::keys::generate().unwrap();
        println!("{:.3}", t.elapsed().as_secs_f64());
    }
}
