#!/usr/bin/env bash
# Node.js and npm for the tests that run a Node.js policy pack beside Rampart's (tests/packaging):
# Debian's packages when they are missing. The pack's npm dependencies are installed by the tests
# themselves (`npm ci` from the committed package-lock.json). Run as root; idempotent.
set -euo pipefail
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-node: node/npm missing; run as root (or: sudo apt-get install nodejs npm)." >&2
    exit 1
fi
echo "install-node: installing nodejs and npm from Debian" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
