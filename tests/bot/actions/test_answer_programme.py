import asyncio
import datetime as dt

from bot.actions.answer_programme import ActionAnswerProgramme
from tests.bot.actions.conftest import FIXED_DAY, make_tracker


def answer(kb, domain, dispatcher, text, intent, slots=None, day=FIXED_DAY):
    action = ActionAnswerProgramme(kb=kb, clock=lambda: day)
    return asyncio.run(action.run(dispatcher, make_tracker(text, intent, slots), domain))


def test_what_is_cerv(kb, domain, dispatcher) -> None:
    assert answer(kb, domain, dispatcher, "what is CERV?", "ask_programme") == []
    summary = dispatcher.messages[0]
    assert summary["response"] == "utter_programme_summary"
    assert summary["title"] == "Citizens, Equality, Rights and Values"
    assert summary["budget"] == "€1,550,000,000"
    assert summary["period"] == "2021–2027"
    assert summary["last_verified"] == "23 November 2026"
    assert (
        dispatcher.messages[1]["custom"]["links"][0]["url"] == "https://commission.europa.eu/cerv"
    )


def test_eligibility_yes_and_no(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "can NGOs apply to Town-Twinning?", "ask_eligibility")
    yes = dispatcher.messages[0]
    assert yes["response"] == "utter_programme_eligibility_yes"
    assert yes["applicant"] == "NGOs and civil society organisations"
    dispatcher.messages.clear()
    answer(kb, domain, dispatcher, "can universities apply to CERV?", "ask_eligibility")
    assert dispatcher.messages[0]["response"] == "utter_programme_eligibility_no"


def test_deadline_with_day_count(kb, domain, dispatcher) -> None:
    answer(
        kb,
        domain,
        dispatcher,
        "when is the Town-Twinning deadline?",
        "ask_deadline",
        day=dt.date(2026, 9, 1),
    )
    deadlines = dispatcher.messages[0]
    assert deadlines["response"] == "utter_programme_deadlines"
    assert deadlines["calls"] == (
        "Open call CERV-2026-CITIZENS-TOWN-TT: deadline 15 September 2026 (14 days left)"
    )


def test_deadline_after_the_last_call_names_the_latest_one(kb, domain, dispatcher) -> None:
    answer(
        kb, domain, dispatcher, "Town-Twinning deadline?", "ask_deadline", day=dt.date(2026, 10, 1)
    )
    names = [m.get("response") for m in dispatcher.messages]
    assert names[0] == "utter_programme_deadlines"
    assert dispatcher.messages[0]["calls"] == "No open or forthcoming call in our sources."
    assert "utter_programme_recent_call" in names


def test_uncertain_facts_are_flagged(kb, domain, dispatcher) -> None:
    answer(
        kb, domain, dispatcher, "what co-financing does Town-Twinning require?", "ask_cofinancing"
    )
    assert dispatcher.messages[0]["rate"] == "up to 80% EU funding"
    assert dispatcher.messages[-1]["response"] == "utter_uncertain_note"


def test_unknown_programme_asks_which_with_buttons(kb, domain, dispatcher) -> None:
    answer(kb, domain, dispatcher, "when is the deadline?", "ask_deadline")
    [which] = dispatcher.messages
    assert which["response"] == "utter_programme_which"
    assert which["buttons"][0]["payload"] == '/ask_deadline{"programme": "cerv"}'


def test_programme_from_slot_for_follow_up_questions(kb, domain, dispatcher) -> None:
    answer(
        kb,
        domain,
        dispatcher,
        "how do I apply?",
        "ask_how_to_apply",
        slots={"programme": "cerv-town-twinning"},
    )
    assert dispatcher.messages[0]["how_to_apply"] == "Apply on the Funding & Tenders portal."
