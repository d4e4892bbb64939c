"""Lazy, shared access to the knowledge base for the custom actions."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from functools import lru_cache

from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge_base

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def get_knowledge_base() -> KnowledgeBase:
    """Load the records once per process; invalid records are logged, never served."""
    kb, errors = load_knowledge_base()
    for error in errors:
        logger.error("knowledge base: %s", error.format())
    return kb


async def knowledge_base(injected: KnowledgeBase | None = None) -> KnowledgeBase:
    """The injected knowledge base (tests) or the shared one, loaded off the loop."""
    if injected is not None:
        return injected
    return await asyncio.to_thread(get_knowledge_base)


def today() -> dt.date:
    """Today's date (a seam for tests that need a fixed day)."""
    return dt.date.today()
