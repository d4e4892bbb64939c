"""``python -m indexer validate``: check the knowledge base and show its coverage."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from knowledge.base import KnowledgeError
from knowledge.languages import EU_LANGUAGES
from knowledge.loader import load_knowledge_base
from knowledge.schema import RECORD_TYPES
from knowledge.settings import get_settings
from knowledge.validate import Coverage, coverage


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` sub-parser."""
    parser = subparsers.add_parser(
        "validate",
        help="check every record and print a coverage report",
        description="Check every record under the data directory; exit 1 on any error.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="knowledge data folder (default: KNOWLEDGE_DATA_DIR or knowledge/data)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Validate the data directory; return 1 if there is any error, else 0."""
    stream = out if out is not None else sys.stdout
    data_dir: Path = args.data_dir if args.data_dir is not None else get_settings().data_dir
    kb, errors = load_knowledge_base(data_dir)
    report = coverage(kb)
    if args.json:
        stream.write(json.dumps(json_report(report, errors), ensure_ascii=False, indent=2) + "\n")
    else:
        stream.write(human_report(report, errors, data_dir))
    return 1 if errors else 0


def json_report(report: Coverage, errors: list[KnowledgeError]) -> dict[str, Any]:
    """Build the documented JSON object: coverage plus formatted errors."""
    return {**report.to_dict(), "errors": [error.format() for error in errors]}


def _language_table(report: Coverage) -> list[str]:
    """One row per EU language, one column per record type."""
    header = "  lang" + "".join(f"{kind:>10}" for kind in RECORD_TYPES)
    rows = [header]
    for lang in EU_LANGUAGES:
        counts = "".join(f"{report.languages[kind][lang]:>10}" for kind in RECORD_TYPES)
        rows.append(f"  {lang:<4}{counts}")
    return rows


def human_report(report: Coverage, errors: list[KnowledgeError], data_dir: Path) -> str:
    """Render errors (one per line) and a readable coverage table."""
    lines = [error.format() for error in errors]
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
    lines.append(f"{len(errors)} error(s)." if errors else "OK: no errors.")
    return "\n".join(lines) + "\n"
