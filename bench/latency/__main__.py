"""``python -m bench.latency``: bind → plugged, one port at a time, as a user sees it — from
``POST /v1/ports/{id}/bindings`` to ``wait_plugged`` returning — with plain Open vSwitch (the
agent plugs and reports plugged) and with OVN (the service writes the logical switch port,
ovn-controller claims the agent's device, ``up`` marks the binding plugged). A real ``vifbind
serve`` and a real ``vifbind agent`` process; the floor in the same run on the same OVS: one
raw OVSDB add-port waiting for vswitchd (plain OVS: of a tap, or of a veth's end for the hybrid
plug), the same with ``iface-id`` until northbound reads ``up=true`` (OVN)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bench.common.cli import Output, finish, require_repetitions, run_command
from bench.common.compute import HOST, AgentProcess, Compute, compute_host
from bench.common.environment import program_version
from bench.common.figures import MIN_REPETITIONS, Figure, add, percentile
from bench.common.process import Span
from bench.common.profile import sampled, summary
from bench.common.report import Report, Row, Target
from bench.latency import floor
from bench.latency.metrics import route_seconds
from vifbind.client import Client

TARGET_P50_MS = {"ovs": 30.0, "ovn": 60.0}
BIND_ROUTE = ("POST", "/v1/ports/{port_id}/bindings")
PLUGGED_ROUTE = ("PUT", "/v1/ports/{port_id}/bindings/{host}/plugged")


@dataclass(frozen=True)
class Variant:
    """One way of binding: the datapath and whether the port asks for port security."""

    key: str  # its name on the command line
    datapath: str  # "ovs" or "ovn"
    port_security: bool

    @property
    def labels(self) -> dict[str, str]:
        """The variant's row labels."""
        if self.datapath == "ovn":
            port = "port security (OVN enforces)" if self.port_security else "no port security"
        else:
            port = (
                "port security (hybrid + nft)" if self.port_security else "no port security (tap)"
            )
        return {"datapath": self.datapath, "port": port}


VARIANTS = {
    "ovs": Variant("ovs", "ovs", port_security=True),
    "ovs-tap": Variant("ovs-tap", "ovs", port_security=False),
    "ovn": Variant("ovn", "ovn", port_security=True),
}


def main(
    variants: Annotated[str, typer.Option(help=f"Variants, in order: {', '.join(VARIANTS)}.")] = (
        "ovs,ovs-tap,ovn"
    ),
    ports: Annotated[int, typer.Option(help="Ports bound one at a time per repetition.")] = 200,
    repetitions: Annotated[int, typer.Option(help="Repetitions per variant.")] = MIN_REPETITIONS,
    quick: Annotated[
        bool,
        typer.Option(help="Smoke run: 1 repetition of 10 ports; recorded only with --output."),
    ] = False,
    output: Output = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Also sample the agent and the service with py-spy during one extra, unrecorded "
            "repetition per variant; collapsed stacks go to this directory."
        ),
    ] = None,
) -> None:
    """Measure bind → plugged latency and append the figures to BENCHMARKS.md."""
    chosen = [v.strip() for v in variants.split(",") if v.strip()]
    unknown = set(chosen) - set(VARIANTS)
    if unknown or not chosen:
        raise typer.BadParameter(
            f"{variants!r}: some of {', '.join(VARIANTS)}", param_hint="--variants"
        )
    count = 10 if quick else ports
    times = 1 if quick else repetitions
    require_repetitions(quick, times)
    report = Report(
        benchmark="latency",
        quick=quick,
        parameters={
            "ports": f"{count} bound one at a time",
            "repetitions": str(times),
            "processes": "vifbind serve (SQLite) + vifbind agent",
        },
    )
    report.extra_versions["Open vSwitch"] = program_version("ovs-vswitchd", "--version")
    report.extra_versions["OVN"] = program_version("ovn-northd", "--version")
    try:
        for name in chosen:
            measure_variant(VARIANTS[name], count, times, report, profile)
    except RuntimeError as exc:
        typer.echo(f"bench.latency: {exc}", err=True)
        raise typer.Exit(1) from None
    judge(report, times)
    finish(report, quick, output)


