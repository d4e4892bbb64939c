"""Lazy, shared access to the knowledge base for the custom actions.

The records are loaded once per process and loaded again when the portal import
(`python -m indexer import-calls`, run daily by the gateway) has published a new file,
so the actions name the calls the search already serves, without a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.loader import IMPORT_CALLS_FILE, load_knowledge_base
from knowledge.settings import get_settings

logger = logging.getLogger(__name__)

# What identifies one published import: (modification time in ns, size), or None.
ImportStamp = tuple[int, int] | None


@dataclass
class _Loaded:
    kb: KnowledgeBase
    stamp: ImportStamp


_loaded: _Loaded | None = None
_lock = threading.Lock()


def import_stamp() -> ImportStamp:
    """The published import file's identity; an import replaces the file atomically."""
    try:
        info = (get_settings().import_dir / IMPORT_CALLS_FILE).stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def _load(stamp: ImportStamp) -> _Loaded:
    kb, errors = load_knowledge_base()
    for error in errors:
        logger.error("knowledge base: %s", error.format())
    return _Loaded(kb, stamp)


def get_knowledge_base() -> KnowledgeBase:
    """The records, loaded again after a new import; invalid records are logged, never served."""
    global _loaded
    stamp = import_stamp()
    with _lock:
        if _loaded is None or _loaded.stamp != stamp:
            if _loaded is not None:
                logger.info("A new portal import was published: loading the knowledge base")
            _loaded = _load(stamp)
        return _loaded.kb


def forget_knowledge_base() -> None:
    """Drop the loaded records (tests that change the data folder between cases)."""
    global _loaded
    with _lock:
        _loaded = None


async def knowledge_base(injected: KnowledgeBase | None = None) -> KnowledgeBase:
    """The injected knowledge base (tests) or the shared one, loaded off the loop."""
    if injected is not None:
        return injected
    return await asyncio.to_thread(get_knowledge_base)


def today() -> dt.date:
    """Today's date (a seam for tests that need a fixed day)."""
    return dt.date.today()
