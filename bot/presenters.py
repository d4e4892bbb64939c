"""Turn knowledge records into the values of response templates, per language.

Every function returns plain strings for `utter_message(response=..., **values)`.
Record text is taken in the user's language when the record has it; otherwise the
English text is used and the `utter_frag_english_only` note is appended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from bot import parsing
from bot.rendering import date, money, number, render
from knowledge.funding import Recommendation, UpcomingCall
from knowledge.schema import Contact, Event, LocalizedText, Practice, Programme

Domain = Mapping[str, Any]


def localized(text: LocalizedText | None, language: str, domain: Domain) -> str:
    """Text in `language`, or English plus a note that it is English only."""
    if text is None:
        return render(domain, "utter_frag_unknown", language)
    value, served = text.get(language)
    if served != language:
        return f"{value} {render(domain, 'utter_frag_english_only', language)}"
    return value


def title(record: Programme | Practice | Event, language: str) -> str:
    """A record's title in the language (titles are names: no English-only note)."""
    value, _ = record.title.get(language)
    return value


def joined(items: Iterable[str]) -> str:
    """Items separated by commas (lists inside a sentence)."""
    return ", ".join(items)


def applicant_labels(keys: Iterable[str], language: str) -> str:
    """'cities and municipalities, NGOs ...' in the language."""
    lexicon = parsing.applicants()
    return joined(lexicon.label(key, language) for key in keys)


def theme_labels(keys: Iterable[str], language: str) -> str:
    """Theme names in the language."""
    lexicon = parsing.themes()
    return joined(lexicon.label(key, language) for key in keys)


def country_label(code: str, language: str) -> str:
    """A country's name in the language (the ISO code when unknown)."""
    return parsing.countries().label(code, language)


def countries_label(codes: Iterable[str], language: str) -> str:
    """Country list with group codes kept as they are (EU27, ASSOCIATED...)."""
    return joined(code if len(code) > 2 else country_label(code, language) for code in codes)


def verified(record: Programme, language: str) -> str:
    """The record's last-verified date in the language."""
    return date(record.last_verified, language)


def call_line(call: UpcomingCall, language: str, domain: Domain) -> str:
    """'Open call X: deadline 16 April 2026 (143 days left)'."""
    name = call.call.call_id or title_of_call(call, language)
    values: dict[str, object] = {
        "call": name,
        "deadline": date(call.deadline, language),
        "days": call.days_left,
    }
    if call.state == "open":
        return render(domain, "utter_frag_call_open", language, **values)
    opening = call.call.opening_date
    values["opening"] = (
        date(opening, language) if opening else render(domain, "utter_frag_unknown", language)
    )
    return render(domain, "utter_frag_call_forthcoming", language, **values)


def title_of_call(call: UpcomingCall, language: str) -> str:
    """A call's title in the language."""
    value, _ = call.call.title.get(language)
    return value


def calls_text(calls: Iterable[UpcomingCall], language: str, domain: Domain) -> str:
    """One line per upcoming call, or the 'no open call' line."""
    lines = [call_line(call, language, domain) for call in calls]
    return "\n".join(lines) if lines else render(domain, "utter_frag_no_calls", language)


def rate_text(rate: float | None, language: str, domain: Domain) -> str:
    """'up to 80% EU funding' or 'funding rate unknown'."""
    if rate is None:
        return render(domain, "utter_frag_rate_unknown", language)
    return render(domain, "utter_frag_rate_known", language, rate=number(rate, language))


def reasons_text(
    reco: Recommendation,
    needs_applicant: str | None,
    needs_country: str | None,
    language: str,
    domain: Domain,
) -> str:
    """One ✓/✗/? line per criterion the finder checked."""
    programme = reco.programme
    grant_max = programme.grant_size.max if programme.grant_size else None
    values: dict[str, object] = {
        "applicant": applicant_labels([needs_applicant], language) if needs_applicant else "",
        "eligible": applicant_labels(programme.eligible_applicants, language),
        "country": country_label(needs_country, language) if needs_country else "",
        "themes": theme_labels(reco.matched_themes, language),
        "grant_max": money(grant_max, language) or "",
    }
    lines = [render(domain, f"utter_frag_fit_{c}", language, **values) for c in reco.fits]
    lines += [render(domain, f"utter_frag_fail_{c}", language, **values) for c in reco.fails]
    lines += [
        render(domain, f"utter_frag_unknown_{c}", language, **values)
        for c in reco.unknown
        if c in ("applicant", "country")
    ]
    return "\n".join(lines)


