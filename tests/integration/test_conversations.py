"""Whole conversations through the gateway, the real Rasa model and the actions."""

import re
import uuid

import httpx
import pytest

from tests.integration.conftest import Chat

pytestmark = [pytest.mark.integration, pytest.mark.rasa]


def new_chat(api: httpx.Client) -> Chat:
    return Chat(api, f"conv-{uuid.uuid4().hex[:12]}")


def items_of(reply: dict) -> list[dict]:
    return [m for m in reply["messages"] if m["text"][:2] in ("1.", "2.", "3.")]


def test_funding_finder_asks_only_what_is_missing_then_recommends(
    shared_api: httpx.Client,
) -> None:
    chat = new_chat(shared_api)
    assert "Who is applying?" in chat.text("Help me find funding for my project step by step")
    assert "Which country" in chat.text("we are a municipality")
    assert "What is the project about?" in chat.text("Croatia")
    reply = chat.say("civic participation")
    items = items_of(reply)
    assert items, [m["text"] for m in reply["messages"]]
    assert all(m["text"].startswith(m["text"][:3] + "**") for m in items)
    assert all(m["links"] and "https://" not in m["text"] for m in items)
    assert all(len(m["text"]) <= 600 for m in items)


def test_a_rich_first_message_and_a_correction(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    first = chat.say(
        "We are a city in Croatia looking for funding for citizens participation, budget 50000 EUR"
    )
    if not items_of(first):  # at most one more question (partners), then results
        first = chat.say("no")
    assert items_of(first), [m["text"] for m in first["messages"]]
    corrected = chat.say("actually we are an NGO")
    assert "NGO" in " ".join(m["text"] for m in corrected["messages"])


def test_direct_questions_are_answered_first(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    what = chat.say("what is CERV?")
    card = what["messages"][0]
    assert card["text"].startswith("**") and "CERV" in card["text"]
    assert card["links"] and "https://" not in card["text"], "the link travels as a link"
    twinning = chat.text("Which EU programme funds town twinning between municipalities?")
    assert "Town-Twinning" in twinning or "Town Twinning" in twinning, twinning
    assert "Networks of Towns" in chat.text("when is the Networks of Towns deadline?")
    assert "URBACT" in chat.text("can NGOs apply to URBACT?")


def test_best_practices_and_participation(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    assert chat.text("how did other cities run participatory budgeting?").startswith("**")
    participation = chat.text("how can I take part in decisions in my city?")
    assert "**" in participation


def test_fallback_chain_never_leaves_the_user_alone(shared_api: httpx.Client) -> None:
    # Letters that form no word of any language: NLU confidence stays low, and the
    # knowledge search finds nothing close. (A typed "/nlu_fallback" is no longer
    # passed on as a payload: the gateway only accepts payloads it offered.)
    chat = new_chat(shared_api)
    first = chat.say("qxvz wjkq pfzt")
    assert [b["payload"] for b in first["messages"][0]["buttons"]] == [
        "/find_funding",
        "/ask_participation",
        "/ask_best_practice",
        "/human_handoff",
    ]
    second = chat.say("zqxw vkjq tpfz")
    assert [b["payload"] for b in second["messages"][0]["buttons"]] == ["/human_handoff"]
    person = chat.text("I want to talk to a person")
    # A handoff ticket with its reference (participation store of the running stack).
    assert re.match(r"I have passed your question on as request HT-\d{4}-\d{5}\. ", person), person


def test_croatian_question_is_answered_in_croatian(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    reply = chat.say("Kada je rok za Mreže gradova?")
    assert reply["language"] == "hr"
    assert "Mreže gradova" in reply["messages"][0]["text"]
