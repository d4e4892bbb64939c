"""Refreshing the imported calls while the gateway runs (docs/ftportal.md).

Every ``APP_REFRESH_INTERVAL_HOURS`` (daily by default) a scheduled job runs
``python -m indexer import-calls`` and, when that published a new import,
``python -m indexer build``, which re-embeds only the changed records and publishes
the index atomically. The running search (`knowledge.search.ReloadingRetriever`)
notices the new build and swaps it in without a restart.

Why subprocesses rather than calling the indexer here: the gateway stays free of the
indexer's imports (channels talk to the knowledge base only through its search), the
build's memory (a second copy of the model and the vectors) is returned to the system
when it ends, and a crash or a hang in an import (killed after
``APP_REFRESH_TIMEOUT_SECONDS``) cannot take the gateway down. Why APScheduler: the
gateway already runs its reminder jobs on it (one scheduler, ``max_instances=1`` and
``coalesce`` so runs never overlap or pile up). Offline, the import fails, says so in
the log and keeps the last import; the index and the answers stay as they were.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from channels.settings import ChannelSettings

logger = logging.getLogger(__name__)

JOB_ID: Final[str] = "refresh-calls"
ROOT: Final[Path] = Path(__file__).resolve().parent.parent
IMPORT_COMMAND: Final[tuple[str, ...]] = ("-m", "indexer", "import-calls")
BUILD_COMMAND: Final[tuple[str, ...]] = ("-m", "indexer", "build")
# Lines of a failed command's output kept for the log.
TAIL_LINES: Final[int] = 5


@dataclass(frozen=True)
class StepResult:
    """One command of a refresh: its exit status (None: timed out) and output."""

    command: str
    returncode: int | None
    seconds: float
    output: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0

    def tail(self) -> str:
        """The last lines of the output, for the log."""
        return " | ".join(self.output.strip().splitlines()[-TAIL_LINES:])


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did: the import, and the build if the import worked."""

    imported: StepResult
    built: StepResult | None

    @property
    def ok(self) -> bool:
        """True when a new import was fetched and indexed."""
        return self.imported.ok and self.built is not None and self.built.ok


class CallRefresh:
    """Runs the import and the incremental build as child processes, one run at a time.

    Args:
        settings: Interval and timeout (``APP_REFRESH_*``).
        python: Interpreter of the indexer (default: this one).
        env: Environment of the commands (default: this process's, so the
            ``KNOWLEDGE_*`` settings of the gateway apply to them too).
    """

    def __init__(
        self,
        settings: ChannelSettings,
        *,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Remember how to run the commands; nothing runs yet."""
        self.settings = settings
        self._python = python
        self._env = dict(env) if env is not None else None
        self._running: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.last_report: RefreshReport | None = None

    async def run_once(self) -> RefreshReport:
        """Import, then build if the import worked; never raises for a failed command."""
        async with self._lock:
            imported = await self._step(IMPORT_COMMAND)
            built = await self._step(BUILD_COMMAND) if imported.ok else None
            report = RefreshReport(imported, built)
            self.last_report = report
            _log(report)
            return report

    async def _step(self, arguments: tuple[str, ...]) -> StepResult:
        """Run one command with the timeout; a timed-out command is killed."""
        started = time.perf_counter()
        command = " ".join(arguments[1:])
        process = await asyncio.create_subprocess_exec(
            self._python,
            *arguments,
            cwd=ROOT,
            env=self._env if self._env is not None else dict(os.environ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._running = process
        try:
            output, _ = await asyncio.wait_for(
                process.communicate(), timeout=self.settings.refresh_timeout_seconds
            )
        except TimeoutError:
            await _kill(process)
            return StepResult(command, None, time.perf_counter() - started, "timed out")
        finally:
            self._running = None
        text = output.decode("utf-8", errors="replace")
        return StepResult(command, process.returncode, time.perf_counter() - started, text)

    async def aclose(self) -> None:
        """Stop a command that is still running (at shutdown)."""
        process = self._running
        if process is not None:
            await _kill(process)


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


def _log(report: RefreshReport) -> None:
    """One line per refresh: what was imported and indexed, or what failed and is kept."""
    imported = report.imported
    if not imported.ok:
        logger.warning(
            "Refreshing calls: the import failed after %.1f s; the last import and index stay "
            "in use: %s",
            imported.seconds,
            imported.tail(),
        )
        return
    built = report.built
    if built is None or not built.ok:
        tail = built.tail() if built is not None else ""
        logger.error("Refreshing calls: the index was not rebuilt; the old one serves: %s", tail)
        return
    logger.info(
        "Refreshing calls: imported in %.1f s, indexed in %.1f s: %s",
        imported.seconds,
        built.seconds,
        imported.tail(),
    )


def start_refresh(
    refresh: CallRefresh, settings: ChannelSettings, *, now: dt.datetime | None = None
) -> AsyncIOScheduler:
    """Schedule ``refresh`` every interval, the first run after the start-up delay."""
    started = now or dt.datetime.now(dt.UTC)
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    scheduler.add_job(
        _run_logged,
        "interval",
        args=[refresh],
        id=JOB_ID,
        hours=settings.refresh_interval_hours,
        next_run_time=started + dt.timedelta(seconds=settings.refresh_start_delay_seconds),
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler


async def _run_logged(refresh: CallRefresh) -> None:
    """One scheduled run; an unexpected error is logged and the next run tries again."""
    try:
        await refresh.run_once()
    except Exception:
        logger.exception("Refreshing calls failed; retrying at the next run")
