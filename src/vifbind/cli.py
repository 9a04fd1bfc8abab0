"""The ``vifbind`` command.

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

from vifbind.backends import registry
from vifbind.contract import BindingProfile, HostReport, Network, Port
from vifbind.contract.errors import ContractError
from vifbind.contract.schema import contract_markdown, contract_schema
from vifbind.errors import InvalidInput, VifbindError, exit_code
from vifbind.negotiate import negotiate

app = typer.Typer(
    name="vifbind",
    help="Decide how a virtual interface is attached to the host network, and attach it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

M = TypeVar("M", bound=BaseModel)

EXIT_FAILED_BINDING = 1


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """One line naming every invalid field of ``source`` and what is wrong with it."""
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(document)"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return f"{source}: " + "; ".join(problems)


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


JsonFile = Annotated[Path, typer.Option(metavar="FILE", help="JSON document ('-' for stdin).")]


@app.command("negotiate")
def negotiate_command(
    network: JsonFile,
    port: JsonFile,
    host: JsonFile,
    profile: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Bind request profile (JSON).")
    ] = None,
    backends: Annotated[
        str | None,
        typer.Option(metavar="A,B", help="Backends in order of preference (default: all)."),
    ] = None,
) -> None:
    """Decide a binding offline from files and print it as JSON (exit 0 bound, 1 failed)."""
    names = [n.strip() for n in backends.split(",") if n.strip()] if backends is not None else None
    binding = negotiate(
        read_model(Network, network, "--network"),
        read_model(Port, port, "--port"),
        read_model(HostReport, host, "--host"),
        registry.load(names),
        read_model(BindingProfile, profile, "--profile") if profile is not None else None,
    )
    typer.echo(binding.model_dump_json(indent=2))
    if binding.status != "bound":
        raise typer.Exit(EXIT_FAILED_BINDING)


@app.command("schema")
def schema_command(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown reference instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of the whole contract."""
    if markdown:
        typer.echo(contract_markdown(), nl=False)
    else:
        typer.echo(json.dumps(contract_schema(), indent=2))


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
