"""``vifbind render``: print the hypervisor configuration of a bound VIF."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from vifbind.cli.app import JsonFile, app, describe_validation_error, read_model
from vifbind.contract import Binding
from vifbind.errors import InvalidInput
from vifbind.render import hyperv, libvirt, xen
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import NicRequest

render_app = typer.Typer(
    name="render",
    help="Print the hypervisor configuration of a bound VIF (the NIC model is yours to choose).",
    no_args_is_help=True,
)
app.add_typer(render_app)

NicModel = Annotated[
    str | None,
    typer.Option("--nic-model", metavar="M", help="NIC model (default: the hypervisor's)."),
]
Queues = Annotated[
    int | None, typer.Option(metavar="N", help="Queue pairs of a multiqueue (virtio) NIC.")
]
Attachment = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="Host attachment (JSON); default: as vifbind's agent plugs."),
]


def _inputs(
    binding: Path, nic_model: str | None, queues: int | None, attachment: Path | None
) -> tuple[Binding, HostAttachment, NicRequest]:
    try:
        nic = NicRequest(model=nic_model, queues=queues)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, "--nic-model/--queues")) from None
    return (
        read_model(Binding, binding, "--binding"),
        read_model(HostAttachment, attachment, "--attachment")
        if attachment is not None
        else HostAttachment(),
        nic,
    )


Printer = Callable[[Binding, HostAttachment, NicRequest], str]


def _libvirt(binding: Binding, attachment: HostAttachment, nic: NicRequest) -> str:
    return libvirt.to_xml(libvirt.render(binding, attachment, nic))


def _xen(binding: Binding, attachment: HostAttachment, nic: NicRequest) -> str:
    return xen.render(binding, attachment, nic).model_dump_json(by_alias=True, indent=2) + "\n"


def _vmware(binding: Binding, attachment: HostAttachment, nic: NicRequest) -> str:
    # pyVmomi weighs ~17 MiB: imported when a vSphere spec is rendered, not by every vifbind
    # command (the agent among them).
    from vifbind.render import vmware

    return vmware.to_soap(vmware.render(binding, attachment, nic)) + "\n"


def _hyperv(binding: Binding, attachment: HostAttachment, nic: NicRequest) -> str:
    return hyperv.render(binding, attachment, nic).model_dump_json(indent=2) + "\n"


COMMANDS: dict[str, tuple[Printer, str]] = {
    "libvirt": (_libvirt, "Print the libvirt <interface> (or <hostdev>) element."),
    "xen": (_xen, "Print the XenAPI VIF record and the guest's NIC as JSON."),
    "vmware": (_vmware, "Print the vSphere VirtualDeviceSpec as the API's SOAP XML."),
    "hyperv": (_hyperv, "Print the Hyper-V port settings and adapter kind as JSON."),
}
"""One subcommand per hypervisor: how its rendering is printed, and its help."""


def _register(name: str, printer: Printer, help_text: str) -> None:
    def command(
        binding: JsonFile,
        nic_model: NicModel = None,
        queues: Queues = None,
        attachment: Attachment = None,
    ) -> None:
        typer.echo(printer(*_inputs(binding, nic_model, queues, attachment)), nl=False)

    render_app.command(name, help=help_text)(command)


for _name, (_printer, _help) in COMMANDS.items():
    _register(_name, _printer, _help)
