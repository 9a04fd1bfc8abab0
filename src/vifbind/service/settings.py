"""How one service process is configured (``vifbind serve`` options)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_LISTEN = "127.0.0.1:8740"
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 (a file name)


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

    @property
    def database_url(self) -> str:
        """The configured URL, or the embedded SQLite database in the state directory."""
        return self.db_url or f"sqlite:///{self.state_dir / 'vifbind.db'}"
