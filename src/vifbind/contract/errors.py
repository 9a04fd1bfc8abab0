"""Errors raised by the contract itself."""

from __future__ import annotations

from vifbind.contract.vif import JsonScalar


class ContractError(Exception):
    """Base of every error the contract raises."""


class NotExpressible(ContractError):
    """A VIF cannot be written in an older version without changing its meaning."""

    def __init__(
        self,
        *,
        vif_type: str,
        from_version: str,
        to_version: str,
        field: str,
        value: object,
        droppable_when: tuple[JsonScalar, ...],
    ) -> None:
        self.vif_type = vif_type
        self.from_version = from_version
        self.to_version = to_version
        self.field = field
        self.value = value
        self.droppable_when = droppable_when
        if droppable_when:
            implied = " or ".join(repr(v) for v in droppable_when)
            why = f"{to_version} can only mean {field}={implied}"
        else:
            why = f"{to_version} has no way to express {field}"
        super().__init__(
            f"{vif_type} {from_version} cannot be expressed as {to_version}: "
            f"{field}={value!r} ({why})"
        )


class UnknownVersion(ContractError):
    """A VIF type or version that this code does not know."""
