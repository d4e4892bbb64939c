"""City context from metadata and words; forget me and export my data in the chat."""

import asyncio

from bot.actions.city import ActionReadContext, ActionSetCity
from bot.actions.my_data import ActionAskForget, ActionExportData, ActionForgetMe
from tests.bot.actions.conftest import make_tracker, with_sender

META = {"want_meta": True}


def run(action, tracker, dispatcher, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def user(metadata):
    return {"event": "user", "text": "x", "metadata": metadata}


def test_widget_city_and_country_fill_the_slots(kb, domain, dispatcher) -> None:
    metadata = {"city": "  pazin ", "country": "hr"}
    tracker = make_tracker("bok", "greet", metadata=metadata, events=[user(metadata)])
    assert slots(run(ActionReadContext(kb), tracker, dispatcher, domain)) == {
        "city": "Pazin",
        "country_context": "HR",
    }


def test_invalid_country_is_ignored_and_country_follows_the_city(kb, domain, dispatcher) -> None:
    metadata = {"city": "Helsinki", "country": "<script>"}
    tracker = make_tracker("hi", "greet", metadata=metadata, events=[user(metadata)])
    assert slots(run(ActionReadContext(kb), tracker, dispatcher, domain)) == {
        "city": "Helsinki",
        "country_context": "FI",
    }


def test_a_spoken_city_is_not_overwritten_by_unchanged_metadata(kb, domain, dispatcher) -> None:
    metadata = {"city": "Helsinki"}
    tracker = make_tracker(
        "what's on?", "ask_events", slots={"city": "Pazin"}, metadata=metadata,
        events=[user(metadata), user(metadata)],
    )  # fmt: skip
    assert slots(run(ActionReadContext(kb), tracker, dispatcher, domain)) == {}


def test_my_city_is_sets_the_city(kb, domain, dispatcher) -> None:
    tracker = make_tracker("moj grad je Pazin", "set_city", slots={"language": "hr"})
    assert slots(run(ActionReadContext(kb), tracker, dispatcher, domain)) == {
        "city": "Pazin",
        "country_context": "HR",
    }
    confirmed = make_tracker(
        "moj grad je Pazin", "set_city", slots={"language": "hr", "city": "Pazin"}
    )
    run(ActionSetCity(), confirmed, dispatcher, domain)
    assert dispatcher.messages[0]["response"] == "utter_city_set"
    assert dispatcher.messages[0]["city"] == "Pazin"


def test_unknown_city_asks_for_it(domain, dispatcher) -> None:
    run(ActionSetCity(), make_tracker("my city", "set_city"), dispatcher, domain)
    assert dispatcher.messages[0]["response"] == "utter_city_ask"


def test_forget_me_is_confirmed_first(domain, dispatcher) -> None:
    events = run(ActionAskForget(), make_tracker("delete my data", "forget_me"), dispatcher, domain)
    assert slots(events) == {"awaiting": "forget"}
    [question] = dispatcher.messages
    assert question["response"] == "utter_forget_confirm"
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]


def test_forget_me_erases_and_reports_it(service, domain, dispatcher) -> None:
    service.record_question(user_id="web:forget-1", language="en", text="hello", answered=True)
    tracker = with_sender(make_tracker("yes", "affirm", metadata=META), "web:forget-1")
    events = run(ActionForgetMe(service), tracker, dispatcher, domain)
    assert events[0]["event"] == "restart"
    assert dispatcher.messages[0]["response"] == "utter_forget_done"
    assert dispatcher.messages[0]["count"] >= 1
    assert {"turn": {"erased": True}} in [m["custom"] for m in dispatcher.messages]
    assert service.export_user("web:forget-1")["questions"] == []


def test_export_counts_what_is_stored(service, domain, dispatcher) -> None:
    service.record_question(user_id="web:export-1", language="en", text="hello", answered=True)
    tracker = with_sender(make_tracker("what do you store?", "export_data"), "web:export-1")
    run(ActionExportData(service), tracker, dispatcher, domain)
    [summary] = dispatcher.messages
    assert summary["response"] == "utter_export_summary"
    assert summary["questions"] == 1
    assert summary["subscriptions"] == 0
