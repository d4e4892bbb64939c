"""Freshness warnings of ``indexer validate``: stale records and programmes with no current call.

Each test writes its own small knowledge base (real YAML, real loader) so the
dates under test are visible next to the assertion.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.__main__ import main
from knowledge.loader import load_knowledge_base
from knowledge.settings import get_settings
from knowledge.validate import check_closed_programmes, check_freshness, check_stale_records

TODAY = dt.date(2026, 12, 7)
SOURCE = "sources: [{url: https://example.eu/src, reliability: official}]"


def programme(record_id: str, verified: str, period: str = "{start: 2021, end: 2027}") -> str:
    return f"""\
- id: {record_id}
  title: {{en: "{record_id}"}}
  summary: {{en: "A programme."}}
  funding_type: direct_grant
  period: {period}
  url: https://example.eu/{record_id}
  {SOURCE}
  last_verified: {verified}
"""


def call(record_id: str, programme_id: str, deadline: str, opening: str | None = None) -> str:
    opening_line = f"  opening_date: {opening}\n" if opening else ""
    return f"""\
- id: {record_id}
  programme: {programme_id}
  title: {{en: "{record_id}"}}
{opening_line}  deadlines:
    - {{date: {deadline}}}
  url: https://example.eu/{record_id}
  {SOURCE}
  last_verified: 2026-12-07
"""


def write_base(tmp_path: Path, programmes: list[str], calls: list[str]) -> Path:
    data = tmp_path / "data"
    (data / "programmes").mkdir(parents=True)
    (data / "calls").mkdir()
    (data / "programmes" / "p.yaml").write_text("".join(programmes), encoding="utf-8")
    (data / "calls" / "c.yaml").write_text("".join(calls) or "[]\n", encoding="utf-8")
    return data


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("KNOWLEDGE_STALE_AFTER_DAYS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_default_age_is_180_days() -> None:
    assert get_settings().stale_after_days == 180


def test_age_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_STALE_AFTER_DAYS", "30")
    get_settings.cache_clear()
    assert get_settings().stale_after_days == 30


def test_zero_days_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_STALE_AFTER_DAYS", "0")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="stale_after_days"):
        get_settings()


def test_stale_boundary_is_exclusive(tmp_path: Path) -> None:
    # 180 days before 2026-12-07 is 2026-06-10: that day is still fresh, the day before is not.
    data = write_base(
        tmp_path,
        [programme("fresh-edge", "2026-06-10"), programme("stale-edge", "2026-06-09")],
        [],
    )
    kb, errors = load_knowledge_base(data)
    assert errors == []
    warnings = check_stale_records(kb, TODAY, 180)
    assert [w.message.split(":")[0] for w in warnings] == ["stale-edge"]
    assert warnings[0].field == "last_verified"
    assert warnings[0].line == 16  # last_verified of the second record (8 lines each)
    assert "181 days ago" in warnings[0].message


def test_stale_records_are_listed_oldest_first(tmp_path: Path) -> None:
    data = write_base(
        tmp_path,
        [programme("b-old", "2024-01-01"), programme("a-older", "2023-01-01")],
        [],
    )
    kb, _ = load_knowledge_base(data)
    ids = [w.message.split(":")[0] for w in check_stale_records(kb, TODAY, 180)]
    assert ids == ["a-older", "b-old"]


def test_programme_whose_latest_call_closed_is_warned(tmp_path: Path) -> None:
    data = write_base(
        tmp_path,
        [programme("prog", "2026-12-07")],
        [call("round-2025", "prog", "2025-04-01"), call("round-2026", "prog", "2026-04-16")],
    )
    kb, _ = load_knowledge_base(data)
    warnings = check_closed_programmes(kb, TODAY)
    assert len(warnings) == 1
    assert "latest call round-2026 closed on 2026-04-16" in warnings[0].message
    assert warnings[0].line == 1  # located at the programme record


@pytest.mark.parametrize(
    ("deadline", "opening"),
    [("2026-12-07", None), ("2027-05-04", "2027-03-02")],
    ids=["open-on-its-deadline-day", "forthcoming"],
)
def test_newer_open_or_forthcoming_call_silences_the_warning(
    tmp_path: Path, deadline: str, opening: str | None
) -> None:
    data = write_base(
        tmp_path,
        [programme("prog", "2026-12-07")],
        [call("old", "prog", "2024-06-06"), call("new", "prog", deadline, opening)],
    )
    kb, _ = load_knowledge_base(data)
    assert check_closed_programmes(kb, TODAY) == []


def test_programme_without_calls_or_with_ended_period_is_not_warned(tmp_path: Path) -> None:
    data = write_base(
        tmp_path,
        [
            programme("no-calls", "2026-12-07"),
            programme("ended", "2026-12-07", period="{start: 2014, end: 2020}"),
        ],
        [call("last-round", "ended", "2019-09-01")],
    )
    kb, _ = load_knowledge_base(data)
    assert check_closed_programmes(kb, TODAY) == []


def test_validate_prints_warnings_and_still_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_base(
        tmp_path,
        [programme("prog", "2025-01-01")],
        [call("round", "prog", "2025-04-01")],
    )
    monkeypatch.chdir(data)
    code = main(["validate", "--data-dir", str(data), "--today", "2026-12-07"])
    out = capsys.readouterr().out
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert lines[0].startswith("warning: programmes/p.yaml:8: last_verified: prog: last verified")
    assert lines[1].startswith("warning: programmes/p.yaml:1: prog: its latest call round")
    assert "2 freshness warning(s)" in out
    assert "OK: no errors." in out


def test_validate_json_lists_warnings_apart_from_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_base(tmp_path, [programme("prog", "2026-11-01")], [])
    code = main(
        ["validate", "--data-dir", str(data), "--json", "--today", "2026-12-07",
         "--stale-after-days", "30"]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["errors"] == []
    assert len(report["warnings"]) == 1
    assert "36 days ago (older than 30 days)" in report["warnings"][0]


def test_warnings_do_not_hide_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_base(
        tmp_path, [programme("prog", "2020-01-01")], [call("x", "missing", "2020-01-01")]
    )
    code = main(["validate", "--data-dir", str(data), "--json", "--today", "2026-12-07"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert any("unknown programme 'missing'" in error for error in report["errors"])
    assert any("prog: last verified 2020-01-01" in warning for warning in report["warnings"])


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--stale-after-days", "0", "0 is not a positive number of days"),
        ("--stale-after-days", "soon", "'soon' is not a whole number of days"),
        ("--today", "2026-13-01", "'2026-13-01' is not a date (YYYY-MM-DD)"),
    ],
)
def test_bad_flags_get_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--data-dir", str(tmp_path), flag, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_check_freshness_combines_both_kinds(tmp_path: Path) -> None:
    data = write_base(
        tmp_path, [programme("prog", "2025-01-01")], [call("r", "prog", "2025-02-01")]
    )
    kb, _ = load_knowledge_base(data)
    messages = [w.message for w in check_freshness(kb, TODAY, 180)]
    assert len(messages) == 2
    assert "last verified" in messages[0]
    assert "latest call r closed" in messages[1]


def test_shipped_data_has_no_stale_record_today() -> None:
    """The shipped records were checked in the last 180 days (re-check them when this fails)."""
    kb, errors = load_knowledge_base(get_settings().data_dir)
    assert errors == []
    assert check_stale_records(kb, TODAY, 180) == []
