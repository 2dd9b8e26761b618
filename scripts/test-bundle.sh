#!/usr/bin/env bash
# Proves the offline build kit works: checks a bundle from scripts/release.sh
# against its .sha256 file, unpacks it, checks SHA256SUMS, and builds it with
# scripts/build-release.sh with the network forbidden: --offline --locked,
# CARGO_NET_OFFLINE=true, an empty CARGO_HOME (so nothing can come from a
# registry cache), and — where `unshare` can make one — no network interface
# at all. (build-release.sh compiles offline from vendor/ with its own empty
# CARGO_HOME anyway; these make sure nothing before it reaches out either.)
# With EXPECTED_SHA256 the binary must have that hash (scripts/check-reproducible.sh passes
# the hash of its build from a clean clone: the laptop gets CI's bytes).
#
#   scripts/test-bundle.sh dist/custodian-<version>-<commit>-src.tar.gz [EXPECTED_SHA256]
set -euo pipefail
tarball=$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")
expected=${2:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/custodian-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$(dirname "$tarball")" && sha256sum --check --quiet "$(basename "$tarball").sha256")
tar -xzf "$tarball" -C "$work"
dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d)
(cd "$dir" && sha256sum --check --quiet SHA256SUMS)
echo "test-bundle: checksums match; building $(sed -n 's/^commit: //p' "$dir/BUILD-INFO") offline"

mkdir "$work/empty-cargo-home"
run=(env CARGO_HOME="$work/empty-cargo-home" CARGO_NET_OFFLINE=true
  ./scripts/build-release.sh "$work/out")
# No network namespace at all where the kernel lets us make one.
if command -v unshare >/dev/null 2>&1 && unshare --net true 2>/dev/null; then
  run=(unshare --net "${run[@]}")
  echo "test-bundle: building in a network namespace with no interfaces"
fi
(cd "$dir" && "${run[@]}")

sha=$(sha256sum "$work"/out/custodian-* | cut -d' ' -f1)
# BUNDLE_BINARY_DIR: keep the binary (scripts/check-reproducible.sh compares it).
[ -z "${BUNDLE_BINARY_DIR:-}" ] || { mkdir -p "$BUNDLE_BINARY_DIR" && cp "$work"/out/custodian-* "$BUNDLE_BINARY_DIR"/; }
if [ -n "$expected" ] && [ "$sha" != "$expected" ]; then
  echo "test-bundle: the bundle's binary is $sha, expected $expected" >&2
  exit 1
fi
echo "bundle build: $sha${expected:+ (the expected hash)}"
