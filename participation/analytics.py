"""Question analytics, feedback and the admin reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from participation import reports
from participation.core import ServiceCore, optional_text, required_text
from participation.db import dialect_insert
from participation.errors import InvalidInputError, NotFoundError
from participation.models import Feedback, Question
from participation.privacy import mask_personal_data
from participation.types import TABLE_NAMES, ContentGaps, Rating, Stats, TableName, TableRows

QUESTION_MAX_CHARS: Final[int] = 2000
RATINGS: Final[tuple[int, ...]] = (1, -1)


class AnalyticsMixin(ServiceCore):
    """Question analytics, feedback and the admin reports."""

    def record_question(
        self,
        *,
        user_id: str,
        language: str,
        text: str,
        intent: str | None = None,
        confidence: float | None = None,
        answered: bool,
        record_ids: Iterable[str] = (),
    ) -> int:
        """Log one turn for analytics, with identifiers masked; returns its turn id."""
        with self._write() as session:
            row = Question(
                user_id=user_id,
                language=required_text("language", language),
                text=mask_personal_data(text.strip())[:QUESTION_MAX_CHARS],
                intent=optional_text(intent),
                confidence=confidence,
                answered=answered,
                record_ids=list(dict.fromkeys(record_ids)),
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            return row.id

    def record_feedback(
        self, *, user_id: str, turn_id: int, rating: Rating, comment: str | None = None
    ) -> None:
        """Store a vote on one of the user's turns; a later vote replaces the earlier.

        Raises:
            InvalidInputError: A rating other than 1 or -1.
            NotFoundError: The turn does not exist or belongs to someone else.
        """
        if rating not in RATINGS:
            raise InvalidInputError("rating")
        comment = optional_text(comment)
        values = {
            "question_id": turn_id,
            "user_id": user_id,
            "rating": rating,
            "comment": mask_personal_data(comment)[:QUESTION_MAX_CHARS] if comment else None,
            "created_at": self._now(),
        }
        with self._write() as session:
            question = session.get(Question, turn_id)
            if question is None or question.user_id != user_id:
                raise NotFoundError("turn", turn_id)
            insert = dialect_insert(session)
            statement = insert(Feedback).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=[Feedback.question_id],
                set_={key: values[key] for key in ("rating", "comment", "created_at")},
            )
            session.execute(statement)

    def stats(self, days: int = 30) -> Stats:
        """Usage figures over the last ``days`` days (counts of open items are current)."""
        if days <= 0:
            raise InvalidInputError("days")
        with self._read() as session:
            return reports.stats(session, self._now(), days)

    def content_gaps(self, language: str | None = None, limit: int = 20) -> ContentGaps:
        """Top unanswered questions and worst-rated cited records, per language."""
        with self._read() as session:
            return reports.content_gaps(session, optional_text(language), limit)

    def table_rows(self, name: TableName) -> TableRows:
        """Header and rows of one table for CSV export.

        Raises:
            InvalidInputError: ``name`` is not one of the exportable tables.
        """
        if name not in TABLE_NAMES:
            raise InvalidInputError("name")
        with self._read() as session:
            return reports.table_rows(session, name)
