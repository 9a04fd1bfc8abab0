"""The host agent: report this host, watch its bindings, make the host match, say so.

One loop, one thread: long-poll the service for this host's bindings; a complete answer (the
first one, or after the service lost track) reconciles the host to exactly those bindings,
removing orphans; an incremental one plugs what changed, in one batch, and unplugs what went
away. Every port's outcome is reported to the service (plugged, or why not) once per decision.
The host's facts are read again every few seconds (not before every watch request: reading them
costs OVSDB reads and an ``nft`` process, and a binding arriving meanwhile would wait for it);
the report is re-sent when they change and as a heartbeat; a full reconcile runs
periodically to repair drift. When the service cannot be reached, the host is left as it is —
never unplugged for the service's sake — and the agent retries with a growing delay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from vifbind.client import Client
from vifbind.contract import Binding, HostReport
from vifbind.contract.api import PLUG_ERROR_MAX, HostBindings, PortPlugged
from vifbind.errors import Conflict, NotFound, ServiceUnavailable
from vifbind.host.held import HeldBinding
from vifbind.host.host import Host
from vifbind.host.results import Outcome, PortResult

log = logging.getLogger(__name__)

REPORTS_PER_REQUEST = 200
"""Plugged reports in one request: even with every report carrying the longest error the
contract takes, the body stays under the service's 1 MiB limit."""


@dataclass(frozen=True)
class AgentSettings:
    """How often the agent talks to the service and repairs the host."""

    heartbeat: float = 30.0
    """Seconds between two reports at the most (keep it well under the service's report age)."""
    facts_every: float = 5.0
    """Seconds between two readings of the host's facts: how late a change reaches the service."""
    reconcile_every: float = 60.0
    """Seconds between two full reconciles (repair drift, remove orphans)."""
    watch_wait: float = 25.0
    """Seconds a watch request may be held by the service."""
    retry_max: float = 10.0
    """Longest wait between two attempts to reach the service."""


