"""Proposals: references, idempotency, limits and moderation on both back ends."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import create_engine, func, select

from participation.errors import InvalidInputError, NotFoundError, ProposalTooLongError
from participation.models import Proposal
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.participation.conftest import NOW, Clock


def _count(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Proposal)).scalar_one()
    engine.dispose()
    return count


def _submit(service: ParticipationService, **overrides: str | None) -> object:
    fields: dict[str, str | None] = {
        "user_id": "telegram:42",
        "language": "hr",
        "topic": "Parks",
        "text": "More trees in the old town.",
    }
    fields.update(overrides)
    return service.submit_proposal(**fields)  # type: ignore[arg-type]


def test_references_count_per_year(service: ParticipationService, clock: Clock) -> None:
    first = service.submit_proposal(user_id="api:a", language="en", topic="T", text="x")
    second = service.submit_proposal(user_id="api:b", language="en", topic="T", text="y")
    clock.now = NOW.replace(year=2027, month=1, day=4)
    next_year = service.submit_proposal(user_id="api:a", language="en", topic="T", text="z")
    assert (first.reference, second.reference) == ("FP-2026-00001", "FP-2026-00002")
    assert next_year.reference == "FP-2027-00001"
    assert re.fullmatch(r"FP-\d{4}-\d{5}", first.reference)
    assert first.created and first.status == "pending"
    assert first.created_at == NOW and first.created_at.tzinfo is not None


def test_same_idempotency_key_returns_the_first_receipt(
    service: ParticipationService, db_url: str
) -> None:
    first = service.submit_proposal(
        user_id="api:a", language="en", topic="T", text="x", idempotency_key="key-1"
    )
    again = service.submit_proposal(
        user_id="api:a", language="en", topic="Other", text="changed", idempotency_key="key-1"
    )
    other_user = service.submit_proposal(
        user_id="api:b", language="en", topic="T", text="x", idempotency_key="key-1"
    )
    assert again.reference == first.reference and not again.created
    assert other_user.created and other_user.reference != first.reference
    assert _count(db_url) == 2


def test_concurrent_retries_store_one_proposal(
    settings: ParticipationSettings, kb: object, db_url: str
) -> None:
    services = [ParticipationService(settings, kb=kb) for _ in range(4)]  # type: ignore[arg-type]
    barrier = threading.Barrier(len(services))
    receipts = []

    def submit(service: ParticipationService) -> None:
        barrier.wait()
        receipts.append(
            service.submit_proposal(
                user_id="api:a", language="en", topic="T", text="x", idempotency_key="same"
            )
        )

    for service in services:
        service.list_proposals()  # migrate before the race
    threads = [threading.Thread(target=submit, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for service in services:
        service.close()
    assert len({receipt.reference for receipt in receipts}) == 1
    assert sorted(receipt.created for receipt in receipts) == [False, False, False, True]
    assert _count(db_url) == 1


def test_size_limit(service: ParticipationService, db_url: str) -> None:
    limit = service.settings.proposal_max_chars
    assert service.submit_proposal(user_id="api:a", language="en", topic="T", text="x" * limit)
    with pytest.raises(ProposalTooLongError) as error:
        service.submit_proposal(user_id="api:a", language="en", topic="T", text="x" * (limit + 1))
    assert (error.value.limit, error.value.length, error.value.code) == (
        limit,
        limit + 1,
        "proposal_too_long",
    )
    assert _count(db_url) == 1


@pytest.mark.parametrize("field", ["topic", "text"])
def test_empty_fields_are_refused(service: ParticipationService, field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        _submit(service, **{field: "   "})
    assert error.value.field == field


def test_status_is_private_to_its_author(service: ParticipationService) -> None:
    receipt = service.submit_proposal(
        user_id="api:a", language="en", topic="T", text="x", city="Zagreb"
    )
    view = service.proposal_status(receipt.reference.lower(), user_id="api:a")
    assert view is not None and view.city == "Zagreb" and view.status == "pending"
    assert service.proposal_status(receipt.reference, user_id="api:b") is None
    assert service.proposal_status("FP-2026-99999") is None


def test_moderation_states(service: ParticipationService, clock: Clock) -> None:
    first = service.submit_proposal(user_id="api:a", language="en", topic="A", text="x")
    second = service.submit_proposal(user_id="api:a", language="en", topic="B", text="y")
    with pytest.raises(InvalidInputError) as error:
        service.moderate(first.reference, "rejected")
    assert error.value.field == "reason"
    with pytest.raises(InvalidInputError):
        service.moderate(first.reference, "archived")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        service.moderate("FP-2026-99999", "published")
    rejected = service.moderate(first.reference, "rejected", reason="Out of scope")
    published = service.moderate(second.reference, "published")
    assert (rejected.status, rejected.reason, rejected.moderated_at) == (
        "rejected",
        "Out of scope",
        NOW,
    )
    assert published.status == "published"
    assert [v.reference for v in service.list_proposals("pending")] == []
    assert [v.reference for v in service.list_proposals("rejected")] == [first.reference]
    assert [v.reference for v in service.list_proposals()] == [first.reference, second.reference]
