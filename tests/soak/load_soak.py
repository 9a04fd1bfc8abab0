"""Soak of the load check (reliability item 5): 5,000 ports bound across 200 reported hosts with
20 agents watching, on SQLite or on PostgreSQL behind one or more replicas; every watcher is
checked against the event log, and the latencies are printed (p50/p99 per request kind).

    .venv/bin/python tests/soak/load_soak.py [--db sqlite|postgresql] [--replicas N]
        [--ports N] [--hosts N] [--watchers N] [--workers W]
"""

from __future__ import annotations

import argparse

# soakrun first: it puts the test helpers on the import path.
from soakrun import DATABASES, database, serve_processes, verdict, workdir

from harness import start_serve
from load import run_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=DATABASES, default="sqlite")
    parser.add_argument("--replicas", type=int, default=1, help="PostgreSQL only")
    parser.add_argument("--ports", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    if args.replicas > 1 and args.db == "sqlite":
        parser.error("--replicas: several replicas need --db postgresql")
    with workdir() as work, database(args.db) as db, serve_processes() as started:
        options = ("--backends", "ovs", "--report-max-age", "86400")
        started.extend(start_serve(work / "state", db, *options) for _ in range(args.replicas))
        token = (work / "state" / "admin.token").read_text().strip()
        try:
            result = run_load(
                [p.url for p in started],
                token,
                ports=args.ports,
                hosts=args.hosts,
                watched=args.watchers,
                workers=args.workers,
            )
        except AssertionError as exc:
            return verdict("load soak", False, {"failed": str(exc)})
    figures = result.figures()
    figures["totals"] |= {"database": args.db, "replicas": args.replicas}
    return verdict("load soak", True, figures)


if __name__ == "__main__":
    raise SystemExit(main())
