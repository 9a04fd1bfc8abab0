"""The operator guide's tables and claims, held to the code they describe: exit codes, roles,
enforcement mechanisms, the heterogeneous fleet's outcomes, the host configuration's fields,
the service's options, the metric names, and what the example host configuration reports."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
from prometheus_client import generate_latest

from vifbind import errors
from vifbind.backends import registry
from vifbind.cli import app
from vifbind.client import Client
from vifbind.contract import PROTECTIONS, HostReport, OvsFacts
from vifbind.contract import errors as contract_errors
from vifbind.contract.protections import MECHANISM_COVERS
from vifbind.contract.vifs import parse_vif
from vifbind.errors import EXIT_CODES
from vifbind.host.config import HostConfig, load_config
from vifbind.host.facts import host_report
from vifbind.service import auth
from vifbind.service.app import create_app
from vifbind.service.bindings import Decider
from vifbind.service.metrics import Metrics
from vifbind.service.settings import ServiceSettings
from vifbind.service.state import ServiceState

from builders import NETWORK_ID, PORT_ID, bind, network, port, vlan
from doc_blocks import DOCS, REPO, blocks, code_spans, prose_lines, table_with

GUIDE = DOCS / "operator-guide.md"
TICK = "✓"


def error_class(name: str) -> type[Exception]:
    found = getattr(errors, name, None) or getattr(contract_errors, name)
    assert isinstance(found, type) and issubclass(found, Exception), name
    return found


def mapped_exit_code(cls: type[Exception]) -> int:
    return next(EXIT_CODES[c] for c in cls.__mro__ if c in EXIT_CODES)


def test_exit_codes_table_is_errors_py() -> None:
    listed: set[type[Exception]] = set()
    codes = []
    for code, _meaning, raised in table_with(GUIDE, "code", "meaning", "errors"):
        codes.append(int(code))
        for name in code_spans(raised):
            cls = error_class(name)
            assert mapped_exit_code(cls) == int(code), f"{name} exits {mapped_exit_code(cls)}"
            listed.add(cls)
    assert codes == sorted(set(codes)) and codes[0] == 0
    assert set(EXIT_CODES) <= listed, set(EXIT_CODES) - listed


def test_roles_table_is_auth_py() -> None:
    rows = table_with(GUIDE, "action", "requests", "`admin`", "`compute`", "`agent`", "`reader`")
    roles = [r.strip("`") for r in ("`admin`", "`compute`", "`agent`", "`reader`")]
    documented = set()
    for action_cell, _requests, *cells in rows:
        (action,) = code_spans(action_cell)
        documented.add(action)
        for role, cell in zip(roles, cells, strict=True):
            allowed = auth.Action(action) in auth.PERMISSIONS[role]
            assert cell in ("", TICK, "own host"), cell
            assert (cell != "") == allowed, f"{action} for {role}: the guide says {cell!r}"
            scoped = auth.Action(action) in auth.HOST_SCOPED | {auth.Action.READ_BINDINGS}
            if role == "agent" and allowed:
                assert (cell == "own host") == scoped, f"{action}: {cell!r} for agent tokens"
    assert documented == {a.value for a in auth.Action}


def test_the_guide_lists_the_routes_each_action_guards() -> None:
    rows = table_with(GUIDE, "action", "requests", "`admin`", "`compute`", "`agent`", "`reader`")
    shown = set()
    for _action, requests, *_ in rows:
        for text in re.split(r",\s*", requests):
            spans = code_spans(text)
            shown |= {tuple(span.split(" ", 1)) for span in spans if " " in span}
            if " and " in text:  # "`PATCH` and `DELETE /v1/networks/{id}`"
                shown.add((spans[0], spans[1].split(" ", 1)[1]))
    assert {(m, _generic(p)) for m, p in shown} == {(m, _generic(p)) for m, p in _routes()}


def _generic(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _routes() -> set[tuple[str, str]]:
    """Every (method, path) of the service's API that needs a token (the app is built, never
    started: no database is opened)."""
    state = ServiceState(
        settings=ServiceSettings(state_dir=Path("/nonexistent")),
        db=None,
        decider=Decider(backends=[], report_max_age=1),
    )
    paths = create_app(state).openapi()["paths"]
    routes = {(m.upper(), p) for p, methods in paths.items() for m in methods}
    return routes - {("GET", "/healthz")} | {("GET", "/openapi.json")}


SAMPLES: dict[str, dict[str, Any]] = {
    "bridge": {"type": "bridge", "details": {"bridge": "br0", "devname": "tap1"}},
    "tap": {"type": "tap", "details": {"devname": "tap1"}},
    "ovs": {
        "type": "ovs",
        "version": "1.1",
        "details": {
            "bridge": "br-int",
            "interface_id": PORT_ID,
            "devname": "tap1",
            "datapath_type": "system",
            "hybrid": False,
        },
    },
    "vhostuser": {
        "type": "vhostuser",
        "version": "1.1",
        "details": {
            "socket_path": "/var/run/openvswitch/vhu1",
            "mode": "server",
            "ovs_bridge": "br-int",
            "queues": 1,
        },
    },
    "macvtap": {"type": "macvtap", "details": {"parent": "eth1", "mode": "bridge"}},
    "802.1qbg": {
        "type": "802.1qbg",
        "details": {
            "parent": "eth1",
            "manager_id": 1,
            "type_id": 2,
            "type_id_version": 1,
            "instance_id": PORT_ID,
        },
    },
    "802.1qbh": {"type": "802.1qbh", "details": {"parent": "eth1", "profile_id": "gold"}},
    "hostdev_physical": {
        "type": "hostdev_physical",
        "details": {"pci_address": "0000:81:00.0"},
    },
    "xen": {"type": "xen", "details": {"network_uuid": NETWORK_ID}},
    "vmware": {
        "type": "vmware",
        "details": {
            "dvs_uuid": "50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8",
            "portgroup_key": "dvportgroup-44",
        },
    },
    "hyperv": {"type": "hyperv", "details": {"vswitch": "external-switch", "vlan": 101}},
}
HW_VEB = {"pci_address": "0000:81:10.2", "physnet": "physnet1", "vlan": 0}


def attachments() -> dict[str, frozenset[str]]:
    """Every kind of attachment, by the guide's words for it: the host mechanisms acting on it."""
    found = {}
    for label, sample in SAMPLES.items():
        found[label] = parse_vif({"version": "1.0"} | sample).host_mechanisms()
    hybrid = SAMPLES["ovs"] | {"details": SAMPLES["ovs"]["details"] | {"hybrid": True}}
    found["`ovs` with `hybrid: true`"] = parse_vif(hybrid).host_mechanisms()
    for attach in ("hostdev", "direct"):
        vif = parse_vif(
            {"type": "hw_veb", "version": "1.0", "details": HW_VEB | {"attach": attach}}
        )
        found[f"`hw_veb` attached `{attach}`"] = vif.host_mechanisms()
    return found


