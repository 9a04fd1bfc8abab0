"""The import rules of docs/architecture.md, checked on every module's imports (including
imports inside functions and ``TYPE_CHECKING`` blocks)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "vifbind"

RULES: dict[str, tuple[str, ...]] = {
    "vifbind.contract": ("vifbind.contract",),
    "vifbind.errors": ("vifbind.errors", "vifbind.contract"),
    "vifbind.backends": ("vifbind.backends", "vifbind.contract", "vifbind.errors"),
    "vifbind.negotiate": ("vifbind.backends", "vifbind.contract", "vifbind.errors"),
    "vifbind.render": ("vifbind.render", "vifbind.contract", "vifbind.errors"),
    "vifbind.client": (
        "vifbind.contract",
        "vifbind.errors",
        "vifbind.transport",
        "vifbind.streamed",
    ),
    "vifbind.host": (
        "vifbind.host",
        "vifbind.client",
        "vifbind.contract",
        "vifbind.errors",
        "vifbind",  # the package itself, for its __version__
    ),
    "vifbind.service": (
        "vifbind.service",
        "vifbind.negotiate",
        "vifbind.backends",
        "vifbind.contract",
        "vifbind.errors",
        "vifbind.client",  # service/embedded.py hands out a client of the service it runs
        "vifbind",  # the package itself, for its __version__
    ),
    "vifbind.doctor": (),
    "vifbind.sandbox": (),
    "vifbind.transport": (),
    "vifbind.streamed": (),
}
"""What each part of vifbind may import from vifbind."""

WIRING = frozenset({"cli", "demo"})
"""Parts that wire the others together and may import everything: the command, the demo."""


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def vifbind_imports(path: Path) -> set[str]:
    """Every ``vifbind…`` module ``path`` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "vifbind"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module} if node.module.split(".")[0] == "vifbind" else set()
    return found


def part_of(module: str) -> str | None:
    """The rule that governs ``module`` (the longest matching prefix)."""
    matches = [p for p in RULES if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def allowed(imported: str, prefixes: tuple[str, ...]) -> bool:
    return any(imported == p or (p != "vifbind" and imported.startswith(p + ".")) for p in prefixes)


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_module_imports_only_what_its_part_may(path: Path) -> None:
    module = module_name(path)
    part = part_of(module)
    if part is None:
        return  # the wiring parts and the package's __init__ may import everything
    forbidden = sorted(i for i in vifbind_imports(path) if not allowed(i, RULES[part]))
    assert not forbidden, f"{module} ({part}) imports {', '.join(forbidden)}"


def test_every_part_that_uses_vifbind_has_a_rule() -> None:
    ungoverned = {
        module_name(p).split(".")[1]
        for p in MODULES
        if module_name(p) != "vifbind" and part_of(module_name(p)) is None and vifbind_imports(p)
    }
    assert ungoverned <= WIRING, "add a rule here and in docs/architecture.md"


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from vifbind.service.state import ServiceState\n"
        "def f():\n    import vifbind.host.host\n"
    )
    assert vifbind_imports(sample) == {"vifbind.service.state", "vifbind.host.host"}
