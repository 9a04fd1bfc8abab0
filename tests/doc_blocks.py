"""Reading the documentation's code blocks, so that tests can hold the docs to the code.

A block may be preceded by a marker line:

- ``<!-- file: PATH -->``: the block is the whole content of ``PATH`` (relative to the
  repository), byte for byte;
- ``<!-- run -->``: a shell block that a test runs (``bash -euo pipefail`` from the repository);
- ``<!-- output -->``: what the ``run`` block just before it prints on stdout, exactly.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer.main

from vifbind.cli import app, load

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
GENERATED = frozenset({"contract.md"})
"""Docs written by a program, not by hand."""

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!-- (file: \S+|run|output) -->$")
_SHELL = frozenset({"sh", "bash", "console", "shell"})
_OPERATOR = re.compile(r"^[();<>|&]+$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown document."""

    doc: Path
    line: int
    """Line number of the opening fence."""
    lang: str
    text: str
    """The content, each line ending with a newline."""
    marker: str | None

    @property
    def where(self) -> str:
        """``docs/x.md:12``, for assertion messages."""
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def hand_written_docs() -> list[Path]:
    """Every Markdown document of ``docs/`` that people write."""
    return sorted(p for p in DOCS.glob("*.md") if p.name not in GENERATED)


def blocks(doc: Path) -> list[Block]:
    """The fenced code blocks of ``doc`` with their markers, in order."""
    found: list[Block] = []
    lines = doc.read_text().splitlines(keepends=True)
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        previous = lines[index - 1].strip() if index > 0 else ""
        marker = _MARKER.match(previous)
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        found.append(
            Block(
                doc=doc,
                line=index + 1,
                lang=opening.group(1),
                text="".join(lines[index + 1 : end]),
                marker=marker.group(1) if marker else None,
            )
        )
        index = end + 1
    return found


def file_blocks(doc: Path) -> list[tuple[Block, Path]]:
    """Blocks marked ``file: PATH``, with the file each must equal."""
    return [
        (b, REPO / b.marker.removeprefix("file: "))
        for b in blocks(doc)
        if b.marker is not None and b.marker.startswith("file: ")
    ]


def run_blocks(doc: Path) -> list[tuple[Block, Block | None]]:
    """Blocks marked ``run``, each with the ``output`` block that follows it, if any."""
    found = blocks(doc)
    pairs: list[tuple[Block, Block | None]] = []
    for i, block in enumerate(found):
        if block.marker != "run":
            continue
        after = found[i + 1] if i + 1 < len(found) else None
        pairs.append((block, after if after is not None and after.marker == "output" else None))
    return pairs


def run(blocks: list[Block], env: dict[str, str], timeout: float = 120) -> list[str]:
    """Run shell blocks in order as one session (variables carry over) from the repository's
    top directory, with ``env`` added and ``vifbind`` found next to this interpreter; return
    each block's stdout. A failing command fails the session (``set -euo pipefail``)."""
    separator = f"--- end of block {secrets.token_hex(8)} ---"
    script = "".join(f"{b.text}echo {shlex.quote(separator)}\n" for b in blocks)
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        env=os.environ | {"PATH": path} | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    outputs = result.stdout.split(separator + "\n")
    if result.returncode != 0:
        failed = blocks[len(outputs) - 1]
        raise AssertionError(f"{failed.where} failed ({result.returncode}): {result.stderr}")
    return outputs[:-1]


def shell_lines(block: Block) -> list[str]:
    """The block's logical lines: continuations joined, prompts and comments kept as shlex
    will see them."""
    joined = re.sub(r"\\\n", " ", block.text)
    return [line.removeprefix("$ ") for line in joined.splitlines() if line.strip()]


def vifbind_commands(block: Block) -> list[list[str]]:
    """The arguments of every ``vifbind`` command in a shell block (also inside ``$(…)``
    and pipelines)."""
    if block.lang not in _SHELL:
        return []
    commands = []
    for line in shell_lines(block):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
        at_start = True
        for i, word in enumerate(words):
            if _OPERATOR.match(word):
                at_start = True
                continue
            if at_start and word == "vifbind":
                rest = words[i + 1 :]
                end = next((j for j, t in enumerate(rest) if _OPERATOR.match(t)), len(rest))
                commands.append(rest[:end])
            at_start = at_start and bool(_ASSIGNMENT.match(word))
    return commands


class CommandLineError(Exception):
    """A command line that ``vifbind`` would refuse; the message is the parser's."""


def parse_command(argv: list[str]) -> Any:
    """Parse ``vifbind ARGV`` exactly as the command would — every subcommand, option name,
    option value and required argument — without running it; ``CommandLineError`` otherwise."""
    try:
        load()
        command: Any = typer.main.get_command(app)
        context = command.make_context("vifbind", list(argv))
        while hasattr(command, "resolve_command"):
            rest = [*context._protected_args, *context.args]
            if not rest:
                break
            name, command, rest = command.resolve_command(context, rest)
            context = command.make_context(name, rest, parent=context)
    except Exception as exc:
        if not hasattr(exc, "format_message"):
            raise
        raise CommandLineError(exc.format_message()) from None
    return context


def tables(doc: Path) -> list[list[list[str]]]:
    """The Markdown tables of ``doc`` (outside code blocks): rows of cells, header first,
    without the ``|---|`` line."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in prose_lines(doc):
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if not all(set(c) <= set("-: ") for c in cells):
                current.append(cells)
            continue
        if current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def table_with(doc: Path, *header: str) -> list[list[str]]:
    """The rows (without the header) of the one table of ``doc`` whose header starts so."""
    matching = [t for t in tables(doc) if tuple(t[0][: len(header)]) == header]
    assert len(matching) == 1, f"{doc.name}: {len(matching)} tables start with {header}"
    return matching[0][1:]


def prose_lines(doc: Path) -> list[str]:
    """The lines of ``doc`` outside fenced code blocks."""
    lines = []
    fenced = False
    for line in doc.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def code_spans(text: str) -> list[str]:
    """The contents of the ``code`` spans of a Markdown line or cell."""
    return re.findall(r"`([^`]+)`", text)
