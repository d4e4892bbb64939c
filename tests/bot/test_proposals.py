import pytest

from bot import proposals
from bot.proposals import Message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what is the status of FP-2026-00012?", "FP-2026-00012"),
        ("fp-2026-12", "FP-2026-00012"),
        ("status FP 2025 7", "FP-2025-00007"),
        ("what is the status of my proposal?", None),
        ("HT-2026-00012", None),
    ],
)
def test_references_are_found_and_normalised(text, expected) -> None:
    assert proposals.find_reference(text) == expected


def test_free_text_answers_only_the_requested_question() -> None:
    message = Message("More trees in Trešnjevka", "ask_participation")
    assert proposals.answer_for("proposal_topic", "proposal_topic", message) == (
        "More trees in Trešnjevka"
    )
    assert proposals.answer_for("proposal_city", "proposal_topic", message) is None
    assert proposals.answer_for("proposal_topic", None, message) is None


def test_short_no_leaves_the_form_but_a_topic_starting_with_no_does_not() -> None:
    assert proposals.answer_for("proposal_text", "proposal_text", Message("no", "deny")) is None
    assert proposals.answer_for("proposal_text", "proposal_text", Message("/deny", "deny")) is None
    long_no = Message("No cars in the old town on Sundays, more benches and shade", "deny")
    assert proposals.answer_for("proposal_text", "proposal_text", long_no) == long_no.text


def test_contact_is_an_address_or_no() -> None:
    ask = "proposal_contact"
    assert proposals.answer_for(ask, ask, Message("write to ana@example.org", "inform")) == (
        "ana@example.org"
    )
    assert proposals.answer_for(ask, ask, Message("no thanks", "deny")) == proposals.NO_CONTACT
    assert proposals.answer_for(ask, ask, Message("/deny", "deny")) == proposals.NO_CONTACT
    assert proposals.answer_for(ask, ask, Message("call me", "inform")) == "call me"
    assert proposals.contact_value(proposals.NO_CONTACT) is None
    assert proposals.contact_value("ana@example.org") == "ana@example.org"


def test_idempotency_key_is_stable_and_reveals_nothing() -> None:
    key = proposals.idempotency_key("telegram:42", "m-1")
    assert key == proposals.idempotency_key("telegram:42", "m-1")
    assert key != proposals.idempotency_key("telegram:42", "m-2")
    assert key != proposals.idempotency_key("telegram:43", "m-1")
    assert "telegram" not in key
    assert "m-1" not in key
