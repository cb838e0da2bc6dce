"""Every code example of the README and the documentation site runs (tests/docs/runner.py):
an example that drifts from the product fails here, naming its page and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .blocks import page_blocks
from .runner import PageRunner, Schemas

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Reports written by their own harnesses (the benchmark, the reliability and mutation
# runs): their commands run those suites, which CI runs as tests in their own right.
REPORTS = {"benchmarks.md", "reliability.md", "mutation.md"}
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).as_posix() not in REPORTS),
]


@pytest.fixture(scope="module")
def schemas() -> Iterator[Schemas]:
    yield Schemas()


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_example_on_the_page_runs(page: Path, schemas: Schemas, tmp_path: Path) -> None:
    blocks = page_blocks(page, ROOT)
    notes = PageRunner(ROOT, tmp_path, schemas).run(blocks)
    for note in notes:  # blocks that are only syntax-checked, with why (shown with -rA)
        print(note)


def test_the_pages_have_examples() -> None:
    """A runner that found no block would pass everything: the pages do have them."""
    counted = {p.name: len(page_blocks(p, ROOT)) for p in PAGES}
    assert counted["README.md"] >= 2
    assert sum(counted.values()) >= 60
