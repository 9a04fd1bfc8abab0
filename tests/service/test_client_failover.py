"""The client's failover between replicas: a replica that cannot be reached is skipped, the one
that answered is kept, and a request that may have been applied is never sent twice."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vifbind.client import Client
from vifbind.errors import InvalidInput, ServiceUnavailable
from vifbind.service.settings import ServiceSettings

from builders import vxlan
from cli_run import assert_one_line_error, run
from harness import RunningService, free_port, serve_in_thread


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    settings = ServiceSettings(state_dir=tmp_path_factory.mktemp("failover"), backends=("ovs",))
    with serve_in_thread(settings) as running:
        yield running


class DyingReplica:
    """A listener that reads one request and closes the connection without answering, as a
    replica killed while handling it would."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                self.requests.append(connection.recv(65536))

    def close(self) -> None:
        self.closing.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def dying() -> Iterator[DyingReplica]:
    replica = DyingReplica()
    yield replica
    replica.close()


def test_an_unreachable_replica_is_skipped_and_the_answering_one_kept(
    live: RunningService,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with Client([dead, live.url], live.admin_token) as api:
        assert api.base_url == dead
        network = api.create_network([vxlan(5)], name="via-failover")
        assert api.base_url == live.url
        assert api.get_network(network.id).name == "via-failover"
        assert api.base_urls == (dead, live.url)
    with Client(live.url + "/", live.admin_token) as single:
        assert single.base_urls == (live.url,)


def test_no_replica_reachable_names_every_url(tmp_path: Path) -> None:
    dead = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    with (
        Client(dead, "vbt_x") as api,
        pytest.raises(ServiceUnavailable, match=f"{dead[0]}: .*refused.*; {dead[1]}: .*refused"),
    ):
        api.list_networks()
    with pytest.raises(InvalidInput, match="no service URL"):
        Client([], "vbt_x")


def test_a_write_cut_off_mid_request_is_not_sent_again(
    live: RunningService, dying: DyingReplica
) -> None:
    with Client([dying.url, live.url], live.admin_token) as api:
        before = api.list_networks()  # a read is repeated on the next replica
        assert api.base_url == live.url
        assert len(dying.requests) == 1
    with Client([dying.url, live.url], live.admin_token) as api:
        with pytest.raises(ServiceUnavailable, match=f"{dying.url}: "):
            api.create_network([vxlan(6)], name="maybe-applied")
        assert dying.requests[-1].startswith(b"POST /v1/networks")
        assert api.list_networks() == before, "the POST must not have reached the next replica"


def test_the_command_takes_replicas_separated_by_commas(live: RunningService) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    listed = run(
        "network", "list", "--json", "--service", f"{dead},{live.url}", "--token", live.admin_token
    )
    assert listed.returncode == 0, listed.stderr
    assert_one_line_error(
        run("network", "list", "--service", ",", "--token", "x"), 2, "--service: ',' names no URL"
    )