@dataclass
class Agent:
    """The agent of one host: ``run()`` until stopped, or ``step()`` once (tests)."""

    host: Host
    client: Client
    settings: AgentSettings = field(default_factory=AgentSettings)
    clock: Callable[[], float] = time.monotonic
    desired: dict[str, HeldBinding] = field(default_factory=dict)
    peers: dict[str, list[str]] = field(default_factory=dict)
    revision: int = 0
    _reported: HostReport | None = None
    _reported_at: float = float("-inf")
    _facts_at: float = float("-inf")
    _reconciled_at: float = float("-inf")
    _outcomes: dict[str, tuple[bytes, Outcome, str | None]] = field(default_factory=dict)
    batch_reports: bool = True
    """Whether the service takes several plugged reports in one request (learnt: an older one
    answers 404)."""
    waiting: bool = False
    """True while the agent only waits for the service: the one safe moment to interrupt it."""

    @property
    def name(self) -> str:
        """The host this agent serves."""
        return self.host.config.host

    def run(self, stopping: Callable[[], bool] = lambda: False) -> None:
        """Loop until ``stopping()``; service outages are waited out, never fatal."""
        delay = 0.5
        while not stopping():
            try:
                self.step()
                delay = 0.5
            except ServiceUnavailable as exc:
                log.warning("%s; retrying in %.1f s", exc, delay)
                self.waiting = True
                try:
                    time.sleep(delay)
                finally:
                    self.waiting = False
                delay = min(delay * 2, self.settings.retry_max)

    @contextmanager
    def in_thread(self) -> Iterator[Agent]:
        """Run in a thread of this process until the block ends (the demo, tests)."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run, args=(stop.is_set,), name="vifbind-agent", daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=20)

    def step(self) -> None:
        """Report if due, wait for changes (or the next due task), act on them."""
        now = self.clock()
        self._report(now)
        due = min(
            self._reported_at + self.settings.heartbeat,
            self._facts_at + self.settings.facts_every,
            self._reconciled_at + self.settings.reconcile_every,
        )
        wait = max(0.0, min(self.settings.watch_wait, due - now))
        self.waiting = True
        try:
            # Each binding is kept compact as it is read: a complete answer holds thousands.
            answer, received = self.client.watch_host_each(
                self.name, since=self.revision, wait=wait, keep=_received
            )
        finally:
            self.waiting = False
        if answer.complete:
            self._reconcile_to(answer, received)
        else:
            self._apply_changes(answer, received)
        self.revision = answer.revision
        if self.clock() - self._reconciled_at >= self.settings.reconcile_every:
            self._reconcile()

    # -- the host's report ----------------------------------------------------------------

    def _report(self, now: float) -> None:
        heartbeat = now - self._reported_at >= self.settings.heartbeat
        if not heartbeat and now - self._facts_at < self.settings.facts_every:
            return
        report = self.host.facts()
        self._facts_at = now
        if report != self._reported or heartbeat:
            self.client.report_host(report)
            if report != self._reported:
                log.info("reported %s: %s", self.name, _summary(report))
            self._reported, self._reported_at = report, now

    # -- converging -----------------------------------------------------------------------

    def _reconcile_to(self, answer: HostBindings, received: list[HeldBinding | str]) -> None:
        """A complete answer: the host must hold exactly these bindings."""
        self.desired = {b.port_id: b for b in received if isinstance(b, HeldBinding)}
        self.peers = dict(answer.peers)
        self._outcomes = {p: o for p, o in self._outcomes.items() if p in self.desired}
        self._reconcile()

    def _reconcile(self) -> None:
        started = time.perf_counter()
        report = self.host.reconcile(list(self.desired.values()), self.peers)
        self._reconciled_at = self.clock()
        if report.drift or report.removed:
            log.info(
                "reconciled %d ports in %.0f ms: %d drifted, removed %s",
                len(self.desired),
                1000 * (time.perf_counter() - started),
                len(report.drift),
                ", ".join(report.removed) or "nothing",
            )
        self._tell(report.results)

    def _apply_changes(self, answer: HostBindings, received: list[HeldBinding | str]) -> None:
        """An incremental answer: plug what changed (one batch), unplug what went away (one
        batch), and redo the ports of networks whose tunnel peers moved."""
        changed: dict[str, HeldBinding] = {}
        gone: list[str] = []
        for binding in received:
            if not isinstance(binding, HeldBinding):
                if self.desired.pop(binding, None) is not None:
                    gone.append(binding)
                continue
            known = self.desired.get(binding.port_id)
            self.desired[binding.port_id] = binding
            if known is None or known.content != binding.content:
                changed[binding.port_id] = binding
            else:
                self._retell(binding)
        moved = {
            n
            for n in set(answer.peers) | set(self.peers)
            if answer.peers.get(n) != self.peers.get(n)
        }
        self.peers = dict(answer.peers)
        for binding in self.desired.values():
            if binding.network_id in moved:
                changed.setdefault(binding.port_id, binding)
        if changed:
            started = time.perf_counter()
            results = self.host.apply(list(changed.values()), self.peers)
            log.info(
                "applied %d ports in %.0f ms", len(changed), 1000 * (time.perf_counter() - started)
            )
            self._tell(results)
        if gone:
            started = time.perf_counter()
            for result in self.host.unplug_many(gone):
                self._outcomes.pop(result.port_id, None)
                if result.outcome == "failed":
                    log.warning("unplug of %s failed: %s", result.port_id, result.reason)
            log.info(
                "unplugged %d ports in %.0f ms", len(gone), 1000 * (time.perf_counter() - started)
            )

    # -- telling the service ----------------------------------------------------------------

    def _retell(self, binding: HeldBinding) -> None:
        """Say again what the host already did for an unchanged decision when the service's
        record disagrees (the binding was removed and made again while nothing changed here)."""
        known = self._outcomes.get(binding.port_id)
        if known is None or known[0] != binding.content:
            return
        _, outcome, reason = known
        if binding.plugged != (outcome == "plugged") or (
            outcome != "plugged" and binding.plug_error != reason
        ):
            self._outcomes.pop(binding.port_id)
            self._tell([PortResult(port_id=binding.port_id, outcome=outcome, reason=reason)])

    def _tell(self, results: Iterable[PortResult]) -> None:
        """Report each port's outcome once per decision (and again when it changes); the
        reports of one batch go in one request."""
        pending: list[tuple[PortPlugged, tuple[bytes, Outcome, str | None], PortResult]] = []
        for result in results:
            binding = self.desired.get(result.port_id)
            if binding is None or result.outcome == "unplugged":
                continue
            key = (binding.content, result.outcome, result.reason)
            plugged = result.outcome == "plugged"
            if binding.plugged == plugged and (
                plugged
                or (binding.plug_error, binding.plug_retrying)
                == (result.reason, result.outcome == "failed")
            ):
                # The service already says so (a restarted agent re-reads thousands of
                # plugged ports): nothing to send.
                self._outcomes[result.port_id] = key
                continue
            if self._outcomes.get(result.port_id) == key and binding.plugged == plugged:
                continue
            report = PortPlugged(
                port_id=result.port_id,
                plugged=plugged,
                revision=binding.revision,
                error=None if plugged else _cut(result.reason),
                # A refusal stands until the binding changes; a failure is retried.
                retrying=result.outcome == "failed",
            )
            pending.append((report, key, result))
        refused = self._send([report for report, _, _ in pending])
        for report, said, result in pending:
            if report.port_id in refused:
                # Decided again or removed meanwhile: the watch brings the news.
                log.info("report on %s skipped: %s", report.port_id, refused[report.port_id])
                continue
            self._outcomes[report.port_id] = said
            if not report.plugged:
                log.warning(
                    "port %s not plugged (%s): %s", report.port_id, result.outcome, result.reason
                )

    def _send(self, reports: list[PortPlugged]) -> dict[str, str]:
        """Send ``reports``: several in one request when the service takes that, else one by
        one. Returns why the service refused some, by port (the others are recorded)."""
        if len(reports) > 1 and self.batch_reports:
            try:
                outcomes = []
                for start in range(0, len(reports), REPORTS_PER_REQUEST):
                    chunk = reports[start : start + REPORTS_PER_REQUEST]
                    outcomes += self.client.report_plugged_many(self.name, chunk)
                return {o.port_id: o.error or "refused" for o in outcomes if not o.recorded}
            except NotFound:
                # A service older than the batched request (upgraded after its hosts): it is
                # told port by port from now on.
                log.info("the service takes plugged reports one port at a time")
                self.batch_reports = False
        refused = {}
        for report in reports:
            try:
                self.client.report_plugged(
                    report.port_id,
                    self.name,
                    plugged=report.plugged,
                    revision=report.revision,
                    error=report.error,
                    retrying=report.retrying,
                )
            except (Conflict, NotFound) as exc:
                refused[report.port_id] = str(exc)
        return refused


def _cut(reason: str | None) -> str | None:
    """A reason as long as the contract takes it (an OVSDB error may list a whole batch)."""
    if reason is None or len(reason) <= PLUG_ERROR_MAX:
        return reason
    return reason[: PLUG_ERROR_MAX - 1] + "…"


def _summary(report: HostReport) -> str:
    types = ", ".join(f"{t} {'/'.join(v)}" for t, v in sorted(report.vif_types.items()))
    return f"{report.hypervisor}, vif types {types or 'none'}"


def desired_from(bindings: Iterable[Binding]) -> dict[str, HeldBinding]:
    """The bindings a host must hold, by port: those bound to it, active or not (a migration's
    destination is plugged ahead of its activation), as the agent keeps them."""
    return {b.port_id: HeldBinding.of(b) for b in bindings if b.status == "bound"}


def _received(binding: Binding) -> HeldBinding | str:
    """A binding of a watch answer as the agent keeps it: a bound one held compactly, any
    other only as its port id (the host must not hold it)."""
    return HeldBinding.of(binding) if binding.status == "bound" else binding.port_id
