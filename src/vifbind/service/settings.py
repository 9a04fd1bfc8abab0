"""How one service process is configured (``vifbind serve`` options)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_LISTEN = "127.0.0.1:8740"
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 (a file name)

DEFAULT_THREADS = {"sqlite": 2, "postgresql": 8}
"""Threads that run requests' database work, by dialect. Python runs one thread at a time, so
threads beyond a few hand the GIL back and forth instead of working: at 32 clients, 40 threads
(the thread pool's own default) made 30 % fewer binding decisions a second on SQLite than one
or two, and had 3-4 times their p99 on PostgreSQL (``python -m bench.service --threads
1,2,4,8,40``, BENCHMARKS.md). One thread does best on SQLite, whose writers queue anyway; two
keep one slow request from holding up all others. PostgreSQL keeps more to overlap its round
trips to the server."""


def default_state_dir() -> Path:
    """``/var/lib/vifbind`` for root, else ``~/.local/share/vifbind``."""
    if os.geteuid() == 0:
        return Path("/var/lib/vifbind")
    return Path.home() / ".local" / "share" / "vifbind"


class ServiceSettings(BaseModel):
    """Everything a service process needs to know; the same for every replica."""

    model_config = ConfigDict(frozen=True)

    state_dir: Path = Field(default_factory=default_state_dir)
    db_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in the state directory."
    )
    backends: tuple[str, ...] | None = Field(
        default=None, description="Enabled backends in order; default: all whose needs are met."
    )
    ovn_nb: str | None = Field(default=None, description="OVN northbound connection.")
    report_max_age: float = Field(
        default=120.0, gt=0, description="Seconds after which a host report is too old to bind."
    )
    mac_prefix: str = Field(default="fa:16:3e", pattern=r"^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$")
    max_wait: float = Field(default=60.0, gt=0, description="Longest long-poll a client may ask.")
    threads: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="Threads that run requests' database work; default by database "
        "(DEFAULT_THREADS).",
    )

    def request_threads(self, dialect: str) -> int:
        """How many threads run requests' database work on ``dialect``."""
        return self.threads or DEFAULT_THREADS.get(dialect, DEFAULT_THREADS["postgresql"])

    @property
    def database_url(self) -> str:
        """The configured URL, or the embedded SQLite database in the state directory."""
        return self.db_url or f"sqlite:///{self.state_dir / 'vifbind.db'}"
