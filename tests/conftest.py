"""Suite-wide rules.

With ``VIFBIND_REQUIRE_E2E=1`` (set by ``.ci/run``) a skipped test is a failed test: a missing
daemon, privilege or package in CI must never pass for green.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_E2E = os.environ.get("VIFBIND_REQUIRE_E2E") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_E2E and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped while VIFBIND_REQUIRE_E2E=1 (prerequisite missing): {reason}"
