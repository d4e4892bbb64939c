"""Handoff tickets routed to knowledge-base contacts."""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import select

from participation import routing
from participation.core import ServiceCore, next_reference, optional_text, required_text
from participation.errors import InvalidInputError, NotFoundError
from participation.models import Ticket
from participation.types import TICKET_STATUSES, TicketReceipt, TicketStatus, TicketView, channel_of

logger = logging.getLogger(__name__)

TICKET_PREFIX: Final[str] = "HT"


def _ticket_view(row: Ticket) -> TicketView:
    return TicketView(
        reference=row.reference,
        status=row.status,
        user_id=row.user_id,
        language=row.language,
        topic=row.topic,
        city=row.city,
        country=row.country,
        summary=row.summary,
        contact_id=row.contact_id,
        reply_by=row.reply_by,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


class TicketsMixin(ServiceCore):
    """Handoff tickets routed to knowledge-base contacts."""

    def open_ticket(
        self,
        *,
        user_id: str,
        language: str,
        topic: str | None = None,
        city: str | None = None,
        country: str | None = None,
        summary: str,
    ) -> TicketReceipt:
        """Open a handoff ticket routed to the best knowledge-base contact.

        Raises:
            InvalidInputError: Empty summary or language.
        """
        summary = required_text("summary", summary)
        language = required_text("language", language)
        contact = routing.best_contact(
            self._kb().contacts.values(),
            language=language,
            city=optional_text(city),
            country=optional_text(country),
            topic=optional_text(topic),
        )
        office = contact.office_hours if contact else None
        now = self._now()
        due = routing.reply_by(
            now,
            routing.resolve_hours(office, self._settings),
            self._settings.ticket_reply_office_hours,
        )
        with self._write() as session:
            row = Ticket(
                reference=next_reference(session, TICKET_PREFIX, now),
                user_id=user_id,
                channel=channel_of(user_id),
                language=language,
                topic=optional_text(topic),
                city=optional_text(city),
                country=optional_text(country),
                summary=summary,
                contact_id=contact.id if contact else None,
                status="open",
                reply_by=due,
                created_at=now,
            )
            session.add(row)
            session.flush()
            reference = row.reference
        logger.info("ticket %s routed to %s", reference, row.contact_id)
        return TicketReceipt(
            reference=reference,
            status="open",
            contact_id=contact.id if contact else None,
            contact_name=contact.organisation if contact else None,
            contact_email=contact.email if contact else None,
            contact_url=contact.url if contact else None,
            office_hours=routing.describe_hours(office),
            reply_by=due,
            created_at=now,
        )

    def list_tickets(self, status: TicketStatus | None = None) -> list[TicketView]:
        """Tickets for staff, oldest first."""
        query = select(Ticket).order_by(Ticket.created_at, Ticket.id)
        if status is not None:
            if status not in TICKET_STATUSES:
                raise InvalidInputError("status")
            query = query.where(Ticket.status == status)
        with self._read() as session:
            return [_ticket_view(row) for row in session.scalars(query)]

    def close_ticket(self, reference: str) -> TicketView:
        """Close a ticket (closing twice keeps the first closing time).

        Raises:
            NotFoundError: No ticket has this reference.
        """
        with self._write() as session:
            row = session.scalars(
                select(Ticket).where(Ticket.reference == reference.strip().upper())
            ).one_or_none()
            if row is None:
                raise NotFoundError("ticket", reference)
            if row.status != "closed":
                row.status = "closed"
                row.closed_at = self._now()
                session.flush()
            return _ticket_view(row)
