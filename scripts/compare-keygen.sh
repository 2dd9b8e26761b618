#!/usr/bin/env bash
# Times RSA-4096 key generation: OpenSSL (`openssl genpkey`) against ours
# (rsa 0.10, release build; honours CARGO_TARGET_DIR), interleaved in the same run so both see the
# same machine load. Prints each sample and the medians and their ratio.
# Usage: scripts/compare-keygen.sh [RUNS]   (default 9)
set -euo pipefail
runs=${1:-9}
cd "$(dirname "$0")/.."
cargo build --release --quiet -p custodian-core --example keygen_time
ours_bin=${CARGO_TARGET_DIR:-target}/release/examples/keygen_time
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$runs"); do
  s=$(date +%s%N)
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$tmp/k.pem" 2>/dev/null
  e=$(date +%s%N)
  awk -v ns=$((e - s)) 'BEGIN { printf "%.3f\n", ns / 1e9 }' >>"$tmp/openssl"
  "$ours_bin" 1 >>"$tmp/ours"
  echo "run $i: openssl $(tail -1 "$tmp/openssl") s, ours $(tail -1 "$tmp/ours") s"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(median "$tmp/openssl"); mu=$(median "$tmp/ours")
echo "median openssl: $mo s"
echo "median ours:    $mu s"
awk -v u="$mu" -v o="$mo" 'BEGIN { printf "ratio ours/openssl: %.2f  (target <= 0.60)\n", u / o }'
