"""Right of access, right to erasure and retention of personal data."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

from sqlalchemy import delete, or_, select, update

from participation import reports, tracker
from participation.core import ServiceCore
from participation.db import busy_guard
from participation.models import (
    Base,
    Feedback,
    Proposal,
    Question,
    ReminderRow,
    Subscription,
    Ticket,
    TicketMessage,
)

logger = logging.getLogger(__name__)

# Tables with a ``user_id`` column, children before parents so deletes respect
# the foreign keys. Typed Any: the models share the column but no common base.
USER_TABLES: Final[tuple[tuple[str, Any], ...]] = (
    ("feedback", Feedback),
    ("questions", Question),
    ("reminders", ReminderRow),
    ("subscriptions", Subscription),
    ("tickets", Ticket),
    ("proposals", Proposal),
)


def _row_dict(row: Base) -> dict[str, Any]:
    """Every column of a row, JSON-ready (for the right of access)."""
    return {
        column.key: reports.csv_value(getattr(row, column.key)) if column.key != "record_ids"
        else list(getattr(row, column.key) or [])
        for column in row.__table__.columns
    }  # fmt: skip


class UserDataMixin(ServiceCore):
    """Right of access, right to erasure and retention of personal data."""

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything stored about a user, JSON-ready (right of access).

        Includes their conversation from Rasa's tracker store.
        """
        export: dict[str, Any] = {"user_id": user_id, "exported_at": self._now().isoformat()}
        with self._read() as session:
            for name, model in USER_TABLES:
                query = select(model).where(model.user_id == user_id)
                export[name] = [_row_dict(row) for row in session.scalars(query)]
            # Messages of handed-over conversations (the user's masked, the operators').
            messages = (
                select(TicketMessage)
                .join(Ticket, Ticket.id == TicketMessage.ticket_id)
                .where(Ticket.user_id == user_id)
                .order_by(TicketMessage.id)
            )
            export["ticket_messages"] = [
                {k: v for k, v in _row_dict(row).items() if k != "operator_id"}
                for row in session.scalars(messages)
            ]
        with busy_guard():
            export["conversation"] = tracker.export_events(self._tracker(), user_id)
        return export

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Erase everything about a user, including their Rasa conversation.

        The conversation goes first: if either database is busy the error comes
        before anything else is deleted, and a retry finishes the job.

        Returns:
            Rows deleted per table (``tracker_events`` for the conversation).
        """
        with busy_guard():
            counts = {"tracker_events": tracker.delete_events(self._tracker(), user_id)}
        with self._write() as session:
            for name, model in USER_TABLES:
                result = session.execute(
                    delete(model).where(model.user_id == user_id),
                    execution_options={"synchronize_session": False},
                )
                counts[name] = int(result.rowcount)
        logger.info("forgot a user: %s", counts)
        return counts

    def purge_expired(self, now: dt.datetime) -> dict[str, int]:
        """Delete what is older than ``retention_days`` (see docs/participation.md).

        Returns:
            Rows deleted (or, for ``proposal_contacts``, cleared) per kind.
        """
        cutoff = now - dt.timedelta(days=self._settings.retention_days)
        old_questions = select(Question.id).where(Question.created_at < cutoff)
        statements: dict[str, Any] = {
            "feedback": delete(Feedback).where(
                or_(Feedback.created_at < cutoff, Feedback.question_id.in_(old_questions))
            ),
            "questions": delete(Question).where(Question.created_at < cutoff),
            "tickets": delete(Ticket).where(Ticket.status == "closed", Ticket.closed_at < cutoff),
            "reminders": delete(ReminderRow).where(ReminderRow.due_at < cutoff),
            "proposals": delete(Proposal).where(
                Proposal.status == "rejected", Proposal.moderated_at < cutoff
            ),
            "proposal_contacts": update(Proposal)
            .where(
                Proposal.status != "pending",
                Proposal.moderated_at < cutoff,
                Proposal.contact.is_not(None),
            )
            .values(contact=None),
        }
        counts: dict[str, int] = {}
        with self._write() as session:
            for name, statement in statements.items():
                result = session.execute(
                    statement, execution_options={"synchronize_session": False}
                )
                counts[name] = int(result.rowcount)
        with busy_guard():
            counts["tracker_events"] = tracker.purge_events(self._tracker(), cutoff)
        return counts
