"""What the commands that talk to a running service share: where it is, the token, and how
answers are shown (a table for people, ``--json`` for scripts: stdout carries only the JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel

from vifbind.client import Client
from vifbind.errors import InvalidInput, Unauthorized
from vifbind.service.settings import ADMIN_TOKEN_FILE, DEFAULT_LISTEN, default_state_dir

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_SERVICE = f"http://{DEFAULT_LISTEN}"

ServiceUrl = Annotated[
    str | None,
    typer.Option(
        "--service",
        envvar="VIFBIND_SERVICE",
        help=f"Service URL (default {DEFAULT_SERVICE}); replicas' URLs separated by commas "
        "are tried in turn.",
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="VIFBIND_TOKEN", help="API token.", show_default=False),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        envvar="VIFBIND_TOKEN_FILE",
        help="File holding the API token (default: the local service's admin.token).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON only (for scripts).")]


@cache
def _consoles() -> dict[str, Console]:
    # rich is loaded by the first command that prints for people: not by `vifbind agent`, a
    # daemon on every host held to a memory budget.
    from rich.console import Console

    # Piped output is not cut to 80 columns: ids must survive whole for grep and copy.
    return {
        "console": Console(width=None if sys.stdout.isatty() else 250),
        "errors": Console(stderr=True),
    }


def __getattr__(name: str) -> Console:
    """``console`` (stdout) and ``errors`` (stderr), made on first use."""
    if name in ("console", "errors"):
        return _consoles()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def connect(service: str | None, token: str | None, token_file: Path | None) -> Client:
    """A client of the service named by flags, environment, or the local defaults."""
    urls = [url.strip() for url in (service or DEFAULT_SERVICE).split(",") if url.strip()]
    if not urls:
        raise InvalidInput(f"--service: {service!r} names no URL", field="service")
    return Client(urls, token or read_token(token_file))


def read_token(path: Path | None) -> str:
    """The token in ``path``, or in the local service's ``admin.token``."""
    source = path or default_state_dir() / ADMIN_TOKEN_FILE
    try:
        token = source.read_text().strip()
    except OSError as exc:
        if path is None:
            raise Unauthorized(
                f"no token: pass --token or --token-file (or set VIFBIND_TOKEN); "
                f"{source} cannot be read ({exc.strerror})"
            ) from None
        raise InvalidInput(f"--token-file {path}: cannot read: {exc.strerror}") from None
    if not token:
        raise InvalidInput(f"--token-file {source}: the file is empty")
    return token


def read_json(path: Path | None, option: str) -> Any:
    """A JSON document from a file given to ``option`` (None when the option is absent)."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"{option} {path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{option} {path}: not JSON: {exc}") from None


def emit_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    """Print models (or a plain dict) as JSON on stdout, nothing else."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [item.model_dump(mode="json") for item in value]
    typer.echo(json.dumps(data, indent=2))


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table for people."""
    from rich.table import Table

    view = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        view.add_column(column, overflow="fold", no_wrap=column in ("id", "port", "network"))
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
    _consoles()["console"].print(view)
