from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from knowledge.languages import EU_LANGUAGES, is_eu_language, normalize_language
from knowledge.schema import (
    Call,
    Contact,
    Event,
    FieldError,
    GrantSize,
    LocalizedText,
    Money,
    OfficeHours,
    Period,
    Programme,
    Source,
    call_status,
)

SOURCES = [{"url": "https://example.eu/src", "reliability": "official"}]


def make_call(**overrides: Any) -> Call:
    data: dict[str, Any] = {
        "id": "a-call",
        "programme": "cerv",
        "title": {"en": "A call"},
        "opening_date": dt.date(2026, 1, 10),
        "deadlines": [{"date": dt.date(2026, 3, 1)}, {"date": dt.date(2026, 6, 30)}],
        "url": "https://example.eu/call",
        "sources": SOURCES,
        "last_verified": dt.date(2026, 11, 23),
    }
    data.update(overrides)
    return Call.model_validate(data)


def field_error(exc: ValidationError) -> tuple[tuple[Any, ...], str]:
    """Return the full path and message of a single cross-field error."""
    (error,) = exc.errors()
    cause = error["ctx"]["error"]
    assert isinstance(cause, FieldError)
    return (*error["loc"], *cause.path), str(cause)


# ----------------------------------------------------------------- languages


def test_there_are_24_eu_languages_including_english_and_irish() -> None:
    assert len(EU_LANGUAGES) == 24
    assert len(set(EU_LANGUAGES)) == 24
    assert {"en", "ga", "mt", "hr"} <= set(EU_LANGUAGES)
    assert not is_eu_language("no")
    assert not is_eu_language("EN")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("hr", "hr"), ("hr-HR", "hr"), ("DE", "de"), ("pt_BR", "pt"), ("nb-NO", None), ("", None)],
)
def test_normalize_language(tag: str, expected: str | None) -> None:
    assert normalize_language(tag) == expected


# ----------------------------------------------------------------- LocalizedText


def test_localized_text_serves_requested_language() -> None:
    text = LocalizedText.model_validate({"en": "Town twinning", "hr": "Bratimljenje"})
    assert text.get("hr") == ("Bratimljenje", "hr")
    assert text.get("hr-HR") == ("Bratimljenje", "hr")


@pytest.mark.parametrize("lang", ["de", "xx", None, ""])
def test_localized_text_falls_back_to_english(lang: str | None) -> None:
    text = LocalizedText.model_validate({"en": "Town twinning", "hr": "Bratimljenje"})
    assert text.get(lang) == ("Town twinning", "en")


def test_localized_text_requires_english() -> None:
    with pytest.raises(ValidationError, match="an English text \\('en'\\) is required"):
        LocalizedText.model_validate({"hr": "Bratimljenje"})


def test_localized_text_rejects_unknown_codes_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="'en-GB' is not an EU language code; use 'en'"):
        LocalizedText.model_validate({"en-GB": "Twinning"})
    with pytest.raises(ValidationError, match="'no' is not an EU language code"):
        LocalizedText.model_validate({"en": "Twinning", "no": "Vennskapsby"})


def test_localized_text_rejects_empty_text() -> None:
    with pytest.raises(ValidationError, match="the 'hr' text is empty"):
        LocalizedText.model_validate({"en": "Twinning", "hr": "  "})


# ----------------------------------------------------------------- building blocks


