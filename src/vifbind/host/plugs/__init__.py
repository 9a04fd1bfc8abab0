"""One plug per VIF type, registered in ``PLUGS``: a new type is one module plus one line."""

from __future__ import annotations

from vifbind.host.plugs.base import Plug
from vifbind.host.plugs.bridge import BridgePlug
from vifbind.host.plugs.macvtap import MacvtapPlug
from vifbind.host.plugs.ovs import OvsPlug
from vifbind.host.plugs.tap import TapPlug
from vifbind.host.plugs.vhostuser import VhostuserPlug

PLUGS: dict[str, Plug] = {
    plug.vif_type: plug
    for plug in (OvsPlug(), BridgePlug(), TapPlug(), MacvtapPlug(), VhostuserPlug())
}
"""The VIF types this host can plug, by type."""

__all__ = ["PLUGS", "Plug"]
