#!/usr/bin/env bash
# Installs what the proxy tests (tests/proxy) and the proxy benchmark (benchmarks/proxy) need:
# Debian's nginx (1.22 on bookworm), openssl (TLS version probes), and the benchmark peers and
# load generators: wrk, h2load (nghttp2-client), HAProxy and Caddy; and gcc, libc6-dev, libssl-dev
# and file, to compile and inspect the image's static helper (proxy/proxy-init.c). Idempotent, non-interactive.
# Package maintainer scripts must not start system services (port 80/443 listeners, pid files):
# a temporary policy-rc.d refuses service starts during the install.
set -euo pipefail

pkgs=(nginx openssl wrk nghttp2-client haproxy caddy gcc libc6-dev libssl-dev file)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-proxy: all packages present"
  exit 0
fi

created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if ! apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}"; then
  apt-get -o DPkg::Lock::Timeout=900 update
  apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}"
fi
