"""A JSON object read from chunks, one array an item at a time, is the object ``json`` reads
whole — however the text is cut — and a malformed text is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vifbind.streamed import StreamedObject

ANSWER = {
    "revision": 12345,
    "complete": True,
    "bindings": [
        {"port_id": f"p{i}", "mtu": 1500 + i, "name": 'é\\"{}[],:' * i, "ips": [1.5, None, True]}
        for i in range(40)
    ],
    "peers": {"n1": ["192.0.2.1", "192.0.2.2"], "n2": []},
    "peers_changed": False,
}


def read(text: bytes, size: int, streamed: str = "bindings") -> tuple[dict[str, Any], list[Any]]:
    items: list[Any] = []
    chunks = (text[i : i + size] for i in range(0, len(text), size))
    members = StreamedObject(chunks).members(lambda key: items.append if key == streamed else None)
    return members, items


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000, 1 << 16])
@pytest.mark.parametrize("indent", [None, 2])
def test_any_cut_gives_the_same_members_and_items(size: int, indent: int | None) -> None:
    text = json.dumps(ANSWER, indent=indent).encode()
    members, items = read(text, size)
    assert items == ANSWER["bindings"]
    assert members == {k: v for k, v in ANSWER.items() if k != "bindings"}


def test_an_empty_array_and_an_empty_object() -> None:
    assert read(b'{"bindings": [], "n": 1}', 3) == ({"n": 1}, [])
    assert read(b" { } ", 1) == ({}, [])


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"{",
        b'{"revision": 1',
        b'{"revision": 12',
        b'{"revision": 1}x',
        b'{"bindings": [1, 2',
        b'{"bindings": {"a": 1}}',
        b"[1]",
        b'{"a": 1,}',
        b'{"a" 1}',
        b"{1: 2}",
    ],
)
def test_a_malformed_text_is_refused(text: bytes) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        read(text, 2)
