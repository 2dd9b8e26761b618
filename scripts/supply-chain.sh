#!/usr/bin/env bash
# Supply-chain checks (threat 6 applied to custodian itself), offline, with
# one maintained tool (cargo-deny) against the RustSec advisory snapshot
# beside the project:
#   1. the reviewed advisory exceptions: each in deny.toml with an id and a
#      written reason, and the same ids in .cargo/audit.toml (kept for anyone
#      who runs `cargo audit --db ../shared/advisory-db --no-fetch` by hand);
#   2. no path dependency outside the workspace;
#   3. cargo deny check advisories licenses sources bans: any advisory
#      (vulnerability, unmaintained, unsound, notice) not in the exceptions,
#      a licence not on the allow-list, a registry other than crates.io or a
#      git source, a second version of a crate not listed with a reason.
# Why cargo-deny alone: it reads the same RustSec database as cargo-audit
# and CI needs it anyway for licences, sources and bans, so a second tool
# would cost CI another ~10 minutes of `cargo install` for the same answer.
#
# The snapshot is ../shared/advisory-db relative to the project root (CI has
# shared/ beside its clone); CUSTODIAN_ADVISORY_DB names another copy.
# `--install` first installs cargo-deny when missing (cargo install --locked,
# pinned version, built outside the repository).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"

if [ "${1:-}" = "--install" ]; then
  ./scripts/install-tools.sh cargo-deny
fi

db=${CUSTODIAN_ADVISORY_DB:-$root/../shared/advisory-db}
if [ ! -d "$db/crates" ]; then
  echo "supply-chain: no advisory database at $db (expected a RustSec advisory-db snapshot)" >&2
  exit 1
fi
db=$(cd "$db" && pwd -P)
echo "supply-chain: advisory snapshot $db ($(cat "$db/SNAPSHOT" 2>/dev/null || echo 'no SNAPSHOT file'))"

# 1. One reviewed list, written twice (each tool reads its own file).
python3 - <<'PY'
import sys, tomllib
audit = tomllib.load(open(".cargo/audit.toml", "rb"))["advisories"].get("ignore", [])
deny = tomllib.load(open("deny.toml", "rb"))["advisories"].get("ignore", [])
bad = []
reasons = {}
for entry in deny:
    if not isinstance(entry, dict) or not entry.get("id") or len(entry.get("reason", "").strip()) < 20:
        bad.append(f"deny.toml: advisory exception without an id and a written reason: {entry!r}")
    else:
        reasons[entry["id"]] = entry["reason"]
if set(audit) != set(reasons):
    bad.append(f"exception lists differ: .cargo/audit.toml {sorted(audit)} vs deny.toml {sorted(reasons)}")
for line in bad:
    print("supply-chain:", line, file=sys.stderr)
if bad:
    sys.exit(1)
for i in sorted(reasons):
    print(f"supply-chain: accepted {i}: {reasons[i]}")
PY

# crates.io is the only source (cargo deny checks registries and git below);
# a path dependency must be a member of this workspace.
meta=$(cargo metadata --locked --offline --format-version 1)
python3 -c '
import json, sys
meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
outside = [p["id"] for p in meta["packages"] if p["source"] is None and p["id"] not in members]
for pkg in outside:
    print("supply-chain: path dependency outside the workspace:", pkg, file=sys.stderr)
sys.exit(1 if outside else 0)
' <<<"$meta"

# cargo-deny reads a git checkout of the database (it dates the snapshot by
# its commit); the snapshot is a plain read-only copy, so each run works on
# a private git copy of it. cargo deny finds its database under db-path by a
# name derived from the RustSec URL.
dbs=$(mktemp -d)
trap 'rm -rf "$dbs"' EXIT
copy="$dbs/advisory-db-3157b0e258782691"
cp -R "$db" "$copy"
chmod -R u+w "$copy"
if [ ! -e "$copy/.git" ]; then
  git -C "$copy" init --quiet
  git -C "$copy" add --all
  git -C "$copy" -c user.name=custodian-ci -c user.email=ci@localhost \
    commit --quiet --message "advisory-db snapshot $(cut -c1-40 "$db/SNAPSHOT" 2>/dev/null || true)"
fi

# 3. cargo deny (reads deny.toml, whose db-path is this variable).
echo "supply-chain: cargo deny check advisories licenses sources bans"
CUSTODIAN_DENY_DB_PATH="$dbs" cargo deny --offline --locked check -D warnings advisories licenses sources bans
echo "supply-chain: all checks passed"
