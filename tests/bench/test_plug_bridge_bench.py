"""``python -m bench.plug_bridge`` runs from a checkout and records what it measured: a smoke
run (``--quick``, 20 guest namespaces) of vifbind's agent path, ``Host.apply``, the CNI bridge
plugin and the raw floor. Speed itself is never asserted here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recorded import figure, run_quick

SIDES = ("vifbind agent", "vifbind Host.apply", "CNI bridge", "floor")

pytestmark = pytest.mark.e2e


def test_quick_run_measures_every_side(tmp_path: Path) -> None:
    printed, recorded = run_quick("bench.plug_bridge", tmp_path)
    assert "plug rate" in printed, "the table for people is printed"
    title = r"^### plug_bridge — \d{4}-\d\d-\d\d \d\d:\d\d UTC — quick run"
    assert re.search(title, recorded, re.M)
    versions = r"^Versions: vifbind [0-9a-f]{12}.*containernetworking-plugins \d"
    assert re.search(versions, recorded, re.M)
    for side in SIDES:
        assert figure(recorded, side, 20, "plug") > 0
        assert figure(recorded, side, 20, "unplug") > 0
        assert figure(recorded, side, 20, "plug rate") > 0
    assert figure(recorded, "vifbind agent", 20, "peak RSS") > 20, "the agent process's"
