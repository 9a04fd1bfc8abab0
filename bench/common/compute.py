"""A compute host under measurement: a network namespace with its own Open vSwitch (userspace
datapath), optionally OVN central with ovn-controller attached, a ``vifbind serve`` process and
a ``vifbind agent`` process for the host — every process separate, so that each one's CPU and
RSS are its own. Everything is stopped and removed on exit, also on failure or Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from testbed.serve import VIFBIND, ServeProcess, start_serve
from vifbind.client import Client
from vifbind.contract.api import HostBindings
from vifbind.sandbox import Namespace, OvnCentral, Ovs, wait_for

HOST = "bench-hv"
TUNNEL_IP = "127.0.0.1"
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \S+ (\S+): (.*)$")


@dataclass
class AgentProcess:
    """A running ``vifbind agent``; its log (INFO, with millisecond timestamps) goes to ``log``."""

    process: subprocess.Popen[str]
    log: Path

    @property
    def pid(self) -> int:
        """The agent's process id."""
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM (the host is left as it is); killed after 20 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def lines(self, logger: str, pattern: str) -> list[tuple[float, re.Match[str]]]:
        """The agent's log lines of ``logger`` matching ``pattern``: their wall-clock time
        (seconds since the epoch, to the millisecond) and match."""
        found = []
        for line in self.log.read_text().splitlines():
            parsed = _LOG_LINE.match(line)
            if parsed is None or parsed.group(2) != logger:
                continue
            match = re.search(pattern, parsed.group(3))
            if match is not None:
                stamp = datetime.strptime(parsed.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                found.append((stamp, match))
        return found

    def wait_reconciled(self, timeout: float) -> Reconciled:
        """The agent's first reconcile that repaired or removed something (waited for)."""
        found: list[Reconciled] = []

        def logged() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"vifbind agent exited: {self.log.read_text()[-2000:]}")
            lines = self.lines(
                "vifbind.host.agent",
                r"reconciled (\d+) ports in (\d+) ms: (\d+) drifted, removed (.*)$",
            )
            for stamp, match in lines[:1]:
                removed = [r for r in match.group(4).split(", ") if not r.startswith("network ")]
                found.append(
                    Reconciled(
                        stamp=stamp,
                        seconds=int(match.group(2)) / 1000,
                        ports=int(match.group(1)),
                        drifted=int(match.group(3)),
                        removed=0 if match.group(4) == "nothing" else len(removed),
                    )
                )
            return bool(found)

        wait_for(logged, timeout=timeout, what="the agent's first reconcile")
        return found[0]


@dataclass(frozen=True)
class Reconciled:
    """An agent's log line of a reconcile that changed something."""

    stamp: float
    """When it was logged (seconds since the epoch)."""
    seconds: float
    ports: int
    drifted: int
    removed: int


@dataclass
class Compute:
    """The running pieces: host namespace and OVS, OVN (or None), service, admin client."""

    work: Path
    ns: Namespace
    ovs: Ovs
    ovn: OvnCentral | None
    service: ServeProcess
    api: Client
    config: dict[str, object]
    ports_made: list[str] = field(default_factory=list)
    agents: list[AgentProcess] = field(default_factory=list)
    """Every agent started here (stopped on exit, whatever happened)."""

    def admin_token(self) -> str:
        """The service's admin token."""
        return (self.work / "state" / "admin.token").read_text().strip()

    def bindings(self) -> HostBindings:
        """The host's bindings and tunnel peers, as its agent reads them."""
        return self.api.watch_host(HOST)

    def wait_plugged(self, ports: list[str], timeout: float = 600.0) -> None:
        """Wait until every binding of ``ports`` on the host reads plugged."""
        waiting = set(ports)

        def done() -> bool:
            plugged = {b.port_id for b in self.api.all_bindings(host=HOST) if b.plugged}
            waiting.difference_update(plugged)
            return not waiting

        # Every second: reading thousands of bindings takes the bench a good part of a core.
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting)} ports not plugged after {timeout:g} s")
            time.sleep(1.0)

    def start_agent(self, *extra: str) -> AgentProcess:
        """Start ``vifbind agent`` for the host (its own token) and wait for its first report
        to reach the service."""
        token = self.work / "agent.token"
        if not token.exists():
            token.write_text(self.api.create_token("agent", host=HOST).token or "")
        config = self.work / "host.json"
        config.write_text(json.dumps(self.config))
        log = self.work / f"agent-{time.monotonic_ns()}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [VIFBIND, "agent", "--config", str(config), "--service", self.service.url,
                 "--token-file", str(token), *extra],
                stdout=handle, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        agent = AgentProcess(process, log)
        self.agents.append(agent)
        try:
            wait_for(lambda: _reported(self.api, process), timeout=30, what="the agent's report")
        except BaseException:
            agent.stop()
            raise
        return agent


def _reported(api: Client, process: subprocess.Popen[str]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"vifbind agent exited with {process.returncode}")
    return any(h.host == HOST for h in api.list_hosts())


def missing_prerequisite() -> str | None:
    """Why a compute host cannot be started here, or ``None``."""
    if os.geteuid() != 0:
        return "a compute host needs root (namespaces, OVS, nftables)"
    needed = ("ip", "nft", "ovsdb-server", "ovs-vswitchd", "ovn-northd", "ovn-controller")
    missing = [tool for tool in needed if shutil.which(tool) is None]
    return f"missing tools: {', '.join(missing)} (run scripts/setup.sh)" if missing else None


@contextmanager
def compute_host(*, ovn: bool, backends: str, **config: object) -> Iterator[Compute]:
    """A host namespace with OVS (and OVN with ovn-controller when ``ovn``) and a service
    with ``backends``; ``config`` adds to the host's configuration."""
    why = missing_prerequisite()
    if why is not None:
        raise RuntimeError(why)
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="vifbind-bench-"))
        stack.callback(shutil.rmtree, work, True)
        central = None
        if ovn:
            central = OvnCentral().start()
            stack.callback(central.stop)
        ns = Namespace.create(f"vbb{os.getpid()}-hv")
        stack.callback(ns.delete)
        switch = Ovs(ns.name)
        stack.callback(switch.stop)
        switch.start(fail_mode="secure" if ovn else "standalone")
        if central is not None:
            central.attach(switch, chassis=f"{HOST}-{os.getpid()}", encap_ip=TUNNEL_IP)
        extra = ["--backends", backends, "--report-max-age", "86400"]
        extra += ["--ovn-nb", central.nb] if central is not None else []
        service = start_serve(work / "state", None, *extra)
        stack.callback(service.stop)
        api = stack.enter_context(
            Client(service.url, (work / "state" / "admin.token").read_text().strip())
        )
        host_config: dict[str, object] = {
            "host": HOST,
            "hypervisor": "kvm",
            "netns": ns.name,
            "ovsdb": switch.remote,
            "vhostuser_socket_dir": str(switch.daemons.rundir),
            "tunnels": {"geneve" if ovn else "vxlan": TUNNEL_IP},
        } | config
        compute = Compute(work, ns, switch, central, service, api, host_config)
        try:
            yield compute
        finally:
            for agent in compute.agents:
                agent.stop()
