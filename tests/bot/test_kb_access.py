"""The action server sees a newly published portal import without a restart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import kb_access
from knowledge.settings import get_settings

# Synthetic test data (never shipped): a call the curated records do not have.
IMPORTED_CALL = """\
- id: ftportal-test-2099-twinning
  programme: cerv
  call_id: CERV-2099-TEST-TT
  title: {{en: "{title}"}}
  opening_date: 2099-01-10
  deadlines:
    - {{date: 2099-09-23, time: "17:00", timezone: Europe/Brussels}}
  url: https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/cerv-2099-test-tt
  sources:
    - url: https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/cerv-2099-test-tt
      reliability: official
  source: ftportal
  fetched_at: 2099-01-11T06:00:00+00:00
  last_verified: 2099-01-11
"""


@pytest.fixture
def import_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("KNOWLEDGE_IMPORT_DIR", str(tmp_path))
    get_settings.cache_clear()
    kb_access.forget_knowledge_base()
    yield tmp_path
    get_settings.cache_clear()
    kb_access.forget_knowledge_base()


def publish(import_dir: Path, title: str) -> None:
    """Write the import as the importer does: a new file moved into place."""
    staged = import_dir / "calls.yaml.tmp"
    staged.write_text(IMPORTED_CALL.format(title=title), encoding="utf-8")
    os.replace(staged, import_dir / "calls.yaml")


def test_a_new_import_is_loaded_on_the_next_call(import_dir: Path) -> None:
    before = kb_access.get_knowledge_base()
    assert "ftportal-test-2099-twinning" not in before.calls
    assert kb_access.get_knowledge_base() is before, "unchanged data is not loaded again"

    publish(import_dir, "Town twinning 2099")
    first = kb_access.get_knowledge_base()
    assert first.calls["ftportal-test-2099-twinning"].title.en == "Town twinning 2099"

    publish(import_dir, "Town twinning 2099, second round")
    second = kb_access.get_knowledge_base()
    assert second.calls["ftportal-test-2099-twinning"].title.en.endswith("second round")


def test_a_removed_import_leaves_only_the_curated_records(import_dir: Path) -> None:
    publish(import_dir, "Town twinning 2099")
    assert "ftportal-test-2099-twinning" in kb_access.get_knowledge_base().calls
    (import_dir / "calls.yaml").unlink()
    assert "ftportal-test-2099-twinning" not in kb_access.get_knowledge_base().calls
