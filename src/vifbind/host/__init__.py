"""The host side: make a compute host match its bindings (devices, Open vSwitch, nftables).

Entry point: ``Host(config)`` with ``facts()``, ``apply()``, ``check()``, ``reconcile()`` and
``unplug()``. This package imports the contract and the errors, never the service.
"""

from vifbind.host.config import HostConfig, load_config
from vifbind.host.host import Host, Peers
from vifbind.host.reconcile import Drift
from vifbind.host.results import Outcome, PortResult, ReconcileReport

__all__ = [
    "Drift",
    "Host",
    "HostConfig",
    "Outcome",
    "Peers",
    "PortResult",
    "ReconcileReport",
    "load_config",
]
