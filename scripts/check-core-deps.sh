#!/usr/bin/env bash
# The core library must never reach a terminal: its normal dependency tree
# holds no ratatui, crossterm or clap. The compiler enforces the rest (core
# cannot name a crate it does not depend on); this script keeps the manifest
# honest. Run by scripts/test.sh before the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree --locked -p custodian-core -e normal --prefix none --format '{p}')
bad=$(printf '%s\n' "$tree" | awk '{print $1}' | grep -xE 'ratatui|ratatui-[a-z-]+|crossterm|clap|clap_[a-z_]+' | sort -u || true)
if [ -n "$bad" ]; then
  echo "custodian-core depends on terminal crates: $(echo $bad)" >&2
  echo "move the code that needs them into the custodian binary crate (src/cli or src/tui)" >&2
  exit 1
fi
echo "custodian-core: no terminal crate in its dependency tree"
