#!/usr/bin/env bash
# Make the local base images the image tests and benchmarks build on, without any
# registry: Debian bookworm from debootstrap, imported with `docker import`.
#
#   rampart/debian:bookworm        debootstrap --variant=minbase bookworm
#   rampart/node-build:bookworm    + Debian's nodejs and npm (build stages: npm ci, tests, build)
#   rampart/node-runtime:bookworm  distroless-style runtime: only nodejs and the shared
#                                  libraries it needs (no shell, no coreutils, no apt/dpkg,
#                                  no perl, no npm, no compiler); node at /nodejs/bin/node
#                                  like gcr.io/distroless/nodejs, ENTRYPOINT node, users
#                                  root(0) and nonroot(65532)
#   rampart/nginx:bookworm         + Debian's nginx (1.22), curl and ca-certificates: stands in
#                                  for the official nginx image (NGINX_IMAGE of proxy/Dockerfile:
#                                  nginx at /usr/sbin/nginx, a shell, apt, curl)
#   rampart/c-build:bookworm       + gcc, libc6-dev, libssl-dev: stands in for buildpack-deps
#                                  (BUILD_IMAGE of proxy/Dockerfile, which compiles the static
#                                  proxy helper)
#
# Root filesystems are cached as tarballs under $RAMPART_CACHE/base-images (RAMPART_CACHE
# defaults to ~/.cache/rampart/<hash of this clone's path>, outside the work tree) so a
# second run only re-imports them (seconds).
# Needs root, debootstrap, network access to deb.debian.org, and DOCKER_HOST pointing
# at a running engine (scripts/docker-engine.sh start).
set -euo pipefail
shopt -s inherit_errexit  # failures inside $(...) stop the script too

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${RAMPART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rampart/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)}/base-images"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
HOST_CA_DIR="${HOST_CA_DIR:-/usr/local/share/ca-certificates}"
mkdir -p "$CACHE"

