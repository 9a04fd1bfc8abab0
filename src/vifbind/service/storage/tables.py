"""The service's tables. Schema changes go through Alembic migrations (``migrations/``).

Every write transaction takes the next value of one global revision counter first; each row
it writes carries that revision. Because the counter row stays locked until commit, revisions
are committed in order, so a watcher that has seen revision N has seen everything before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive timestamps are not stored; use UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class CounterRow(Base):
    """Named counters; ``revision`` orders every change the service makes."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


class NetworkRow(Base):
    """A network and its segments."""

    __tablename__ = "networks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    mtu: Mapped[int] = mapped_column(Integer, nullable=False)
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class PortRow(Base):
    """A port; its addresses are also rows of ``port_addresses`` so that the database itself
    refuses an address used twice on one network."""

    __tablename__ = "ports"
    __table_args__ = (UniqueConstraint("network_id", "mac", name="uq_ports_network_mac"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    mac: Mapped[str] = mapped_column(String(17), nullable=False)
    fixed_ips: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    vnic_type: Mapped[str] = mapped_column(String(32), nullable=False)
    port_security: Mapped[bool] = mapped_column(Boolean, nullable=False)
    allowed_address_pairs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    security_groups: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    device_id: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class PortAddressRow(Base):
    """One fixed IP of one port, unique per network."""

    __tablename__ = "port_addresses"

    network_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, index=True
    )


class HostReportRow(Base):
    """The latest report of one host."""

    __tablename__ = "host_reports"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)


class BindingRow(Base):
    """The binding of one port to one host. ``doc`` is the whole binding as served; the other
    columns repeat what queries and constraints need."""

    __tablename__ = "bindings"
    __table_args__ = (
        # At most one active binding per port, enforced by the database itself.
        Index(
            "uq_bindings_one_active",
            "port_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(String(253), primary_key=True, index=True)
    network_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    backend: Mapped[str | None] = mapped_column(String(64))
    plugged: Mapped[bool] = mapped_column(Boolean, nullable=False)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    decided_revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
    """Revision of the last decision; plugged reports about older decisions are refused."""
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The host report the decision was made from (stored, or sent with the bind request)."""
    doc: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class EventRow(Base):
    """A change to a binding, in revision order: what watchers are served."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_host_revision", "host", "revision"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    port_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    host: Mapped[str] = mapped_column(String(253), nullable=False)
    network_id: Mapped[str | None] = mapped_column(String(36), index=True)
    binding: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class TokenRow(Base):
    """An API token, stored as its SHA-256 digest only."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    host: Mapped[str | None] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


def table_of(row_class: type[Base]) -> Table:
    """The Core table behind a mapped class, for statements that skip the ORM's unit of work."""
    table = row_class.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{row_class.__name__} is not mapped to a table")
    return table


COUNTERS = table_of(CounterRow)
NETWORKS = table_of(NetworkRow)
PORTS = table_of(PortRow)
HOST_REPORTS = table_of(HostReportRow)
BINDINGS = table_of(BindingRow)
EVENTS = table_of(EventRow)
