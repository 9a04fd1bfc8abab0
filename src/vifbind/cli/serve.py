"""``vifbind serve``, ``vifbind db upgrade``, ``vifbind token create``: running the service and
administering its database on the machine it runs on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from vifbind.cli.app import app
from vifbind.errors import InvalidInput
from vifbind.service.settings import DEFAULT_LISTEN, ServiceSettings, default_state_dir

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")

StateDir = Annotated[
    Path | None,
    typer.Option(help="State directory (default /var/lib/vifbind, or ~/.local/share/vifbind)."),
]
DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL, e.g. postgresql+psycopg://…; default SQLite."),
]


def parse_listen(value: str) -> tuple[str, int]:
    """``ADDR:PORT`` (``[v6]:PORT`` for IPv6) as (address, port)."""
    address, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not address:
        raise InvalidInput(f"--listen: {value!r} is not ADDR:PORT", field="listen")
    return address.strip("[]"), int(port)


def settings_from(
    state_dir: Path | None,
    db: str | None,
    backends: str | None = None,
    ovn_nb: str | None = None,
    report_max_age: float = 120.0,
    threads: int | None = None,
) -> ServiceSettings:
    """Settings from command-line options."""
    names = None if backends is None else tuple(n.strip() for n in backends.split(",") if n.strip())
    return ServiceSettings(
        state_dir=state_dir or default_state_dir(),
        db_url=db,
        backends=names,
        ovn_nb=ovn_nb,
        report_max_age=report_max_age,
        threads=threads,
    )


@app.command("serve")
def serve_command(
    listen: Annotated[str, typer.Option(help="ADDR:PORT to listen on.")] = DEFAULT_LISTEN,
    state_dir: StateDir = None,
    db: DbUrl = None,
    backends: Annotated[
        str | None, typer.Option(metavar="A,B", help="Enabled backends in order (default: all).")
    ] = None,
    ovn_nb: Annotated[
        str | None, typer.Option(help="OVN northbound connection (enables the ovn backend).")
    ] = None,
    report_max_age: Annotated[
        float, typer.Option(help="Seconds after which a host report is too old to bind.")
    ] = 120.0,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1024,
            help="Threads for requests' database work (default 2 on SQLite, 8 on PostgreSQL).",
        ),
    ] = None,
) -> None:
    """Run the network service."""
    import uvicorn

    from vifbind.service.app import build_state, create_app, server_config
    from vifbind.service.bootstrap import ensure_admin_token

    address, port = parse_listen(listen)
    settings = settings_from(state_dir, db, backends, ovn_nb, report_max_age, threads)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    state = build_state(settings)
    token_path, created = ensure_admin_token(state.db, settings.state_dir)
    typer.echo(f"vifbind: admin token {'created in' if created else 'in'} {token_path}", err=True)
    names = ", ".join(b.name for b in state.decider.backends) or "none"
    typer.echo(f"vifbind: serving on {address}:{port} with backends {names}", err=True)
    uvicorn.Server(server_config(create_app(state), address, port)).run()


@db_app.command("upgrade")
def db_upgrade(state_dir: StateDir = None, db: DbUrl = None) -> None:
    """Apply every pending migration."""
    from vifbind.service.app import open_database

    database = open_database(settings_from(state_dir, db))
    typer.echo(
        f"vifbind: database at revision {database.current_revision()}, schema current", err=True
    )


@db_app.command("backup")
def db_backup(
    output: Annotated[
        Path, typer.Option("--output", metavar="FILE", help="The copy to write (a new file).")
    ],
    state_dir: StateDir = None,
    db: DbUrl = None,
) -> None:
    """Copy the SQLite database consistently, also while the service runs (a plain copy of the
    file and its -wal during writes can be torn)."""
    from vifbind.service.app import open_database

    if output.exists() or output.is_symlink():
        raise InvalidInput(f"--output: {output} already exists", field="output")
    database = open_database(settings_from(state_dir, db))
    try:
        database.backup(output)
    except OSError as exc:
        raise InvalidInput(f"--output: {output}: {exc.strerror}", field="output") from None
    typer.echo(f"vifbind: database copied to {output}", err=True)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, compute, agent or reader.")],
    host: Annotated[str | None, typer.Option(help="The host an agent token is bound to.")] = None,
    name: Annotated[str, typer.Option(help="A note on what the token is for.")] = "",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            metavar="FILE",
            help="Write the token to FILE, created readable by its owner only, instead of "
            "printing it. An existing FILE is left alone.",
        ),
    ] = None,
    state_dir: StateDir = None,
    db: DbUrl = None,
) -> None:
    """Create a token in the service's database and print it (shown only this once)."""
    from vifbind.contract.types import check_hostname
    from vifbind.service import auth
    from vifbind.service.app import open_database
    from vifbind.service.bootstrap import write_token_file

    if host is not None:
        try:
            host = check_hostname(host)
        except ValueError as exc:
            raise InvalidInput(f"--host: {exc}", field="host") from None
    if output is not None and (output.exists() or output.is_symlink()):
        raise InvalidInput(f"--output: {output} already exists", field="output")
    database = open_database(settings_from(state_dir, db))
    with database.write() as tx:
        token, _ = auth.create_token(tx.session, role, host, name, tx.now)
    if output is None:
        typer.echo(token)
        return
    try:
        write_token_file(output, token)
    except OSError as exc:
        raise InvalidInput(f"--output: {output}: {exc.strerror}", field="output") from None
    typer.echo(f"vifbind: token written to {output}", err=True)
