#!/bin/sh
# Container health check: nginx answers /healthz itself on its TLS port (given as $1, else read
# from the rendered config). -k: loopback to our own self-signed certificate.
set -eu
port="${1:-$(sed -n 's/^ *listen \([0-9][0-9]*\) ssl.*/\1/p' /etc/rampart-proxy/nginx.conf | head -n 1)}"
exec curl --fail --silent --show-error --insecure --max-time 2 --output /dev/null "https://127.0.0.1:${port}/healthz"
