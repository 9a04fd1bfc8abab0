"""Typed errors of vifbind, and the one place where they map to CLI exit codes.

(HTTP statuses join this table with the service.) Errors of the contract itself live in
``vifbind.contract.errors`` because the contract imports nothing from the rest of vifbind.
"""

from __future__ import annotations

from pydantic import ValidationError

from vifbind.contract.errors import ContractError


class VifbindError(Exception):
    """Base of vifbind's own errors; the message is what a person reads."""


class InvalidInput(VifbindError):
    """Input that does not satisfy the contract; the message names the field."""


class UnknownBackend(InvalidInput):
    """A backend name that no installed package registers."""


class BackendLoadError(VifbindError):
    """A registered backend that cannot be loaded or is not a backend."""


class UnsafeVIF(VifbindError):
    """A binding the host refuses to act on: invalid, outside its own configuration, or aimed
    at something vifbind does not own. Nothing on the host was changed."""


class HostConfigError(InvalidInput):
    """The host's own configuration file is missing or invalid; the message names the field."""


class PlugError(VifbindError):
    """The host tried to plug or unplug a port and the system refused (netlink, OVSDB, nft)."""


def validation_problems(exc: ValidationError, document: str = "(document)") -> list[str]:
    """Each problem of a validation error as ``field.path: what is wrong``."""
    return [
        f"{'.'.join(str(part) for part in err['loc']) or document}: "
        + err["msg"].removeprefix("Value error, ")
        for err in exc.errors()
    ]


EXIT_CODES: dict[type[Exception], int] = {
    InvalidInput: 2,
    ContractError: 2,
    BackendLoadError: 3,
    UnsafeVIF: 4,
    PlugError: 5,
    VifbindError: 3,
}
"""CLI exit code per error class (most specific class wins). 1 is reserved for a failed binding."""


def exit_code(error: Exception) -> int:
    """The CLI exit code for ``error``."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 3
