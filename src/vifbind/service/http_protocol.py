"""The HTTP/1.1 protocol the service is served with: uvicorn's httptools protocol with the
request head bounded.

httptools parses in C, h11 in Python: on h11 the HTTP layer was a measurable share of a
binding decision's CPU (BENCHMARKS.md, "Service: what limits it"). But httptools buffers a
header of any size until its line ends (300 MiB sent on one connection raised the process's
memory by 370 MiB), so the bytes received while a request's head is incomplete are counted
here, and past ``MAX_HEAD_BYTES`` the request is answered 400 and the connection closed
before the parser sees them. A request pipelined behind another starts uncounted within the
read that holds its start, so its head may pass the limit by at most one read of the
transport.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers together."""


class HeadLimitedHttpTools(HttpToolsProtocol):
    """``HttpToolsProtocol`` answering 400 to a request head over ``MAX_HEAD_BYTES``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True

    def data_received(self, data: bytes) -> None:
        """Parse the head at most ``MAX_HEAD_BYTES`` at a time: a head not complete by then
        is refused (and whatever else arrives before the close is dropped unparsed)."""
        while self._in_head and data:
            room = MAX_HEAD_BYTES - self._head_bytes
            if room <= 0:
                if not self.transport.is_closing():
                    self.send_400_response(f"request head larger than {MAX_HEAD_BYTES} bytes")
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)
            if self.transport.is_closing():
                return
        if data:
            super().data_received(data)

    def on_message_begin(self) -> None:
        """A new request: its head starts."""
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        """The head ended: the rest is body, bounded elsewhere."""
        self._in_head = False
        super().on_headers_complete()
