"""Editor-friendly wording of validation errors (pydantic's are for developers)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any, Final, get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from knowledge.schema import Loc


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """Find the nested model that a field path points into (for suggestions)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        info = fields.get(part)
        current = _find_model(info.annotation) if info is not None else None
    return current


def _find_model(annotation: Any) -> type[BaseModel] | None:
    """Dig a BaseModel class out of Optional/list/Annotated annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean X?)"`` for a close match, else an empty string."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]}?)" if matches else ""


def _describe(value: Any) -> str:
    """Name a YAML value the way an editor would see it."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_PATTERN_HINTS: Final[dict[str, str]] = {
    r"^[a-z0-9]+(-[a-z0-9]+)*$": (
        "is not a valid id: use lowercase letters, digits and single hyphens "
        "(e.g. cerv-town-twinning)"
    ),
    r"^[A-Z]{3}$": "is not a currency code: use three capital letters (e.g. EUR)",
}

_TYPE_NAMES: Final[dict[str, str]] = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping of fields (key: value)",
    "model_attributes_type": "a mapping of fields (key: value)",
}


def _literal_message(error: ErrorDetails) -> str:
    """Explain a value outside a controlled vocabulary, with a suggestion."""
    expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
    value = error["input"]
    suggestion = suggest(str(value), expected) if isinstance(value, str) else ""
    if suggestion:
        return f"{value!r} is not an allowed value{suggestion}"
    return f"{value!r} is not an allowed value; allowed: {', '.join(expected)}"


def editor_message(error: ErrorDetails, model: type[BaseModel], loc: Loc) -> str:
    """Translate one pydantic error into a sentence a content editor understands."""
    kind, value, ctx = error["type"], error["input"], error.get("ctx", {})
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        names = [info.alias or name for name, info in parent.model_fields.items()] if parent else []
        return f"unknown field{suggest(str(loc[-1]), names)}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("literal_error", "enum"):
        return _literal_message(error)
    if kind.startswith("date") or kind.startswith("datetime"):
        reason = f": {ctx['error']}" if "error" in ctx else ""
        return f"{value!r} is not a valid date; write it as YYYY-MM-DD{reason}"
    if kind in _TYPE_NAMES:
        hint = (
            " (put it in quotes)"
            if kind == "string_type" and isinstance(value, int | float)
            else ""
        )
        return f"expected {_TYPE_NAMES[kind]}, got {_describe(value)}{hint}"
    if kind == "too_short" and loc and loc[-1] == "sources":
        return "no sources: every record needs at least one source"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(ctx.get("pattern")), f"does not match {ctx.get('pattern')}")
        return f"{value!r} {hint}"
    return f"{error['msg']} (got {_describe(value)})"
