"""Button payloads with JSON survive Rasa's response templating unchanged, silently.

Rasa 3.6 (`rasa/core/nlg/interpolator.py`, `interpolate_text`) rewrites every
`{name}` in a response's text and buttons to a slot lookup. A raw payload such as
`/inform{"applicant_type": "ngo"}` is read as a slot named `"applicant_type": "ngo"`:
the lookup raises, Rasa logs an ERROR with a traceback and sends the raw text
(issue 8: 2,668 errors in one load test). The domain therefore writes doubled
braces, `/inform{{"applicant_type": "ngo"}}`, which `str.format` turns back into
single ones. `bot/rendering.py` (`str.format_map`) reads `{{` the same way, but
it only renders response texts; buttons always go through Rasa.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack import QUIET_ENV, base_env

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "bot" / "domain"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

# Runs in .venv-rasa: renders every variation whose buttons carry a JSON payload
# with Rasa's own generator (the one that serves `utter_*` and form questions),
# the slots set as its condition asks, and records every warning or error logged.
RENDER = r"""
import json, logging, sys
from structlog.testing import capture_logs
from rasa.core.nlg.interpolator import interpolate_text
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []
    def emit(self, record):
        self.messages.append(record.getMessage())

recorder = Recorder()
logging.getLogger().addHandler(recorder)
domain = Domain.load(sys.argv[1])
nlg = TemplatedNaturalLanguageGenerator(domain.responses)
slots = {slot.name: slot.value for slot in domain.slots}
rendered = []
with capture_logs() as logs:
    for name, variations in domain.responses.items():
        for variation in variations:
            buttons = variation.get("buttons") or []
            if not any("{" in str(b.get("payload", "")) for b in buttons):
                continue
            condition = {c["name"]: c["value"] for c in variation.get("condition") or []}
            response = nlg.generate_from_slots(name, {**slots, **condition}, "rest")
            rendered.append({
                "response": name,
                "condition": condition,
                "text": response["text"],
                "expected_text": variation["text"],
                "written": [b["payload"] for b in buttons],
                "sent": [b["payload"] for b in response["buttons"]],
            })
    errors = [dict(e, exception=None) for e in logs if e.get("log_level") in ("warning", "error")]
with capture_logs() as control_logs:  # proves the capture sees the issue-8 error
    interpolate_text('/inform{"applicant_type": "ngo"}', slots)
print(json.dumps({
    "rendered": rendered,
    "errors": [str(e) for e in errors] + recorder.messages,
    "control_errors": [e["event"] for e in control_logs if e.get("log_level") == "error"],
}))
"""


def domain_json_payloads() -> list[tuple[str, str]]:
    """(response, payload) for every button payload with JSON in bot/domain/*.yml."""
    found = []
    for path in sorted(DOMAIN.glob("*.yml")):
        responses = (yaml.safe_load(path.read_text("utf-8")) or {}).get("responses") or {}
        for name, variations in responses.items():
            for variation in variations:
                for button in variation.get("buttons") or []:
                    payload = str(button.get("payload", ""))
                    if "{" in payload:
                        found.append((name, payload))
    return found


def as_sent(written: str) -> str:
    """What the user's button must carry: `str.format` undoes the doubled braces."""
    return written.format()


def test_json_payloads_are_escaped_for_templating() -> None:
    payloads = domain_json_payloads()
    assert payloads, "expected JSON button payloads in bot/domain (applicant type, themes)"
    for name, written in payloads:
        sent = as_sent(written)  # raises on a single brace, as Rasa's format does
        intent, _, body = sent.partition("{")
        assert intent.startswith("/") and intent[1:].isidentifier(), (name, written)
        assert isinstance(json.loads("{" + body), dict), (name, written)


@pytest.mark.slow  # imports Rasa (~10 s)
def test_rasa_sends_the_json_payloads_unchanged_without_errors() -> None:
    assert RASA_PYTHON.exists(), "needs .venv-rasa: run `make setup`"
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", RENDER, str(DOMAIN)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=base_env(QUIET_ENV),
    )
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["control_errors"] == ["interpolator.interpolate.text"]
    assert report["errors"] == []
    assert "interpolator" not in result.stderr

    rendered = report["rendered"]
    assert {r["response"] for r in rendered} >= {"utter_ask_applicant_type", "utter_ask_themes"}
    assert len(rendered) == len({(r["response"], str(r["condition"])) for r in rendered})
    for r in rendered:
        assert r["text"] == r["expected_text"], r  # the variation for the condition
        assert r["sent"] == [as_sent(w) for w in r["written"]], r
    sent = {p for r in rendered for p in r["sent"]}
    assert '/inform{"applicant_type": "ngo"}' in sent
    assert '/inform{"themes": ["climate", "environment"]}' in sent
    assert not any("{{" in p or "}}" in p for p in sent)
    assert len([p for r in rendered for p in r["sent"]]) == len(domain_json_payloads())
