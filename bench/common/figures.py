"""Figures measured over repetitions, and their summary (median, p95, min, max)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MIN_REPETITIONS = 3
"""Fewer repetitions than this are a smoke run (``--quick``), not a measurement."""


@dataclass(frozen=True)
class Summary:
    """One figure over its repetitions."""

    median: float
    p95: float
    min: float
    max: float
    n: int


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated between ranks."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: list[float]) -> Summary:
    """Median, p95, min and max of ``values``."""
    return Summary(
        median=percentile(values, 50),
        p95=percentile(values, 95),
        min=min(values),
        max=max(values),
        n=len(values),
    )


@dataclass
class Figure:
    """A named quantity (``unit`` says how it reads) with one value per repetition;
    ``digits`` after the decimal point are shown."""

    name: str
    unit: str
    digits: int = 0
    values: list[float] = field(default_factory=list)

    def summary(self) -> Summary:
        """The summary of the values so far."""
        return summarize(self.values)

    def show(self, value: float) -> str:
        """``value`` as people read this figure."""
        return f"{value:,.{self.digits}f}"


def add(figures: list[Figure], measured: Mapping[str, float]) -> None:
    """Append one repetition's value of every figure, by name, from ``measured``."""
    for figure in figures:
        figure.values.append(measured[figure.name])


def repeat(
    times: int, figures: list[Figure], once: Callable[[int], Mapping[str, float]]
) -> list[Figure]:
    """Call ``once(i)`` for ``i`` in ``range(times)``; each call answers a value for every
    figure, by name. Returns ``figures``. (Variants measured side by side interleave their
    repetitions with ``add`` instead, so that they share the machine's moods.)"""
    for i in range(times):
        add(figures, once(i))
    return figures
