"""The mock's clock: real time, or frozen / shifted by the control plane.

Every timestamp the mock produces (``createdAt``, ``updatedAt``, signature
timestamps, journal times) comes from one :class:`Clock` so tests can pin it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def truncate_ms(moment: datetime) -> datetime:
    """Drop sub-millisecond precision: the wire format carries milliseconds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_datetime(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``: ``2026-11-28T15:02:26.123Z``."""
    m = moment.astimezone(UTC)
    # not strftime: its %Y does not pad years before 1000 ("1-01-01"), which no
    # ISO-8601 parser (our own state import included) reads back
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; naive values are taken as UTC."""
    if not isinstance(text, str):
        raise ValueError("expected an ISO-8601 string")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Clock:
    """Wall-clock time, optionally frozen at an instant or shifted by an offset."""

    __slots__ = ("_frozen_at", "_offset")

    def __init__(self) -> None:
        self._frozen_at: datetime | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        """The current instant, truncated to milliseconds."""
        if self._frozen_at is not None:
            return self._frozen_at
        return truncate_ms(datetime.now(UTC) + self._offset)

    def timestamp(self) -> int:
        """Unix seconds, as used in signature headers."""
        if self._frozen_at is None and not self._offset:
            return int(time.time())
        return int(self.now().timestamp())

    def freeze(self, moment: datetime) -> None:
        self._frozen_at = truncate_ms(moment.astimezone(UTC))

    def advance(self, seconds: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at = truncate_ms(self._frozen_at + timedelta(seconds=seconds))
        else:
            self._offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self._frozen_at = None
        self._offset = timedelta()

    def describe(self) -> dict[str, object]:
        """The clock's state as the control plane reports it."""
        return {
            "now": format_datetime(self.now()),
            "frozen": self._frozen_at is not None,
            "offsetSeconds": self._offset.total_seconds(),
        }
