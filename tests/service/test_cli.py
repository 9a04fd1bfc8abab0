"""The everyday commands against a running service: tables for people, ``--json`` for scripts,
one-line errors with exit codes (bad flag, unknown id, service down, no token)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testbed.tcp import free_port
from vifbind.service.settings import ServiceSettings

from builders import VIFBIND, host
from harness import RunningService, serve_in_thread


@pytest.fixture(scope="module")
def cli_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    settings = ServiceSettings(
        state_dir=tmp_path_factory.mktemp("cli"), backends=("ovs", "linuxbridge", "xen")
    )
    with serve_in_thread(settings) as running:
        running.client().report_host(host("cmp-1"))
        yield running


def vifbind(
    service: RunningService | None, *args: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIFBIND_")}
    env["HOME"] = "/nonexistent"  # never fall back on a real admin.token
    if service is not None:
        env |= {"VIFBIND_SERVICE": service.url, "VIFBIND_TOKEN": token or service.admin_token}
    return subprocess.run(
        [VIFBIND, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_network_port_bind_explain_unbind(cli_service: RunningService) -> None:
    network = as_json(
        vifbind(
            cli_service,
            "network",
            "create",
            "blue",
            "--segment",
            "vxlan:7",
            "--mtu",
            "1450",
            "--json",
        )
    )
    assert network["segments"] == [{"type": "vxlan", "physnet": None, "segmentation_id": 7}]
    listed = vifbind(cli_service, "network", "list")
    assert listed.returncode == 0 and "blue" in listed.stdout and "vxlan 7" in listed.stdout
    port = as_json(
        vifbind(cli_service, "port", "create", "--network", network["id"], "--ip", "192.0.2.9",
                "--device-id", "vm-9", "--allowed-pair", "192.0.2.99", "--json")
    )  # fmt: skip
    assert port["allowed_address_pairs"] == [{"mac": None, "ip": "192.0.2.99"}]
    assert as_json(vifbind(cli_service, "port", "show", port["id"], "--json"))["id"] == port["id"]
    explained = vifbind(cli_service, "explain", port["id"], "--host", "cmp-1")
    assert explained.returncode == 0
    assert "chosen" in explained.stdout and "decisions" in explained.stdout
    bound = as_json(vifbind(cli_service, "bind", port["id"], "--host", "cmp-1", "--json"))
    assert (bound["status"], bound["backend"]) == ("bound", "ovs")
    table = vifbind(cli_service, "bindings", "--host", "cmp-1")
    assert port["id"] in table.stdout and "bound" in table.stdout
    assert [
        b["port_id"]
        for b in as_json(vifbind(cli_service, "bindings", "--port", port["id"], "--json"))
    ] == [port["id"]]
    hosts = vifbind(cli_service, "host", "list")
    assert "cmp-1" in hosts.stdout and "kvm" in hosts.stdout
    unbound = vifbind(cli_service, "unbind", port["id"], "--host", "cmp-1")
    assert unbound.returncode == 0 and unbound.stdout == ""
    assert vifbind(cli_service, "port", "delete", port["id"]).returncode == 0
    assert vifbind(cli_service, "network", "delete", network["id"]).returncode == 0


def test_failed_bind_exits_1_with_the_reasons(cli_service: RunningService, tmp_path: Path) -> None:
    network = as_json(
        vifbind(cli_service, "network", "create", "g", "--segment", "geneve:9", "--json")
    )
    port = as_json(vifbind(cli_service, "port", "create", "--network", network["id"], "--json"))
    xen = tmp_path / "xen.json"
    xen.write_text(host("xs-1", hypervisor="xen", vif_types={"xen": ["1.0"]}).model_dump_json())
    result = vifbind(cli_service, "bind", port["id"], "--host", "xs-1", "--report", str(xen))
    assert result.returncode == 1
    assert "failed" in result.stdout and "xen carries flat, vlan only" in result.stdout
    assert "could not be bound to xs-1" in result.stderr


def test_migration_with_activate(cli_service: RunningService) -> None:
    cli_service.client().report_host(host("cmp-2"))
    network = as_json(
        vifbind(cli_service, "network", "create", "m", "--segment", "vxlan:11", "--json")
    )
    port = as_json(vifbind(cli_service, "port", "create", "--network", network["id"], "--json"))
    as_json(vifbind(cli_service, "bind", port["id"], "--host", "cmp-1", "--json"))
    destination = as_json(vifbind(cli_service, "bind", port["id"], "--host", "cmp-2", "--json"))
    assert destination["active"] is False
    activated = as_json(vifbind(cli_service, "activate", port["id"], "--host", "cmp-2", "--json"))
    assert activated["active"] is True


NOWHERE = "00000000-0000-4000-8000-000000000009"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("port", "show", NOWHERE), 4, ("does not exist",)),
        (("port", "show", "not-a-uuid"), 2, ("port_id", "not a UUID")),
        (("port", "delete", NOWHERE), 4, ("does not exist",)),
        (("network", "show", NOWHERE), 4, ("does not exist",)),
        (("network", "delete", NOWHERE), 4, ("does not exist",)),
        (("network", "create", "x", "--segment", "gre:5"), 2, ("--segment", "'gre:5'")),
        (("port", "create", "--network", NOWHERE, "--mac", "01:00:5e:00:00:01"), 2, ("multicast",)),
        (("host", "show", "cmp-404"), 4, ("has never reported",)),
        (("bind", NOWHERE, "--host", "cmp-1"), 4, ("does not exist",)),
        (("unbind", NOWHERE, "--host", "cmp-1"), 4, ("does not exist",)),
        (("activate", NOWHERE, "--host", "cmp-1"), 4, ("does not exist",)),
        (("explain", NOWHERE, "--host", "cmp-1"), 4, ("does not exist",)),
        (("bindings", "--port", NOWHERE), 4, ("does not exist",)),
        (("bindings", "--host", "bad host"), 2, ("host", "not a host name")),
        (("bind", NOWHERE, "--host", "cmp-1", "--report", "/nonexistent.json"), 2, ("--report",)),
    ],
)
def test_errors_are_one_line_with_an_exit_code(
    cli_service: RunningService, args: tuple[str, ...], code: int, words: tuple[str, ...]
) -> None:
    one_line_error(vifbind(cli_service, *args), code, *words)


def test_bad_flag_is_a_usage_error(cli_service: RunningService) -> None:
    result = vifbind(cli_service, "network", "list", "--colour")
    assert result.returncode == 2
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_service_down_and_no_token(cli_service: RunningService) -> None:
    down = vifbind(
        None, "network", "list", "--service", f"http://127.0.0.1:{free_port()}", "--token", "x"
    )
    one_line_error(down, 7, "cannot reach the service at http://127.0.0.1", "refused")
    no_token = vifbind(None, "network", "list", "--service", cli_service.url)
    one_line_error(no_token, 6, "no token", "--token")
    wrong = vifbind(cli_service, "network", "list", token="vbt_wrong")  # noqa: S106
    one_line_error(wrong, 6, "unknown token")
    reader = cli_service.token("reader")
    forbidden = vifbind(cli_service, "network", "create", "x", "--segment", "vxlan:1", token=reader)
    one_line_error(forbidden, 6, "may not perform networks:write")


def test_agent_needs_a_host_and_reports_an_unreachable_service(
    cli_service: RunningService, tmp_path: Path
) -> None:
    one_line_error(vifbind(cli_service, "agent", "check"), 2, "--host")
    config = tmp_path / "host.json"
    config.write_text('{"host": "cmp-1", "ovsdb": "", "colour": 1}')
    one_line_error(vifbind(cli_service, "agent", "check", "--config", str(config)), 2, "colour")
    config.write_text('{"host": "cmp-1", "ovsdb": ""}')
    down = vifbind(
        None, "agent", "check", "--config", str(config), "--service",
        f"http://127.0.0.1:{free_port()}", "--token", "x",
    )  # fmt: skip
    one_line_error(down, 7, "cannot reach the service")


def test_bindings_watch_prints_changes_as_they_happen(cli_service: RunningService) -> None:
    api = cli_service.client()
    network = api.create_network([{"type": "vxlan", "segmentation_id": 21}])
    port = api.create_port(network.id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIFBIND_")}
    env |= {"VIFBIND_SERVICE": cli_service.url, "VIFBIND_TOKEN": cli_service.admin_token}
    watcher = subprocess.Popen(
        [VIFBIND, "bindings", "--watch", "--port", port.id, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "[]"
        api.bind(port.id, "cmp-1")
        event = json.loads(_read_json_object(watcher.stdout))
        assert (event["kind"], event["binding"]["port_id"]) == ("bound", port.id)
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)


def _read_json_object(stream: Any) -> str:
    """One pretty-printed JSON object from a line stream."""
    lines = []
    for line in stream:
        lines.append(line)
        if line.rstrip() == "}":
            return "".join(lines)
    raise AssertionError("stream ended: " + "".join(lines))
