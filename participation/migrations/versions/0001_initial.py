"""Initial schema: proposals, subscriptions, reminders, tickets, questions, feedback.

Revision ID: 0001_initial
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from participation.models import UtcDateTime

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER = 255
CODE = 32
REFERENCE = 24
TOKEN = 64
RECORD = 200
EMAIL = 320


def _proposals() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(REFERENCE), nullable=False),
        sa.Column("user_id", sa.String(USER), nullable=False),
        sa.Column("channel", sa.String(CODE), nullable=False),
        sa.Column("language", sa.String(CODE), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("city", sa.String(RECORD), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(TOKEN * 2), nullable=True),
        sa.Column("status", sa.String(CODE), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("moderated_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
        sa.UniqueConstraint("reference", name="uq_proposals_reference"),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name="uq_proposals_user_id_idempotency_key"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'published', 'rejected')", name="ck_proposals_status"
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR reason IS NOT NULL", name="ck_proposals_rejected_reason"
        ),
    )
    op.create_index("ix_proposals_user_id", "proposals", ["user_id"])
    op.create_index("ix_proposals_status_created_at", "proposals", ["status", "created_at"])


def _subscriptions() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(TOKEN), nullable=False),
        sa.Column("user_id", sa.String(USER), nullable=False),
        sa.Column("channel", sa.String(CODE), nullable=False),
        sa.Column("language", sa.String(CODE), nullable=False),
        sa.Column("kind", sa.String(CODE), nullable=False),
        sa.Column("target", sa.String(RECORD), nullable=False),
        sa.Column("email", sa.String(EMAIL), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("token", name="uq_subscriptions_token"),
        sa.UniqueConstraint(
            "user_id", "kind", "target", name="uq_subscriptions_user_id_kind_target"
        ),
        sa.CheckConstraint(
            "kind IN ('calls_theme', 'calls_programme', 'events_city')",
            name="ck_subscriptions_kind",
        ),
    )
    op.create_index("ix_subscriptions_user_id", "subscriptions", ["user_id"])


def _reminders() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(USER), nullable=False),
        sa.Column("channel", sa.String(CODE), nullable=False),
        sa.Column("subject_type", sa.String(CODE), nullable=False),
        sa.Column("subject_id", sa.String(RECORD), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(CODE), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_reminders_subscription_id_subscriptions",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "subscription_id",
            "subject_type",
            "subject_id",
            "deadline",
            "offset_days",
            name="uq_reminders_subject_offset",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'failed')", name="ck_reminders_status"
        ),
    )
    op.create_index("ix_reminders_subscription_id", "reminders", ["subscription_id"])
    op.create_index("ix_reminders_user_id", "reminders", ["user_id"])
    op.create_index("ix_reminders_status_due_at", "reminders", ["status", "due_at"])


def _tickets() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(REFERENCE), nullable=False),
        sa.Column("user_id", sa.String(USER), nullable=False),
        sa.Column("channel", sa.String(CODE), nullable=False),
        sa.Column("language", sa.String(CODE), nullable=False),
        sa.Column("topic", sa.String(RECORD), nullable=True),
        sa.Column("city", sa.String(RECORD), nullable=True),
        sa.Column("country", sa.String(CODE), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.String(RECORD), nullable=True),
        sa.Column("status", sa.String(CODE), nullable=False),
        sa.Column("reply_by", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("reference", name="uq_tickets_reference"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_tickets_status"),
    )
    op.create_index("ix_tickets_user_id", "tickets", ["user_id"])
    op.create_index("ix_tickets_status_created_at", "tickets", ["status", "created_at"])


def _questions_and_feedback() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(USER), nullable=False),
        sa.Column("language", sa.String(CODE), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(RECORD), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
    )
    op.create_index("ix_questions_user_id", "questions", ["user_id"])
    op.create_index("ix_questions_created_at", "questions", ["created_at"])
    op.create_index("ix_questions_language_answered", "questions", ["language", "answered"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(USER), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name="fk_feedback_question_id_questions",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("question_id", name="uq_feedback_question_id"),
        sa.CheckConstraint("rating IN (1, -1)", name="ck_feedback_rating"),
    )
    op.create_index("ix_feedback_user_id", "feedback", ["user_id"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def upgrade() -> None:
    """Create every table of the participation database."""
    op.create_table(
        "reference_counters",
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name="pk_reference_counters"),
    )
    _proposals()
    _subscriptions()
    _reminders()
    _tickets()
    _questions_and_feedback()


def downgrade() -> None:
    """Drop every table (children first, for the foreign keys)."""
    for table in (
        "feedback",
        "questions",
        "tickets",
        "reminders",
        "subscriptions",
        "proposals",
        "reference_counters",
    ):
        op.drop_table(table)
