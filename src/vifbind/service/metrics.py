"""Prometheus metrics of one service process: request latency, bindings by status and backend,
watch clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class BindingCounts(Collector):
    """Bindings stored, by status and backend, read from the database at scrape time."""

    def __init__(self, count: Callable[[], list[tuple[str, str, int]]]) -> None:
        self._count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "vifbind_bindings",
            "Bindings stored, by status and backend",
            labels=["status", "backend"],
        )
        for status, backend, n in self._count():
            family.add_metric([status, backend], n)
        yield family


class Metrics:
    """The metrics of one app instance, in a registry of its own."""

    def __init__(self, count_bindings: Callable[[], list[tuple[str, str, int]]]) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "vifbind_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "vifbind_binding_decisions",
            "Binding decisions made, by outcome and backend",
            ["status", "backend"],
            registry=self.registry,
        )
        self.watch_clients = Gauge(
            "vifbind_watch_clients", "Long-poll requests waiting now", registry=self.registry
        )
        self.registry.register(BindingCounts(count_bindings))
