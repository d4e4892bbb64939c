"""Per-turn bookkeeping for our gateway: the intent, and which records answered.

The gateway (channels/conversation.py) sends the metadata `want_meta` with every
message; it merges every `{"turn": {...}}` custom message of the reply into one
record of the question (language, intent, confidence, records, answered), returns
its id for thumbs up/down and never shows these messages. Rasa's own connectors do
not ask for them, so nothing is emitted without the flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

# Metadata key with which a channel asks for turn information.
META_WANTS_TURN_INFO = "want_meta"


def wants_turn_info(tracker: Tracker) -> bool:
    """Whether the channel of this message asked for turn information."""
    metadata = (tracker.latest_message or {}).get("metadata")
    return isinstance(metadata, dict) and metadata.get(META_WANTS_TURN_INFO) is True


def report_turn(dispatcher: CollectingDispatcher, tracker: Tracker, **info: Any) -> None:
    """Emit one `{"turn": info}` message, only for channels that asked for it."""
    if wants_turn_info(tracker):
        dispatcher.utter_message(json_message={"turn": info})


def report_answered(
    dispatcher: CollectingDispatcher, tracker: Tracker, record_ids: Iterable[str]
) -> None:
    """The turn was answered from these knowledge records (feedback rates them)."""
    report_turn(dispatcher, tracker, records=list(dict.fromkeys(record_ids)), answered=True)


def report_unanswered(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The assistant could not answer this turn (a content gap for the editors)."""
    report_turn(dispatcher, tracker, records=[], answered=False)
