"""Shared fixture data for knowledge and indexer tests.

The valid base lives in tests/fixtures/knowledge/valid; each broken case adds
one file to a copy of it, so exactly one error kind is present per case.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

VALID_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge" / "valid"

SOURCE = "sources: [{url: https://example.eu/src, reliability: official}]"


def copy_valid_base(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(VALID_DIR, target)
    return target


@dataclass(frozen=True)
class BrokenCase:
    name: str
    relpath: str
    content: str | bytes
    expected: str  # expected start of the error line, relative to the data dir

    def write(self, base: Path) -> Path:
        path = base / self.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(self.content, bytes):
            path.write_bytes(self.content)
        else:
            path.write_text(self.content, encoding="utf-8")
        return path


BROKEN_CASES = [
    BrokenCase(
        "unknown_field",
        "programmes/bad.yaml",
        f"""\
- id: bad-programme
  title: {{en: Bad}}
  summary: {{en: Bad.}}
  funding_type: direct_grant
  fundng_rate: {{max_percent: 80}}
  url: https://example.eu/bad
  {SOURCE}
  last_verified: 2026-11-23
""",
        "programmes/bad.yaml:5: fundng_rate: unknown field (did you mean funding_rate?)",
    ),
    BrokenCase(
        "wrong_type",
        "practices/bad.yaml",
        f"""\
- id: bad-practice
  title: {{en: Bad}}
  city: Split
  country: HR
  summary: {{en: Bad.}}
  year_started: long ago
  url: https://example.eu/bad
  {SOURCE}
  last_verified: 2026-11-23
""",
        "practices/bad.yaml:6: year_started: expected a whole number, got the text 'long ago'",
    ),
    BrokenCase(
        "bad_date",
        "programmes/bad.yaml",
        f"""\
- id: bad-programme
  title: {{en: Bad}}
  summary: {{en: Bad.}}
  funding_type: direct_grant
  url: https://example.eu/bad
  {SOURCE}
  last_verified: 2026-02-30
""",
        "programmes/bad.yaml:7: last_verified: '2026-02-30' is not a valid date; "
        "write it as YYYY-MM-DD",
    ),
    BrokenCase(
        "deadline_before_opening",
        "calls/cerv-bad.yaml",
        f"""\
- id: bad-call
  programme: cerv
  title: {{en: Bad call}}
  opening_date: 2024-03-05
  deadlines:
    - date: 2024-01-01
  url: https://example.eu/bad
  {SOURCE}
  last_verified: 2026-11-23
""",
        "calls/cerv-bad.yaml:6: deadlines[0].date: "
        "deadline 2024-01-01 is before opening_date 2024-03-05",
    ),
    BrokenCase(
        "dead_reference",
        "calls/cerv-bad.yaml",
        f"""\
- id: bad-call
  programme: cerv-town-twining
  title: {{en: Bad call}}
  deadlines: [{{date: 2024-01-01}}]
  url: https://example.eu/bad
  {SOURCE}
  last_verified: 2026-11-23
""",
        "calls/cerv-bad.yaml:2: programme: "
        "unknown programme 'cerv-town-twining' (did you mean cerv-town-twinning?)",
    ),
    BrokenCase(
        "duplicate_id",
        "glossary/more.yaml",
        f"""\
# a second definition of an existing term
- id: lump-sum
  terms: {{en: lump sum}}
  definition: {{en: Again.}}
  {SOURCE}
  last_verified: 2026-11-23
""",
        "glossary/more.yaml:2: id: duplicate id 'lump-sum' (also defined at glossary/terms.yaml:9)",
    ),
    BrokenCase(
        "malformed_url",
        "events/bad.yaml",
        f"""\
- id: bad-event
  kind: event
  title: {{en: Bad}}
  summary: {{en: Bad.}}
  url: "https//example.eu/bad"
  {SOURCE}
  last_verified: 2026-11-23
""",
        "events/bad.yaml:5: url: 'https//example.eu/bad' is not a valid URL: "
        "it must start with https:// or http://",
    ),
    BrokenCase(
        "missing_sources",
        "contacts/bad.yaml",
        """\
- id: bad-contact
  organisation: Nobody
  email: nobody@example.eu
  sources: []
  last_verified: 2026-11-23
""",
        "contacts/bad.yaml:4: sources: no sources: every record needs at least one source",
    ),
    BrokenCase(
        "non_utf8",
        "glossary/latin1.yaml",
        "- id: cafe\n  terms: {en: café}\n".encode("latin-1"),
        "glossary/latin1.yaml:2: file is not valid UTF-8 (byte 0xe9 at column 18)",
    ),
    BrokenCase(
        "yaml_syntax",
        "events/broken.yaml",
        """\
- id: broken-event
  title: {en: "Unclosed
  kind: event
""",
        "events/broken.yaml:4: YAML syntax error:",
    ),
]
