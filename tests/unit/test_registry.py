"""Backends are found through entry points, built-in and third-party alike."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from vifbind.backends import registry
from vifbind.errors import BackendLoadError, UnknownBackend
from vifbind.negotiate import negotiate

from builders import VIFBIND, host, network, port, vxlan

THIRD_PARTY = textwrap.dedent(
    '''
    from vifbind.backends.base import Backend, build, device_name
    from vifbind.contract.vifs.tap import TapVif10


    class AcmeBackend(Backend):
        """A routed backend: a bare tap, the backend's own daemon does the rest."""

        name = "acme"
        description = "ACME routed networking"
        hypervisors = frozenset({"kvm", "netns"})
        vnic_types = frozenset({"normal"})

        def propose(self, ctx):
            segment = ctx.network.segments[0]
            return [build(TapVif10, {"devname": device_name("acm", ctx.port)}, segment,
                          frozenset({"mac_spoofing", "ip_spoofing"}))]


    class Impostor(AcmeBackend):
        name = "someone-else"


    class NotABackend:
        pass
    '''
)


@pytest.fixture
def acme_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed third-party distribution (on sys.path) registering three backends."""
    (tmp_path / "acme_backend.py").write_text(THIRD_PARTY)
    info = tmp_path / "acme_backend-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-backend\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[vifbind.backends]\n"
        "acme = acme_backend:AcmeBackend\n"
        "impostor = acme_backend:Impostor\n"
        "broken = acme_backend:NotABackend\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_builtins_in_default_order() -> None:
    assert [b.name for b in registry.load()] == list(registry.DEFAULT_ORDER)


def test_unknown_and_repeated_names_are_refused() -> None:
    with pytest.raises(UnknownBackend, match=r"unknown 'ovm'; registered: ovn, ovs"):
        registry.load(["ovn", "ovm"])
    with pytest.raises(UnknownBackend, match="listed twice"):
        registry.load(["ovn", "ovn"])


def test_third_party_backend_joins_without_touching_vifbind(acme_dist: Path) -> None:
    assert registry.default_names()[-3:] == ["acme", "broken", "impostor"]
    backends = registry.load(["acme", "linuxbridge"])
    binding = negotiate(network(vxlan()), port(), host(), backends)
    assert binding.backend == "acme"
    assert binding.vif is not None
    assert binding.vif.model_dump()["details"] == {"devname": "acm5f1c0a52-8d"}
    assert binding.protections is not None
    assert binding.protections.mac_spoofing == "network"


def test_third_party_backend_must_be_a_backend_with_its_own_name(acme_dist: Path) -> None:
    with pytest.raises(BackendLoadError, match="is not a Backend subclass"):
        registry.load(["broken"])
    with pytest.raises(BackendLoadError, match="calls itself 'someone-else'"):
        registry.load(["impostor"])


def test_third_party_backend_from_the_command_line(acme_dist: Path, tmp_path: Path) -> None:
    files = {}
    for name, model in (("network", network(vxlan())), ("port", port()), ("host", host())):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(model.model_dump_json())
    result = subprocess.run(
        [VIFBIND, "negotiate", "--backends", "acme,ovn"]
        + [arg for name, path in files.items() for arg in (f"--{name}", str(path))],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": str(acme_dist)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"backend": "acme"' in result.stdout
