"""Private OVN daemons for tests: central (NB, SB, ovn-northd) and a hypervisor namespace.

Every daemon runs from a private run directory with its own unix sockets, pid files and logs
(shared/recipes/ovn-single-host.sh is the proven recipe). The hypervisor's OVS uses the
userspace datapath inside a namespace of its own: one ovs-vswitchd per namespace. Everything
is removed by ``close()``, which the fixtures call even when a test fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
PROGRAMS = (
    "ovsdb-tool",
    "ovsdb-server",
    "ovn-nbctl",
    "ovn-sbctl",
    "ovn-northd",
    "ovs-vsctl",
    "ovs-vswitchd",
    "ovn-controller",
    "ip",
    "ping",
)


def require_ovn() -> None:
    """Skip (a failure in CI) unless root and the OVS/OVN programs and schemas are here."""
    if os.geteuid() != 0:
        pytest.skip("OVN end-to-end tests need root (network namespaces, ovs-vswitchd)")
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    missing += [str(s) for s in (NB_SCHEMA, SB_SCHEMA, OVS_SCHEMA) if not s.exists()]
    if missing:
        pytest.skip(f"OVN end-to-end tests need {', '.join(missing)} (scripts/setup.sh)")


def run(*command: str, env: dict[str, str] | None = None) -> str:
    """Run a command; its stdout, or an AssertionError carrying its stderr."""
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=30
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


def _ovsdb_value(value: Any) -> Any:
    """Decode one OVSDB JSON datum (``["set", …]``, ``["map", …]``, ``["uuid", …]``)."""
    if isinstance(value, list):
        kind, body = value
        if kind == "set":
            return [_ovsdb_value(v) for v in body]
        if kind == "map":
            return {_ovsdb_value(k): _ovsdb_value(v) for k, v in body}
        return body
    return value


def pings(netns: str, address: str) -> bool:
    """Whether one ping from the namespace to ``address`` gets an answer within a second."""
    command = ["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address]
    return subprocess.run(command, capture_output=True, check=False, timeout=10).returncode == 0


def as_list(value: Any) -> list[Any]:
    """A set column as a list (OVSDB JSON writes a one-element set as the bare element)."""
    return value if isinstance(value, list) else [value]


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs. A detached daemon is not our child: once it exits it may
    stay a zombie until this machine's init reaps it, which can take a while."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class _Daemons:
    """Daemons started with --detach --pidfile in ``rundir``, stopped by their pid files."""

    def __init__(self, rundir: Path) -> None:
        self.rundir = rundir
        self.env = os.environ | {
            var: str(rundir)
            for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVN_RUNDIR", "OVN_LOGDIR")
        }

    def start(self, name: str, *command: str, netns: str | None = None) -> None:
        files = self.rundir / name
        prefix = ("ip", "netns", "exec", netns) if netns else ()
        daemon = (f"--pidfile={files}.pid", f"--log-file={files}.log", "--detach")
        run(*prefix, *command, *daemon, env=self.env)

    def stop(self, name: str) -> None:
        pidfile = self.rundir / f"{name}.pid"
        try:
            pid = int(pidfile.read_text())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pidfile.unlink(missing_ok=True)

    def log(self, name: str) -> str:
        path = self.rundir / f"{name}.log"
        return path.read_text() if path.exists() else ""


class OvnCentral:
    """An OVN northbound ovsdb-server; with ``northd=True`` also southbound and ovn-northd."""

    def __init__(self, northd: bool) -> None:
        self.rundir = Path(tempfile.mkdtemp(prefix=f"vb-ovn-{os.getpid()}-"))
        self.daemons = _Daemons(self.rundir)
        self.nb_remote = f"unix:{self.rundir}/nb.sock"
        self.sb_remote = f"unix:{self.rundir}/sb.sock"
        self._northd = northd
        try:
            run("ovsdb-tool", "create", str(self.rundir / "nb.db"), str(NB_SCHEMA))
            self.start_nb()
            self.nbctl("init")
            if northd:
                run("ovsdb-tool", "create", str(self.rundir / "sb.db"), str(SB_SCHEMA))
                self._ovsdb("sb")
                run("ovn-sbctl", f"--db={self.sb_remote}", "init")
                self.daemons.start(
                    "northd",
                    "ovn-northd",
                    f"--ovnnb-db={self.nb_remote}",
                    f"--ovnsb-db={self.sb_remote}",
                    f"--unixctl={self.rundir}/northd.ctl",
                )
        except BaseException:
            self.close()
            raise

    def _ovsdb(self, name: str) -> None:
        self.daemons.start(
            name,
            "ovsdb-server",
            str(self.rundir / f"{name}.db"),
            f"--remote=punix:{self.rundir}/{name}.sock",
            f"--unixctl={self.rundir}/{name}.ctl",
        )

    def start_nb(self) -> None:
        """Start (or restart) the northbound database server on its existing database."""
        self._ovsdb("nb")

    def stop_nb(self) -> None:
        """Stop the northbound database server; its database file stays."""
        self.daemons.stop("nb")

    def nbctl(self, *args: str) -> str:
        """Run ovn-nbctl against this NB; its output."""
        return run("ovn-nbctl", f"--db={self.nb_remote}", *args)

    def wait_hypervisors(self) -> None:
        """Return once every chassis has applied the current NB contents (``--wait=hv``)."""
        self.nbctl("--timeout=10", "--wait=hv", "sync")

    def rows(self, table: str, *conditions: str) -> list[dict[str, Any]]:
        """Rows of an NB table (``find`` conditions such as ``name=x``), read by ovn-nbctl."""
        verb = ("find", table, *conditions) if conditions else ("list", table)
        out = json.loads(self.nbctl("--format=json", "--data=json", *verb))
        return [
            {col: _ovsdb_value(cell) for col, cell in zip(out["headings"], row, strict=True)}
            for row in out["data"]
        ]

    def row(self, table: str, name: str) -> dict[str, Any] | None:
        """The row of that name, or None."""
        rows = self.rows(table, f"name={json.dumps(name)}")
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def close(self) -> None:
        """Stop every daemon and remove the run directory."""
        for name in ("northd", "sb", "nb"):
            self.daemons.stop(name)
        shutil.rmtree(self.rundir, ignore_errors=True)


class Hypervisor:
    """A test host: a namespace with its own OVS (userspace datapath, ``br-int``) and
    ovn-controller registered with ``central``'s southbound database as a chassis."""

    def __init__(self, central: OvnCentral) -> None:
        self.token = secrets.token_hex(3)
        self.netns = f"vb-hv-{os.getpid()}-{self.token}"
        self.rundir = Path(tempfile.mkdtemp(prefix=f"vb-hv-{os.getpid()}-"))
        self.daemons = _Daemons(self.rundir)
        self.db = f"unix:{self.rundir}/db.sock"
        self._ports = 0
        self._guests: list[str] = []
        try:
            run("ip", "netns", "add", self.netns)
            run("ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up")
            run("ovsdb-tool", "create", str(self.rundir / "conf.db"), str(OVS_SCHEMA))
            self.daemons.start(
                "ovsdb",
                "ovsdb-server",
                str(self.rundir / "conf.db"),
                f"--remote=punix:{self.rundir}/db.sock",
                f"--unixctl={self.rundir}/ovsdb.ctl",
            )
            self.vsctl("--no-wait", "init")
            self.daemons.start(
                "vswitchd",
                "ovs-vswitchd",
                self.db,
                f"--unixctl={self.rundir}/vswitchd.ctl",
                netns=self.netns,
            )
            self.vsctl(
                "add-br", "br-int", "--", "set", "bridge", "br-int",
                "datapath_type=netdev", "fail-mode=secure",
            )  # fmt: skip
            self.vsctl(
                "set", "open_vswitch", ".",
                f"external_ids:system-id=vb-chassis-{self.token}",
                f"external_ids:ovn-remote={central.sb_remote}",
                "external_ids:ovn-encap-type=geneve",
                "external_ids:ovn-encap-ip=127.0.0.1",
                "external_ids:ovn-bridge-datapath-type=netdev",
            )  # fmt: skip
            # ovn-controller 23.03 has no --unixctl: OVN_RUNDIR/OVS_RUNDIR place its socket.
            self.daemons.start("ovn-controller", "ovn-controller", self.db, netns=self.netns)
        except BaseException:
            self.close()
            raise

    def vsctl(self, *args: str) -> str:
        """Run ovs-vsctl against this host's OVS."""
        return run("ovs-vsctl", f"--db={self.db}", *args)

    def plug(self, iface_id: str, mac: str) -> str:
        """Add an interface on br-int claiming logical port ``iface_id``; its name."""
        self._ports += 1
        name = f"vb{self.token}p{self._ports}"
        self.vsctl(
            "add-port", "br-int", name, "--", "set", "Interface", name, "type=internal",
            f"external_ids:iface-id={iface_id}", f"external_ids:attached-mac={mac}",
            "external_ids:iface-status=active",
        )  # fmt: skip
        return name

    def guest(self, iface_id: str, mac: str, ip: str) -> str:
        """A guest namespace whose eth0 (``mac``, ``ip``/24) is plugged as ``iface_id``; its
        name. The guest goes with the hypervisor."""
        self._ports += 1
        netns = f"{self.netns}-g{self._ports}"
        veth = f"vb{self.token}g{self._ports}"
        run("ip", "netns", "add", netns)
        self._guests.append(netns)
        in_host = ("ip", "netns", "exec", self.netns)
        in_guest = ("ip", "netns", "exec", netns)
        run(*in_host, "ip", "link", "add", veth, "type", "veth", "peer", "eth0", "netns", netns)
        run(*in_guest, "ip", "link", "set", "eth0", "address", mac)
        run(*in_guest, "ip", "addr", "add", f"{ip}/24", "dev", "eth0")
        run(*in_guest, "ip", "link", "set", "eth0", "up")
        run(*in_host, "ip", "link", "set", veth, "up")
        self.vsctl(
            "add-port", "br-int", veth, "--", "set", "Interface", veth,
            f"external_ids:iface-id={iface_id}", f"external_ids:attached-mac={mac}",
            "external_ids:iface-status=active",
        )  # fmt: skip
        return netns

    def unplug(self, name: str) -> None:
        """Remove an interface added by :meth:`plug`."""
        self.vsctl("--if-exists", "del-port", "br-int", name)

    def close(self) -> None:
        """Stop ovn-controller and OVS, delete the namespace and the run directory."""
        for name in ("ovn-controller", "vswitchd", "ovsdb"):
            self.daemons.stop(name)
        for netns in [*self._guests, self.netns]:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
        shutil.rmtree(self.rundir, ignore_errors=True)
