"""``vifbind render`` as a user runs it: output on stdout only, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest
from pyVmomi import SoapAdapter, vim

from vifbind.contract import Binding
from vifbind.render import hyperv, libvirt, xen

from builders import PORT_ID
from cli_run import assert_one_line_error, run, write
from render_cases import HYPERV, LIBVIRT_CASES, VMWARE_DVS, XEN, failed


def binding_file(tmp_path: Path, binding: Binding) -> str:
    return write(tmp_path, "binding", binding.model_dump(mode="json"))


def test_libvirt(tmp_path: Path) -> None:
    case = LIBVIRT_CASES["hw_veb-direct"]
    attachment = write(tmp_path, "attachment", case.attachment.model_dump(mode="json"))
    args = ["--binding", binding_file(tmp_path, case.binding), "--attachment", attachment]
    result = run("render", "libvirt", *args, "--nic-model", "e1000")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    element = fromstring(result.stdout)
    assert result.stdout == libvirt.to_xml(element)
    source, model = element.find("source"), element.find("model")
    assert source is not None and source.get("dev") == "ens1f0v3"
    assert model is not None and model.get("type") == "e1000"


def test_libvirt_queues_from_stdin() -> None:
    binding = LIBVIRT_CASES["tap-agent"].binding.model_dump_json()
    result = run("render", "libvirt", "--binding", "-", "--queues", "4", stdin=binding)
    assert result.returncode == 0, result.stderr
    driver = fromstring(result.stdout).find("driver")
    assert driver is not None and driver.get("queues") == "4"


def test_xen(tmp_path: Path) -> None:
    result = run("render", "xen", "--binding", binding_file(tmp_path, XEN), "--nic-model", "ioemu")
    assert result.returncode == 0, result.stderr
    rendered = xen.XenVif.model_validate_json(result.stdout)
    assert rendered.vif.other_config == {"nicira-iface-id": PORT_ID}
    assert rendered.nic.model == "ioemu"
    assert json.loads(result.stdout)["vif"]["MAC"] == "fa:16:3e:12:34:56"


def test_vmware(tmp_path: Path) -> None:
    result = run("render", "vmware", "--binding", binding_file(tmp_path, VMWARE_DVS))
    assert result.returncode == 0, result.stderr
    spec = SoapAdapter.Deserialize(result.stdout.strip())
    assert isinstance(spec.device, vim.vm.device.VirtualVmxnet3)
    assert spec.device.macAddress == "fa:16:3e:12:34:56"


def test_hyperv(tmp_path: Path) -> None:
    args = ["--binding", binding_file(tmp_path, HYPERV), "--nic-model", "legacy"]
    result = run("render", "hyperv", *args)
    assert result.returncode == 0, result.stderr
    rendered = hyperv.HypervPortSettings.model_validate_json(result.stdout)
    assert (rendered.port.switch_name, rendered.adapter.kind) == ("External Switch", "legacy")


@pytest.mark.parametrize(
    ("hypervisor", "binding", "model"),
    [
        ("libvirt", LIBVIRT_CASES["bridge"].binding, "vmxnet3"),
        ("xen", XEN, "virtio"),
        ("vmware", VMWARE_DVS, "rtl8139"),
        ("hyperv", HYPERV, "e1000"),
    ],
)
def test_bad_nic_model_exits_2(
    tmp_path: Path, hypervisor: str, binding: Binding, model: str
) -> None:
    result = run(
        "render", hypervisor, "--binding", binding_file(tmp_path, binding), "--nic-model", model
    )
    assert_one_line_error(result, 2, f"nic model {model!r} is not offered on")


def test_passthrough_with_a_nic_model_exits_2(tmp_path: Path) -> None:
    binding = binding_file(tmp_path, LIBVIRT_CASES["hostdev_physical"].binding)
    result = run("render", "libvirt", "--binding", binding, "--nic-model", "virtio")
    assert_one_line_error(result, 2, "passed through", "takes no nic model")


def test_bad_queue_count_exits_2(tmp_path: Path) -> None:
    binding = binding_file(tmp_path, LIBVIRT_CASES["tap-agent"].binding)
    result = run("render", "libvirt", "--binding", binding, "--queues", "0")
    assert_one_line_error(result, 2, "--nic-model/--queues", "queues:", "greater than or equal")


@pytest.mark.parametrize("hypervisor", ["libvirt", "xen", "vmware", "hyperv"])
def test_failed_binding_exits_1(tmp_path: Path, hypervisor: str) -> None:
    result = run("render", hypervisor, "--binding", binding_file(tmp_path, failed()))
    assert_one_line_error(result, 1, "is failed: there is no VIF to render")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ("--binding", "not JSON")),
        (json.dumps({"status": "bound"}), ("--binding", "port_id:", "Field required")),
        (
            json.dumps(LIBVIRT_CASES["bridge"].binding.model_dump(mode="json") | {"mtu": 20}),
            ("--binding", "mtu:", "greater than or equal to 68"),
        ),
        (
            json.dumps(
                LIBVIRT_CASES["bridge"].binding.model_dump(mode="json")
                | {"vif": {"type": "bridge", "version": "1.0", "details": {"bridge": "br;x"}}}
            ),
            ("--binding", "vif.details.bridge:", "may contain only"),
        ),
    ],
)
def test_malformed_binding_file_exits_2(tmp_path: Path, content: str, words: tuple[str]) -> None:
    result = run("render", "libvirt", "--binding", write(tmp_path, "binding", content))
    assert_one_line_error(result, 2, *words)


def test_malformed_attachment_exits_2(tmp_path: Path) -> None:
    binding = binding_file(tmp_path, LIBVIRT_CASES["tap-agent"].binding)
    attachment = write(tmp_path, "attachment", {"vf_netdev": "eth0; reboot"})
    result = run("render", "libvirt", "--binding", binding, "--attachment", attachment)
    assert_one_line_error(result, 2, "--attachment", "vf_netdev:")


def test_vif_type_the_hypervisor_cannot_express_exits_4(tmp_path: Path) -> None:
    result = run("render", "libvirt", "--binding", binding_file(tmp_path, XEN))
    assert_one_line_error(result, 9, "vif.type: libvirt cannot express a 'xen' VIF")


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("render", "xen", "--binding", str(tmp_path / "absent.json"))
    assert_one_line_error(result, 2, "--binding", "cannot read")
