"""Texts the Telegram channel writes itself (commands, explanations), per language.

The assistant's answers come from Rasa; these files hold only what the channel says
on its own (welcome, help, /language and /forget confirmations, the note for voice
messages and photos). Gateway errors (Rasa down, message too long) live in
`channels/i18n` and are shared with every channel.
"""

import json
from functools import lru_cache
from pathlib import Path

I18N_DIR = Path(__file__).resolve().parent
FALLBACK_LANGUAGE = "en"


@lru_cache(maxsize=32)
def _catalogue(language: str) -> dict[str, str]:
    path = I18N_DIR / f"{language}.json"
    if not path.is_file():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translate(key: str, language: str, **values: object) -> str:
    """Text for `key` in `language`, falling back to English, with values filled.

    Values a translation does not use are ignored, so a language may phrase a
    confirmation without repeating, for example, the language code.
    """
    template = _catalogue(language).get(key) or _catalogue(FALLBACK_LANGUAGE)[key]
    return template.format(**values)


def available_languages() -> list[str]:
    """Languages that have a translation file."""
    return sorted(p.stem for p in I18N_DIR.glob("*.json"))
