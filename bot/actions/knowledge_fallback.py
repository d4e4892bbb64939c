"""Low NLU confidence: answer from the knowledge base when the evidence is strong.

Never silent and never invented: a confident search hit is shown as a card with its
source; otherwise a clarifying question, and if the user already got that question,
the offer of a human contact (answer_first's not-found chain).
"""

from __future__ import annotations

from bot.actions.answer_first import ActionAnswerFirst, previous_turn_was_fallback

__all__ = ["ActionKnowledgeFallback", "previous_turn_was_fallback"]


class ActionKnowledgeFallback(ActionAnswerFirst):
    """The fallback chain: confident card -> clarify -> human contact."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_knowledge_fallback"
