"""The bot's domain as the action server needs it, read from `bot/domain/` once.

Rasa 3.6 serialises the whole domain (about 460 KB of JSON: every response in 24
languages) into each custom-action call unless the action endpoint enables
`enable_selective_domain`. With it enabled, the action server reads the same files
the model was trained from instead (bot/action_server.py): responses for the
`utter_frag_*` fragments, slots and forms for rasa-sdk's validation actions.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DOMAIN_DIR = Path(__file__).resolve().parent / "domain"
# libyaml's safe loader reads the 24-language domain several times faster.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def merge_domain_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge domain files as Rasa does for a domain directory: mappings and lists add up."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            else:
                merged[key] = value
    return merged


@lru_cache(maxsize=1)
def load_domain(directory: Path = DOMAIN_DIR) -> dict[str, Any]:
    """Every `*.yml` file of the domain directory merged into one domain dictionary."""
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise FileNotFoundError(f"no domain files in {directory}")
    texts = [path.read_text(encoding="utf-8") for path in files]
    return merge_domain_parts([yaml.load(text, Loader=SAFE_LOADER) or {} for text in texts])
