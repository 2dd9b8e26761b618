#!/usr/bin/env bash
# Offline build kit: a source bundle that builds custodian on a machine with
# no network (the air-gapped laptop), with the same bytes CI builds.
#
#   scripts/release.sh [OUT_DIR]     (default: dist/)
#
# Produces OUT_DIR/custodian-<version>-<commit12>-src.tar.gz and a .sha256
# file beside it. The bundle holds:
#   - what scripts/stage-source.sh writes: the source of HEAD (git archive:
#     committed work only) with Cargo.lock, every dependency vendored under
#     vendor/ (cargo vendor --versioned-dirs, every platform's crates),
#     .cargo/config.toml pointing crates.io at vendor/ and forbidding the
#     network, BUILD-INFO (the commit, the exact rustc/cargo versions it
#     needs, the commit time used as SOURCE_DATE_EPOCH),
#   - sbom/: a CycloneDX SBOM (cargo-cyclonedx) of the dependency graph,
#   - SHA256SUMS over every other file of the bundle.
# The tarball itself is deterministic (sorted names, fixed owner and mtime).
# Build it with scripts/build-release.sh inside the unpacked bundle;
# scripts/test-bundle.sh does that with the network forbidden.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
out=${1:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

command -v cargo-cyclonedx >/dev/null 2>&1 || ./scripts/install-tools.sh cargo-cyclonedx

commit=$(git rev-parse HEAD)
epoch=$(git log -1 --format=%ct "$commit")
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name="custodian-$version-${commit:0:12}-src"

work=$(mktemp -d "${TMPDIR:-/tmp}/custodian-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
# Source of HEAD, vendor/, .cargo/config.toml, BUILD-INFO: the same tree
# scripts/build-release.sh stages from a checkout.
./scripts/stage-source.sh "$stage"

cd "$stage"
echo "release: writing the SBOM"
mkdir -p sbom
# One SBOM per workspace crate, written beside its Cargo.toml; gathered in sbom/.
cargo cyclonedx --format json >/dev/null
find . \( -path ./vendor -o -path ./sbom \) -prune -o -type f \( -name '*.cdx.json' -o -name 'bom.json' \) -print |
  while read -r f; do mv "$f" "sbom/$(basename "$f")"; done
[ -n "$(ls sbom)" ] || { echo "release: cargo cyclonedx wrote no SBOM" >&2; exit 1; }
# cargo-cyclonedx stamps the current time, a random serial number and this
# staging directory into each SBOM; make them the commit's time, a serial
# derived from the commit, and /custodian, so the bundle stays deterministic.
stamp=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
for f in sbom/*.json; do
  serial=$(printf '%s %s' "$commit" "$(basename "$f")" | sha256sum |
    sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-5\3-8\4-\5/')
  sed -i -E \
    -e "s|\"timestamp\": \"[^\"]*\"|\"timestamp\": \"$stamp\"|" \
    -e "s|\"serialNumber\": \"urn:uuid:[^\"]*\"|\"serialNumber\": \"urn:uuid:$serial\"|" \
    -e "s|path\+file://$stage|path+file:///custodian|g" "$f"
done
if grep -l "$work" sbom/*.json >&2; then
  echo "release: the SBOM still names the staging directory" >&2
  exit 1
fi

find . -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z | xargs -0 sha256sum >SHA256SUMS

cd "$work"
tarball="$out/$name.tar.gz"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -cf - "$name" | gzip -n -9 >"$tarball"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "bundle: $tarball"
echo "sha256: $(cut -d' ' -f1 "$tarball.sha256")"
