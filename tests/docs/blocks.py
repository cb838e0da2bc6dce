"""The fenced code blocks of a Markdown page, with the directives that say how to test them.

A directive is an HTML comment on the line(s) right before a fence (invisible on the site)::

    <!-- doctest: server -->            this block starts the server the page talks to
    <!-- doctest: strings -->           a GraphQL block of the `--event-types strings` API
    <!-- doctest: continue -->          a Python block that goes on from the previous one
    <!-- doctest: state -->             a JSON state document: it must load into the server
    <!-- doctest: not-run: <why> -->    never executed (only syntax-checked); the reason is
                                        required and shown in the test's report
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)[^`]*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*doctest:\s*(?P<body>.*?)\s*-->\s*$")
FLAGS = ("server", "strings", "continue", "state")


class PageError(Exception):
    """A page the runner cannot read as examples (unknown directive, open fence, …)."""


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    flags: frozenset[str] = frozenset()
    not_run: str | None = None  # the reason, when the block must not run

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line} ({self.lang})"


@dataclass
class _Pending:
    flags: set[str] = field(default_factory=set)
    not_run: str | None = None


def _directive(body: str, pending: _Pending, where: str) -> None:
    if body.startswith("not-run"):
        reason = body.removeprefix("not-run").lstrip(":").strip()
        if not reason:
            raise PageError(f"{where}: 'not-run' needs a reason: <!-- doctest: not-run: why -->")
        pending.not_run = reason
        return
    for word in body.split():
        if word not in FLAGS:
            raise PageError(f"{where}: unknown doctest directive {word!r}")
        pending.flags.add(word)


def parse_blocks(text: str, page: str) -> list[Block]:
    """Every fenced block of ``text`` in page order; PageError for a broken page."""
    blocks: list[Block] = []
    lines = text.splitlines()
    pending = _Pending()
    n = 0
    while n < len(lines):
        line = lines[n]
        directive = DIRECTIVE.match(line)
        if directive:
            _directive(directive["body"], pending, f"{page}:{n + 1}")
            n += 1
            continue
        fence = FENCE.match(line)
        if not fence:
            if line.strip() and (pending.flags or pending.not_run):
                raise PageError(f"{page}:{n + 1}: a doctest directive must precede a fence")
            n += 1
            continue
        indent, ticks = fence["indent"], fence["ticks"]
        body: list[str] = []
        end = n + 1
        while end < len(lines) and lines[end].strip() != ticks:
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end])
            end += 1
        if end == len(lines):
            raise PageError(f"{page}:{n + 1}: code fence is never closed")
        blocks.append(
            Block(
                page,
                n + 1,
                fence["lang"],
                "\n".join(body) + "\n",
                frozenset(pending.flags),
                pending.not_run,
            )
        )
        pending = _Pending()
        n = end + 1
    return blocks


def page_blocks(path: Path, root: Path) -> list[Block]:
    return parse_blocks(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
