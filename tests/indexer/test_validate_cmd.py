from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.__main__ import main
from knowledge.languages import EU_LANGUAGES
from knowledge.settings import default_data_dir, get_settings
from tests.knowledge.kbfixtures import BROKEN_CASES, VALID_DIR, BrokenCase, copy_valid_base

RECORD_TYPES = ["programme", "call", "practice", "event", "contact", "glossary"]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = copy_valid_base(tmp_path)
    monkeypatch.chdir(data)
    return data


def run_json(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["validate", "--data-dir", str(data_dir), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_valid_fixture_exits_0(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--data-dir", str(base)]) == 0
    out = capsys.readouterr().out
    assert "OK: no errors." in out
    assert "Records per type:" in out
    assert "  programme      2" in out
    assert "  total         10" in out
    assert "Practices cover 2 distinct countries." in out
    assert "Glossary: 2 terms in 4 languages." in out


def test_valid_fixture_json_has_documented_keys_and_counts(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(base, capsys)
    assert code == 0
    assert list(report) == ["records", "languages", "countries", "glossary", "errors", "warnings"]
    assert report["records"] == {
        "programme": 2,
        "call": 1,
        "practice": 3,
        "event": 1,
        "contact": 1,
        "glossary": 2,
    }
    languages = report["languages"]
    assert isinstance(languages, dict)
    assert list(languages) == RECORD_TYPES
    assert all(list(counts) == list(EU_LANGUAGES) for counts in languages.values())
    assert languages["programme"]["en"] == 2
    assert languages["programme"]["hr"] == 2
    assert languages["programme"]["de"] == 1
    assert languages["practice"]["hr"] == 1
    assert languages["event"]["fi"] == 1
    assert languages["contact"]["fr"] == 1  # contacts count the languages they answer in
    assert languages["glossary"]["de"] == 1
    assert report["countries"] == {"practice": 2}  # HR and NO; the EU group is not a country
    assert report["glossary"] == {"terms": 2, "languages": 4}
    assert report["errors"] == []


@pytest.mark.parametrize("case", BROKEN_CASES, ids=lambda case: case.name)
def test_broken_case_exits_1_and_prints_located_error(
    base: Path, case: BrokenCase, capsys: pytest.CaptureFixture[str]
) -> None:
    case.write(base)
    assert main(["validate", "--data-dir", str(base)]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith(case.expected) for line in out.splitlines()), out
    assert out.rstrip().endswith("error(s).")


@pytest.mark.parametrize("case", BROKEN_CASES, ids=lambda case: case.name)
def test_broken_case_json_lists_the_error(
    base: Path, case: BrokenCase, capsys: pytest.CaptureFixture[str]
) -> None:
    case.write(base)
    code, report = run_json(base, capsys)
    assert code == 1
    errors = report["errors"]
    assert isinstance(errors, list)
    assert any(error.startswith(case.expected) for error in errors), errors


def test_paths_outside_cwd_are_printed_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = copy_valid_base(tmp_path)
    BROKEN_CASES[0].write(data)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["validate", "--data-dir", str(data)]) == 1
    expected = f"{data / 'programmes' / 'bad.yaml'}:5: fundng_rate: unknown field"
    assert expected in capsys.readouterr().out


def test_data_dir_defaults_to_settings(
    base: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DATA_DIR", str(base))
    get_settings.cache_clear()
    try:
        assert main(["validate", "--json"]) == 0
    finally:
        get_settings.cache_clear()
    assert json.loads(capsys.readouterr().out)["records"]["call"] == 1


def test_command_is_required() -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_module_entry_point_runs_as_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "indexer", "validate", "--data-dir", str(VALID_DIR), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["errors"] == []


def test_shipped_knowledge_data_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs on the real knowledge/data (being written concurrently: may fail until done)."""
    code = main(["validate", "--data-dir", str(default_data_dir())])
    assert code == 0, capsys.readouterr().out
