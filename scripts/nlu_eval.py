"""Intent macro-F1 of the trained Rasa model on the held-out examples, per language.

Runs inside .venv-rasa (it imports rasa); standard library otherwise, so the same
file also works as a plain module for the metric functions. The held-out files
`bot/eval/nlu/<lang>.yml` are never used for training.

    .venv-rasa/bin/python scripts/nlu_eval.py --model bot/models/model-X.tar.gz --json out.json

`--compare` trains four NLU models into var/nlu-eval/ (never bot/models) and prints the
cross-lingual table of docs/benchmarks.md: zero-shot (trained on the seven original
languages only, evaluated on the other seventeen) and all training data, each with and
without the multilingual-e5 featurizer of bot/config.yml:

    .venv-rasa/bin/python scripts/nlu_eval.py --compare --json var/nlu-eval/compare.json
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
BOT_DIR = ROOT / "bot"
EVAL_DIR = BOT_DIR / "eval" / "nlu"
NLU_DIR = BOT_DIR / "data" / "nlu"
WORK_DIR = ROOT / "var" / "nlu-eval"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
TRAINED_LANGUAGES = ("de", "en", "es", "fr", "hr", "it", "pl")
E5_COMPONENT = "nlu_components.e5_featurizer.E5Featurizer"


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
    # Custom components (bot/nlu_components) resolve from bot/, as under `rasa run`.
    if str(BOT_DIR) not in sys.path:
        sys.path.insert(0, str(BOT_DIR))
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


def config_without_e5(config_text: str) -> str:
    """bot/config.yml with the E5Featurizer entry (and its option lines) removed."""
    lines = config_text.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for line in lines:
        if line.strip() == f"- name: {E5_COMPONENT}":
            skipping = True
            continue
        if skipping and line.startswith("    ") and not line.strip().startswith("- "):
            continue
        skipping = False
        out.append(line)
    if out == lines:
        raise ValueError(f"{E5_COMPONENT} is not in the config")
    return "".join(out)


def _training_dir(name: str, languages: tuple[str, ...] | None) -> Path:
    """A data folder for `rasa train nlu`: links to the chosen languages' folders."""
    target = WORK_DIR / f"data-{name}"
    if target.exists():
        for link in target.iterdir():
            link.unlink()
    target.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in NLU_DIR.iterdir() if p.is_dir()):
        if languages is None or folder.name in languages:
            (target / folder.name).symlink_to(folder.resolve())
    return target


def train_nlu(
    name: str, config_text: str, languages: tuple[str, ...] | None, reuse: bool = False
) -> tuple[Path, float]:
    """Train one NLU model into var/nlu-eval/; returns its path and the seconds it took."""
    import subprocess
    import time

    model, timing = WORK_DIR / f"{name}.tar.gz", WORK_DIR / f"{name}.seconds"
    if reuse and model.exists() and timing.exists():
        return model, float(timing.read_text())
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    config = WORK_DIR / f"config-{name}.yml"
    config.write_text(config_text, encoding="utf-8")
    data = _training_dir(name, languages)
    # A cache directory per run: parallel trainings must not share Rasa's cache.
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_CACHE_DIRECTORY": str(WORK_DIR / f"cache-{name}")}  # fmt: skip
    started = time.monotonic()
    command = [
        str(RASA_BIN), "train", "nlu", "--config", str(config), "--nlu", str(data),
        "--domain", "domain", "--out", str(WORK_DIR), "--fixed-model-name", name,
    ]  # fmt: skip
    with (WORK_DIR / f"{name}.log").open("w") as log:
        subprocess.run(command, cwd=BOT_DIR, env=env, check=True, stdout=log, stderr=log)
    seconds = time.monotonic() - started
    timing.write_text(f"{seconds:.1f}")
    return model, seconds


