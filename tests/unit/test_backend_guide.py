"""docs/backend-guide.md and its example package cannot drift apart: the guide shows the
package's files byte for byte, the package registers like an installed distribution (its
entry points read from its own pyproject.toml), and it binds — in Python and through the
guide's own commands, whose output the guide shows."""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from vifbind.backends import registry
from vifbind.contract import HostReport, Network, Port
from vifbind.negotiate import negotiate

from doc_blocks import DOCS, REPO, file_blocks, run, run_blocks

GUIDE = DOCS / "backend-guide.md"
PACKAGE = REPO / "examples" / "third_party_backend"
MODULE = "acme_routed"


def example(name: str) -> str:
    return (PACKAGE / name).read_text()


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The example on sys.path with a dist-info built from its pyproject.toml, as pip would
    leave it; yields the PYTHONPATH that does the same for a subprocess."""
    project = tomllib.loads(example("pyproject.toml"))["project"]
    info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
            for group, entries in groups.items()
        )
    )
    source = PACKAGE / "src"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(source))
    yield f"{source}:{tmp_path}"
    sys.modules.pop(MODULE, None)


def test_the_guide_shows_the_package_byte_for_byte() -> None:
    shown = {path.relative_to(PACKAGE).as_posix(): block for block, path in file_blocks(GUIDE)}
    assert set(shown) == {"src/acme_routed/__init__.py", "pyproject.toml"}
    for name, block in shown.items():
        assert block.text == example(name), f"{block.where} differs from {name}"


def test_the_package_registers_the_backend_under_its_own_name(installed: str) -> None:
    assert "acme-routed" in registry.default_names()
    (backend,) = registry.load(["acme-routed"])
    assert type(backend) is importlib.import_module(MODULE).AcmeRoutedBackend
    assert backend.name == "acme-routed"


def test_it_binds_a_tap_and_leaves_anti_spoofing_to_the_host(installed: str) -> None:
    network = Network.model_validate_json(example("network.json"))
    port = Port.model_validate_json(example("port.json"))
    host = HostReport.model_validate_json(example("host.json"))
    binding = negotiate(network, port, host, registry.load(["acme-routed", "linuxbridge"]))
    assert binding.status == "bound"
    assert binding.backend == "acme-routed"
    assert binding.vif is not None
    assert binding.vif.model_dump(mode="json") == {
        "type": "tap",
        "version": "1.0",
        "details": {"devname": "acr7a8b9c0d-1e"},
    }
    assert binding.protections is not None
    assert binding.protections.model_dump() == {
        "mac_spoofing": "host",
        "ip_spoofing": "host",
        "security_groups": "off",
    }
    assert [d.outcome for d in binding.decisions] == ["chosen", "alternative"]


def test_it_refuses_what_nobody_could_enforce(installed: str) -> None:
    network = Network.model_validate_json(example("network.json"))
    port = Port.model_validate_json(example("port.json")).model_copy(
        update={"security_groups": ["web"]}
    )
    host = HostReport.model_validate_json(example("host.json"))
    binding = negotiate(network, port, host, registry.load(["acme-routed"]))
    assert binding.status == "failed"
    (decision,) = binding.decisions
    assert decision.outcome == "skipped"
    assert decision.reason == (
        "port has security groups (web); acme-routed cannot apply them on a bare tap"
    )


def test_unmapped_physnet_is_a_reason_naming_the_host_fact(installed: str) -> None:
    network = Network.model_validate_json(example("network.json"))
    port = Port.model_validate_json(example("port.json"))
    host = HostReport.model_validate_json(example("host.json")).model_copy(update={"physnets": {}})
    binding = negotiate(network, port, host, registry.load(["acme-routed"]))
    assert binding.status == "failed"
    assert "physnet routed is not mapped on host cmp-21 (physnets: none)" in (
        binding.decisions[0].reason
    )


def test_the_guides_commands_print_what_the_guide_shows(installed: str) -> None:
    pairs = run_blocks(GUIDE)
    assert len(pairs) == 2
    outputs = run([block for block, _ in pairs], {"PYTHONPATH": installed})
    for (block, shown), printed in zip(pairs, outputs, strict=True):
        assert shown is not None, f"{block.where}: no output block follows"
        assert printed == shown.text, f"{shown.where} differs from what the command prints"
