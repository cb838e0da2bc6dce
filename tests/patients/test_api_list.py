"""``patients`` over HTTP (SPEC §3): every match on exactly one page, in creation order;
``hasMore`` false exactly on the last page; search; inclusive createdAt/updatedAt ranges
with plain dates and date-times; includeDeleted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_semble.testing import MockSembleServer

from . import documents as d

NAMES = ["Ada", "ADA", "Bob", "Zoë", "Li", "O'Neil"]
PHONES = ["+44 7700 900123", "(020) 7946-0018"]


def _pages(server: MockSembleServer, variables: dict[str, Any], size: int) -> list[list[str]]:
    """Every page until the first with hasMore false; checks each page's pageInfo."""
    pages: list[list[str]] = []
    while True:
        number = len(pages) + 1
        paging = {"page": number, "pageSize": size}
        result = server.execute(d.LIST, {**variables, "pagination": paging})
        assert "errors" not in result, result
        body = result["data"]["patients"]
        pages.append([row["id"] for row in body["data"]])
        assert body["pageInfo"]["page"] == number
        assert body["pageInfo"]["pageSize"] == size
        if not body["pageInfo"]["hasMore"]:
            return pages
        assert len(pages) < 100, "hasMore never became false"


def _digits(text: str) -> str:
    return re.sub(r"[\W_]", "", text).casefold()


def _matches(spec: dict[str, Any], search: str) -> bool:
    text = search.strip().casefold()
    fields = [spec["first"], spec["last"], f"{spec['first']} {spec['last']}"]
    if not text or any(text in f.casefold() for f in fields):
        return True
    phone = spec.get("phoneNumber")
    return bool(_digits(search)) and phone is not None and _digits(search) in _digits(phone)


PATIENTS = st.lists(
    st.fixed_dictionaries(
        {"first": st.sampled_from(NAMES), "last": st.sampled_from(NAMES)},
        optional={"phoneNumber": st.sampled_from(PHONES)},
    ),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # each example creates its patients over HTTP
@given(
    PATIENTS,
    st.sets(st.integers(0, 11)),
    st.integers(1, 5),
    st.none() | st.sampled_from(["ada", "zo", "o'n", "7946", "7700 900", " li ", "-", "bob"]),
    st.booleans(),
)
def test_every_match_is_on_exactly_one_page(
    mock_semble_server: MockSembleServer,
    specs: list[dict[str, Any]],
    deleted: set[int],
    size: int,
    search: str | None,
    include_deleted: bool,
) -> None:
    server = mock_semble_server
    server.reset()
    ids = []
    for n, spec in enumerate(specs):
        patient_id = d.create(server, **spec)["id"]
        if n in deleted:
            d.ok(server.execute(d.DELETE, {"id": patient_id}))
        ids.append(patient_id)
    expected = [
        patient_id
        for n, (patient_id, spec) in enumerate(zip(ids, specs, strict=True))
        if (include_deleted or n not in deleted) and (search is None or _matches(spec, search))
    ]
    variables: dict[str, Any] = {"options": {"includeDeleted": include_deleted}}
    if search is not None:
        variables["search"] = search
    pages = _pages(server, variables, size)
    assert [patient_id for page in pages for patient_id in page] == expected
    assert all(len(page) == size for page in pages[:-1])
    assert len(pages) == max(1, -(-len(expected) // size))


def test_search_by_email_and_dob(mock_semble: MockSembleServer) -> None:
    ada = d.create(mock_semble, email="Ada@Example.com", dob="1815-12-10")["id"]
    d.create(mock_semble, first="Bob", last="B", email="bob@example.org", dob="1990-01-01")
    for search in ["ada@EXAMPLE", "1815-12", "example.com"]:
        rows = mock_semble.execute(d.LIST, {"search": search})["data"]["patients"]["data"]
        assert [row["id"] for row in rows] == [ada], search


DAY = "2026-03-0{}T12:00:00.000Z"


def _five_days(server: MockSembleServer) -> list[str]:
    """Patients created at noon on 1 to 5 March 2026; each updated at noon on 9 March."""
    ids = []
    for day in range(1, 6):
        server.freeze_clock(DAY.format(day))
        ids.append(d.create(server, first=f"P{day}")["id"])
    server.freeze_clock(DAY.format(9))
    for patient_id in ids[:2]:
        d.ok(server.execute(d.UPDATE, {"id": patient_id, "data": {"city": "Bath"}}))
    return ids


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ({"start": "2026-03-02", "end": "2026-03-04"}, [1, 2, 3]),  # plain dates: whole days
        ({"start": "2026-03-04"}, [3, 4]),
        ({"end": "2026-03-01"}, [0]),
        ({"start": "2026-03-02T12:00:00Z", "end": "2026-03-03T12:00:00Z"}, [1, 2]),  # inclusive
        ({"start": "2026-03-02T12:00:00.001Z", "end": "2026-03-03T11:59:59.999Z"}, []),
        ({"start": "2026-03-03T13:00:00+01:00", "end": "2026-03-03T12:00:00"}, [2]),
        ({"start": "2026-03-05", "end": "2026-03-01"}, []),
        ({}, [0, 1, 2, 3, 4]),
    ],
)
def test_created_at_ranges(
    mock_semble: MockSembleServer, created: dict[str, str], expected: list[int]
) -> None:
    ids = _five_days(mock_semble)
    result = mock_semble.execute(d.LIST, {"options": {"createdAt": created}})
    assert [row["id"] for row in result["data"]["patients"]["data"]] == [ids[i] for i in expected]


@pytest.mark.parametrize(
    ("updated", "expected"),
    [
        ({"start": "2026-03-09"}, [0, 1]),
        ({"end": "2026-03-08"}, [2, 3, 4]),
        ({"start": "2026-03-04", "end": "2026-03-05T12:00:00.000Z"}, [3, 4]),
    ],
)
def test_updated_at_ranges(
    mock_semble: MockSembleServer, updated: dict[str, str], expected: list[int]
) -> None:
    ids = _five_days(mock_semble)
    result = mock_semble.execute(d.LIST, {"options": {"updatedAt": updated}})
    assert [row["id"] for row in result["data"]["patients"]["data"]] == [ids[i] for i in expected]


def test_ranges_hold_when_the_clock_went_back(mock_semble: MockSembleServer) -> None:
    """Creation order and createdAt order differ once the clock is moved back."""
    mock_semble.freeze_clock(DAY.format(5))
    late = d.create(mock_semble, first="Late")["id"]
    mock_semble.freeze_clock(DAY.format(1))
    early = d.create(mock_semble, first="Early")["id"]
    options = {"createdAt": {"start": "2026-03-01", "end": "2026-03-02"}}
    rows = mock_semble.execute(d.LIST, {"options": options})["data"]["patients"]["data"]
    assert [row["id"] for row in rows] == [early]
    rows = mock_semble.execute(d.LIST)["data"]["patients"]["data"]
    assert [row["id"] for row in rows] == [late, early]  # creation order
