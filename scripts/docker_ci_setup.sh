#!/usr/bin/env bash
# Prepare Docker for the container test (tests/install/test_docker.py): a daemon and a base image.
# The test builds the application image itself, from the checkout, with a unique tag
# (scripts/docker_build.sh), so it never tests an image some earlier run left behind.
#
# Idempotent; every step is skipped when its result is already there:
#   1. apt-get install docker.io debootstrap           (if dockerd/debootstrap are missing)
#   2. start `dockerd --iptables=false --bridge=none`  (if no daemon answers `docker info`);
#      its PID goes to $STATE_DIR/dockerd.pid for scripts/docker_ci_teardown.sh
#   3. build a local Debian base image with python3 + python3-venv (if the tag is missing);
#      no container registry is reachable here, so it is made with debootstrap + docker import.
#      The rootfs tarball is cached in $STATE_DIR so later runs skip debootstrap.
#
# Environment knobs (all optional):
#   MOCK_SEMBLE_DOCKER_STATE  state/cache folder, outside the repo   (/var/cache/mock-semble)
#   MOCK_SEMBLE_BASE_IMAGE    tag of the local base image            (mock-semble-base:bookworm)
#   MOCK_SEMBLE_DEBIAN_MIRROR Debian mirror for debootstrap          (http://deb.debian.org/debian)
#   MOCK_SEMBLE_DOCKERD_ARGS  extra dockerd flags
set -euo pipefail

STATE_DIR=${MOCK_SEMBLE_DOCKER_STATE:-/var/cache/mock-semble}
BASE_TAG=${MOCK_SEMBLE_BASE_IMAGE:-mock-semble-base:bookworm}
MIRROR=${MOCK_SEMBLE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
BASE_PACKAGES=python3,python3-venv,ca-certificates
HOST_CA_DIR=/usr/local/share/ca-certificates
PID_FILE=$STATE_DIR/dockerd.pid
LOG_FILE=$STATE_DIR/dockerd.log
SECONDS=0

log() { printf '[docker-ci-setup %3ss] %s\n' "$SECONDS" "$*"; }
die() {
    printf '[docker-ci-setup] ERROR: %s\n' "$*" >&2
    exit 1
}
trap 'printf "[docker-ci-setup] ERROR: command failed at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts dockerd, runs debootstrap)"
mkdir -p "$STATE_DIR"
export DOCKER_BUILDKIT=0 # legacy builder: no buildx/BuildKit on this machine

# --- 1. packages -------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    {
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
    } >"$STATE_DIR/apt.log" 2>&1 || {
        tail -n 30 "$STATE_DIR/apt.log" >&2 || true
        die "apt-get install ${need[*]} failed (see $STATE_DIR/apt.log)"
    }
else
    log "dockerd and debootstrap already installed"
fi
command -v docker >/dev/null 2>&1 || die "no docker client on PATH after installing docker.io"

# --- 2. daemon ---------------------------------------------------------------
if docker info >/dev/null 2>&1; then
    log "a Docker daemon already answers; not starting one"
else
    if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        log "dockerd (pid $(cat "$PID_FILE")) is running but not answering yet; waiting for it"
    else
        log "starting dockerd --iptables=false --bridge=none (log: $LOG_FILE)"
        # shellcheck disable=SC2086  # MOCK_SEMBLE_DOCKERD_ARGS is a word list on purpose
        setsid dockerd --iptables=false --bridge=none ${MOCK_SEMBLE_DOCKERD_ARGS:-} \
            </dev/null >>"$LOG_FILE" 2>&1 &
        echo $! >"$PID_FILE"
        log "dockerd pid $(cat "$PID_FILE")"
    fi
    for _ in $(seq 1 120); do
        docker info >/dev/null 2>&1 && break
        if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
            tail -n 30 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            die "dockerd exited during start-up (see $LOG_FILE)"
        fi
        sleep 0.5
    done
    docker info >/dev/null 2>&1 || {
        tail -n 30 "$LOG_FILE" >&2 || true
        die "dockerd did not answer 'docker info' within 60 s (see $LOG_FILE)"
    }
    log "dockerd is up"
fi

# --- 3. base image -----------------------------------------------------------
if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    log "base image $BASE_TAG already present"
else
    # The cached rootfs depends on the suite, the package list and the host's local CA
    # certificates (HTTPS here goes through an intercepting proxy that the host trusts through
    # $HOST_CA_DIR; the base image must trust it too so pip can reach PyPI during the build).
    ca_hash=$(
        {
            echo "$SUITE $BASE_PACKAGES $MIRROR"
            find "$HOST_CA_DIR" -type f -name '*.crt' -print0 2>/dev/null | sort -z |
                xargs -0 -r cat
        } | sha256sum | cut -c1-12
    )
    tarball=$STATE_DIR/rootfs-$SUITE-$ca_hash.tar
    if [ -s "$tarball" ]; then
        log "using cached rootfs $tarball"
    else
        rootfs=$STATE_DIR/rootfs-$SUITE.tmp
        rm -rf "$rootfs"
        log "debootstrap --variant=minbase $SUITE with $BASE_PACKAGES (takes about a minute)"
        debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$MIRROR" \
            >"$STATE_DIR/debootstrap.log" 2>&1 || {
            tail -n 30 "$STATE_DIR/debootstrap.log" >&2 || true
            rm -rf "$rootfs"
            die "debootstrap failed (see $STATE_DIR/debootstrap.log)"
        }
        n_ca=0
        if [ -d "$HOST_CA_DIR" ]; then
            mkdir -p "$rootfs$HOST_CA_DIR"
            while IFS= read -r -d '' crt; do
                cp "$crt" "$rootfs$HOST_CA_DIR/"
                n_ca=$((n_ca + 1))
            done < <(find "$HOST_CA_DIR" -maxdepth 1 -type f -name '*.crt' -print0)
        fi
        log "trusting $n_ca local CA certificate(s) from $HOST_CA_DIR in the base image"
        chroot "$rootfs" update-ca-certificates >"$STATE_DIR/update-ca.log" 2>&1 || {
            cat "$STATE_DIR/update-ca.log" >&2 || true
            rm -rf "$rootfs"
            die "update-ca-certificates failed in the chroot"
        }
        chroot "$rootfs" apt-get clean >/dev/null 2>&1 || true
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
            "$rootfs"/var/log/*.log "$rootfs"/tmp/* 2>/dev/null || true
        log "packing rootfs into $tarball"
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" . || {
            rm -rf "$rootfs" "$tarball.tmp"
            die "could not pack the rootfs"
        }
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
        # drop caches made for other certificate sets
        find "$STATE_DIR" -maxdepth 1 -name "rootfs-$SUITE-*.tar" ! -name "$(basename "$tarball")" \
            -delete 2>/dev/null || true
    fi
    log "docker import $tarball as $BASE_TAG"
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        "$tarball" "$BASE_TAG" >/dev/null || die "docker import failed"
fi

log "ready: tests/install/test_docker.py builds its own image from the checkout on $BASE_TAG"
