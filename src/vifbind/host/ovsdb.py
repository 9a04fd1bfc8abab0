"""The host's Open vSwitch through native OVSDB (ovsdbapp): one connection, batched transactions.

Several ports are added (or removed) in one transaction, and the transaction returns only once
ovs-vswitchd has applied it (``next_cfg``/``cur_cfg``), so an interface vswitchd could not open
is known at once (``ofport`` -1 and its ``error`` column) instead of being reported plugged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.open_vswitch import commands as vsctl_cmd
from ovsdbapp.schema.open_vswitch import impl_idl

from vifbind.errors import PlugError
from vifbind.host.layout import OvsPortSpec

PORT_SECONDS = 0.1
"""Time allowed to ovs-vswitchd per port of a transaction, on top of the configured timeout:
the userspace datapath reconfigures for every port it removes (some 10-20 ms each here), so
a batch of 2,000 takes far longer than one port."""

OWNER_KEY = "vifbind-port"
"""external_ids key that marks an interface as created by vifbind for that port."""


@dataclass(frozen=True)
class OvsInterface:
    """One interface as OVSDB has it."""

    name: str
    bridge: str | None
    type: str
    external_ids: dict[str, str]
    mtu_request: int | None
    ofport: int | None
    error: str | None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str | None:
        """The port this interface was created for, when vifbind created it."""
        return self.external_ids.get(OWNER_KEY)


def _one(value: Any) -> Any:
    # OVSDB optional columns come back as [] (absent) or [value].
    if isinstance(value, list):
        return value[0] if value else None
    return value


class Ovsdb:
    """One OVSDB connection to the host's Open vSwitch."""

    def __init__(self, remote: str, timeout: float) -> None:
        self._timeout = timeout
        try:
            idl = connection.OvsdbIdl.from_server(remote, "Open_vSwitch")
            self._conn = connection.Connection(idl=idl, timeout=timeout)
            # ovsdbapp keeps one connection per API class; a class per instance lets several
            # hosts (several vswitchd) be driven from one process.
            api_class = type("HostOvsdb", (impl_idl.OvsdbIdl,), {"_ovsdb_connection": None})
            self._api: Any = api_class(self._conn)
        except Exception as exc:
            raise PlugError(f"cannot connect to OVSDB at {remote}: {exc}") from None

    def close(self) -> None:
        """Stop the connection's thread."""
        self._conn.stop()

    def _run(self, what: str, command: Any) -> Any:
        try:
            return command.execute(check_error=True)
        except Exception as exc:
            raise PlugError(f"OVSDB {what}: {exc}") from None

    def iface_types(self) -> list[str]:
        """Interface types this vswitchd can create."""
        rows = self._run("read Open_vSwitch", self._api.db_list("Open_vSwitch"))
        return sorted(rows[0].get("iface_types", [])) if rows else []

    def bridge_datapath(self, bridge: str) -> str | None:
        """The datapath type of ``bridge`` (``system`` when unset), or ``None`` if absent."""
        rows = self._run(
            "read Bridge",
            self._api.db_find("Bridge", ("name", "=", bridge), columns=["datapath_type"]),
        )
        if not rows:
            return None
        return str(rows[0]["datapath_type"] or "system")

    def interfaces(self) -> list[OvsInterface]:
        """Every interface, with the bridge it is on."""
        bridges = self._run("read Bridge", self._api.db_list("Bridge", columns=["name", "ports"]))
        ports = self._run("read Port", self._api.db_list("Port", columns=["_uuid", "interfaces"]))
        ifaces = self._run(
            "read Interface",
            self._api.db_list(
                "Interface",
                columns=[
                    "_uuid",
                    "name",
                    "type",
                    "external_ids",
                    "mtu_request",
                    "ofport",
                    "error",
                    "options",
                ],
            ),
        )
        bridge_of_port = {p: b["name"] for b in bridges for p in b["ports"]}
        bridge_of_iface = {
            i: bridge_of_port.get(p["_uuid"]) for p in ports for i in p["interfaces"]
        }
        return [
            OvsInterface(
                name=row["name"],
                bridge=bridge_of_iface.get(row["_uuid"]),
                type=row["type"],
                external_ids=dict(row["external_ids"]),
                mtu_request=_one(row["mtu_request"]),
                ofport=_one(row["ofport"]),
                error=_one(row["error"]),
                options=dict(row["options"]),
            )
            for row in ifaces
        ]

    def add_ports(self, specs: Sequence[OvsPortSpec]) -> None:
        """Add every port of ``specs`` in one transaction (replacing same-named ports)."""
        commands = []
        for spec in specs:
            attrs: dict[str, Any] = {"external_ids": spec.external_ids}
            if spec.type:
                attrs["type"] = spec.type
            if spec.options:
                attrs["options"] = spec.options
            if spec.mtu_request is not None:
                attrs["mtu_request"] = spec.mtu_request
            commands.append(self._api.del_port(spec.name, if_exists=True))
            commands.append(self._api.add_port(spec.bridge, spec.name, may_exist=False, **attrs))
        self._transact(f"add ports {', '.join(s.name for s in specs)}", commands)

    def del_ports(self, names: Sequence[str]) -> None:
        """Remove every port of ``names`` in one transaction; absent ones are ignored."""
        commands = [self._api.del_port(name, if_exists=True) for name in names]
        self._transact(f"delete ports {', '.join(names)}", commands)

    def _transact(self, what: str, commands: list[Any]) -> None:
        if not commands:
            return
        ports = sum(1 for c in commands if isinstance(c, vsctl_cmd.DelPortCommand))
        try:
            with impl_idl.OvsVsctlTransaction(
                self._api,
                self._conn,
                timeout=self._timeout + PORT_SECONDS * ports,
                check_error=True,
            ) as txn:
                for command in commands:
                    txn.add(command)
        except Exception as exc:
            raise PlugError(f"OVSDB {what}: {exc}") from None
