#!/usr/bin/env bash
# Runs the conformance suite: the official langsmith JS SDK (sandbox module) against the standalone local server.
# Usage: run.sh [TAP_OUTPUT_FILE]. Expects the solution to be built (eng/test.sh builds it in Release).
set -euo pipefail
cd "$(dirname "$0")"
tap_output="${1:-/dev/null}"
bash ../../eng/install-deps.sh --node
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 --test-timeout=300000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap_output" \
  ./*.test.mjs
