"""Initial schema: networks, ports, addresses, host reports, bindings, events, tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table and seed the revision counter."""
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counters, [{"name": "revision", "value": 0}])
    op.create_table(
        "networks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("mtu", sa.Integer, nullable=False),
        sa.Column("segments", sa.JSON, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "ports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "network_id",
            sa.String(36),
            sa.ForeignKey("networks.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("mac", sa.String(17), nullable=False),
        sa.Column("fixed_ips", sa.JSON, nullable=False),
        sa.Column("vnic_type", sa.String(32), nullable=False),
        sa.Column("port_security", sa.Boolean, nullable=False),
        sa.Column("allowed_address_pairs", sa.JSON, nullable=False),
        sa.Column("security_groups", sa.JSON, nullable=False),
        sa.Column("device_id", sa.String(255), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("network_id", "mac", name="uq_ports_network_mac"),
    )
    op.create_index("ix_ports_network_id", "ports", ["network_id"])
    op.create_index("ix_ports_device_id", "ports", ["device_id"])
    op.create_table(
        "port_addresses",
        sa.Column("network_id", sa.String(36), primary_key=True),
        sa.Column("ip", sa.String(45), primary_key=True),
        sa.Column(
            "port_id", sa.String(36), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_port_addresses_port_id", "port_addresses", ["port_id"])
    op.create_table(
        "host_reports",
        sa.Column("host", sa.String(253), primary_key=True),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "bindings",
        sa.Column(
            "port_id",
            sa.String(36),
            sa.ForeignKey("ports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("host", sa.String(253), primary_key=True),
        sa.Column("network_id", sa.String(36)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("backend", sa.String(64)),
        sa.Column("plugged", sa.Boolean, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("decided_revision", sa.BigInteger, nullable=False),
        sa.Column("report", sa.JSON),
        sa.Column("doc", sa.JSON, nullable=False),
    )
    op.create_index("ix_bindings_host", "bindings", ["host"])
    op.create_index("ix_bindings_network_id", "bindings", ["network_id"])
    op.create_index(
        "uq_bindings_one_active",
        "bindings",
        ["port_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("port_id", sa.String(36), nullable=False),
        sa.Column("host", sa.String(253), nullable=False),
        sa.Column("network_id", sa.String(36)),
        sa.Column("binding", sa.JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_events_port_id", "events", ["port_id"])
    op.create_index("ix_events_revision", "events", ["revision"])
    op.create_index("ix_events_network_id", "events", ["network_id"])
    op.create_index("ix_events_host_revision", "events", ["host", "revision"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("host", sa.String(253)),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "tokens",
        "events",
        "bindings",
        "host_reports",
        "port_addresses",
        "ports",
        "networks",
        "counters",
    ):
        op.drop_table(table)
