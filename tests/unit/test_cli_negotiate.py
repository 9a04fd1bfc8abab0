"""``vifbind negotiate`` and ``vifbind schema`` as a user runs them: exit codes, stdout, stderr."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builders import host, network, port, vlan, vxlan
from cli_run import assert_one_line_error, run, write

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def negotiate_args(tmp_path: Path, **docs: Any) -> list[str]:
    defaults: dict[str, Any] = {
        "network": network(vxlan()).model_dump(mode="json"),
        "port": port().model_dump(mode="json"),
        "host": host().model_dump(mode="json"),
    }
    return [
        arg
        for name, data in (defaults | docs).items()
        for arg in (f"--{name}", write(tmp_path, name, data))
    ]


def run_example(host_file: str) -> subprocess.CompletedProcess[str]:
    """``vifbind negotiate`` on the example network and port, as the demo runs it."""
    return run(
        "negotiate",
        "--network", str(EXAMPLES / "network.json"),
        "--port", str(EXAMPLES / "port.json"),
        "--host", str(EXAMPLES / host_file),
    )  # fmt: skip


def test_bound_prints_the_binding_and_exits_0() -> None:
    result = run_example("host-kvm.json")
    assert result.returncode == 0, result.stderr
    binding = json.loads(result.stdout)
    assert (binding["status"], binding["backend"], binding["vif"]["type"]) == (
        "bound",
        "ovn",
        "ovs",
    )
    assert result.stderr == ""


def test_failed_prints_the_binding_and_exits_1() -> None:
    result = run_example("host-xen.json")
    assert result.returncode == 1
    binding = json.loads(result.stdout)
    assert binding["status"] == "failed" and binding["vif"] is None
    assert any("xen carries flat, vlan only" in d["reason"] for d in binding["decisions"])


def test_backends_and_profile_options(tmp_path: Path) -> None:
    args = negotiate_args(
        tmp_path,
        network=network(vlan(300, "sriovnet")).model_dump(mode="json"),
        port=port(vnic_type="direct", port_security=False).model_dump(mode="json"),
        host=host(physnets={"sriovnet": {"device": "ens1f0", "free_vfs": 2}}).model_dump(
            mode="json"
        ),
    )
    profile = write(tmp_path, "profile", {"pci_address": "0000:81:10.2"})
    result = run("negotiate", *args, "--profile", profile, "--backends", "sriov")
    assert result.returncode == 0, result.stderr
    binding = json.loads(result.stdout)
    assert binding["vif"]["details"]["pci_address"] == "0000:81:10.2"
    assert [d["backend"] for d in binding["decisions"]] == ["sriov", "sriov"]


def test_stdin_is_accepted_for_a_document(tmp_path: Path) -> None:
    args = negotiate_args(tmp_path)
    args[args.index("--port") + 1] = "-"
    result = run("negotiate", *args, stdin=port().model_dump_json())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("doc", "change", "words"),
    [
        ("port", {"mac": "01:00:5e:00:00:01"}, ("--port", "mac:", "multicast")),
        ("port", {"device_id": "$(reboot)"}, ("--port", "device_id:", "may contain only")),
        ("host", {"host": "cmp 1"}, ("--host", "host:", "not a host name")),
        (
            "host",
            {"ovs": {"bridge": "br-int;rm -rf /"}},
            ("--host", "ovs.bridge:", "may contain only"),
        ),
        ("network", {"mtu": 10}, ("--network", "mtu:", "greater than or equal to 68")),
        ("network", {"segments": []}, ("--network", "segments:", "at least 1")),
    ],
)
def test_malformed_document_names_the_field_and_exits_2(
    tmp_path: Path, doc: str, change: dict[str, Any], words: tuple[str, ...]
) -> None:
    base = {
        "network": network(vxlan()).model_dump(mode="json"),
        "port": port().model_dump(mode="json"),
        "host": host().model_dump(mode="json"),
    }[doc]
    result = run("negotiate", *negotiate_args(tmp_path, **{doc: base | change}))
    assert_one_line_error(result, 2, *words)


def test_not_json_missing_file_and_unknown_backend_exit_2(tmp_path: Path) -> None:
    args = negotiate_args(tmp_path, port="{not json")
    assert_one_line_error(run("negotiate", *args), 2, "--port", "not JSON")
    args = negotiate_args(tmp_path)
    args[args.index("--host") + 1] = str(tmp_path / "absent.json")
    assert_one_line_error(run("negotiate", *args), 2, "--host", "cannot read")
    assert_one_line_error(
        run("negotiate", *negotiate_args(tmp_path), "--backends", "ovn,nope"), 2, "unknown 'nope'"
    )


def test_mismatched_port_and_network_exit_2(tmp_path: Path) -> None:
    other = port(network_id="00000000-0000-4000-8000-000000000001").model_dump(mode="json")
    assert_one_line_error(run("negotiate", *negotiate_args(tmp_path, port=other)), 2, "network_id")


def test_missing_option_is_a_usage_error() -> None:
    result = run("negotiate", "--port", "x.json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--network" in result.stderr


def test_schema_markdown() -> None:
    result = run("schema", "--markdown")
    assert result.returncode == 0
    assert result.stdout.startswith("# vifbind contract reference")
