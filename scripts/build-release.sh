#!/usr/bin/env bash
# The one way to build a release binary of custodian: CI and the air-gapped
# laptop both run this script, from a git clone or from an unpacked source
# bundle (scripts/release.sh), and get the same bytes.
#
# How: whatever directory it is started from, the compile happens in one fixed
# place, from one fixed kind of tree, with one fixed environment:
# - the tree: in a git checkout, HEAD staged by scripts/stage-source.sh
#   (git archive + `cargo vendor` + offline .cargo/config.toml + BUILD-INFO);
#   in an unpacked bundle, the bundle itself (its SHA256SUMS checked first),
#   which is that same staged tree plus its SBOM and checksums;
# - the place: $BUILD_ROOT/src, built into $BUILD_ROOT/target with an empty
#   $BUILD_ROOT/cargo-home, BUILD_ROOT=/tmp/custodian-build (wiped at the
#   start), so no path of the checkout, of $HOME or of $CARGO_HOME reaches
#   rustc. The directory is the same on every machine, so the path-remapping
#   flags are the same strings everywhere too (cargo feeds RUSTFLAGS into
#   its hashes; differing flags alone change the binary);
# - remapping: src -> /custodian (dependencies are under /custodian/vendor),
#   target -> /target, cargo-home -> /cargo, so not even the fixed build
#   path is in the binary;
# - the environment: cargo runs under `env -i` with only PATH, HOME, the
#   rustup variables and the settings below; RUSTFLAGS and every other
#   CARGO_* variable of the caller are ignored;
# - `--locked --offline` (the tree is vendored: the compile never needs the
#   network), no incremental compilation, SOURCE_DATE_EPOCH from BUILD-INFO
#   (the commit's time); build.rs embeds the commit id from BUILD-INFO too,
#   never anything of the directory.
# The same toolchain is needed on both sides: BUILD-INFO names the rustc
# version, and the script refuses a bundle built for another one.
# Only one build at a time per machine (a lock on $BUILD_ROOT.lock).
#
# Usage: scripts/build-release.sh [OUT_DIR]   (default: dist/ of this tree)
# Prints the binary's path and its SHA-256 (the last line: "sha256: HASH").
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd -P)
out=${1:-$src/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

build_root=/tmp/custodian-build
case "$out/" in
  "$build_root"/*) echo "build-release: OUT_DIR must be outside $build_root" >&2; exit 2 ;;
esac

exec 9>"$build_root.lock"
flock 9
rm -rf "$build_root"
mkdir -p "$build_root/src" "$build_root/cargo-home"
tree="$build_root/src"

if [ -f "$src/BUILD-INFO" ] && [ -d "$src/vendor" ]; then
  echo "build-release: building the unpacked bundle in $src" >&2
  (cd "$src" && sha256sum --check --quiet SHA256SUMS)
  want=$(sed -n 's/^rustc: //p' "$src/BUILD-INFO")
  have=$(rustc --version)
  if [ "$want" != "$have" ]; then
    echo "build-release: this bundle needs $want, this machine has $have" >&2
    exit 1
  fi
  tar -C "$src" --exclude=./dist --exclude=./target -cf - . | tar -C "$tree" -xf -
elif git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  echo "build-release: building HEAD of the checkout $src" >&2
  "$src/scripts/stage-source.sh" "$tree"
else
  echo "build-release: $src is neither a git checkout nor an unpacked bundle" >&2
  exit 1
fi

epoch=$(sed -n 's/^source-date-epoch: //p' "$tree/BUILD-INFO")
commit=$(sed -n 's/^commit: //p' "$tree/BUILD-INFO")
[ -n "$epoch" ] && [ -n "$commit" ] || { echo "build-release: BUILD-INFO incomplete" >&2; exit 1; }

# One flag per 0x1f-separated field; the same strings on every machine.
flags=(
  "--remap-path-prefix=$build_root/cargo-home=/cargo"
  "--remap-path-prefix=$build_root/target=/target"
  "--remap-path-prefix=$tree=/custodian"
)
encoded=$(printf '%s\x1f' "${flags[@]}")
encoded=${encoded%$'\x1f'}

clean_env=(env -i "PATH=$PATH" "HOME=$HOME" LC_ALL=C TZ=UTC)
for var in RUSTUP_HOME RUSTUP_TOOLCHAIN; do
  [ -n "${!var:-}" ] && clean_env+=("$var=${!var}")
done
clean_env+=(
  "CARGO_HOME=$build_root/cargo-home"
  "CARGO_TARGET_DIR=$build_root/target"
  "CARGO_ENCODED_RUSTFLAGS=$encoded"
  CARGO_INCREMENTAL=0
  CARGO_NET_OFFLINE=true
  "SOURCE_DATE_EPOCH=$epoch"
)

(cd "$tree" && "${clean_env[@]}" cargo build --release --locked --offline --bin custodian)

triple=$(rustc -vV | sed -n 's/^host: //p')
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$tree/Cargo.toml" | head -n 1)
bin="$out/custodian-$version-$triple"
cp "$build_root/target/release/custodian" "$bin"
[ -n "${CUSTODIAN_KEEP_BUILD:-}" ] || rm -rf "$build_root"
sha=$(sha256sum "$bin" | cut -d' ' -f1)
echo "built: $bin (commit $commit)"
echo "sha256: $sha"
