"""The host's own configuration: what this host allows, whatever a binding asks.

Loaded from a JSON or TOML file that the host's operator writes. A binding can only ever
narrow what this file allows (DESIGN.md, contract rule 3): bridges it names must be listed
here (or be the per-network bridges vifbind itself creates), vhost-user sockets must lie under
``vhostuser_socket_dir``, macvtap parents must be physnet devices listed here.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from vifbind.contract.base import Model
from vifbind.contract.types import (
    BridgeName,
    HostName,
    InterfaceName,
    IpAddress,
    PhysnetName,
    SafeId,
    SocketPath,
)
from vifbind.errors import HostConfigError, validation_problems

HostHypervisor = Literal["kvm", "netns"]
"""Hypervisors whose guests this host plugs: KVM (libvirt opens taps the host made) or network
namespaces (containers, test guests)."""


class PhysnetConfig(Model):
    """How one physical network is reached on this host."""

    bridge: BridgeName | None = Field(default=None, description="Bridge carrying the physnet.")
    device: InterfaceName | None = Field(
        default=None, description="Host NIC on the physnet (macvtap parent, SR-IOV PF)."
    )
    mtu: int | None = Field(default=None, ge=68, le=65535)


class HostConfig(Model):
    """Everything the host agent is allowed to do, and where."""

    host: HostName
    hypervisor: HostHypervisor = "kvm"
    cluster: SafeId | None = None
    netns: SafeId | None = Field(
        default=None,
        description="Network namespace that holds the host's devices and OVS (None: the "
        "agent's own). Lets several hosts share one machine in tests.",
    )
    netns_dir: Path = Field(
        default=Path("/run/netns"), description="Where named network namespaces live."
    )
    integration_bridge: BridgeName = "br-int"
    ovsdb: str = Field(
        default="unix:/var/run/openvswitch/db.sock",
        description="OVSDB connection of the host's Open vSwitch; empty: no OVS on this host.",
    )
    ovsdb_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds to wait for OVSDB; a transaction waits for ovs-vswitchd this long "
        "plus 0.1 s per port it adds or removes.",
    )
    linux_bridges: list[BridgeName] = Field(
        default_factory=list, description="Existing Linux bridges bindings may attach to."
    )
    network_bridges: bool = Field(
        default=True,
        description="Whether vifbind may create one Linux bridge + VXLAN device per network.",
    )
    physnets: dict[PhysnetName, PhysnetConfig] = Field(default_factory=dict)
    tunnels: dict[Literal["vxlan", "geneve"], IpAddress] = Field(
        default_factory=dict, description="This host's tunnel endpoint address per overlay."
    )
    vxlan_port: int = Field(default=4789, ge=1, le=65535)
    vhostuser_socket_dir: SocketPath = "/var/run/openvswitch"

    @field_validator("ovsdb")
    @classmethod
    def _ovsdb_remote(cls, value: str) -> str:
        if value and not value.startswith(("unix:/", "tcp:", "ssl:")):
            raise ValueError(f"{value!r} is not an OVSDB remote like 'unix:/run/ovs/db.sock'")
        return value

    def netns_path(self, name: str) -> Path:
        """The file of the named network namespace ``name``."""
        return self.netns_dir / name

    def physnet_devices(self) -> frozenset[str]:
        """Host NICs listed under physnets (the only allowed macvtap parents)."""
        return frozenset(p.device for p in self.physnets.values() if p.device is not None)

    def allowed_linux_bridges(self) -> frozenset[str]:
        """Existing Linux bridges a binding may name: listed ones and physnet bridges."""
        mapped = {p.bridge for p in self.physnets.values() if p.bridge is not None}
        return frozenset(self.linux_bridges) | mapped


def load_config(path: Path) -> HostConfig:
    """Read a ``HostConfig`` from a ``.json`` or ``.toml`` file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise HostConfigError(f"host config {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise HostConfigError(f"host config {path}: not valid {path.suffix[1:]}: {exc}") from None
    try:
        return HostConfig.model_validate(data)
    except ValidationError as exc:
        raise HostConfigError(f"host config {path}: {validation_problems(exc)[0]}") from None
