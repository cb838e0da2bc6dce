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
# reinstall them (and the final install below needs no network).
COPY pyproject.toml ./
RUN /opt/venv/bin/python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(d['project']['dependencies'] + d['build-system']['requires'] + ['wheel']))" > /tmp/requirements.txt \
 && cat /tmp/requirements.txt \
 && /opt/venv/bin/pip install -r /tmp/requirements.txt

COPY . ./

# GraphiQL's JS/CSS (mock_semble/static/vendor/graphiql/) is normally vendored on the host
# before the build and arrives with the COPY above. Fetch it here only if it is missing and
# this build image has npm; otherwise the image serves GraphiQL without it.
RUN if [ -d mock_semble/static/vendor/graphiql ]; then \
        echo "GraphiQL assets: copied from the build context"; \
    elif command -v npm >/dev/null 2>&1 && [ -f scripts/fetch_graphiql_assets.py ]; then \
        /opt/venv/bin/python scripts/fetch_graphiql_assets.py \
        || echo "GraphiQL assets: fetch failed; building without them"; \
    else \
        echo "GraphiQL assets: absent and no npm in the build image; building without them"; \
    fi

RUN /opt/venv/bin/pip install --no-deps --no-build-isolation --no-index . \
 && /opt/venv/bin/mock-semble --help >/dev/null

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
