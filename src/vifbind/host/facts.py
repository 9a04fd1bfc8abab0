"""Discovery: what this host can plug and enforce, as the contract's ``HostReport``."""

from __future__ import annotations

from pathlib import Path

from vifbind import __version__
from vifbind.contract import Enforcement, HostReport, OvsFacts, PhysnetMapping
from vifbind.host.config import HostConfig
from vifbind.host.plugs import PLUGS
from vifbind.host.plugs.vhostuser import VHOSTUSER_CLIENT

SYSFS_NET = Path("/sys/class/net")
PASSTHROUGH_DRIVERS = frozenset({"vfio-pci", "pci-stub"})


def free_vfs(device: str, sysfs_net: Path = SYSFS_NET) -> int | None:
    """Free virtual functions of SR-IOV PF ``device`` (None: not a PF).

    A VF is taken when it is bound to a passthrough driver (a guest has it) or has no driver.
    """
    pci = sysfs_net / device / "device"
    if not (pci / "sriov_numvfs").exists():
        return None
    free = 0
    for vf in sorted(pci.glob("virtfn*")):
        driver = vf / "driver"
        if driver.exists() and driver.resolve().name not in PASSTHROUGH_DRIVERS:
            free += 1
    return free


def host_report(
    config: HostConfig,
    ovs: OvsFacts | None,
    nft_works: bool,
    sysfs_net: Path = SYSFS_NET,
) -> HostReport:
    """The report of a host with ``config``, its OVS (if any) and whether nftables works."""
    vif_types: dict[str, list[str]] = {}
    for plug in PLUGS.values():
        if config.hypervisor not in plug.hypervisors:
            continue
        if plug.vif_type == "ovs" and ovs is None:
            continue
        if plug.vif_type == "vhostuser" and (
            ovs is None or VHOSTUSER_CLIENT not in ovs.iface_types
        ):
            continue
        if plug.vif_type == "macvtap" and not config.physnet_devices():
            continue
        vif_types[plug.vif_type] = list(plug.versions)
    mechanisms = ["nftables"] if nft_works else []
    physnets = {}
    for name, physnet in config.physnets.items():
        vfs = free_vfs(physnet.device, sysfs_net) if physnet.device else None
        physnets[name] = PhysnetMapping(
            bridge=physnet.bridge, device=physnet.device, mtu=physnet.mtu, free_vfs=vfs or 0
        )
    return HostReport(
        host=config.host,
        hypervisor=config.hypervisor,
        cluster=config.cluster,
        vif_types=vif_types,
        enforcement=Enforcement(
            mac_spoofing=mechanisms, ip_spoofing=mechanisms, security_groups=mechanisms
        ),
        physnets=physnets,
        tunnels={str(k): v for k, v in config.tunnels.items()},
        ovs=ovs,
        agent_version=__version__,
    )
