"""The ``vifbind`` application object, shared helpers of its commands, and the entry point.

Every command prints its result on stdout (JSON for machines) and nothing else; errors are one
line on stderr and an exit code from ``vifbind.errors.EXIT_CODES`` — never a traceback, unless
``VIFBIND_DEBUG=1`` asks for one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from vifbind.contract.errors import ContractError
from vifbind.errors import InvalidInput, VifbindError, exit_code, validation_problems

app = typer.Typer(
    name="vifbind",
    help="Decide how a virtual interface is attached to the host network, and attach it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

M = TypeVar("M", bound=BaseModel)

JsonFile = Annotated[Path, typer.Option(metavar="FILE", help="JSON document ('-' for stdin).")]


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """One line naming every invalid field of ``source`` and what is wrong with it."""
    return f"{source}: " + "; ".join(validation_problems(exc))


def read_model(model: type[M], path: Path, option: str) -> M:
    """Read and validate a JSON document for ``option`` from ``path`` (``-`` for stdin)."""
    source = f"{option} {path}"
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as exc:
        raise InvalidInput(f"{source}: cannot read: {exc.strerror}") from None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source}: not JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc, source)) from None


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"vifbind: error: {message}", err=True)
    raise SystemExit(code)


def main() -> None:
    """Entry point of the ``vifbind`` console script."""
    try:
        app()
    except (VifbindError, ContractError) as exc:
        if os.environ.get("VIFBIND_DEBUG") == "1":
            raise
        _fail(str(exc), exit_code(exc))
    except Exception as exc:
        if os.environ.get("VIFBIND_DEBUG") == "1":
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (VIFBIND_DEBUG=1 shows where)", 3)
