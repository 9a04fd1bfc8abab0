"""Private Open vSwitch and OVN daemons and network namespaces, for the demo, the benchmarks and
the tests: each daemon set in its own run directory, each userspace ovs-vswitchd in its own
host namespace (two in one namespace collide on their devices), every process stopped by the
pid it wrote, every namespace and directory removed by ``stop``/``delete``.

Not for production: there, Open vSwitch and OVN are the operator's, and vifbind only talks to
them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"
SB_SCHEMA = "/usr/share/ovn/ovn-sb.ovsschema"


class SandboxError(RuntimeError):
    """A sandbox command or daemon failed; the message has what it printed."""


def run(*argv: str, netns: str | None = None, check: bool = True, timeout: float = 60) -> str:
    """Run a command (inside ``netns`` when given) and return its stdout."""
    command = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    if check and done.returncode != 0:
        raise SandboxError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; ``SandboxError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SandboxError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Namespace:
    """A network namespace created here (and deleted by ``delete``)."""

    name: str

    @classmethod
    def create(cls, name: str) -> Namespace:
        """Create ``name`` with its loopback up."""
        run("ip", "netns", "add", name)
        run("ip", "-n", name, "link", "set", "lo", "up")
        return cls(name)

    def delete(self) -> None:
        """Delete the namespace (and with it every device in it); absent is fine."""
        run("ip", "netns", "delete", self.name, check=False)

    def ip(self, *args: str, check: bool = True) -> str:
        """``ip`` inside the namespace."""
        return run("ip", "-n", self.name, *args, check=check)

    def exec(self, *args: str, check: bool = True) -> str:
        """Any command inside the namespace."""
        return run(*args, netns=self.name, check=check)

    def addr(self, address: str, dev: str = "eth0") -> None:
        """Add an address (``IP/len``) to a device of the namespace."""
        self.ip("addr", "add", address, "dev", dev)

    def ping(
        self, address: str, count: int = 2, timeout: float = 2, source: str | None = None
    ) -> bool:
        """Whether ``address`` answers (from ``source`` when given)."""
        options = ["-I", source] if source else []
        done = subprocess.run(
            ["ip", "netns", "exec", self.name, "ping", "-c", str(count), "-i", "0.2",
             "-W", str(timeout), *options, address],
            capture_output=True, check=False, timeout=30,
        )  # fmt: skip
        return done.returncode == 0

    def eventually_pings(self, address: str, timeout: float = 10) -> bool:
        """Whether ``address`` answers within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping(address, count=1, timeout=1):
                return True
        return False


def _is_ours(pid: int, rundir: Path) -> bool:
    try:
        return str(rundir) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


