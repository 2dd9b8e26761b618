#!/usr/bin/env bash
# A newcomer's first ten minutes, timed: a fresh clone of this branch's last
# commit, a fresh CARGO_TARGET_DIR, then the README's two commands in order:
#
#   1. the console build: `cargo build --release --locked` (what
#      `cargo run --release` does before it opens the console);
#   2. the full test suite: `./scripts/test.sh` (every peer must already be
#      installed, as on CI after its first run).
#
# The cargo registry (CARGO_HOME) is shared, so no download is timed. Prints
# each phase's wall time, how many crates each compiled, and which crates the
# second compiled again although the first had compiled them (they should be
# only our own two, which the tests build with the fault-injection feature).
# Target (issue 16): both phases together <= 10 minutes on 2 cores.
#
# Usage: scripts/bench-newcomer.sh   (needs several GB free under $TMPDIR)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
branch=$(git -C "$src" rev-parse --abbrev-ref HEAD)
tmp=$(mktemp -d)
# The logs outlive the clone: a failed test is named in newcomer-test.log.
logs=${TMPDIR:-/tmp}
trap 'cp -f "$tmp/build.log" "$logs/newcomer-build.log" 2>/dev/null; cp -f "$tmp/test.log" "$logs/newcomer-test.log" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
git clone -q --branch "$branch" "$src" "$tmp/clone"
cd "$tmp/clone"
# The npm packages of the Node peers come from the npm cache, as the suite
# installs them (not timed as a build step by itself).
export CARGO_TARGET_DIR="$tmp/target"

s=$(date +%s)
cargo build --release --locked 2>&1 | tee "$tmp/build.log" | grep -E "^error|Finished" || true
b=$(($(date +%s) - s))

s=$(date +%s)
set +e
./scripts/test.sh >"$tmp/test.log" 2>&1
status=$?
set -e
t=$(($(date +%s) - s))
grep -E "^suite:" "$tmp/test.log" || tail -5 "$tmp/test.log"

compiled() { grep -E '^\s*Compiling ' "$1" | awk '{ print $2 " " $3 }' | sort -u; }
compiled "$tmp/build.log" >"$tmp/first"
compiled "$tmp/test.log" >"$tmp/second"
again=$(comm -12 "$tmp/first" "$tmp/second")
printf 'phase 1, console build:  %d s (%d crates compiled)\n' "$b" "$(wc -l <"$tmp/first")"
printf 'phase 2, test suite:     %d s (%d crates compiled; test run itself: %s)\n' "$t" "$(wc -l <"$tmp/second")" \
  "$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($i == "in") { sub("s", "", $(i+1)); s += $(i+1) } } END { printf "%.0f s summed over binaries", s }' "$tmp/test.log")"
printf 'total:                   %d s (target 600 s)\n' "$((b + t))"
echo "compiled by both phases: $(echo "$again" | grep -c . || true)"
echo "$again" | sed 's/^/  /'
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
