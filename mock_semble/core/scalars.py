"""Semble's ``DateTime`` and ``Date`` scalars: the wire forms of :mod:`.clock`.

Domain types annotate fields with Python's ``datetime`` / ``date``; the schema maps
those to these scalars.
"""

from __future__ import annotations

import strawberry

from .clock import format_date, format_datetime, parse_date_input, parse_datetime

DATETIME = strawberry.scalar(
    name="DateTime",
    description='ISO-8601 UTC instant with milliseconds: "2026-11-28T15:02:26.123Z".',
    serialize=format_datetime,
    parse_value=parse_datetime,
)

DATE = strawberry.scalar(
    name="Date",
    description=(
        'A calendar date, "YYYY-MM-DD" (docs.semble.io/docs/API/scalars/date/; '
        "see SPEC §3 for input forms)."
    ),
    serialize=format_date,
    parse_value=parse_date_input,
)