def with_epochs(config_text: str, epochs: int | None) -> str:
    """The config with DIET's `epochs:` replaced (a cheaper like-for-like comparison)."""
    if epochs is None:
        return config_text
    lines = config_text.splitlines(keepends=True)
    return "".join(
        f"    epochs: {epochs}\n" if line.strip().startswith("epochs:") else line for line in lines
    )


def compare(
    reuse: bool = False, train_only: bool = False, epochs: int | None = None, jobs: int = 1
) -> dict[str, Any]:
    """Zero-shot and full-data macro-F1 per language, with and without e5."""
    from concurrent.futures import ThreadPoolExecutor

    shipped = with_epochs((BOT_DIR / "config.yml").read_text(encoding="utf-8"), epochs)
    variants = {"e5": shipped, "sparse": config_without_e5(shipped)}
    settings = {"zero-shot": TRAINED_LANGUAGES, "all": None}
    plan = [
        (f"{setting}-{variant}", config_text, languages)
        for setting, languages in settings.items()
        for variant, config_text in variants.items()
    ]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        trained = list(pool.map(lambda job: train_nlu(job[0], job[1], job[2], reuse), plan))
    result: dict[str, Any] = {
        "trained_languages": list(TRAINED_LANGUAGES),
        "epochs": epochs,
        "jobs": jobs,
        "runs": {},
    }
    if train_only:
        return result
    for (name, _, _), (model, seconds) in zip(plan, trained, strict=True):
        report = evaluate(model)
        result["runs"][name] = {"train_seconds": round(seconds, 1), **report}
        print(f"{name}: trained in {seconds:.0f} s, overall {report['overall']}", flush=True)
    return result


def render_compare(result: dict[str, Any]) -> str:
    """The markdown table of docs/benchmarks.md (macro-F1 per language)."""
    runs = result["runs"]
    trained = set(result["trained_languages"])
    lines = [
        "| language | trained on it (zero-shot models) | zero-shot, sparse only | "
        "zero-shot, with e5 | all data, sparse only | all data, with e5 | delta |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang in sorted(runs["all-e5"]["languages"]):
        cells = [f"{runs[n]['languages'][lang]['macro_f1']:.3f}"
                 for n in ("zero-shot-sparse", "zero-shot-e5", "all-sparse", "all-e5")]  # fmt: skip
        delta = float(cells[3]) - float(cells[2])
        seen = "yes" if lang in trained else "no"
        lines.append(f"| {lang} | {seen} | " + " | ".join(cells) + f" | {delta:+.3f} |")
    for label, members in (("17 unseen (mean)", False), ("7 trained (mean)", True)):
        langs = [lang for lang in runs["all-e5"]["languages"] if (lang in trained) is members]
        cells = []
        for n in ("zero-shot-sparse", "zero-shot-e5", "all-sparse", "all-e5"):
            scores = [runs[n]["languages"][lang]["macro_f1"] for lang in langs]
            cells.append(f"{sum(scores) / len(scores):.3f}" if scores else "-")
        delta = float(cells[3]) - float(cells[2])
        lines.append(f"| {label} | | " + " | ".join(cells) + f" | {delta:+.3f} |")
    times = ", ".join(f"{n} {r['train_seconds']:.0f} s" for n, r in runs.items())
    lines.append("")
    lines.append(f"Training time (`rasa train nlu`, same run): {times}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--compare", action="store_true", help="train 4 models, print the table")
    parser.add_argument("--reuse", action="store_true", help="keep models var/nlu-eval/ has")
    parser.add_argument("--train-only", action="store_true", help="with --compare: no evaluation")
    parser.add_argument("--epochs", type=int, help="with --compare: DIET epochs for all four")
    parser.add_argument("--jobs", type=int, default=1, help="with --compare: parallel trainings")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    if args.compare:
        result = compare(args.reuse, args.train_only, args.epochs, args.jobs)
        if args.train_only:
            return 0
        print(render_compare(result))
        if args.json:
            args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
        return 0
    if args.model is None:
        parser.error("--model or --compare is required")
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
