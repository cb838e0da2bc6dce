"""The example runner itself: it must fail on an example that drifted, and refuse pages it
cannot check, or the docs tests would pass on anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .blocks import PageError, parse_blocks
from .runner import ExampleFailed, PageRunner, Schemas
from .transcript import matches, parse_transcript

ROOT = Path(__file__).resolve().parents[2]
FENCE = "```"


def page(*parts: str) -> str:
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def schemas() -> Iterator[Schemas]:
    yield Schemas()


def run(text: str, tmp_path: Path, schemas: Schemas) -> list[str]:
    return PageRunner(ROOT, tmp_path, schemas).run(parse_blocks(text, "page.md"))


# -- reading pages ------------------------------------------------------------------------


def test_blocks_carry_their_language_line_and_directives() -> None:
    blocks = parse_blocks(
        page(
            "text",
            "<!-- doctest: strings -->",
            f"{FENCE}graphql",
            "{ webhooks { id } }",
            FENCE,
            "<!-- doctest: not-run: needs Docker -->",
            f"{FENCE}sh",
            "docker build .",
            FENCE,
        ),
        "p.md",
    )
    assert [(b.lang, b.line, sorted(b.flags), b.not_run) for b in blocks] == [
        ("graphql", 3, ["strings"], None),
        ("sh", 7, [], "needs Docker"),
    ]
    assert blocks[0].code == "{ webhooks { id } }\n"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (page("<!-- doctest: not-run -->", f"{FENCE}sh", "x", FENCE), "needs a reason"),
        (page("<!-- doctest: strnigs -->", f"{FENCE}graphql", "{ a }", FENCE), "unknown"),
        (page("<!-- doctest: strings -->", "prose", f"{FENCE}graphql", FENCE), "must precede"),
        (page(f"{FENCE}sh", "never closed"), "never closed"),
    ],
)
def test_a_page_the_runner_cannot_read_is_refused(text: str, why: str) -> None:
    with pytest.raises(PageError, match=why):
        parse_blocks(text, "p.md")


# -- transcripts ----------------------------------------------------------------------------


def test_a_transcript_is_commands_with_their_output() -> None:
    steps = parse_transcript("$ echo a \\\n  b\na b\n$ true\n")
    assert [(s.command, s.expected) for s in steps] == [("echo a \\\n  b", "a b"), ("true", "")]


VISIBLE = st.text(  # letters, digits, punctuation, symbols: no white space (lines are trimmed)
    alphabet=st.characters(categories=("L", "N", "P", "S"), exclude_characters="…"),
    max_size=8,
)


@given(st.lists(st.tuples(VISIBLE, VISIBLE), min_size=1))
def test_an_ellipsis_stands_for_any_text(pieces: list[tuple[str, str]]) -> None:
    """Expected text with each filler replaced by an ellipsis matches the actual text."""
    actual = "".join(part + filler for part, filler in pieces)
    expected = "".join(part + "…" for part, _ in pieces)
    assert matches(expected, actual)
    assert matches(actual, actual)


def test_text_outside_the_ellipsis_must_match() -> None:
    assert matches('{"id":"…","ok":true}', '{"id":"65f1","ok":true}')
    assert not matches('{"id":"…","ok":true}', '{"id":"65f1","ok":false}')
    assert not matches("exit 2", "exit 2\nmore")


# -- running --------------------------------------------------------------------------------


def test_a_console_example_that_drifted_fails(tmp_path: Path, schemas: Schemas) -> None:
    text = page(
        f"{FENCE}console",
        "$ curl -s -X POST http://127.0.0.1:8000/__mock/reset",
        '{"reset":"everything","practiceId":null}',
        FENCE,
    )
    with pytest.raises(ExampleFailed, match=r'printed:\n\{"reset":"all"'):
        run(text, tmp_path, schemas)


def test_a_failing_command_fails_even_with_matching_output(
    tmp_path: Path, schemas: Schemas
) -> None:
    with pytest.raises(ExampleFailed, match="exited 1"):
        run(page(f"{FENCE}console", "$ false", FENCE), tmp_path, schemas)
    with pytest.raises(ExampleFailed, match="stopped after 0 of 1"):
        run(page(f"{FENCE}console", "$ exit 3", FENCE), tmp_path, schemas)


def test_shell_examples_run_against_the_server_of_the_page(
    tmp_path: Path, schemas: Schemas
) -> None:
    text = page(
        "<!-- doctest: server -->",
        f"{FENCE}sh",
        "mock-semble serve --event-types strings",
        FENCE,
        f"{FENCE}sh",
        "curl -s http://127.0.0.1:8000/graphql -H 'x-token: test-token' "
        "-H 'content-type: application/json' "
        """-d '{"query":"{ __type(name: \\"WebhookEventType\\") { name } }"}' """
        """| grep -q '"__type":null'""",
        FENCE,
    )
    run(text, tmp_path, schemas)
    with pytest.raises(ExampleFailed, match="exit status 1"):
        run(text.replace("strings", "enum"), tmp_path / "again", schemas)


def test_a_python_example_that_fails_fails(tmp_path: Path, schemas: Schemas) -> None:
    with pytest.raises(ExampleFailed, match="ZeroDivisionError"):
        run(
            page(
                f"{FENCE}python",
                "x = 1",
                FENCE,
                "<!-- doctest: continue -->",
                f"{FENCE}python",
                "x / 0",
                FENCE,
            ),
            tmp_path,
            schemas,
        )


def test_a_failing_test_example_fails(tmp_path: Path, schemas: Schemas) -> None:
    text = page(
        f"{FENCE}python",
        "def test_it(mock_semble):",
        "    assert mock_semble.fire('PATIENT_CREATED')",
        FENCE,
    )
    with pytest.raises(ExampleFailed, match="1 failed"):
        run(text, tmp_path, schemas)


def test_graphql_is_validated_against_the_right_api_version(
    tmp_path: Path, schemas: Schemas
) -> None:
    strings = (
        'mutation { createWebhook(input: {url: "https://a.example", eventTypes: ["invoice.paid"], '
        'label: "x"}) { error } }'
    )
    run(page("<!-- doctest: strings -->", f"{FENCE}graphql", strings, FENCE), tmp_path, schemas)
    with pytest.raises(ExampleFailed, match="WebhookEventType"):
        run(page(f"{FENCE}graphql", strings, FENCE), tmp_path, schemas)
    with pytest.raises(ExampleFailed, match="Cannot query field 'nope'"):
        run(
            page(f"{FENCE}graphql", "query A { webhooks { id } }", "query B { nope }", FENCE),
            tmp_path,
            schemas,
        )


@pytest.mark.parametrize(
    ("block", "why"),
    [
        (page(f"{FENCE}ruby", "puts 1", FENCE), "no runner for ruby"),
        (page(f"{FENCE}", "anything", FENCE), "no runner for a block without language"),
        (page(f"{FENCE}yaml", "a: 1", FENCE), "not-run"),
        (page(f"{FENCE}toml", "[[practices]]", 'name = "x"', FENCE), "tokens"),
        (page(f"{FENCE}json", "{'a': 1}", FENCE), "not JSON"),
        (page("<!-- doctest: state -->", f"{FENCE}json", '{"version": 3}', FENCE), "400"),
        (page("<!-- doctest: not-run: because -->", f"{FENCE}python", "def (", FENCE), "parse"),
    ],
)
def test_blocks_that_cannot_be_checked_or_are_wrong_fail(
    block: str, why: str, tmp_path: Path, schemas: Schemas
) -> None:
    with pytest.raises(ExampleFailed, match=why):
        run(block, tmp_path, schemas)


def test_a_not_run_block_is_reported_with_its_reason(tmp_path: Path, schemas: Schemas) -> None:
    notes = run(
        page("<!-- doctest: not-run: needs Docker -->", f"{FENCE}sh", "docker ps", FENCE),
        tmp_path,
        schemas,
    )
    assert notes == ["page.md:2 (sh): not run: needs Docker"]
