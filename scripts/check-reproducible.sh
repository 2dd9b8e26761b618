#!/usr/bin/env bash
# Proves the release build is reproducible: clones HEAD into two different
# temporary directories (different names and depths, so any absolute path
# that leaked into the binary would show), builds each with
# scripts/build-release.sh, and compares the SHA-256 of the two binaries.
# Exits 1 when they differ. Only committed work is checked.
#
# Prints one result line to record in the README:
#   reproducible: <sha256> (commit <id>, <rustc version>, <date>, <seconds>s for both builds)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd -P)
commit=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/custodian-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT

first="$work/a"
second="$work/elsewhere/a-longer-second-checkout"
start=$(date +%s)
for dir in "$first" "$second"; do
  git clone --quiet --no-local --no-checkout "$repo" "$dir"
  git -C "$dir" checkout --quiet --detach "$commit"
  echo "check-reproducible: building $commit in $dir"
  (cd "$dir" && ./scripts/build-release.sh "$dir/dist" | sed 's/^/  /')
done
seconds=$(($(date +%s) - start))

sha_first=$(sha256sum "$first"/dist/custodian-* | cut -d' ' -f1)
sha_second=$(sha256sum "$second"/dist/custodian-* | cut -d' ' -f1)
if [ "$sha_first" != "$sha_second" ]; then
  echo "check-reproducible: the two builds differ: $sha_first vs $sha_second" >&2
  if command -v cmp >/dev/null; then
    cmp -l "$first"/dist/custodian-* "$second"/dist/custodian-* | head -n 20 >&2 || true
  fi
  exit 1
fi
echo "reproducible: $sha_first (commit $commit, $(rustc --version), $(date -u +%Y-%m-%d), ${seconds}s for both builds)"
