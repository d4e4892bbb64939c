"""Forum proposals in the conversation: answers to the form, references, retries.

Pure functions (no Rasa, no database), so the rules are easy to test: which message
answers which question of `proposal_form`, which message leaves the form, how a
reference is recognised, and the idempotency key of a confirming message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot import parsing

TOPIC_SLOT = "proposal_topic"
TEXT_SLOT = "proposal_text"
CITY_SLOT = "proposal_city"
CONTACT_SLOT = "proposal_contact"
PROPOSAL_SLOTS = (TOPIC_SLOT, TEXT_SLOT, CITY_SLOT, CONTACT_SLOT)
# The service's field names (InvalidInputError.field) and the slots holding them.
SLOT_OF_FIELD = {"topic": TOPIC_SLOT, "text": TEXT_SLOT, "city": CITY_SLOT, "contact": CONTACT_SLOT}

# Value of `proposal_contact` when the user does not want to be contacted.
NO_CONTACT = "none"

# Intents that leave the form instead of answering it ("no" / "cancel", "a person
# please"), but only in short messages: "No more cars in the old town" is a topic.
EXIT_INTENTS = frozenset({"deny", "human_handoff"})
MAX_EXIT_WORDS = 8

_REFERENCE_RE = re.compile(r"\bFP[\s-]?(\d{4})[\s-]?(\d{1,6})\b", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)


@dataclass(frozen=True)
class Message:
    """The parts of a user message that decide how it counts."""

    text: str
    intent: str | None

    @property
    def is_payload(self) -> bool:
        """A button payload ("/deny") is not the user's words."""
        return self.text.startswith("/")

    @property
    def leaves_form(self) -> bool:
        """Whether the message asks to stop the form rather than answer it."""
        if self.intent not in EXIT_INTENTS:
            return False
        return self.is_payload or len(self.text.split()) <= MAX_EXIT_WORDS


def answer_for(slot: str, requested_slot: str | None, message: Message) -> str | None:
    """The value of `slot` given by this message, if the form asked for it.

    Free text answers the topic, text and city questions; the contact question
    takes an e-mail address or "no" (stored as NO_CONTACT). Any other answer to
    the contact question is kept as written so the form's validation can explain
    what is expected.
    """
    if slot != requested_slot or slot not in PROPOSAL_SLOTS:
        return None
    if slot == CONTACT_SLOT:
        return contact_answer(message)
    if message.is_payload or message.leaves_form:
        return None
    value = " ".join(message.text.split())
    return value or None


def contact_answer(message: Message) -> str | None:
    """E-mail address, NO_CONTACT for "no", else the raw text (validated later)."""
    email = find_email(message.text)
    if email:
        return email
    if message.intent == "deny":
        return NO_CONTACT
    if message.is_payload or message.leaves_form:
        return None
    return message.text.strip() or None


def find_email(text: str) -> str | None:
    """The first e-mail address in the text."""
    match = _EMAIL_RE.search(text)
    return match.group(0) if match else None


def is_email(value: str) -> bool:
    """Whether the whole value is one e-mail address."""
    return _EMAIL_RE.fullmatch(value.strip()) is not None


def find_reference(text: str) -> str | None:
    """A proposal reference in the text, normalised ("fp 2026 12" -> "FP-2026-00012")."""
    match = _REFERENCE_RE.search(text)
    if match is None:
        return None
    year, number = match.groups()
    return f"FP-{year}-{int(number):05d}"


def contact_value(slot_value: str | None) -> str | None:
    """What the service stores as contact: the address, or nothing."""
    if not slot_value or parsing.fold(slot_value) == NO_CONTACT:
        return None
    return slot_value


def idempotency_key(sender_id: str, message_id: str) -> str:
    """Key of one confirming message: a retried delivery maps to the same proposal.

    Hashed so the stored key reveals neither the user nor the message.
    """
    digest = hashlib.sha256(f"{sender_id}\x1f{message_id}".encode())
    return f"proposal-{digest.hexdigest()[:32]}"
