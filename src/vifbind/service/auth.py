"""Tokens and roles.

A token is a random secret shown once; the service stores only its SHA-256 digest (a fast hash
is enough for 256 random bits). Each token has a role; an ``agent`` token is also bound to one
host and may touch nothing but that host's report, watch and plugged status.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vifbind.errors import Forbidden, InvalidInput
from vifbind.service.storage.tables import TokenRow

Role = Literal["admin", "compute", "agent", "reader"]
ROLES: tuple[Role, ...] = ("admin", "compute", "agent", "reader")
TOKEN_PREFIX = "vbt_"  # noqa: S105 (a marker that makes leaked tokens easy to grep, not a secret)


class Action(StrEnum):
    """What a request does; roles are sets of actions."""

    READ_NETWORKS = "networks:read"
    WRITE_NETWORKS = "networks:write"
    READ_PORTS = "ports:read"
    WRITE_PORTS = "ports:write"
    READ_HOSTS = "hosts:read"
    REPORT_HOST = "hosts:report"
    READ_BINDINGS = "bindings:read"
    WRITE_BINDINGS = "bindings:write"
    REPORT_PLUGGED = "bindings:plugged"
    WATCH_HOST = "hosts:watch"
    READ_EVENTS = "events:read"
    EXPLAIN = "explain"
    READ_SCHEMA = "schema:read"
    READ_METRICS = "metrics:read"
    MANAGE_TOKENS = "tokens:manage"


HOST_SCOPED: frozenset[Action] = frozenset(
    {Action.REPORT_HOST, Action.WATCH_HOST, Action.REPORT_PLUGGED, Action.READ_HOSTS}
)
"""Actions an agent may perform for its own host only."""

READS: frozenset[Action] = frozenset(
    {
        Action.WATCH_HOST,
        Action.READ_NETWORKS,
        Action.READ_PORTS,
        Action.READ_HOSTS,
        Action.READ_BINDINGS,
        Action.READ_EVENTS,
        Action.EXPLAIN,
        Action.READ_SCHEMA,
        Action.READ_METRICS,
    }
)

PERMISSIONS: dict[Role, frozenset[Action]] = {
    "admin": frozenset(Action),
    "compute": frozenset(
        {
            Action.READ_PORTS,
            Action.READ_BINDINGS,
            Action.WRITE_BINDINGS,
            Action.READ_EVENTS,
            Action.EXPLAIN,
            Action.READ_SCHEMA,
        }
    ),
    "agent": frozenset(
        {
            Action.REPORT_HOST,
            Action.READ_HOSTS,
            Action.WATCH_HOST,
            Action.REPORT_PLUGGED,
            Action.READ_BINDINGS,
            Action.READ_SCHEMA,
        }
    ),
    "reader": READS,
}
"""What each role may do. An agent's reads of hosts and bindings are limited to its host."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's id, role and (for agents) host."""

    token_id: str
    role: Role
    host: str | None = None

    def allow(self, action: Action, host: str | None = None) -> None:
        """Raise ``Forbidden`` unless this principal may perform ``action`` (on ``host``)."""
        if action not in PERMISSIONS[self.role]:
            raise Forbidden(f"a {self.role} token may not perform {action}")
        scoped = action in HOST_SCOPED or host is not None
        if self.role == "agent" and scoped and host != self.host:
            raise Forbidden(
                f"this agent token is bound to host {self.host}; "
                f"it may not act for {host or 'other hosts'}"
            )


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(
    session: Session, role: str, host: str | None, name: str, now: datetime
) -> tuple[str, TokenRow]:
    """Store a new token and return it (the only time its secret is visible) with its row."""
    if role not in ROLES:
        raise InvalidInput(f"role: {role!r} is not one of {', '.join(ROLES)}", field="role")
    if (role == "agent") != (host is not None):
        raise InvalidInput(
            "host: an agent token needs --host, and only an agent token takes one", field="host"
        )
    token = new_token()
    row = TokenRow(
        id=str(uuid.uuid4()), digest=digest(token), role=role, host=host, name=name, created_at=now
    )
    session.add(row)
    return token, row


def lookup(session: Session, token: str) -> Principal | None:
    """The principal of ``token``, or ``None`` when the service does not know it."""
    row = session.execute(
        select(TokenRow).where(TokenRow.digest == digest(token))
    ).scalar_one_or_none()
    if row is None or row.role not in ROLES:
        return None
    return Principal(token_id=row.id, role=row.role, host=row.host)
