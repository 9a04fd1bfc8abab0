"""What every side of a plug benchmark reports: seconds and ports per second each way, and
the CPU the rest of the machine used meanwhile."""

from __future__ import annotations

import os

from bench.common.process import Span


def rates(n: int, plug: float, unplug: float) -> dict[str, float]:
    """Plug and unplug seconds of ``n`` ports, and the same as ports per second."""
    return {"plug": plug, "plug rate": n / plug, "unplug": unplug, "unplug rate": n / unplug}


class Busy:
    """CPU the rest of the machine used while a side ran (other developers' tests)."""

    def __init__(self) -> None:
        self._span = Span(os.getpid())

    def others(self) -> float:
        """Cores used by everything but this process and its children."""
        return self._span.end().other_cores
