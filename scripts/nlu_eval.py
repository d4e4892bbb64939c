"""Intent macro-F1 of the trained Rasa model on the held-out examples, per language.

Runs inside .venv-rasa (it imports rasa); standard library otherwise, so the same
file also works as a plain module for the metric functions. The held-out files
`bot/eval/nlu/<lang>.yml` are never used for training.

    .venv-rasa/bin/python scripts/nlu_eval.py --model bot/models/model-X.tar.gz --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "bot" / "eval" / "nlu"


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs: list[tuple[str, str]] = []
    for block in data.get("nlu", []):
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples", "")).splitlines():
            text = line.strip()
            if text.startswith("- "):
                pairs.append((text[2:].strip(), str(intent)))
    return pairs


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Unweighted mean of per-intent F1 over the intents present in `gold`."""
    true_pos: Counter[str] = Counter()
    false_pos: Counter[str] = Counter()
    false_neg: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_pos[g] += 1
        else:
            false_pos[p] += 1
            false_neg[g] += 1
    scores = []
    for intent in sorted(set(gold)):
        tp, fp, fn = true_pos[intent], false_pos[intent], false_neg[intent]
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


async def _predict(model: Path, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predictions = []
    for text in texts:
        parsed: dict[str, Any] = await agent.parse_message(text)
        predictions.append(str((parsed.get("intent") or {}).get("name")))
    return predictions


def evaluate(model: Path, eval_dir: Path = EVAL_DIR) -> dict[str, Any]:
    """Per-language and overall macro-F1, accuracy and the misclassified examples."""
    per_file = {p.stem: read_examples(p) for p in sorted(eval_dir.glob("*.yml"))}
    texts = [text for pairs in per_file.values() for text, _ in pairs]
    predicted = iter(asyncio.run(_predict(model, texts)))
    report: dict[str, Any] = {"languages": {}, "errors": []}
    all_gold: list[str] = []
    all_pred: list[str] = []
    for language, pairs in per_file.items():
        gold = [intent for _, intent in pairs]
        pred = [next(predicted) for _ in pairs]
        all_gold += gold
        all_pred += pred
        correct = sum(g == p for g, p in zip(gold, pred, strict=True))
        report["languages"][language] = {
            "examples": len(pairs),
            "macro_f1": round(macro_f1(gold, pred), 4),
            "accuracy": round(correct / len(pairs), 4) if pairs else 0.0,
        }
        report["errors"] += [
            {"language": language, "text": text, "expected": g, "predicted": p}
            for (text, g), p in zip(pairs, pred, strict=True)
            if g != p
        ]
    report["overall"] = {
        "examples": len(all_gold),
        "macro_f1": round(macro_f1(all_gold, all_pred), 4),
    }
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    report = evaluate(args.model, args.eval_dir)
    for language, row in report["languages"].items():
        print(
            f"{language}  n={row['examples']:4d}  macro-F1={row['macro_f1']:.3f}  "
            f"acc={row['accuracy']:.3f}"
        )
    print(f"all n={report['overall']['examples']:4d}  macro-F1={report['overall']['macro_f1']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
