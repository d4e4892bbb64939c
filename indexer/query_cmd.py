"""``python -m indexer query "text"``: search the published index from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from knowledge.filters import SearchFilters
from knowledge.search import Retriever, SearchResult, get_retriever
from knowledge.search_errors import SearchError
from knowledge.settings import get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``query`` sub-parser."""
    parser = subparsers.add_parser(
        "query",
        help="search the published index",
        description="Run one hybrid search and print the ranked records.",
    )
    parser.add_argument("text", help="the question, in any EU language")
    parser.add_argument("--lang", default=None, help="language of the question (e.g. hr)")
    parser.add_argument("--type", action="append", help="record type filter (repeatable)")
    parser.add_argument("--applicant", action="append", help="applicant type filter")
    parser.add_argument("--country", action="append", help="ISO country code filter")
    parser.add_argument("--theme", action="append", help="theme filter")
    parser.add_argument("--open", action="append", help="call status: open, forthcoming, true")
    parser.add_argument("--limit", type=int, default=5, help="number of results (default 5)")
    parser.add_argument(
        "--index-dir", type=Path, default=None, help="index folder (KNOWLEDGE_INDEX_DIR)"
    )
    parser.set_defaults(handler=run)


def run(
    args: argparse.Namespace, out: TextIO | None = None, retriever: Retriever | None = None
) -> int:
    """Print the hits; return 1 with the reason when the search cannot run."""
    stream = out if out is not None else sys.stdout
    if retriever is None:
        settings = get_settings()
        if args.index_dir is not None:
            settings = settings.model_copy(update={"index_dir": args.index_dir})
        retriever = get_retriever(settings)
    try:
        filters = SearchFilters.parse(
            type=args.type,
            applicant=args.applicant,
            country=args.country,
            theme=args.theme,
            open=args.open,
        )
        result = retriever.search(args.text, lang=args.lang, filters=filters, limit=args.limit)
    except SearchError as exc:
        stream.write(f"Search failed: {exc}\n")
        return 1
    stream.write(render(result))
    return 0


def render(result: SearchResult) -> str:
    """One block per hit: rank, type, id, score, title, snippet and URL."""
    lines = [f"Query ({result.language}): {result.query}"]
    if result.expanded_with:
        lines.append(f"Glossary terms: {', '.join(result.expanded_with)}")
    if not result.hits:
        lines.append("No results.")
    for rank, hit in enumerate(result.hits, start=1):
        note = "" if hit.lang_served == result.language else f" [{hit.lang_served}]"
        lines.append(f"{rank:>2}. {hit.type:<9} {hit.id}  ({hit.score:.4f}){note}")
        lines.append(f"    {hit.title}")
        if hit.snippet:
            lines.append(f"    {hit.snippet}")
        if hit.url:
            lines.append(f"    {hit.url}")
    return "\n".join(lines) + "\n"
