#!/usr/bin/env bash
# The full test suite: unit, integration, interop with real peers (age CLI,
# Node WebCrypto, the age-encryption npm package, openssl, Python, and
# poppler-utils and zbar-tools reading the printed PDFs back) and the
# console tests (TestBackend snapshots and a tmux end-to-end run).
#
# On a fresh Debian/Ubuntu machine it first installs the peers it needs
# (apt packages when run as root, npm packages under tests/node).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in age age-keygen openssl tmux python3 node npm gcore pdftotext pdftoppm zbarimg; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=()
  for t in "${missing[@]}"; do
    case "$t" in
      age-keygen) pkgs+=(age) ;;
      node) pkgs+=(nodejs) ;;
      gcore) pkgs+=(gdb) ;;
      pdftotext | pdftoppm) pkgs+=(poppler-utils) ;;
      zbarimg) pkgs+=(zbar-tools) ;;
      *) pkgs+=("$t") ;;
    esac
  done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test peers: ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "missing test peers: ${pkgs[*]} (install them, e.g. sudo apt-get install ${pkgs[*]})" >&2
    exit 1
  fi
fi

# Every peer is installed by now, so a test that finds one missing must
# fail rather than skip (tests/common: missing_tool panics when CI is set).
export CI=1

if [ -f tests/node/package.json ]; then
  if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
    (cd tests/node && npm ci --no-audit --no-fund --silent)
  fi
fi

# The core library must not depend on a terminal crate.
./scripts/check-core-deps.sh

# Every target of both crates (libs, bin, integration tests, examples).
# There are no doc tests: the code examples are file formats, not Rust.
# In the release profile, the one `cargo run --release` builds: a fresh clone
# compiles its dependencies once for both commands (see Cargo.toml). The
# criterion benches (crates/custodian-bench) are left to CI (.ci/run, phase
# benches, runs each once) and `cargo bench`: criterion's tree is some
# twenty crates, with a C build, that no test needs.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --release --locked --workspace --exclude custodian-bench --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "suite: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
