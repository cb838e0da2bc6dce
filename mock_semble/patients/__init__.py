"""The patients domain (SPEC §3): models, rules, store, operations, GraphQL types and
its state-document section, registered as :data:`DOMAIN`."""

from __future__ import annotations

from ..core.domain import Domain
from ..core.runtime import Runtime
from .graphql import build_types
from .operations import STORE
from .state import PatientSection
from .store import PatientStore


def _new_store(runtime: Runtime) -> PatientStore:
    return PatientStore(runtime.ids, runtime.lock)


DOMAIN = Domain(STORE, _new_store, build_types, PatientSection())

__all__ = ["DOMAIN", "PatientStore"]
