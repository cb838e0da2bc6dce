"""Identifiers and secrets: random by default, reproducible with ``--seed``."""

from __future__ import annotations

import base64
import random
import re
import secrets

ID_PATTERN = re.compile(r"[0-9a-f]{24}")  # used with fullmatch: "$" would admit a trailing "\n"
SECRET_PREFIX = "whsec_"


def is_object_id(value: object) -> bool:
    """True for an ObjectId-like id: exactly 24 lower-case hex digits."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


class IdFactory:
    """Makes 24-hex ids and ``whsec_`` secrets.

    Without a seed both come from :mod:`secrets`. With a seed both come from one
    :class:`random.Random`, so a run is reproducible and independent of the wall
    clock (a seeded run is for tests, never for real secrets).
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._random = random.Random(seed) if seed is not None else None

    def _bytes(self, n: int) -> bytes:
        if self._random is None:
            return secrets.token_bytes(n)
        return self._random.randbytes(n)

    def new_id(self) -> str:
        return self._bytes(12).hex()

    def new_secret(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self._bytes(32)).decode("ascii")

    def mark(self) -> None:
        """Remember the sequence position once configured data has taken its ids."""
        self._mark = self._random.getstate() if self._random is not None else None

    def rewind(self) -> None:
        """Go back to the marked position (after a full reset), so runs repeat exactly."""
        mark = getattr(self, "_mark", None)
        if self._random is not None and mark is not None:
            self._random.setstate(mark)

    def new_token(self) -> str:
        """An API token for a runtime-added practice."""
        return "tok_" + self._bytes(18).hex()
