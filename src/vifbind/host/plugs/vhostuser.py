"""``vhostuser``: an OVS ``dpdkvhostuserclient`` port on the guest's socket.

Only an OVS with DPDK can create such a port; elsewhere plugging fails with vswitchd's reason
and the binding is never reported plugged.
"""

from __future__ import annotations

import os
import posixpath
import stat

from vifbind.contract import Binding, VifBase
from vifbind.contract.vifs.vhostuser import VhostuserDetails10
from vifbind.errors import UnsafeVIF
from vifbind.host.config import HostConfig
from vifbind.host.layout import Layout, OvsPortSpec
from vifbind.host.plugs.base import Plug, derived_name
from vifbind.host.plugs.ovs import ovs_external_ids

VHOSTUSER_CLIENT = "dpdkvhostuserclient"


def vhostuser_port(port_id: str) -> str:
    """The OVS port of ``port_id``'s vhost-user socket."""
    return derived_name("vhu", port_id)


class VhostuserPlug(Plug):
    """vhost-user client port on the integration bridge."""

    vif_type = "vhostuser"
    versions = ("1.0", "1.1")
    hypervisors = frozenset({"kvm"})

    def check(self, binding: Binding, vif: VifBase, config: HostConfig) -> None:
        details = _details(vif)
        directory = config.vhostuser_socket_dir.rstrip("/")
        if posixpath.dirname(details.socket_path) != directory:
            raise UnsafeVIF(
                f"vif.details.socket_path: {details.socket_path!r} is not directly inside "
                f"this host's vhost-user socket directory {directory!r}"
            )
        if os.path.islink(details.socket_path):
            # OVS would follow it, perhaps to another guest's socket.
            raise UnsafeVIF(
                f"vif.details.socket_path: {details.socket_path!r} is a symbolic link; not "
                "following it"
            )
        if os.path.lexists(details.socket_path) and not stat.S_ISSOCK(
            os.lstat(details.socket_path).st_mode
        ):
            raise UnsafeVIF(
                f"vif.details.socket_path: {details.socket_path!r} exists and is not a socket"
            )
        if details.ovs_bridge != config.integration_bridge:
            raise UnsafeVIF(
                f"vif.details.ovs_bridge: {details.ovs_bridge!r} is not this host's "
                f"integration bridge {config.integration_bridge!r}"
            )

    def layout(self, binding: Binding, vif: VifBase, config: HostConfig) -> Layout:
        details = _details(vif)
        port = OvsPortSpec(
            vhostuser_port(binding.port_id),
            config.integration_bridge,
            ovs_external_ids(binding, binding.port_id),
            binding.mtu,
            type=VHOSTUSER_CLIENT,
            options={"vhost-server-path": details.socket_path},
        )
        return Layout(binding.port_id, (), ovs=port)


def _details(vif: VifBase) -> VhostuserDetails10:
    details = vif.details
    assert isinstance(details, VhostuserDetails10)
    return details
