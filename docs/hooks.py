"""MkDocs hooks: the pages that are generated from the code at every build, never
hand-copied, so they cannot drift from the product.

- ``reference/cli.md``: every subcommand of ``mock_semble.cli.build_parser()`` with its
  usage and each option's help (which names its default, allowed values and variable).
- ``reference/schema.md`` / ``reference/schema-strings.md``: the SDL each API version
  serves (what ``mock-semble schema [--event-types strings]`` prints, and what
  ``schema.graphql`` / ``schema.strings.graphql`` hold).
- ``mutation.md``: a placeholder until the mutation-testing run has written its report.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

GENERATED = "<!-- generated at build time by docs/hooks.py: do not edit -->\n\n"
HELP_WIDTH = "80"  # code blocks on the page fit without a scroll bar


@contextlib.contextmanager
def neutral_environment() -> Iterator[None]:
    """Flags read their defaults from MOCK_SEMBLE_* variables and argparse wraps to the
    terminal: the page shows the built-in defaults at a fixed width, whatever the shell."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("MOCK_SEMBLE_")]:
        del os.environ[name]
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    rows = ["| option | what it does |", "|---|---|"]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        names: str
        if action.option_strings:
            names = ", ".join(action.option_strings)
            if action.nargs != 0:
                names += f" {action.metavar or action.dest.upper()}"
        else:
            names = str(action.metavar or action.dest.upper())
        rows.append(f"| `{names}` | {_cell(formatter._expand_help(action))} |")
    return rows


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return {name: (helps.get(name, ""), sub) for name, sub in action.choices.items()}
    return {}


def cli_page() -> str:
    from mock_semble.cli import build_parser

    with neutral_environment():
        parser = build_parser()
        lines = [
            "# CLI reference",
            "",
            GENERATED.strip(),
            "",
            "Generated from `mock_semble.cli.build_parser()` when the site is built. Every flag "
            "can also be set with the `MOCK_SEMBLE_*` variable its help names; a flag on the "
            "command line wins over its variable. A bad flag, variable or file exits with "
            "status 2 and one line on stderr, never a traceback.",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
        ]
        for name, (summary, sub) in _subcommands(parser).items():
            lines += ["", f"## `mock-semble {name}`", "", f"{summary[:1].upper()}{summary[1:]}."]
            lines += ["", "```text", sub.format_usage().rstrip(), "```", ""]
            lines += _option_rows(sub)
    return "\n".join(lines) + "\n"


def schema_page(mode: str) -> str:
    from mock_semble.api.schema import build_schema, sdl
    from mock_semble.domains import DOMAINS

    name = "schema.graphql" if mode == "enum" else "schema.strings.graphql"
    flag = "" if mode == "enum" else " --event-types strings"
    return (
        f"# Schema: `--event-types {mode}`\n\n{GENERATED}"
        f"The SDL served by `mock-semble serve{flag}`, generated from the code when the site "
        f"is built: the same text as `mock-semble schema{flag}` prints and `{name}` holds "
        "(a test keeps that file equal to what is served). See "
        "[Semble API versions](../api-versions.md) for what differs between the two.\n\n"
        f"```graphql\n{sdl(build_schema(DOMAINS, mode)).rstrip()}\n```\n"
    )


MUTATION_PLACEHOLDER = (
    "# Mutation testing\n\n"
    "No mutation-testing report in this checkout yet: the mutation run writes "
    "`docs/mutation.md` here when it has been run.\n"
)


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    pages = {
        "reference/cli.md": cli_page(),
        "reference/schema.md": schema_page("enum"),
        "reference/schema-strings.md": schema_page("strings"),
    }
    if files.get_file_from_path("mutation.md") is None:
        pages["mutation.md"] = MUTATION_PLACEHOLDER
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files
