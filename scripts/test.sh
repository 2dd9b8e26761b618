#!/usr/bin/env bash
# The full test suite: unit, integration, interop (age CLI, Node WebCrypto,
# age-encryption npm, openssl, Python) and console tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/node/package.json ] && [ ! -d tests/node/node_modules ]; then
  (cd tests/node && npm ci --no-audit --no-fund --silent)
fi
cargo test --all-targets --locked
