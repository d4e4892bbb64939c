"""Admin reports: usage figures, content gaps and CSV-ready tables.

Grouping by day happens in Python because SQLite and PostgreSQL disagree on
how to truncate a timestamp to a date; the other aggregations are SQL.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from participation.models import Feedback, Proposal, Question, Subscription, Ticket
from participation.types import (
    ContentGaps,
    CsvValue,
    DailyCount,
    RatedRecord,
    Stats,
    TableName,
    TableRows,
    UnansweredQuestion,
)


def _counts(session: Session, column: Any) -> dict[str, int]:
    """Rows per value of ``column``."""
    rows = session.execute(select(column, func.count()).group_by(column)).all()
    return {str(value): int(count) for value, count in rows}


def _daily(session: Session, since: dt.datetime) -> tuple[DailyCount, ...]:
    rows = session.execute(
        select(Question.created_at, Question.language, Question.answered).where(
            Question.created_at >= since
        )
    ).all()
    asked: Counter[tuple[dt.date, str]] = Counter()
    missed: Counter[tuple[dt.date, str]] = Counter()
    for created_at, language, answered in rows:
        key = (created_at.date(), language)
        asked[key] += 1
        missed[key] += 0 if answered else 1
    return tuple(
        DailyCount(day, language, asked[(day, language)], missed[(day, language)])
        for day, language in sorted(asked)
    )


def stats(session: Session, now: dt.datetime, days: int) -> Stats:
    """Questions per day and language, subscriptions, proposals and open tickets."""
    since = now - dt.timedelta(days=days)
    by_kind = _counts(session, Subscription.kind)
    ratings = _counts(session, Feedback.rating)
    open_tickets = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status == "open")
    )
    return Stats(
        days=days,
        questions_per_day=_daily(session, since),
        subscriptions=sum(by_kind.values()),
        subscriptions_by_kind=by_kind,
        proposals_by_status=_counts(session, Proposal.status),
        open_tickets=int(open_tickets or 0),
        feedback_up=ratings.get("1", 0),
        feedback_down=ratings.get("-1", 0),
    )


def _unanswered(
    session: Session, language: str | None, limit: int
) -> tuple[UnansweredQuestion, ...]:
    count = func.count().label("n")
    query = (
        select(Question.language, Question.text, count, func.max(Question.created_at))
        .where(Question.answered.is_(False))
        .group_by(Question.language, Question.text)
        .order_by(count.desc(), Question.language, Question.text)
        .limit(limit)
    )
    if language is not None:
        query = query.where(Question.language == language)
    return tuple(
        UnansweredQuestion(lang, text, int(n), _aware(last))
        for lang, text, n, last in session.execute(query).all()
    )


def _aware(value: Any) -> dt.datetime:
    """``max()`` bypasses the column type on SQLite and returns text or a naive value."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _low_rated(session: Session, language: str | None, limit: int) -> tuple[RatedRecord, ...]:
    query = select(Question.language, Question.record_ids, Feedback.rating).join(
        Feedback, Feedback.question_id == Question.id
    )
    if language is not None:
        query = query.where(Question.language == language)
    votes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for lang, record_ids, rating in session.execute(query).all():
        for record_id in record_ids or []:
            votes[(lang, record_id)][0 if rating > 0 else 1] += 1
    rated = [RatedRecord(lang, rid, up, down) for (lang, rid), (up, down) in votes.items() if down]
    rated.sort(key=lambda r: (r.score, -r.down, r.language, r.record_id))
    return tuple(rated[:limit])


def content_gaps(session: Session, language: str | None, limit: int) -> ContentGaps:
    """Most frequent unanswered questions and the records of the worst-rated answers."""
    return ContentGaps(
        unanswered=_unanswered(session, language, limit),
        low_rated=_low_rated(session, language, limit),
    )


def csv_value(value: Any) -> CsvValue:
    """A value a CSV writer can print: dates as ISO text, lists joined by spaces."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# Columns exported per table. User ids are left out where staff do not need them
# (analytics); tickets keep them because staff must answer on the user's channel.
TABLE_COLUMNS: Final[dict[str, tuple[Any, tuple[str, ...]]]] = {
    "proposals": (
        Proposal,
        ("reference", "status", "reason", "language", "channel", "topic", "text", "city",
         "contact", "created_at", "moderated_at"),
    ),
    "tickets": (
        Ticket,
        ("reference", "status", "user_id", "channel", "language", "topic", "city", "country",
         "summary", "contact_id", "reply_by", "created_at", "closed_at"),
    ),
    "subscriptions": (
        Subscription,
        ("kind", "target", "language", "channel", "created_at"),
    ),
    "questions": (
        Question,
        ("id", "language", "text", "intent", "confidence", "answered", "record_ids", "created_at"),
    ),
    "feedback": (
        Feedback,
        ("question_id", "rating", "comment", "created_at"),
    ),
}  # fmt: skip


def table_rows(session: Session, name: TableName) -> TableRows:
    """Header and rows of one table, oldest first."""
    model, columns = TABLE_COLUMNS[name]
    getters: list[Callable[[Any], Any]] = [_getter(column) for column in columns]
    items: Iterable[Any] = session.scalars(select(model).order_by(model.id))
    rows = [tuple(csv_value(get(item)) for get in getters) for item in items]
    return columns, rows


def _getter(column: str) -> Callable[[Any], Any]:
    return lambda item: getattr(item, column)
