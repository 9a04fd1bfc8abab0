"""vifbind's agent path for the plug benchmarks: a real ``vifbind serve`` holding N ports, and a
real ``vifbind agent`` process for one host that picks their bindings up through its watch.

The bindings of a run are made while the agent is held (SIGSTOP), so that they become
available to it at one instant (SIGCONT): the timed span is what the agent takes from there —
watch answers, plugs, reports — until the service has every port plugged (or, unbinding,
until the host holds nothing of them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.serve import VIFBIND, ServeProcess, start_serve
from vifbind.client import Client
from vifbind.contract import Binding
from vifbind.host.config import HostConfig

HOST = "bench-hv"
WAIT_SECONDS = 600.0
"""Longest wait for one run to finish (2,000 unplugs through the userspace datapath are slow)."""


@dataclass
class Fleet:
    """The service, its admin client, one network and the agent of ``HOST``."""

    service: ServeProcess
    api: Client
    network_id: str
    config: HostConfig
    agent: subprocess.Popen[str]
    log: Path

    def ports(self, count: int, **fields: Any) -> list[str]:
        """Create ``count`` ports on the network (not timed)."""
        return [self.api.create_port(self.network_id, **fields).id for _ in range(count)]

    @contextmanager
    def held(self) -> Iterator[None]:
        """The agent stopped while the block runs (it cannot see anything happen)."""
        os.kill(self.agent.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.agent.pid, signal.SIGCONT)

    def revision(self) -> int:
        """The service's latest event revision."""
        return self.api.events(since=2**62, host=HOST).revision

    def bind_all(self, ports: list[str]) -> list[Binding]:
        """Bind every port to ``HOST`` (the service decides); the bound bindings."""
        return [self.api.bind(port, HOST, check=True) for port in ports]

    def unbind_all(self, ports: list[str]) -> None:
        """Remove every port's binding on ``HOST``."""
        for port in ports:
            self.api.unbind(port, HOST)

    def wait_plugged(self, ports: list[str], since: int) -> float:
        """Wait until the service has every port of ``ports`` plugged on ``HOST`` (events after
        ``since``); the monotonic time it saw the last one."""
        waiting = set(ports)
        deadline = time.monotonic() + WAIT_SECONDS
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"{len(waiting)} ports not plugged after {WAIT_SECONDS:g} s")
            answer = self.api.events(since=since, wait=min(remaining, 5), host=HOST)
            for event in answer.events:
                if event.kind == "plugged" and event.binding.plugged:
                    waiting.discard(event.port_id)
                elif event.binding.plug_error and not event.binding.plug_retrying:
                    raise RuntimeError(f"{event.port_id}: {event.binding.plug_error}")
            since = answer.revision
        return time.monotonic()

    def stop_agent(self) -> None:
        """Stop the agent (SIGTERM: it leaves the host as it is)."""
        if self.agent.poll() is None:
            os.kill(self.agent.pid, signal.SIGCONT)
            self.agent.terminate()
            try:
                self.agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()


@contextmanager
def fleet(
    work: Path, config: dict[str, Any], backends: str, network: dict[str, Any]
) -> Iterator[Fleet]:
    """Serve (SQLite, ``backends`` only), start the agent of ``config``'s host and create the
    network; everything is stopped on exit."""
    with ExitStack() as stack:
        state = work / "service"
        # The agent reports once (heartbeat off) and is held for long stretches.
        service = start_serve(state, None, "--backends", backends, "--report-max-age", "86400")
        stack.callback(service.stop)
        admin_token = (state / "admin.token").read_text().strip()
        api = stack.enter_context(Client(service.url, admin_token, timeout=120))
        agent_token = work / "agent.token"
        agent_token.write_text(api.create_token("agent", host=HOST).token or "")
        agent_token.chmod(0o600)
        host_config = HostConfig.model_validate({"host": HOST, **config})
        config_file = work / "host.json"
        config_file.write_text(json.dumps(host_config.model_dump(mode="json")))
        log = work / "agent.log"
        with log.open("w") as output:
            agent = subprocess.Popen(
                [VIFBIND, "agent", "--config", str(config_file), "--service", service.url,
                 "--token-file", str(agent_token), "--heartbeat", "3600",
                 "--reconcile-every", "3600"],
                stdout=output, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        made = Fleet(service, api, "", host_config, agent, log)
        stack.callback(made.stop_agent)
        _wait_for_report(made)
        made.network_id = api.create_network([network], name="bench").id
        yield made


def _wait_for_report(made: Fleet) -> None:
    deadline = time.monotonic() + 60
    while not any(h.host == HOST for h in made.api.list_hosts()):
        if made.agent.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the agent did not report: {made.log.read_text()[-2000:]}")
        time.sleep(0.1)
