"""What a VIF is: a typed ``{type, version, details}`` and the version line of each type.

Versions are data. Each VIF type lists its versions oldest first; a later version names the
fields it adds, and for each one the values under which it means exactly what the older
versions implied without it. Only under those values may the field be dropped when a binding is
backported to a host that knows only the older version (see ``contract/backport.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vifbind.contract.base import Model
from vifbind.contract.types import version_key

JsonScalar = str | int | float | bool | None


class VifBase(Model):
    """Common shape of every VIF model; each type/version narrows the three fields."""

    type: str
    version: str
    details: Model

    def host_mechanisms(self) -> frozenset[str]:
        """Host-side enforcement mechanisms that can act on this attachment.

        A protection can be assigned to the host only if one of the mechanisms the host
        reported for it is in this set. Attachments that bypass the host's network stack
        (passthrough, vhost-user into a userspace switch) have none.
        """
        return frozenset()

    def host_mechanisms_for(self, protection: str) -> frozenset[str]:
        """The host mechanisms that can enforce ``protection`` on this attachment; by default
        every mechanism that can act on it (``MECHANISM_COVERS`` then says which protections
        each mechanism covers)."""
        return self.host_mechanisms()

    def summary(self) -> str:
        """One line a person can read in an explanation."""
        return f"{self.type} {self.version}"


@dataclass(frozen=True)
class AddedField:
    """A field a version adds, and the values under which dropping it loses nothing."""

    name: str
    droppable_when: tuple[JsonScalar, ...]
    """Values equal to what older versions implied; empty means it can never be dropped."""

    def as_json(self) -> dict[str, Any]:
        """The published form of this declaration (part of the contract's JSON Schema)."""
        return {"field": self.name, "droppable_when": list(self.droppable_when)}


@dataclass(frozen=True)
class VifVersion:
    """One version of one VIF type: its model and the fields it adds to the previous one."""

    version: str
    model: type[VifBase]
    added: tuple[AddedField, ...] = ()


@dataclass(frozen=True)
class VifTypeSpec:
    """The version line of one VIF type, oldest first."""

    type: str
    versions: tuple[VifVersion, ...]
    description: str = ""
    _by_version: dict[str, VifVersion] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [version_key(v.version) for v in self.versions]
        if not self.versions or keys != sorted(set(keys)):
            raise ValueError(f"{self.type}: versions must be listed oldest first, without repeats")
        object.__setattr__(self, "_by_version", {v.version: v for v in self.versions})

    @property
    def latest(self) -> VifVersion:
        """The newest version this code knows."""
        return self.versions[-1]

    def get(self, version: str) -> VifVersion | None:
        """The given version, or ``None`` when this code does not know it."""
        return self._by_version.get(version)

    def steps_between(self, older: str, newer: str) -> tuple[VifVersion, ...]:
        """The versions after ``older`` up to and including ``newer``, newest first."""
        low, high = version_key(older), version_key(newer)
        return tuple(v for v in reversed(self.versions) if low < version_key(v.version) <= high)

    def as_json(self) -> list[dict[str, Any]]:
        """The version line as published in the contract's JSON Schema."""
        return [
            {"version": v.version, "added": [a.as_json() for a in v.added]} for v in self.versions
        ]
