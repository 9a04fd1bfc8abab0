"""``python -m bench.latency`` runs from a checkout and records what it measured: a smoke run
(``--quick``: 10 ports per variant) with plain OVS and with OVN, each beside its raw floor.
Speed itself is never asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common.compute import missing_prerequisite

REPOSITORY = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def figure(recorded: str, side: str, datapath: str, name: str) -> float:
    """The median of one figure of the row labelled ``side | datapath``."""
    row = re.search(
        rf"^\| {re.escape(side)} \| {datapath} \|.*?(?=^\| [a-z]|\Z)", recorded, re.M | re.S
    )
    assert row is not None, f"no row for {side} {datapath}:\n{recorded}"
    value = re.search(rf"\| {re.escape(name)} \([^)]*\) \| ([\d,.]+) \|", row.group(0))
    assert value is not None, f"no {name} for {side} {datapath}:\n{row.group(0)}"
    return float(value.group(1).replace(",", ""))


def test_quick_run_with_ovs_and_ovn(tmp_path: Path) -> None:
    why = missing_prerequisite()
    if why is not None:
        pytest.skip(f"bench.latency: {why}")
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench.latency", "--quick", "--variants", "ovs-tap,ovn",
         "--output", str(output)],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bind → plugged" in done.stdout, "the table for people is printed"
    recorded = output.read_text()
    assert re.search(r"^### latency — \d{4}-\d\d-\d\d \d\d:\d\d UTC — quick run", recorded, re.M)
    assert re.search(
        r"^Versions: vifbind [0-9a-f]{12}.* · Open vSwitch ovs-vswitchd", recorded, re.M
    )
    for datapath, floor in (("ovs", "raw add-port → ofport"), ("ovn", "raw add-port → up=true")):
        p50 = figure(recorded, "vifbind", datapath, "bind → plugged p50")
        assert 0 < figure(recorded, "vifbind", datapath, "bind → plugged min") <= p50
        assert p50 <= figure(recorded, "vifbind", datapath, "bind → plugged max")
        assert figure(recorded, "vifbind", datapath, "Host.apply p50") > 0
        assert figure(recorded, "vifbind", datapath, "bind request p50") > 0
        assert figure(recorded, "vifbind", datapath, "agent peak RSS") > 20
        assert (
            figure(recorded, f"floor: {floor}", datapath, f"{floor.removeprefix('raw ')} p50") > 0
        )
    assert re.search(
        r"^- (met|\*\*missed\*\*): bind → plugged p50 ≤ 30 ms with plain OVS", recorded, re.M
    )
    assert re.search(
        r"^- (met|\*\*missed\*\*): bind → plugged p50 ≤ 60 ms with OVN", recorded, re.M
    )
