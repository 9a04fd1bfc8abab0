"""libvirt renderings: golden files, defined through real libvirt, validated against its schemas."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, fromstring, tostring

import libvirt
import pytest

from vifbind.contract import Binding
from vifbind.contract.vifs.ovs import hybrid_names
from vifbind.errors import (
    BindingNotBound,
    InvalidInput,
    NotRenderable,
    UnsupportedNic,
    UnsupportedVifType,
)
from vifbind.render import libvirt as render_libvirt
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import LIBVIRT, NicRequest

from builders import bind, geneve, host, network, port, vlan, vxlan
from render_cases import LIBVIRT_CASES, VMWARE_DVS, XEN, Case, bound, failed, on_host

GOLDEN = Path(__file__).with_name("golden") / "libvirt"
VALIDATE = libvirt.VIR_DOMAIN_DEFINE_VALIDATE


def _quiet(_ctx: Any, _err: Any) -> None:
    """libvirt prints every error on stderr by default; the tests read them from exceptions."""


libvirt.registerErrorHandler(_quiet, None)


@pytest.fixture(scope="module")
def conn() -> Iterator[libvirt.virConnect]:
    """libvirt's in-process test driver: the real XML parser and schema, no daemon."""
    connection = libvirt.open("test:///default")
    yield connection
    connection.close()


def domain_xml(device: str) -> str:
    """A minimal domain holding ``device``, under a name unique to this process and call."""
    name = f"vifbind-render-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return (
        f"<domain type='test'><name>{name}</name><memory>65536</memory>"
        f"<os><type>hvm</type></os><devices>{device}</devices></domain>"
    )


def define(conn: libvirt.virConnect, device: str) -> Element:
    """Define a domain with ``device`` (schema-validated) and return libvirt's own device XML."""
    dom = conn.defineXMLFlags(domain_xml(device), VALIDATE)
    try:
        devices = fromstring(dom.XMLDesc()).find("devices")
    finally:
        dom.undefine()
    assert devices is not None
    return devices


def kept(ours: Element, theirs: Element) -> bool:
    """Whether every element and attribute we rendered is in libvirt's parsed device."""
    return all(
        any(t.attrib.items() >= c.attrib.items() and kept(c, t) for t in theirs.findall(c.tag))
        for c in ours
    )


def assert_kept(ours: Element, theirs: Element | None) -> None:
    assert theirs is not None and kept(ours, theirs), (
        f"libvirt dropped part of {tostring(ours, encoding='unicode')}; "
        f"it kept {theirs is not None and tostring(theirs, encoding='unicode')}"
    )


def render(case: Case, nic: NicRequest | None = None) -> Element:
    return render_libvirt.render(case.binding, case.attachment, nic)


def host_part(element: Element) -> str:
    """The device without its NIC children, as text."""
    copy = fromstring(tostring(element))
    for child in list(copy):
        if child.tag in render_libvirt.NIC_TAGS:
            copy.remove(child)
    return tostring(copy, encoding="unicode")


def test_every_vif_type_libvirt_can_express_has_a_case() -> None:
    types = {case.binding.vif.type for case in LIBVIRT_CASES.values() if case.binding.vif}
    assert types == set(render_libvirt.TABLE.routes)


@pytest.mark.parametrize("name", sorted(LIBVIRT_CASES))
def test_golden(name: str) -> None:
    rendered = render_libvirt.to_xml(render(LIBVIRT_CASES[name]))
    assert rendered == (GOLDEN / f"{name}.xml").read_text()


def test_no_stale_golden_files() -> None:
    assert {p.stem for p in GOLDEN.glob("*.xml")} == set(LIBVIRT_CASES)


@pytest.mark.parametrize("name", sorted(LIBVIRT_CASES))
def test_real_libvirt_defines_it_and_keeps_everything(conn: libvirt.virConnect, name: str) -> None:
    ours = render(LIBVIRT_CASES[name])
    devices = define(conn, render_libvirt.to_xml(ours))
    theirs = [d for d in devices.findall(ours.tag) if d.attrib.items() >= ours.attrib.items()]
    assert len(theirs) == 1, tostring(devices, encoding="unicode")
    assert_kept(ours, theirs[0])


