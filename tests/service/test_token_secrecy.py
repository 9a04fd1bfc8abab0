"""Tokens stay secret: no token — valid, wrong, malformed, sent where no token belongs — ever
appears in what ``vifbind serve`` logs or in the command's errors, and token files are 0600."""

from __future__ import annotations

import os
import secrets
import socket
import stat
from pathlib import Path

import httpx
import pytest

from vifbind.client import Client
from vifbind.errors import Forbidden, Unauthorized

from builders import host, vxlan
from cli_run import assert_one_line_error, run
from harness import ServeProcess, start_serve

pytestmark = pytest.mark.e2e


def exercise(served: ServeProcess, tokens: dict[str, str]) -> None:
    """Requests with every token, in every place and shape, answered or refused."""
    url = served.url
    admin = Client(url, tokens["admin"])
    net = admin.create_network([vxlan(7)], id="3f0c6b1e-1111-4a2b-8c3d-000000000001")
    port = admin.create_port(net.id)
    admin.report_host(host("cmp-1"))
    admin.bind(port.id, "cmp-1")
    agent = Client(url, tokens["agent"])
    agent.watch_host("cmp-1")
    with pytest.raises(Forbidden):
        agent.watch_host("cmp-2")
    for wrong in (tokens["wrong"], tokens["admin"][:-1] + "x", tokens["admin"] + "x"):
        with pytest.raises(Unauthorized):
            Client(url, wrong).list_networks()
    for header in (f"Basic {tokens['admin']}", f"Bearer {tokens['admin']} extra", tokens["admin"]):
        answer = httpx.get(f"{url}/v1/networks", headers={"Authorization": header}, timeout=10)
        assert answer.status_code == 401
    stray = httpx.get(f"{url}/v1/networks", params={"token": tokens["admin"]}, timeout=10)
    assert stray.status_code == 401
    # A refused write whose body carries the token.
    duplicate = httpx.post(
        f"{url}/v1/networks",
        json={"id": net.id, "name": tokens["admin"], "segments": [vxlan(8)]},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
        timeout=10,
    )
    assert duplicate.status_code == 409
    # A request uvicorn cannot parse, with the token in it: logged as invalid.
    port_number = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port_number), timeout=10) as raw:
        raw.sendall(f"GET /v1/networks HTTP/1.1\r\nAuthorization: Bearer {tokens['admin']}\r\n"
                    f"Content-Length: x{tokens['agent']}\r\n\r\n".encode())  # fmt: skip
        assert raw.recv(100).startswith(b"HTTP/1.1 400")


def test_no_token_is_ever_logged(tmp_path: Path, serve_processes: list[ServeProcess]) -> None:
    state = tmp_path / "state"
    served = start_serve(state, None, "--backends", "ovs")
    serve_processes.append(served)
    agent_file = tmp_path / "agent.token"
    created = run(
        "token", "create", "--role", "agent", "--host", "cmp-1",
        "--output", str(agent_file), "--state-dir", str(state),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert created.stdout == ""
    tokens = {
        "admin": (state / "admin.token").read_text().strip(),
        "agent": agent_file.read_text().strip(),
        "wrong": "vbt_" + secrets.token_urlsafe(32),
    }
    exercise(served, tokens)
    refused = run("network", "list", "--service", served.url, "--token", tokens["wrong"])
    assert_one_line_error(refused, 6, "unknown token")
    served.stop()
    log = served.log.read_text()
    assert "Invalid HTTP request" in log, "the log must be the service's, warnings included"
    for name, token in tokens.items():
        secret = token.removeprefix("vbt_")
        assert secret not in log, f"the {name} token is in the service's log"
        assert secret not in refused.stderr + created.stderr, f"the {name} token is in an error"


def test_token_files_are_0600_and_never_overwritten(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    state = tmp_path / "state"
    os.umask(old := os.umask(0o002))  # whatever the umask, the files are the owner's alone
    try:
        serve_processes.append(start_serve(state, None, "--backends", "ovs"))
        out = tmp_path / "compute.token"
        made = run("token", "create", "--role", "compute", "--output", str(out),
                   "--state-dir", str(state))  # fmt: skip
        assert made.returncode == 0, made.stderr
    finally:
        os.umask(old)
    for path in (state / "admin.token", out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert Client(serve_processes[0].url, out.read_text().strip()).list_ports() == []
    before = out.read_text()
    again = run("token", "create", "--role", "compute", "--output", str(out),
                "--state-dir", str(state))  # fmt: skip
    assert_one_line_error(again, 2, f"--output: {out} already exists")
    assert out.read_text() == before
    link = tmp_path / "link.token"
    link.symlink_to(tmp_path / "elsewhere")
    through = run("token", "create", "--role", "reader", "--output", str(link),
                  "--state-dir", str(state))  # fmt: skip
    assert_one_line_error(through, 2, "already exists")
    assert not (tmp_path / "elsewhere").exists()
