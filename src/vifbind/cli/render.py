"""``vifbind render``: print the hypervisor configuration of a bound VIF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from vifbind.cli.app import JsonFile, app, describe_validation_error, read_model
from vifbind.contract import Binding
from vifbind.errors import InvalidInput
from vifbind.render import hyperv, libvirt, vmware, xen
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


@render_app.command("libvirt")
def libvirt_command(
    binding: JsonFile,
    nic_model: NicModel = None,
    queues: Queues = None,
    attachment: Attachment = None,
) -> None:
    """Print the libvirt <interface> (or <hostdev>) element."""
    element = libvirt.render(*_inputs(binding, nic_model, queues, attachment))
    typer.echo(libvirt.to_xml(element), nl=False)


@render_app.command("xen")
def xen_command(
    binding: JsonFile,
    nic_model: NicModel = None,
    queues: Queues = None,
    attachment: Attachment = None,
) -> None:
    """Print the XenAPI VIF record and the guest's NIC as JSON."""
    rendered = xen.render(*_inputs(binding, nic_model, queues, attachment))
    typer.echo(rendered.model_dump_json(by_alias=True, indent=2))


@render_app.command("vmware")
def vmware_command(
    binding: JsonFile,
    nic_model: NicModel = None,
    queues: Queues = None,
    attachment: Attachment = None,
) -> None:
    """Print the vSphere VirtualDeviceSpec as the API's SOAP XML."""
    spec = vmware.render(*_inputs(binding, nic_model, queues, attachment))
    typer.echo(vmware.to_soap(spec))


@render_app.command("hyperv")
def hyperv_command(
    binding: JsonFile,
    nic_model: NicModel = None,
    queues: Queues = None,
    attachment: Attachment = None,
) -> None:
    """Print the Hyper-V port settings and adapter kind as JSON."""
    rendered = hyperv.render(*_inputs(binding, nic_model, queues, attachment))
    typer.echo(rendered.model_dump_json(indent=2))
