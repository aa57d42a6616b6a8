#!/usr/bin/env bash
# Runs the CodeInterpreterAgent sample on the embedded local sandbox server (installs what it needs first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-deps.sh
exec dotnet run --project samples/CodeInterpreterAgent -c Release -- "$@"
