#!/usr/bin/env bash
# Times `custodian kit derive` end to end (validate, decrypt, derive, write,
# fsync, read back) for 1,000,000 random wallet ids on a real vendor-format
# drill kit, release build, every thread, in each output format: the median
# of RUNS runs and the peak RSS. Beside it, measured in the same run:
#
# - the hashing limit: the derivation's own compressions (per wallet, five
#   SHA-512 for the HMAC and the share, four SHA-256 for the two chain
#   codes), timed through OpenSSL's bulk SHA-512/SHA-256 (`openssl speed`,
#   its fastest code on this CPU) and spread over every core;
# - the disk's own write+fsync of the same number of bytes (`dd ...
#   conv=fsync` of the output file).
#
# Target (issue 16): <= 0.8 s and <= 64 MB peak RSS on 2 cores.
# Usage: scripts/bench-derive-1m.sh [WALLETS]   (default 1000000; env RUNS=5)
set -euo pipefail
n=${1:-1000000}
runs=${RUNS:-5}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin custodian
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/custodian
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
"$bin" --workspace ws kit make-drill-kit --public pub.pem --out kit.zip >/dev/null
python3 -c "
import uuid
with open('wallets.txt', 'w') as f:
    for _ in range($n): f.write(str(uuid.uuid4()) + '\n')"

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# One run: "seconds peak_rss_kb". Each run starts on a quiet disk: the
# previous output is deleted and flushed first, so one run's writeback does
# not slow the next.
once() {
  rm -f o.out
  sync
  sleep 1
  local s e
  s=$(date +%s%N)
  /usr/bin/time -f '%M' -o rss "$bin" --workspace ws kit derive kit.zip --key key.pem \
    --wallets wallets.txt --out o.out "$@" >/dev/null 2>&1
  e=$(date +%s%N)
  echo "$(awk -v ns=$((e - s)) 'BEGIN { printf "%.3f", ns / 1e9 }') $(cat rss)"
}

declare -A secs
for format in vendor-json jsonl csv; do
  for _ in $(seq "$runs"); do once --format "$format"; done >times
  secs[$format]=$(cut -d' ' -f1 times | median)
  rss=$(cut -d' ' -f2 times | sort -n | tail -1)
  bytes=$(stat -c %s o.out)
  printf '%-12s %d threads: %.3f s median of %d (%s), peak RSS %.1f MB, %d bytes\n' \
    "$format" "$cores" "${secs[$format]}" "$runs" "$(cut -d' ' -f1 times | tr '\n' ' ' | sed 's/ $//')" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$bytes"
done
one=$(once --threads 1 | cut -d' ' -f1)
echo "vendor-json  1 thread:  $one s (one run)"

# The hashing limit, same run: OpenSSL's bulk speed gives the time of one
# compression (128-byte SHA-512 block, 64-byte SHA-256 block).
speed() { openssl speed -seconds 3 -bytes 16384 -evp "$1" 2>/dev/null | awk -v a="$1" '$1 == a { print $2 }' | tr -d k; }
k512=$(speed sha512)
k256=$(speed sha256)
limit=$(awk -v n="$n" -v c="$cores" -v a="$k512" -v b="$k256" 'BEGIN {
  t512 = 128 / (a * 1000); t256 = 64 / (b * 1000)
  printf "%.3f", n * (5 * t512 + 4 * t256) / c }')
awk -v a="$k512" -v b="$k256" -v l="$limit" -v c="$cores" 'BEGIN {
  printf "hashing limit (OpenSSL, same run): SHA-512 %.0f ns/block, SHA-256 %.0f ns/block -> %.3f s on %d cores\n",
    128e6 / a, 64e6 / b, l, c }'

# The disk's own write+fsync of the same bytes (the jsonl output, from the
# page cache), median of 3.
for _ in 1 2 3; do
  rm -f copy.out
  sync
  sleep 1
  s=$(date +%s%N)
  dd if=o.out of=copy.out bs=4M conv=fsync status=none
  e=$(date +%s%N)
  awk -v ns=$((e - s)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
done | median >disk
echo "disk write+fsync of $(stat -c %s o.out) bytes (dd conv=fsync): $(cat disk) s"
for format in vendor-json jsonl csv; do
  awk -v f="$format" -v t="${secs[$format]}" -v l="$limit" -v d="$(cat disk)" 'BEGIN {
    printf "%-12s %.3f s = %.2fx the hashing limit, %.2fx the disk write+fsync\n", f, t, t / l, t / d }'
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
