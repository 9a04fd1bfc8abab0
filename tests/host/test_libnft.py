"""nft commands through nftables' library, in a thread inside the host's namespace: they land
in that namespace only, a refusal says nft's words, a change made by another tool is seen, and a
command that hangs is an error rather than a stuck agent. Real nftables in namespaces of the
test's own."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from vifbind.host import namespaces
from vifbind.host.protections import libnft
from vifbind.host.protections.libnft import Libnft

pytestmark = pytest.mark.e2e


def test_commands_run_in_the_host_namespace_only(netns) -> None:
    host, other = netns("host"), netns("other")
    nft = Libnft(Path("/run/netns") / host.name)
    try:
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
    finally:
        nft.close()


def test_a_dry_run_changes_nothing(netns) -> None:
    host = netns("dry")
    nft = Libnft(Path("/run/netns") / host.name)
    try:
        assert nft.run("add table inet vbtdry", dry_run=True) == ""
        assert "vbtdry" not in host.exec("nft", "list", "tables")
        nft.run("add table inet vbtdry")
        assert "vbtdry" in host.exec("nft", "list", "tables")
    finally:
        nft.close()


def test_a_refusal_carries_nfts_message_not_the_batch(netns) -> None:
    host = netns("refused")
    nft = Libnft(Path("/run/netns") / host.name)
    try:
        batch = {"nftables": [{"add": {"chain": {"family": "inet", "table": "absent",
                                                 "name": "c" * 20}}}]}  # fmt: skip
        with pytest.raises(OSError, match=r"^nft failed: .*Error: No such file") as refused:
            nft.run(json.dumps(batch), json=True)
        assert "c" * 20 not in str(refused.value), "the batch is not echoed"
        with pytest.raises(OSError, match="syntax error"):
            nft.run("add table inet {")
        assert nft.run("list tables") == "", "a refused command leaves nothing behind"
    finally:
        nft.close()


def test_changes_made_by_another_tool_are_seen(netns) -> None:
    host = netns("seen")
    nft = Libnft(Path("/run/netns") / host.name)
    try:
        assert "vbtother" not in nft.run("list chains")
        host.exec("nft", "add", "table", "inet", "vbtother")
        host.exec("nft", "add", "chain", "inet", "vbtother", "mine")
        assert "chain mine" in nft.run("list chains")
        host.exec("nft", "delete", "table", "inet", "vbtother")
        assert "vbtother" not in nft.run("list chains")
    finally:
        nft.close()


def test_a_missing_namespace_is_an_error_naming_it(tmp_path) -> None:
    gone = tmp_path / "no-such-namespace"
    nft = Libnft(gone)
    with pytest.raises(OSError, match="no-such-namespace"):
        nft.run("list tables")
    nft.close()


def test_a_hung_command_is_an_error_and_the_next_one_runs(netns, monkeypatch) -> None:
    host = netns("hung")
    nft = Libnft(Path("/run/netns") / host.name)
    stuck = threading.Event()
    real_run = libnft._Context.run

    def hang_once(self: libnft._Context, command: str, as_json: bool, dry_run: bool) -> str:
        if command == "list ruleset":
            stuck.wait(10)
        return real_run(self, command, as_json, dry_run)

    monkeypatch.setattr(libnft._Context, "run", hang_once)
    monkeypatch.setattr(namespaces, "RUN_TIMEOUT", 0.2)
    try:
        with pytest.raises(OSError, match=r"nft did not finish within 0\.2 s"):
            nft.run("list ruleset")
        nft.run("add table inet vbthung")
        assert "vbthung" in host.exec("nft", "list", "tables")
    finally:
        stuck.set()
        nft.close()
