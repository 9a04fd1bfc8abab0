"""``python -m bench.reconcile``: an agent restart on a host with 5,000 plugged ports, 5 % of
them drifted meanwhile (a device down, a wrong MTU, a missing nftables chain, a missing OVS
port) and 5 % orphaned (ports unbound while the agent was down, their devices, OVS ports and
chains still there): the time from starting ``vifbind agent`` until its first complete reconcile
has repaired every drift and removed every orphan, that reconcile's own duration, and the
agent's peak RSS. Checked afterwards: ``Host.check`` finds no drift left.

The host is made once (its ports plugged by vifbind itself, outside the timing); every
repetition binds the orphans-to-be, stops the agent, unbinds them, drifts other ports and
starts the agent again."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bench.common.cli import Output, finish, require_repetitions, run_command
from bench.common.compute import HOST, Compute, compute_host
from bench.common.environment import program_version
from bench.common.figures import MIN_REPETITIONS, Figure, add
from bench.common.process import child_running, usage
from bench.common.profile import main_thread, sampled, seconds, summary
from bench.common.report import Report, Row, Target
from bench.reconcile import drift
from bench.reconcile.footprint import footprint
from bench.reconcile.mix import Mix, Plugged, bind_all, plugged_ports
from vifbind.host import Host, HostConfig
from vifbind.host.agent import desired_from

TARGET_SECONDS = 5.0
TARGET_RSS_MB = 60.0
SHARE = 0.05  # of the ports drifted, and as many again orphaned
CONVERGE_TIMEOUT = 600.0


@dataclass(frozen=True)
class Profiling:
    """Where an extra restart's py-spy samples go, and whether waits are sampled too."""

    directory: Path
    waits: bool


@dataclass(frozen=True)
class Options:
    """What to measure."""

    ports: int
    repetitions: int
    profile: Path | None


def main(
    ports: Annotated[int, typer.Option(help="Ports plugged on the host.")] = 5000,
    repetitions: Annotated[int, typer.Option(help="Agent restarts measured.")] = MIN_REPETITIONS,
    quick: Annotated[
        bool,
        typer.Option(help="Smoke run: 1 restart, 200 ports; recorded only with --output."),
    ] = False,
    output: Output = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Also sample the agent with py-spy during two extra, unrecorded restarts (on "
            "the GIL, then with waits); collapsed stacks go to this directory."
        ),
    ] = None,
) -> None:
    """Measure an agent restart's reconcile and append the figures to BENCHMARKS.md."""
    options = Options(
        ports=200 if quick else ports,
        repetitions=1 if quick else repetitions,
        profile=profile,
    )
    require_repetitions(quick, options.repetitions)
    mix = Mix.of(options.ports)
    report = Report(
        benchmark="reconcile",
        quick=quick,
        parameters={
            "ports": f"{options.ports:,} ({mix.describe()})",
            "drifted": f"{SHARE:.0%}",
            "orphaned": f"{SHARE:.0%}",
            "repetitions": str(options.repetitions),
        },
    )
    report.extra_versions["Open vSwitch"] = program_version("ovs-vswitchd", "--version")
    report.extra_versions["nftables"] = program_version("nft", "--version")
    try:
        report.notes.append(
            "resident memory of a fresh interpreter importing only (the agent's floor): "
            + footprint()
        )
        report.notes.append(
            "nft worker peak RSS: the agent's nft worker (host/protections/nft_worker.py), the "
            "process of its own in which every nft command runs through libnftables, and where "
            "nft's copy of the ruleset lives; its peak since it started, read as the agent "
            "converged. Not part of the agent's RSS, as os-vif's privsep daemon is not of os-vif's."
        )
        measure(options, mix, report)
    except RuntimeError as exc:
        typer.echo(f"bench.reconcile: {exc}", err=True)
        raise typer.Exit(1) from None
    judge(report, options)
    finish(report, quick, output)


def _figures() -> list[Figure]:
    return [
        Figure("start → converged", "s", digits=2),
        Figure("first reconcile", "s", digits=2),
        Figure("drift found", "entries"),
        Figure("orphans removed", "ports"),
        Figure("agent CPU", "s", digits=2),
        Figure("agent peak RSS", "MiB", digits=1),
        Figure("nft worker peak RSS", "MiB", digits=1),
    ]


