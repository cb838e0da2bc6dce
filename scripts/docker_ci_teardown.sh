#!/usr/bin/env bash
# Stop the dockerd that scripts/docker_ci_setup.sh started (found by the PID it wrote).
# A daemon this project did not start is left alone. Idempotent: without a PID file it only
# says so. Images and the cached base rootfs are kept, so the next setup is fast.
#
#   MOCK_SEMBLE_DOCKER_STATE  the setup script's state folder (/var/cache/mock-semble)
set -euo pipefail

STATE_DIR=${MOCK_SEMBLE_DOCKER_STATE:-/var/cache/mock-semble}
PID_FILE=$STATE_DIR/dockerd.pid
SECONDS=0

log() { printf '[docker-ci-teardown %3ss] %s\n' "$SECONDS" "$*"; }
die() {
    printf '[docker-ci-teardown] ERROR: %s\n' "$*" >&2
    exit 1
}

if [ ! -f "$PID_FILE" ]; then
    log "no $PID_FILE: no dockerd started by docker_ci_setup.sh; nothing to stop"
    exit 0
fi
pid=$(cat "$PID_FILE")
case "$pid" in
'' | *[!0-9]*) die "$PID_FILE does not hold a PID: '$pid'" ;;
esac
if ! kill -0 "$pid" 2>/dev/null; then
    log "dockerd (pid $pid) is not running any more"
    rm -f "$PID_FILE"
    exit 0
fi
comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
if [ "$comm" != dockerd ]; then
    log "pid $pid is '$comm', not dockerd (stale PID file); leaving it alone"
    rm -f "$PID_FILE"
    exit 0
fi

# Containers left behind by a failed test would keep dockerd busy on shutdown: remove ours.
if command -v docker >/dev/null 2>&1; then
    left=$(docker ps -aq --filter 'name=^mock-semble-test-' 2>/dev/null || true)
    if [ -n "$left" ]; then
        log "removing leftover test containers: $(echo "$left" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        docker rm --force $left >/dev/null 2>&1 || true
    fi
fi

log "stopping dockerd (pid $pid)"
kill -TERM "$pid"
for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
done
if kill -0 "$pid" 2>/dev/null; then
    log "dockerd did not stop within 30 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
    kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) is still running"
fi
rm -f "$PID_FILE"
log "dockerd stopped"
