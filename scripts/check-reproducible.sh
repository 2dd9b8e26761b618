#!/usr/bin/env bash
# Proves the release build is reproducible, and that the offline bundle
# builds those same bytes with the network forbidden — with two release
# builds, not three:
#   1. clones HEAD into one temporary directory and builds it there with
#      scripts/build-release.sh (the way CI builds a release);
#   2. clones HEAD into a second, differently named and deeper directory,
#      makes the offline bundle there with scripts/release.sh, and builds the
#      unpacked bundle with scripts/test-bundle.sh (network forbidden, empty
#      CARGO_HOME), which fails unless the binary has the first build's hash.
# The two builds start from different checkout directories, different source
# forms (clone vs. bundle) and different CARGO_HOMEs; any of those leaking
# into the binary makes them differ. Exits non-zero when they differ or a
# step fails. Only committed work is checked. Needs cargo-cyclonedx (for the
# SBOM; scripts/install-tools.sh installs it when missing).
#
# Prints one result line to record in the README:
#   reproducible: <sha256> (commit <id>, <rustc version>, <date>, clone build <s>s, bundle <s>s)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd -P)
commit=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/custodian-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT

first="$work/a"
second="$work/elsewhere/a-longer-second-checkout"
for dir in "$first" "$second"; do
  git clone --quiet --no-local --no-checkout "$repo" "$dir"
  git -C "$dir" checkout --quiet --detach "$commit"
done

start=$(date +%s)
echo "check-reproducible: release build of $commit from the clone $first"
(cd "$first" && ./scripts/build-release.sh "$work/out-clone") | sed 's/^/  /'
sha_clone=$(sha256sum "$work"/out-clone/custodian-* | cut -d' ' -f1)
clone_seconds=$(($(date +%s) - start))

start=$(date +%s)
echo "check-reproducible: offline bundle of $commit from the clone $second"
(cd "$second" && ./scripts/release.sh "$work/bundle") | sed 's/^/  /'
echo "check-reproducible: building the bundle offline; it must give $sha_clone"
if ! (cd "$second" && BUNDLE_BINARY_DIR="$work/out-bundle" \
  ./scripts/test-bundle.sh "$work"/bundle/custodian-*-src.tar.gz "$sha_clone") | sed 's/^/  /'; then
  if [ -f "$work"/out-bundle/custodian-* ] && command -v cmp >/dev/null; then
    echo "check-reproducible: first differing bytes (offset, clone, bundle):" >&2
    cmp -l "$work"/out-clone/custodian-* "$work"/out-bundle/custodian-* | head -n 20 >&2 || true
  fi
  exit 1
fi
bundle_seconds=$(($(date +%s) - start))

echo "reproducible: $sha_clone (commit $commit, $(rustc --version), $(date -u +%Y-%m-%d), clone build ${clone_seconds}s, bundle ${bundle_seconds}s)"
