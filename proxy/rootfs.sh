#!/bin/sh
# Assemble the bare proxy runtime's root filesystem in OUT from the nginx image this runs in
# (proxy/Dockerfile's `rootfs` stage): nginx, the shared libraries it and the modules the config
# loads need (ldd's closure, including the dynamic loader), those modules, OpenSSL's config,
# /etc/passwd and /etc/group entries for the runtime user, and the writable directories the
# task volumes are mounted on (owned by the runtime user, mode 0700). Nothing else: no shell,
# package manager, perl, curl or compiler reaches the runtime image.
#
#   rootfs.sh OUT NGINX_CONF UID
#
# It ends by running the copied nginx chrooted into OUT, so a missing library fails the build.
set -eu

out=$1
conf=$2
uid=$3
nginx=/usr/sbin/nginx

fail() { echo "rootfs: $*" >&2; exit 1; }
[ -x "$nginx" ] || fail "$nginx is not in the base image (NGINX_IMAGE must install nginx there)"
case $uid in '' | *[!0-9]*) fail "UID must be numeric, not '$uid'" ;; esac

# nginx's prefix (where relative load_module paths start)
prefix=$("$nginx" -V 2>&1 | sed -n 's/.*--prefix=\([^ ]*\).*/\1/p')
prefix=${prefix:-/etc/nginx}

objects=$nginx
for module in $(sed -n 's/^[[:space:]]*load_module[[:space:]][[:space:]]*\([^;[:space:]]*\);.*/\1/p' "$conf"); do
    case $module in /*) ;; *) module=${prefix%/}/$module ;; esac
    [ -f "$module" ] || fail "the config loads $module, which the base image does not have"
    objects="$objects $module"
done

tmp=$(mktemp)
libs=""
for object in $objects; do
    ldd "$object" >"$tmp" || fail "ldd $object failed"
    if grep -q 'not found' "$tmp"; then fail "$object needs a library the base image lacks: $(grep 'not found' "$tmp")"; fi
    libs="$libs $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$tmp")"
done
rm -f "$tmp"

mkdir -p "$out"
# -L: a library's soname link becomes the file itself, at the path the loader looks for
for file in $objects $libs; do
    cp -L --parents "$file" "$out/"
done
# OpenSSL reads its config (Debian: security level, providers) from OPENSSLDIR at start
for cnf in /usr/lib/ssl/openssl.cnf /etc/ssl/openssl.cnf; do
    if [ -f "$cnf" ]; then cp -L --parents "$cnf" "$out/"; fi
done

install -d -m 0755 "$out/etc" "$out/run" "$out/var" "$out/var/cache"
install -d -o "$uid" -g "$uid" -m 0700 "$out/run/proxy" "$out/run/proxy/tls" "$out/var/cache/proxy"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nproxy:x:%s:%s:Rampart proxy:/nonexistent:/usr/sbin/nologin\n' \
    "$uid" "$uid" >"$out/etc/passwd"
printf 'root:x:0:\nproxy:x:%s:\n' "$uid" >"$out/etc/group"
chmod 0644 "$out/etc/passwd" "$out/etc/group"

# the copied nginx starts with nothing but what was copied
chroot "$out" "$nginx" -v
