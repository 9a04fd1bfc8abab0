"""Shared by the backends of hypervisor platforms that own their virtual switches (XenServer,
vSphere, Hyper-V): they carry physnets only, and identify them by per-host names."""

from __future__ import annotations

from collections.abc import Mapping

from vifbind.backends.base import BindContext, Rejection, pick_segment, platform_key
from vifbind.contract import Segment


def platform_segment(
    ctx: BindContext, backend: str, what: str, tables: Mapping[str, Mapping[str, object]]
) -> Segment | Rejection:
    """The first flat or vlan segment whose key (see ``platform_key``) is in one of ``tables``.

    ``what`` names the identifier in reasons, e.g. ``"XenServer network"``; the tables are the
    host report's own, named for the reason text (``platform.xen_networks``).
    """

    def reach(segment: Segment) -> str | None:
        key = platform_key(segment)
        if any(key in table for table in tables.values()):
            return None
        cluster = f" (cluster {ctx.host.cluster})" if ctx.host.cluster else ""
        listed = "; ".join(
            f"{name}: {', '.join(sorted(t)) or 'none'}" for name, t in tables.items()
        )
        return f"host {ctx.host.host}{cluster} has no {what} for {key} ({listed})"

    return pick_segment(ctx, frozenset({"flat", "vlan"}), reach, backend)
