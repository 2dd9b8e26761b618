#!/usr/bin/env bash
# Proves scripts/supply-chain.sh fails when it should. Each case copies the
# project's tracked files (as they are in the working tree) into a temporary
# directory, breaks one thing, runs supply-chain.sh there, and requires a
# non-zero exit whose output names the problem:
#   - a synthetic advisory against a crate in Cargo.lock (in a copy of the
#     advisory snapshot),
#   - a reviewed exception removed, or left without a written reason,
#   - a licence not on the allow-list,
#   - a git dependency (crates.io is the only source allowed),
#   - a path dependency outside the workspace,
#   - a second version of a cryptographic crate no longer listed with a reason.
# The unchanged copy must pass first, so each failure is the change's doing.
# Needs cargo-deny (scripts/install-tools.sh) and the advisory snapshot.
#
# Usage: scripts/test-supply-chain.sh      (prints one line per case; exit 1 on any miss)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
db=${CUSTODIAN_ADVISORY_DB:-$root/../shared/advisory-db}
db=$(cd "$db" && pwd -P)
work=$(mktemp -d "${TMPDIR:-/tmp}/custodian-supply-test.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
failures=0

# A fresh copy of the tracked files, working-tree contents.
copy() {
  local dir="$work/$1"
  mkdir -p "$dir"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -I{} cp --parents {} "$dir" 2>/dev/null) || true
  echo "$dir"
}

# run NAME DIR EXPECT [DB]: supply-chain.sh in DIR must exit non-zero (or
# zero when EXPECT is "pass") and its output must contain EXPECT.
run() {
  local name=$1 dir=$2 expect=$3 advisories=${4:-$db} out status
  set +e
  out=$(cd "$dir" && CUSTODIAN_ADVISORY_DB="$advisories" ./scripts/supply-chain.sh 2>&1)
  status=$?
  set -e
  if [ "$expect" = pass ]; then
    if [ $status -eq 0 ]; then
      echo "ok: $name: passes"
    else
      echo "MISS: $name: expected to pass, exit $status" >&2
      echo "$out" | tail -n 30 >&2
      failures=$((failures + 1))
    fi
  elif [ $status -ne 0 ] && grep -qF -- "$expect" <<<"$out"; then
    echo "ok: $name: fails, naming \`$expect\`"
  else
    echo "MISS: $name: expected a failure naming \`$expect\`, got exit $status" >&2
    echo "$out" | tail -n 30 >&2
    failures=$((failures + 1))
  fi
}

# 0. The unchanged tree passes.
run "unchanged tree" "$(copy base)" pass

# 1. A new advisory against blahaj (the Shamir crate), in a copy of the snapshot.
dbcopy="$work/advisory-db"
cp -R "$db" "$dbcopy"
chmod -R u+w "$dbcopy"
mkdir -p "$dbcopy/crates/blahaj"
cat >"$dbcopy/crates/blahaj/RUSTSEC-2099-0001.md" <<'ADVISORY'
```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "blahaj"
date = "2099-01-01"
url = "https://example.invalid/RUSTSEC-2099-0001"
categories = ["crypto-failure"]
keywords = ["shamir"]

[versions]
patched = [">= 99.0.0"]
```

# Synthetic advisory: shares leak the secret

A test advisory made by scripts/test-supply-chain.sh; it is not real.
ADVISORY
run "synthetic advisory for blahaj" "$(copy advisory)" "RUSTSEC-2099-0001" "$dbcopy"

# 2. A reviewed exception removed from both lists.
dir=$(copy no-exception)
python3 - "$dir" <<'PY'
import re, sys
d = sys.argv[1]
for f in ("deny.toml", ".cargo/audit.toml"):
    p = f"{d}/{f}"
    text = open(p).read()
    text = re.sub(r'^\s*\{ id = "RUSTSEC-2023-0071".*\n', "", text, flags=re.M)
    text = re.sub(r'^\s*"RUSTSEC-2023-0071",\n', "", text, flags=re.M)
    open(p, "w").write(text)
PY
run "exception for RUSTSEC-2023-0071 removed" "$dir" "error[vulnerability]: Marvin Attack"

# 3. An exception without a written reason.
dir=$(copy no-reason)
sed -i 's/{ id = "RUSTSEC-2023-0071", reason = "[^"]*" }/{ id = "RUSTSEC-2023-0071", reason = "" }/' "$dir/deny.toml"
run "exception without a reason" "$dir" "without an id and a written reason"

# 4. A licence not on the allow-list (our own crate declares GPL).
dir=$(copy licence)
sed -i 's/^license = "MIT OR Apache-2.0"$/license = "GPL-3.0-only"/' "$dir/Cargo.toml"
run "GPL-3.0-only licence" "$dir" "rejected: license is not explicitly allowed"

# 5. A git dependency: a one-file crate in a local git repository.
git_crate="$work/git-crate"
mkdir -p "$git_crate/src"
printf '[package]\nname = "leftpad-git"\nversion = "0.1.0"\nedition = "2021"\nlicense = "MIT"\n' >"$git_crate/Cargo.toml"
echo 'pub fn pad() {}' >"$git_crate/src/lib.rs"
git -C "$git_crate" init --quiet
git -C "$git_crate" add --all
git -C "$git_crate" -c user.name=t -c user.email=t@localhost commit --quiet -m crate
dir=$(copy git-source)
sed -i "0,/^\[dependencies\]$/s||[dependencies]\nleftpad-git = { git = \"file://$git_crate\" }|" "$dir/Cargo.toml"
# The lockfile learns the new package (no registry needed: it has no dependencies).
(cd "$dir" && cargo metadata --format-version 1 >/dev/null)
run "git dependency" "$dir" "source-not-allowed"

# 6. A path dependency outside the workspace.
dir=$(copy path-dep)
sed -i "0,/^\[dependencies\]$/s||[dependencies]\nleftpad-git = { path = \"$git_crate\" }|" "$dir/Cargo.toml"
(cd "$dir" && cargo metadata --offline --format-version 1 >/dev/null)
run "path dependency outside the workspace" "$dir" "path dependency outside the workspace"

# 7. A second version of a cryptographic crate, no longer listed with a reason.
dir=$(copy duplicate)
sed -i '/crate = "sha2@0.10.9"/d' "$dir/deny.toml"
run "unlisted duplicate sha2 0.10" "$dir" "found 2 duplicate entries for crate 'sha2'"

if [ $failures -ne 0 ]; then
  echo "test-supply-chain: $failures case(s) did not fail as they should" >&2
  exit 1
fi
echo "test-supply-chain: every violation fails the check"
