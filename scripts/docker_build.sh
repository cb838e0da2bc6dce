#!/usr/bin/env bash
# Build the mock's image from this checkout: scripts/docker_build.sh TAG
#
# The base image: $MOCK_SEMBLE_BASE_IMAGE; else mock-semble-base:bookworm when the daemon
# has it (CI makes it with scripts/docker_ci_setup.sh: no registry there); else the
# Dockerfile's own default (python:3.12-slim). Builds on the host's network (CI's daemon
# has no bridge) and passes on the pip settings that make sense inside a container (an
# http(s) index, the CA bundle, proxies). Quiet; on failure, the end of the build log.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tag=${1:?usage: scripts/docker_build.sh TAG}

base=${MOCK_SEMBLE_BASE_IMAGE:-}
if [ -z "$base" ] && docker image inspect mock-semble-base:bookworm >/dev/null 2>&1; then
    base=mock-semble-base:bookworm
fi
build_args=()
[ -n "$base" ] && build_args+=(--build-arg "BASE_IMAGE=$base")
build_args+=(--build-arg "PIP_CERT=/etc/ssl/certs/ca-certificates.crt")
host_index=${PIP_INDEX_URL:-$(pip config get global.index-url 2>/dev/null || true)}
case "$host_index" in
http://* | https://*) build_args+=(--build-arg "PIP_INDEX_URL=$host_index") ;;
esac
[ -n "${PIP_TRUSTED_HOST:-}" ] && build_args+=(--build-arg "PIP_TRUSTED_HOST=$PIP_TRUSTED_HOST")
for var in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy \
    MOCK_SEMBLE_NPM_REGISTRY MOCK_SEMBLE_GRAPHIQL_ASSETS; do
    [ -n "${!var:-}" ] && build_args+=(--build-arg "$var=${!var}")
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --network host "${build_args[@]}" \
    -t "$tag" "$REPO_ROOT" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "docker_build: docker build of $tag failed" >&2
    exit 1
fi
echo "built $tag${base:+ on $base}"
