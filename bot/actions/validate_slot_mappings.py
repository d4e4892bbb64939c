"""Per-turn slot extraction: decides the reply language before any response."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot.language import LanguageHints, decide_language

# Metadata keys a channel may send with a message (see channels/rasa_client.py).
META_EXPLICIT_LANGUAGE = "lang_pref"
META_CHANNEL_HINT = "lang_hint"
META_WANTS_TURN_INFO = "want_meta"


class ValidateSlotMappings(ValidationAction):
    """Rasa runs this after every user message (`action_extract_slots`).

    Deciding the language here, rather than in the action that replies, means the
    slot is already set when Rasa renders the response's language variation.
    """

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Fill the `language` slot for this turn."""
        message = tracker.latest_message or {}
        metadata: dict[str, Any] = message.get("metadata") or {}
        hints = LanguageHints(
            explicit=_as_str(metadata.get(META_EXPLICIT_LANGUAGE)),
            previous=_as_str(tracker.get_slot("language")),
            channel=_as_str(metadata.get(META_CHANNEL_HINT)),
        )
        # langdetect loads its profiles on first use: keep that off the event loop.
        language = await asyncio.to_thread(decide_language, str(message.get("text") or ""), hints)
        if metadata.get(META_WANTS_TURN_INFO) is True:
            # Our gateway reads the turn's language from this message and drops it;
            # Rasa's own connectors never ask for it.
            dispatcher.utter_message(json_message={"turn": {"language": language}})
        return {"language": language}


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