@pytest.mark.parametrize("name", sorted(LIBVIRT_CASES))
def test_valid_against_libvirt_schema(name: str, tmp_path: Path) -> None:
    validator = shutil.which("virt-xml-validate")
    assert validator, "virt-xml-validate is missing (Debian package libvirt-clients)"
    path = tmp_path / "domain.xml"
    path.write_text(domain_xml(render_libvirt.to_xml(render(LIBVIRT_CASES[name]))))
    result = subprocess.run(
        [validator, str(path), "domain"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_libvirt_refuses_what_its_schema_does_not_know(conn: libvirt.virConnect) -> None:
    """The check above is real: with the validate flag an unknown element is an error."""
    device = render_libvirt.to_xml(render(LIBVIRT_CASES["bridge"]))
    bogus = device.replace("<mtu ", "<mtux ")
    with pytest.raises(libvirt.libvirtError, match="failed to validate"):
        define(conn, bogus)


@pytest.mark.parametrize(
    "name", sorted(n for n, c in LIBVIRT_CASES.items() if not c.passthrough and "vhost" not in n)
)
@pytest.mark.parametrize("model", LIBVIRT.models)
def test_nic_model_changes_only_the_nic_part(
    conn: libvirt.virConnect, name: str, model: str
) -> None:
    case = LIBVIRT_CASES[name]
    default = render(case)
    chosen = render(case, NicRequest(model=model))
    assert host_part(chosen) == host_part(default)
    models = [m.get("type") for m in chosen.iter("model")]
    assert models == [model]
    assert_kept(chosen, define(conn, render_libvirt.to_xml(chosen)).find("interface"))


@pytest.mark.parametrize("name", sorted(n for n in LIBVIRT_CASES if n != "hostdev_physical"))
def test_host_mapping_changes_leave_the_nic_part_alone(name: str) -> None:
    case = LIBVIRT_CASES[name]
    moved = Case(
        case.binding.model_copy(update={"mac": "fa:16:3e:65:43:21", "mtu": 9000}),
        case.attachment,
        case.passthrough,
    )
    nic = [tostring(c) for c in render(case) if c.tag in render_libvirt.NIC_TAGS]
    assert nic == [tostring(c) for c in render(moved) if c.tag in render_libvirt.NIC_TAGS]
    assert host_part(render(moved)) != host_part(render(case))


@pytest.mark.parametrize("name", sorted(n for n, c in LIBVIRT_CASES.items() if c.passthrough))
def test_passthrough_takes_no_nic(name: str) -> None:
    element = render(LIBVIRT_CASES[name])
    assert not [c for c in element if c.tag in render_libvirt.NIC_TAGS]
    with pytest.raises(UnsupportedNic, match=r"nic model: .* passed through .* \(got 'virtio'\)"):
        render(LIBVIRT_CASES[name], NicRequest(model="virtio"))
    with pytest.raises(UnsupportedNic, match=r"queues: .* passed through"):
        render(LIBVIRT_CASES[name], NicRequest(queues=2))


def test_unknown_nic_model_is_refused() -> None:
    with pytest.raises(UnsupportedNic, match=r"'vmxnet3' is not offered on kvm/qemu \(choose"):
        render(LIBVIRT_CASES["bridge"], NicRequest(model="vmxnet3"))


def test_multiqueue_virtio(conn: libvirt.virConnect) -> None:
    element = render(LIBVIRT_CASES["tap-agent"], NicRequest(queues=8))
    driver = element.find("driver")
    assert driver is not None and driver.get("queues") == "8"
    assert_kept(element, define(conn, render_libvirt.to_xml(element)).find("interface"))
    with pytest.raises(UnsupportedNic, match=r"queues: nic model 'e1000' .* no multiqueue"):
        render(LIBVIRT_CASES["tap-agent"], NicRequest(model="e1000", queues=2))


def test_vhostuser_queues_must_agree_with_the_vif() -> None:
    four = LIBVIRT_CASES["vhostuser-queues"]
    assert render_libvirt.to_xml(render(four, NicRequest(queues=4))) == render_libvirt.to_xml(
        render(four)
    )
    with pytest.raises(UnsupportedNic, match=r"queues: 2 contradicts .* 4 queue pair"):
        render(four, NicRequest(queues=2))
    with pytest.raises(UnsupportedNic, match=r"queues: 2 contradicts .* 1 queue pair"):
        render(LIBVIRT_CASES["vhostuser-1.0"], NicRequest(queues=2))
    with pytest.raises(UnsupportedNic, match="'e1000': vhost-user carries only virtio"):
        render(four, NicRequest(model="e1000"))
    with pytest.raises(UnsupportedNic, match="'pcnet' is not offered"):
        render(four, NicRequest(model="pcnet"))


def test_hybrid_bridge_name_is_the_contracts() -> None:
    assert hybrid_names("tap5f1c0a52-8d").bridge == "qbr5f1c0a52-8d"
    element = render(LIBVIRT_CASES["ovs-hybrid"])
    source = element.find("source")
    assert source is not None and source.get("bridge") == hybrid_names("tap5f1c0a52-8d").bridge


def test_direct_vf_needs_its_netdev_from_the_attachment() -> None:
    case = LIBVIRT_CASES["hw_veb-direct"]
    with pytest.raises(InvalidInput, match=r"attachment.vf_netdev: .* VF 0000:81:10.3"):
        render_libvirt.render(case.binding, HostAttachment())


BRIDGE = {"bridge": "brq9b2e6c1a-4f", "devname": "tap5f1c0a52-8d"}
NWFILTER = on_host("nwfilter", "mac_spoofing", "ip_spoofing")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fixed_ips": ["192.0.2.10", "2001:db8::10"]}, r"fixed_ips\[1\]: 2001:db8::10 is IPv6"),
        (
            {"allowed_address_pairs": [{"ip": "192.0.2.0/28"}]},
            r"allowed_address_pairs\[0\].ip: 192.0.2.0/28 is a prefix",
        ),
        ({"fixed_ips": []}, "fixed_ips: the port has no IPv4 address"),
    ],
)
def test_nwfilter_refuses_what_clean_traffic_cannot_enforce(
    fields: dict[str, Any], message: str
) -> None:
    binding = bound("bridge", BRIDGE, **NWFILTER | fields)
    with pytest.raises(NotRenderable, match=message):
        render_libvirt.render(binding)


