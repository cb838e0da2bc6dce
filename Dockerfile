# mock-semble: a local mock of Semble's GraphQL API, in a container.
#
#   docker build -t mock-semble .
#   docker run --rm -p 8000:8000 mock-semble
#   docker run --rm --network host -e MOCK_SEMBLE_PORT=9100 mock-semble
#
# Every `mock-semble serve` flag can be given as a MOCK_SEMBLE_<FLAG> environment variable
# (MOCK_SEMBLE_PORT, MOCK_SEMBLE_ADMIN_TOKEN, MOCK_SEMBLE_SIGNING_SCHEME, ...).
# The HEALTHCHECK reads MOCK_SEMBLE_PORT when it runs, so it follows a changed port.
#
# BASE_IMAGE needs python3 with the venv module: python:3.12-slim by default; CI builds on a
# local Debian bookworm image (python3 + python3-venv), see scripts/docker_ci_setup.sh.
# Works with the legacy builder (DOCKER_BUILDKIT=0) as well as BuildKit.
ARG BASE_IMAGE=python:3.12-slim

# ---------------------------------------------------------------- build stage
FROM ${BASE_IMAGE} AS build

# pip settings for networks that need them (the build does not use the host's pip config)
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv
WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that editing the source does not
# reinstall them (and the final install below needs no package index).
COPY pyproject.toml ./
RUN /opt/venv/bin/python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(d['project']['dependencies'] + d['build-system']['requires'] + ['wheel']))" > /tmp/requirements.txt \
 && cat /tmp/requirements.txt \
 && /opt/venv/bin/pip install -r /tmp/requirements.txt

COPY . ./

# The package's build backend brings GraphiQL's JS/CSS into the package: from the build
# context when scripts/setup.sh already fetched them, otherwise downloaded from the npm
# registry over HTTPS and checked against their pinned hashes (no npm needed). A mirror:
# --build-arg MOCK_SEMBLE_NPM_REGISTRY=https://...; without them: MOCK_SEMBLE_GRAPHIQL_ASSETS=skip.
ARG MOCK_SEMBLE_NPM_REGISTRY=
ARG MOCK_SEMBLE_GRAPHIQL_ASSETS=
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation --no-index . \
 && /opt/venv/bin/mock-semble --help >/dev/null \
 && { [ "$MOCK_SEMBLE_GRAPHIQL_ASSETS" = skip ] || /opt/venv/bin/mock-semble graphiql-assets --check; }

# -------------------------------------------------------------- runtime stage
FROM ${BASE_IMAGE}

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOCK_SEMBLE_HOST=0.0.0.0 \
    MOCK_SEMBLE_PORT=8000

RUN groupadd --system --gid 10001 mocksemble \
 && useradd --system --uid 10001 --gid mocksemble --create-home --home-dir /home/mocksemble \
        --shell /usr/sbin/nologin mocksemble

COPY --from=build /opt/venv /opt/venv

USER 10001:10001
WORKDIR /home/mocksemble
EXPOSE 8000

# Probe the port the server was configured with (MOCK_SEMBLE_PORT, read at check time),
# not a hard-wired 8000 (give the port through MOCK_SEMBLE_PORT, not a --port argument).
# No curl in the image: Python's urllib does the request, bypassing any proxy variables.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os, sys, urllib.request; host = os.environ.get('MOCK_SEMBLE_HOST') or '127.0.0.1'; host = {'0.0.0.0': '127.0.0.1', '::': '[::1]', '': '127.0.0.1'}.get(host, f'[{host}]' if ':' in host else host); port = os.environ.get('MOCK_SEMBLE_PORT') or '8000'; opener = urllib.request.build_opener(urllib.request.ProxyHandler({})); sys.exit(0 if opener.open(f'http://{host}:{port}/__mock/health', timeout=4).status == 200 else 1)"]

CMD ["mock-semble", "serve"]