def _figures() -> list[Figure]:
    return [
        Figure("bind → plugged p50", "ms", digits=1),
        Figure("bind → plugged p95", "ms", digits=1),
        Figure("bind → plugged min", "ms", digits=1),
        Figure("bind → plugged max", "ms", digits=1),
        Figure("bind request p50", "ms", digits=1),
        Figure("service bind (server) mean", "ms", digits=1),
        Figure("watch wake-up p50", "ms", digits=1),
        Figure("Host.apply p50", "ms", digits=1),
        Figure("apply → plugged seen p50", "ms", digits=1),
        Figure("plugged report (server) mean", "ms", digits=1),
        Figure("agent CPU per port", "ms", digits=1),
        Figure("agent peak RSS", "MiB"),
        Figure("service peak RSS", "MiB"),
        Figure("rest of the machine's CPU", "cores", digits=2),
    ]


def _floor_figures() -> list[Figure]:
    return [
        Figure("add-port → ofport p50", "ms", digits=1),
        Figure("add-port → ofport p95", "ms", digits=1),
        Figure("add-port → ofport min", "ms", digits=1),
        Figure("add-port → ofport max", "ms", digits=1),
    ]


def measure_variant(
    variant: Variant, count: int, times: int, report: Report, profile: Path | None
) -> None:
    """``times`` repetitions, each on a fresh host: the floor first on the clean bridge, then
    vifbind."""
    ours = Row(labels={"side": "vifbind", **variant.labels}, figures=_figures())
    what = "add-port → up=true" if variant.datapath == "ovn" else "add-port → ofport"
    bottom = Row(
        labels={"side": f"floor: raw {what}", **variant.labels},
        figures=[Figure(f.name.replace("add-port → ofport", what), f.unit, f.digits)
                 for f in _floor_figures()],
    )  # fmt: skip
    for repetition in range(times + (1 if profile is not None else 0)):
        profiling = profile if repetition == times else None
        with compute_host(ovn=variant.datapath == "ovn", backends=variant.datapath) as compute:
            hybrid = variant.datapath == "ovs" and variant.port_security
            raw = floor.measure(compute, count, "veth" if hybrid else "tap")
            agent = compute.start_agent()
            try:
                measured = bind_ports(compute, agent, variant, count, profiling, report)
            finally:
                agent.stop()
        if profiling is not None:
            continue
        add(ours.figures, measured)
        add(
            bottom.figures,
            {f.name: v for f, v in zip(bottom.figures, _spread(raw), strict=True)},
        )
    report.rows += [ours, bottom]


def _spread(values: list[float]) -> list[float]:
    return [percentile(values, 50), percentile(values, 95), min(values), max(values)]


