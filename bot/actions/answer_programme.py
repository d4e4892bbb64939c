"""Direct questions about one programme (what, who, when, how much, how to apply).

Answered like every content question: the programme's card first (answer_first).
The action keeps its own name because rules and test stories name it.
"""

from __future__ import annotations

from bot.actions.answer_first import ActionAnswerFirst


class ActionAnswerProgramme(ActionAnswerFirst):
    """The card of the named (or best matching) programme."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_answer_programme"
