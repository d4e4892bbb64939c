"""Ticket routing to knowledge-base contacts and reply-by times from office hours."""

from __future__ import annotations

import datetime as dt

import pytest

from participation.errors import InvalidInputError, NotFoundError
from participation.service import ParticipationService
from tests.participation.conftest import NOW, Clock


@pytest.mark.parametrize(
    ("language", "city", "country", "topic", "expected"),
    [
        ("hr", "Zagreb", None, "democracy", "zagreb-office"),
        ("hr", "Split", "HR", "youth", "hr-national"),
        ("hr", "Split", "hr", None, "hr-national"),
        ("de", "Vienna", "AT", "climate", "vienna-office"),
        ("de", "Zagreb", "HR", "democracy", "eu-wide"),
        ("en", None, None, "climate", "eu-wide"),
        ("fi", "Vienna", None, None, "vienna-office"),  # nobody speaks it: place decides
    ],
)
def test_routing_by_language_city_and_topic(
    service: ParticipationService,
    language: str,
    city: str | None,
    country: str | None,
    topic: str | None,
    expected: str,
) -> None:
    receipt = service.open_ticket(
        user_id="telegram:5",
        language=language,
        city=city,
        country=country,
        topic=topic,
        summary="Who can help with our application?",
    )
    assert receipt.contact_id == expected


def test_receipt_carries_contact_and_reply_by_from_office_hours(
    service: ParticipationService,
) -> None:
    receipt = service.open_ticket(
        user_id="telegram:5", language="hr", city="Zagreb", summary="Pomoć s prijavom"
    )
    assert receipt.reference == "HT-2026-00001" and receipt.status == "open"
    assert (receipt.contact_name, receipt.contact_email) == (
        "Org zagreb-office",
        "info@zagreb.example",
    )
    assert receipt.office_hours == "mon,tue,wed,thu,fri 08:00-16:00 Europe/Zagreb"
    # Monday 11:00 in Zagreb: 5 office hours left today, 3 more on Tuesday.
    assert receipt.reply_by == dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def test_reply_by_after_hours_is_the_next_working_day(
    service: ParticipationService, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 3, 6, 18, 0, tzinfo=dt.UTC)  # Friday 19:00 in Zagreb
    receipt = service.open_ticket(
        user_id="telegram:5", language="hr", city="Zagreb", summary="Pomoć"
    )
    assert receipt.reply_by == dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)  # Monday 16:00


def test_reply_by_uses_default_hours_when_the_contact_has_none(
    service: ParticipationService,
) -> None:
    receipt = service.open_ticket(
        user_id="telegram:5", language="hr", country="HR", topic="youth", summary="Pomoć"
    )
    assert (receipt.contact_id, receipt.office_hours) == ("hr-national", None)
    # Default Mon-Fri 09:00-17:00 Brussels: 6 hours on Monday from 11:00, 2 on Tuesday.
    assert receipt.reply_by == dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def test_list_and_close(service: ParticipationService, clock: Clock) -> None:
    first = service.open_ticket(user_id="api:a", language="en", summary="one")
    second = service.open_ticket(user_id="api:b", language="en", summary="two")
    with pytest.raises(InvalidInputError):
        service.open_ticket(user_id="api:a", language="en", summary="  ")
    clock.now = NOW + dt.timedelta(hours=2)
    closed = service.close_ticket(first.reference.lower())
    assert (closed.status, closed.closed_at) == ("closed", clock.now)
    assert [t.reference for t in service.list_tickets("open")] == [second.reference]
    assert [t.reference for t in service.list_tickets()] == [first.reference, second.reference]
    with pytest.raises(NotFoundError):
        service.close_ticket("HT-2026-09999")
