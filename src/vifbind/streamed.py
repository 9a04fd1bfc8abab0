"""A JSON object read from a stream of bytes, one of its arrays an item at a time.

A host's watch answer holds thousands of bindings (megabytes of JSON): parsed whole, the text,
its decoded objects and their models all exist at once. Read with ``members``, only the part of
the text not yet read and the item being handed out do. Each value is still decoded by the
standard library's JSON decoder (in C); this module only finds where values start and end.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_KEEP = 1 << 16
"""Characters already read that are kept before the buffer is compacted."""


class StreamedObject:
    """The members of one JSON object whose text arrives in ``chunks``."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._text = ""
        self._pos = 0
        self._ended = False

    def members(self, streamed: Callable[[str], Callable[[Any], None] | None]) -> dict[str, Any]:
        """Every member of the object: those for which ``streamed(key)`` gives a function must
        be arrays, whose items are passed to it one by one as they are read (and left out of
        the result); the others are decoded whole."""
        found: dict[str, Any] = {}
        self._expect("{")
        if self._peek() == "}":
            self._pos += 1
            return self._finish(found)
        while True:
            key = self._value()
            if not isinstance(key, str):
                raise ValueError("a JSON object's key must be a string")
            self._expect(":")
            each = streamed(key)
            if each is None:
                found[key] = self._value()
            else:
                for item in self._items():
                    each(item)
            if self._expect(",}") == "}":
                return self._finish(found)

    def _items(self) -> Iterator[Any]:
        self._expect("[")
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._value()
            if self._expect(",]") == "]":
                return

    def _finish(self, found: dict[str, Any]) -> dict[str, Any]:
        if self._peek(end_ok=True) != "":
            raise ValueError("text after the JSON object")
        return found

    def _fill(self) -> bool:
        """Read the next chunk; ``False`` at the end of the stream."""
        if self._ended:
            return False
        if self._pos > _KEEP:
            self._text, self._pos = self._text[self._pos :], 0
        for chunk in self._chunks:
            if chunk:
                self._text += self._utf8.decode(chunk)
                return True
        self._text += self._utf8.decode(b"", final=True)
        self._ended = True
        return False

    def _peek(self, *, end_ok: bool = False) -> str:
        """The next character that is not white space (consumed: nothing)."""
        while True:
            self._pos = _SPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._text):
                return self._text[self._pos]
            if not self._fill():
                if end_ok:
                    return ""
                raise ValueError("the JSON text ends too early")

    def _expect(self, allowed: str) -> str:
        found = self._peek()
        if found not in allowed:
            raise ValueError(f"expected one of {allowed!r} at character {self._pos}, got {found!r}")
        self._pos += 1
        return found

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._pos)
            except json.JSONDecodeError:
                if self._fill():
                    continue
                raise
            # A value reaching the end of what was read may go on in the next chunk (a number
            # cut in two); in a well-formed object, a ',' or '}' always follows a value.
            if end < len(self._text) or not self._fill():
                self._pos = end
                return value
