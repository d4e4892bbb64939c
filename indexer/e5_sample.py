"""A fixed multilingual sample of texts to compare encoders on.

Questions of the retrieval dev set (all 24 EU languages) and the embedded texts of
the knowledge base (every language it has), taken in turn language by language so
that a small sample still covers each of them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path
from typing import Final

import yaml

from indexer.build import collect
from knowledge.loader import load_knowledge_base

DEVSET: Final[Path] = Path(__file__).resolve().parent.parent / "bench" / "devset.yaml"


def _round_robin(groups: dict[str, list[str]]) -> list[str]:
    """One text of each language in turn (languages sorted, texts in file order)."""
    columns = [groups[lang] for lang in sorted(groups)]
    return [t for row in itertools.zip_longest(*columns) for t in row if t is not None]


def sample_texts(data_dir: Path, count: int, devset: Path = DEVSET) -> list[str]:
    """``count`` texts: half dev-set questions, half knowledge-base texts (when available)."""
    questions: dict[str, list[str]] = defaultdict(list)
    if devset.is_file():
        for item in yaml.safe_load(devset.read_text(encoding="utf-8")) or []:
            questions[str(item["lang"])].append(str(item["q"]))
    documents: dict[str, list[str]] = defaultdict(list)
    kb, errors = load_knowledge_base(data_dir)
    if not errors:
        corpus = collect(kb)
        for doc, text in zip(corpus.documents, corpus.texts, strict=True):
            documents[doc.lang].append(text.dense)
    asked, written = _round_robin(questions), _round_robin(documents)
    half = min(len(asked), count // 2)
    return (asked[:half] + written[: count - half])[:count]