def acts_on(cell: str) -> set[str]:
    """The guide's list of attachments, in the labels of ``attachments()``."""
    labels = set()
    for item in re.split(r",\s*", cell):
        if item == "`hw_veb`":
            labels |= {"`hw_veb` attached `hostdev`", "`hw_veb` attached `direct`"}
        elif item.startswith("`ovs` with") or item.startswith("`hw_veb` attached"):
            labels.add(item)
        else:
            labels.add(item.strip("`"))
    return labels


def test_mechanisms_table_is_the_contracts() -> None:
    kinds = attachments()
    rows = table_with(GUIDE, "mechanism", "can enforce", "acts on")
    assert {code_spans(r[0])[0] for r in rows} == set(MECHANISM_COVERS)
    for mechanism_cell, enforce, acting in rows:
        (mechanism,) = code_spans(mechanism_cell)
        assert set(code_spans(enforce)) == set(MECHANISM_COVERS[mechanism]), mechanism
        expected = {label for label, mechanisms in kinds.items() if mechanism in mechanisms}
        assert acts_on(acting) == expected, mechanism
    unprotectable = {label for label, mechanisms in kinds.items() if not mechanisms}
    sentence = next(line for line in _paragraphs() if line.startswith("No host mechanism acts"))
    assert set(code_spans(sentence.split(":")[0])) == unprotectable
    assert "`ovs` without the hybrid bridge" in sentence


def _paragraphs() -> list[str]:
    text = "\n".join(prose_lines(GUIDE))
    return [" ".join(p.split()) for p in text.split("\n\n")]


FLEET = [
    json.loads(b.text)
    for b in blocks(GUIDE)
    if b.lang == "json" and "vif_types" in json.loads(b.text)
]


def outcome(cell: str) -> str:
    if cell == "failed":
        return cell
    backend, vif_type = code_spans(cell)
    version = cell.rsplit(" ", 1)[1]
    return f"{backend}: {vif_type} {version}"


def decided(report: dict[str, Any], backends: list[str]) -> str:
    host = HostReport.model_validate(report)
    direct = "hw_veb" in host.vif_types
    binding = bind(
        network(vlan(101, "physnet1")),
        port(vnic_type="direct") if direct else port(),
        host,
        backends,
        {"pci_address": "0000:81:10.2"} if direct else None,
    )
    if binding.status != "bound" or binding.vif is None:
        return "failed"
    return f"{binding.backend}: {binding.vif.type} {binding.vif.version}"


