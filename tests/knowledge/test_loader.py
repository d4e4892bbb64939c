from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBaseError, RecordLocation
from knowledge.loader import load_knowledge_base, read_records
from knowledge.settings import KnowledgeSettings, default_data_dir, get_settings
from tests.knowledge.kbfixtures import BROKEN_CASES, SOURCE, BrokenCase, copy_valid_base


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the valid base; cwd is the data dir so paths print relative to it."""
    data = copy_valid_base(tmp_path)
    monkeypatch.chdir(data)
    return data


def error_lines(data_dir: Path) -> list[str]:
    _, errors = load_knowledge_base(data_dir)
    return [error.format() for error in errors]


def write(data_dir: Path, relpath: str, text: str) -> Path:
    path = data_dir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_valid_base_loads_without_errors(base: Path) -> None:
    kb, errors = load_knowledge_base(base)
    assert errors == []
    assert len(kb.programmes) == 2
    assert set(kb.calls) == {"cerv-2026-citizens-town-tt"}
    assert len(kb) == 10
    assert kb.get("co-financing") is kb.glossary["co-financing"]
    assert kb.type_of("cerv") == "programme"
    assert kb.get("missing") is None


def test_yaml_1_1_pitfalls_are_avoided(base: Path) -> None:
    kb, _ = load_knowledge_base(base)
    assert kb.practices["oslo-example"].country == "NO"  # not False
    deadline = kb.calls["cerv-2026-citizens-town-tt"].deadlines[1]
    assert deadline.time == "17:00"  # unquoted, not the sexagesimal int 1020


def test_locations_track_record_and_field_lines(base: Path) -> None:
    kb, _ = load_knowledge_base(base)
    location = kb.locations["cerv-town-twinning"]
    assert location.path == base / "programmes" / "cerv.yaml"
    assert location.line == 21
    assert location.line_of(("parent",)) == 22
    assert location.line_of(("funding_rate", "max_percent")) == 27
    assert location.line_of(("funding_rate", "no_such_field")) == 26  # falls back to parent
    assert location.line_of(("sources", 0, "note")) == 35
    assert location.line_of(("not_written",)) == 21  # falls back to the record


@pytest.mark.parametrize("case", BROKEN_CASES, ids=lambda case: case.name)
def test_each_broken_case_is_reported_with_file_line_and_field(
    base: Path, case: BrokenCase
) -> None:
    case.write(base)
    lines = error_lines(base)
    assert any(line.startswith(case.expected) for line in lines), lines
    expected_count = 2 if case.name == "duplicate_id" else 1
    assert len(lines) == expected_count, lines


def test_duplicate_id_reports_both_locations(base: Path) -> None:
    (case,) = [c for c in BROKEN_CASES if c.name == "duplicate_id"]
    case.write(base)
    assert error_lines(base) == [
        "glossary/more.yaml:2: id: duplicate id 'lump-sum' (also defined at glossary/terms.yaml:9)",
        "glossary/terms.yaml:9: id: duplicate id 'lump-sum' (also defined at glossary/more.yaml:2)",
    ]


def test_first_of_duplicate_ids_in_file_order_is_kept(base: Path) -> None:
    (case,) = [c for c in BROKEN_CASES if c.name == "duplicate_id"]
    case.write(base)
    kb, _ = load_knowledge_base(base)
    # glossary/more.yaml sorts before glossary/terms.yaml, whose version has hr
    assert kb.glossary["lump-sum"].terms.get("hr") == ("lump sum", "en")
    assert kb.locations["lump-sum"].path.name == "more.yaml"


def test_invalid_record_is_reported_not_silently_dropped(base: Path) -> None:
    write(
        base,
        "practices/two.yaml",
        f"""\
        - id: good-practice
          title: {{en: Good}}
          city: Split
          country: HR
          summary: {{en: Good.}}
          url: https://example.eu/good
          {SOURCE}
          last_verified: 2026-11-23
        - id: bad-practice
          title: {{en: Bad}}
          city: Split
          country: HR
          url: https://example.eu/bad
          {SOURCE}
          last_verified: 2026-11-23
        """,
    )
    kb, errors = load_knowledge_base(base)
    assert "good-practice" in kb.practices
    assert "bad-practice" not in kb.practices
    assert kb.rejected == {"bad-practice": "practice"}
    assert [e.format() for e in errors] == [
        "practices/two.yaml:9: summary: required field is missing"
    ]


def test_reference_to_rejected_record_is_not_reported_twice(base: Path) -> None:
    write(
        base,
        "programmes/broken.yaml",
        """\
        - id: broken-programme
          title: {en: Broken}
        """,
    )
    write(
        base,
        "practices/ref.yaml",
        f"""\
        - id: ref-practice
          title: {{en: Ref}}
          city: Split
          country: HR
          summary: {{en: Ref.}}
          funded_by: [cerv, broken-programme, cerv-2026-citizens-town-tt, nope]
          url: https://example.eu/ref
          {SOURCE}
          last_verified: 2026-11-23
        """,
    )
    lines = error_lines(base)
    assert (
        "practices/ref.yaml:6: funded_by[2]: 'cerv-2026-citizens-town-tt' is a call, "
        "not a programme" in lines
    )
    assert "practices/ref.yaml:6: funded_by[3]: unknown programme 'nope'" in lines
    assert not any("broken-programme'" in line for line in lines if "funded_by" in line)


def test_dead_parent_and_parent_loop(base: Path) -> None:
    write(
        base,
        "programmes/loop.yaml",
        f"""\
        - id: loop-a
          parent: loop-b
          title: {{en: A}}
          summary: {{en: A.}}
          funding_type: prize
          url: https://example.eu/a
          {SOURCE}
          last_verified: 2026-11-23
        - id: loop-b
          parent: loop-a
          title: {{en: B}}
          summary: {{en: B.}}
          funding_type: prize
          url: https://example.eu/b
          {SOURCE}
          last_verified: 2026-11-23
        - id: orphan
          parent: cerw
          title: {{en: O}}
          summary: {{en: O.}}
          funding_type: label
          url: https://example.eu/o
          {SOURCE}
          last_verified: 2026-11-23
        """,
    )
    assert error_lines(base) == [
        "programmes/loop.yaml:2: parent: parent loop: loop-a -> loop-b -> loop-a",
        "programmes/loop.yaml:10: parent: parent loop: loop-b -> loop-a -> loop-b",
        "programmes/loop.yaml:18: parent: unknown programme 'cerw' (did you mean cerv?)",
    ]


def test_editor_friendly_messages(base: Path) -> None:
    write(
        base,
        "calls/messages.yaml",
        f"""\
        - id: Bad_Id
          programme: cerv
          title: {{en: T, en-GB: T}}
          call_id: 2026
          deadlines:
            - {{date: 2026-01-01, time: "5pm", timezone: CET}}
          budget: {{amount: 100, currency: EUR, source: https://example.eu}}
          grant_size: {{min: 9, max: 1}}
          url: https://example.eu
          {SOURCE}
          last_verified: 2026-11-23
          programme: cerv-town-twinning
        """,
    )
    lines = error_lines(base)
    assert lines == [
        "calls/messages.yaml:1: id: 'Bad_Id' is not a valid id: use lowercase letters, digits "
        "and single hyphens (e.g. cerv-town-twinning)",
        "calls/messages.yaml:3: title: 'en-GB' is not an EU language code; use 'en'",
        "calls/messages.yaml:4: call_id: expected text, got the number 2026 (put it in quotes)",
        "calls/messages.yaml:6: deadlines[0].time: '5pm' is not a time; "
        'write it as "HH:MM" (24-hour, quoted)',
        "calls/messages.yaml:6: deadlines[0].timezone: 'CET' is not a time zone name; "
        "use e.g. Europe/Brussels",
        "calls/messages.yaml:8: grant_size.max: min 9 is larger than max 1",
        "calls/messages.yaml:12: programme: field repeated (first on line 2)",
    ]


def test_vocabulary_error_suggests_or_lists_allowed_values(base: Path) -> None:
    write(
        base,
        "events/vocab.yaml",
        f"""\
        - id: vocab-event
          kind: meeting
          title: {{en: V}}
          summary: {{en: V.}}
          languages: [en, no]
          url: https://example.eu
          {SOURCE}
          last_verified: 2026-11-23
        - id: vocab-practice-like
          kind: forums
          title: {{en: V}}
          summary: {{en: V.}}
          url: https://example.eu
          {SOURCE}
          last_verified: 2026-11-23
        """,
    )
    assert error_lines(base) == [
        "events/vocab.yaml:2: kind: 'meeting' is not an allowed value; "
        "allowed: event, participation, forum",
        "events/vocab.yaml:5: languages[1]: 'no' is not an EU language code "
        "(allowed: bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv)",
        "events/vocab.yaml:10: kind: 'forums' is not an allowed value (did you mean forum?)",
    ]


@pytest.mark.parametrize(
    ("relpath", "text", "expected"),
    [
        (
            "glossary/single.yaml",
            "id: not-a-list\n",
            "glossary/single.yaml:1: the file must hold a YAML list of records",
        ),
        (
            "glossary/scalar-item.yaml",
            "- just text\n",
            "glossary/scalar-item.yaml:1: each record must be a mapping",
        ),
        ("glossary/old.yml", "[]\n", "glossary/old.yml: rename the file to .yaml"),
        ("programme/x.yaml", "[]\n", "programme: unknown folder 'programme'"),
    ],
)
def test_file_level_problems(base: Path, relpath: str, text: str, expected: str) -> None:
    write(base, relpath, text)
    lines = error_lines(base)
    assert len(lines) == 1
    assert lines[0].startswith(expected), lines


def test_empty_file_is_not_an_error(base: Path) -> None:
    write(base, "events/empty.yaml", "# nothing yet\n")
    assert error_lines(base) == []


def test_bad_date_does_not_crash_the_yaml_parser(base: Path) -> None:
    path = write(base, "glossary/date.yaml", "- id: x\n  last_verified: 2026-13-45\n")
    records, errors = read_records(path, "glossary")
    assert errors == []
    assert records[0].data["last_verified"] == "2026-13-45"


def test_strict_load_raises_with_all_errors(base: Path) -> None:
    for case in BROKEN_CASES[:3]:
        case.write(base)
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(base, strict=True)
    assert len(info.value.errors) == 2  # unknown_field and bad_date overwrite the same file
    assert "practices/bad.yaml:6: year_started" in str(info.value)


def test_strict_load_of_valid_base_returns_no_errors(base: Path) -> None:
    kb, errors = load_knowledge_base(base, strict=True)
    assert errors == []
    assert len(kb) == 10


def test_missing_data_dir_is_an_error(tmp_path: Path) -> None:
    kb, errors = load_knowledge_base(tmp_path / "nope")
    assert len(kb) == 0
    assert [e.message for e in errors] == ["data directory does not exist"]


def test_settings_default_and_env_override(base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KNOWLEDGE_DATA_DIR", raising=False)
    assert KnowledgeSettings().data_dir == default_data_dir()
    assert default_data_dir() == Path(__file__).resolve().parents[2] / "knowledge" / "data"
    monkeypatch.setenv("KNOWLEDGE_DATA_DIR", str(base))
    get_settings.cache_clear()
    try:
        assert get_settings().data_dir == base
        kb, errors = load_knowledge_base()
        assert errors == []
        assert len(kb) == 10
    finally:
        get_settings.cache_clear()


def test_record_location_without_fields_uses_record_line() -> None:
    location = RecordLocation(Path("x.yaml"), 7)
    assert location.error(("a", 0), "m").format(Path("/nonexistent")) == "x.yaml:7: a[0]: m"


def test_knowledge_does_not_import_app_packages() -> None:
    code = (
        "import sys, knowledge.loader, knowledge.validate, knowledge.settings\n"
        "apps = {'bot', 'channels', 'indexer'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in apps)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_yaml_file_outside_type_folders_is_reported(base: Path) -> None:
    write(base, "stray.yaml", "[]\n")
    assert error_lines(base) == [
        "stray.yaml: move the file into a type folder (programmes/, calls/, ...)"
    ]
