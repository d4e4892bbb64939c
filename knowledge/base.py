"""The in-memory knowledge base and the errors found while building it.

Kept apart from the loader so that the cross-record checks in
``knowledge.validate`` can use these types without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.schema import (
    RECORD_TYPES,
    AnyRecord,
    Call,
    Contact,
    Event,
    GlossaryTerm,
    Loc,
    Practice,
    Programme,
    Record,
    RecordType,
)


def display_path(path: Path, base: Path | None = None) -> str:
    """Show ``path`` relative to ``base`` (default: cwd) when it lies below it.

    Editors click on ``programmes/x.yaml:4`` in their terminal; absolute paths
    are kept for files elsewhere.
    """
    root = (base or Path.cwd()).resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(root):
        return str(resolved.relative_to(root))
    return str(path)


def format_loc(loc: Loc) -> str:
    """Render a field path like ``deadlines[0].date`` for editors."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class KnowledgeError:
    """One problem in the data, located as precisely as possible."""

    path: Path
    line: int | None
    field: str | None
    message: str

    def format(self, base: Path | None = None) -> str:
        """Render as ``path:line: field: message`` (parts omitted when unknown).

        Args:
            base: Directory paths are shown relative to (default: cwd).
        """
        parts = [display_path(self.path, base)]
        if self.line is not None:
            parts.append(str(self.line))
        if self.field:
            parts.append(f" {self.field}")
        parts.append(f" {self.message}")
        return ":".join(parts)

    def __str__(self) -> str:
        return self.format()


class KnowledgeBaseError(Exception):
    """Raised by a strict load; lists every error, not just the first."""

    def __init__(self, errors: list[KnowledgeError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"{len(self.errors)} error(s) in the knowledge base:\n{lines}")


@dataclass(frozen=True)
class RecordLocation:
    """Where a record and each of its fields were written."""

    path: Path
    line: int
    fields: Mapping[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of the deepest written field on ``loc``, else of the record.

        Missing fields have no line, so they resolve to their parent.
        """
        for end in range(len(loc), 0, -1):
            line = self.fields.get(loc[:end])
            if line is not None:
                return line
        return self.line

    def error(self, loc: Loc, message: str) -> KnowledgeError:
        """Build an error about the field at ``loc`` of this record."""
        return KnowledgeError(self.path, self.line_of(loc), format_loc(loc) or None, message)


@dataclass
class KnowledgeBase:
    """All valid records, per type and by id, with where they were read."""

    programmes: dict[str, Programme] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)
    practices: dict[str, Practice] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    glossary: dict[str, GlossaryTerm] = field(default_factory=dict)
    locations: dict[str, RecordLocation] = field(default_factory=dict)
    rejected: dict[str, RecordType] = field(default_factory=dict)
    """Ids of records that failed validation (already reported as errors)."""

    def of_type(self, record_type: RecordType) -> Mapping[str, Record]:
        """Records of one type by id, for code that handles every type alike."""
        tables: dict[RecordType, Mapping[str, Record]] = {
            "programme": self.programmes,
            "call": self.calls,
            "practice": self.practices,
            "event": self.events,
            "contact": self.contacts,
            "glossary": self.glossary,
        }
        return tables[record_type]

    def add(self, record: AnyRecord, location: RecordLocation) -> None:
        """Store a validated record under its id (the caller checks uniqueness)."""
        if isinstance(record, Programme):
            self.programmes[record.id] = record
        elif isinstance(record, Call):
            self.calls[record.id] = record
        elif isinstance(record, Practice):
            self.practices[record.id] = record
        elif isinstance(record, Event):
            self.events[record.id] = record
        elif isinstance(record, Contact):
            self.contacts[record.id] = record
        else:
            self.glossary[record.id] = record
        self.locations[record.id] = location

    def get(self, record_id: str) -> Record | None:
        """Find a record of any type by id."""
        for record_type in RECORD_TYPES:
            record = self.of_type(record_type).get(record_id)
            if record is not None:
                return record
        return None

    def type_of(self, record_id: str) -> RecordType | None:
        """Type of the record with this id, valid or rejected, or None."""
        record = self.get(record_id)
        if record is not None:
            return record.record_type
        return self.rejected.get(record_id)

    def records(self) -> Iterator[Record]:
        """Iterate over every valid record, type by type."""
        for record_type in RECORD_TYPES:
            yield from self.of_type(record_type).values()

    def __len__(self) -> int:
        return sum(len(self.of_type(record_type)) for record_type in RECORD_TYPES)
