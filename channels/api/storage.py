"""Calling the participation store from async routes: off the event loop, errors mapped.

The store is synchronous (SQLAlchemy); every call runs in a worker thread. Failures the
caller can do nothing about become a polite 503 in their language; a busy SQLite
writer is reported as such, so the caller knows that trying again helps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from channels.errors import ApiError
from participation.errors import DatabaseBusyError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


async def call_store(
    language: str,
    retry_after_seconds: int,
    function: Callable[P, T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `function` in a worker thread; 503 with Retry-After if the store fails.

    Errors that concern the request itself (`ParticipationError` subclasses other than
    `DatabaseBusyError`) propagate for the route to map to a 4xx.
    """
    retry = {"Retry-After": str(retry_after_seconds)}
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except DatabaseBusyError as exc:
        raise ApiError(503, "database_busy", language, headers=retry) from exc
    except (SQLAlchemyError, OSError) as exc:
        logger.error("Participation store unavailable: %s", type(exc).__name__)
        raise ApiError(503, "storage_unavailable", language, headers=retry) from exc