def bind_ports(
    compute: Compute,
    agent: AgentProcess,
    variant: Variant,
    count: int,
    profile: Path | None,
    report: Report,
) -> dict[str, float]:
    """Bind ``count`` ports one after the other, each until the client sees it plugged."""
    api = compute.api
    segment = {"type": "geneve", "segmentation_id": 1001}
    if variant.datapath == "ovs":
        segment = {"type": "vxlan", "segmentation_id": 2001}
    network = api.create_network([segment], name="latency")
    ports = [
        api.create_port(
            network.id,
            fixed_ips=[f"10.{i // 250}.{i % 250}.10"],
            port_security=variant.port_security,
        ).id
        for i in range(count)
    ]
    before = route_seconds(compute)
    span = Span(agent.pid)
    service_span = Span(compute.service.pid)
    spans: list[tuple[float, float, float]] = []  # wall-clock bind start, bind answer, plugged
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        with sampled(agent.pid, profile / f"latency-{variant.key}-agent.txt", waits=True):
            _bind_each(api, ports, spans)
        _profile_note(profile / f"latency-{variant.key}-agent.txt", variant, report)
        return {}
    _bind_each(api, ports, spans)
    used = span.end()
    service_used = service_span.end()
    after = route_seconds(compute)
    applies = agent.lines("vifbind.host.agent", r"applied (\d+) ports in (\d+) ms")
    total = [1000 * (plugged - start) for start, _, plugged in spans]
    wake, apply_ms, after_apply = [], [], []
    for start, answered, plugged in spans:
        mine = [(t, int(m.group(2))) for t, m in applies if start - 0.002 <= t <= plugged + 0.002]
        if not mine:
            continue
        ended, took = mine[-1]
        apply_ms.append(float(took))
        wake.append(1000 * (ended - took / 1000 - answered))
        after_apply.append(1000 * (plugged - ended))
    seconds = spans[-1][2] - spans[0][0]
    return {
        "bind → plugged p50": percentile(total, 50),
        "bind → plugged p95": percentile(total, 95),
        "bind → plugged min": min(total),
        "bind → plugged max": max(total),
        "bind request p50": percentile([1000 * (a - s) for s, a, _ in spans], 50),
        "service bind (server) mean": _mean_ms(before, after, BIND_ROUTE),
        "watch wake-up p50": statistics.median(wake) if wake else float("nan"),
        "Host.apply p50": statistics.median(apply_ms) if apply_ms else float("nan"),
        "apply → plugged seen p50": statistics.median(after_apply) if after_apply else float("nan"),
        "plugged report (server) mean": _mean_ms(before, after, PLUGGED_ROUTE),
        "agent CPU per port": 1000 * used.cores * seconds / len(spans),
        "agent peak RSS": used.peak_rss_mib,
        "service peak RSS": service_used.peak_rss_mib,
        "rest of the machine's CPU": max(0.0, used.other_cores - service_used.cores),
    }


def _bind_each(api: Client, ports: list[str], spans: list[tuple[float, float, float]]) -> None:
    for port_id in ports:
        # Wall clock, to meet the agent's log timestamps; the host's clock is shared.
        started = time.time()
        api.bind(port_id, HOST, check=True)
        answered = time.time()
        api.wait_plugged(port_id, HOST, timeout=60)
        spans.append((started, answered, time.time()))


def _mean_ms(
    before: dict[tuple[str, str], tuple[float, int]],
    after: dict[tuple[str, str], tuple[float, int]],
    route: tuple[str, str],
) -> float:
    total, count = after.get(route, (0.0, 0))
    total0, count0 = before.get(route, (0.0, 0))
    return 1000 * (total - total0) / (count - count0) if count > count0 else 0.0


def _profile_note(stacks: Path, variant: Variant, report: Report) -> None:
    report.notes.append(
        f"{variant.key}: py-spy on the agent during one extra, unrecorded repetition "
        f"({stacks.name}), all samples, waits included (the `ovs` package is mostly "
        "the agent's OVSDB connection thread waiting in poll), "
        + summary(stacks, skip=("<module>", "(cli/", "run (", "step ("))
    )


def judge(report: Report, times: int) -> None:
    """Issue 7's targets: bind → plugged p50 per datapath (medians over the repetitions)."""
    for row in report.rows:
        if row.labels["side"] != "vifbind":
            continue
        datapath = row.labels["datapath"]
        p50 = report.figure("bind → plugged p50", **row.labels).summary().median
        limit = TARGET_P50_MS[datapath]
        report.targets.append(
            Target(
                statement=f"bind → plugged p50 ≤ {limit:g} ms with "
                f"{'OVN' if datapath == 'ovn' else 'plain OVS'} ({row.labels['port']}, "
                f"median of {times})",
                met=p50 <= limit,
                observed=f"{p50:.1f} ms",
            )
        )


if __name__ == "__main__":
    run_command(main)
