"""'How did other cities run participatory budgeting?': the best matching practice first.

Answered like every content question (answer_first), restricted to practices by the
intent; the action keeps its name because rules and test stories name it.
"""

from __future__ import annotations

from bot.actions.answer_first import ActionAnswerFirst


class ActionBestPractices(ActionAnswerFirst):
    """The card of the best matching practice, with up to two alternatives."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_best_practices"
