"""A weak language hint from a phone number, because WhatsApp sends no language code.

The table lives in `calling_codes.json` (documented there and in the README). It is
only a channel hint: the bot's own decision (explicit choice, confident detection,
the conversation's previous language) always outranks it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

CALLING_CODES_FILE = Path(__file__).resolve().parent / "calling_codes.json"
# ITU-T E.164 country calling codes have one to three digits.
_CODE_LENGTHS = (3, 2, 1)


@lru_cache(maxsize=1)
def calling_code_languages() -> dict[str, str]:
    """The calling code -> language table, read once."""
    data = json.loads(CALLING_CODES_FILE.read_text(encoding="utf-8"))
    codes: dict[str, str] = data["codes"]
    return codes


def language_from_phone(number: str) -> str | None:
    """Language of the number's country calling code (`385...` -> `hr`), else None."""
    digits = number.strip().lstrip("+")
    if not digits.isdigit():
        return None
    table = calling_code_languages()
    for length in _CODE_LENGTHS:
        language = table.get(digits[:length])
        if language is not None:
            return language
    return None
