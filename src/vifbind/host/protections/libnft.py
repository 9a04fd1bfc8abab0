"""nftables' own library (``libnftables``, what the ``nft`` tool is built on), driven in this
process: a command costs what nft does in the kernel, where an ``nft`` process cost some 5 to 8 ms
of start-up before its first request (15 ms with the namespace switch in front of it), twice for
a protected port's plug (the listing of the chains, then the batch).

A context's netlink socket belongs to the namespace of the thread that opens it, so each
``Libnft`` owns one thread, which enters the host's namespace once and runs every command
there, one at a time (a context is not thread-safe). The thread's context keeps nft's cache of
the ruleset between commands; nft checks the ruleset's generation before using it, so a change
made by anyone else is seen.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from vifbind.host import namespaces

LIBRARY = "libnftables.so.1"
_OUTPUT_JSON = 1 << 4
"""``NFT_CTX_OUTPUT_JSON``: with it set, nft 1.0.6 also reads its input as JSON."""
MESSAGE_MAX = 600
"""Characters of nft's error kept in an exception's message."""


@dataclass
class _Call:
    command: str
    json: bool
    dry_run: bool
    done: threading.Event = field(default_factory=threading.Event)
    output: str = ""
    error: BaseException | None = None


class Libnft:
    """nft commands run in ``netns`` (``None``: the agent's own) through ``libnftables``."""

    def __init__(self, netns: Path | None) -> None:
        self.netns = netns
        self._lock = threading.Lock()
        self._calls: queue.SimpleQueue[_Call | None] | None = None

    def run(self, command: str, *, json: bool = False, dry_run: bool = False) -> str:
        """Run ``command`` (nft's syntax, or a JSON document with ``json``); its output.

        ``dry_run`` checks the command without changing anything (``nft --check``). Raises
        ``OSError`` with nft's message when nft refuses it, when the library cannot be loaded
        or the namespace entered, and when it takes longer than ``RUN_TIMEOUT``."""
        call = _Call(command, json, dry_run)
        self._worker().put(call)
        if not call.done.wait(namespaces.RUN_TIMEOUT):
            # The thread is stuck inside nft: the next command starts a thread of its own, and
            # this one ends if nft ever returns.
            self.close()
            raise OSError(f"nft did not finish within {namespaces.RUN_TIMEOUT:g} s")
        if call.error is not None:
            raise call.error
        return call.output

    def _worker(self) -> queue.SimpleQueue[_Call | None]:
        with self._lock:
            if self._calls is None:
                self._calls = queue.SimpleQueue()
                thread = threading.Thread(
                    target=_serve, args=(self.netns, self._calls), name="vifbind-nft", daemon=True
                )
                thread.start()
                weakref.finalize(self, self._calls.put, None)
            return self._calls

    def close(self) -> None:
        """End the thread and free its context (a later command starts them again)."""
        with self._lock:
            if self._calls is not None:
                self._calls.put(None)
                self._calls = None


def _serve(netns: Path | None, calls: queue.SimpleQueue[_Call | None]) -> None:
    """The thread: enter ``netns``, open a context, run calls until told to stop."""
    try:
        if netns is not None:
            namespaces.enter(netns)
        nft = _Context()
    except OSError as exc:
        _refuse_all(calls, exc)
        return
    try:
        while (call := calls.get()) is not None:
            try:
                call.output = nft.run(call.command, call.json, call.dry_run)
            except OSError as exc:
                call.error = exc
            call.done.set()
    finally:
        nft.free()


def _refuse_all(calls: queue.SimpleQueue[_Call | None], exc: OSError) -> None:
    while (call := calls.get()) is not None:
        call.error = exc
        call.done.set()


class _Context:
    """One ``struct nft_ctx`` with its output and errors kept in buffers."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL(LIBRARY)
        except OSError as exc:
            raise OSError(f"nftables' library {LIBRARY} cannot be loaded: {exc}") from None
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
        self._lib = lib
        self._ctx = lib.nft_ctx_new(0)
        if not self._ctx:
            raise OSError("nft_ctx_new failed")
        lib.nft_ctx_buffer_output(self._ctx)
        lib.nft_ctx_buffer_error(self._ctx)

    def run(self, command: str, json: bool, dry_run: bool) -> str:
        lib, ctx = self._lib, self._ctx
        lib.nft_ctx_output_set_flags(ctx, _OUTPUT_JSON if json else 0)
        lib.nft_ctx_set_dry_run(ctx, dry_run)
        failed = lib.nft_run_cmd_from_buffer(ctx, command.encode())
        # Reading a buffer empties it, so that nothing of this command is left for the next.
        output = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode()
        errors = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode()
        if failed:
            raise OSError(f"nft failed: {_message(errors)}")
        return output

    def free(self) -> None:
        self._lib.nft_ctx_free(self._ctx)


def _message(errors: str) -> str:
    """nft's own words: its ``Error:`` lines, without the echo of the command (a batch's JSON
    can be megabytes) and the caret line under it."""
    lines = [line.strip() for line in errors.splitlines() if line.strip()]
    said = [line for line in lines if "Error:" in line] or lines[-1:]
    return " / ".join(said)[:MESSAGE_MAX] or "no message"
