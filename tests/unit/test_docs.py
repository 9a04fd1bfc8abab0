"""The documentation holds to the code: every ``vifbind`` command shown parses, every file
shown is the file, every link and anchor resolves, every host report and host configuration
shown is valid."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from vifbind.contract import HostReport
from vifbind.host.config import HostConfig

from doc_blocks import (
    DOCS,
    REPO,
    Block,
    CommandLineError,
    blocks,
    file_blocks,
    hand_written_docs,
    parse_command,
    prose_lines,
    vifbind_commands,
)

DOC_FILES = hand_written_docs()
ALL_BLOCKS = [b for doc in DOC_FILES for b in blocks(doc)]
COMMANDS = [(b, argv) for b in ALL_BLOCKS for argv in vifbind_commands(b)]
LINKED = [*DOC_FILES, REPO / "README.md"]


def block_id(block: Block) -> str:
    return block.where


def test_the_index_lists_every_document() -> None:
    index = (DOCS / "README.md").read_text()
    for doc in sorted(DOCS.glob("*.md")):
        if doc.name != "README.md":
            assert f"]({doc.name})" in index, f"docs/README.md does not link {doc.name}"


def test_the_docs_show_commands() -> None:
    shown = {argv[0] for _, argv in COMMANDS if argv}
    assert {"serve", "agent", "bind", "explain", "negotiate", "token", "db"} <= shown


@pytest.mark.parametrize(
    ("block", "argv"), COMMANDS, ids=[f"{b.where}:{' '.join(a[:2])}" for b, a in COMMANDS]
)
def test_every_command_shown_parses(block: Block, argv: list[str]) -> None:
    try:
        parse_command(argv)
    except CommandLineError as exc:
        pytest.fail(f"{block.where}: vifbind {' '.join(argv)}: {exc}")


def test_the_command_parser_rejects_what_vifbind_rejects() -> None:
    for argv in (["bind", "PORT"], ["network", "create", "x", "--segment", "a", "--mtu", "x"]):
        with pytest.raises(CommandLineError, match=r"Missing option|Invalid value"):
            parse_command(argv)
    with pytest.raises(CommandLineError, match="No such option"):
        parse_command(["bindings", "--follow"])


FILE_BLOCKS = [pair for doc in DOC_FILES for pair in file_blocks(doc)]


@pytest.mark.parametrize(("block", "path"), FILE_BLOCKS, ids=[b.where for b, _ in FILE_BLOCKS])
def test_every_file_shown_is_the_file(block: Block, path: Path) -> None:
    assert path.is_file(), f"{block.where}: {path} does not exist"
    assert block.text == path.read_text(), f"{block.where} differs from {path}"


HOST_CONFIGS = [b for b in ALL_BLOCKS if b.lang == "toml" and "host" in tomllib.loads(b.text)]


@pytest.mark.parametrize("block", HOST_CONFIGS, ids=block_id)
def test_every_host_configuration_shown_is_valid(block: Block) -> None:
    HostConfig.model_validate(tomllib.loads(block.text))


JSON_BLOCKS = [b for b in ALL_BLOCKS if b.lang == "json"]


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=block_id)
def test_every_json_document_shown_is_valid(block: Block) -> None:
    data = json.loads(block.text)
    if "vif_types" in data:
        HostReport.model_validate(data)


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in prose_lines(doc) if line.startswith("#")}


LINKS = [
    (doc, target)
    for doc in LINKED
    for line in prose_lines(doc)
    for target in re.findall(r"\]\(([^)\s]+)\)", line)
    if not target.startswith(("http://", "https://", "mailto:"))
]


@pytest.mark.parametrize(
    ("doc", "target"), LINKS, ids=[f"{d.relative_to(REPO)}->{t}" for d, t in LINKS]
)
def test_every_link_resolves(doc: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    resolved = (doc.parent / path).resolve() if path else doc
    assert resolved.exists(), f"{doc.name}: {target}: {resolved} does not exist"
    if anchor:
        assert resolved.suffix == ".md", f"{doc.name}: {target}: anchor into a non-Markdown file"
        assert anchor in anchors(resolved), f"{doc.name}: {target}: no such heading"
