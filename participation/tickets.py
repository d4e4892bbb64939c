"""Handoff tickets routed to knowledge-base contacts."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from participation import routing
from participation.accounts import operator_principal
from participation.audit import AuditMixin
from participation.core import next_reference, optional_text, required_text
from participation.errors import ConflictError, InvalidInputError, NotFoundError, OutOfScopeError
from participation.models import Operator, Question, Ticket, TicketMessage
from participation.privacy import mask_personal_data
from participation.types import (
    TICKET_OUTCOMES,
    TICKET_STATUSES,
    Principal,
    TicketMessageView,
    TicketReceipt,
    TicketStatus,
    TicketView,
    channel_of,
)

logger = logging.getLogger(__name__)

TICKET_PREFIX: Final[str] = "HT"


def _aware(moment: dt.datetime) -> dt.datetime:
    """An aware UTC time (MAX() keeps the column type, but never trust a naive value)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _serves(principal: Principal, row: Ticket) -> bool:
    return principal.serves(row.city, row.language, row.topic)


def _message_view(row: TicketMessage, operator: str | None) -> TicketMessageView:
    return TicketMessageView(
        id=row.id, author=row.author, operator=operator, text=row.text, created_at=row.created_at
    )


def _ticket_view(row: Ticket, assignee: str | None = None) -> TicketView:
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
        channel=row.channel,
        assignee=assignee,
        claimed_at=row.claimed_at,
        outcome=row.outcome,
    )


