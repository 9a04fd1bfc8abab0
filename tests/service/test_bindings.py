"""Binding semantics over HTTP: decide, store, migrate, activate, plugged, explain."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from vifbind.contract.api import PortPlugged, PortView
from vifbind.errors import BindingFailed, Conflict, NotFound, WaitTimeout

from builders import NFT, host, vxlan
from harness import RunningService, requests_answered

XEN = host(
    "xs-1",
    hypervisor="xen",
    vif_types={"xen": ["1.0"]},
    enforcement={"mac_spoofing": ["xen-vif-locking"], "ip_spoofing": ["xen-vif-locking"]},
)


READ_BINDING = "/v1/ports/{port_id}/bindings/{host}"


def a_port(service: RunningService, **fields: object) -> PortView:
    api = service.client()
    net = api.create_network([vxlan(500)], mtu=1450)
    return api.create_port(net.id, fixed_ips=["192.0.2.20"], device_id="guest-1", **fields)


def test_bind_stores_the_decision_and_answers_201(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    binding = api.bind(port.id, "cmp-1")
    assert (binding.status, binding.backend, binding.active) == ("bound", "ovs", True)
    assert binding.vif is not None and binding.vif.type == "ovs"
    assert (binding.mtu, binding.fixed_ips, binding.device_id) == (1450, ["192.0.2.20"], "guest-1")
    assert api.get_binding(port.id, "cmp-1") == binding
    assert api.list_bindings(port.id) == [binding]
    # Deciding again on the same host updates in place (200), one row.
    response = httpx.post(
        f"{service.url}/v1/ports/{port.id}/bindings",
        json={"host": "cmp-1"},
        headers={"Authorization": f"Bearer {service.admin_token}"},
    )
    assert response.status_code == 200
    assert len(api.list_bindings(port.id)) == 1


def test_failed_binding_is_a_normal_answer_with_reasons(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    response = httpx.post(
        f"{service.url}/v1/ports/{port.id}/bindings",
        json={"host": "xs-1", "host_report": XEN.model_dump(mode="json")},
        headers={"Authorization": f"Bearer {service.admin_token}"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "failed" and body["vif"] is None
    assert {d["backend"] for d in body["decisions"]} >= {"ovs", "xen", "linuxbridge"}
    with pytest.raises(BindingFailed, match="xen carries flat, vlan only") as info:
        api.bind(port.id, "xs-1", host_report=XEN, check=True)
    assert len(info.value.decisions) >= 7


def test_missing_or_stale_report_fails_with_the_reason_unless_one_is_sent(
    service: RunningService,
) -> None:
    api = service.client()
    port = a_port(service)
    never = api.bind(port.id, "cmp-new")
    assert never.status == "failed"
    assert "has never sent a host report" in never.decisions[0].reason
    api.report_host(host("cmp-old"))
    service.state.decider = type(service.state.decider)(
        backends=service.state.decider.backends, report_max_age=0.001
    )
    time.sleep(0.01)
    stale = api.bind(port.id, "cmp-old")
    assert stale.status == "failed"
    assert "report is 0 s old (limit 0 s): is its agent running?" in stale.decisions[0].reason
    fresh = api.bind(port.id, "cmp-old", host_report=host("cmp-old"))
    assert fresh.status == "bound"


def test_live_migration_inactive_then_activated_atomically(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("src"))
    api.report_host(host("dst", enforcement=NFT, ovs=None))
    source = api.bind(port.id, "src")
    destination = api.bind(port.id, "dst")
    assert source.active and not destination.active
    # The destination may get a different VIF type (no OVS there: a Linux bridge).
    assert source.vif is not None and source.vif.type == "ovs"
    assert destination.vif is not None and destination.vif.type == "bridge"
    activated = api.activate(port.id, "dst", revision=destination.revision)
    assert activated.active
    assert [(b.host, b.active) for b in api.list_bindings(port.id)] == [
        ("dst", True),
        ("src", False),
    ]
    with pytest.raises(Conflict, match=r"is at revision \d+, not \d+"):
        api.activate(port.id, "src", revision=source.revision)
    api.activate(port.id, "src")
    assert api.get_binding(port.id, "src").active


def test_failed_active_binding_does_not_hold_the_port(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    failed = api.bind(port.id, "nowhere")
    assert failed.status == "failed" and failed.active
    api.report_host(host("cmp-1"))
    bound = api.bind(port.id, "cmp-1")
    assert bound.active
    assert not api.get_binding(port.id, "nowhere").active
    with pytest.raises(Conflict, match="is failed; it cannot be activated"):
        api.activate(port.id, "nowhere")


def test_unbind(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    binding = api.bind(port.id, "cmp-1")
    with pytest.raises(Conflict):
        api.unbind(port.id, "cmp-1", revision=binding.revision - 1)
    gone = api.unbind(port.id, "cmp-1")
    assert gone.status == "unbound" and gone.vif is None
    with pytest.raises(NotFound, match="has no binding on host cmp-1"):
        api.get_binding(port.id, "cmp-1")


def test_plugged_is_recorded_for_the_current_decision_only(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    first = api.bind(port.id, "cmp-1")
    plugged = api.report_plugged(port.id, "cmp-1", plugged=True, revision=first.revision)
    assert plugged.plugged and plugged.plugged_at is not None
    # A change the host must act on resets plugged; a report about the old decision is refused.
    api.update_port(port.id, fixed_ips=["192.0.2.21"])
    changed = api.get_binding(port.id, "cmp-1")
    assert not changed.plugged and changed.fixed_ips == ["192.0.2.21"]
    with pytest.raises(Conflict, match="decided again at revision"):
        api.report_plugged(port.id, "cmp-1", plugged=True, revision=first.revision)
    api.report_plugged(port.id, "cmp-1", plugged=True, revision=changed.revision)
    # Activation or a renaming of the network does not: the host has nothing to redo.
    api.update_network(port.network_id, name="renamed")
    assert api.get_binding(port.id, "cmp-1").plugged
    refused = api.report_plugged(
        port.id, "cmp-1", plugged=False, revision=changed.revision, error="bridge not allowed"
    )
    assert refused.plug_error == "bridge not allowed"


def test_a_host_reports_several_ports_plugged_in_one_request(service: RunningService) -> None:
    api = service.client()
    api.report_host(host("cmp-1"))
    first, second, stale = (a_port(service) for _ in range(3))
    bound = {p.id: api.bind(p.id, "cmp-1") for p in (first, second, stale)}
    old = bound[stale.id].revision
    api.update_port(stale.id, fixed_ips=["192.0.2.31"])
    missing = "0c0ffee0-0000-4000-8000-000000000000"
    reports = [
        PortPlugged(port_id=first.id, plugged=True, revision=bound[first.id].revision),
        PortPlugged(
            port_id=second.id,
            plugged=False,
            revision=bound[second.id].revision,
            error="bridge not allowed",
        ),
        PortPlugged(port_id=stale.id, plugged=True, revision=old),
        PortPlugged(port_id=missing, plugged=True, revision=1),
    ]
    before = api.events().revision
    outcomes = api.report_plugged_many("cmp-1", reports)
    assert [(o.port_id, o.recorded, o.error_type) for o in outcomes] == [
        (first.id, True, None),
        (second.id, True, None),
        (stale.id, False, "Conflict"),
        (missing, False, "NotFound"),
    ]
    assert outcomes[2].error is not None and "decided again" in outcomes[2].error
    assert api.get_binding(first.id, "cmp-1").plugged
    assert api.get_binding(second.id, "cmp-1").plug_error == "bridge not allowed"
    assert not api.get_binding(stale.id, "cmp-1").plugged
    # One transaction: the recorded reports share one revision.
    changes = api.events(since=before).events
    assert [e.port_id for e in changes] == [first.id, second.id]
    assert len({e.revision for e in changes}) == 1


def test_plugged_reports_refuse_bad_batches(service: RunningService) -> None:
    port = a_port(service)
    twice = {"port_id": port.id, "plugged": True, "revision": 1}
    for body, message in (
        ({"reports": []}, "reports: List should have at least 1 item"),
        ({"reports": [twice, twice]}, f"port {port.id} is reported twice"),
        ({"reports": [{"port_id": "x", "plugged": True, "revision": 1}]}, "reports.0.port_id"),
    ):
        answer = httpx.put(
            f"{service.url}/v1/hosts/cmp-1/plugged",
            json=body,
            headers={"Authorization": f"Bearer {service.admin_token}"},
        )
        assert answer.status_code == 422, answer.text
        assert message in answer.json()["error"]["message"]


def test_wait_plugged(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    binding = api.bind(port.id, "cmp-1")

    def agent() -> None:
        time.sleep(0.3)
        api.report_plugged(port.id, "cmp-1", plugged=True, revision=binding.revision)

    threading.Thread(target=agent).start()
    started = time.monotonic()
    reads = requests_answered(service, "GET", READ_BINDING)
    assert api.wait_plugged(port.id, "cmp-1", timeout=10).plugged
    assert time.monotonic() - started < 5
    # One read before waiting; the event that plugs the binding carries it.
    assert requests_answered(service, "GET", READ_BINDING) - reads == 1
    other = a_port(service)
    api.bind(other.id, "cmp-1")
    with pytest.raises(WaitTimeout, match=r"not plugged on cmp-1 after 0\.5 s"):
        api.wait_plugged(other.id, "cmp-1", timeout=0.5)
    api.report_plugged(other.id, "cmp-1", plugged=False, revision=10**6, error="no such bridge")
    with pytest.raises(BindingFailed, match=r"cannot plug .*: no such bridge"):
        api.wait_plugged(other.id, "cmp-1", timeout=5)


def test_explain_decides_without_storing(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    answer = api.explain(port.id, "cmp-1")
    assert answer.status == "bound"
    assert any(d.outcome == "chosen" for d in answer.decisions)
    assert api.list_bindings(port.id) == []
    assert api.explain(port.id, "xs-1", host_report=XEN).status == "failed"
    assert api.events().events == []


def test_deleting_a_port_unbinds_it_for_the_host(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    api.bind(port.id, "cmp-1")
    api.delete_port(port.id)
    last = api.events(port_id=port.id).events[-1]
    assert (last.kind, last.binding.status) == ("deleted", "unbound")


def test_wait_plugged_waits_out_an_error_the_host_retries(service: RunningService) -> None:
    api = service.client()
    port = a_port(service)
    api.report_host(host("cmp-1"))
    binding = api.bind(port.id, "cmp-1")
    failing = api.report_plugged(
        port.id,
        "cmp-1",
        plugged=False,
        revision=binding.revision,
        error="OVSDB down",
        retrying=True,
    )
    assert failing.plug_retrying and failing.plug_error == "OVSDB down"

    def recovered() -> None:
        time.sleep(0.3)
        api.report_plugged(port.id, "cmp-1", plugged=True, revision=binding.revision)

    threading.Thread(target=recovered).start()
    done = api.wait_plugged(port.id, "cmp-1", timeout=10)
    assert done.plugged and done.plug_error is None and not done.plug_retrying
