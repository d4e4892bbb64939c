"""Citizens' proposals: submission with idempotency, status and moderation."""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from participation.audit import AuditMixin
from participation.core import next_reference, optional_text, required_text
from participation.errors import (
    InvalidInputError,
    NotFoundError,
    OutOfScopeError,
    ProposalTooLongError,
)
from participation.models import Proposal
from participation.types import (
    PROPOSAL_STATUSES,
    Principal,
    ProposalReceipt,
    ProposalStatus,
    ProposalView,
    channel_of,
)

logger = logging.getLogger(__name__)

PROPOSAL_PREFIX: Final[str] = "FP"


def _proposal_view(row: Proposal) -> ProposalView:
    return ProposalView(
        reference=row.reference,
        status=row.status,
        topic=row.topic,
        text=row.text,
        language=row.language,
        city=row.city,
        reason=row.reason,
        created_at=row.created_at,
        moderated_at=row.moderated_at,
    )


def _proposal_receipt(row: Proposal, created: bool) -> ProposalReceipt:
    return ProposalReceipt(row.reference, row.status, created, row.created_at)


class ProposalsMixin(AuditMixin):
    """Citizens' proposals: submission with idempotency, status and moderation."""

    def submit_proposal(
        self,
        *,
        user_id: str,
        language: str,
        topic: str,
        text: str,
        city: str | None = None,
        contact: str | None = None,
        idempotency_key: str | None = None,
    ) -> ProposalReceipt:
        """Store a proposal for moderation; committed before the receipt is returned.

        A repeated ``idempotency_key`` of the same user returns the first receipt
        with ``created=False`` (a retried request never stores a duplicate).

        Raises:
            InvalidInputError: Empty topic or text, or a topic that is too long.
            ProposalTooLongError: Text longer than ``proposal_max_chars``.
            DatabaseBusyError: The database stayed locked; nothing was stored.
        """
        topic = required_text("topic", topic)
        text = required_text("text", text)
        if len(topic) > self._settings.topic_max_chars:
            raise InvalidInputError("topic", "too long")
        if len(text) > self._settings.proposal_max_chars:
            raise ProposalTooLongError(self._settings.proposal_max_chars, len(text))
        key = optional_text(idempotency_key)
        try:
            with self._write() as session:
                existing = self._proposal_by_key(session, user_id, key)
                if existing is not None:
                    return _proposal_receipt(existing, created=False)
                now = self._now()
                row = Proposal(
                    reference=next_reference(session, PROPOSAL_PREFIX, now),
                    user_id=user_id,
                    channel=channel_of(user_id),
                    language=required_text("language", language),
                    topic=topic,
                    text=text,
                    city=optional_text(city),
                    contact=optional_text(contact),
                    idempotency_key=key,
                    status="pending",
                    created_at=now,
                )
                session.add(row)
                session.flush()
                receipt = _proposal_receipt(row, created=True)
        except IntegrityError:
            # Another request with the same key committed first (PostgreSQL).
            if key is None:
                raise
            with self._read() as session:
                first = self._proposal_by_key(session, user_id, key)
                if first is None:
                    raise
                return _proposal_receipt(first, created=False)
        logger.info("proposal %s stored", receipt.reference)
        return receipt

    @staticmethod
    def _proposal_by_key(session: Session, user_id: str, key: str | None) -> Proposal | None:
        if key is None:
            return None
        query = select(Proposal).where(Proposal.user_id == user_id, Proposal.idempotency_key == key)
        return session.scalars(query).one_or_none()

    def proposal_status(self, reference: str, *, user_id: str | None = None) -> ProposalView | None:
        """A proposal by reference; None when unknown or (with ``user_id``) not theirs."""
        with self._read() as session:
            row = session.scalars(
                select(Proposal).where(Proposal.reference == reference.strip().upper())
            ).one_or_none()
            if row is None or (user_id is not None and row.user_id != user_id):
                return None
            return _proposal_view(row)

    def list_proposals(
        self,
        status: ProposalStatus | None = None,
        limit: int = 100,
        principal: Principal | None = None,
    ) -> list[ProposalView]:
        """Proposals for moderators, oldest first (the queue order).

        With ``principal``, only the proposals of the cities and languages they serve.
        """
        query = select(Proposal).order_by(Proposal.created_at, Proposal.id)
        if status is not None:
            query = query.where(Proposal.status == status)
        with self._read() as session:
            rows = (
                row
                for row in session.scalars(query)
                if principal is None or principal.serves(row.city, row.language, None)
            )
            return [_proposal_view(row) for row, _ in zip(rows, range(limit), strict=False)]

    def moderate(
        self,
        reference: str,
        status: ProposalStatus,
        reason: str | None = None,
        principal: Principal | None = None,
    ) -> ProposalView:
        """Publish, reject (with a reason) or reset a proposal to pending.

        With ``principal`` the proposal must be of a city and language they serve, and
        the decision goes to the audit log in the same transaction.

        Raises:
            InvalidInputError: Unknown status, or a rejection without a reason.
            NotFoundError: No proposal has this reference.
            OutOfScopeError: The principal does not serve the proposal's city or language.
        """
        if status not in PROPOSAL_STATUSES:
            raise InvalidInputError("status")
        reason = optional_text(reason)
        if status == "rejected" and reason is None:
            raise InvalidInputError("reason")
        with self._write() as session:
            row = session.scalars(
                select(Proposal).where(Proposal.reference == reference.strip().upper())
            ).one_or_none()
            if row is None:
                raise NotFoundError("proposal", reference)
            if principal is not None:
                if not principal.serves(row.city, row.language, None):
                    raise OutOfScopeError("proposal", row.reference)
                self._audit(session, principal.actor, "moderate", row.reference, {"status": status})
            row.status = status
            row.reason = reason
            row.moderated_at = self._now()
            session.flush()
            return _proposal_view(row)
