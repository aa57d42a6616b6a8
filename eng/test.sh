#!/usr/bin/env bash
# Runs every test: the .NET test projects and the conformance suite that drives the local server with the
# official JS SDK. Installs what the tests need first. Prints one closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

bash eng/install-deps.sh --browser || { echo "test: installing dependencies failed"; exit 1; }

dotnet build Sandbox.AgentTools.sln -c Release -nologo -clp:ErrorsOnly || { echo "test: build failed"; exit 1; }

# The default snapshot's Debian root filesystem: built once per machine (a few minutes, from the machine's Debian mirror)
# and cached in /var/cache/sandbox-server; every test server reuses it.
dotnet src/Sandbox.Server/bin/Release/net10.0/Sandbox.Server.dll --prepare-default-snapshot || { echo "test: building the default snapshot failed"; exit 1; }

status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" -- RunConfiguration.TestSessionTimeout=1500000 || status=1
done

if [[ -f tests/conformance/package.json ]]; then
  if ! bash tests/conformance/run.sh "$results/conformance.txt"; then status=1; fi
fi

passed=0; failed=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [[ -f "$results/conformance.txt" ]]; then
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$results/conformance.txt" | tail -1); f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$results/conformance.txt" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
fi
if ((passed == 0)); then echo "test: no test ran"; status=1; fi
echo "$passed passed, $failed failed"
exit $status
