"""'Remind me of closing calls about climate': subscribe to reminders before deadlines.

Reminders of calls come 30, 7 and 1 days (the configured offsets) before a call
closes; reminders of events before they start. The confirmation says what comes,
when, how to stop it, and for a city gives its calendar feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import parsing, presenters
from bot.event_query import event_cities, known_cities
from bot.kb_access import knowledge_base
from bot.participation_access import calendar_url, call, participation, unsubscribe_url
from bot.subscription_request import (
    CALLS_PROGRAMME,
    CALLS_THEME,
    EVENTS_CITY,
    KIND_ENTITY,
    TARGET_ENTITY,
    SubscriptionRequest,
    from_payload,
    from_text,
)
from knowledge.base import KnowledgeBase
from participation.errors import ParticipationError, UnknownTargetError
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from participation.types import SubscriptionKind, SubscriptionReceipt

MAX_SUGGESTIONS = 4


def target_label(kind: str, target: str, kb: KnowledgeBase, language: str) -> str:
    """How a target is named to the user: theme label, programme name, city."""
    if kind == CALLS_THEME:
        return parsing.themes().label(target, language)
    if kind == CALLS_PROGRAMME and target in kb.programmes:
        programme = kb.programmes[target]
        return programme.acronym or presenters.title(programme, language)
    return target


def suggestion_buttons(
    kind: SubscriptionKind, targets: Iterable[str], kb: KnowledgeBase, language: str
) -> list[dict[str, str]]:
    """One button per suggested target; its payload subscribes directly."""
    return [
        {
            "title": target_label(kind, target, kb, language),
            "payload": f'/subscribe{{"{KIND_ENTITY}": "{kind}", "{TARGET_ENTITY}": "{target}"}}',
        }
        for target in list(targets)[:MAX_SUGGESTIONS]
    ]


def default_targets(kind: SubscriptionKind, kb: KnowledgeBase) -> list[str]:
    """What to suggest when the service has no closer suggestion."""
    if kind == EVENTS_CITY:
        return event_cities(kb.events.values())
    if kind == CALLS_PROGRAMME:
        return sorted(p.id for p in kb.programmes.values() if p.parent is None and p.acronym)
    return sorted(parsing.themes().keys)


def offsets_text(offsets: Iterable[int]) -> str:
    """'30, 7, 1' (days before the date, largest first)."""
    return presenters.joined(str(days) for days in sorted(set(offsets), reverse=True))


class ActionSubscribe(Action):
    """Subscribes the sender to reminders, or asks what about."""

    def __init__(
        self, service: ParticipationService | None = None, kb: KnowledgeBase | None = None
    ) -> None:
        """Use the given service and knowledge base (tests), else the shared ones."""
        self._service = service
        self._kb = kb

    def name(self) -> str:
        """Action name in the domain."""
        return "action_subscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Subscribe, or explain an unknown target with suggestions."""
        language = tracker.get_slot("language") or "en"
        kb = await knowledge_base(self._kb)
        latest = tracker.latest_message or {}
        request = from_payload(latest.get("entities") or []) or from_text(
            latest.get("text") or "", kb, known_cities(kb)
        )
        if request is None or request.target is None:
            kind = request.kind if request else EVENTS_CITY
            buttons = suggestion_buttons(kind, default_targets(kind, kb), kb, language)
            dispatcher.utter_message(response="utter_subscribe_which", buttons=buttons)
            return []
        await self._subscribe(dispatcher, tracker, request, kb, language)
        return []

    async def _subscribe(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        request: SubscriptionRequest,
        kb: KnowledgeBase,
        language: str,
    ) -> None:
        service = await participation(self._service)
        target = request.target or ""
        try:
            receipt = await call(
                service.subscribe,
                user_id=tracker.sender_id,
                language=language,
                kind=request.kind,
                target=target,
            )
        except UnknownTargetError as exc:
            dispatcher.utter_message(
                response="utter_subscribe_unknown",
                target=target_label(request.kind, target, kb, language),
                buttons=suggestion_buttons(
                    request.kind, exc.suggestions or default_targets(request.kind, kb), kb, language
                ),
            )
            return
        except ParticipationError:
            dispatcher.utter_message(response="utter_participation_busy")
            return
        self._confirm(dispatcher, receipt, kb, language, service.settings)

    @staticmethod
    def _confirm(
        dispatcher: CollectingDispatcher,
        receipt: SubscriptionReceipt,
        kb: KnowledgeBase,
        language: str,
        config: ParticipationSettings,
    ) -> None:
        if not receipt.created:
            dispatcher.utter_message(response="utter_subscription_exists")
        values: dict[str, Any] = {
            "target": target_label(receipt.kind, receipt.target, kb, language),
            "days": offsets_text(config.reminder_offsets_days),
            "unsubscribe_url": unsubscribe_url(receipt.token, config),
        }
        custom: dict[str, Any] | None = None
        if receipt.kind == EVENTS_CITY:
            values["calendar_url"] = calendar_url(receipt.target, config)
            custom = {"links": [{"title": values["target"], "url": values["calendar_url"]}]}
        dispatcher.utter_message(
            response=f"utter_subscribed_{receipt.kind}", json_message=custom, **values
        )
