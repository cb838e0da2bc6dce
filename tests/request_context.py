"""A request context for calling domain operations directly, as a token's request would."""

from __future__ import annotations

from mock_semble.core.context import RequestContext
from mock_semble.core.runtime import Runtime


def context_of(runtime: Runtime, token: str = "test-token") -> RequestContext:
    """The context of a request that ``token`` (default: SPEC's default token) makes."""
    found = runtime.tenancy.token(token)
    assert found is not None, "unknown token"
    return RequestContext(runtime, found, runtime.tenancy.practices[found.practice_id])