def test_nwfilter_takes_a_single_address_pair_written_as_a_prefix() -> None:
    binding = bound("bridge", BRIDGE, allowed_address_pairs=[{"ip": "192.0.2.60/32"}], **NWFILTER)
    values = [p.get("value") for p in render_libvirt.render(binding).iter("parameter")]
    assert values == ["fa:16:3e:12:34:56", "192.0.2.10", "192.0.2.60"]


def test_nwfilter_refuses_duties_it_cannot_carry() -> None:
    groups = bound("bridge", BRIDGE, **on_host("nwfilter", "mac_spoofing", "security_groups"))
    with pytest.raises(NotRenderable, match=r"security_groups: .* no security-group rules"):
        render_libvirt.render(groups)
    ip_only = bound("bridge", BRIDGE, **on_host("nwfilter", "ip_spoofing"))
    with pytest.raises(NotRenderable, match="no libvirt filter enforces exactly ip_spoofing"):
        render_libvirt.render(ip_only)
    vf = bound(
        "hw_veb",
        {"pci_address": "0000:81:10.2", "physnet": "sriovnet", "vlan": 0},
        **on_host("nwfilter", "mac_spoofing"),
    )
    with pytest.raises(NotRenderable, match="nwfilter cannot act on hw_veb"):
        render_libvirt.render(vf)


def test_filters_of_other_mechanisms_are_the_host_agents() -> None:
    """nftables duties (hybrid OVS) are enforced by the agent: no filterref in the XML."""
    assert render(LIBVIRT_CASES["ovs-hybrid"]).find("filterref") is None


@pytest.mark.parametrize("binding", [XEN, VMWARE_DVS], ids=["xen", "vmware"])
def test_vif_type_libvirt_cannot_express(binding: Binding) -> None:
    assert binding.vif is not None
    with pytest.raises(UnsupportedVifType, match=f"libvirt cannot express a '{binding.vif.type}'"):
        render_libvirt.render(binding)


def test_failed_binding_has_nothing_to_render() -> None:
    with pytest.raises(BindingNotBound, match="is failed: there is no VIF to render"):
        render_libvirt.render(failed())


SRIOV = {"sriovnet": {"device": "ens1f0", "free_vfs": 4}}


@pytest.mark.parametrize(
    "scenario",
    [
        (network(geneve()), port(), host(), ["ovn"], None),
        (network(vxlan()), port(), host(), ["ovs"], None),
        (network(vxlan()), port(), host(), ["linuxbridge"], None),
        (
            network(vlan(300, "sriovnet")),
            port(vnic_type="direct", port_security=False),
            host(physnets=SRIOV),
            ["sriov"],
            {"pci_address": "0000:81:10.2"},
        ),
        (
            network(vlan(300, "sriovnet")),
            port(vnic_type="direct-physical", port_security=False),
            host(physnets=SRIOV),
            ["sriov"],
            {"pci_address": "0000:81:00.0"},
        ),
        (
            network(vlan(101)),
            port(vnic_type="macvtap"),
            host(physnets={"physnet1": {"device": "eth2"}}),
            ["macvtap"],
            None,
        ),
    ],
    ids=["ovn", "ovs-hybrid", "linuxbridge", "sriov-vf", "sriov-pf", "macvtap"],
)
def test_negotiated_bindings_render_and_define(
    conn: libvirt.virConnect, scenario: tuple[Any, ...]
) -> None:
    binding = bind(*scenario)
    assert binding.status == "bound", binding.decisions
    ours = render_libvirt.render(binding)
    devices = define(conn, render_libvirt.to_xml(ours))
    assert_kept(ours, devices.find(ours.tag))
