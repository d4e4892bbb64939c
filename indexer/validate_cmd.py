"""``python -m indexer validate``: check the knowledge base and show its coverage."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from knowledge.base import KnowledgeError
from knowledge.languages import EU_LANGUAGES
from knowledge.loader import load_knowledge_base
from knowledge.schema import RECORD_TYPES
from knowledge.settings import get_settings
from knowledge.validate import Coverage, check_freshness, coverage


def _positive_days(text: str) -> int:
    """Parse a day count for argparse; zero or less has no meaning as an age."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days <= 0:
        raise argparse.ArgumentTypeError(f"{days} is not a positive number of days")
    return days


def _iso_date(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD`` for argparse with an error that says what was expected."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` sub-parser."""
    parser = subparsers.add_parser(
        "validate",
        help="check every record and print a coverage report",
        description=(
            "Check every record under the data directory; exit 1 on any error. "
            "Freshness warnings (stale records, programmes whose latest call has closed) "
            "are printed but do not change the exit code."
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="knowledge data folder (default: KNOWLEDGE_DATA_DIR or knowledge/data)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--stale-after-days",
        type=_positive_days,
        default=None,
        help="warn about records last verified longer ago than this "
        "(default: KNOWLEDGE_STALE_AFTER_DAYS or 180)",
    )
    parser.add_argument(
        "--today",
        type=_iso_date,
        default=None,
        help="reference date YYYY-MM-DD for call status and record age (default: today)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Validate the data directory; return 1 if there is any error, else 0.

    Warnings never change the exit code: ageing data is still valid data.
    """
    stream = out if out is not None else sys.stdout
    settings = get_settings()
    data_dir: Path = args.data_dir if args.data_dir is not None else settings.data_dir
    max_age: int = getattr(args, "stale_after_days", None) or settings.stale_after_days
    today: dt.date = getattr(args, "today", None) or dt.date.today()
    kb, errors = load_knowledge_base(data_dir)
    warnings = check_freshness(kb, today, max_age)
    report = coverage(kb)
    if args.json:
        document = json_report(report, errors, warnings)
        stream.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        stream.write(human_report(report, errors, data_dir, warnings))
    return 1 if errors else 0


def json_report(
    report: Coverage, errors: list[KnowledgeError], warnings: list[KnowledgeError] | None = None
) -> dict[str, Any]:
    """Build the documented JSON object: coverage plus formatted errors and warnings."""
    return {
        **report.to_dict(),
        "errors": [error.format() for error in errors],
        "warnings": [warning.format() for warning in warnings or []],
    }


def _language_table(report: Coverage) -> list[str]:
    """One row per EU language, one column per record type."""
    header = "  lang" + "".join(f"{kind:>10}" for kind in RECORD_TYPES)
    rows = [header]
    for lang in EU_LANGUAGES:
        counts = "".join(f"{report.languages[kind][lang]:>10}" for kind in RECORD_TYPES)
        rows.append(f"  {lang:<4}{counts}")
    return rows


def human_report(
    report: Coverage,
    errors: list[KnowledgeError],
    data_dir: Path,
    warnings: list[KnowledgeError] | None = None,
) -> str:
    """Render errors and warnings (one per line) and a readable coverage table."""
    lines = [error.format() for error in errors]
    lines.extend(f"warning: {warning.format()}" for warning in warnings or [])
    if lines:
        lines.append("")
    lines.append(f"Knowledge base: {data_dir}")
    lines.append("Records per type:")
    lines.extend(f"  {kind:<10}{report.records[kind]:>6}" for kind in RECORD_TYPES)
    lines.append(f"  {'total':<10}{sum(report.records.values()):>6}")
    lines.append("")
    lines.append("Records per language (title; terms for glossary; spoken for contacts):")
    lines.extend(_language_table(report))
    lines.append("")
    lines.append(f"Practices cover {report.practice_countries} distinct countries.")
    lines.append(
        f"Glossary: {report.glossary_terms} terms in {report.glossary_languages} languages."
    )
    lines.append("")
    if warnings:
        lines.append(f"{len(warnings)} freshness warning(s) (they do not fail validation).")
    lines.append(f"{len(errors)} error(s)." if errors else "OK: no errors.")
    return "\n".join(lines) + "\n"
