"""The Forum proposal conversation against a real SQLite database."""

import asyncio

from rasa_sdk.events import FollowupAction, SlotSet

from bot.actions.cancel_pending import ActionCancelPending
from bot.actions.confirm_proposal import ActionConfirmProposal
from bot.actions.proposal_form import ActionAskProposalText, ValidateProposalForm
from bot.actions.proposal_status import ActionProposalStatus
from bot.actions.submit_proposal import ActionSubmitProposal
from participation.service import ParticipationService
from tests.bot.actions.conftest import FIXED_NOW, database_locked, make_tracker, with_sender

DRAFT = {
    "proposal_topic": "Shade on school routes",
    "proposal_text": "Plant trees along the routes children walk to school.",
    "proposal_city": "Zagreb",
    "proposal_contact": "none",
    "awaiting": "proposal",
}
CLEARED = [
    SlotSet("proposal_topic", None),
    SlotSet("proposal_text", None),
    SlotSet("proposal_city", None),
    SlotSet("proposal_contact", None),
    SlotSet("awaiting", None),
]


def run(action, tracker, dispatcher, domain):
    return asyncio.run(action.run(dispatcher, tracker, domain))


def confirming(slots=None, message_id="msg-7", sender="telegram:42", language="en"):
    tracker = make_tracker("yes", "affirm", {**DRAFT, "language": language, **(slots or {})})
    return with_sender(tracker, sender, message_id)


def validate(method, value, dispatcher, domain):
    action = ValidateProposalForm()
    return asyncio.run(getattr(action, method)(value, dispatcher, make_tracker(), domain))


def test_confirmation_repeats_the_draft_and_waits_for_yes(domain, dispatcher) -> None:
    events = run(ActionConfirmProposal(), make_tracker(slots=DRAFT), dispatcher, domain)
    assert events == [SlotSet("awaiting", "proposal")]
    [message] = dispatcher.messages
    assert message["response"] == "utter_proposal_confirm"
    assert (message["topic"], message["body"], message["city"]) == (
        "Shade on school routes",
        DRAFT["proposal_text"],
        "Zagreb",
    )
    assert message["contact"] == "none (you will not be contacted)"


def test_confirmation_names_the_contact_address(domain, dispatcher) -> None:
    slots = {**DRAFT, "proposal_contact": "ana@example.org", "language": "hr"}
    run(ActionConfirmProposal(), make_tracker(slots=slots), dispatcher, domain)
    assert dispatcher.messages[0]["contact"] == "ana@example.org"


def test_submitted_proposal_gets_a_reference_and_the_draft_is_cleared(
    service, domain, dispatcher
) -> None:
    events = run(ActionSubmitProposal(service), confirming(), dispatcher, domain)
    assert events == CLEARED
    assert dispatcher.messages == [
        {
            "text": None,
            "buttons": [],
            "elements": [],
            "custom": {},
            "template": "utter_proposal_submitted",
            "response": "utter_proposal_submitted",
            "image": None,
            "attachment": None,
            "reference": "FP-2026-00001",
        }
    ]
    stored = service.proposal_status("FP-2026-00001", user_id="telegram:42")
    assert stored is not None
    assert (stored.status, stored.topic, stored.city, stored.language) == (
        "pending",
        "Shade on school routes",
        "Zagreb",
        "en",
    )
    assert stored.created_at.replace(tzinfo=FIXED_NOW.tzinfo) == FIXED_NOW


def test_a_redelivered_confirmation_never_stores_twice(service, domain, dispatcher) -> None:
    run(ActionSubmitProposal(service), confirming(message_id="m-1"), dispatcher, domain)
    run(ActionSubmitProposal(service), confirming(message_id="m-1"), dispatcher, domain)
    references = [m["reference"] for m in dispatcher.messages]
    assert references == ["FP-2026-00001", "FP-2026-00001"]
    assert len(service.list_proposals()) == 1
    run(ActionSubmitProposal(service), confirming(message_id="m-2"), dispatcher, domain)
    assert dispatcher.messages[-1]["reference"] == "FP-2026-00002"


def test_channel_message_id_in_metadata_wins(service, domain, dispatcher) -> None:
    for rasa_id in ("rasa-a", "rasa-b"):  # Rasa gives a redelivery a new id
        tracker = confirming(message_id=rasa_id)
        tracker.latest_message["metadata"] = {"message_id": "wa-123"}
        run(ActionSubmitProposal(service), tracker, dispatcher, domain)
    assert len(service.list_proposals()) == 1


def test_busy_database_keeps_the_draft_and_offers_a_retry(
    service, participation_settings, domain, dispatcher
) -> None:
    service.proposal_status("FP-2026-00099")  # creates the schema
    with database_locked(participation_settings):
        events = run(ActionSubmitProposal(service), confirming(), dispatcher, domain)
    assert events == [SlotSet("awaiting", "proposal")]  # the draft and the question stay
    assert [m["response"] for m in dispatcher.messages] == ["utter_proposal_busy"]
    assert service.list_proposals() == []
    run(ActionSubmitProposal(service), confirming(), dispatcher, domain)  # the retry
    assert dispatcher.messages[-1]["reference"] == "FP-2026-00001"


