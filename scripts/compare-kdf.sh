#!/usr/bin/env bash
# Compares our envelope KDF (PBKDF2-HMAC-SHA256, 600,000 iterations) with
# OpenSSL's in the same run, and our identity generation + sealing with
# age-keygen. Prints medians and the ratio ours/OpenSSL.
# Usage: scripts/compare-kdf.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-9}
cargo build --release -q --bin custodian
bin=${CARGO_TARGET_DIR:-target}/release/custodian
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
printf 'correct horse battery staple orbit lantern\n' > "$tmp/pass"
printf 'x' > "$tmp/in"
mkdir -m 700 "$tmp/ws"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

ours=(); theirs=()
for i in $(seq "$runs"); do
  # `envelope open` runs exactly one KDF (plus file I/O and process start).
  if [ ! -f "$tmp/sealed.env" ]; then
    "$bin" --workspace "$tmp/ws" envelope seal "$tmp/in" --out "$tmp/sealed.env" --passphrase-file "$tmp/pass" >/dev/null 2>&1
  fi
  rm -f "$tmp/out"
  t0=$(now); "$bin" --workspace "$tmp/ws" envelope open "$tmp/sealed.env" --out "$tmp/out" --passphrase-file "$tmp/pass" >/dev/null; t1=$(now)
  ours+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
  t0=$(now)
  openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:"correct horse battery staple orbit lantern" \
    -kdfopt salt:0123456789abcdef0123456789abcdef -kdfopt iter:600000 PBKDF2 >/dev/null
  t1=$(now)
  theirs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
done
mo=$(printf '%s\n' "${ours[@]}" | median)
mt=$(printf '%s\n' "${theirs[@]}" | median)
printf 'envelope open (1 KDF, whole process): median %.3f s over %d runs\n' "$mo" "$runs"
printf 'openssl kdf PBKDF2 600k (whole process): median %.3f s\n' "$mt"
printf 'ratio ours/openssl: %.2f\n' "$(awk -v a="$mo" -v b="$mt" 'BEGIN{print a/b}')"
