"""Runs a page's examples in page order, so that each one fails the build when it drifts
from the product:

- ``console``: a transcript; each ``$`` command runs in bash against the live server and
  must exit 0 and print what the page shows (``…`` = any text).
- ``sh``/``bash``: runs under ``set -euo pipefail`` against the live server; must exit 0.
- ``python``: runs as a script (``continue`` blocks join the one before); a block with
  ``def test_…`` runs under pytest with the mock_semble plugin, like a user's suite.
- ``graphql``: every operation validates against the schema the server serves
  (introspected from ``mock-semble serve [--event-types strings]``).
- ``json`` parses (a ``state`` block loads into the server), ``toml`` is a valid config
  file, ``ini`` is a pytest ini that starts the fixture, ``text`` is output, not code.

The live server is ``mock-semble serve --port 0`` with the flags of the page's ``server``
block (none before one); ``127.0.0.1:8000`` in a block becomes its address. Background
jobs a block starts are ended with its process group.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from graphql import (
    DocumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    build_client_schema,
    get_introspection_query,
    parse,
    validate,
)

from mock_semble.config import parse_config

from .blocks import Block
from .live import LiveServer, clean_env, stop_group
from .transcript import matches, parse_transcript, script, split_output

TIMEOUT = 180
SHELL = ("sh", "bash")
TEST_FUNCTION = re.compile(r"^(async\s+)?def test_", re.MULTILINE)
ALWAYS_NOT_RUN = ("yaml", "dockerfile")  # CI files and images: need a not-run reason
KNOWN = (*SHELL, "console", "python", "graphql", "json", "toml", "ini", "text", *ALWAYS_NOT_RUN)


class ExampleFailed(AssertionError):
    def __init__(self, block: Block, why: str) -> None:
        super().__init__(f"{block.where}: {why}\n--- the example ---\n{block.code}")


def _run(
    args: list[str], *, cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run in a process group of its own; whatever it left running in the background is
    ended with it. Output goes through a file: a background job that keeps the pipe open
    must not make us wait for it."""
    with tempfile.TemporaryFile("w+") as given, tempfile.TemporaryFile("w+") as out:
        if stdin is not None:
            given.write(stdin)
            given.seek(0)
        process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=given if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            stop_group(process)
            out.seek(0)
            raise AssertionError(f"timed out after {TIMEOUT} s:\n{out.read()}") from None
        finally:
            stop_group(process)
        out.seek(0)
        return subprocess.CompletedProcess(args, process.returncode, out.read(), "")


class Schemas:
    """The served schema of each API version, introspected once per test session."""

    def __init__(self) -> None:
        self._schemas: dict[str, GraphQLSchema] = {}

    def get(self, mode: str) -> GraphQLSchema:
        if mode not in self._schemas:
            server = LiveServer(["--event-types", mode])
            try:
                answer = graphql_call(server.url, get_introspection_query())
            finally:
                server.stop()
            self._schemas[mode] = build_client_schema(answer["data"])
        return self._schemas[mode]


