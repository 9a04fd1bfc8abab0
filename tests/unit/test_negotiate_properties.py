"""Properties of ``negotiate`` over random hosts, networks and ports (hypothesis)."""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from vifbind.backends import registry
from vifbind.contract import (
    PROTECTIONS,
    SPECS,
    Binding,
    BindingProfile,
    HostReport,
    Network,
    NotExpressible,
    Port,
    backport,
    parse_vif,
)
from vifbind.contract.protections import MECHANISM_COVERS
from vifbind.contract.schema import schema_for
from vifbind.negotiate import negotiate

from builders import NETWORK_ID, PORT_ID

BACKENDS = registry.load()
PHYSNETS = ["physnet1", "physnet2", "sriovnet"]
MECHANISMS = sorted(MECHANISM_COVERS)
VERSIONS = ["1.0", "1.1", "1.2", "2.0"]


@cache
def validator(definition: str) -> Draft202012Validator:
    return Draft202012Validator(schema_for(definition))


def segments() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda p: {"type": "flat", "physnet": p}, st.sampled_from(PHYSNETS)),
        st.builds(
            lambda p, v: {"type": "vlan", "physnet": p, "segmentation_id": v},
            st.sampled_from(PHYSNETS),
            st.sampled_from([101, 300, 4000]),
        ),
        st.builds(
            lambda t, v: {"type": t, "segmentation_id": v},
            st.sampled_from(["vxlan", "geneve"]),
            st.integers(1, 2**24 - 1),
        ),
    )


@st.composite
def networks(draw: st.DrawFn) -> Network:
    return Network.model_validate(
        {
            "id": NETWORK_ID,
            "mtu": draw(st.sampled_from([1280, 1442, 1500, 9000])),
            "segments": draw(st.lists(segments(), min_size=1, max_size=3)),
        }
    )


@st.composite
def ports(draw: st.DrawFn) -> Port:
    secured = draw(st.booleans())
    return Port.model_validate(
        {
            "id": PORT_ID,
            "network_id": NETWORK_ID,
            "mac": "fa:16:3e:12:34:56",
            "vnic_type": draw(
                st.sampled_from(
                    ["normal", "normal", "direct", "direct-physical", "macvtap", "vhost"]
                )
            ),
            "port_security": secured,
            "security_groups": draw(st.sampled_from([[], ["web"]])) if secured else [],
        }
    )


def often(strategy: st.SearchStrategy[Any], draw: st.DrawFn) -> Any:
    """Draw from ``strategy`` seven times in ten, else ``None``: coherent hosts are common
    enough that most backends get to bind, incoherent ones still occur."""
    return draw(strategy) if draw(st.integers(0, 9)) < 7 else None


