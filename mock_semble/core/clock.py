"""The mock's clock: real time, or frozen / shifted by the control plane.

Every timestamp the mock produces (``createdAt``, ``updatedAt``, signature
timestamps, journal times) comes from one :class:`Clock` so tests can pin it.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta


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


# The clock never leaves this window, so every timestamp it gives can be formatted,
# signed and read back (datetime's own range ends at year 9999).
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


class ClockRangeError(ValueError):
    """A freeze or advance that would take the clock out of its representable range."""


def _checked(moment_or_none: datetime | None) -> datetime:
    if moment_or_none is None or not EARLIEST <= moment_or_none <= LATEST:
        raise ClockRangeError(
            "the clock must stay between 0001-01-02T00:00:00.000Z and 9999-12-30T00:00:00.000Z"
        )
    return moment_or_none


def _plus_delta(a: timedelta, b: timedelta) -> timedelta | None:
    try:
        return a + b
    except OverflowError:
        return None


def _plus(moment: datetime, delta: timedelta) -> datetime | None:
    try:
        return moment + delta
    except OverflowError:
        return None


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
        """Stop at ``moment`` (ClockRangeError outside the representable range)."""
        self._frozen_at = truncate_ms(_checked(moment.astimezone(UTC)))

    def advance(self, seconds: float) -> None:
        """Move by ``seconds`` (either way); ClockRangeError, changing nothing, when the
        result would leave the representable range."""
        try:
            delta = timedelta(seconds=seconds)
        except (OverflowError, ValueError):
            raise ClockRangeError(f"cannot move the clock by {seconds!r} seconds") from None
        if self._frozen_at is not None:
            self._frozen_at = truncate_ms(_checked(_plus(self._frozen_at, delta)))
        else:
            offset = _plus_delta(self._offset, delta)
            _checked(_plus(datetime.now(UTC), offset) if offset is not None else None)
            assert offset is not None
            self._offset = offset

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


def format_date(day: date) -> str:
    """``YYYY-MM-DD`` (years padded, as for :func:`format_datetime`)."""
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date()
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def parse_date_input(text: object) -> date | datetime:
    """A ``Date`` input (SPEC §3): ``"YYYY-MM-DD"`` gives a date; a full ISO-8601
    date-time (no offset = UTC) gives a UTC datetime. Anything else: ValueError."""
    if not isinstance(text, str) or len(text) > 64:
        raise ValueError("expected a date as YYYY-MM-DD or an ISO-8601 date-time")
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"invalid date: {text!r}") from None
    try:
        return parse_datetime(text)
    except (ValueError, OverflowError):
        raise ValueError(f"invalid date: {text[:64]!r}") from None
