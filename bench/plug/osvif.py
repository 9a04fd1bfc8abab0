"""os-vif, the peer of the OVS plug benchmark: its own virtualenv (os-vif and ovsdbapp from
PyPI, installed here when missing) and one worker process per run, inside the host's
namespace, so that its memory and its privsep daemon's are its own."""

from __future__ import annotations

import json
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

VENV = Path("/var/cache/vifbind-bench/os-vif")
REQUIREMENTS = ("os-vif==5.3.0", "ovsdbapp==3.0.0")
WORKER = Path(__file__).with_name("osvif_worker.py")


def ensure_installed() -> dict[str, str]:
    """Create the virtualenv and install os-vif and ovsdbapp when they are missing; answer
    their versions."""
    python = VENV / "bin" / "python"
    probe = "import importlib.metadata as m; print(m.version('os-vif'), m.version('ovsdbapp'))"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False) \
        if python.exists() else None  # fmt: skip
    wanted = [r.split("==")[1] for r in REQUIREMENTS]
    if done is None or done.returncode != 0 or done.stdout.split() != wanted:
        venv.create(VENV, with_pip=True, clear=True)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *REQUIREMENTS],
            check=True,
        )
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    os_vif, ovsdbapp = done.stdout.split()
    return {"os-vif": os_vif, "ovsdbapp (os-vif's)": ovsdbapp}


@dataclass(frozen=True)
class OsVifRun:
    """One worker's timings (seconds) and peak RSS (MiB)."""

    plug: float
    unplug: float
    peak_rss_mib: float
    privsep_peak_rss_mib: float


class OsVifWorker:
    """A worker process plugging ``vifs`` (dicts: port_id, mac, devname) with os-vif."""

    def __init__(self, netns: str, job: dict[str, Any], log: Path) -> None:
        with log.open("a") as errors:
            self._process = subprocess.Popen(
                ["ip", "netns", "exec", netns, str(VENV / "bin" / "python"), str(WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self._log = log
        self._send(json.dumps(job))
        self._expect("ready")

    def phase(self, name: str) -> float:
        """Run the ``plug`` or ``unplug`` phase; its seconds as the worker timed them."""
        self._send(name)
        return float(self._expect(name))

    def finish(self) -> tuple[float, float]:
        """Peak RSS of the worker and of its privsep daemon (MiB), once both phases ran."""
        usage = self._read()
        self._process.wait(timeout=60)
        return float(usage["peak_rss_mib"]), float(usage["privsep_peak_rss_mib"])

    def kill(self) -> None:
        """Stop the worker if it still runs (a failed run)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def _send(self, line: str) -> None:
        stdin: IO[str] | None = self._process.stdin
        assert stdin is not None
        stdin.write(line + "\n")
        stdin.flush()

    def _read(self) -> dict[str, Any]:
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            self._process.wait(timeout=60)
            tail = "\n".join(self._log.read_text().splitlines()[-5:])
            raise RuntimeError(f"the os-vif worker stopped: {tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _expect(self, key: str) -> Any:
        answer = self._read()
        if key not in answer:
            raise RuntimeError(f"the os-vif worker answered {answer}, not {key}")
        return answer[key]