def _some(draw: st.DrawFn, table: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    drawn = {key: often(strategy, draw) for key, strategy in table.items()}
    return {key: value for key, value in drawn.items() if value is not None}


@st.composite
def physnet_mappings(draw: st.DrawFn) -> dict[str, Any]:
    enforces = st.lists(st.sampled_from(PROTECTIONS), unique=True)
    mapping = _some(
        draw,
        {
            "bridge": st.sampled_from(["br-phys1", "br-ex"]),
            "device": st.sampled_from(["eth1", "ens1f0", "enp129s0f0np0"]),
            "free_vfs": st.integers(0, 4),
            "mtu": st.sampled_from([1500, 9000]),
        },
    )
    if draw(st.booleans()):
        mapping["dot1qbg"] = {
            "manager_id": 1,
            "type_id": 7,
            "type_id_version": 1,
            "enforces": draw(enforces),
        }
    if draw(st.booleans()):
        mapping["dot1qbh"] = {"profile_id": "gold", "enforces": draw(enforces)}
    return mapping


@st.composite
def host_reports(draw: st.DrawFn) -> HostReport:
    known = {t: [v.version for v in spec.versions] for t, spec in SPECS.items()}
    vif_types = draw(
        st.just(known)
        | st.builds(
            lambda drawn: drawn,
            st.fixed_dictionaries(
                {},
                optional={
                    vif_type: st.lists(st.sampled_from([*versions, "2.0"]), min_size=1, unique=True)
                    for vif_type, versions in {**known, "qbx": ["1.0"]}.items()
                },
            ),
        )
    )
    capable = {name: [m for m in MECHANISMS if name in MECHANISM_COVERS[m]] for name in PROTECTIONS}
    random_enforcement = st.fixed_dictionaries(
        {
            name: st.lists(st.sampled_from(MECHANISMS), unique=True, max_size=4)
            for name in PROTECTIONS
        }
    )
    enforcement = draw(st.just(capable) | random_enforcement)
    keys = ["physnet1", "physnet1:101", "physnet2:300", "sriovnet", "physnet2"]

    def per_key(value: st.SearchStrategy[Any]) -> dict[str, Any]:
        return _some(draw, dict.fromkeys(keys, value))

    return HostReport.model_validate(
        {
            "host": "cmp-prop",
            "hypervisor": draw(
                st.sampled_from(["kvm", "qemu", "xen", "vmware", "hyperv", "netns"])
            ),
            "vif_types": vif_types,
            "enforcement": enforcement,
            "physnets": _some(draw, dict.fromkeys(PHYSNETS, physnet_mappings())),
            "tunnels": _some(draw, dict.fromkeys(["vxlan", "geneve"], st.just("198.51.100.9"))),
            "ovs": often(
                st.fixed_dictionaries(
                    {
                        "bridge": st.just("br-int"),
                        "datapath_type": st.sampled_from(["system", "netdev"]),
                        "iface_types": st.lists(
                            st.sampled_from(["internal", "tap", "dpdkvhostuserclient"]), unique=True
                        ),
                    }
                ),
                draw,
            ),
            "platform": {
                "xen_networks": per_key(st.just("0b9e3a6e-7d1c-4a55-8f2e-3c4d5e6f7a81")),
                "vmware": {
                    "dvs_uuid": often(
                        st.just("50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8"), draw
                    ),
                    "portgroups": per_key(st.just("dvportgroup-44")),
                    "networks": per_key(st.just("VM Network")),
                },
                "hyperv_vswitches": _some(draw, dict.fromkeys(PHYSNETS, st.just("ext"))),
            },
        }
    )


profiles = st.none() | st.builds(
    lambda pci, physnet: BindingProfile(pci_address=pci, physnet=physnet),
    st.sampled_from(["0000:81:10.2", "0000:81:00.0"]),
    st.none() | st.sampled_from(PHYSNETS),
)


def check_invariants(binding: Binding, network: Network, port: Port, host: HostReport) -> None:
    assert {d.backend for d in binding.decisions} == {b.name for b in BACKENDS}
    chosen = [d for d in binding.decisions if d.outcome == "chosen"]
    if binding.status == "failed":
        assert binding.vif is None and not chosen
        return
    vif, protections = binding.vif, binding.protections
    assert vif is not None and protections is not None and len(chosen) == 1
    # Version skew: never outside what the host declared.
    assert vif.version in host.vif_types.get(vif.type, [])
    assert (chosen[0].vif_type, chosen[0].version) == (vif.type, vif.version)
    # The VIF validates against the published schema of the version it claims.
    spec_version = SPECS[vif.type].get(vif.version)
    assert spec_version is not None and type(vif) is spec_version.model
    validator(spec_version.model.__name__).validate(vif.model_dump(mode="json"))
    validator("Binding").validate(binding.model_dump(mode="json"))
    assert binding.segment in network.segments
    # Protections: explicit, and the host only gets what it can enforce on this attachment.
    for name in PROTECTIONS:
        enforcer = protections.get(name)
        mechanism = getattr(binding.host_enforcement, name)
        if not port.port_security:
            assert enforcer == "off"
        elif name != "security_groups" or port.security_groups:
            assert enforcer in ("network", "host")
        else:
            assert enforcer == "off"
        if enforcer == "host":
            assert mechanism in host.enforcement.get(name)
            assert mechanism in vif.host_mechanisms_for(name)
            assert name in MECHANISM_COVERS[mechanism]
        else:
            assert mechanism is None


def test_negotiate_invariants() -> None:
    bound_types: set[str] = set()

    @settings(max_examples=800, deadline=None, derandomize=True)
    @given(networks(), ports(), host_reports(), profiles)
    def check(
        network: Network, port: Port, host: HostReport, profile: BindingProfile | None
    ) -> None:
        binding = negotiate(network, port, host, BACKENDS, profile)
        check_invariants(binding, network, port, host)
        again = negotiate(network, port, host, BACKENDS, profile)
        assert again.model_dump_json() == binding.model_dump_json(), "must be deterministic"
        assert Binding.model_validate_json(binding.model_dump_json()) == binding
        if binding.vif is not None:
            bound_types.add(binding.vif.type)

    check()
    # The properties mean something only if the generated hosts do bind, with many VIF types.
    assert len(bound_types) >= 8, bound_types


@st.composite
def newest_vifs(draw: st.DrawFn) -> dict[str, Any]:
    vif_type = draw(st.sampled_from(["ovs", "vhostuser"]))
    if vif_type == "ovs":
        details = {
            "bridge": draw(st.sampled_from(["br-int", "br0"])),
            "interface_id": PORT_ID,
            "devname": "tap5f1c0a52-8d",
            "hybrid": draw(st.booleans()),
            "datapath_type": draw(st.sampled_from(["system", "netdev"])),
        }
    else:
        details = {
            "socket_path": "/run/vhu/vhu0",
            "mode": draw(st.sampled_from(["client", "server"])),
            "ovs_bridge": draw(st.none() | st.just("br-int")),
            "queues": draw(st.integers(1, 256)),
        }
    return {"type": vif_type, "version": SPECS[vif_type].latest.version, "details": details}


@settings(max_examples=300, deadline=None)
@given(newest_vifs())
def test_every_backport_validates_against_the_older_schema(data: dict[str, Any]) -> None:
    vif = parse_vif(data)
    for older in SPECS[vif.type].versions:
        try:
            old = backport(vif, older.version)
        except NotExpressible as exc:
            added = {a.name: a for v in SPECS[vif.type].versions for a in v.added}
            assert exc.field in added
            assert data["details"][exc.field] not in added[exc.field].droppable_when
            continue
        assert old.version == older.version
        validator(older.model.__name__).validate(old.model_dump(mode="json"))
        kept = old.model_dump(mode="json")["details"]
        assert kept.items() <= data["details"].items(), "backport may drop, never change"
