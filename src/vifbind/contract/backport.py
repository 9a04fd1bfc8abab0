"""Rewrite a VIF in an older version of its type, or say precisely why it cannot be."""

from __future__ import annotations

from vifbind.contract.errors import NotExpressible, UnknownVersion
from vifbind.contract.types import version_key
from vifbind.contract.vif import VifBase, VifTypeSpec
from vifbind.contract.vifs import SPECS


def spec_for(vif_type: str) -> VifTypeSpec:
    """The version line of ``vif_type``; ``UnknownVersion`` if the type is unknown."""
    spec = SPECS.get(vif_type)
    if spec is None:
        raise UnknownVersion(f"unknown VIF type {vif_type!r}; known: {', '.join(sorted(SPECS))}")
    return spec


def _same_as_any(value: object, candidates: tuple[object, ...]) -> bool:
    # Compare types too: True == 1 in Python, but a boolean is not a queue count.
    return any(type(value) is type(c) and value == c for c in candidates)


def backport(vif: VifBase, version: str) -> VifBase:
    """Return ``vif`` in the older ``version`` of its type.

    Fields added after ``version`` are dropped when their value is what ``version`` implied;
    any other value raises ``NotExpressible`` naming the field and the value. The result is
    validated against the older version's model.
    """
    spec = spec_for(vif.type)
    target = spec.get(version)
    if target is None:
        known = ", ".join(v.version for v in spec.versions)
        raise UnknownVersion(f"{vif.type} has no version {version!r}; known: {known}")
    if version_key(version) > version_key(vif.version):
        raise UnknownVersion(
            f"cannot backport {vif.type} {vif.version} to the newer version {version}"
        )
    details = vif.details.model_dump()
    for step in spec.steps_between(version, vif.version):
        for added in step.added:
            value = details.pop(added.name)
            if not _same_as_any(value, added.droppable_when):
                raise NotExpressible(
                    vif_type=vif.type,
                    from_version=vif.version,
                    to_version=version,
                    field=added.name,
                    value=value,
                    droppable_when=added.droppable_when,
                )
    return target.model.model_validate({"type": vif.type, "version": version, "details": details})
