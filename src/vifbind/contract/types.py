"""Validated value types used by every model of the contract.

Each type is a ``str`` on the wire, normalised on the way in (lower-case MACs and UUIDs,
compressed IP addresses), and carries its own JSON Schema so that a compute side written in
another language validates exactly what vifbind validates. The host trusts nothing it receives
(DESIGN.md, contract rule 3): these checks are the first line of that, run by both sides.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

# Linux allows almost any byte in an interface name; vifbind allows a small alphabet that no
# shell, option parser, path or OVSDB string can misread.
_IFNAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")
_IFNAME_PATTERN = r"^(?!-)(?!\.\.?$)[A-Za-z0-9_.-]{1,15}$"
_SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_SAFE_ID_PATTERN = r"^(?!-)(?!\.\.?$)[A-Za-z0-9_.:-]+$"
_MAC = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PCI = re.compile(r"[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]")
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_SOCKET_CHARS = re.compile(r"[A-Za-z0-9_.:/-]+")
_VERSION = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})")
_MECHANISM = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_DVS_UUID = re.compile(r"[0-9a-f]{2}([ -][0-9a-f]{2}){15}")

# sun_path is 108 bytes including the terminating NUL.
SOCKET_PATH_MAX = 107


def _safe_token(value: str, what: str, max_len: int) -> str:
    if not _SAFE_ID.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} may contain only ASCII letters, digits, '_', '.', ':', '-'"
        )
    if len(value) > max_len:
        raise ValueError(f"{what} {value!r} is longer than {max_len} characters")
    if value.startswith("-"):
        raise ValueError(f"{what} {value!r} must not start with '-'")
    if value in (".", ".."):
        raise ValueError(f"{what} must not be {value!r}")
    return value


def check_interface_name(value: str) -> str:
    """Accept a Linux interface or bridge name from the safe alphabet (1-15 bytes)."""
    if not _IFNAME.fullmatch(value):
        if not value:
            raise ValueError("interface name is empty")
        if len(value.encode()) > 15:
            raise ValueError(f"interface name {value!r} is longer than 15 bytes")
        raise ValueError(
            f"interface name {value!r} may contain only ASCII letters, digits, '_', '.', '-'"
        )
    if value.startswith("-"):
        raise ValueError(f"interface name {value!r} must not start with '-'")
    if value in (".", ".."):
        raise ValueError(f"interface name must not be {value!r}")
    return value


def check_mac(value: str) -> str:
    """Accept a unicast MAC address and return it lower-case, colon-separated."""
    mac = value.lower()
    if not _MAC.fullmatch(mac):
        raise ValueError(f"{value!r} is not a MAC address like 'fa:16:3e:12:34:56'")
    mac = mac.replace("-", ":")
    if int(mac[:2], 16) & 1:
        raise ValueError(f"{value!r} is a multicast or broadcast MAC; a VIF needs a unicast MAC")
    if mac == "00:00:00:00:00:00":
        raise ValueError("00:00:00:00:00:00 is not a usable MAC address")
    return mac


def check_uuid(value: str) -> str:
    """Accept a UUID in its canonical 8-4-4-4-12 form and return it lower-case."""
    if not _UUID.fullmatch(value.lower()):
        raise ValueError(f"{value!r} is not a UUID like '5f1c0a52-8d0e-4c6f-9a57-2b8f3c1d9e07'")
    return value.lower()


def check_pci_address(value: str) -> str:
    """Accept a PCI address domain:bus:device.function and return it lower-case."""
    if not _PCI.fullmatch(value.lower()):
        raise ValueError(f"{value!r} is not a PCI address like '0000:81:10.2'")
    return value.lower()


def check_ip_address(value: str) -> str:
    """Accept an IPv4 or IPv6 address (no zone) and return its compressed form."""
    if "%" in value:
        raise ValueError(f"{value!r}: scoped IPv6 addresses are not accepted")
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


def check_ip_or_prefix(value: str) -> str:
    """Accept an IP address or a network prefix (host bits clear); return it compressed."""
    if "/" not in value:
        return check_ip_address(value)
    try:
        return ipaddress.ip_network(value, strict=True).compressed
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IP address or network prefix: {exc}") from None


def check_socket_path(value: str) -> str:
    """Accept an absolute, normalised unix socket path without '..' that fits in sun_path."""
    if not value.startswith("/"):
        raise ValueError(f"socket path {value!r} must be absolute")
    if not _SOCKET_CHARS.fullmatch(value):
        raise ValueError(
            f"socket path {value!r} may contain only ASCII letters, digits and '_.:/-'"
        )
    if ".." in value.split("/"):
        raise ValueError(f"socket path {value!r} must not contain '..'")
    if posixpath.normpath(value) != value:
        raise ValueError(
            f"socket path {value!r} is not normalised (expected {posixpath.normpath(value)!r})"
        )
    if len(value) > SOCKET_PATH_MAX:
        raise ValueError(f"socket path {value!r} is longer than {SOCKET_PATH_MAX} bytes")
    return value


def check_hostname(value: str) -> str:
    """Accept an RFC 1123 host name and return it lower-case."""
    name = value.lower()
    if not name or len(name) > 253 or not all(_HOST_LABEL.fullmatch(p) for p in name.split(".")):
        raise ValueError(
            f"{value!r} is not a host name (dot-separated labels of letters, digits and '-')"
        )
    return name


def check_version(value: str) -> str:
    """Accept a contract version 'MAJOR.MINOR'."""
    if not _VERSION.fullmatch(value):
        raise ValueError(f"{value!r} is not a contract version like '1.0'")
    return value


def check_mechanism(value: str) -> str:
    """Accept an enforcement mechanism name such as 'nftables' or 'vf-spoofchk'."""
    if not _MECHANISM.fullmatch(value):
        raise ValueError(f"{value!r} is not a mechanism name (lower-case letters, digits, '-')")
    return value


def check_dvs_uuid(value: str) -> str:
    """Accept a VMware distributed switch UUID (16 hex bytes separated by spaces or '-')."""
    if not _DVS_UUID.fullmatch(value.lower()):
        raise ValueError(f"{value!r} is not a VMware DVS UUID like '50 1a 2b … 0f'")
    return value.lower()


def _safe_token_checker(what: str, max_len: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        return _safe_token(value, what, max_len)

    return check


def check_device_id(value: str) -> str:
    """Accept the empty string (no device) or a safe identifier naming the guest."""
    return value if value == "" else _safe_token(value, "device id", 255)


def check_display_name(value: str) -> str:
    """Accept a platform object's display name (1-80 printable characters)."""
    if not 1 <= len(value) <= 80:
        raise ValueError(f"name {value!r} must be 1-80 characters long")
    if not value.isprintable() or value != value.strip():
        raise ValueError(f"name {value!r} has control characters or surrounding blanks")
    return value


