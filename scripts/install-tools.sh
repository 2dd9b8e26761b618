#!/usr/bin/env bash
# Installs the supply-chain tools CI needs when they are missing, each with
# `cargo install --locked` at a pinned version (the versions these checks were
# written against), built in a target directory outside the repository.
#
# Usage: scripts/install-tools.sh cargo-audit cargo-deny cargo-cyclonedx
set -euo pipefail

version_of() {
  case "$1" in
    cargo-audit) echo "0.22.2" ;;
    cargo-deny) echo "0.20.2" ;;
    cargo-cyclonedx) echo "0.5.9" ;;
    *) echo "install-tools: unknown tool $1" >&2; return 1 ;;
  esac
}

for tool in "$@"; do
  version=$(version_of "$tool")
  sub=${tool#cargo-}
  if cargo "$sub" --version >/dev/null 2>&1; then
    continue
  fi
  echo "install-tools: installing $tool $version (cargo install --locked)"
  build=$(mktemp -d "${TMPDIR:-/tmp}/custodian-tools.XXXXXX")
  CARGO_TARGET_DIR="$build" cargo install --locked --quiet "$tool" --version "$version"
  rm -rf "$build"
done