def share_text(reco: Recommendation, budget: float | None, language: str, domain: Domain) -> str:
    """The applicant's own share for the stated budget, or why it is unknown."""
    if not budget:
        return ""
    if reco.own_share_eur is None:
        return render(domain, "utter_frag_own_share_unknown", language)
    return render(
        domain,
        "utter_frag_own_share",
        language,
        budget=money(budget, language),
        own_share=money(reco.own_share_eur, language),
        eu_share=money(reco.eu_share_eur, language),
    )


def recommendation_values(
    reco: Recommendation,
    rank: int,
    applicant: str | None,
    country: str | None,
    budget: float | None,
    language: str,
    domain: Domain,
) -> dict[str, object]:
    """Values of `utter_funding_item` for one recommendation."""
    programme = reco.programme
    return {
        "rank": rank,
        "title": title(programme, language),
        "reasons": reasons_text(reco, applicant, country, language, domain),
        "rate": rate_text(reco.funding_rate_percent, language, domain),
        "share": share_text(reco, budget, language, domain),
        "calls": calls_text(reco.calls, language, domain),
        "how_to_apply": localized(programme.how_to_apply, language, domain),
        "url": str(programme.url),
        "last_verified": verified(programme, language),
    }


def period_text(programme: Programme, language: str, domain: Domain) -> str:
    """'2021–2027' or 'unknown'."""
    period = programme.period
    if period is None:
        return render(domain, "utter_frag_unknown", language)
    return f"{period.start}–{period.end}" if period.end else str(period.start)


def budget_text(programme: Programme, language: str, domain: Domain) -> str:
    """Total budget with its currency, or 'unknown'."""
    budget = programme.total_budget
    if budget is None or budget.amount is None:
        return render(domain, "utter_frag_unknown", language)
    return money(budget.amount, language, budget.currency) or ""


def practice_values(
    practice: Practice, programmes: Mapping[str, Programme], language: str, domain: Domain
) -> dict[str, object]:
    """Values of `utter_practice_item`."""
    funders = [title(programmes[p], language) for p in practice.funded_by if p in programmes]
    funded_by = (
        render(domain, "utter_frag_funded_by", language, programmes=joined(funders))
        if funders
        else ""
    )
    year = practice.year_started
    return {
        "title": title(practice, language),
        "city": practice.city,
        "country": country_label(practice.country, language),
        "year": year if year is not None else render(domain, "utter_frag_unknown", language),
        "summary": localized(practice.summary, language, domain),
        "outcome": localized(practice.outcome, language, domain),
        "funded_by": funded_by,
        "url": str(practice.url),
    }


def event_values(event: Event, language: str, domain: Domain) -> dict[str, object]:
    """Values of `utter_event_item`."""
    if event.start_date and event.end_date and event.end_date != event.start_date:
        when = f"{date(event.start_date, language)} – {date(event.end_date, language)}"
    elif event.start_date:
        when = date(event.start_date, language)
    else:
        when = render(domain, "utter_frag_ongoing", language)
    place_parts = [p for p in (event.place or event.city,) if p]
    place = (", " + joined(place_parts)) if place_parts else ""
    if event.online:
        place += render(domain, "utter_frag_online", language)
    return {
        "title": title(event, language),
        "when": when,
        "place": place,
        "summary": localized(event.summary, language, domain),
        "how": localized(event.how_to_take_part, language, domain),
        "url": str(event.url),
    }


def contact_values(contact: Contact, language: str, domain: Domain) -> dict[str, object]:
    """Values of `utter_handoff_contact`."""
    channel = joined(str(c) for c in (contact.email, contact.url, contact.phone) if c)
    hours = ""
    if contact.office_hours is not None:
        office = contact.office_hours
        hours = render(
            domain,
            "utter_frag_office_hours",
            language,
            days=joined(office.days),
            start=office.from_,
            end=office.to,
            timezone=office.timezone or "",
        )
    return {"organisation": contact.organisation, "channel": channel, "hours": hours}


def days_between(start: dt.date, end: dt.date) -> int:
    """Whole days from start to end (negative when end is earlier)."""
    return (end - start).days
