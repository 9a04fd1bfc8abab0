"""Host reports are validated once per revision (``hosts.ParsedReports``): a host's new report
is what the very next decision reads."""

from __future__ import annotations

from vifbind.contract import ExplainRequest
from vifbind.service import bindings

from builders import host, vxlan
from harness import RunningService


def test_the_next_decision_reads_a_hosts_new_report(service: RunningService) -> None:
    api = service.client()
    api.report_host(host("cmp-1"))
    network = api.create_network([vxlan()])
    first, second, third = (api.create_port(network.id).id for _ in range(3))

    assert api.bind(first, "cmp-1").backend == "ovs"
    assert api.explain(second, "cmp-1").backend == "ovs"
    api.report_host(host("cmp-1", ovs=None))  # OVS gone from the host

    assert api.bind(second, "cmp-1").backend == "linuxbridge"
    assert api.explain(third, "cmp-1").backend == "linuxbridge"
    api.report_host(host("cmp-1"))
    assert api.bind(third, "cmp-1").backend == "ovs"


def test_a_report_parsed_once_is_the_stored_one(service: RunningService) -> None:
    api = service.client()
    stored = api.report_host(host("cmp-2", ovs=None))
    network = api.create_network([vxlan()])
    port_id = api.create_port(network.id).id
    state = service.state

    with state.db.read() as session:
        parsed = state.decider.reports.find(session.connection(), "cmp-2")
        again = state.decider.reports.find(session.connection(), "cmp-2")
        nowhere = state.decider.reports.find(session.connection(), "cmp-none")
        explained = bindings.explain(
            session,
            state.decider,
            ExplainRequest(port_id=port_id, host="cmp-2"),
            stored.received_at,
        )

    assert parsed is not None and again is not None and nowhere is None
    assert parsed.model == stored.report
    assert again.model is parsed.model, "validated once for one revision"
    assert parsed.received_at == stored.received_at
    assert explained.backend == "linuxbridge"
