"""`GET /admin/api/freshness`: the records editors should check again at their source.

The same warnings as `python -m indexer validate` (knowledge/validate.py): records whose
`last_verified` is older than KNOWLEDGE_STALE_AFTER_DAYS, and programmes whose latest
call has closed with no newer one. Shown in the dashboard so that nobody needs a shell
to see that the data ages.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from channels.api.auth import require_role
from knowledge.base import KnowledgeError, display_path
from knowledge.loader import load_knowledge_base
from knowledge.settings import get_settings
from knowledge.validate import check_freshness

router = APIRouter(dependencies=[Depends(require_role("editor", "reports"))])


class FreshnessWarning(BaseModel):
    """One record to check again, located in the data files."""

    file: str
    line: int | None
    field: str | None
    message: str


class FreshnessResponse(BaseModel):
    """Every freshness warning of the knowledge base on one day."""

    checked_on: str
    stale_after_days: int
    warnings: list[FreshnessWarning]


def _warning(error: KnowledgeError) -> FreshnessWarning:
    return FreshnessWarning(
        file=display_path(error.path, get_settings().data_dir.parent),
        line=error.line,
        field=error.field,
        message=error.message,
    )


def freshness_report(today: dt.date) -> FreshnessResponse:
    """Load the records (curated and imported) and list what has aged."""
    settings = get_settings()
    kb, _ = load_knowledge_base()
    warnings = check_freshness(kb, today, settings.stale_after_days)
    return FreshnessResponse(
        checked_on=today.isoformat(),
        stale_after_days=settings.stale_after_days,
        warnings=[_warning(error) for error in warnings],
    )


@router.get("/freshness", response_model=FreshnessResponse)
async def freshness() -> FreshnessResponse:
    """Stale records and programmes without a current call (editors and report clients)."""
    return await asyncio.to_thread(freshness_report, dt.date.today())
