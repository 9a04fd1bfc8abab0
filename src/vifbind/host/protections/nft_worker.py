"""The agent's nft worker: a small process that runs nft commands through nftables' own library
(``libnftables``, what the ``nft`` tool is built on), one after the other, for as long as the
agent lives.

It is run as a script (standard library only, nothing of vifbind imported: some 10 MiB), inside
the host's namespace, and reads requests on standard input: each a 4-byte big-endian length,
then a byte of flags (``JSON``, ``DRY_RUN``) and the command's text. It answers each in the same
framing: ``OK`` or ``ERROR``, then nft's output or its error. It ends when its input does.

Why a process of its own: nft reads the host's ruleset into memory for each command — tens of
MiB with thousands of chains — and that memory stays with the process that ran it.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from typing import IO, Any

LIBRARY = "libnftables.so.1"
OUTPUT_JSON = 1 << 4
"""``NFT_CTX_OUTPUT_JSON``: with it set, nft 1.0.6 also reads its input as JSON."""
MESSAGE_MAX = 600
"""Characters of nft's error kept in an answer."""
FRAME = struct.Struct(">I")
JSON, DRY_RUN = 1, 2
"""A request's flags: the command is a JSON document; check it without changing anything."""
OK, ERROR = b"O", b"E"
"""The first byte of an answer."""


def _library() -> Any:
    lib = ctypes.CDLL(LIBRARY)
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    for name in ("nft_ctx_free", "nft_ctx_buffer_output", "nft_ctx_buffer_error"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = ctypes.c_char_p
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_ctx_set_dry_run.argtypes = [ctypes.c_void_p, ctypes.c_bool]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return lib


def run(lib: Any, command: bytes, flags: int) -> bytes:
    """One command in a context of its own (made and freed in some 20 µs), so that its copy
    of the ruleset is freed with it; the answer to send."""
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        return ERROR + b"nft_ctx_new failed"
    try:
        lib.nft_ctx_buffer_output(ctx)
        lib.nft_ctx_buffer_error(ctx)
        lib.nft_ctx_output_set_flags(ctx, OUTPUT_JSON if flags & JSON else 0)
        lib.nft_ctx_set_dry_run(ctx, bool(flags & DRY_RUN))
        failed = lib.nft_run_cmd_from_buffer(ctx, command)
        output = lib.nft_ctx_get_output_buffer(ctx) or b""
        errors = lib.nft_ctx_get_error_buffer(ctx) or b""
    finally:
        lib.nft_ctx_free(ctx)
    if failed:
        return ERROR + f"nft failed: {message(errors.decode(errors='replace'))}".encode()
    return OK + output


def message(errors: str) -> str:
    """nft's own words: its ``Error:`` lines, without the echo of the command (a batch's JSON
    can be megabytes) and the caret line under it."""
    lines = [line.strip() for line in errors.splitlines() if line.strip()]
    said = [line for line in lines if "Error:" in line] or lines[-1:]
    return " / ".join(said)[:MESSAGE_MAX] or "no message"


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One framed message, or ``None`` at the end of the stream."""
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    (size,) = FRAME.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream: IO[bytes], body: bytes) -> None:
    """One framed message, flushed."""
    stream.write(FRAME.pack(len(body)) + body)
    stream.flush()


def main() -> None:
    """Serve requests until standard input ends."""
    stdin: IO[bytes] = sys.stdin.buffer
    stdout: IO[bytes] = sys.stdout.buffer
    try:
        lib = _library()
    except OSError as exc:
        lib, refusal = None, f"nftables' library {LIBRARY} cannot be loaded: {exc}".encode()
    while (request := read_frame(stdin)) is not None:
        answer = ERROR + refusal if lib is None else run(lib, request[1:], request[0])
        write_frame(stdout, answer)


if __name__ == "__main__":
    main()
