#!/usr/bin/env bash
# Runs the CodeInterpreterAgent sample on the embedded local sandbox server (installs what it needs first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash eng/install-deps.sh
# The default snapshot's Debian root filesystem (python3 with numpy/pandas/matplotlib, node, git): built once per machine
# from its Debian mirror (a progress line says so the first time; minutes), then found in /var/cache/sandbox-server.
dotnet build src/Sandbox.Server -c Release -nologo -v:q -clp:ErrorsOnly
dotnet src/Sandbox.Server/bin/Release/net10.0/Sandbox.Server.dll --prepare-default-snapshot >/dev/null
exec dotnet run --project samples/CodeInterpreterAgent -c Release -- "$@"
