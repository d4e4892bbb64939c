"""Whole conversations through the gateway, the real Rasa model and the actions."""

import re
import uuid

import httpx
import pytest

from tests.integration.conftest import Chat

pytestmark = [pytest.mark.integration, pytest.mark.rasa]


def new_chat(api: httpx.Client) -> Chat:
    return Chat(api, f"conv-{uuid.uuid4().hex[:12]}")


def test_funding_finder_asks_each_question_then_recommends(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    assert "Who is applying?" in chat.text("I am looking for EU funding for a project")
    assert "Which country" in chat.text("we are a municipality")
    assert "What is the project about?" in chat.text("Croatia")
    assert "total budget" in chat.text("civic participation")
    assert "partners from other countries" in chat.text("40000")
    reply = chat.say("no")
    texts = [m["text"] for m in reply["messages"]]
    assert texts[0].startswith("For cities and municipalities from Croatia, on civic participation")
    items = [t for t in texts if t[:2] in ("1.", "2.", "3.")]
    assert len(items) == 3
    assert all("Official page: https://" in t for t in items)
    assert any("own share" in t or "cannot be computed" in t for t in items)
    assert reply["messages"][-1]["buttons"][0]["payload"] == "/more_results"
    assert all(m["links"] for m in reply["messages"] if m["text"][:2] in ("1.", "2.", "3."))


def test_answers_in_any_order_and_a_correction(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    first = chat.text(
        "We are a city in Croatia looking for funding for citizens participation, budget 50000 EUR"
    )
    assert "partners from other countries" in first
    assert chat.text("no").startswith("For cities and municipalities from Croatia")
    corrected = chat.text("actually we are an NGO")
    assert corrected.startswith("For NGOs and civil society organisations from Croatia")


def test_direct_questions_cite_the_source(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    what = chat.say("what is CERV?")
    assert "Citizens, Equality, Rights and Values" in what["messages"][0]["text"]
    assert "Source: https://" in what["messages"][0]["text"]
    assert what["messages"][0]["links"], "the answer carries its source link"
    deadline = chat.text("when is the Networks of Towns deadline?")
    assert "Networks of Towns" in deadline
    eligibility = chat.text("can NGOs apply to URBACT?")
    assert "URBACT" in eligibility


def test_best_practices_and_participation(shared_api: httpx.Client) -> None:
    chat = new_chat(shared_api)
    practices = chat.text("how did other cities run participatory budgeting?")
    assert practices.startswith("Here is how other cities did it:")
    assert "Outcome:" in practices
    participation = chat.text("how can I take part in decisions in my city?")
    assert participation.startswith("This is how you can take part in decisions:")


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
    assert reply["messages"][0]["text"].startswith("CERV – Mreže gradova")
