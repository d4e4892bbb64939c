"""Quality gate: intent macro-F1 on held-out examples (bot/eval/nlu), per language."""

import json
import subprocess
from pathlib import Path

import pytest

from stack import QUIET_ENV, ROOT, base_env, ensure_model

pytestmark = [pytest.mark.integration, pytest.mark.rasa, pytest.mark.slow]

# Issue 5's target for the seven languages trained since then (measured 2026-12-07 with
# the e5 featurizer, 7-language data: 0.879-0.909). The other 17 have training data
# since 2026-12-07 (issue 14) and e5 sentence features (issue 15); their floor is a
# regression guard below issue 15's 0.80 target, not yet measured on the shipped model.
TRAINED_LANGUAGES = {"en", "hr", "de", "fr", "it", "es", "pl"}
EU_LANGUAGES = TRAINED_LANGUAGES | {
    "bg", "cs", "da", "el", "et", "fi", "ga", "hu", "lt",
    "lv", "mt", "nl", "pt", "ro", "sk", "sl", "sv",
}  # fmt: skip
# Shipped model, measured 2026-12-07 18:29 (24 languages, e5, 20 epochs): overall 0.863,
# trained 0.85-0.90, new 0.77 (ga) - 0.92 (pt); floors leave room for run-to-run noise.
TRAINED_MIN = 0.82
NEW_LANGUAGE_MIN = 0.72
OVERALL_MIN = 0.83


def test_held_out_examples_are_not_in_training_data() -> None:
    import yaml

    def examples(paths):
        found = set()
        for path in paths:
            for block in (yaml.safe_load(path.read_text("utf-8")) or {}).get("nlu", []):
                for line in str(block.get("examples", "")).splitlines():
                    if line.strip().startswith("- "):
                        found.add(line.strip()[2:].strip().casefold())
        return found

    training = examples((ROOT / "bot" / "data" / "nlu").rglob("*.yml"))
    held_out = examples((ROOT / "bot" / "eval" / "nlu").glob("*.yml"))
    assert held_out, "no held-out examples"
    assert training.isdisjoint(held_out), sorted(training & held_out)[:10]


def test_intent_macro_f1_per_language(tmp_path: Path) -> None:
    model = ensure_model()
    out = tmp_path / "nlu.json"
    subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), str(ROOT / "scripts" / "nlu_eval.py"),
         "--model", str(model), "--json", str(out)],
        env=base_env(QUIET_ENV), check=True, timeout=900,
    )  # fmt: skip
    report = json.loads(out.read_text("utf-8"))
    assert set(report["languages"]) == EU_LANGUAGES
    assert report["overall"]["macro_f1"] >= OVERALL_MIN, report["overall"]
    low = {
        lang: row["macro_f1"]
        for lang, row in report["languages"].items()
        if row["macro_f1"] < (TRAINED_MIN if lang in TRAINED_LANGUAGES else NEW_LANGUAGE_MIN)
    }
    assert not low, f"languages below their floor: {low}; errors: {report['errors'][:20]}"
