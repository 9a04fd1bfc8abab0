"""Typed errors of vifbind, and the one place where they map to CLI exit codes and HTTP statuses.

Errors of the contract itself live in ``vifbind.contract.errors`` because the contract imports
nothing from the rest of vifbind; they are mapped here too.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from vifbind.contract.errors import ContractError
from vifbind.contract.vifs import field_path


class VifbindError(Exception):
    """Base of vifbind's own errors; the message is what a person reads."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """The input field at fault, when there is one."""


class InvalidInput(VifbindError):
    """Input that does not satisfy the contract; the message names the field."""


class UnknownBackend(InvalidInput):
    """A backend name that no installed package registers."""


class BackendLoadError(VifbindError):
    """A registered backend that cannot be loaded or is not a backend."""


class NotFound(VifbindError):
    """The resource named in the request does not exist."""


class Conflict(VifbindError):
    """The request contradicts the current state (stale revision, address in use, ...)."""


class Unauthorized(VifbindError):
    """No token, or a token the service does not know."""


class Forbidden(VifbindError):
    """A valid token whose role does not allow the request."""


class ServiceUnavailable(VifbindError):
    """The service (or a database or daemon it needs) cannot be reached."""


class WaitTimeout(VifbindError):
    """Something awaited (a plugged binding) did not happen in time."""


class BindingFailed(VifbindError):
    """A binding was decided and no VIF could be chosen; ``decisions`` say why, per backend."""

    def __init__(self, message: str, decisions: list[Any]) -> None:
        super().__init__(message)
        self.decisions = decisions


class OvnError(VifbindError):
    """The OVN northbound database refused a change vifbind asked for."""


class OvnUnavailable(OvnError):
    """The OVN northbound database cannot be reached (or did not answer in time)."""


class OvnConflict(OvnError):
    """An OVN object that vifbind would create exists already and is not vifbind's."""


class BindingNotBound(VifbindError):
    """A binding that has no VIF (failed or unbound): there is nothing to attach or render."""


class UnsupportedNic(InvalidInput):
    """A NIC model or queue count that the hypervisor or the VIF cannot take."""


class NotRenderable(VifbindError):
    """A bound VIF that a hypervisor's configuration cannot express faithfully."""


class UnsupportedVifType(NotRenderable):
    """A VIF type that a hypervisor's renderer has no mapping for."""


class UnsafeVIF(VifbindError):
    """A binding the host refuses to act on: invalid, outside its own configuration, or aimed
    at something vifbind does not own. Nothing on the host was changed."""


class HostConfigError(InvalidInput):
    """The host's own configuration file is missing or invalid; the message names the field."""


class HostPrerequisiteMissing(VifbindError):
    """Something this machine must have (root, a tool, a daemon, a kernel feature) is missing;
    the message says what to install or run."""


class PlugError(VifbindError):
    """The host tried to plug or unplug a port and the system refused (netlink, OVSDB, nft)."""


def validation_problems(exc: ValidationError, document: str = "(document)") -> list[str]:
    """Each problem of a validation error as ``field.path: what is wrong``."""
    return [
        f"{field_path(err['loc']) or document}: " + err["msg"].removeprefix("Value error, ")
        for err in exc.errors()
    ]


EXIT_CODES: dict[type[Exception], int] = {
    BindingFailed: 1,
    BindingNotBound: 1,
    InvalidInput: 2,
    ContractError: 2,
    NotFound: 4,
    Conflict: 5,
    Unauthorized: 6,
    Forbidden: 6,
    ServiceUnavailable: 7,
    OvnUnavailable: 7,
    OvnConflict: 5,
    OvnError: 7,
    WaitTimeout: 8,
    BackendLoadError: 3,
    NotRenderable: 9,
    UnsafeVIF: 10,
    PlugError: 11,
    HostPrerequisiteMissing: 12,
    VifbindError: 3,
}
"""CLI exit code per error class (the most specific class wins): 1 no VIF (a failed binding),
2 bad input, 4 unknown id, 5 conflict, 6 not allowed, 7 unreachable, 8 timeout, 9 the binding
is valid but a hypervisor cannot express it, 10 the host refuses an unsafe binding, 11 the host
could not plug, 12 a prerequisite of this machine is missing, 3 anything else."""

HTTP_STATUSES: dict[type[Exception], int] = {
    InvalidInput: 422,
    ContractError: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    ServiceUnavailable: 503,
    OvnUnavailable: 503,
    OvnConflict: 409,
    OvnError: 502,
    VifbindError: 500,
}
"""HTTP status per error class (the most specific class wins)."""


def _lookup(table: dict[type[Exception], int], error: Exception, default: int) -> int:
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return default


def exit_code(error: Exception) -> int:
    """The CLI exit code for ``error``."""
    return _lookup(EXIT_CODES, error, 3)


def http_status(error: Exception) -> int:
    """The HTTP status for ``error``."""
    return _lookup(HTTP_STATUSES, error, 500)
