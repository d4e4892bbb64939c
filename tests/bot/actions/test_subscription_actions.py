"""Reminder subscriptions against a real SQLite database and the fixture records."""

import asyncio

from rasa_sdk.events import SlotSet

from bot.actions.ask_unsubscribe import ActionAskUnsubscribe
from bot.actions.cancel_pending import ActionCancelPending
from bot.actions.subscribe import ActionSubscribe
from bot.actions.unsubscribe_all import ActionUnsubscribeAll
from tests.bot.actions.conftest import database_locked, make_tracker, with_sender

SENDER = "telegram:42"


def run(action, tracker, dispatcher, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def asking(text, slots=None, entities=None):
    return with_sender(make_tracker(text, "subscribe", slots, entities), SENDER)


def test_theme_subscription_says_what_when_and_how_to_stop(service, kb, domain, dispatcher) -> None:
    tracker = asking("remind me of closing calls about climate")
    assert run(ActionSubscribe(service, kb), tracker, dispatcher, domain) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_subscribed_calls_theme"
    assert (message["target"], message["days"]) == ("climate", "30, 7, 1")
    [subscription] = service.subscriptions(SENDER)
    assert (subscription.kind, subscription.target) == ("calls_theme", "climate")
    assert message["unsubscribe_url"] == (
        f"https://assistant.example.org/unsubscribe/{subscription.token}"
    )


def test_programme_subscription(service, kb, domain, dispatcher) -> None:
    run(ActionSubscribe(service, kb), asking("subscribe me to CERV calls"), dispatcher, domain)
    assert [(m["response"], m["target"]) for m in dispatcher.messages] == [
        ("utter_subscribed_calls_programme", "CERV")
    ]
    assert [(s.kind, s.target) for s in service.subscriptions(SENDER)] == [
        ("calls_programme", "cerv")
    ]


def test_city_events_subscription_links_the_calendar(service, kb, domain, dispatcher) -> None:
    tracker = asking("tell me about events in Helsinki and remind me", {"language": "hr"})
    run(ActionSubscribe(service, kb), tracker, dispatcher, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_subscribed_events_city"
    assert message["calendar_url"] == "https://assistant.example.org/calendar/helsinki.ics"
    assert message["custom"] == {"links": [{"title": "Helsinki", "url": message["calendar_url"]}]}
    assert service.subscriptions(SENDER)[0].language == "hr"


def test_city_without_events_gets_suggestions_as_buttons(service, kb, domain, dispatcher) -> None:
    # Pazin is known from a practice record but has no events.
    run(
        ActionSubscribe(service, kb),
        asking("tell me about events in Pazin and remind me"),
        dispatcher,
        domain,
    )
    [message] = dispatcher.messages
    assert (message["response"], message["target"]) == ("utter_subscribe_unknown", "Pazin")
    assert message["buttons"] == [
        {
            "title": "Helsinki",
            "payload": '/subscribe{"subscription_kind": "events_city", '
            '"subscription_target": "Helsinki"}',
        }
    ]
    assert service.subscriptions(SENDER) == []


def test_events_in_a_city_nobody_knows_asks_which_city(service, kb, domain, dispatcher) -> None:
    run(ActionSubscribe(service, kb), asking("remind me of events in Atlantis"), dispatcher, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_subscribe_which"
    assert [b["title"] for b in message["buttons"]] == ["Helsinki"]


def test_suggestion_button_subscribes(service, kb, domain, dispatcher) -> None:
    entities = [
        {"entity": "subscription_kind", "value": "events_city"},
        {"entity": "subscription_target", "value": "Helsinki"},
    ]
    tracker = asking('/subscribe{"subscription_kind": ...}', entities=entities)
    run(ActionSubscribe(service, kb), tracker, dispatcher, domain)
    assert dispatcher.messages[0]["response"] == "utter_subscribed_events_city"


def test_forged_payload_target_is_refused(service, kb, domain, dispatcher) -> None:
    entities = [
        {"entity": "subscription_kind", "value": "calls_theme"},
        {"entity": "subscription_target", "value": "admin"},
    ]
    run(ActionSubscribe(service, kb), asking("/subscribe", entities=entities), dispatcher, domain)
    assert dispatcher.messages[0]["response"] == "utter_subscribe_unknown"
    assert service.subscriptions(SENDER) == []


def test_nothing_named_asks_what_to_remind_about(service, kb, domain, dispatcher) -> None:
    run(ActionSubscribe(service, kb), asking("remind me please"), dispatcher, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_subscribe_which"
    assert [b["title"] for b in message["buttons"]] == ["Helsinki"]


def test_second_identical_subscription_says_so(service, kb, domain, dispatcher) -> None:
    for _ in range(2):
        run(
            ActionSubscribe(service, kb),
            asking("remind me about climate calls"),
            dispatcher,
            domain,
        )
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_subscribed_calls_theme",
        "utter_subscription_exists",
        "utter_subscribed_calls_theme",
    ]
    assert len(service.subscriptions(SENDER)) == 1


def test_stop_reminders_asks_first_then_stops_all(service, kb, domain, dispatcher) -> None:
    service.subscribe(user_id=SENDER, language="en", kind="calls_theme", target="climate")
    service.subscribe(user_id=SENDER, language="en", kind="calls_programme", target="cerv")
    ask = with_sender(make_tracker("stop reminders", "unsubscribe"), SENDER)
    assert run(ActionAskUnsubscribe(service), ask, dispatcher, domain) == [
        SlotSet("awaiting", "unsubscribe")
    ]
    assert (dispatcher.messages[0]["response"], dispatcher.messages[0]["count"]) == (
        "utter_unsubscribe_confirm",
        2,
    )
    assert len(service.subscriptions(SENDER)) == 2  # nothing stopped before "yes"
    yes = with_sender(make_tracker("yes", "affirm", {"awaiting": "unsubscribe"}), SENDER)
    assert run(ActionUnsubscribeAll(service), yes, dispatcher, domain) == [
        SlotSet("awaiting", None)
    ]
    assert (dispatcher.messages[1]["response"], dispatcher.messages[1]["count"]) == (
        "utter_unsubscribed",
        2,
    )
    assert service.subscriptions(SENDER) == []


def test_no_keeps_the_reminders(service, domain, dispatcher) -> None:
    service.subscribe(user_id=SENDER, language="en", kind="calls_theme", target="climate")
    no = with_sender(make_tracker("no", "deny", {"awaiting": "unsubscribe"}), SENDER)
    assert run(ActionCancelPending(), no, dispatcher, domain) == [SlotSet("awaiting", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_unsubscribe_kept"]
    assert len(service.subscriptions(SENDER)) == 1


def test_nothing_to_stop(service, domain, dispatcher) -> None:
    ask = with_sender(make_tracker("unsubscribe", "unsubscribe"), SENDER)
    assert run(ActionAskUnsubscribe(service), ask, dispatcher, domain) == [
        SlotSet("awaiting", None)
    ]
    assert [m["response"] for m in dispatcher.messages] == ["utter_unsubscribe_nothing"]


def test_busy_database_changes_nothing_and_says_so(
    service, participation_settings, kb, domain, dispatcher
) -> None:
    service.subscribe(user_id=SENDER, language="en", kind="calls_theme", target="climate")
    yes = with_sender(make_tracker("yes", "affirm", {"awaiting": "unsubscribe"}), SENDER)
    with database_locked(participation_settings):
        run(ActionSubscribe(service, kb), asking("subscribe me to CERV calls"), dispatcher, domain)
        # The question stays open: "yes" again retries.
        assert run(ActionUnsubscribeAll(service), yes, dispatcher, domain) == [
            SlotSet("awaiting", "unsubscribe")
        ]
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_participation_busy",
        "utter_participation_busy",
    ]
    assert [s.target for s in service.subscriptions(SENDER)] == ["climate"]