def measure(options: Options, mix: Mix, report: Report) -> None:
    """Make the host once, then restart the agent ``repetitions`` times (plus two profiled)."""
    row = Row(labels={"side": "vifbind agent"}, figures=_figures())
    with compute_host(
        ovn=False,
        backends="linuxbridge,ovs",
        tunnels={"vxlan": "127.0.0.1", "geneve": "127.0.0.1"},
        # The userspace datapath takes seconds per batch at hundreds of ports.
        ovsdb_timeout=120,
    ) as compute:
        started = time.perf_counter()
        plugged = plugged_ports(compute, mix)
        report.notes.append(
            f"setup (not timed): {options.ports:,} ports bound through the service and plugged "
            f"by the agent's first reconcile in {time.perf_counter() - started:.0f} s"
        )
        for repetition in range(options.repetitions):
            add(row.figures, restart_once(compute, mix, plugged, repetition, None, report))
        if options.profile is not None:
            for extra, waits in enumerate((False, True)):
                profiling = Profiling(options.profile, waits)
                repetition = options.repetitions + extra
                restart_once(compute, mix, plugged, repetition, profiling, report)
    report.rows.append(row)


def restart_once(
    compute: Compute,
    mix: Mix,
    plugged: Plugged,
    repetition: int,
    profile: Profiling | None,
    report: Report,
) -> dict[str, float]:
    """Orphans and drift made while the agent is down, then one restart until converged."""
    count = max(1, round(SHARE * len(plugged.ports)))
    orphans = list(bind_all(compute, mix, mix.sample(count, f"orphan{repetition}")))
    compute.wait_plugged(orphans)
    plugged.agent.stop()
    for port_id in orphans:
        compute.api.unbind(port_id, HOST)
    # A fixed seed per restart: the same ports drift in every run.
    ports = sorted(plugged.ports)
    chosen = random.Random(repetition).sample(ports, count)  # noqa: S311 - not a secret
    made = drift.inject(compute, {p: plugged.ports[p] for p in chosen})
    if repetition == 0:
        ways = ", ".join(f"{n} {way}" for way, n in made.items())
        report.notes.append(f"drift per restart: {ways}; orphans: {len(orphans)} ports unbound")
    started = time.time()
    plugged.agent = compute.start_agent()
    pid = plugged.agent.pid
    if profile is not None:
        profile.directory.mkdir(parents=True, exist_ok=True)
        stacks = profile.directory / f"reconcile-agent{'-waits' if profile.waits else ''}.txt"
        with sampled(pid, stacks, waits=profile.waits):
            converged = plugged.agent.wait_reconciled(CONVERGE_TIMEOUT)
        _profile_note(stacks, profile.waits, report)
    else:
        converged = plugged.agent.wait_reconciled(CONVERGE_TIMEOUT)
    used = usage(pid)
    worker = child_running(pid, "nft_worker.py")
    worker_rss = usage(worker).peak_rss_bytes / 2**20 if worker is not None else 0.0
    with Host(HostConfig.model_validate(compute.config)) as host:
        answer = compute.bindings()
        left = host.check(list(desired_from(answer.bindings).values()), answer.peers)
    if left:
        raise RuntimeError(f"drift left after the reconcile: {left[:5]}")
    return {
        "start → converged": converged.stamp - started,
        "first reconcile": converged.seconds,
        "drift found": converged.drifted,
        "orphans removed": converged.removed,
        "agent CPU": used.cpu_seconds,
        "agent peak RSS": used.peak_rss_bytes / 2**20,
        "nft worker peak RSS": worker_rss,
    }


def _profile_note(stacks: Path, waits: bool, report: Report) -> None:
    skip = ("<module>", "(cli/", "run (", "step (")
    if waits:
        main = main_thread(stacks)
        report.notes.append(
            f"py-spy on the agent during another unrecorded restart ({stacks.name}), every "
            f"sample of its main thread, waits included ({seconds(main):.1f} s from start to "
            "converged), " + summary(main, skip=skip)
        )
    else:
        report.notes.append(
            f"py-spy on the agent during one extra, unrecorded restart ({stacks.name}), "
            "samples while it held the GIL, " + summary(stacks, skip=skip)
        )


def judge(report: Report, options: Options) -> None:
    """Issue 7's reconcile targets (medians over the restarts)."""
    labels = {"side": "vifbind agent"}
    seconds = report.figure("start → converged", **labels).summary().median
    rss_mb = report.figure("agent peak RSS", **labels).summary().max * 2**20 / 1e6
    report.targets += [
        Target(
            statement=f"reconcile {options.ports:,} ports ≤ {TARGET_SECONDS:g} s (agent start → "
            f"converged, median of {options.repetitions})",
            met=seconds <= TARGET_SECONDS,
            observed=f"{seconds:.2f} s",
        ),
        Target(
            statement=f"agent RSS ≤ {TARGET_RSS_MB:g} MB (the highest peak of "
            f"{options.repetitions})",
            met=rss_mb <= TARGET_RSS_MB,
            observed=f"{rss_mb:.1f} MB",
        ),
    ]


if __name__ == "__main__":
    run_command(main)
