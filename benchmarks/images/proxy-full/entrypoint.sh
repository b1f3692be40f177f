#!/bin/sh
# Write the TLS certificate and key from the environment (ECS `secrets`, resolved from Secrets
# Manager at task start) to /run/proxy/tls, drop them from the environment, then exec nginx.
# Nothing secret is printed; a missing value stops the container with a clear message.
set -eu
umask 077
tls_dir=/run/proxy/tls
mkdir -p "$tls_dir"
if [ -z "${PROXY_TLS_CERT:-}" ] || [ -z "${PROXY_TLS_KEY:-}" ]; then
    echo "proxy-entrypoint: PROXY_TLS_CERT and PROXY_TLS_KEY must be set (ECS secrets from Secrets Manager)" >&2
    exit 64
fi
printf '%s\n' "$PROXY_TLS_CERT" > "$tls_dir/cert.pem"
printf '%s\n' "$PROXY_TLS_KEY" > "$tls_dir/key.pem"
unset PROXY_TLS_CERT PROXY_TLS_KEY
exec nginx -e stderr -c /etc/rampart-proxy/nginx.conf "$@"
