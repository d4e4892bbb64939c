"""Load the YAML records of ``knowledge/data`` into a typed :class:`KnowledgeBase`.

Every problem is reported as ``file:line: field: message`` and loading goes on,
so an editor sees all the errors of a run at once. Records that fail validation
are left out of the knowledge base but are always reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import ValidationError

from knowledge.base import (
    KnowledgeBase,
    KnowledgeBaseError,
    KnowledgeError,
    RecordLocation,
    display_path,
    format_loc,
)
from knowledge.messages import editor_message, suggest
from knowledge.schema import (
    RECORD_MODELS,
    TYPE_FOLDERS,
    AnyRecord,
    FieldError,
    Loc,
    RecordType,
)
from knowledge.settings import get_settings
from knowledge.validate import check_knowledge_base

__all__ = [
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeError",
    "RawRecord",
    "RecordLocation",
    "load_knowledge_base",
    "merge_import",
    "read_import",
    "read_records",
]

_FOLDER_TYPES: Final[dict[str, RecordType]] = {
    folder: record_type for record_type, folder in TYPE_FOLDERS.items()
}


# --------------------------------------------------------------------------- YAML reading


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-like scalars, so data means what an editor expects.

    PyYAML follows YAML 1.1, where ``NO`` (Norway) is false, ``17:00`` is the
    integer 1020 and a bad date crashes the parser. Here only true/false are
    booleans, times stay text and dates are left to the schema to validate.
    """


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    """Safe loader with the resolver above."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


@dataclass(frozen=True)
class RawRecord:
    """A record as parsed from YAML, before schema validation."""

    record_type: RecordType
    data: dict[str, Any]
    location: RecordLocation

    @property
    def id(self) -> str | None:
        """The written id if it is a string (used even when invalid)."""
        value = self.data.get("id")
        return value if isinstance(value, str) else None


def _decode(path: Path, raw: bytes) -> tuple[str | None, KnowledgeError | None]:
    """Decode UTF-8 (with or without BOM), locating the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        message = (
            f"file is not valid UTF-8 (byte 0x{byte:02x} at column {column}); "
            "save it with UTF-8 encoding"
        )
        return None, KnowledgeError(path, line, None, message)


def _yaml_error(path: Path, exc: yaml.YAMLError) -> KnowledgeError:
    """Turn a PyYAML exception into an error with the line of the problem."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            detail = f"{exc.context}: {exc.problem}"
        return KnowledgeError(path, line, None, f"YAML syntax error: {detail}")
    return KnowledgeError(path, None, None, f"YAML error: {exc}")


def _map_lines(
    node: yaml.Node,
    path: Loc,
    lines: dict[Loc, int],
    duplicates: list[tuple[Loc, int, int]],
    active: set[int],
) -> None:
    """Record the line of every mapping key and sequence item under ``node``."""
    if id(node) in active:  # recursive anchors
        return
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            loc = (*path, str(key_node.value))
            line = key_node.start_mark.line + 1
            if loc in lines:
                duplicates.append((loc, line, lines[loc]))
            else:
                lines[loc] = line
            _map_lines(value_node, loc, lines, duplicates, active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            loc = (*path, index)
            lines[loc] = item.start_mark.line + 1
            _map_lines(item, loc, lines, duplicates, active)
    active.discard(id(node))


def _read_item(
    loader: _Loader, path: Path, record_type: RecordType, node: yaml.Node
) -> tuple[RawRecord | None, list[KnowledgeError]]:
    """Convert one list item to a raw record with its line map."""
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        message = "each record must be a mapping of fields (id: ..., title: ...)"
        return None, [KnowledgeError(path, line, None, message)]
    lines: dict[Loc, int] = {}
    duplicates: list[tuple[Loc, int, int]] = []
    _map_lines(node, (), lines, duplicates, set())
    errors = [
        KnowledgeError(path, dup_line, format_loc(loc), f"field repeated (first on line {first})")
        for loc, dup_line, first in duplicates
    ]
    try:
        data = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, TypeError, ValueError) as exc:
        detail = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)
        return None, [*errors, KnowledgeError(path, line, None, f"cannot read record: {detail}")]
    location = RecordLocation(path, line, lines)
    return RawRecord(record_type, data, location), errors


def _parse(
    path: Path, text: str, record_type: RecordType
) -> tuple[list[RawRecord], list[KnowledgeError]]:
    """Parse the YAML text of one file into raw records."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return [], []
        if not isinstance(root, yaml.SequenceNode):
            message = "the file must hold a YAML list of records (start each one with '- id: ...')"
            return [], [KnowledgeError(path, root.start_mark.line + 1, None, message)]
        records: list[RawRecord] = []
        errors: list[KnowledgeError] = []
        for item in root.value:
            record, item_errors = _read_item(loader, path, record_type, item)
            errors.extend(item_errors)
            if record is not None:
                records.append(record)
        return records, errors
    except yaml.YAMLError as exc:
        return [], [_yaml_error(path, exc)]
    finally:
        loader.dispose()


