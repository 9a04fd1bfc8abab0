"""Base classes of every contract model.

Two rules, chosen for version skew between independently upgraded sides:

* ``Model`` forbids unknown keys. It is used for instructions and inputs, where a key that is
  not understood must not be silently dropped: VIF details (versioned explicitly), networks,
  ports, the bind request's profile.
* ``Record`` ignores unknown keys. It is used for messages that a *newer* peer may extend with
  fields ("add fields freely"): the host report (a newer agent talking to an older service) and
  the binding (a newer service talking to an older agent or compute side).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Immutable contract model that rejects unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Record(Model):
    """Immutable contract model that ignores unknown keys sent by a newer peer."""

    model_config = ConfigDict(extra="ignore")
