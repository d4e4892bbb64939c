"""Operator accounts, sessions, API clients, login attempts, audit log, ticket handover.

Revision ID: 0002_operators
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from participation.models import UtcDateTime

revision: str = "0002_operators"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = 32
TOKEN = 64
RECORD = 200
USERNAME = 64
HASH = 255
ADDRESS = 64


def _operators() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(USERNAME), nullable=False),
        sa.Column("password_hash", sa.String(HASH), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("username", name="uq_operators_username"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(TOKEN), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(TOKEN), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_operator_sessions"),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name="fk_operator_sessions_operator_id_operators",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])
    op.create_index("ix_operator_sessions_expires_at", "operator_sessions", ["expires_at"])


def _clients_attempts_audit() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(USERNAME), nullable=False),
        sa.Column("token_hash", sa.String(TOKEN), nullable=False),
        sa.Column("scope", sa.String(CODE), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_clients"),
        sa.UniqueConstraint("name", name="uq_api_clients_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_clients_token_hash"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(USERNAME), nullable=False),
        sa.Column("address", sa.String(ADDRESS), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username", "at"])
    op.create_index("ix_login_attempts_address_at", "login_attempts", ["address", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(USERNAME + CODE), nullable=False),
        sa.Column("action", sa.String(CODE * 2), nullable=False),
        sa.Column("target", sa.String(RECORD), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def _ticket_handover() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(CODE), nullable=True))
        batch.create_foreign_key(
            "fk_tickets_assignee_id_operators",
            "operators",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_tickets_assignee_id", ["assignee_id"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(CODE), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_messages"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_messages_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name="fk_ticket_messages_operator_id_operators",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("author IN ('user', 'operator')", name="ck_ticket_messages_author"),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])


def upgrade() -> None:
    """Create the account tables and let tickets be handed to an operator."""
    _operators()
    _clients_attempts_audit()
    _ticket_handover()


def downgrade() -> None:
    """Drop the account tables and the ticket handover columns."""
    op.drop_table("ticket_messages")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_assignee_id")
        batch.drop_constraint("fk_tickets_assignee_id_operators", type_="foreignkey")
        batch.drop_column("outcome")
        batch.drop_column("claimed_at")
        batch.drop_column("assignee_id")
    for table in ("audit_log", "login_attempts", "api_clients", "operator_sessions", "operators"):
        op.drop_table(table)
