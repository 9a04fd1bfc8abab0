"""NIC models: what the guest sees, chosen by the compute side per hypervisor, never by the network.

The binding says how the VIF reaches the host network; which virtual hardware the guest gets
(virtio, e1000, vmxnet3, a synthetic Hyper-V adapter) is the compute side's choice, validated
here against what each hypervisor offers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.vifs.vhostuser import MAX_QUEUES
from vifbind.errors import UnsupportedNic


class NicRequest(Model):
    """The NIC the compute side asks for; ``None`` leaves the hypervisor's default."""

    model: str | None = Field(default=None, description="NIC model; default per hypervisor.")
    queues: int | None = Field(
        default=None, ge=1, le=MAX_QUEUES, description="Queue pairs (multiqueue NICs only)."
    )


class Nic(Model):
    """A NIC model (and queue count) that the hypervisor accepted."""

    model: str
    queues: int | None = None


@dataclass(frozen=True)
class NicFamily:
    """The NIC models one hypervisor offers, its default first, and which can be multiqueue."""

    hypervisor: str
    models: tuple[str, ...]
    multiqueue: frozenset[str] = frozenset()

    @property
    def default(self) -> str:
        """The model a guest gets when none is asked for."""
        return self.models[0]

    def choose(self, request: NicRequest) -> Nic:
        """The requested NIC (or the default), refused when this hypervisor cannot offer it."""
        model = request.model if request.model is not None else self.default
        if model not in self.models:
            raise UnsupportedNic(
                f"nic model {model!r} is not offered on {self.hypervisor} "
                f"(choose from {', '.join(self.models)}; default {self.default})"
            )
        if request.queues is not None and model not in self.multiqueue:
            can = ", ".join(sorted(self.multiqueue)) or "none"
            raise UnsupportedNic(
                f"queues: nic model {model!r} on {self.hypervisor} has no multiqueue "
                f"(multiqueue models: {can})"
            )
        return Nic(model=model, queues=request.queues)

    def refuse(self, request: NicRequest, what: str) -> None:
        """Refuse any NIC choice for ``what``, a passthrough device the guest sees as it is."""
        for option, value in (("nic model", request.model), ("queues", request.queues)):
            if value is not None:
                raise UnsupportedNic(
                    f"{option}: {what} is passed through to the guest, which sees the device "
                    f"itself; it takes no {option} (got {value!r})"
                )


LIBVIRT = NicFamily("kvm/qemu", ("virtio", "e1000", "e1000e", "rtl8139"), frozenset({"virtio"}))
"""libvirt with KVM or QEMU; only virtio has multiqueue (``<driver queues=N>``)."""

XEN = NicFamily("xen", ("netfront", "ioemu"))
"""XenServer: the paravirtual frontend, or the emulated (ioemu) device."""

VMWARE = NicFamily("vmware", ("vmxnet3", "e1000", "e1000e"))
"""vSphere virtual Ethernet cards."""

HYPERV = NicFamily("hyperv", ("synthetic", "legacy"))
"""Hyper-V: the synthetic (VMBus) adapter, or the legacy emulated one."""
