"""Hostile HTTP against a real ``vifbind serve``: oversized bodies (declared, or streamed without
a length), oversized request heads, deeply nested and malformed JSON — each refused with a 4xx,
with the process's memory bounded, nothing stored, and the service answering normally after."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from vifbind.service.app import MAX_BODY_BYTES

from builders import vxlan
from harness import ServeProcess, start_serve

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str]]:
    state: Path = tmp_path_factory.mktemp("hostile") / "state"
    process = start_serve(state, None, "--backends", "ovs")
    try:
        yield process, (state / "admin.token").read_text().strip()
    finally:
        process.stop(9)
    log = process.log.read_text()
    assert "Traceback" not in log and " ERROR " not in log, log


def post(served: tuple[ServeProcess, str], content: bytes | Iterator[bytes]) -> httpx.Response:
    process, token = served
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return httpx.post(f"{process.url}/v1/networks", content=content, headers=headers, timeout=60)


def resident_mib(process: ServeProcess) -> int:
    status = Path(f"/proc/{process.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


def raw_exchange(process: ServeProcess, head: bytes, stream: Iterable[bytes] = ()) -> bytes:
    """Send ``head`` then ``stream`` on one connection until the service answers or closes it;
    the answer's first bytes."""
    port = int(process.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        try:
            connection.sendall(head)
            for chunk in stream:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the service stopped reading: its answer is what matters
        try:
            return connection.recv(4096)
        except ConnectionResetError:
            return b""


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_a_streamed_body_over_the_limit_is_413(served: tuple[ServeProcess, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(3 * MAX_BODY_BYTES // 65536):
            yield b"0," * 32768
        yield b"0]"

    refused = post(served, chunks())
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["message"] == f"body: larger than {MAX_BODY_BYTES} bytes"


def test_a_streamed_body_under_the_limit_is_served(served: tuple[ServeProcess, str]) -> None:
    body = json.dumps({"name": "streamed", "segments": [vxlan(41)]}).encode()
    created = post(served, iter([body[:10], body[10:]]))
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "streamed"


def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    served: tuple[ServeProcess, str],
) -> None:
    process, token = served
    head = (
        f"POST /v1/networks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {100 * MiB}\r\n\r\n"
    ).encode()
    assert status_of(raw_exchange(process, head)) == 413


def test_an_oversized_request_head_is_refused_and_not_buffered(
    served: tuple[ServeProcess, str],
) -> None:
    process, token = served
    big_header = f"GET /v1/networks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
    answer = raw_exchange(process, (big_header + "X-Junk: " + "a" * 2 * MiB + "\r\n\r\n").encode())
    assert 400 <= status_of(answer) < 500, answer[:200]
    before = resident_mib(process)
    endless = (b"a" * MiB for _ in range(256))
    answer = raw_exchange(process, f"{big_header}X-Junk: ".encode(), endless)
    assert 400 <= status_of(answer) < 500, answer[:200]
    assert resident_mib(process) - before < 64, "the service buffered the head it refused"
    many = "".join(f"X-{i}: a\r\n" for i in range(MiB // 8))
    answer = raw_exchange(process, (big_header + many + "\r\n").encode())
    assert 400 <= status_of(answer) < 500, answer[:200]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"segments":' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"mtu":' + b"9" * 100_000 + b',"segments":[]}',
        b'{"name":"\xff\xfe","segments":[]}',
        b'{"name":"a","name":"b"',
    ],
    ids=["deep-arrays", "deep-objects", "deep-in-a-field", "huge-number", "bad-utf8", "truncated"],
)
def test_malformed_json_is_4xx(served: tuple[ServeProcess, str], body: bytes) -> None:
    refused = post(served, body)
    assert 400 <= refused.status_code < 500, refused.text
    assert "error" in refused.json()


def test_a_head_split_over_reads_and_pipelined_requests_are_served(
    served: tuple[ServeProcess, str],
) -> None:
    """The head limit counts only the head: a head sent byte by byte, and requests pipelined
    behind one another on one connection, are each answered."""
    process, _ = served
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    port = int(process.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in request:
            connection.sendall(bytes([byte]))
        connection.sendall(request * 3)
        answers = b""
        while answers.count(b"HTTP/1.1 200 ") < 4:
            received = connection.recv(65536)
            assert received, answers
            answers += received
    assert answers.count(b"HTTP/1.1 ") == 4


def test_the_service_is_unharmed(served: tuple[ServeProcess, str]) -> None:
    process, token = served
    assert httpx.get(f"{process.url}/healthz", timeout=10).status_code == 200
    listed = httpx.get(
        f"{process.url}/v1/networks", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert [n["name"] for n in listed.json()] == ["streamed"]