def test_too_long_at_submission_reopens_only_the_text(
    participation_settings, kb, domain, dispatcher
) -> None:
    strict = ParticipationService(
        participation_settings.model_copy(update={"proposal_max_chars": 20}), kb=kb
    )
    events = run(ActionSubmitProposal(strict), confirming(), dispatcher, domain)
    assert events == [
        SlotSet("proposal_text", None),
        SlotSet("awaiting", None),
        FollowupAction("proposal_form"),
    ]
    [message] = dispatcher.messages
    assert (message["response"], message["length"], message["limit"]) == (
        "utter_proposal_too_long",
        len(DRAFT["proposal_text"]),
        20,
    )
    assert strict.list_proposals() == []


def test_blank_topic_is_asked_again(service, domain, dispatcher) -> None:
    events = run(
        ActionSubmitProposal(service), confirming({"proposal_topic": "  "}), dispatcher, domain
    )
    assert events[0] == SlotSet("proposal_topic", None)
    assert dispatcher.messages[0]["response"] == "utter_proposal_invalid"


def test_form_refuses_a_text_over_the_limit(domain, dispatcher) -> None:
    assert validate("validate_proposal_text", "x" * 2001, dispatcher, domain) == {
        "proposal_text": None
    }
    message = dispatcher.messages[0]
    assert (message["response"], message["length"], message["limit"]) == (
        "utter_proposal_too_long",
        2001,
        2000,
    )
    assert validate("validate_proposal_text", "x" * 2000, dispatcher, domain) == {
        "proposal_text": "x" * 2000
    }


def test_form_refuses_a_contact_that_is_no_address(domain, dispatcher) -> None:
    assert validate("validate_proposal_contact", "call me", dispatcher, domain) == {
        "proposal_contact": None
    }
    assert [m["response"] for m in dispatcher.messages] == ["utter_proposal_contact_invalid"]
    assert validate("validate_proposal_contact", "none", dispatcher, domain) == {
        "proposal_contact": "none"
    }
    assert validate("validate_proposal_contact", "a@b.eu", dispatcher, domain) == {
        "proposal_contact": "a@b.eu"
    }


def test_text_question_names_the_limit(domain, dispatcher) -> None:
    run(ActionAskProposalText(), make_tracker(), dispatcher, domain)
    assert (dispatcher.messages[0]["response"], dispatcher.messages[0]["limit"]) == (
        "utter_ask_proposal_text",
        2000,
    )


def test_no_drops_the_draft(domain, dispatcher) -> None:
    events = run(ActionCancelPending(), make_tracker("no", "deny", DRAFT), dispatcher, domain)
    assert events == CLEARED
    assert [m["response"] for m in dispatcher.messages] == ["utter_proposal_cancelled"]


def test_status_of_an_own_pending_proposal(service, domain, dispatcher) -> None:
    service.submit_proposal(user_id="api:7", language="en", topic="Benches", text="More benches.")
    tracker = with_sender(
        make_tracker("what is the status of fp-2026-1?", "proposal_status"), "api:7"
    )
    assert run(ActionProposalStatus(service), tracker, dispatcher, domain) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_proposal_status_pending"
    assert (message["reference"], message["topic"], message["submitted"]) == (
        "FP-2026-00001",
        "Benches",
        "2 March 2026",
    )


def test_status_of_a_rejected_proposal_gives_the_reason(service, domain, dispatcher) -> None:
    service.submit_proposal(user_id="api:7", language="hr", topic="Klupe", text="Više klupa.")
    service.moderate("FP-2026-00001", "rejected", "duplicate of FP-2025-00003")
    tracker = with_sender(
        make_tracker("status FP-2026-00001", "proposal_status", {"language": "hr"}), "api:7"
    )
    run(ActionProposalStatus(service), tracker, dispatcher, domain)
    message = dispatcher.messages[0]
    assert (message["response"], message["reason"], message["submitted"]) == (
        "utter_proposal_status_rejected",
        "duplicate of FP-2025-00003",
        "2. ožujka 2026.",
    )


def test_someone_elses_proposal_is_not_shown(service, domain, dispatcher) -> None:
    service.submit_proposal(user_id="api:7", language="en", topic="Benches", text="More benches.")
    tracker = with_sender(make_tracker("status FP-2026-00001", "proposal_status"), "api:8")
    run(ActionProposalStatus(service), tracker, dispatcher, domain)
    assert [(m["response"], m["reference"]) for m in dispatcher.messages] == [
        ("utter_proposal_status_not_found", "FP-2026-00001")
    ]


def test_status_without_a_reference_asks_for_it(service, domain, dispatcher) -> None:
    tracker = make_tracker("how is my proposal doing?", "proposal_status")
    run(ActionProposalStatus(service), tracker, dispatcher, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_proposal_status_ask"]
