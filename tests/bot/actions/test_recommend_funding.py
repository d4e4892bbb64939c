import asyncio

from rasa_sdk.events import SlotSet

from bot.actions.recommend_funding import ActionRecommendFunding
from tests.bot.actions.conftest import FIXED_DAY, make_tracker

SLOTS = {
    "applicant_type": "municipality",
    "country": "HR",
    "themes": ["civic_participation"],
    "budget": 40000.0,
    "cross_border": False,
}


def run(action, tracker, dispatcher, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def test_recommendation_card_with_reasons_share_and_days_left(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    events = run(action, make_tracker("", "inform", SLOTS), dispatcher, domain)
    assert events == [SlotSet("results_shown", 1.0)]
    names = [m["response"] for m in dispatcher.messages]
    assert names == ["utter_funding_intro", "utter_funding_item", "utter_funding_next_steps"]
    intro, item = dispatcher.messages[0], dispatcher.messages[1]
    assert intro["criteria"] == "cities and municipalities · Croatia · civic participation"
    assert item["card"].splitlines() == [
        "1. **Town-Twinning**",
        "Meetings of citizens from twinned towns.",
        "✓ cities and municipalities can apply",
        "✓ open to applicants from Croatia",
        "✓ funds civic participation",
        "✓ the EU share you need fits the maximum grant (€50,745)",
        "up to 80% EU funding. For a budget of €40,000 your own share is €8,000 "
        "(EU up to €32,000).",
        # Fixture call: deadline 15 September 2026, 198 days after 1 March 2026.
        "Open call CERV-2026-CITIZENS-TOWN-TT: deadline 15 September 2026 (198 days left)",
        "Sources differ on some figures; check the official page.",
    ]
    assert item["custom"] == {
        "links": [
            {"title": "Town-Twinning", "url": "https://www.eacea.ec.europa.eu/town-twinning"}
        ],
        "records": ["cerv-town-twinning"],
    }
    assert item["buttons"] == [
        {"title": "More details", "payload": '/more_details{"record": "cerv-town-twinning"}'}
    ]


def test_card_is_phone_sized_without_urls_or_editor_notes(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    run(action, make_tracker("", "inform", SLOTS), dispatcher, domain)
    card = dispatcher.messages[1]["card"]
    assert len(card) <= 600
    assert "http" not in card and "www." not in card
    notes = [n for p in kb.programmes.values() for n in p.uncertain]
    notes += [s.note for p in kb.programmes.values() for s in p.sources if s.note]
    assert notes and not any(note in card for note in notes)


def test_recommendation_in_croatian_has_no_english_sentence(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    run(action, make_tracker("", "inform", {**SLOTS, "language": "hr"}), dispatcher, domain)
    card = dispatcher.messages[1]["card"]
    # Babel writes amounts with a non-breaking space before the euro sign.
    nbsp = "\u00a0"
    assert f"Za proračun od 40.000{nbsp}€ vaš je udio 8.000{nbsp}€ (EU do 32.000{nbsp}€)." in card
    assert "rok 15. rujna 2026. (još 198 dana)" in card
    # The fixture has no Croatian summary: one Croatian sentence says so, no English.
    assert "Opis na hrvatskom još nemamo" in card
    assert "Meetings of citizens" not in card and "Apply on the" not in card
    assert dispatcher.messages[0]["criteria"] == (
        "gradovi i općine · Hrvatska · sudjelovanje građana"
    )


def test_ineligible_applicant_is_explained(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    slots = {**SLOTS, "applicant_type": "sme", "budget": None}
    run(action, make_tracker("", "inform", slots), dispatcher, domain)
    card = dispatcher.messages[1]["card"]
    assert (
        "✗ not open to small and medium-sized enterprises (eligible: cities and municipalities"
        in (card)
    )
    assert "your own share" not in card
    # No budget yet: the closing message invites it.
    assert dispatcher.messages[-1]["response"] == "utter_funding_next_steps_budget"


def test_skipped_answers_rank_without_them(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    slots = {
        **SLOTS,
        "applicant_type": None,
        "budget": None,
        "finder_skipped": ["applicant_type", "budget"],
    }
    run(action, make_tracker("", "inform", slots), dispatcher, domain)
    assert dispatcher.messages[0]["criteria"] == "Croatia · civic participation"
    assert dispatcher.messages[-1]["response"] == "utter_funding_next_steps"


def test_no_match_offers_other_theme_or_person(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    events = run(
        action, make_tracker("", "inform", {**SLOTS, "themes": ["mobility"]}), dispatcher, domain
    )
    assert events == [SlotSet("results_shown", 0)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_funding_none"]


def test_show_more_after_the_last_page(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    tracker = make_tracker("show more", "more_results", {**SLOTS, "results_shown": 1.0})
    assert run(action, tracker, dispatcher, domain) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_funding_no_more"]
