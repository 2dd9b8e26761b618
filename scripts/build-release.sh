#!/usr/bin/env bash
# The one way to build a release binary of custodian: CI and the air-gapped
# laptop both run this script, from a git clone or from an unpacked source
# bundle (scripts/release.sh), and get the same bytes.
#
# What makes the build reproducible:
# - `--locked`: exactly the versions in Cargo.lock, nothing resolved anew;
# - path remapping: the source directory becomes /custodian, the target
#   directory /target, and every dependency's source directory — under
#   $CARGO_HOME/registry/src/<index>/ in a clone, under vendor/ in a bundle
#   (vendored with --versioned-dirs, so the directory names are the same) —
#   becomes /deps, so no absolute path of this machine lands in the binary;
# - SOURCE_DATE_EPOCH set to the commit's time, for anything that wants a date
#   (nothing in the tree does today; build.rs embeds only the commit id);
# - no incremental compilation, and the release profile's fixed settings
#   (thin LTO, 4 codegen units), which are deterministic.
# The same toolchain is needed on both sides: the bundle's BUILD-INFO names
# the rustc version it was made with.
#
# Usage: scripts/build-release.sh [OUT_DIR]   (default: dist/)
# Prints the binary's path and its SHA-256.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$src"
out=${1:-$src/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

cargo_home=${CARGO_HOME:-$HOME/.cargo}
cargo_home=$(cd "$cargo_home" 2>/dev/null && pwd -P || echo "$cargo_home")
# The build's own target directory, whatever CARGO_TARGET_DIR says elsewhere.
target="$src/target/release-build"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  if [ -f BUILD-INFO ]; then
    SOURCE_DATE_EPOCH=$(sed -n 's/^source-date-epoch: //p' BUILD-INFO)
  elif git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct)
  else
    SOURCE_DATE_EPOCH=0
  fi
fi
export SOURCE_DATE_EPOCH

# rustc uses the last matching prefix, so the general ones come first.
remap=("--remap-path-prefix=$cargo_home=/cargo")
for index in "$cargo_home"/registry/src/*/; do
  [ -d "$index" ] && remap+=("--remap-path-prefix=${index%/}=/deps")
done
remap+=(
  "--remap-path-prefix=$src=/custodian"
  "--remap-path-prefix=$src/vendor=/deps"
  "--remap-path-prefix=$target=/target"
)
# CARGO_ENCODED_RUSTFLAGS: one flag per 0x1f-separated field, so paths with
# spaces survive; any RUSTFLAGS from the environment are deliberately ignored.
flags=$(printf '%s\x1f' "${remap[@]}")
export CARGO_ENCODED_RUSTFLAGS=${flags%$'\x1f'}
unset RUSTFLAGS
export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="$target"

cargo build --release --locked --bin custodian ${CARGO_BUILD_OFFLINE:+--offline}

triple=$(rustc -vV | sed -n 's/^host: //p')
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
bin="$out/custodian-$version-$triple"
cp "$target/release/custodian" "$bin"
sha=$(sha256sum "$bin" | cut -d' ' -f1)
echo "built: $bin"
echo "sha256: $sha"
