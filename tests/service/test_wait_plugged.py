"""``Client.wait_plugged`` reads the binding once, then follows the events, which carry the
binding as it is: the plugged state is known when the event arrives, with no second request
(counted by the service's own metrics)."""

from __future__ import annotations

import re
import threading
import time

import httpx

from vifbind.contract.api import PortView

from builders import host, vxlan
from harness import RunningService

READ_BINDING = re.compile(
    r'^vifbind_http_request_duration_seconds_count\{method="GET",'
    r'route="/v1/ports/\{port_id\}/bindings/\{host\}",status="200"\} (\S+)$',
    re.MULTILINE,
)


def binding_reads(service: RunningService) -> int:
    text = httpx.get(
        f"{service.url}/metrics", headers={"Authorization": f"Bearer {service.admin_token}"}
    ).text
    found = READ_BINDING.search(text)
    return int(float(found.group(1))) if found else 0


def a_port(service: RunningService) -> PortView:
    api = service.client()
    net = api.create_network([vxlan(501)], mtu=1450)
    return api.create_port(net.id, fixed_ips=["192.0.2.21"], device_id="guest-2")


def test_wait_plugged_takes_the_plugged_binding_from_the_event(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    binding = api.bind(port.id, "cmp-1")

    def agent() -> None:
        time.sleep(0.3)
        api.report_plugged(port.id, "cmp-1", plugged=True, revision=binding.revision)

    threading.Thread(target=agent).start()
    before = binding_reads(service)
    plugged = api.wait_plugged(port.id, "cmp-1", timeout=10)
    assert plugged.plugged and plugged.revision > binding.revision
    assert binding_reads(service) - before == 1, "one read before waiting, none after the event"
