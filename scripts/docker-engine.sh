#!/usr/bin/env bash
# Start or stop a private Docker engine for tests and benchmarks.
#
#   scripts/docker-engine.sh start   # idempotent; prints the DOCKER_HOST to use
#   scripts/docker-engine.sh stop    # waits until the engine has exited
#   scripts/docker-engine.sh host    # prints the DOCKER_HOST (engine may be down)
#
# The engine has its own data-root, exec-root, pidfile and unix socket under
# $RAMPART_DOCKER_DIR (default: <repo>/.cache/docker), so it never touches a system
# engine.  Flags that work on the CI machines: no iptables, no default bridge
# (containers get no network; tests exec checks inside the container).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${RAMPART_DOCKER_DIR:-$ROOT/.cache/docker}"
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

stop() {
    if ! alive; then rm -f "$PIDFILE"; return 0; fi
    local pid; pid="$(cat "$PIDFILE")"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
        sleep 0.5
    done
    echo "docker-engine: dockerd $pid ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    rm -f "$PIDFILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    host) echo "$HOST" ;;
    *) echo "usage: $0 start|stop|host" >&2; exit 2 ;;
esac