def read_records(
    path: Path, record_type: RecordType
) -> tuple[list[RawRecord], list[KnowledgeError]]:
    """Read one YAML file of records without validating them.

    Args:
        path: The ``.yaml`` file.
        record_type: The type its folder stands for.

    Returns:
        The raw records and the encoding or syntax errors found.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [KnowledgeError(path, None, None, f"cannot read file: {exc.strerror}")]
    text, error = _decode(path, raw)
    if text is None:
        return [], [error] if error else []
    return _parse(path, text, record_type)


def _validation_errors(exc: ValidationError, raw: RawRecord) -> list[KnowledgeError]:
    """Convert a pydantic ValidationError into located editor messages."""
    model = RECORD_MODELS[raw.record_type]
    errors: list[KnowledgeError] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            loc = (*loc, *cause.path)
        errors.append(raw.location.error(loc, editor_message(error, model, loc)))
    return errors


# --------------------------------------------------------------------------- knowledge base


def validate_record(raw: RawRecord) -> tuple[AnyRecord | None, list[KnowledgeError]]:
    """Validate one raw record against the model of its type.

    Returns:
        The record (None if invalid) and its located errors.
    """
    model = RECORD_MODELS[raw.record_type]
    try:
        record = model.model_validate(raw.data)
    except ValidationError as exc:
        return None, _validation_errors(exc, raw)
    return record, []


def _data_files(data_dir: Path) -> tuple[list[tuple[Path, RecordType]], list[KnowledgeError]]:
    """List the record files to load and flag files that would be ignored."""
    files: list[tuple[Path, RecordType]] = []
    errors = [
        KnowledgeError(
            path, None, None, "move the file into a type folder (programmes/, calls/, ...)"
        )
        for path in sorted([*data_dir.glob("*.yaml"), *data_dir.glob("*.yml")])
    ]
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        record_type = _FOLDER_TYPES.get(folder.name)
        yaml_files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        if record_type is None:
            if yaml_files:
                hint = suggest(folder.name, _FOLDER_TYPES)
                message = f"unknown folder {folder.name!r}, its files are ignored{hint}"
                errors.append(KnowledgeError(folder, None, None, message))
            continue
        for path in yaml_files:
            if path.suffix == ".yml":
                errors.append(KnowledgeError(path, None, None, "rename the file to .yaml"))
            else:
                files.append((path, record_type))
    return files, errors


def _duplicate_errors(raws: list[RawRecord]) -> list[KnowledgeError]:
    """Report every occurrence of an id used more than once, naming the others."""
    seen: dict[str, list[RawRecord]] = {}
    for raw in raws:
        if raw.id is not None:
            seen.setdefault(raw.id, []).append(raw)
    errors: list[KnowledgeError] = []
    for record_id, group in seen.items():
        if len(group) < 2:
            continue
        places = [f"{display_path(r.location.path)}:{r.location.line_of(('id',))}" for r in group]
        for index, raw in enumerate(group):
            others = ", ".join(p for i, p in enumerate(places) if i != index)
            message = f"duplicate id {record_id!r} (also defined at {others})"
            errors.append(raw.location.error(("id",), message))
    return errors


def build_knowledge_base(raws: list[RawRecord]) -> tuple[KnowledgeBase, list[KnowledgeError]]:
    """Validate raw records into a knowledge base, keeping the first of duplicate ids."""
    kb = KnowledgeBase()
    errors = _duplicate_errors(raws)
    for raw in raws:
        record, record_errors = validate_record(raw)
        errors.extend(record_errors)
        if record is None:
            if raw.id is not None:
                kb.rejected.setdefault(raw.id, raw.record_type)
        elif record.id not in kb.locations:
            kb.add(record, raw.location)
    errors.extend(check_knowledge_base(kb))
    return kb, errors


def _sort_key(error: KnowledgeError) -> tuple[str, int]:
    return str(error.path), error.line or 0


def load_knowledge_base(
    data_dir: Path | None = None,
    *,
    strict: bool = False,
    import_dir: Path | Literal["configured"] | None = "configured",
) -> tuple[KnowledgeBase, list[KnowledgeError]]:
    """Load and validate every record under the data directory, plus the call import.

    Args:
        data_dir: Folder holding ``programmes/``, ``calls/``, ...; defaults to
            ``get_settings().data_dir``.
        strict: Raise instead of returning errors.
        import_dir: Folder of an import (``calls.yaml``, written by
            ``python -m indexer import-calls``), or None for curated records only.
            By default ``get_settings().import_dir`` is read when ``data_dir`` is
            the configured data directory, so a copy of the data (tests, an
            editor's checkout) never picks up this machine's import.

    Returns:
        The knowledge base (valid records only) and every error, sorted by
        file and line.

    Raises:
        KnowledgeBaseError: With ``strict=True``, if there is any error.
    """
    settings = get_settings()
    root = data_dir if data_dir is not None else settings.data_dir
    imports = _import_dir(root, import_dir, settings.data_dir, settings.import_dir)
    kb, errors = _load_directory(root, imports)
    errors.sort(key=_sort_key)
    if strict and errors:
        raise KnowledgeBaseError(errors)
    return kb, errors


def _import_dir(
    root: Path,
    requested: Path | Literal["configured"] | None,
    configured_data: Path,
    configured: Path,
) -> Path | None:
    """The import folder to read: the one asked for, or the configured one for its data."""
    if requested != "configured":
        return requested
    same_data = root.resolve() == configured_data.resolve()
    return configured if same_data else None


def _load_directory(
    root: Path, import_dir: Path | None = None
) -> tuple[KnowledgeBase, list[KnowledgeError]]:
    """Read, validate and cross-check every record file under ``root`` (and the import)."""
    if not root.is_dir():
        return KnowledgeBase(), [KnowledgeError(root, None, None, "data directory does not exist")]
    files, errors = _data_files(root)
    raws: list[RawRecord] = []
    for path, record_type in files:
        file_records, file_errors = read_records(path, record_type)
        raws.extend(file_records)
        errors.extend(file_errors)
    if import_dir is not None:
        imported, import_errors = read_import(import_dir)
        raws.extend(merge_import(raws, imported))
        errors.extend(import_errors)
    kb, record_errors = build_knowledge_base(raws)
    return kb, errors + record_errors


# --------------------------------------------------------------------------- imported calls

IMPORT_CALLS_FILE: Final[str] = "calls.yaml"
"""File of an import folder that holds its Call records (same YAML as knowledge/data)."""


def read_import(import_dir: Path) -> tuple[list[RawRecord], list[KnowledgeError]]:
    """Read the calls of an import folder; a folder without an import is no error.

    Args:
        import_dir: E.g. ``var/imports/ftportal``.

    Returns:
        The raw call records and the encoding or syntax errors of the file.
    """
    path = import_dir / IMPORT_CALLS_FILE
    if not path.is_file():
        return [], []
    return read_records(path, "call")


def _call_identifier(raw: RawRecord) -> str | None:
    value = raw.data.get("call_id")
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def merge_import(curated: list[RawRecord], imported: list[RawRecord]) -> list[RawRecord]:
    """The imported records that do not clash with a curated one.

    Curated records win: an imported record is left out when a curated record
    has its id, or a curated call has its call identifier (case-insensitive),
    since an editor checked that record by hand. An imported call whose programme
    is no longer curated is left out too (the next import maps it again), so a
    renamed programme never blocks a build.
    """
    ids = {raw.id for raw in curated if raw.id is not None}
    programmes = {raw.id for raw in curated if raw.record_type == "programme"}
    identifiers = {
        identifier
        for raw in curated
        if raw.record_type == "call" and (identifier := _call_identifier(raw)) is not None
    }
    return [
        raw
        for raw in imported
        if raw.id not in ids
        and _call_identifier(raw) not in identifiers
        and raw.data.get("programme") in programmes
    ]
