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


class OvnError(VifbindError):
    """The OVN northbound database refused a change vifbind asked for."""


class OvnUnavailable(OvnError):
    """The OVN northbound database cannot be reached (or did not answer in time)."""


class OvnConflict(OvnError):
    """An OVN object that vifbind would create exists already and is not vifbind's."""


EXIT_CODES: dict[type[Exception], int] = {
    InvalidInput: 2,
    ContractError: 2,
    BackendLoadError: 3,
    VifbindError: 3,
}
"""CLI exit code per error class (most specific class wins). 1 is reserved for a failed binding."""


def exit_code(error: Exception) -> int:
    """The CLI exit code for ``error``."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 3
