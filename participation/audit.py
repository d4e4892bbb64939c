"""The audit log: every operator action, who did it, to what, and when.

Entries are written in the same transaction as the change they describe (an
action that rolls back leaves no entry, and no change goes unrecorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from participation.core import ServiceCore
from participation.models import AuditEntry
from participation.types import AuditView

MAX_TARGET_CHARS = 200


class AuditMixin(ServiceCore):
    """Write and read the audit log."""

    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        target: str | None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        session.add(
            AuditEntry(
                at=self._now(),
                actor=actor[:96],
                action=action[:64],
                target=target[:MAX_TARGET_CHARS] if target else None,
                detail=dict(detail or {}),
            )
        )

    def record_action(
        self, actor: str, action: str, target: str | None, detail: Mapping[str, Any] | None = None
    ) -> None:
        """Log an action that changed nothing in this database (an export, a read)."""
        with self._write() as session:
            self._audit(session, actor, action, target, detail)

    def audit_log(self, limit: int = 200, actor: str | None = None) -> list[AuditView]:
        """Newest entries first, optionally of one actor."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        with self._read() as session:
            return [
                AuditView(
                    id=row.id,
                    at=row.at,
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    detail=dict(row.detail),
                )
                for row in session.scalars(query)
            ]
