"""The domains this mock serves: one line each (see README, "Architecture")."""

from __future__ import annotations

from .core.domain import Domain
from .patients import DOMAIN as PATIENTS
from .webhooks import DOMAIN as WEBHOOKS

DOMAINS: tuple[Domain, ...] = (WEBHOOKS, PATIENTS)