class TicketsMixin(AuditMixin):
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

    def list_tickets(
        self, status: TicketStatus | None = None, principal: Principal | None = None
    ) -> list[TicketView]:
        """Tickets for staff, oldest first; with ``principal`` only those they serve."""
        query = select(Ticket).order_by(Ticket.created_at, Ticket.id)
        if status is not None:
            if status not in TICKET_STATUSES:
                raise InvalidInputError("status")
            query = query.where(Ticket.status == status)
        with self._read() as session:
            return [
                self._ticket_view(session, row)
                for row in session.scalars(query)
                if principal is None or _serves(principal, row)
            ]

    def _ticket_view(self, session: Session, row: Ticket) -> TicketView:
        assignee = session.get(Operator, row.assignee_id) if row.assignee_id else None
        return _ticket_view(row, assignee.username if assignee else None)

    def _ticket_row(self, session: Session, reference: str, principal: Principal | None) -> Ticket:
        row = session.scalars(
            select(Ticket).where(Ticket.reference == reference.strip().upper())
        ).one_or_none()
        if row is None:
            raise NotFoundError("ticket", reference)
        if principal is not None and not _serves(principal, row):
            raise OutOfScopeError("ticket", row.reference)
        return row

    def get_ticket(self, reference: str, principal: Principal | None = None) -> TicketView:
        """One ticket. Raises NotFoundError, or OutOfScopeError when not the principal's."""
        with self._read() as session:
            return self._ticket_view(session, self._ticket_row(session, reference, principal))

    def close_ticket(
        self, reference: str, principal: Principal | None = None, outcome: str | None = None
    ) -> TicketView:
        """Close a ticket (closing twice keeps the first closing time and outcome).

        Raises:
            NotFoundError: No ticket has this reference.
            OutOfScopeError: Not a ticket the principal serves.
            InvalidInputError: Unknown outcome.
        """
        if outcome is not None and outcome not in TICKET_OUTCOMES:
            raise InvalidInputError("outcome", f"use {', '.join(TICKET_OUTCOMES)}")
        with self._write() as session:
            row = self._ticket_row(session, reference, principal)
            if row.status != "closed":
                row.status = "closed"
                row.closed_at = self._now()
                row.outcome = outcome
                if principal is not None:
                    detail = {"outcome": outcome}
                    self._audit(session, principal.actor, "ticket_close", row.reference, detail)
                session.flush()
            return self._ticket_view(session, row)

    def claim_ticket(self, reference: str, principal: Principal) -> TicketView:
        """Take a waiting conversation; of two operators claiming at once, one wins.

        The claim is one conditional UPDATE (open and unassigned), so the database
        decides the race; claiming one's own ticket again changes nothing.

        Raises:
            NotFoundError, OutOfScopeError: As for :meth:`get_ticket`.
            ConflictError: Closed, or already claimed by another operator.
        """
        if principal.operator_id is None:
            raise InvalidInputError("operator", "only a signed-in operator can claim")
        with self._write() as session:
            row = self._ticket_row(session, reference, principal)
            if row.status == "closed":
                raise ConflictError("ticket", "closed")
            if row.assignee_id != principal.operator_id:
                claimed = session.execute(
                    update(Ticket)
                    .where(
                        Ticket.id == row.id,
                        Ticket.status == "open",
                        Ticket.assignee_id.is_(None),
                    )
                    .values(assignee_id=principal.operator_id, claimed_at=self._now())
                    .execution_options(synchronize_session=False)
                )
                if not claimed.rowcount:
                    raise ConflictError("ticket", "claimed")
                self._audit(session, principal.actor, "ticket_claim", row.reference)
                session.refresh(row)
            return self._ticket_view(session, row)

    def transfer_ticket(
        self,
        reference: str,
        principal: Principal,
        *,
        city: str | None = None,
        operator: str | None = None,
    ) -> TicketView:
        """Hand a conversation to another city (unassigned there) or to another operator.

        Raises:
            NotFoundError: No such ticket or operator.
            OutOfScopeError: Not a ticket the principal serves.
            InvalidInputError: Neither target given, or the operator cannot serve it.
            ConflictError: The ticket is closed.
        """
        city, operator = optional_text(city), optional_text(operator)
        if city is None and operator is None:
            raise InvalidInputError("target", "give a city or an operator")
        with self._write() as session:
            row = self._ticket_row(session, reference, principal)
            if row.status == "closed":
                raise ConflictError("ticket", "closed")
            if city is not None:
                row.city = city
                row.assignee_id, row.claimed_at = None, None
            if operator is not None:
                target = session.scalars(
                    select(Operator).where(Operator.username == operator.casefold())
                ).one_or_none()
                if target is None:
                    raise NotFoundError("operator", operator)
                if not target.active or not _serves(operator_principal(target), row):
                    raise InvalidInputError("operator", "does not serve this conversation")
                row.assignee_id, row.claimed_at = target.id, self._now()
            detail = {"city": city, "operator": operator}
            self._audit(session, principal.actor, "ticket_transfer", row.reference, detail)
            session.flush()
            return self._ticket_view(session, row)

    def add_ticket_message(
        self, reference: str, text: str, principal: Principal | None = None
    ) -> TicketMessageView:
        """Add a message: an operator's reply (with ``principal``) or the user's own turn.

        The user's text is stored masked, like analytics questions; an operator may
        reply only to a conversation they hold.

        Raises:
            NotFoundError, OutOfScopeError: As for :meth:`get_ticket`.
            InvalidInputError: Empty or too long text.
            ConflictError: Closed, or held by someone else (or nobody).
        """
        text = required_text("text", text)
        if len(text) > self._settings.operator_reply_max_chars:
            raise InvalidInputError("text", f"at most {self._settings.operator_reply_max_chars}")
        with self._write() as session:
            row = self._ticket_row(session, reference, principal)
            if row.status == "closed":
                raise ConflictError("ticket", "closed")
            if principal is not None and row.assignee_id != principal.operator_id:
                raise ConflictError("ticket", "claimed" if row.assignee_id else "unclaimed")
            message = TicketMessage(
                ticket_id=row.id,
                author="user" if principal is None else "operator",
                operator_id=principal.operator_id if principal else None,
                text=mask_personal_data(text) if principal is None else text,
                created_at=self._now(),
            )
            session.add(message)
            if principal is not None:
                self._audit(session, principal.actor, "ticket_reply", row.reference)
            session.flush()
            return _message_view(message, principal.actor if principal else None)

    def ticket_messages(
        self, reference: str, principal: Principal | None = None, after_id: int = 0
    ) -> list[TicketMessageView]:
        """Messages of a conversation after ``after_id``, oldest first (for catching up)."""
        with self._read() as session:
            row = self._ticket_row(session, reference, principal)
            found = session.execute(
                select(TicketMessage, Operator.username)
                .outerjoin(Operator, Operator.id == TicketMessage.operator_id)
                .where(TicketMessage.ticket_id == row.id, TicketMessage.id > after_id)
                .order_by(TicketMessage.id)
            )
            return [
                _message_view(message, f"operator:{name}" if name else None)
                for message, name in found
            ]

    def replies_for_user(self, user_id: str, after_id: int = 0) -> list[TicketMessageView]:
        """Operators' replies to this user (any of their tickets) after ``after_id``.

        What a channel delivers to the user, and what a reconnecting widget catches up
        on; operator names are left out (the user sees "a person", never an account).
        """
        with self._read() as session:
            found = session.execute(
                select(TicketMessage, Ticket.reference)
                .join(Ticket, Ticket.id == TicketMessage.ticket_id)
                .where(
                    Ticket.user_id == user_id,
                    TicketMessage.author == "operator",
                    TicketMessage.id > after_id,
                )
                .order_by(TicketMessage.id)
            )
            return [
                replace(_message_view(message, None), ticket=reference)
                for message, reference in found
            ]

    def last_user_message_at(self, user_id: str) -> dt.datetime | None:
        """When the user last wrote (to the bot or to an operator), if this store knows.

        WhatsApp lets a business answer freely only within 24 hours of that moment.
        """
        with self._read() as session:
            asked = session.scalar(
                select(func.max(Question.created_at)).where(Question.user_id == user_id)
            )
            wrote = session.scalar(
                select(func.max(TicketMessage.created_at))
                .join(Ticket, Ticket.id == TicketMessage.ticket_id)
                .where(Ticket.user_id == user_id, TicketMessage.author == "user")
            )
        found = [_aware(moment) for moment in (asked, wrote) if moment is not None]
        return max(found, default=None)

    def return_to_bot(self, user_id: str) -> list[str]:
        """The user asked for the assistant back: close their open tickets.

        Returns the references closed (outcome ``returned_to_bot``, audited as the user's
        channel, never their id).
        """
        now = self._now()
        with self._write() as session:
            rows = list(
                session.scalars(
                    select(Ticket).where(Ticket.user_id == user_id, Ticket.status == "open")
                )
            )
            for row in rows:
                row.status, row.closed_at, row.outcome = "closed", now, "returned_to_bot"
                self._audit(
                    session,
                    f"user:{row.channel}",
                    "ticket_close",
                    row.reference,
                    {"outcome": "returned_to_bot"},
                )
            return [row.reference for row in rows]

    def held_ticket(self, user_id: str) -> str | None:
        """Reference of the user's open ticket that an operator holds, if any.

        While there is one, the gateway keeps the bot silent for this user.
        """
        with self._read() as session:
            reference: str | None = session.scalars(
                select(Ticket.reference)
                .where(
                    Ticket.user_id == user_id,
                    Ticket.status == "open",
                    Ticket.assignee_id.is_not(None),
                )
                .order_by(Ticket.id.desc())
                .limit(1)
            ).first()
            return reference
