"""A binding as the agent keeps it between two converges: compact, decoded when it is used.

As a contract model, a binding weighs some 5 KB (every nested object is a model of its own), so
a host's thousands of them were most of the agent's memory. Kept here: the binding's JSON
document without its decisions (the service's reasoning, which the host never reads),
compressed, and the few fields the agent reads without decoding it. The host decodes — and so
validates again — one binding at a time while it vets and plans.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from dataclasses import dataclass

from vifbind.contract import PROTECTIONS, Binding

_LEVEL = 1
"""zlib's fastest level: microseconds a binding."""
_PRIMER = (
    b'{"port_id":"","host":"","status":"bound","active":true,"backend":"linuxbridge","vif":'
    b'{"type":"bridge","version":"1.0","details":{"bridge":"brq","devname":"tap"}},"protections":'
    b'{"mac_spoofing":"host","ip_spoofing":"host","security_groups":"off"},"host_enforcement":'
    b'{"mac_spoofing":"nftables","ip_spoofing":"nftables","security_groups":null},"mac":'
    b'"fa:16:3e:","mtu":1500,"fixed_ips":[],"allowed_address_pairs":[],"device_id":"",'
    b'"network_id":"","segment":{"type":"vxlan","physnet":null,"segmentation_id":},"profile":'
    b'null,"plugged":true,"plugged_at":"T:Z","plug_error":null,"plug_retrying":false,'
    b'"revision":}'
)
"""zlib's preset dictionary: text a binding's document is likely to repeat (its keys, common
values). Each document is compressed alone, so without it each would start from nothing: with
it, a document of some 770 bytes takes about 190 rather than 450. Any text decodes what it
encoded: a contract with new fields only compresses a little less."""


def content(binding: Binding) -> bytes:
    """What the host acts on in a binding, as a comparable digest (the content itself would be
    a kilobyte per port)."""
    text = json.dumps(binding.host_content(), sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def protected(binding: Binding) -> bool:
    """Whether the host enforces any protection for ``binding`` (through its packet filter)."""
    enforcement = getattr(binding, "host_enforcement", None)
    return any(getattr(enforcement, name, None) is not None for name in PROTECTIONS)


@dataclass(frozen=True, slots=True)
class HeldBinding:
    """One bound port's binding, as the agent holds it."""

    port_id: str
    network_id: str | None
    revision: int
    plugged: bool
    plug_error: str | None
    plug_retrying: bool
    protected: bool
    """Whether the host enforces a protection for it (see ``protected``)."""
    content: bytes
    """The digest of what the host acts on (see ``content``)."""
    document: bytes
    """The binding's JSON without its decisions, compressed."""

    @classmethod
    def of(cls, binding: Binding) -> HeldBinding:
        """``binding`` as the agent keeps it."""
        text = binding.model_dump_json(exclude={"decisions"})
        return cls(
            port_id=binding.port_id,
            # One string per network, not one per port.
            network_id=sys.intern(binding.network_id) if binding.network_id else None,
            revision=binding.revision,
            plugged=binding.plugged,
            plug_error=binding.plug_error,
            plug_retrying=binding.plug_retrying,
            protected=protected(binding),
            content=content(binding),
            document=_compress(text.encode()),
        )

    def binding(self) -> Binding:
        """The binding, validated again by the contract from its document (a
        ``pydantic.ValidationError`` if it is not a binding)."""
        return Binding.model_validate_json(_decompress(self.document))


def _compress(data: bytes) -> bytes:
    packer = zlib.compressobj(_LEVEL, zdict=_PRIMER)
    return packer.compress(data) + packer.flush()


def _decompress(data: bytes) -> bytes:
    unpacker = zlib.decompressobj(zdict=_PRIMER)
    return unpacker.decompress(data) + unpacker.flush()
