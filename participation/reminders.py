"""Subscriptions and their reminders: planning, atomic claiming, web notices."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.base import KnowledgeBase
from participation import targets
from participation.core import ServiceCore, optional_text, required_text
from participation.db import dialect_insert
from participation.errors import InvalidInputError, NotFoundError
from participation.models import ReminderRow, Subscription
from participation.privacy import mask_personal_data
from participation.types import (
    SUBSCRIPTION_KINDS,
    Reminder,
    SubscriptionKind,
    SubscriptionReceipt,
    SubscriptionView,
    channel_of,
)

TOKEN_BYTES: Final[int] = 32
ERROR_MAX_CHARS: Final[int] = 500


def _subscription_view(row: Subscription) -> SubscriptionView:
    return SubscriptionView(
        token=row.token,
        kind=row.kind,
        target=row.target,
        language=row.language,
        email=row.email,
        created_at=row.created_at,
    )


class RemindersMixin(ServiceCore):
    """Subscriptions and their reminders: planning, atomic claiming, web notices."""

    def subscribe(
        self,
        *,
        user_id: str,
        language: str,
        kind: SubscriptionKind,
        target: str,
        email: str | None = None,
    ) -> SubscriptionReceipt:
        """Subscribe to calls of a theme or programme, or to a city's events.

        Schedules the reminders at once. Subscribing again keeps the first token,
        updates language and e-mail, and returns ``created=False``.

        Raises:
            InvalidInputError: Unknown kind or a malformed e-mail address.
            UnknownTargetError: The target is not in the knowledge base.
        """
        if kind not in SUBSCRIPTION_KINDS:
            raise InvalidInputError("kind")
        email = optional_text(email)
        if email is not None and "@" not in email:
            raise InvalidInputError("email")
        kb = self._kb()
        canonical = targets.resolve_target(kb, kind, target)
        language = required_text("language", language)
        try:
            return self._subscribe(user_id, language, kind, canonical, email, kb)
        except IntegrityError:
            # A concurrent identical subscription won the race; it is the same wish.
            return self._subscribe(user_id, language, kind, canonical, email, kb)

    def _subscribe(
        self,
        user_id: str,
        language: str,
        kind: SubscriptionKind,
        target: str,
        email: str | None,
        kb: KnowledgeBase,
    ) -> SubscriptionReceipt:
        now = self._now()
        with self._write() as session:
            row = session.scalars(
                select(Subscription).where(
                    Subscription.user_id == user_id,
                    Subscription.kind == kind,
                    Subscription.target == target,
                )
            ).one_or_none()
            created = row is None
            if row is None:
                row = Subscription(
                    token=secrets.token_urlsafe(TOKEN_BYTES),
                    user_id=user_id,
                    channel=channel_of(user_id),
                    kind=kind,
                    target=target,
                    created_at=now,
                )
                session.add(row)
            row.language = language
            row.email = email or row.email
            session.flush()
            scheduled = self._schedule(session, row, kb, now)
            return SubscriptionReceipt(row.token, kind, target, created, scheduled)

    def unsubscribe(self, token: str) -> bool:
        """Remove the subscription of a one-tap unsubscribe link, with its reminders."""
        with self._write() as session:
            result = session.execute(
                delete(Subscription).where(Subscription.token == token.strip()),
                execution_options={"synchronize_session": False},
            )
            return bool(result.rowcount)

    def unsubscribe_all(self, user_id: str) -> int:
        """Remove every subscription of a user; returns how many there were."""
        with self._write() as session:
            result = session.execute(
                delete(Subscription).where(Subscription.user_id == user_id),
                execution_options={"synchronize_session": False},
            )
            return int(result.rowcount)

    def subscriptions(self, user_id: str) -> list[SubscriptionView]:
        """A user's subscriptions, oldest first."""
        query = (
            select(Subscription)
            .where(Subscription.user_id == user_id)
            .order_by(Subscription.created_at, Subscription.id)
        )
        with self._read() as session:
            return [_subscription_view(row) for row in session.scalars(query)]

    def _due_at(self, deadline: dt.date, offset: int) -> dt.datetime:
        day = deadline - dt.timedelta(days=offset)
        return dt.datetime.combine(day, dt.time(self._settings.reminder_hour_utc), dt.UTC)

    def _planned(
        self, subscription: Subscription, kb: KnowledgeBase, now: dt.datetime
    ) -> list[dict[str, Any]]:
        """Reminder rows a subscription should have from now on (future ones only)."""
        rows: list[dict[str, Any]] = []
        kind: SubscriptionKind = subscription.kind
        for subject in targets.subjects(kb, kind, subscription.target, now.date()):
            for offset in sorted(set(self._settings.reminder_offsets_days)):
                due_at = self._due_at(subject.deadline, offset)
                if due_at > now:
                    rows.append(
                        {
                            "subscription_id": subscription.id,
                            "user_id": subscription.user_id,
                            "channel": subscription.channel,
                            "subject_type": subject.subject_type,
                            "subject_id": subject.subject_id,
                            "deadline": subject.deadline,
                            "offset_days": offset,
                            "due_at": due_at,
                            "status": "pending",
                            "created_at": now,
                        }
                    )
        return rows

    def _schedule(
        self, session: Session, subscription: Subscription, kb: KnowledgeBase, now: dt.datetime
    ) -> int:
        """Insert the missing reminder rows; the unique constraint makes this idempotent."""
        rows = self._planned(subscription, kb, now)
        self._drop_obsolete(session, subscription, rows, now)
        if not rows:
            return 0
        insert = dialect_insert(session)
        statement = insert(ReminderRow).on_conflict_do_nothing().returning(ReminderRow.id)
        return len(session.scalars(statement, rows).all())

    @staticmethod
    def _drop_obsolete(
        session: Session, subscription: Subscription, rows: list[dict[str, Any]], now: dt.datetime
    ) -> None:
        """Delete future pending reminders of deadlines that moved or disappeared."""
        wanted = {
            (r["subject_type"], r["subject_id"], r["deadline"], r["offset_days"]) for r in rows
        }
        query = select(ReminderRow).where(
            ReminderRow.subscription_id == subscription.id,
            ReminderRow.status == "pending",
            ReminderRow.due_at > now,
        )
        for reminder in session.scalars(query):
            key = (
                reminder.subject_type,
                reminder.subject_id,
                reminder.deadline,
                reminder.offset_days,
            )
            if key not in wanted:
                session.delete(reminder)

    def refresh_reminders(self, now: dt.datetime) -> int:
        """Plan reminders for calls and events added to the knowledge base since.

        Safe to run any number of times (and from several workers).

        Returns:
            The number of reminder rows added.
        """
        kb = self._kb()
        added = 0
        with self._write() as session:
            for subscription in session.scalars(select(Subscription).order_by(Subscription.id)):
                added += self._schedule(session, subscription, kb, now)
        return added

    def _deliverable(self) -> Any:
        """Condition for reminders a worker delivers (push channels, or by e-mail)."""
        notice = ReminderRow.channel.in_(self._settings.notice_channels)
        if not self._settings.smtp_host:
            return ~notice
        with_email = select(Subscription.id).where(Subscription.email.is_not(None))
        return or_(~notice, ReminderRow.subscription_id.in_(with_email))

    def claim_due(self, now: dt.datetime, channel: str | None = None) -> list[Reminder]:
        """Atomically take the due reminders a worker must deliver.

        A pending row becomes ``claimed`` in the same UPDATE that selects it
        (``UPDATE ... WHERE status = 'pending' RETURNING id``), so two workers or a
        restarted one never get the same reminder: at most once, by design. Web
        users' reminders are left for :meth:`pending_notices` unless they gave an
        e-mail address and SMTP is configured.

        Args:
            now: Aware current time; reminders due at or before it are claimed.
            channel: Only this channel (``telegram``), or every push channel.
        """
        conditions = [
            ReminderRow.status == "pending",
            ReminderRow.due_at <= now,
            ReminderRow.deadline >= now.date(),
            self._deliverable(),
        ]
        if channel is not None:
            conditions.append(ReminderRow.channel == channel)
        statement = (
            update(ReminderRow)
            .where(*conditions)
            .values(status="claimed", claimed_at=now)
            .returning(ReminderRow.id)
        )
        with self._write() as session:
            ids = session.scalars(statement, execution_options={"synchronize_session": False})
            return self._reminders(session, list(ids), now)

    def _reminders(self, session: Session, ids: Sequence[int], now: dt.datetime) -> list[Reminder]:
        if not ids:
            return []
        kb = self._kb()
        query = (
            select(ReminderRow, Subscription)
            .join(Subscription, Subscription.id == ReminderRow.subscription_id)
            .where(ReminderRow.id.in_(ids))
            .order_by(ReminderRow.due_at, ReminderRow.id)
        )
        return [self._reminder(row, sub, kb, now) for row, sub in session.execute(query).tuples()]

    @staticmethod
    def _reminder(
        row: ReminderRow, sub: Subscription, kb: KnowledgeBase, now: dt.datetime
    ) -> Reminder:
        titles, url = targets.subject_details(kb, row.subject_type, row.subject_id)
        return Reminder(
            id=row.id,
            user_id=row.user_id,
            channel=row.channel,
            language=sub.language,
            email=sub.email,
            subscription_kind=sub.kind,
            subscription_target=sub.target,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            titles=titles,
            url=url,
            deadline=row.deadline,
            offset_days=row.offset_days,
            days_left=(row.deadline - now.date()).days,
            due_at=row.due_at,
            unsubscribe_token=sub.token,
        )

    def _finish(self, reminder_id: int, status: str, error: str | None) -> None:
        statement = (
            update(ReminderRow)
            .where(ReminderRow.id == reminder_id, ReminderRow.status == "claimed")
            .values(status=status, sent_at=self._now(), error=error)
        )
        with self._write() as session:
            result = session.execute(statement, execution_options={"synchronize_session": False})
            if not result.rowcount:
                raise NotFoundError("claimed reminder", reminder_id)

    def mark_sent(self, reminder_id: int) -> None:
        """Record that a claimed reminder was delivered.

        Raises:
            NotFoundError: The reminder does not exist or is not claimed.
        """
        self._finish(reminder_id, "sent", None)

    def mark_failed(self, reminder_id: int, error: str) -> None:
        """Record that delivering a claimed reminder failed (it is not retried).

        Raises:
            NotFoundError: The reminder does not exist or is not claimed.
        """
        self._finish(reminder_id, "failed", mask_personal_data(error)[:ERROR_MAX_CHARS])

    def pending_notices(self, user_id: str) -> list[Reminder]:
        """Due reminders of a web user, to show on their next visit."""
        now = self._now()
        query = select(ReminderRow.id).where(
            ReminderRow.user_id == user_id,
            ReminderRow.status == "pending",
            ReminderRow.due_at <= now,
            ReminderRow.deadline >= now.date(),
            ~self._deliverable(),
        )
        with self._read() as session:
            return self._reminders(session, list(session.scalars(query)), now)

    def ack_notices(self, user_id: str, ids: Iterable[int]) -> int:
        """Mark notices as shown; ids of other users are ignored. Returns how many."""
        wanted = list(ids)
        if not wanted:
            return 0
        statement = (
            update(ReminderRow)
            .where(
                ReminderRow.id.in_(wanted),
                ReminderRow.user_id == user_id,
                ReminderRow.status == "pending",
            )
            .values(status="sent", sent_at=self._now())
        )
        with self._write() as session:
            result = session.execute(statement, execution_options={"synchronize_session": False})
            return int(result.rowcount)
