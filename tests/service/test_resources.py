"""Networks, ports and host reports over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from vifbind.errors import Conflict, InvalidInput, NotFound

from builders import host, vlan, vxlan
from harness import RunningService


def request(service: RunningService, method: str, path: str, **options: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {service.admin_token}"} | options.pop("headers", {})
    return httpx.request(method, service.url + path, headers=headers, timeout=30, **options)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def test_network_lifecycle(service: RunningService) -> None:
    api = service.client()
    net = api.create_network([vxlan(77)], name="blue", mtu=1450)
    assert (net.name, net.mtu, net.segments[0].segmentation_id) == ("blue", 1450, 77)
    assert api.get_network(net.id) == net
    assert [n.id for n in api.list_networks()] == [net.id]
    renamed = api.update_network(net.id, name="green", revision=net.revision)
    assert renamed.name == "green" and renamed.revision > net.revision
    with pytest.raises(Conflict, match=f"at revision {renamed.revision}, not {net.revision}"):
        api.update_network(net.id, name="red", revision=net.revision)
    api.delete_network(net.id, revision=renamed.revision)
    with pytest.raises(NotFound, match=f"network {net.id} does not exist"):
        api.get_network(net.id)


def test_port_gets_a_mac_and_keeps_its_addresses(service: RunningService) -> None:
    api = service.client()
    net = api.create_network([vxlan()])
    port = api.create_port(net.id, fixed_ips=["192.0.2.10", "2001:db8::10"], device_id="vm-1")
    assert port.mac.startswith("fa:16:3e:")
    assert port.fixed_ips == ["192.0.2.10", "2001:db8::10"]
    assert [p.id for p in api.list_ports(network_id=net.id)] == [port.id]
    assert [p.id for p in api.list_ports(device_id="vm-1")] == [port.id]
    assert api.list_ports(device_id="vm-2") == []
    with pytest.raises(Conflict, match=r"fixed_ips: 192\.0\.2\.10 is already used by port"):
        api.create_port(net.id, fixed_ips=["192.0.2.10"])
    with pytest.raises(Conflict, match=f"mac: {port.mac} is already used"):
        api.create_port(net.id, mac=port.mac)
    # The address is free again once the port lets it go.
    api.update_port(port.id, fixed_ips=["192.0.2.11"])
    assert api.create_port(net.id, fixed_ips=["192.0.2.10"]).fixed_ips == ["192.0.2.10"]
    with pytest.raises(Conflict, match="still has ports"):
        api.delete_network(net.id)


def test_port_update_checks_the_whole_port(service: RunningService) -> None:
    api = service.client()
    net = api.create_network([vxlan()])
    port = api.create_port(net.id, security_groups=["web"])
    with pytest.raises(InvalidInput, match="security_groups: must be empty when port_security"):
        api.update_port(port.id, port_security=False)
    assert api.get_port(port.id).port_security is True


NET = {"network_id": "9b2e6c1a-4f3d-4e8a-9c71-0d5b8e2f6a13"}
VLAN_WITHOUT_ID = {"segments": [{"type": "vlan", "physnet": "p"}]}


@pytest.mark.parametrize(
    ("path", "body", "field", "words"),
    [
        ("/v1/networks", {"segments": []}, "body.segments", "at least 1"),
        ("/v1/networks", VLAN_WITHOUT_ID, "body.segments.0", "segmentation_id"),
        ("/v1/networks", {"segments": [vxlan()], "mtu": 10}, "body.mtu", "greater than or equal"),
        ("/v1/networks", {"segments": [vxlan()], "colour": "red"}, "body.colour", "Extra inputs"),
        ("/v1/ports", {"network_id": "not-a-uuid"}, "body.network_id", "not a UUID"),
        ("/v1/ports", NET | {"mac": "ff:ff:ff:ff:ff:ff"}, "body.mac", "broadcast"),
        ("/v1/ports", NET | {"device_id": "../../etc"}, "body.device_id", "may contain only"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    service: RunningService, path: str, body: dict[str, Any], field: str, words: str
) -> None:
    response = request(service, "POST", path, json=body)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["field"] == field
    assert words in error["message"]


def test_unknown_ids_are_404_and_bad_ids_422(service: RunningService) -> None:
    missing = "00000000-0000-4000-8000-000000000001"
    assert request(service, "GET", f"/v1/ports/{missing}").status_code == 404
    assert error_of(request(service, "GET", f"/v1/networks/{missing}"))["field"] == "network_id"
    response = request(service, "POST", "/v1/ports", json={"network_id": missing})
    assert response.status_code == 404
    assert "network" in error_of(response)["message"]
    bad = request(service, "GET", "/v1/ports/1;DROP TABLE ports")
    assert bad.status_code == 422
    assert error_of(bad)["field"] == "path.port_id"


def test_if_match_must_be_a_revision(service: RunningService) -> None:
    net = service.client().create_network([vxlan()])
    response = request(
        service, "PATCH", f"/v1/networks/{net.id}", json={"name": "x"}, headers={"If-Match": "abc"}
    )
    assert response.status_code == 422
    assert error_of(response)["field"] == "If-Match"
    quoted = request(
        service,
        "PATCH",
        f"/v1/networks/{net.id}",
        json={"name": "x"},
        headers={"If-Match": f'"{net.revision}"'},
    )
    assert quoted.status_code == 200
    assert quoted.headers["ETag"] == str(quoted.json()["revision"])


def test_host_reports_are_stored_with_their_age(service: RunningService) -> None:
    api = service.client()
    stored = api.report_host(host("cmp-1"))
    assert stored.host == "cmp-1" and stored.age_seconds < 5
    assert api.get_host("cmp-1").report == host("cmp-1")
    assert [h.host for h in api.list_hosts()] == ["cmp-1"]
    mismatch = request(
        service, "PUT", "/v1/hosts/cmp-2", json=host("cmp-1").model_dump(mode="json")
    )
    assert mismatch.status_code == 422
    assert error_of(mismatch)["field"] == "host"
    with pytest.raises(NotFound, match="host cmp-9 has never reported"):
        api.get_host("cmp-9")


def test_oversized_and_deeply_nested_bodies_are_refused(service: RunningService) -> None:
    big = request(service, "POST", "/v1/networks", content=b"[" + b"0," * 600_000 + b"0]",
                  headers={"Content-Type": "application/json"})  # fmt: skip
    assert big.status_code == 413
    deep = request(service, "POST", "/v1/networks", content=b"[" * 100_000 + b"]" * 100_000,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert 400 <= deep.status_code < 500, deep.text
    assert service.client().list_networks() == []


def test_network_mtu_change_reaches_its_bindings(service: RunningService) -> None:
    api = service.client()
    net = api.create_network([vlan(101)], mtu=1500)
    port = api.create_port(net.id)
    api.report_host(host("cmp-1"))
    assert api.bind(port.id, "cmp-1").mtu == 1500
    api.update_network(net.id, mtu=1400)
    binding = api.get_binding(port.id, "cmp-1")
    assert binding.mtu == 1400
    assert binding.status == "bound"
