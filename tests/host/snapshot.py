"""The observable state of a test host, for "nothing changed" assertions."""

from __future__ import annotations

import re
import time

_TIMERS = re.compile(r"\b(\w+_timer)\s+[\d.]+")


def host_state(hv) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """``ip -d link``, ``ovs-vsctl show`` and ``nft -s list ruleset`` of ``hv``, once stable.

    Bridge timers tick and vswitchd follows device changes asynchronously (the bridge's MTU),
    so the state is read until two reads agree; timers are blanked.
    """
    previous = None
    for _ in range(50):
        current = (
            _TIMERS.sub(r"\1 -", hv.ns.ip("-d", "link")),
            hv.ovs.vsctl("show") if hv.config.ovsdb else "",
            hv.ns.exec("nft", "-s", "list", "ruleset"),
        )
        if current == previous:
            return current
        previous = current
        time.sleep(0.2)
    raise AssertionError("the host's state never settled")