WORK=""
cleanup() {
    if [ -n "$WORK" ]; then
        for m in "$WORK"/*/proc; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
WORK="$(mktemp -d "$CACHE/work.XXXXXX")"

log() { echo "base-images: $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

minbase_tar() {
    local tar="$CACHE/debian-bookworm-minbase.tar"
    if [ ! -s "$tar" ]; then
        log "debootstrap --variant=minbase bookworm (a few minutes, once per cache)"
        local dir="$WORK/minbase"
        debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
            || { tail -n 30 "$WORK/debootstrap.log" >&2; return 1; }
        cat >"$dir/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
SRC
        rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
        tar -C "$dir" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
        rm -rf "$dir"
    fi
    echo "$tar"
}

# Unpack the minbase rootfs into $1 and install packages $2... with apt in a chroot.
chroot_install() {
    local dir="$1"; shift
    mkdir -p "$dir"
    local base; base="$(minbase_tar)"
    tar -C "$dir" -xf "$base"
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    mount -t proc proc "$dir/proc"
    # maintainer scripts must not start services (nginx would listen on the host's port 80)
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends $* >/dev/null"
    rm -f "$dir/usr/sbin/policy-rc.d"
    umount -l "$dir/proc"
    chroot "$dir" apt-get clean
    rm -rf "$dir/var/lib/apt/lists/"* "$dir/tmp/"* "$dir/root/.npm"
    : >"$dir/etc/resolv.conf"
}

node_build_tar() {
    local tar="$CACHE/node-build-bookworm.tar"
    if [ ! -s "$tar" ]; then
        log "node-build: minbase + nodejs npm"
        local dir="$WORK/node-build"
        # The build base trusts what this host trusts (local CAs, e.g. a TLS-intercepting
        # egress proxy), so `npm ci` reaches the registry from build containers.
        mkdir -p "$dir/usr/local/share/ca-certificates"
        cp "$HOST_CA_DIR"/*.crt "$dir/usr/local/share/ca-certificates/" 2>/dev/null || true
        chroot_install "$dir" nodejs npm ca-certificates
        tar -C "$dir" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
        rm -rf "$dir"
    fi
    echo "$tar"
}

# Distroless-style runtime: install nodejs in a full chroot, then copy into an empty
# rootfs only the files of nodejs and the packages it (recursively) depends on, minus
# packages a runtime does not need (shells, coreutils, dpkg/apt, perl, debconf).
node_runtime_tar() {
    local tar="$CACHE/node-runtime-bookworm.tar"
    if [ ! -s "$tar" ]; then
        log "node-runtime: nodejs closure without shell, apt, dpkg or perl"
        local full="$WORK/node-runtime-full" out="$WORK/node-runtime"
        chroot_install "$full" nodejs ca-certificates
        local skip=' base-files bash dash coreutils debconf dpkg apt perl-base perl libperl5.36 debianutils sensible-utils tar sed grep gzip findutils util-linux mawk diffutils login passwd adduser openssl '
        local want=() seen=' ' queue=(nodejs)
        while [ "${#queue[@]}" -gt 0 ]; do
            local p="${queue[0]}"; queue=("${queue[@]:1}")
            p="${p%%:*}"
            case "$seen" in *" $p "*) continue ;; esac
            seen="$seen$p "
            case "$skip" in *" $p "*) continue ;; esac
            chroot "$full" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || continue
            want+=("$p")
            local deps
            deps="$(chroot "$full" dpkg-query -W -f='${Depends},${Pre-Depends}' "$p" \
                | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/[[:space:]]//g' | grep -v '^$' || true)"
            for d in $deps; do queue+=("$d"); done
        done
        log "node-runtime packages: ${want[*]}"
        mkdir -p "$out"
        # usr-merge links first, so /lib64/ld-linux... lands in usr/lib64 through the link
        for l in bin sbin lib lib64; do
            if [ -L "$full/$l" ]; then mkdir -p "$out/usr/$l"; cp -a "$full/$l" "$out/$l"; fi
        done
        for p in "${want[@]}"; do
            chroot "$full" dpkg-query -L "$p" | while read -r f; do
                if [ -f "$full$f" ] || [ -L "$full$f" ]; then
                    mkdir -p "$out$(dirname "$f")"
                    cp -a "$full$f" "$out$f" || exit 1
                fi
            done || { log "copying the files of $p failed"; return 1; }
        done
        # CA bundle generated by ca-certificates' postinst (not in its file list)
        mkdir -p "$out/etc/ssl"; cp -a "$full/etc/ssl/certs" "$out/etc/ssl/"
        # users, writable /tmp, distroless node path
        mkdir -p "$out/tmp" "$out/home/nonroot" "$out/nodejs/bin" "$out/etc" "$out/proc" "$out/sys" "$out/dev"
        chmod 1777 "$out/tmp"; chown 65532:65532 "$out/home/nonroot"
        ln -sf /usr/bin/node "$out/nodejs/bin/node"
        printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$out/etc/passwd"
        printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$out/etc/group"
        cp -a "$full/etc/nsswitch.conf" "$out/etc/" 2>/dev/null || true
        rm -rf "$out/usr/share/doc" "$out/usr/share/man" "$out/usr/share/lintian"
        tar -C "$out" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
        rm -rf "$full" "$out"
    fi
    echo "$tar"
}

# minbase + Debian packages, as one tarball per image
packages_tar() {  # packages_tar NAME PACKAGE...
    local name="$1"; shift
    local tar="$CACHE/$name-bookworm.tar"
    if [ ! -s "$tar" ]; then
        log "$name: minbase + $*"
        local dir="$WORK/$name"
        chroot_install "$dir" "$@"
        tar -C "$dir" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
        rm -rf "$dir"
    fi
    echo "$tar"
}

import() {  # import TAG TARBALL [--change ...]
    local tag="$1" tar="$2"; shift 2
    if have_image "$tag" && [ "${REBUILD_BASES:-0}" != 1 ]; then return 0; fi
    docker import "$@" "$tar" "$tag" >/dev/null
    log "imported $tag ($(docker image inspect -f '{{.Size}}' "$tag") bytes)"
}

docker version >/dev/null  # fail early without an engine
# (assignments, not "$(...)" arguments, so a failed step stops the script under set -e)
minbase="$(minbase_tar)"
node_build="$(node_build_tar)"
node_runtime="$(node_runtime_tar)"
nginx_base="$(packages_tar nginx nginx curl ca-certificates)"
c_build="$(packages_tar c-build gcc libc6-dev libssl-dev)"
import rampart/debian:bookworm "$minbase" --change "$PATH_ENV" --change 'CMD ["bash"]'
import rampart/node-build:bookworm "$node_build" --change "$PATH_ENV" --change 'CMD ["node"]' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'
import rampart/node-runtime:bookworm "$node_runtime" --change "$PATH_ENV" \
    --change 'ENTRYPOINT ["/nodejs/bin/node"]' --change 'WORKDIR /home/nonroot'
import rampart/nginx:bookworm "$nginx_base" --change "$PATH_ENV" --change 'CMD ["nginx", "-g", "daemon off;"]'
import rampart/c-build:bookworm "$c_build" --change "$PATH_ENV" --change 'CMD ["bash"]'
echo rampart/debian:bookworm rampart/node-build:bookworm rampart/node-runtime:bookworm rampart/nginx:bookworm rampart/c-build:bookworm
