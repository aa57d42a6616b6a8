#!/usr/bin/env bash
# Runs the conformance suite: the official langsmith JS SDK (sandbox module) against the standalone local server.
# Usage: run.sh [TAP_OUTPUT_FILE]. Expects the solution to be built (eng/test.sh builds it in Release).
set -euo pipefail
cd "$(dirname "$0")"
tap_output="${1:-/dev/null}"
bash ../../eng/install-deps.sh --node
npm ci --no-audit --no-fund --loglevel=error

# Older Node releases (Debian 12 ships 18) lack these runner flags; each test file starts its own server either way.
runner_flags=()
node_help=$(node --help)
grep -q -- '--test-concurrency' <<<"$node_help" && runner_flags+=(--test-concurrency=1)
grep -q -- '--test-timeout' <<<"$node_help" && runner_flags+=(--test-timeout=300000)

node --test "${runner_flags[@]}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap_output" \
  ./*.test.mjs
