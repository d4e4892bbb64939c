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


def test_recommendation_with_reasons_share_and_days_left(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    events = run(action, make_tracker("", "inform", SLOTS), dispatcher, domain)
    assert events == [SlotSet("results_shown", 1.0)]
    names = [m["response"] for m in dispatcher.messages]
    assert names == ["utter_funding_intro", "utter_funding_item", "utter_funding_next_steps"]
    intro, item = dispatcher.messages[0], dispatcher.messages[1]
    assert intro["applicant"] == "cities and municipalities"
    assert intro["country"] == "Croatia"
    assert intro["themes"] == "civic participation"
    assert item["rank"] == 1
    assert item["title"] == "Town-Twinning"
    assert item["reasons"].splitlines() == [
        "✓ cities and municipalities can apply",
        "✓ open to applicants from Croatia",
        "✓ funds civic participation",
        "✓ the EU share you need fits the maximum grant (€50,745)",
    ]
    assert item["rate"] == "up to 80% EU funding"
    assert item["share"] == "For a budget of €40,000 your own share is €8,000 (EU up to €32,000)."
    # Fixture call: deadline 15 September 2026, 198 days after 1 March 2026.
    assert item["calls"] == (
        "Open call CERV-2026-CITIZENS-TOWN-TT: deadline 15 September 2026 (198 days left)"
    )
    assert item["url"] == "https://www.eacea.ec.europa.eu/town-twinning"
    assert item["custom"]["records"] == ["cerv-town-twinning"]


def test_recommendation_in_croatian(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    run(action, make_tracker("", "inform", {**SLOTS, "language": "hr"}), dispatcher, domain)
    item = dispatcher.messages[1]
    # Babel writes amounts with a non-breaking space before the euro sign.
    nbsp = "\u00a0"
    assert item["share"] == (
        f"Za proračun od 40.000{nbsp}€ vaš je udio 8.000{nbsp}€ (EU do 32.000{nbsp}€)."
    )
    assert item["calls"].endswith("rok 15. rujna 2026. (još 198 dana)")
    # The fixture has no Croatian how-to-apply text: English plus the note.
    assert item["how_to_apply"] == (
        "Apply on the Funding & Tenders portal. (Ovaj je tekst dostupan samo na engleskom.)"
    )


def test_ineligible_applicant_is_explained(kb, domain, dispatcher) -> None:
    action = ActionRecommendFunding(kb=kb, clock=lambda: FIXED_DAY)
    slots = {**SLOTS, "applicant_type": "sme", "budget": None}
    run(action, make_tracker("", "inform", slots), dispatcher, domain)
    item = dispatcher.messages[1]
    assert (
        "✗ not open to small and medium-sized enterprises (eligible: cities and municipalities"
        in item["reasons"]
    )
    assert item["share"] == ""


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
