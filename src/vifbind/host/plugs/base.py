"""What every plug provides, and the guest-side device shared by several of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from vifbind.contract import Binding, VifBase
from vifbind.errors import UnsafeVIF
from vifbind.host.config import HostConfig
from vifbind.host.layout import Layout, LinkSpec, Peer, port_owner


class Plug(ABC):
    """How one VIF type is attached on this host. Pure: it decides, the host acts."""

    vif_type: ClassVar[str]
    versions: ClassVar[tuple[str, ...]]
    """Contract versions of ``vif_type`` this plug understands."""
    hypervisors: ClassVar[frozenset[str]] = frozenset({"kvm", "netns"})
    security_groups: ClassVar[bool] = True
    """Whether the host can enforce security groups on this attachment."""

    def check(self, binding: Binding, vif: VifBase, config: HostConfig) -> None:  # noqa: B027
        """Refuse (``UnsafeVIF``) what this host's configuration does not allow for the VIF.

        Nothing beyond the common checks by default."""

    @abstractmethod
    def layout(self, binding: Binding, vif: VifBase, config: HostConfig) -> Layout:
        """Everything the binding should own on this host."""


def guest_link(
    binding: Binding,
    devname: str,
    config: HostConfig,
    *,
    master: str | None = None,
    feeds_ovs: bool = False,
) -> LinkSpec:
    """The host device of the guest's NIC.

    ``kvm``: a tap that libvirt opens (``managed='no'``). ``netns``: a veth whose guest end is
    created directly inside the guest's namespace (``device_id``) as its next free ``ethN``,
    with the port's MAC and MTU. When the frames end up in OVS, the guest end's TX checksum
    offload is switched off (harmless on the kernel datapath, required by the userspace one).
    """
    owner = port_owner(binding.port_id)
    if config.hypervisor == "kvm":
        return LinkSpec(devname, "tap", owner, binding.mtu, master=master)
    if not binding.device_id:
        raise UnsafeVIF(
            f"device_id: port {binding.port_id} names no guest namespace (hypervisor netns)"
        )
    peer = Peer(
        name=None,
        netns=binding.device_id,
        mac=binding.mac,
        mtu=binding.mtu,
        tx_checksum_off=feeds_ovs,
    )
    return LinkSpec(devname, "veth", owner, binding.mtu, master=master, peer=peer)


def derived_name(prefix: str, port_id: str) -> str:
    """A device name for VIF types whose contract names none: prefix + port id, 14 bytes."""
    return (prefix + port_id)[:14]