def _schema(description: str, **schema: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "description": description, **schema})


InterfaceName = Annotated[
    str,
    AfterValidator(check_interface_name),
    _schema(
        "Linux interface name: 1-15 ASCII letters, digits, '_', '.', '-'; no leading '-'.",
        pattern=_IFNAME_PATTERN,
        minLength=1,
        maxLength=15,
    ),
]
"""A network device name on a host."""

BridgeName = Annotated[
    str,
    AfterValidator(check_interface_name),
    _schema(
        "Bridge name (Linux or OVS): same rule as an interface name.",
        pattern=_IFNAME_PATTERN,
        minLength=1,
        maxLength=15,
    ),
]
"""A Linux or Open vSwitch bridge name."""

MacAddress = Annotated[
    str,
    AfterValidator(check_mac),
    _schema(
        "Unicast MAC address, lower-case and colon-separated on output.",
        pattern=r"^[0-9a-fA-F][02468aceACE]([:-][0-9a-fA-F]{2}){5}$",
    ),
]
"""A unicast Ethernet address."""

Uuid = Annotated[
    str,
    AfterValidator(check_uuid),
    _schema(
        "UUID in canonical 8-4-4-4-12 form.",
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    ),
]
"""A UUID string."""

PciAddress = Annotated[
    str,
    AfterValidator(check_pci_address),
    _schema(
        "PCI address domain:bus:device.function.",
        pattern=r"^[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\.[0-7]$",
    ),
]
"""A PCI device address such as ``0000:81:10.2``."""

