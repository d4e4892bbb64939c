import asyncio

from bot.actions.best_practices import ActionBestPractices
from bot.actions.human_handoff import ActionHumanHandoff
from bot.actions.knowledge_fallback import ActionKnowledgeFallback
from bot.actions.participation import ActionParticipation
from bot.search_access import Found, SearchUnavailableError
from tests.bot.actions.conftest import FIXED_DAY, make_tracker


class FakeSearch:
    """Deterministic searcher: fixed hits, records every call."""

    def __init__(self, hits=None, fail=False):
        self.hits = hits or []
        self.fail = fail
        self.calls = []

    def __call__(self, query, language, record_type, limit):
        self.calls.append((query, language, record_type, limit))
        if self.fail:
            raise SearchUnavailableError("no index")
        return self.hits[:limit]


def run(action, tracker, dispatcher, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def user(intent):
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def test_confident_hit_is_answered_with_source(kb, domain, dispatcher) -> None:
    search = FakeSearch([Found("cerv-town-twinning", "programme", 0.9, "Meetings of citizens")])
    run(
        ActionKnowledgeFallback(kb, search),
        make_tracker("twin towns money", "nlu_fallback"),
        dispatcher,
        domain,
    )
    [card] = dispatcher.messages
    assert card["text"].startswith("**Town-Twinning**")
    assert card["custom"]["links"][0]["url"] == "https://www.eacea.ec.europa.eu/town-twinning"
    assert search.calls == [("twin towns money", "en", None, 8)]


def test_weak_hit_leads_to_clarifying_question(kb, domain, dispatcher) -> None:
    search = FakeSearch([Found("cerv", "programme", 0.1, "x")])
    tracker = make_tracker("blah", "nlu_fallback", events=[user("nlu_fallback")])
    run(ActionKnowledgeFallback(kb, search), tracker, dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_clarify"]


def test_second_fallback_in_a_row_offers_a_person(kb, domain, dispatcher) -> None:
    tracker = make_tracker(
        "still blah", "nlu_fallback", events=[user("nlu_fallback"), user("nlu_fallback")]
    )
    run(ActionKnowledgeFallback(kb, FakeSearch()), tracker, dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_offer"]


def test_missing_index_still_answers(kb, domain, dispatcher) -> None:
    run(
        ActionKnowledgeFallback(kb, FakeSearch(fail=True)),
        make_tracker("x y z", "nlu_fallback"),
        dispatcher,
        domain,
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_clarify"]


def test_best_practices_from_search(kb, domain, dispatcher) -> None:
    practice_id = next(iter(kb.practices))
    search = FakeSearch([Found(practice_id, "practice", 0.8, "")])
    run(
        ActionBestPractices(kb, search),
        make_tracker("participatory budgeting examples", "ask_best_practice"),
        dispatcher,
        domain,
    )
    [card] = dispatcher.messages
    assert card["text"].startswith(
        "**Participatory budgeting in Pazin** (Pazin, Croatia, since 2014)"
    )
    assert "Funded by: CERV" in card["text"]
    assert card["custom"]["records"] == [practice_id]


def test_best_practices_fall_back_to_themes_without_index(kb, domain, dispatcher) -> None:
    run(
        ActionBestPractices(kb, FakeSearch(fail=True)),
        make_tracker("examples of civic participation", "ask_best_practice"),
        dispatcher,
        domain,
    )
    assert dispatcher.messages[0]["text"].startswith("**")


def test_best_practices_none(kb, domain, dispatcher) -> None:
    run(
        ActionBestPractices(kb, FakeSearch()),
        make_tracker("tram depots", "ask_best_practice"),
        dispatcher,
        domain,
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_clarify"]


def test_handoff_opens_a_ticket_in_the_users_language(kb, service, domain, dispatcher) -> None:
    run(
        ActionHumanHandoff(kb, service),
        make_tracker("a person please", "human_handoff", {"language": "hr"}),
        dispatcher,
        domain,
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_ticket"]
    [ticket] = service.list_tickets()
    assert (ticket.language, ticket.summary) == ("hr", "a person please")


def test_contacts_prefer_the_users_language(kb) -> None:
    from bot.actions.human_handoff import best_contacts

    ranked = best_contacts(list(kb.contacts.values()), "fr", None, [])
    assert ranked and "fr" in ranked[0].languages


def test_participation_lists_current_processes(kb, domain, dispatcher) -> None:
    import datetime as dt

    action = ActionParticipation(kb, clock=lambda: dt.date(2025, 10, 5))
    run(
        action,
        make_tracker("how can I take part in Helsinki?", "ask_participation"),
        dispatcher,
        domain,
    )
    names = [m["response"] for m in dispatcher.messages]
    assert names == [None, "utter_events_calendar"]
    card = dispatcher.messages[0]["text"]
    assert card.startswith("In Helsinki:\n**")
    assert "When: 1 October 2025 – 14 October 2025" in card
    assert "How to take part: Vote online with a bank ID." in card


def test_my_city_first_then_says_when_it_has_nothing(kb, domain, dispatcher) -> None:
    import datetime as dt

    action = ActionParticipation(kb, clock=lambda: dt.date(2025, 10, 5))
    tracker = make_tracker(
        "how can citizens take part in my city?", "ask_participation",
        slots={"city": "Pazin", "country_context": "HR"},
    )  # fmt: skip
    run(action, tracker, dispatcher, domain)
    assert dispatcher.messages[0]["text"].startswith(
        "In Pazin:\n**Participatory budgeting in Pazin**"
    )
    dispatcher.messages.clear()
    tracker = make_tracker(
        "how can citizens take part in my city?", "ask_participation",
        slots={"city": "Split", "country_context": "HR"},
    )  # fmt: skip
    run(action, tracker, dispatcher, domain)
    assert dispatcher.messages[0]["text"].startswith(
        "Nothing for Split in our sources yet; elsewhere in Croatia:\n"
        "**Participatory budgeting in Pazin**"
    )


def test_ended_events_are_not_offered(kb, domain, dispatcher) -> None:
    action = ActionParticipation(kb, clock=lambda: FIXED_DAY)  # after the vote ended
    run(action, make_tracker("upcoming events?", "ask_events"), dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_participation_none"]
