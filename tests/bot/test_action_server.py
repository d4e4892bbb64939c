"""The action server serves calls without the domain (Rasa's `enable_selective_domain`).

bot/endpoints.yml stops Rasa from sending the whole domain with every custom-action
call (about 460 KB of JSON, twice per turn: issue 8's profile). rasa-sdk's own
executor refuses such calls; bot/action_server.py's executor fills in the domain read
from bot/domain/ by bot/domain_files.py. Proven here: the file-read domain is the one
Rasa builds from the same files (responses, slots, forms), a form validation that
needs the domain works on a call without one, and rasa-sdk's own executor refuses it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionMissingDomainException

from bot.action_server import FileDomainExecutor, IntendedSkipsFilter, tracing_endpoints
from bot.domain_files import load_domain, merge_domain_parts
from stack import action_service, base_env, free_port

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
# What the worker logs once index and embedding model are loaded (bot/search_access.py),
# and how long that may take on a busy 2-core machine.
SEARCH_READY = "Search index and embedding model loaded"
WARM_UP_TIMEOUT_SECONDS = 120.0

# Runs in .venv-rasa: the domain as Rasa itself loads the directory and sends it.
RASA_DOMAIN = r"""
import json, sys
from rasa.shared.core.domain import Domain
print(json.dumps(Domain.load(sys.argv[1]).as_dict()))
"""


def validation_call(contact: str, *, with_domain: bool) -> dict[str, Any]:
    """Rasa's call of validate_proposal_form after the user answered the contact question."""
    events = [
        {"event": "active_loop", "name": "proposal_form"},
        {"event": "user", "text": contact, "parse_data": {"intent": {"name": "inform"}}},
        {"event": "slot", "name": "proposal_contact", "value": contact},
    ]
    call: dict[str, Any] = {
        "next_action": "validate_proposal_form",
        "sender_id": "selective",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "selective",
            "slots": {"language": "en", "proposal_contact": contact, "requested_slot": None},
            "latest_message": {"text": contact, "intent": {"name": "inform"}, "entities": []},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "proposal_form"},
            "latest_action_name": "action_listen",
        },
    }
    if with_domain:
        call["domain"] = load_domain()
    return call


@pytest.mark.rasa
def test_file_domain_is_the_domain_rasa_builds_from_the_same_files() -> None:
    assert RASA_PYTHON.exists(), "needs .venv-rasa: run `make setup`"
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", RASA_DOMAIN, str(ROOT / "bot" / "domain")],
        capture_output=True,
        text=True,
        env=base_env(),
        timeout=300,
        check=True,
    )
    rasa_domain = json.loads(result.stdout.strip().splitlines()[-1])
    ours = load_domain()
    assert ours["responses"] == rasa_domain["responses"]
    assert ours["forms"] == rasa_domain["forms"]
    for name, slot in ours["slots"].items():
        assert slot["mappings"] == rasa_domain["slots"][name]["mappings"], name


def execute(executor: ActionExecutor, call: dict[str, Any]) -> dict[str, Any]:
    executor.register_package("bot.actions")
    result = asyncio.run(executor.run(call))
    assert result is not None
    body: dict[str, Any] = result.model_dump()
    return body


def test_a_call_without_domain_is_validated_with_the_files_domain() -> None:
    body = execute(FileDomainExecutor(), validation_call("not an address", with_domain=False))
    assert [r.get("response") for r in body["responses"]] == ["utter_proposal_contact_invalid"]
    assert {"event": "slot", "name": "proposal_contact", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in body["events"]
    ]


def test_a_call_with_domain_gives_the_same_answer() -> None:
    with_domain = execute(FileDomainExecutor(), validation_call("x", with_domain=True))
    without = execute(FileDomainExecutor(), validation_call("x", with_domain=False))
    assert with_domain == without
    assert with_domain["responses"], "the validation did not run"


def test_a_valid_address_is_kept() -> None:
    body = execute(FileDomainExecutor(), validation_call("ana@example.org", with_domain=False))
    assert body["responses"] == []
    slots = [(e.get("name"), e.get("value")) for e in body["events"] if e["event"] == "slot"]
    assert ("proposal_contact", "ana@example.org") in slots


def test_rasa_sdks_own_executor_refuses_a_call_without_domain() -> None:
    """The control: without bot/action_server.py, selective domain breaks every call."""
    with pytest.raises(ActionMissingDomainException):
        execute(ActionExecutor(), validation_call("not an address", with_domain=False))


def test_endpoints_enable_the_selective_domain() -> None:
    endpoints = yaml.safe_load((ROOT / "bot" / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True


def test_domain_parts_merge_mappings_and_lists() -> None:
    merged = merge_domain_parts(
        [
            {"responses": {"a": [1]}, "intents": ["x"], "version": "3.1"},
            {"responses": {"b": [2]}, "intents": ["y"]},
        ]
    )
    assert merged == {"responses": {"a": [1], "b": [2]}, "intents": ["x", "y"], "version": "3.1"}


def test_a_missing_domain_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no domain files"):
        load_domain(tmp_path)


def test_the_worker_loads_the_search_before_any_question(tmp_path: Path) -> None:
    """The real server, no call sent: its worker logs that the search is ready."""
    service = action_service(free_port(), tmp_path, {}, "actions")
    service.start()
    try:
        deadline = time.monotonic() + WARM_UP_TIMEOUT_SECONDS
        while SEARCH_READY not in service.log_tail() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert SEARCH_READY in service.log_tail(), service.log_tail()
    finally:
        service.stop()


def test_warm_up_without_an_index_reports_and_does_not_raise(tmp_path: Path) -> None:
    """A missing index must not stop the server: warm-up says not ready, in a clean process."""
    script = "from bot.action_server import warm_up; print(warm_up())"
    env = base_env({"KNOWLEDGE_INDEX_DIR": str(tmp_path / "no-index")})
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
    assert "Search warm-up failed" in run.stderr


def test_only_the_intended_skip_warning_is_filtered() -> None:
    """The per-turn "Skipping validation" warning goes; any other rasa-sdk warning stays."""

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("rasa_sdk.forms", logging.WARNING, __file__, 1, message, (), None)

    keep = IntendedSkipsFilter().filter
    assert not keep(record("Skipping validation for `language`: there is no validation method"))
    assert keep(record("Cannot validate `budget`: make sure the validation method returns"))


def test_tracing_endpoints_default_is_optional_but_a_named_file_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No error log for rasa-sdk's absent default file; a file the user names is used."""
    monkeypatch.chdir(tmp_path)
    assert tracing_endpoints("endpoints.yml") is None
    (tmp_path / "endpoints.yml").write_text("tracing:\n  type: jaeger\n", encoding="utf-8")
    assert tracing_endpoints("endpoints.yml") == "endpoints.yml"
    assert tracing_endpoints("missing.yml") == "missing.yml"
