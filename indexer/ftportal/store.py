"""Publishing an import: ``calls.yaml`` and ``manifest.json``, each replaced atomically.

A new file is written beside the old one, flushed to disk and moved over it with
``os.replace``, so a reader (the loader, a gateway) sees the old import or the new
one, never half of one. ``calls.yaml`` is replaced first; the manifest, written
last, records the SHA-256 of the calls it describes. ``last_attempt.json`` tells
whether the latest run worked, also when it failed and kept the previous import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import yaml

from knowledge.loader import IMPORT_CALLS_FILE
from knowledge.schema import Call

MANIFEST_FILE: Final[str] = "manifest.json"
LAST_ATTEMPT_FILE: Final[str] = "last_attempt.json"
HEADER: Final[str] = (
    "# Imported by `python -m indexer import-calls` from the EU Funding & Tenders Portal\n"
    "# (docs/ftportal.md). Do not edit: the next import replaces this file. To correct a\n"
    "# call, add a curated record with the same call_id under knowledge/data/calls/.\n"
)


FIELD_ORDER: Final[tuple[str, ...]] = (
    "id",
    "programme",
    "call_id",
    "title",
    "opening_date",
    "deadlines",
    "budget",
    "grant_size",
    "url",
    "sources",
    "last_verified",
    "source",
    "fetched_at",
)
"""Fields in the order an editor reads them in knowledge/data/calls."""


def _whole_numbers(value: Any) -> Any:
    """2500000 rather than 2500000.0 (JSON mode writes every amount as a float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def _as_data(record: Call) -> dict[str, Any]:
    dumped = record.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    ordered = {key: dumped.pop(key) for key in FIELD_ORDER if key in dumped}
    return dict(_whole_numbers({**ordered, **dumped}))


def calls_yaml(records: list[Call]) -> str:
    """The YAML text of the imported calls, in the format of knowledge/data."""
    data = [_as_data(record) for record in records]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100) if data else "[]\n"
    return HEADER + body


def sha256(text: str) -> str:
    """Hex digest of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextmanager
def staged(path: Path, text: str) -> Iterator[Path]:
    """A temporary file with ``text`` beside ``path``, removed unless it was moved.

    Yields the temporary path; call :func:`publish` with it to replace ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def publish(temporary: Path, path: Path) -> None:
    """Move a staged file over ``path`` in one step (same folder, so same file system)."""
    os.replace(temporary, path)
    _sync_folder(path.parent)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically."""
    with staged(path, text) as temporary:
        publish(temporary, path)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_manifest(import_dir: Path) -> dict[str, Any] | None:
    """The manifest of the published import, or None if there is none."""
    return read_json(import_dir / MANIFEST_FILE)


def record_attempt(import_dir: Path, at: dt.datetime, *, ok: bool, message: str) -> None:
    """Write ``last_attempt.json``: when the latest run was, whether it worked, what failed."""
    attempt = {"at": at.isoformat().replace("+00:00", "Z"), "ok": ok, "message": message}
    write_atomic(import_dir / LAST_ATTEMPT_FILE, json.dumps(attempt, indent=2) + "\n")


def calls_path(import_dir: Path) -> Path:
    """Where the import's calls are."""
    return import_dir / IMPORT_CALLS_FILE