@dataclass
class Daemons:
    """Processes started from one private run directory; stopped by their pid files."""

    rundir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vbt-", dir="/tmp")))
    pidfiles: list[Path] = field(default_factory=list)
    argv: dict[str, tuple[list[str], str | None]] = field(default_factory=dict)
    """How each daemon was started, so that ``restart`` can do it again."""

    def restart(self, name: str) -> None:
        """Start a killed daemon again, as it was first started."""
        argv, netns = self.argv[name]
        self.start(name, argv, netns)

    def env(self) -> dict[str, str]:
        """Environment that keeps OVS and OVN tools inside the run directory."""
        d = str(self.rundir)
        keys = ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVN_RUNDIR", "OVN_LOGDIR", "OVN_DBDIR")
        return os.environ | dict.fromkeys(keys, d)

    def start(self, name: str, argv: list[str], netns: str | None = None) -> None:
        """Start a daemon that detaches and writes ``<rundir>/<name>.pid``."""
        pidfile = self.rundir / f"{name}.pid"
        self.argv[name] = (argv, netns)
        command = [
            *argv,
            f"--pidfile={pidfile}",
            f"--log-file={self.rundir / name}.log",
            "--detach",
            "--no-chdir",
        ]
        if netns:
            command = ["ip", "netns", "exec", netns, *command]
        if pidfile not in self.pidfiles:
            self.pidfiles.append(pidfile)
        done = subprocess.run(
            command, env=self.env(), check=False, capture_output=True, text=True, timeout=30
        )
        if done.returncode != 0:
            raise SandboxError(f"{name} did not start: {done.stderr.strip()}")
        wait_for(pidfile.exists, what=f"{name} pid file")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one daemon (a fault for a test to survive); ``start`` brings it back."""
        self._terminate([self.rundir / f"{name}.pid"], sig)

    def stop(self) -> None:
        """Stop every daemon started here (last first) and remove the run directory."""
        self._terminate(list(reversed(self.pidfiles)), signal.SIGTERM)
        shutil.rmtree(self.rundir, ignore_errors=True)

    def _terminate(self, pidfiles: list[Path], sig: int) -> None:
        pids = []
        for pidfile in pidfiles:
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            if _is_ours(pid, self.rundir):
                os.kill(pid, sig)
                pids.append(pid)
        deadline = time.monotonic() + 5
        for pid in pids:
            while _is_ours(pid, self.rundir) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _is_ours(pid, self.rundir):
                os.kill(pid, signal.SIGKILL)
        for pidfile in pidfiles:
            pidfile.unlink(missing_ok=True)


@dataclass
class Ovs:
    """ovsdb-server + ovs-vswitchd (userspace datapath) serving one host namespace."""

    netns: str
    daemons: Daemons = field(default_factory=Daemons)

    @property
    def socket(self) -> Path:
        """The OVSDB unix socket."""
        return self.daemons.rundir / "db.sock"

    @property
    def remote(self) -> str:
        """The OVSDB remote (``unix:…``)."""
        return f"unix:{self.socket}"

    def vsctl(self, *args: str) -> str:
        """``ovs-vsctl`` against this OVS."""
        return run("ovs-vsctl", "--timeout=20", f"--db={self.remote}", *args)

    def start(self, bridge: str = "br-int", fail_mode: str = "standalone") -> Ovs:
        """Start both daemons and create ``bridge`` with the netdev datapath."""
        d = self.daemons.rundir
        run("ovsdb-tool", "create", str(d / "conf.db"), VSWITCH_SCHEMA)
        self.daemons.start(
            "ovsdb-server",
            [
                "ovsdb-server",
                str(d / "conf.db"),
                f"--remote=punix:{self.socket}",
                f"--unixctl={d / 'ovsdb-server.ctl'}",
            ],
            self.netns,
        )
        wait_for(self.socket.exists, what="OVSDB socket")
        self.vsctl("--no-wait", "init")
        self.daemons.start(
            "ovs-vswitchd",
            ["ovs-vswitchd", self.remote, f"--unixctl={d / 'ovs-vswitchd.ctl'}"],
            self.netns,
        )
        self.vsctl(
            "add-br", bridge, "--", "set", "bridge", bridge,
            "datapath_type=netdev", f"fail-mode={fail_mode}",
            "other-config:disable-in-band=true",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the daemons and remove the run directory."""
        self.daemons.stop()


@dataclass
class OvnCentral:
    """OVN northbound + southbound databases and ovn-northd."""

    daemons: Daemons = field(default_factory=Daemons)

    @property
    def nb(self) -> str:
        """The northbound remote."""
        return f"unix:{self.daemons.rundir / 'nb.sock'}"

    @property
    def sb(self) -> str:
        """The southbound remote."""
        return f"unix:{self.daemons.rundir / 'sb.sock'}"

    def nbctl(self, *args: str) -> str:
        """``ovn-nbctl`` against this NB."""
        return run("ovn-nbctl", "--timeout=20", f"--db={self.nb}", *args)

    def start(self) -> OvnCentral:
        """Create both databases and start them and ovn-northd."""
        d = self.daemons.rundir
        for db, schema in (("nb", NB_SCHEMA), ("sb", SB_SCHEMA)):
            run("ovsdb-tool", "create", str(d / f"{db}.db"), schema)
            self.daemons.start(
                db,
                [
                    "ovsdb-server",
                    str(d / f"{db}.db"),
                    f"--remote=punix:{d / db}.sock",
                    f"--unixctl={d / db}.ctl",
                ],
            )
            wait_for((d / f"{db}.sock").exists, what=f"{db} socket")
        self.nbctl("init")
        run("ovn-sbctl", f"--db={self.sb}", "init")
        self.daemons.start(
            "ovn-northd",
            [
                "ovn-northd",
                f"--ovnnb-db={self.nb}",
                f"--ovnsb-db={self.sb}",
                f"--unixctl={d / 'northd.ctl'}",
            ],
        )
        return self

    def attach(self, ovs: Ovs, chassis: str, encap_ip: str) -> None:
        """Run ovn-controller for ``ovs``'s host (23.03 has no --unixctl: OVN_RUNDIR says)."""
        ovs.vsctl(
            "set", "open_vswitch", ".",
            f"external_ids:system-id={chassis}",
            f"external_ids:ovn-remote={self.sb}",
            "external_ids:ovn-encap-type=geneve",
            f"external_ids:ovn-encap-ip={encap_ip}",
            "external_ids:ovn-bridge-datapath-type=netdev",
        )  # fmt: skip
        ovs.daemons.start("ovn-controller", ["ovn-controller", ovs.remote], ovs.netns)

    def stop(self) -> None:
        """Stop the daemons and remove the run directory."""
        self.daemons.stop()
