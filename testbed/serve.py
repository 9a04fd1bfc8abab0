"""``vifbind serve`` as a separate process on a free port."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from testbed.tcp import free_port

VIFBIND = str(Path(sys.executable).with_name("vifbind"))
"""The installed console script next to this interpreter, whatever PATH says."""


@dataclass
class ServeProcess:
    """A running ``vifbind serve``; its output goes to ``log``."""

    process: subprocess.Popen[str]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        """The service's process id."""
        return self.process.pid

    def stop(self, sig: int = 15) -> None:
        """Stop it with ``sig`` (killed after 20 s)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_serve(state_dir: Path, db: str | None, *extra: str) -> ServeProcess:
    """Start ``vifbind serve`` (with ``extra`` options) on a free port and wait until it
    answers /healthz. Its log is written next to ``state_dir``."""
    port = free_port()
    log = state_dir.parent / f"serve-{port}.log"
    args = [VIFBIND, "serve", "--listen", f"127.0.0.1:{port}", "--state-dir", str(state_dir)]
    if db is not None:
        args += ["--db", db]
    with log.open("w") as handle:
        process = subprocess.Popen(
            [*args, *extra], stdout=handle, stderr=subprocess.STDOUT, text=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"vifbind serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return ServeProcess(process=process, url=url, log=log)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"vifbind serve did not answer: {log.read_text()}")
        time.sleep(0.05)
