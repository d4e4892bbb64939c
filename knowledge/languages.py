"""The 24 official EU languages: the only language codes the knowledge base accepts."""

from __future__ import annotations

from typing import Final

EU_LANGUAGES: Final[tuple[str, ...]] = (
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
)
"""ISO 639-1 codes of the official EU languages, in alphabetical order."""

DEFAULT_LANGUAGE: Final[str] = "en"
"""Every localized text has English, so it is the fallback language."""

_EU_LANGUAGE_SET: Final[frozenset[str]] = frozenset(EU_LANGUAGES)


def is_eu_language(code: str) -> bool:
    """Tell whether ``code`` is exactly one of the 24 accepted codes.

    Args:
        code: A language code as written in the data (case-sensitive).

    Returns:
        True for lowercase official EU language codes.
    """
    return code in _EU_LANGUAGE_SET


def normalize_language(code: str | None) -> str | None:
    """Map a user or client language tag to an EU language code.

    Clients send tags such as ``hr-HR`` or ``DE``; lookups need the bare
    lowercase code.

    Args:
        code: A BCP 47-like tag, or None.

    Returns:
        The EU language code, or None if the tag is not an EU language.
    """
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in _EU_LANGUAGE_SET else None