def test_the_fleet_binds_as_the_guide_says() -> None:
    rows = table_with(GUIDE, "host", "without `--ovn-nb`", "with `--ovn-nb`")
    reports = {r["host"]: r for r in FLEET}
    assert {code_spans(r[0])[0] for r in rows} == set(reports)
    everything = registry.default_names()
    without_ovn = [n for n in everything if n != "ovn"]
    for host_cell, plain, with_ovn in rows:
        report = reports[code_spans(host_cell)[0]]
        assert decided(report, without_ovn) == outcome(plain), report["host"]
        assert decided(report, everything) == outcome(with_ovn), report["host"]


def test_each_xenserver_pool_gets_its_own_network() -> None:
    uuids = {
        r["host"]: bind(
            network(vlan(101, "physnet1")), port(), HostReport.model_validate(r), ["xen"]
        ).model_dump(mode="json")["vif"]["details"]["network_uuid"]
        for r in FLEET
        if r["hypervisor"] == "xen"
    }
    assert len(uuids) == 2 and len(set(uuids.values())) == 2


def test_host_configuration_table_is_host_config() -> None:
    rows = table_with(GUIDE, "field", "default", "what")
    fields = HostConfig.model_fields
    assert [code_spans(r[0])[0] for r in rows] == list(fields)
    for name_cell, default_cell, _ in rows:
        (name,) = code_spans(name_cell)
        field = fields[name]
        if field.is_required():
            assert default_cell == "(required)"
            continue
        default = field.get_default(call_default_factory=True)
        if default is None:
            assert default_cell == "none", name
        else:
            shown = json.loads(code_spans(default_cell)[0])
            assert shown == json.loads(json.dumps(default, default=str)), name


def test_serve_options_table_is_the_command() -> None:
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = {opt: p for p in serve.params for opt in p.opts}
    rows = table_with(GUIDE, "option", "default", "what")
    listed = [code_spans(r[0])[0].split(" ")[0] for r in rows]
    assert set(listed) == {o for o in options if o != "--help"}
    defaults = {code_spans(r[0])[0].split(" ")[0]: r[1] for r in rows}
    assert code_spans(defaults["--listen"]) == [options["--listen"].default]
    assert code_spans(defaults["--report-max-age"]) == [f"{options['--report-max-age'].default:g}"]


def test_metric_names_are_the_ones_exported() -> None:
    exported = generate_latest(Metrics(lambda: [("bound", "ovs", 1)]).registry).decode()
    names = set(re.findall(r"^# TYPE (\S+)", exported, flags=re.M))
    observability = "\n".join(_section("## Observability"))
    assert set(re.findall(r"`(vifbind_[a-z_]+)`", observability)) == names


def _section(heading: str) -> list[str]:
    lines = prose_lines(GUIDE)
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
    return lines[start:end]


def test_the_example_host_configuration_reports_what_the_guide_says(tmp_path: Path) -> None:
    config = load_config(REPO / "examples" / "host-cmp-17.toml")
    ovs = OvsFacts(bridge="br-int", datapath_type="netdev", iface_types=["internal", "tap"])
    report = host_report(config, ovs, nft_works=True, sysfs_net=tmp_path)
    assert set(report.vif_types) == {"ovs", "bridge", "tap", "macvtap"}
    assert report.vif_types["ovs"] == ["1.0", "1.1"]
    assert all(report.enforcement.get(p) == ["nftables"] for p in PROTECTIONS)
    assert report.tunnels == {"vxlan": "198.51.100.17", "geneve": "198.51.100.17"}
    without_ovs = host_report(config, None, nft_works=False, sysfs_net=tmp_path)
    assert set(without_ovs.vif_types) == {"bridge", "tap", "macvtap"}
    assert all(without_ovs.enforcement.get(p) == [] for p in PROTECTIONS)
    netns = config.model_copy(update={"hypervisor": "netns"})
    assert "macvtap" not in host_report(netns, ovs, nft_works=True, sysfs_net=tmp_path).vif_types


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_host_configuration_is_toml_or_json(tmp_path: Path, suffix: str) -> None:
    example = load_config(REPO / "examples" / "host-cmp-17.toml")
    path = tmp_path / f"host{suffix}"
    if suffix == ".json":
        path.write_text(example.model_dump_json())
    else:
        path.write_text((REPO / "examples" / "host-cmp-17.toml").read_text())
    assert load_config(path) == example


def test_clients_take_several_service_urls_as_the_guide_says() -> None:
    # The scale-out section tells operators to give clients every replica's URL.
    assert "take several service URLs" in "\n".join(
        _section("## Scale-out: PostgreSQL and several replicas")
    )
    assert "Sequence[str]" in str(inspect.signature(Client).parameters["base_url"].annotation)
