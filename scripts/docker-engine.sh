#!/usr/bin/env bash
# Start or stop a private Docker engine for tests and benchmarks.
#
#   scripts/docker-engine.sh start   # idempotent; prints the DOCKER_HOST to use
#   scripts/docker-engine.sh stop    # waits until the engine has exited
#   scripts/docker-engine.sh host    # prints the DOCKER_HOST (engine may be down)
#   scripts/docker-engine.sh dir     # prints the engine directory
#
# The engine has its own data-root, exec-root, pidfile and unix socket under
# $RAMPART_DOCKER_DIR (default: $RAMPART_CACHE/docker, where RAMPART_CACHE defaults to
# ~/.cache/rampart/<hash of this clone's path>): one engine and cache per clone, kept
# outside the work tree so copies of the repository never copy an engine's state.  Flags that work on the CI machines: no iptables, no default bridge
# (containers get no network; tests exec checks inside the container).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${RAMPART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rampart/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)}"
DIR="${RAMPART_DOCKER_DIR:-$CACHE/docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
HOST="unix://$SOCK"

alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
ready() { DOCKER_HOST="$HOST" docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
    mkdir -p "$DIR/data" "$DIR/exec"
    if alive && ready; then echo "$HOST"; return 0; fi
    if alive; then
        # started but not answering yet (or wedged): give it the normal start window below
        :
    else
        rm -f "$PIDFILE" "$SOCK"
        setsid dockerd \
            --data-root "$DIR/data" \
            --exec-root "$DIR/exec" \
            --pidfile "$PIDFILE" \
            --host "$HOST" \
            --iptables=false --ip6tables=false --bridge=none \
            --storage-driver overlay2 \
            >>"$LOG" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 120); do
        if ready; then echo "$HOST"; return 0; fi
        sleep 0.5
    done
    echo "docker-engine: dockerd did not answer on $SOCK within 60 s; last log lines:" >&2
    tail -n 20 "$LOG" >&2 || true
    return 1
}

# dockerd leaves its default network namespace bind-mounted under the exec-root
unmount_leftovers() {
    local m
    for m in $(awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

stop() {
    if ! alive; then rm -f "$PIDFILE"; unmount_leftovers; return 0; fi
    local pid; pid="$(cat "$PIDFILE")"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; unmount_leftovers; return 0; }
        sleep 0.5
    done
    echo "docker-engine: dockerd $pid ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    rm -f "$PIDFILE"
    unmount_leftovers
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    host) echo "$HOST" ;;
    dir) echo "$DIR" ;;
    *) echo "usage: $0 start|stop|host|dir" >&2; exit 2 ;;
esac
