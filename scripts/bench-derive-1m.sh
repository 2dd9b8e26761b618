#!/usr/bin/env bash
# Times `custodian kit derive` end to end (validate, decrypt, derive, write,
# fsync, read back) for 1,000,000 random wallet ids, release build, on 1 and
# on all threads, in each output format. Target: <= 1.5 s on 2 cores.
# Usage: scripts/bench-derive-1m.sh [WALLETS]   (default 1000000)
set -euo pipefail
n=${1:-1000000}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin custodian
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/custodian
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem
"$bin" --workspace ws kit make-drill-kit --public pub.pem --out kit.zip >/dev/null
python3 -c "
import uuid, sys
with open('wallets.txt', 'w') as f:
    for _ in range($n): f.write(str(uuid.uuid4()) + '\n')"
# Each run starts on a quiet disk: the previous output is deleted and
# flushed first, so one run's writeback does not slow the next (a real
# derivation is one run, not four back to back).
run() {
  local label=$1; shift
  local s e
  rm -f o.out
  sync
  sleep 1
  s=$(date +%s%N)
  "$bin" --workspace ws kit derive kit.zip --key key.pem --wallets wallets.txt --out o.out "$@" >/dev/null 2>&1
  e=$(date +%s%N)
  awk -v ns=$((e - s)) -v n="$n" -v l="$label" \
    'BEGIN { printf "%-28s %.2f s  (%.0f wallets/s)\n", l, ns / 1e9, n / (ns / 1e9) }'
}
run "vendor-json, 1 thread" --threads 1
run "vendor-json, all threads"
run "jsonl, all threads" --format jsonl
run "csv, all threads" --format csv
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
