"""Finding backends: every backend, built-in or third-party, registers under the entry-point
group ``vifbind.backends`` (name = backend name, value = the ``Backend`` subclass)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points

from vifbind.backends.base import Backend
from vifbind.errors import BackendLoadError, UnknownBackend

GROUP = "vifbind.backends"

DEFAULT_ORDER = ("ovn", "ovs", "linuxbridge", "sriov", "macvtap", "xen", "vmware", "hyperv")
"""Built-in backends in their default order of preference; third-party ones follow by name."""


def registered() -> dict[str, EntryPoint]:
    """Every backend entry point installed, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def default_names() -> list[str]:
    """All registered backends: built-ins in ``DEFAULT_ORDER``, then the others by name."""
    names = registered()
    return [n for n in DEFAULT_ORDER if n in names] + sorted(set(names) - set(DEFAULT_ORDER))


def load(names: Sequence[str] | None = None) -> list[Backend]:
    """Instantiate the named backends in the given order (default: ``default_names()``)."""
    available = registered()
    chosen = list(names) if names is not None else default_names()
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise UnknownBackend(
            f"backends: unknown {', '.join(repr(n) for n in unknown)}; "
            f"registered: {', '.join(default_names()) or 'none'}"
        )
    if len(set(chosen)) != len(chosen):
        raise UnknownBackend(f"backends: a name is listed twice in {', '.join(chosen)}")
    return [_instantiate(available[n]) for n in chosen]


def _instantiate(ep: EntryPoint) -> Backend:
    try:
        cls = ep.load()
    except Exception as exc:
        raise BackendLoadError(f"backend {ep.name!r} ({ep.value}) cannot be loaded: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendLoadError(f"backend {ep.name!r} ({ep.value}) is not a Backend subclass")
    if cls.name != ep.name:
        raise BackendLoadError(
            f"backend {ep.name!r} ({ep.value}) calls itself {cls.name!r}; the names must agree"
        )
    return cls()
