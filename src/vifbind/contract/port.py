"""Ports: a guest's place on a network, as the network service owns it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vifbind.contract.base import Model
from vifbind.contract.types import DeviceId, IpAddress, IpAddressOrPrefix, MacAddress, SafeId, Uuid

VnicType = Literal["normal", "direct", "direct-physical", "macvtap", "vhost"]
"""What kind of NIC the guest wants: ``normal`` is a software-switched virtual NIC, ``direct``
an SR-IOV virtual function, ``direct-physical`` a whole physical function, ``macvtap`` a macvtap
on a host device, ``vhost`` a vhost-user (userspace datapath) NIC."""

MAX_ADDRESSES = 128


class AddressPair(Model):
    """An extra (MAC, IP) the guest may send from, such as a VRRP address.

    The MAC defaults to the port's own."""

    mac: MacAddress | None = None
    ip: IpAddressOrPrefix


class Port(Model):
    """A port on a network, and everything the host needs to know to protect it."""

    id: Uuid
    network_id: Uuid
    mac: MacAddress
    fixed_ips: list[IpAddress] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    vnic_type: VnicType = "normal"
    port_security: bool = True
    allowed_address_pairs: list[AddressPair] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    security_groups: list[SafeId] = Field(
        default_factory=list,
        max_length=MAX_ADDRESSES,
        description="Groups whose L3/L4 rules apply; empty = none, and the duty is 'off'.",
    )
    device_id: DeviceId = ""

    @model_validator(mode="after")
    def _consistent(self) -> Port:
        if len(set(self.fixed_ips)) != len(self.fixed_ips):
            raise ValueError("fixed_ips: an address is listed twice")
        if not self.port_security:
            if self.security_groups:
                raise ValueError(
                    "security_groups: must be empty when port_security is false "
                    "(the groups could not be enforced)"
                )
            if self.allowed_address_pairs:
                raise ValueError(
                    "allowed_address_pairs: must be empty when port_security is false "
                    "(without port security every address is allowed)"
                )
        return self