@pytest.mark.parametrize(
    "url",
    ["https://example.eu/x", "http://www.eacea.ec.europa.eu/a?b=c#d", "https://x.eu:8443/"],
)
def test_valid_urls(url: str) -> None:
    assert Source(url=url, reliability="official").url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("www.example.eu", "must start with https://"),
        ("htp://example.eu", "must start with https://"),
        ("https//example.eu", "must start with https://"),
        ("https://exa mple.eu", "contains spaces"),
        ("https://localhost/", "is not a web host"),
        ("https://example.eu:99999/", "is not a valid URL"),
        ("mailto:x@example.eu", "must start with https://"),
    ],
)
def test_malformed_urls_are_rejected(url: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Source(url=url, reliability="official")


def test_reliability_is_a_controlled_vocabulary() -> None:
    with pytest.raises(ValidationError, match="literal_error"):
        Source.model_validate({"url": "https://example.eu", "reliability": "official-ish"})


def test_money_with_amount_needs_source_but_unknown_amount_does_not() -> None:
    assert Money.model_validate({"amount": None}).currency == "EUR"
    assert Money.model_validate({"amount": 50745.0, "source": "https://x.eu"}).amount == 50745
    with pytest.raises(ValidationError) as info:
        Money.model_validate({"amount": 10})
    assert field_error(info.value) == (("source",), "an amount needs a source URL")


def test_money_rejects_negative_amount_and_bad_currency() -> None:
    with pytest.raises(ValidationError, match="greater_than_equal"):
        Money.model_validate({"amount": -1, "source": "https://x.eu"})
    with pytest.raises(ValidationError, match="string_pattern_mismatch"):
        Money.model_validate({"amount": None, "currency": "euro"})


def test_grant_size_min_not_above_max() -> None:
    assert GrantSize.model_validate({"min": 10, "max": 10}).max == 10
    with pytest.raises(ValidationError) as info:
        GrantSize.model_validate({"min": 50000, "max": 8000})
    assert field_error(info.value) == (("max",), "min 50000 is larger than max 8000")


def test_period_end_not_before_start() -> None:
    assert Period(start=2021, end=2021).end == 2021
    with pytest.raises(ValidationError) as info:
        Period(start=2027, end=2021)
    assert field_error(info.value) == (("end",), "end 2021 is before start 2027")


def test_office_hours_use_from_alias_and_check_order() -> None:
    hours = OfficeHours.model_validate({"days": ["mon"], "from": "09:00", "to": "18:00"})
    assert hours.from_ == "09:00"
    with pytest.raises(ValidationError) as info:
        OfficeHours.model_validate({"days": ["mon"], "from": "18:00", "to": "09:00"})
    assert field_error(info.value)[0] == ("to",)
    with pytest.raises(ValidationError, match="is not a time"):
        OfficeHours.model_validate({"days": ["mon"], "from": "9am", "to": "18:00"})


# ----------------------------------------------------------------- records


def test_deadline_before_opening_points_at_the_deadline() -> None:
    with pytest.raises(ValidationError) as info:
        make_call(deadlines=[{"date": dt.date(2026, 1, 1)}])
    assert field_error(info.value) == (
        ("deadlines", 0, "date"),
        "deadline 2026-01-01 is before opening_date 2026-01-10",
    )


def test_deadlines_must_be_chronological() -> None:
    with pytest.raises(ValidationError) as info:
        make_call(deadlines=[{"date": dt.date(2026, 6, 1)}, {"date": dt.date(2026, 3, 1)}])
    path, message = field_error(info.value)
    assert path == ("deadlines", 1, "date")
    assert "chronological" in message


def test_call_needs_at_least_one_deadline() -> None:
    with pytest.raises(ValidationError, match="too_short"):
        make_call(deadlines=[])


def test_event_end_not_before_start() -> None:
    data = {
        "id": "e",
        "kind": "event",
        "title": {"en": "E"},
        "summary": {"en": "S"},
        "start_date": "2025-10-14",
        "end_date": "2025-10-01",
        "url": "https://example.eu",
        "sources": SOURCES,
        "last_verified": "2026-11-23",
    }
    with pytest.raises(ValidationError) as info:
        Event.model_validate(data)
    assert field_error(info.value) == (
        ("end_date",),
        "end_date 2025-10-01 is before start_date 2025-10-14",
    )


def test_contact_needs_email_or_url() -> None:
    base = {"id": "c", "organisation": "Org", "sources": SOURCES, "last_verified": "2026-11-23"}
    assert Contact.model_validate({**base, "email": "info@example.eu"}).url is None
    assert Contact.model_validate({**base, "url": "https://example.eu"}).email is None
    with pytest.raises(ValidationError) as info:
        Contact.model_validate(base)
    assert field_error(info.value) == (("email",), "a contact needs an email or a url")
    with pytest.raises(ValidationError, match="not a valid e-mail"):
        Contact.model_validate({**base, "email": "info-at-example.eu"})


def test_programme_rejects_unknown_field_and_bad_vocabulary() -> None:
    data = {
        "id": "p",
        "title": {"en": "P"},
        "summary": {"en": "S"},
        "funding_type": "direct_grant",
        "url": "https://example.eu",
        "sources": SOURCES,
        "last_verified": "2026-11-23",
    }
    assert Programme.model_validate(data).themes == []
    with pytest.raises(ValidationError, match="extra_forbidden"):
        Programme.model_validate({**data, "fundng_rate": None})
    with pytest.raises(ValidationError, match="literal_error"):
        Programme.model_validate({**data, "themes": ["democrcy"]})
    with pytest.raises(ValidationError, match="'EL' is not an ISO country code; use 'GR'"):
        Programme.model_validate({**data, "eligible_countries": ["EL"]})
    with pytest.raises(ValidationError, match="string_pattern_mismatch"):
        Programme.model_validate({**data, "id": "Bad_Id"})
    with pytest.raises(ValidationError, match="its own parent"):
        Programme.model_validate({**data, "parent": "p"})


def test_records_are_immutable() -> None:
    call = make_call()
    with pytest.raises(ValidationError):
        call.title = LocalizedText.model_validate({"en": "Changed"})  # type: ignore[misc]


# ----------------------------------------------------------------- call_status


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 1, 9), "forthcoming"),
        (dt.date(2026, 1, 10), "open"),
        (dt.date(2026, 3, 2), "open"),  # between two deadlines
        (dt.date(2026, 6, 30), "open"),  # last deadline day
        (dt.date(2026, 7, 1), "closed"),
    ],
)
def test_call_status(today: dt.date, expected: str) -> None:
    assert call_status(make_call(), today) == expected


def test_call_status_without_opening_date_is_open_until_last_deadline() -> None:
    call = make_call(opening_date=None)
    assert call.closing_date == dt.date(2026, 6, 30)
    assert call_status(call, dt.date(2000, 1, 1)) == "open"
    assert call_status(call, dt.date(2026, 7, 1)) == "closed"
