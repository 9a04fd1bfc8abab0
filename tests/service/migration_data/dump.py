"""Write ``<revision>.json``: the rows vifbind writes at the newest migration, one object of
every shape (networks and ports of several kinds, host reports, bindings active, inactive,
failed, plugged and removed with their events, tokens of every role). Run it when a migration
changes what is stored, and keep the older files: test_migrations.py populates a database at
each revision with the newest file at or before it, then upgrades it.

    .venv/bin/python tests/service/migration_data/dump.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent)]

from alembic.runtime.migration import MigrationContext  # noqa: E402
from sqlalchemy import MetaData, select  # noqa: E402

from vifbind.client import Client  # noqa: E402
from vifbind.service.settings import ServiceSettings  # noqa: E402

from builders import host, vlan, vxlan  # noqa: E402
from harness import serve_in_thread  # noqa: E402


def populate(api: Client) -> dict[str, str]:
    """One of everything through the API; the tokens made, by role."""
    api.report_host(host("cmp-1"))
    api.report_host(host("cmp-2"))
    api.report_host(host("lb-1", ovs=None, tunnels={"vxlan": "198.51.100.9"}))
    overlay = api.create_network([vxlan(100)], name="overlay", mtu=1450)
    provider = api.create_network([vlan(200)], name="provider")
    migrating = api.create_port(
        overlay.id, fixed_ips=["192.0.2.10", "2001:db8::10"], security_groups=["web"]
    )
    api.bind(migrating.id, "cmp-1")
    api.bind(migrating.id, "cmp-2")
    api.activate(migrating.id, "cmp-2")
    plugged = api.create_port(
        provider.id, allowed_address_pairs=[{"ip": "192.0.2.50"}], device_id="vm-2"
    )
    binding = api.bind(plugged.id, "cmp-1")
    api.report_plugged(plugged.id, "cmp-1", plugged=True, revision=binding.revision)
    unprotected = api.create_port(overlay.id, port_security=False)
    api.bind(unprotected.id, "cmp-9")  # never reported: a failed binding
    api.bind(api.create_port(overlay.id).id, "lb-1")
    removed = api.create_port(provider.id)
    api.bind(removed.id, "cmp-2")
    api.unbind(removed.id, "cmp-2")
    made = {}
    for role, host_name in (("agent", "cmp-1"), ("compute", None), ("reader", None)):
        token = api.create_token(role, host=host_name, name=f"dumped {role}").token
        assert token is not None
        made[role] = token
    return made


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    return value


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vifbind-dump-") as directory:
        settings = ServiceSettings(state_dir=Path(directory), report_max_age=3600)
        with serve_in_thread(settings) as running:
            tokens = populate(running.client())
            tokens["admin"] = running.admin_token
            with running.state.db.engine.connect() as connection:
                revision = MigrationContext.configure(connection).get_current_revision()
                tables = MetaData()
                tables.reflect(connection)
                rows = {
                    table.name: [
                        {k: plain(v) for k, v in row._mapping.items()}
                        for row in connection.execute(select(table))
                    ]
                    for table in tables.sorted_tables
                    if table.name != "alembic_version"
                }
    path = HERE / f"{revision}.json"
    path.write_text(json.dumps({"revision": revision, "tokens": tokens, "rows": rows}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
