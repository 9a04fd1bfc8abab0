"""Schemathesis over the whole OpenAPI description: whatever a client sends, the answer is never
a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from vifbind.service.settings import ServiceSettings

from builders import host, vxlan
from harness import RunningService, serve_in_thread

EXAMPLES = 60


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A service with a little of everything in it, so that some requests hit real objects."""
    state: Path = tmp_path_factory.mktemp("fuzz")
    # Long polls end at once: the fuzzer asks for long waits, and only the answer matters here.
    settings = ServiceSettings(
        state_dir=state, backends=("ovs", "linuxbridge", "xen"), max_wait=0.2
    )
    with serve_in_thread(settings) as running:
        api = running.client()
        api.report_host(host("cmp-1"))
        net = api.create_network([vxlan()])
        port = api.create_port(net.id, fixed_ips=["192.0.2.1"])
        api.bind(port.id, "cmp-1")
        yield running


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_no_request_makes_a_server_error(
    fuzzed: RunningService, mode: schemathesis.GenerationMode
) -> None:
    """Valid and invalid requests to every operation (hypothesis, derandomised)."""
    schema = schemathesis.openapi.from_dict(fuzzed.client().openapi())
    headers = {"Authorization": f"Bearer {fuzzed.admin_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    unsatisfiable: list[str] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=fuzzed.url, headers=headers, checks=[not_a_server_error], timeout=30
            )

        try:
            call()
        except Unsatisfiable:
            # An operation without parameters or body has no invalid form to send.
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
            unsatisfiable.append(operation.label)
    assert len(unsatisfiable) < len(operations) // 2, unsatisfiable
