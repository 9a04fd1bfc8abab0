"""A binding as the agent holds it: its document decodes to the binding without its decisions,
its digest changes exactly when what the host acts on does, and what the agent reads of it
without decoding is the binding's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vifbind.contract import Binding
from vifbind.host.held import HeldBinding

from builders import bind, host, network, port, vxlan


def bound(**changes: object) -> Binding:
    made = bind(network(vxlan()), port(**changes), host(), ["linuxbridge"])
    assert made.status == "bound" and made.decisions
    return made


def test_it_decodes_to_the_binding_without_its_decisions() -> None:
    binding = bound()
    held = HeldBinding.of(binding)
    assert held.binding() == binding.model_copy(update={"decisions": []})
    assert len(held.document) < len(binding.model_dump_json())
    assert (held.port_id, held.network_id, held.revision) == (
        binding.port_id,
        binding.network_id,
        binding.revision,
    )
    assert (held.plugged, held.plug_error, held.plug_retrying) == (False, None, False)
    assert held.protected


def test_its_digest_follows_what_the_host_acts_on() -> None:
    binding = bound()
    held = HeldBinding.of(binding)
    volatile = binding.model_copy(
        update={"plugged": True, "revision": 9, "plug_error": "x", "decisions": []}
    )
    assert HeldBinding.of(volatile).content == held.content
    assert HeldBinding.of(volatile).plugged and HeldBinding.of(volatile).revision == 9
    assert HeldBinding.of(binding.model_copy(update={"mtu": 1400})).content != held.content
    assert HeldBinding.of(bound(fixed_ips=["192.0.2.99"])).content != held.content


def test_without_port_security_nothing_is_protected() -> None:
    assert not HeldBinding.of(bound(port_security=False)).protected


def test_a_tampered_document_fails_validation_when_decoded() -> None:
    held = HeldBinding.of(bound())
    forged = HeldBinding.of(bound().model_copy(update={"mac": "not-a-mac"}))
    assert forged.port_id == held.port_id
    with pytest.raises(ValidationError):
        forged.binding()
