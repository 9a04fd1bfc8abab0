"""The ports of the reconcile benchmark's host: what kinds, how many of each, made through the
service and plugged by vifbind's agent.

The mix is mostly Linux-bridge taps (most with nftables protections), with a tenth on Open
vSwitch (hybrid plugs with protections, and plain taps): every kind of device, OVS port and
chain that reconcile compares, while keeping the OVS ports few enough for the userspace
datapath, where ovs-vswitchd's reconfiguration grows with the ports it has: with 1,000 of
them, one transaction adding 50 more outlasted the agent's default 10 s OVSDB timeout.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.common.compute import HOST, AgentProcess, Compute

PORTS_PER_NETWORK = 400
"""A Linux bridge takes at most 1,024 ports; a network's bridge here carries 400."""
CLIENT_THREADS = 8


@dataclass(frozen=True)
class Kind:
    """One kind of port: its network's segment type (``vxlan`` goes to the ``linuxbridge``
    backend, ``geneve`` to ``ovs``) and whether it asks for port security."""

    name: str
    segment: str
    port_security: bool
    share: float


KINDS = (
    Kind("Linux-bridge tap with nft", "vxlan", True, 0.7),
    Kind("Linux-bridge tap without protections", "vxlan", False, 0.2),
    Kind("OVS hybrid with nft", "geneve", True, 0.05),
    Kind("OVS tap without protections", "geneve", False, 0.05),
)


@dataclass(frozen=True)
class Spec:
    """One port to make: its kind and a name unique on the host."""

    kind: Kind
    name: str


@dataclass
class Mix:
    """How many ports of each kind, and the networks made for them so far."""

    counts: dict[str, int]
    networks: dict[tuple[str, int], str] = field(default_factory=dict)
    _made: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, ports: int) -> Mix:
        """``ports`` ports split by the kinds' shares."""
        counts = {k.name: round(k.share * ports) for k in KINDS}
        counts[KINDS[0].name] += ports - sum(counts.values())
        return cls(counts)

    def describe(self) -> str:
        """The mix, for people."""
        return ", ".join(f"{n:,} {name}" for name, n in self.counts.items())

    def sample(self, ports: int, prefix: str) -> list[Spec]:
        """``ports`` ports in the mix's proportions, named ``prefix-<n>``."""
        scaled = Mix.of(ports).counts
        return [Spec(kind, f"{prefix}-{i}") for kind in KINDS for i in range(scaled[kind.name])]

    def all(self) -> list[Spec]:
        """Every port of the mix."""
        return [Spec(k, f"{k.segment}-{i}") for k in KINDS for i in range(self.counts[k.name])]

    def network(self, compute: Compute, kind: Kind) -> str:
        """A network for one more port of ``kind`` (a new one every ``PORTS_PER_NETWORK``)."""
        made = self._made.get(kind.name, 0)
        self._made[kind.name] = made + 1
        key = (kind.name, made // PORTS_PER_NETWORK)
        if key not in self.networks:
            vni = 3000 + len(self.networks)
            self.networks[key] = compute.api.create_network(
                [{"type": kind.segment, "segmentation_id": vni}], name=f"bench-{vni}"
            ).id
        return self.networks[key]


@dataclass
class Plugged:
    """The host's plugged ports (their kinds, by port id) and the agent running now."""

    ports: dict[str, Kind]
    agent: AgentProcess


def bind_all(compute: Compute, mix: Mix, specs: list[Spec]) -> dict[str, Kind]:
    """Create and bind a port per spec (several clients at once); their kinds by port id."""
    targets = [(spec, mix.network(compute, spec.kind)) for spec in specs]
    offset = len(compute.ports_made)

    def make(item: tuple[int, tuple[Spec, str]]) -> tuple[str, Kind]:
        i, (spec, network_id) = item
        n = offset + i
        port = compute.api.create_port(
            network_id,
            device_id=spec.name,
            fixed_ips=[f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}"],
            port_security=spec.kind.port_security,
        )
        compute.api.bind(port.id, HOST, check=True)
        return port.id, spec.kind

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        made = dict(pool.map(make, enumerate(targets)))
    compute.ports_made += list(made)
    return made


def plugged_ports(compute: Compute, mix: Mix) -> Plugged:
    """Start the agent, bind every port of the mix and wait until all are plugged."""
    agent = compute.start_agent()
    ports = bind_all(compute, mix, mix.all())
    compute.wait_plugged(list(ports))
    return Plugged(ports, agent)
