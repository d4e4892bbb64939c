"""``python -m indexer import-calls``: fetch open and forthcoming calls from the portal.

The import is written apart from the curated records (``KNOWLEDGE_IMPORT_DIR``,
default ``var/imports/ftportal``) and replaces the previous one only when it is
complete and valid; a failed import keeps the previous one and exits 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from indexer.ftportal.client import PortalClient, PortalError, search_query
from indexer.ftportal.mapping import ImportMapping, map_topics
from indexer.ftportal.store import (
    MANIFEST_FILE,
    calls_yaml,
    publish,
    read_manifest,
    record_attempt,
    sha256,
    write_atomic,
)
from knowledge.base import KnowledgeError
from knowledge.loader import IMPORT_CALLS_FILE, load_knowledge_base
from knowledge.settings import KnowledgeSettings, get_settings

Clock = Callable[[], dt.datetime]

EXIT_OK = 0
EXIT_FAILED = 1


def utc_now() -> dt.datetime:
    """Now, in UTC, to the second (the manifest and the records carry it)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import-calls`` sub-parser."""
    parser = subparsers.add_parser(
        "import-calls",
        help="import open and forthcoming calls from the EU Funding & Tenders Portal",
        description=(
            "Fetch the open and forthcoming topics of the programmes the knowledge base covers "
            "from the portal's search API, validate them as Call records and replace the "
            "previous import atomically. On any failure the previous import is kept and the "
            "exit status is 1. Run `python -m indexer build` afterwards to index them."
        ),
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="curated data folder (KNOWLEDGE_DATA_DIR)"
    )
    parser.add_argument(
        "--import-dir", type=Path, default=None, help="import folder (KNOWLEDGE_IMPORT_DIR)"
    )
    parser.add_argument("--url", default=None, help="search API URL (KNOWLEDGE_FTPORTAL_URL)")
    parser.set_defaults(handler=run)


def _settings(args: argparse.Namespace) -> KnowledgeSettings:
    overrides: dict[str, object] = {}
    for name, key in (
        ("data_dir", "data_dir"),
        ("import_dir", "import_dir"),
        ("url", "ftportal_url"),
    ):
        value = getattr(args, name, None)
        if value is not None:
            overrides[key] = value
    base = get_settings()
    return base.model_copy(update=overrides) if overrides else base


class PageProgressPrinter:
    """One line per page at most every ``interval`` seconds, and the last page."""

    def __init__(self, out: TextIO, interval: float = 2.0) -> None:
        """Print to ``out``."""
        self.out = out
        self.interval = interval
        self._started = time.perf_counter()
        self._last = -float("inf")

    def __call__(self, page: int, pages: int, topics: int, total: int) -> None:
        """Report that ``page`` of ``pages`` arrived."""
        now = time.perf_counter()
        if page < pages and now - self._last < self.interval:
            return
        self._last = now
        self.out.write(
            f"  page {page}/{pages}: {topics}/{total} topics, {now - self._started:.1f} s\n"
        )
        self.out.flush()


def run(
    args: argparse.Namespace,
    out: TextIO | None = None,
    *,
    clock: Clock = utc_now,
    settings: KnowledgeSettings | None = None,
) -> int:
    """Import; return 0 when the new import is published, 1 when the previous one is kept.

    Args:
        args: The parsed command line.
        out: Where to report (default: stdout).
        clock: When the import happens (tests inject a fixed moment).
        settings: Instead of the environment's settings and the arguments.
    """
    stream = out if out is not None else sys.stdout
    settings = settings if settings is not None else _settings(args)
    fetched_at = clock()
    started = time.perf_counter()
    try:
        manifest = import_calls(settings, fetched_at, stream, started)
    except PortalError as exc:
        return _failed(settings, fetched_at, str(exc), stream)
    seconds = manifest["seconds"]
    stream.write(
        f"Imported {manifest['calls']} calls ({manifest['open']} open, "
        f"{manifest['forthcoming']} forthcoming) of {len(manifest['programmes'])} programmes "
        f"from {manifest['topics']} topics in {seconds:.1f} s; left out: "
        f"{_skipped_text(manifest['skipped'])}.\n"
        f"Written: {settings.import_dir / IMPORT_CALLS_FILE}. "
        "Run `python -m indexer build` to index them.\n"
    )
    record_attempt(settings.import_dir, fetched_at, ok=True, message="imported")
    return EXIT_OK


def _skipped_text(skipped: dict[str, int]) -> str:
    labels = {
        "other_programme": "of programmes the knowledge base does not cover",
        "closed": "closed by now",
        "unknown_status": "with an unknown status code",
        "unreadable": "with missing or unreadable fields",
        "invalid": "not valid as a call",
        "duplicate": "duplicates",
    }
    parts = [f"{count} {labels.get(kind, kind)}" for kind, count in skipped.items() if count]
    return ", ".join(parts) if parts else "none"


def _failed(settings: KnowledgeSettings, at: dt.datetime, message: str, stream: TextIO) -> int:
    """Say what failed and which import stays in use; record the attempt."""
    previous = read_manifest(settings.import_dir)
    if previous is None:
        kept = "There is no previous import; only the curated calls are served."
    else:
        kept = (
            f"The previous import is kept: {previous.get('calls')} calls fetched at "
            f"{previous.get('fetched_at')}."
        )
    stream.write(f"Import failed: {message}\n{kept}\n")
    stream.flush()
    try:
        record_attempt(settings.import_dir, at, ok=False, message=message)
    except OSError as exc:
        stream.write(f"(could not record the attempt in {settings.import_dir}: {exc})\n")
    return EXIT_FAILED


def import_calls(
    settings: KnowledgeSettings, fetched_at: dt.datetime, stream: TextIO, started: float
) -> dict[str, Any]:
    """Fetch, map, validate and publish; return the manifest written.

    Raises:
        PortalError: For any failure; nothing was replaced then.
    """
    kb, errors = load_knowledge_base(settings.data_dir, import_dir=None)
    if not kb.programmes:
        raise PortalError(f"no programme in {settings.data_dir}; fix the curated data first")
    if errors:
        stream.write(
            f"Note: {len(errors)} error(s) in the curated data (python -m indexer validate).\n"
        )
    stream.write(
        f"Fetching open and forthcoming topics from {settings.ftportal_url} "
        f"({settings.ftportal_page_size} per page)\n"
    )
    results = PortalClient(settings).fetch_all(PageProgressPrinter(stream))
    mapping = map_topics(results, kb.programmes.keys(), fetched_at)
    failure = mapping.format_failure
    if failure is not None:
        raise PortalError(failure)
    for skipped in mapping.format_problems[:5]:
        stream.write(f"  left out {skipped.identifier}: {skipped.reason}\n")
    manifest = _manifest(settings, fetched_at, results, mapping)
    _publish(settings, calls_yaml(mapping.records), manifest, started)
    return manifest


def _manifest(
    settings: KnowledgeSettings,
    fetched_at: dt.datetime,
    results: list[dict[str, Any]],
    mapping: ImportMapping,
) -> dict[str, Any]:
    statuses = mapping.status_counts(fetched_at.date())
    programmes = Counter(call.programme for call in mapping.records)
    return {
        "source": "ftportal",
        "endpoint": settings.ftportal_url,
        "query": search_query(settings.ftportal_types),
        "languages": list(dict.fromkeys(["en", *settings.ftportal_languages])),
        "page_size": settings.ftportal_page_size,
        "fetched_at": fetched_at.isoformat().replace("+00:00", "Z"),
        "results": len(results),
        "topics": mapping.topics,
        "calls": len(mapping.records),
        "open": statuses.get("open", 0),
        "forthcoming": statuses.get("forthcoming", 0),
        "programmes": dict(sorted(programmes.items())),
        "skipped": dict(sorted(mapping.skipped_counts().items())),
    }


def _import_errors(errors: list[KnowledgeError], folder: Path) -> list[KnowledgeError]:
    return [error for error in errors if error.path.resolve().is_relative_to(folder.resolve())]


def _publish(
    settings: KnowledgeSettings, text: str, manifest: dict[str, Any], started: float
) -> None:
    """Validate the exact file with the loader, then move it and the manifest into place."""
    target = settings.import_dir
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".staging-", dir=target) as folder:
        staging = Path(folder)
        write_atomic(staging / IMPORT_CALLS_FILE, text)
        _, errors = load_knowledge_base(settings.data_dir, import_dir=staging)
        problems = _import_errors(errors, staging)
        if problems:
            listed = "; ".join(error.format(staging) for error in problems[:3])
            raise PortalError(f"the import does not validate ({len(problems)} errors): {listed}")
        manifest["calls_sha256"] = sha256(text)
        manifest["seconds"] = round(time.perf_counter() - started, 3)
        publish(staging / IMPORT_CALLS_FILE, target / IMPORT_CALLS_FILE)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    write_atomic(target / MANIFEST_FILE, text)
