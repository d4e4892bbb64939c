"""The gateway's own texts (`channels/i18n`): every public message in all 24 languages."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from channels.i18n import I18N_DIR
from knowledge.languages import EU_LANGUAGES

# Only staff read these (the admin API answers in English where a language lacks them).
ADMIN_ONLY = {
    "error.admin_disabled",
    "error.admin_unauthorized",
    "error.reason_required",
    "error.status_invalid",
    "error.ticket_not_found",
    "error.unknown_table",
}


def texts(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((I18N_DIR / f"{language}.json").read_text("utf-8"))
    return data


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_there_is_one_file_per_official_eu_language() -> None:
    assert {path.stem for path in Path(I18N_DIR).glob("*.json")} == set(EU_LANGUAGES)


@pytest.mark.parametrize("language", EU_LANGUAGES)
def test_every_public_text_is_translated_with_the_same_placeholders(language: str) -> None:
    english = texts("en")
    translated = texts(language)
    missing = sorted(set(english) - ADMIN_ONLY - set(translated))
    assert not missing, f"{language}.json lacks {missing}"
    for key, value in translated.items():
        assert value.strip(), f"{language}.json: {key} is empty"
        assert placeholders(value) == placeholders(english[key]), f"{language}.json: {key}"
