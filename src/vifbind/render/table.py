"""The table through which every renderer dispatches: VIF type → render function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vifbind.contract.binding import Binding
from vifbind.errors import BindingNotBound, UnsupportedVifType
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import NicRequest

R = TypeVar("R")

RenderFunction = Callable[[Any, Binding, HostAttachment, NicRequest], R]
"""Renders one VIF type: (its VIF model, the binding, the host attachment, the NIC request).
The VIF is typed ``Any`` here because each function takes its own VIF model; the table's key
guarantees which one it gets."""


@dataclass(frozen=True)
class RenderTable(Generic[R]):
    """The VIF types one hypervisor's configuration can express, and how."""

    hypervisor: str
    routes: Mapping[str, RenderFunction[R]]

    def render(
        self,
        binding: Binding,
        attachment: HostAttachment | None = None,
        nic: NicRequest | None = None,
    ) -> R:
        """Render the binding's VIF for the host attachment (default: as vifbind's agent plugs)
        and the NIC request (default: the hypervisor's default NIC).

        Refuses a binding without a VIF, and a VIF type this hypervisor has no entry for.
        """
        if binding.status != "bound" or binding.vif is None:
            raise BindingNotBound(
                f"binding of port {binding.port_id} on host {binding.host} is {binding.status}: "
                "there is no VIF to render"
            )
        vif = binding.vif
        route = self.routes.get(vif.type)
        if route is None:
            raise UnsupportedVifType(
                f"vif.type: {self.hypervisor} cannot express a {vif.type!r} VIF "
                f"(it renders {', '.join(sorted(self.routes))})"
            )
        return route(vif, binding, attachment or HostAttachment(), nic or NicRequest())
