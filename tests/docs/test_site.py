"""The documentation site builds with ``mkdocs build --strict``: a broken link, a missing
page, a page outside the nav or a failing build hook fails here. The generated pages
(CLI reference, schemas) come from the code at build time."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mock_semble.api.schema import build_schema, sdl
from mock_semble.cli import build_parser
from mock_semble.domains import DOMAINS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.fail("mkdocs is not installed (it is in the test extras)")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # mkdocs-material's banner
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_every_page_of_the_nav_is_built(site: Path) -> None:
    for page in (
        "index.html",
        "getting-started.html",
        "pytest.html",
        "webhooks.html",
        "api-versions.html",
        "patients.html",
        "faults.html",
        "inspector.html",
        "recipes.html",
        "reference/cli.html",
        "reference/control-plane.html",
        "reference/configuration.html",
        "reference/errors.html",
        "reference/limits.html",
        "reference/schema.html",
        "reference/schema-strings.html",
        "fidelity.html",
        "architecture.html",
        "benchmarks.html",
        "reliability.html",
        "mutation.html",
    ):
        assert (site / page).is_file(), page
    assert not (site / "hooks.py").exists()  # the build hook is not published


def test_the_cli_page_is_generated_from_the_parser(site: Path) -> None:
    page = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) >= {"serve", "schema", "fire", "listen", "graphiql-assets"}
    for name, sub in commands.choices.items():
        assert f"mock-semble {name}" in page
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in page, f"{name} {flag}"


@pytest.mark.parametrize(("mode", "page"), [("enum", "schema"), ("strings", "schema-strings")])
def test_the_schema_pages_are_the_served_sdl(site: Path, mode: str, page: str) -> None:
    html = (site / "reference" / f"{page}.html").read_text(encoding="utf-8")
    text = _text_of(html)
    for line in sdl(build_schema(DOMAINS, mode)).splitlines():
        if line.strip():
            assert line.strip() in text, line


def _text_of(html: str) -> str:
    """The page's text: highlighted code is split into spans, entities are escaped."""
    import html as entities
    import re

    return entities.unescape(re.sub(r"<[^>]+>", "", html))
