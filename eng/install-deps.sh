#!/usr/bin/env bash
# Installs the Debian packages the local sandbox server and the tests need, once. Safe to re-run.
#   bubblewrap  namespaces for every sandbox      iproute2  network namespace inspection
#   gcc         builds the small sandbox-box-exec helper of the server
#   chromium    headless browser test of service URLs (only with --browser)
#   mmdebstrap  builds the default snapshot's Debian root filesystem (once per machine, cached)
#   docker-registry, skopeo, umoci, apache2-utils (htpasswd)  loopback registry for the snapshot pull tests
set -euo pipefail

packages=()
command -v bwrap >/dev/null 2>&1 || packages+=(bubblewrap)
command -v ip >/dev/null 2>&1 || packages+=(iproute2)
command -v nsenter >/dev/null 2>&1 || packages+=(util-linux)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
command -v mkfs.ext4 >/dev/null 2>&1 || packages+=(e2fsprogs)   # fs_capacity_bytes: loop-mounted ext4 per box
command -v script >/dev/null 2>&1 || packages+=(bsdutils)       # pty commands (script)
command -v mmdebstrap >/dev/null 2>&1 || packages+=(mmdebstrap)
command -v docker-registry >/dev/null 2>&1 || packages+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || packages+=(skopeo)
command -v umoci >/dev/null 2>&1 || packages+=(umoci)
command -v htpasswd >/dev/null 2>&1 || packages+=(apache2-utils)
command -v cc >/dev/null 2>&1 || packages+=(gcc libc6-dev)      # builds sandbox-box-exec (src/Sandbox.Server/Native)
if [[ "${1:-}" == "--browser" ]]; then
  command -v chromium >/dev/null 2>&1 || packages+=(chromium)
fi
if [[ "${1:-}" == "--browser" || "${1:-}" == "--node" ]]; then
  command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
fi

if ((${#packages[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${packages[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
