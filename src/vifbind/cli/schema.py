"""``vifbind schema``: the contract's JSON Schema, or its Markdown reference."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vifbind.cli.app import app
from vifbind.contract.schema import contract_markdown, contract_schema


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