def graphql_call(url: str, query: str) -> Any:
    request = urllib.request.Request(
        url + "/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json", "x-token": "test-token"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def control_call(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def operations(document: DocumentNode) -> list[DocumentNode]:
    """One document per operation (with every fragment): a block may show several."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    rest = tuple(d for d in document.definitions if not isinstance(d, OperationDefinitionNode))
    return [DocumentNode(definitions=(op, *rest)) for op in ops] or [document]


@dataclass
class PageRunner:
    root: Path  # the checkout: commands run there (examples/… paths resolve)
    tmp: Path
    schemas: Schemas
    server: LiveServer | None = None
    notes: list[str] = field(default_factory=list)
    _open: list[Block] = field(default_factory=list)  # the Python program being read
    _tests: list[list[Block]] = field(default_factory=list)

    # -- driving ----------------------------------------------------------------------

    def run(self, blocks: list[Block]) -> list[str]:
        try:
            for block in blocks:
                if not (block.lang == "python" and "continue" in block.flags):
                    self._flush()  # the program before is complete: run it in page order
                self._one(block)
            self._flush()
            self._run_python_tests()
        finally:
            self._stop_server()
        return self.notes

    def _one(self, block: Block) -> None:
        if block.lang not in KNOWN:
            raise ExampleFailed(block, f"no runner for {block.lang or 'a block without language'}")
        if block.not_run is not None:
            self._syntax_only(block)
            self.notes.append(f"{block.where}: not run: {block.not_run}")
            return
        if block.lang in ALWAYS_NOT_RUN:
            raise ExampleFailed(block, "cannot run here: add <!-- doctest: not-run: why -->")
        if "server" in block.flags:
            self._start_server(block)
        elif block.lang == "console":
            self._console(block)
        elif block.lang in SHELL:
            self._shell(block)
        elif block.lang == "python":
            self._python(block)
        elif block.lang == "graphql":
            self._graphql(block)
        elif block.lang == "json":
            self._json(block)
        elif block.lang == "toml":
            self._toml(block)
        elif block.lang == "ini":
            self._ini(block)

    # -- the live server --------------------------------------------------------------

    def live(self) -> LiveServer:
        if self.server is None:
            self.server = LiveServer()
        return self.server

    def _stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def _start_server(self, block: Block) -> None:
        words = shlex.split(block.code.replace("\\\n", " "), comments=True)
        words = [w for w in words if w not in ("$", "&")]
        if words[:2] != ["mock-semble", "serve"]:
            raise ExampleFailed(block, "a server block is one `mock-semble serve …` command")
        self._stop_server()
        try:
            self.server = LiveServer(words[2:])
        except RuntimeError as exc:
            raise ExampleFailed(block, str(exc)) from None

    def env(self) -> dict[str, str]:
        return clean_env(self.live().url)

    # -- shell ------------------------------------------------------------------------

    def _shell(self, block: Block) -> None:
        code = "set -euo pipefail\n" + self.live().substitute(block.code)
        result = _run(["bash", "-c", code], cwd=self.root, env=self.env())
        if result.returncode != 0:
            raise ExampleFailed(block, f"exit status {result.returncode}:\n{result.stdout}")

    def _console(self, block: Block) -> None:
        try:
            steps = parse_transcript(self.live().substitute(block.code))
        except ValueError as exc:
            raise ExampleFailed(block, str(exc)) from None
        result = _run(["bash"], cwd=self.root, env=self.env(), stdin=script(steps))
        try:
            outputs = split_output(result.stdout, len(steps))
        except AssertionError as exc:  # a command ended the shell (exit, set -e)
            raise ExampleFailed(block, str(exc)) from None
        for step, (output, status) in zip(steps, outputs, strict=True):
            if status != 0:
                raise ExampleFailed(block, f"`{step.command}` exited {status}:\n{output}")
            if not matches(step.expected, output):
                raise ExampleFailed(
                    block,
                    f"`{step.command}` printed:\n{output}\n--- the page shows ---\n{step.expected}",
                )

    # -- python -----------------------------------------------------------------------

    def _python(self, block: Block) -> None:
        if "continue" in block.flags:
            if not self._open:
                raise ExampleFailed(block, "'continue' needs a Python block before it")
            self._open.append(block)
        else:
            self._open = [block]

    def _program_code(self, program: list[Block]) -> str:
        return "\n".join(self.live().substitute(b.code) for b in program)

    def _flush(self) -> None:
        """Run the program just read (a script now; tests at the page's end)."""
        program, self._open = self._open, []
        if not program:
            return
        code = self._program_code(program)
        if TEST_FUNCTION.search(code):
            self._tests.append(program)
            return
        path = self.tmp / f"example_{program[0].line}.py"
        path.write_text(code, encoding="utf-8")
        result = _run([sys.executable, str(path)], cwd=self.tmp, env=self.env())
        if result.returncode != 0:
            raise ExampleFailed(program[0], f"exit status {result.returncode}:\n{result.stdout}")

    def _run_python_tests(self) -> None:
        if not self._tests:
            return
        folder = self.tmp / "pytest"
        folder.mkdir()
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        for program in self._tests:
            name = f"test_{Path(program[0].page).stem.replace('-', '_')}_{program[0].line}.py"
            (folder / name).write_text(self._program_code(program), encoding="utf-8")
        self._pytest(folder, self._tests[0][0])

    def _pytest(self, folder: Path, block: Block) -> None:
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
        result = _run(
            [*args, "-c", str(folder / "pytest.ini"), str(folder)], cwd=folder, env=self.env()
        )
        if result.returncode != 0 or " passed" not in result.stdout:
            raise ExampleFailed(block, f"pytest exit status {result.returncode}:\n{result.stdout}")

    # -- data and documents -----------------------------------------------------------

    def _graphql(self, block: Block) -> None:
        schema = self.schemas.get("strings" if "strings" in block.flags else "enum")
        try:
            document = parse(block.code)
        except Exception as exc:
            raise ExampleFailed(block, f"does not parse: {exc}") from None
        for operation in operations(document):
            errors = validate(schema, operation)
            if errors:
                raise ExampleFailed(block, "; ".join(e.message for e in errors))

    def _json(self, block: Block) -> None:
        try:
            document = json.loads(block.code)
        except ValueError as exc:
            raise ExampleFailed(block, f"not JSON: {exc}") from None
        if "state" in block.flags:
            url = self.live().url
            status, answer = control_call(url, "PUT", "/__mock/state", document)
            control_call(url, "POST", "/__mock/reset")
            if status != 200:
                raise ExampleFailed(block, f"PUT /__mock/state answered {status}: {answer}")

    def _toml(self, block: Block) -> None:
        try:
            parse_config(tomllib.loads(block.code))
        except Exception as exc:
            raise ExampleFailed(block, f"not a valid config file: {exc}") from None

    def _ini(self, block: Block) -> None:
        folder = self.tmp / f"ini_{block.line}"
        folder.mkdir()
        (folder / "pytest.ini").write_text(block.code, encoding="utf-8")
        (folder / "test_ini.py").write_text(
            "def test_the_fixture_starts_with_these_options(mock_semble):\n"
            "    assert mock_semble.execute('{ webhooks { id } }') == "
            "{'data': {'webhooks': []}}\n",
            encoding="utf-8",
        )
        self._pytest(folder, block)

    # -- blocks that must not run -----------------------------------------------------

    def _syntax_only(self, block: Block) -> None:
        code = block.code
        try:
            if block.lang == "console":
                code = script(parse_transcript(code))
            if block.lang in (*SHELL, "console"):
                result = _run(["bash", "-n"], cwd=self.tmp, env=clean_env(), stdin=code)
                if result.returncode != 0:
                    raise ValueError(result.stdout)
            elif block.lang == "python":
                compile(code, block.where, "exec")
            elif block.lang == "yaml":
                yaml.safe_load(code)
            elif block.lang == "json":
                json.loads(code)
        except (ValueError, SyntaxError, yaml.YAMLError) as exc:
            raise ExampleFailed(block, f"does not even parse: {exc}") from None
