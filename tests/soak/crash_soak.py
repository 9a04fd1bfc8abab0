"""Soak of the service-crash check (reliability item 2): ``vifbind serve`` SIGKILLed at seeded
points during many concurrent bind, activate and unbind requests, on SQLite and PostgreSQL;
after every restart nothing acknowledged is lost (tests/service/invariants.py).

    .venv/bin/python tests/soak/crash_soak.py [--db sqlite|postgresql|both] [--requests N]
        [--kills K] [--seed S] [--workers W]
"""

from __future__ import annotations

import argparse
import time

# soakrun first: it puts the test helpers on the import path.
from soakrun import DATABASES, database, serve_processes, verdict, workdir

from crashes import run_with_kills


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args()
    figures: dict[str, object] = {}
    passed = True
    for kind in DATABASES if args.db == "both" else (args.db,):
        begun = time.monotonic()
        with workdir() as work, database(kind) as db, serve_processes() as started:
            try:
                result = run_with_kills(
                    work / "state",
                    db,
                    requests=args.requests,
                    kills=args.kills,
                    seed=args.seed,
                    workers=args.workers,
                    started=started.append,
                )
            except AssertionError as exc:
                passed = False
                figures[kind] = {"failed": str(exc)}
                continue
        figures[kind] = {
            "requests": args.requests,
            "answers by status": dict(sorted(result.statuses.items())),
            "cut off by a kill": result.unanswered,
            "kills after": result.kills,
            "events": result.events,
            "bindings at the end": result.bindings,
            "seconds": round(time.monotonic() - begun, 1),
        }
    return verdict("service crash soak", passed, figures)


if __name__ == "__main__":
    raise SystemExit(main())