IpAddress = Annotated[
    str,
    AfterValidator(check_ip_address),
    _schema("IPv4 or IPv6 address.", anyOf=[{"format": "ipv4"}, {"format": "ipv6"}]),
]
"""An IPv4 or IPv6 address."""

IpAddressOrPrefix = Annotated[
    str,
    AfterValidator(check_ip_or_prefix),
    _schema("IPv4 or IPv6 address, or a prefix with host bits clear."),
]
"""An address or a network prefix (allowed address pairs)."""

SocketPath = Annotated[
    str,
    AfterValidator(check_socket_path),
    _schema(
        "Absolute, normalised unix socket path without '..', at most 107 bytes.",
        pattern=r"^/[A-Za-z0-9_.:/-]*$",
        maxLength=SOCKET_PATH_MAX,
    ),
]
"""A unix socket path (vhost-user)."""

HostName = Annotated[
    str,
    AfterValidator(check_hostname),
    _schema(
        "Host name (RFC 1123), lower-case on output.",
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$",
        maxLength=253,
    ),
]
"""The name a compute host reports and is bound by."""

PhysnetName = Annotated[
    str,
    AfterValidator(_safe_token_checker("physical network name", 64)),
    _schema(
        "Physical network name: ASCII letters, digits, '_', '.', ':', '-'.",
        pattern=_SAFE_ID_PATTERN,
        maxLength=64,
    ),
]
"""The name of a physical network (provider network) shared by service and hosts."""

SafeId = Annotated[
    str,
    AfterValidator(_safe_token_checker("identifier", 255)),
    _schema(
        "Identifier: ASCII letters, digits, '_', '.', ':', '-'.",
        pattern=_SAFE_ID_PATTERN,
        maxLength=255,
    ),
]
"""An identifier that may safely become part of a device, namespace or rule name."""

DeviceId = Annotated[
    str,
    AfterValidator(check_device_id),
    _schema(
        "The guest using the port (VM UUID or name, or a namespace name); '' for none.",
        pattern=r"^$|" + _SAFE_ID_PATTERN,
        maxLength=255,
    ),
]
"""The guest a port is attached to; for ``netns`` hosts, the guest's namespace name."""

PortProfileId = Annotated[
    str,
    AfterValidator(_safe_token_checker("port profile id", 40)),
    _schema(
        "802.1Qbh port profile name (at most 40 characters).",
        pattern=_SAFE_ID_PATTERN,
        maxLength=40,
    ),
]
"""The port profile an 802.1Qbh switch applies."""

DisplayName = Annotated[
    str,
    AfterValidator(check_display_name),
    _schema(
        "Display name of a platform object (Hyper-V switch, VMware port group): 1-80 "
        "printable characters without surrounding blanks.",
        minLength=1,
        maxLength=80,
    ),
]
"""A name a hypervisor platform shows, which may contain spaces."""

Version = Annotated[
    str,
    AfterValidator(check_version),
    _schema("Contract version MAJOR.MINOR.", pattern=r"^\d{1,4}\.\d{1,4}$"),
]
"""A contract version of one VIF type."""

Mechanism = Annotated[
    str,
    AfterValidator(check_mechanism),
    _schema(
        "Enforcement mechanism (nftables, iptables, nwfilter, vf-spoofchk, ...).",
        pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
    ),
]
"""A host-side mechanism that can enforce a protection."""

DvsUuid = Annotated[
    str,
    AfterValidator(check_dvs_uuid),
    _schema(
        "VMware distributed virtual switch UUID: 16 hex bytes separated by ' ' or '-'.",
        pattern=r"^[0-9a-fA-F]{2}([ -][0-9a-fA-F]{2}){15}$",
    ),
]
"""A VMware distributed switch UUID."""


def version_key(version: str) -> tuple[int, int]:
    """Sort key of a contract version: '1.10' sorts after '1.9'."""
    major, minor = version.split(".")
    return int(major), int(minor)
