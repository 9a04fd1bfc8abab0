"""``vifbind demo``: the whole system on this machine, step by step.

OVN central and one compute host (a network namespace with its own Open vSwitch and
ovn-controller) in a private run directory, the network service (SQLite) and the host's agent in
this process, three guests as namespaces. The demo binds and plugs the guests, shows the
decisions, the plugged signal and its latency, traffic, a spoofing guest dropped, the libvirt
``<interface>`` of each binding, and ``explain`` for a heterogeneous fleet of reported hosts.
Everything it created is removed at the end, on a failure and on Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from vifbind.client import Client
from vifbind.contract import Binding, HostReport
from vifbind.errors import HostPrerequisiteMissing
from vifbind.host.agent import Agent, AgentSettings
from vifbind.host.config import HostConfig
from vifbind.host.host import Host
from vifbind.render import libvirt
from vifbind.sandbox import Namespace, OvnCentral, Ovs, wait_for
from vifbind.service.embedded import EmbeddedService, embedded_service
from vifbind.service.settings import ServiceSettings

HOST = "demo-hv"
GUESTS = (("g1", "192.0.2.11"), ("g2", "192.0.2.12"), ("g3", "192.0.2.13"))
NEEDED_TOOLS = ("ip", "nft", "ovsdb-server", "ovs-vswitchd", "ovn-northd", "ovn-controller")

FLEET: dict[str, tuple[str, dict[str, Any]]] = {
    "kvm-old": (
        "KVM host whose agent knows only ovs 1.0",
        {
            "hypervisor": "kvm",
            "vif_types": {"ovs": ["1.0"], "bridge": ["1.0"]},
            "tunnels": {"geneve": "198.51.100.31"},
            "ovs": {"bridge": "br-int", "datapath_type": "system"},
        },
    ),
    "xs-pool-a": (
        "XenServer pool A",
        {
            "hypervisor": "xen",
            "cluster": "pool-a",
            "vif_types": {"xen": ["1.0"]},
            "enforcement": {
                "mac_spoofing": ["xen-vif-locking"],
                "ip_spoofing": ["xen-vif-locking"],
            },
            "platform": {"xen_networks": {"physnet1:101": "0b9e3a6e-7d1c-4a55-8f2e-3c4d5e6f7a81"}},
        },
    ),
    "xs-pool-b": (
        "XenServer pool B (other network UUID)",
        {
            "hypervisor": "xen",
            "cluster": "pool-b",
            "vif_types": {"xen": ["1.0"]},
            "enforcement": {
                "mac_spoofing": ["xen-vif-locking"],
                "ip_spoofing": ["xen-vif-locking"],
            },
            "platform": {"xen_networks": {"physnet1:101": "7c41d2f0-1e5b-4b3a-9d6c-8e2f1a0b3c4d"}},
        },
    ),
    "esx-east": (
        "VMware cluster (distributed port group)",
        {
            "hypervisor": "vmware",
            "cluster": "vc-east",
            "vif_types": {"vmware": ["1.0"]},
            "enforcement": {
                "mac_spoofing": ["vmware-security-policy"],
                "ip_spoofing": ["nsx-spoofguard"],
            },
            "platform": {
                "vmware": {
                    "dvs_uuid": "50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8",
                    "portgroups": {"physnet1:101": "dvportgroup-44"},
                }
            },
        },
    ),
    "hv-01": (
        "Hyper-V host",
        {
            "hypervisor": "hyperv",
            "vif_types": {"hyperv": ["1.0"]},
            "enforcement": {
                "mac_spoofing": ["hyperv-port-acl"],
                "ip_spoofing": ["hyperv-port-acl"],
            },
            "platform": {"hyperv_vswitches": {"physnet1": "External Switch"}},
        },
    ),
    "kvm-sriov": (
        "KVM host with SR-IOV VFs on physnet1 (direct port)",
        {
            "hypervisor": "kvm",
            "vif_types": {"hw_veb": ["1.0"], "hostdev_physical": ["1.0"], "ovs": ["1.0", "1.1"]},
            "enforcement": {
                "mac_spoofing": ["vf-spoofchk", "nftables"],
                "ip_spoofing": ["nftables"],
            },
            "physnets": {"physnet1": {"device": "ens1f0", "free_vfs": 6}},
        },
    ),
    "kvm-nofilter": (
        "KVM host with Linux bridges only and no packet filter",
        {
            "hypervisor": "kvm",
            "vif_types": {"bridge": ["1.0"]},
            "physnets": {"physnet1": {"device": "eth1"}},
        },
    ),
}


class DemoStepFailed(Exception):
    """A step did not do what it shows; the demo stops, cleans up and exits non-zero."""


@dataclass
class Demo:
    """One run of the demo; ``run()`` returns the exit code."""

    console: Console
    keep: bool = False
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    failures: int = 0
    service: EmbeddedService | None = None
    api: Client | None = None
    guests: dict[str, Namespace] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)
    bindings: dict[str, Binding] = field(default_factory=dict)

    def run(self) -> int:
        """Every step in order; stop at the first failure. Cleans up in every case."""
        _check_prerequisites()
        interrupted = _interrupt_on_sigterm()
        code = 0
        with ExitStack() as cleanup:
            try:
                for title, step in self._steps(cleanup):
                    self.console.rule(f"[bold]{title}")
                    started = time.perf_counter()
                    step()
                    took = 1000 * (time.perf_counter() - started)
                    self.console.print(f"[green]✓[/green] {title} ({took:.0f} ms)")
                if self.keep:
                    self._stay(interrupted)
            except DemoStepFailed as exc:
                self.failures += 1
                self.console.print(f"[red]✗ {exc}[/red]")
            except KeyboardInterrupt:
                self.console.print("[yellow]interrupted: cleaning up[/yellow]")
                code = 130
            finally:
                self.console.rule("cleaning up")
        self.console.print("everything the demo created is gone")
        return code or (1 if self.failures else 0)

    def _steps(self, cleanup: ExitStack) -> list[tuple[str, Callable[[], None]]]:
        return [
            (
                "Start OVN and a compute host with Open vSwitch",
                lambda: self._infrastructure(cleanup),
            ),
            ("Start the network service and the host's agent", lambda: self._service(cleanup)),
            ("Create a network and three guests", lambda: self._network(cleanup)),
            ("Bind the guests' ports: decisions and the plugged signal", self._bind),
            ("Guests talk to each other", self._traffic),
            ("A spoofing guest is dropped", self._spoofing),
            ("The libvirt <interface> each binding would produce", self._libvirt),
            ("explain: the same port on a heterogeneous fleet", self._fleet),
        ]

    # -- steps ---------------------------------------------------------------------------------

    def _infrastructure(self, cleanup: ExitStack) -> None:
        with self.console.status(
            "starting ovsdb-server, ovn-northd, ovs-vswitchd, ovn-controller…"
        ):
            self.ovn = OvnCentral().start()
            cleanup.callback(self.ovn.stop)
            self.hv_ns = Namespace.create(f"vbdemo{self.tag}-hv")
            cleanup.callback(self.hv_ns.delete)
            self.ovs = Ovs(self.hv_ns.name)
            cleanup.callback(self.ovs.stop)
            self.ovs.start(fail_mode="secure")
            self.ovn.attach(self.ovs, chassis=f"{HOST}-{self.tag}", encap_ip="127.0.0.1")
        self.console.print(
            f"OVN central and host {HOST} (namespace {self.hv_ns.name}, OVS in "
            f"{self.ovs.daemons.rundir}, datapath netdev, ovn-controller)"
        )

    def _service(self, cleanup: ExitStack) -> None:
        state_dir = Path(tempfile.mkdtemp(prefix="vbdemo-service-"))
        cleanup.callback(shutil.rmtree, state_dir, True)
        settings = ServiceSettings(state_dir=state_dir, ovn_nb=self.ovn.nb)
        self.service = cleanup.enter_context(embedded_service(settings))
        self.api = self.service.client()
        names = ", ".join(b.name for b in self.service.state.decider.backends)
        self.console.print(f"service on {self.service.url} (SQLite), backends: {names}")
        config = HostConfig(
            host=HOST,
            hypervisor="netns",
            netns=self.hv_ns.name,
            ovsdb=self.ovs.remote,
            tunnels={"geneve": "127.0.0.1"},
            vhostuser_socket_dir=str(self.ovs.daemons.rundir),
        )
        host = cleanup.enter_context(Host(config))
        agent_client = cleanup.enter_context(self.service.client(self.service.token("agent", HOST)))
        cleanup.enter_context(Agent(host, agent_client, AgentSettings(watch_wait=0.5)).in_thread())
        wait_for(lambda: bool(self._api.list_hosts()), timeout=20, what="the agent's report")
        report = self._api.get_host(HOST).report
        self.console.print(f"agent of {HOST} reported: {_types(report)}")

    def _network(self, cleanup: ExitStack) -> None:
        self.network = self._api.create_network(
            [{"type": "geneve", "segmentation_id": 1001}], name="blue", mtu=1442
        )
        for name, ip in GUESTS:
            guest = Namespace.create(f"vbdemo{self.tag}-{name}")
            cleanup.callback(guest.delete)
            self.guests[name] = guest
            self.ports[name] = self._api.create_port(
                self.network.id, fixed_ips=[ip], device_id=guest.name
            ).id
        self.console.print(
            f"network blue {self.network.id} (geneve 1001, MTU 1442); guests "
            + ", ".join(f"{n} {ip}" for n, ip in GUESTS)
        )

    def _bind(self) -> None:
        table = Table("guest", "port", "backend", "VIF", "protections", "plugged after")
        for name, _ in GUESTS:
            port_id = self.ports[name]
            started = time.perf_counter()
            binding = self._api.bind(port_id, HOST, check=True)
            plugged = self._api.wait_plugged(port_id, HOST, timeout=30)
            latency = 1000 * (time.perf_counter() - started)
            self.bindings[name] = plugged
            if name == GUESTS[0][0]:
                self._decisions(binding)
            vif = binding.vif
            table.add_row(
                name,
                port_id[:8],
                binding.backend,
                f"{vif.type} {vif.version}" if vif else "-",
                ", ".join(f"{k} {v}" for k, v in binding.protections.model_dump().items())
                if binding.protections
                else "-",
                f"{latency:.0f} ms",
            )
        self.console.print(table)
        self.console.print(
            "plugged = OVN set the logical port up after ovn-controller claimed the device the "
            "agent created (the latency is bind request → plugged)"
        )

    def _traffic(self) -> None:
        for name, ip in GUESTS:
            self.guests[name].addr(f"{ip}/24")
        if not self.guests["g1"].eventually_pings(GUESTS[1][1], timeout=15):
            raise DemoStepFailed("g1 cannot ping g2")
        self.console.print(f"g1 → g2 ({GUESTS[1][1]}): ping answered")

    def _spoofing(self) -> None:
        g3 = self.guests["g3"]
        if not g3.eventually_pings(GUESTS[0][1], timeout=15):
            raise DemoStepFailed("g3 cannot ping g1 with its own address")
        self.console.print(f"g3 with its own address {GUESTS[2][1]}: ping to g1 answered")
        g3.ip("addr", "flush", "dev", "eth0")
        g3.addr("192.0.2.99/24")
        for guest in self.guests.values():
            guest.ip("neigh", "flush", "dev", "eth0")
        if g3.ping(GUESTS[0][1], count=3, timeout=1):
            raise DemoStepFailed("g3 got through with a spoofed source address")
        self.console.print("g3 claiming 192.0.2.99: dropped by port security (OVN)")

    def _libvirt(self) -> None:
        for name, _ in GUESTS:
            xml = libvirt.to_xml(libvirt.render(self.bindings[name]))
            if name == GUESTS[0][0]:
                self.console.print(
                    Syntax(xml, "xml", theme="ansi_dark", background_color="default")
                )
            else:
                self.console.print(f"{name}: {xml.splitlines()[0].strip()} …")

    def _fleet(self) -> None:
        fleet_net = self._api.create_network(
            [
                {"type": "geneve", "segmentation_id": 2001},
                {"type": "vlan", "physnet": "physnet1", "segmentation_id": 101},
            ],
            name="fleet",
        )
        normal = self._api.create_port(fleet_net.id, fixed_ips=["203.0.113.10"])
        direct = self._api.create_port(fleet_net.id, fixed_ips=["203.0.113.11"], vnic_type="direct")
        table = Table("host", "what it is", "status", "backend", "VIF", "why")
        for host, (what, facts) in FLEET.items():
            self._api.report_host(HostReport.model_validate({"host": host, **facts}))
            port, profile = (
                (direct, {"pci_address": "0000:81:10.2"}) if "sriov" in host else (normal, None)
            )
            answer = self._api.explain(port.id, host, profile=profile)
            chosen = next((d for d in answer.decisions if d.outcome == "chosen"), None)
            reason = chosen.reason if chosen else _first_failure(answer)
            table.add_row(
                host,
                what,
                answer.status,
                answer.backend or "-",
                answer.vif.summary() if answer.vif else "-",
                reason,
            )
        self.console.print(table)

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _api(self) -> Client:
        if self.api is None:
            raise DemoStepFailed("the service is not running")
        return self.api

    def _decisions(self, binding: Binding) -> None:
        table = Table(
            "backend",
            "candidate",
            "outcome",
            "reason",
            title=f"decisions for {binding.port_id[:8]}",
        )
        for d in binding.decisions:
            table.add_row(d.backend, f"{d.vif_type or '-'} {d.version or ''}", d.outcome, d.reason)
        self.console.print(table)

    def _stay(self, interrupted: threading.Event) -> None:
        """Keep everything running until Ctrl-C (or SIGTERM): the end of a --keep run."""
        assert self.service is not None
        token_file = self.service.state.settings.state_dir / "admin.token"
        try:
            self.console.print(
                f"[bold]--keep[/bold]: running until Ctrl-C. In another shell:\n"
                f"  export VIFBIND_SERVICE={self.service.url} VIFBIND_TOKEN_FILE={token_file}\n"
                f"  vifbind bindings --watch        # or: vifbind host list, vifbind explain …\n"
                f"  ip netns exec {self.guests['g1'].name} ping {GUESTS[1][1]}"
            )
            while not interrupted.wait(1):
                pass
        except KeyboardInterrupt:
            self.console.print("stopping, as asked")


def _types(report: HostReport) -> str:
    return ", ".join(f"{t} {'/'.join(v)}" for t, v in sorted(report.vif_types.items()))


def _first_failure(binding: Binding) -> str:
    """The reason a person wants first: a candidate's, then a backend's that is not merely
    "does not serve this hypervisor"."""
    candidates = [d for d in binding.decisions if d.vif_type is not None]
    relevant = candidates or [d for d in binding.decisions if "serves" not in d.reason]
    return (relevant or binding.decisions)[0].reason


def _check_prerequisites() -> None:
    if os.geteuid() != 0:
        raise HostPrerequisiteMissing(
            "the demo needs root: it creates network namespaces and runs Open vSwitch"
        )
    missing = [tool for tool in NEEDED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise HostPrerequisiteMissing(
            f"missing {', '.join(missing)}: run scripts/setup.sh (or vifbind doctor)"
        )


def _interrupt_on_sigterm() -> threading.Event:
    """SIGTERM behaves like Ctrl-C, so that cleanup runs either way."""
    interrupted = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        interrupted.set()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handler)
    return interrupted
