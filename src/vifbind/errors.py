"""Typed errors of vifbind, and the one place where they map to CLI exit codes.

(HTTP statuses join this table with the service.) Errors of the contract itself live in
``vifbind.contract.errors`` because the contract imports nothing from the rest of vifbind.
"""

from __future__ import annotations

from vifbind.contract.errors import ContractError


class VifbindError(Exception):
    """Base of vifbind's own errors; the message is what a person reads."""


class InvalidInput(VifbindError):
    """Input that does not satisfy the contract; the message names the field."""


class UnknownBackend(InvalidInput):
    """A backend name that no installed package registers."""


class BackendLoadError(VifbindError):
    """A registered backend that cannot be loaded or is not a backend."""


class BindingNotBound(VifbindError):
    """A binding that has no VIF (failed or unbound): there is nothing to attach or render."""


class UnsupportedNic(InvalidInput):
    """A NIC model or queue count that the hypervisor or the VIF cannot take."""


class NotRenderable(VifbindError):
    """A bound VIF that a hypervisor's configuration cannot express faithfully."""


class UnsupportedVifType(NotRenderable):
    """A VIF type that a hypervisor's renderer has no mapping for."""


EXIT_CODES: dict[type[Exception], int] = {
    BindingNotBound: 1,
    InvalidInput: 2,
    ContractError: 2,
    BackendLoadError: 3,
    NotRenderable: 4,
    VifbindError: 3,
}
"""CLI exit code per error class (most specific class wins). 1 is reserved for a failed binding;
4 means the binding is valid but this hypervisor cannot express it."""


def exit_code(error: Exception) -> int:
    """The CLI exit code for ``error``."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 3
