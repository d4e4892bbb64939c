"""A writer killed with SIGKILL loses nothing it acknowledged (both back ends)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select, text

from participation.models import Proposal

ROOT = Path(__file__).resolve().parents[2]
ACKNOWLEDGED_BEFORE_KILL = 40


def test_sigkill_mid_way_keeps_every_acknowledged_proposal(db_url: str, backend: str) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.participation.writer", db_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert writer.stdout is not None
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL:
            line = writer.stdout.readline()
            assert line, writer.stderr.read() if writer.stderr else "writer died"
            acknowledged.append(line.strip())
        writer.send_signal(signal.SIGKILL)
        remaining, _ = writer.communicate(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    acknowledged.extend(line.strip() for line in remaining.splitlines() if line.strip())
    assert writer.returncode == -signal.SIGKILL

    engine = create_engine(db_url)
    with engine.connect() as connection:
        stored = set(connection.execute(select(Proposal.reference)).scalars())
        if backend == "sqlite":
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1  # at most the one committed but not printed
