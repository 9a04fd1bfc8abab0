"""Optimistic concurrency: ``If-Match`` carries the revision a client last saw."""

from __future__ import annotations

from vifbind.errors import Conflict


def check_revision(if_match: int | None, current: int, what: str) -> None:
    """Raise ``Conflict`` when the client's revision is not the stored one."""
    if if_match is not None and if_match != current:
        raise Conflict(
            f"{what} is at revision {current}, not {if_match}: read it again and retry",
            field="If-Match",
        )
