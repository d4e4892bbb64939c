"""The dashboard's list of aged records: the same warnings as `indexer validate`."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.api.freshness import freshness_report
from knowledge.settings import get_settings
from participation.service import ParticipationService
from tests.channels.operator_accounts import (  # noqa: F401 (an autouse fixture)
    cheap_password_hashing,
    make_operator,
    sign_in,
)

FIXTURE_KB = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge" / "valid"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the small fixture knowledge base as the configured data."""
    copy = tmp_path / "data"
    shutil.copytree(FIXTURE_KB, copy)
    monkeypatch.setenv("KNOWLEDGE_DATA_DIR", str(copy))
    monkeypatch.setenv("KNOWLEDGE_IMPORT_DIR", str(tmp_path / "no-import"))
    monkeypatch.setenv("KNOWLEDGE_STALE_AFTER_DAYS", "30")
    get_settings.cache_clear()
    yield copy
    get_settings.cache_clear()


def test_records_older_than_the_setting_are_listed_with_their_file(data_dir: Path) -> None:
    report = freshness_report(dt.date(2027, 6, 1))
    assert report.stale_after_days == 30
    stale = [w for w in report.warnings if "last verified" in w.message]
    assert stale, report
    assert all(w.field == "last_verified" and w.line for w in stale)
    assert all(w.file.startswith("data/") and w.file.endswith(".yaml") for w in stale)


def test_nothing_is_stale_the_day_after_the_check(data_dir: Path) -> None:
    report = freshness_report(dt.date(2026, 11, 24))
    assert [w for w in report.warnings if "last verified" in w.message] == []


def test_editors_see_the_list_and_operators_do_not(
    data_dir: Path, client_without_rasa: TestClient, store: ParticipationService
) -> None:
    make_operator(store, "editor-zg", ["editor"], cities=["Zagreb"])
    make_operator(store, "operator-zg", ["operator"], cities=["Zagreb"])
    sign_in(client_without_rasa, "editor-zg")
    listed = client_without_rasa.get("/admin/api/freshness")
    assert listed.status_code == 200, listed.text
    assert set(listed.json()) == {"checked_on", "stale_after_days", "warnings"}
    assert listed.json()["stale_after_days"] == 30
    client_without_rasa.cookies.clear()
    sign_in(client_without_rasa, "operator-zg")
    assert client_without_rasa.get("/admin/api/freshness").status_code == 403
