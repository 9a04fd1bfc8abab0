"""``python -m bench.plug_ovs`` runs from a checkout and records what it measured: a smoke run
(``--quick``, 20 VIFs) of vifbind's agent path, ``Host.apply``, os-vif (its own virtualenv)
and the raw floor on one private OVS. Speed itself is never asserted here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recorded import figure, run_quick

SIDES = ("vifbind agent", "vifbind Host.apply", "os-vif native", "os-vif vsctl", "floor")

pytestmark = pytest.mark.e2e


def test_quick_run_measures_every_side(tmp_path: Path) -> None:
    printed, recorded = run_quick("bench.plug_ovs", tmp_path)
    assert "plug rate" in printed, "the table for people is printed"
    assert re.search(r"^### plug_ovs — \d{4}-\d\d-\d\d \d\d:\d\d UTC — quick run", recorded, re.M)
    assert re.search(r"^Versions: vifbind [0-9a-f]{12}.*os-vif \d", recorded, re.M)
    for side in SIDES:
        plug, unplug = figure(recorded, side, 20, "plug"), figure(recorded, side, 20, "unplug")
        assert plug > 0 and unplug > 0
        assert figure(recorded, side, 20, "plug rate") > 0
        assert figure(recorded, side, 20, "unplug rate") > 0
    assert figure(recorded, "vifbind agent", 20, "peak RSS") > 20, "the agent process's"
    assert figure(recorded, "os-vif native", 20, "peak RSS") > 20, "the os-vif worker's"
    assert figure(recorded, "os-vif native", 20, "privsep peak RSS") > 10, "its privsep daemon"
    assert figure(recorded, "floor", 20, "plug OVSDB") > 0
