"""nft commands through nftables' library, in the agent's nft worker inside the host's namespace:
they land in that namespace only, a refusal says nft's words, a change made by another tool is
seen, and a command that hangs is an error rather than a stuck agent. Real nftables in
namespaces of the test's own."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vifbind.host import namespaces
from vifbind.host.protections.libnft import Libnft
from vifbind.sandbox import Namespace

pytestmark = pytest.mark.e2e


@pytest.fixture
def nft_in() -> Iterator[Callable[[Namespace], Libnft]]:
    """``Libnft`` of a test namespace; every worker started is stopped at teardown."""
    made: list[Libnft] = []

    def make(ns: Namespace) -> Libnft:
        made.append(Libnft(Path("/run/netns") / ns.name))
        return made[-1]

    yield make
    for nft in made:
        nft.close()


def test_commands_run_in_the_host_namespace_only(netns, nft_in) -> None:
    host, other = netns("host"), netns("other")
    nft = nft_in(host)
    nft.run("add table inet vbtlibnft")
    nft.run(
        json.dumps({"nftables": [{"add": {"chain": {
            "family": "inet", "table": "vbtlibnft", "name": "c1"}}}]}),
        json=True,
    )  # fmt: skip
    assert "chain c1" in host.exec("nft", "list", "table", "inet", "vbtlibnft")
    assert "vbtlibnft" not in other.exec("nft", "list", "tables")
    listing = nft.run("list chains")
    assert "table inet vbtlibnft" in listing and "chain c1" in listing


def test_a_dry_run_changes_nothing(netns, nft_in) -> None:
    host = netns("dry")
    nft = nft_in(host)
    assert nft.run("add table inet vbtdry", dry_run=True) == ""
    assert "vbtdry" not in host.exec("nft", "list", "tables")
    nft.run("add table inet vbtdry")
    assert "vbtdry" in host.exec("nft", "list", "tables")


def test_a_refusal_carries_nfts_message_not_the_batch(netns, nft_in) -> None:
    host = netns("refused")
    nft = nft_in(host)
    batch = {"nftables": [{"add": {"chain": {"family": "inet", "table": "absent",
                                             "name": "c" * 20}}}]}  # fmt: skip
    with pytest.raises(OSError, match=r"^nft failed: .*Error: No such file") as refused:
        nft.run(json.dumps(batch), json=True)
    assert "c" * 20 not in str(refused.value), "the batch is not echoed"
    with pytest.raises(OSError, match="syntax error"):
        nft.run("add table inet {")
    assert nft.run("list tables") == "", "a refused command leaves nothing behind"


def test_changes_made_by_another_tool_are_seen(netns, nft_in) -> None:
    host = netns("seen")
    nft = nft_in(host)
    assert "vbtother" not in nft.run("list chains")
    host.exec("nft", "add", "table", "inet", "vbtother")
    host.exec("nft", "add", "chain", "inet", "vbtother", "mine")
    assert "chain mine" in nft.run("list chains")
    host.exec("nft", "delete", "table", "inet", "vbtother")
    assert "vbtother" not in nft.run("list chains")


def test_a_missing_namespace_is_an_error_naming_it(tmp_path) -> None:
    gone = tmp_path / "no-such-namespace"
    nft = Libnft(gone)
    with pytest.raises(OSError, match="no-such-namespace"):
        nft.run("list tables")
    nft.close()


def test_a_hung_command_is_an_error_and_the_next_one_runs(netns, nft_in, monkeypatch) -> None:
    host = netns("hung")
    nft = nft_in(host)
    nft.run("list tables")
    stuck = nft.worker_pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)  # a worker that never answers
    monkeypatch.setattr(namespaces, "RUN_TIMEOUT", 0.2)
    with pytest.raises(OSError, match=r"nft did not finish within 0\.2 s"):
        nft.run("list ruleset")
    assert not Path(f"/proc/{stuck}").exists(), "the stuck worker is gone"
    nft.run("add table inet vbthung")
    assert nft.worker_pid not in (None, stuck)
    assert "vbthung" in host.exec("nft", "list", "tables")


def test_the_worker_ends_with_the_object_that_started_it(netns) -> None:
    host = netns("ends")
    nft = Libnft(Path("/run/netns") / host.name)
    nft.run("list tables")
    pid = nft.worker_pid
    assert pid is not None
    nft.close()
    assert nft.worker_pid is None and not Path(f"/proc/{pid}").exists()
