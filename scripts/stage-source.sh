#!/usr/bin/env bash
# Writes the buildable source tree of HEAD into DEST (which must not exist or
# be empty): exactly what the offline bundle holds before its SBOM and
# checksums, and exactly what scripts/build-release.sh compiles.
#
#   scripts/stage-source.sh DEST
#
# DEST gets:
#   - the source of HEAD (git archive: committed work only),
#   - every dependency vendored under vendor/ (cargo vendor --locked
#     --versioned-dirs, every platform's crates),
#   - .cargo/config.toml pointing crates.io at vendor/ and forbidding the network,
#   - BUILD-INFO: the commit (build.rs embeds it from here, as there is no .git),
#     the commit time used as SOURCE_DATE_EPOCH, the rustc/cargo versions.
# Vendoring reads the registry (network or the local cache) through the
# caller's CARGO_HOME; nothing else does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
dest=${1:?usage: scripts/stage-source.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd -P)
if [ -n "$(ls -A "$dest")" ]; then
  echo "stage-source: $dest is not empty" >&2
  exit 1
fi

cd "$root"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "stage-source: note: uncommitted changes are left out (the tree is HEAD)" >&2
fi
commit=$(git rev-parse HEAD)
epoch=$(git log -1 --format=%ct "$commit")
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
git archive --format=tar "$commit" | tar -x -C "$dest"

cd "$dest"
echo "stage-source: vendoring dependencies" >&2
cargo vendor --quiet --locked --versioned-dirs vendor >/dev/null
mkdir -p .cargo
cat >.cargo/config.toml <<'CONFIG'
# Written by scripts/stage-source.sh: crates come from vendor/ only, never the network.
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "vendor"

[net]
offline = true
CONFIG

cat >BUILD-INFO <<INFO
custodian: $version
commit: $commit
source-date-epoch: $epoch
rustc: $(rustc --version)
cargo: $(cargo --version)
host: $(rustc -vV | sed -n 's/^host: //p')
build: ./scripts/build-release.sh   (see README, "Building on the air-gapped laptop")
INFO
