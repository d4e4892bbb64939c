"""Answer cards: one record as a short, phone-sized reply in the user's language.

A card names the record in bold, says what it is, who can apply, how much the EU
pays (and the user's own share when a budget is known), and the next deadline, or
when the last call closed. Only text in the user's language is shown; a record
without it gets one sentence saying so. Editors' notes stay in the records: a card
shows at most the line that sources differ. The official link travels as a link,
never as text. Every word comes from the domain (`utter_frag_card_*`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import presenters
from bot.rendering import date, money, render
from knowledge.base import KnowledgeBase
from knowledge.funding import UpcomingCall, effective, own_share, upcoming_calls
from knowledge.schema import Call, Event, LocalizedText, Practice, Programme, call_status

Domain = Mapping[str, Any]
CardRecord = Programme | Call | Practice | Event

# The first bubble of a card stays within this many characters (phones).
CARD_MAX_CHARS = 600
# A summary sentence longer than this is cut at a word boundary.
SUMMARY_MAX_CHARS = 260
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я0-9„«\"(])")


@dataclass(frozen=True)
class Card:
    """What one record looks like as an answer."""

    record_id: str
    title: str
    text: str
    url: str


def in_language(text: LocalizedText | None, language: str) -> str | None:
    """The text in exactly this language, or None (no silent English)."""
    if text is None:
        return None
    value, served = text.get(language)
    return value if served == language else None


def first_sentences(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """The opening sentence(s) of a text, within `limit` characters."""
    parts = _SENTENCE_END.split(text.strip())
    kept = ""
    for part in parts:
        candidate = f"{kept} {part}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _summary_line(text: LocalizedText | None, language: str, domain: Domain) -> str:
    value = in_language(text, language)
    if value:
        return first_sentences(value)
    return render(domain, "utter_frag_card_other_language", language)


def _bold(title: str) -> str:
    return f"**{title.replace('**', '')}**"


_DOUBLE_STOP = re.compile(r"(?<=[^.])\.\.(?=\s|$)")


def _lines(*lines: str) -> str:
    """Non-empty lines; a date ending in '.' (hr, de, ...) does not get a second stop."""
    return "\n".join(_DOUBLE_STOP.sub(".", line) for line in lines if line)


def _fit(text: str, limit: int = CARD_MAX_CHARS) -> str:
    """Drop trailing lines until the card fits the first bubble's budget."""
    lines = text.split("\n")
    while len("\n".join(lines)) > limit and len(lines) > 2:
        lines.pop(-2 if len(lines) > 3 else -1)
    return "\n".join(lines)[: limit + 1]


def programme_calls(kb: KnowledgeBase, programme: Programme, today: dt.date) -> list[UpcomingCall]:
    """Open and forthcoming calls of a programme and its strands, soonest first."""
    ids = [programme.id] + [p.id for p in kb.programmes.values() if p.parent == programme.id]
    calls = [c for pid in ids for c in upcoming_calls(kb, pid, today)]
    return sorted(calls, key=lambda c: c.deadline)


def _last_closed(kb: KnowledgeBase, programme: Programme) -> Call | None:
    ids = {programme.id} | {p.id for p in kb.programmes.values() if p.parent == programme.id}
    past = [c for c in kb.calls.values() if c.programme in ids]
    return max(past, key=lambda c: c.closing_date) if past else None


def deadline_line(
    kb: KnowledgeBase, programme: Programme, language: str, domain: Domain, today: dt.date
) -> str:
    """The next deadline with days left, or when the last call closed, or 'no dates'."""
    calls = programme_calls(kb, programme, today)
    if calls:
        return presenters.call_line(calls[0], language, domain)
    last = _last_closed(kb, programme)
    if last is not None:
        return render(
            domain, "utter_frag_card_no_open_call", language, date=date(last.closing_date, language)
        )
    return render(domain, "utter_frag_card_no_call_known", language)


def _rate_line(programme: Programme, budget: float | None, language: str, domain: Domain) -> str:
    rate = programme.funding_rate
    percent = rate.max_percent if rate else None
    if percent is None:
        return ""
    line = presenters.rate_text(percent, language, domain)
    own, eu = own_share(budget, percent)
    if own is not None and budget:
        line += ". " + render(
            domain,
            "utter_frag_own_share",
            language,
            budget=money(budget, language),
            own_share=money(own, language),
            eu_share=money(eu, language),
        )
    return line


def _who_line(applicants: Sequence[str], language: str, domain: Domain) -> str:
    if not applicants:
        return ""
    labels = presenters.applicant_labels(applicants, language)
    return render(domain, "utter_frag_card_who", language, who=labels)


def _differ_line(uncertain: bool, language: str, domain: Domain) -> str:
    return render(domain, "utter_frag_sources_differ", language) if uncertain else ""


def programme_card(
    programme: Programme,
    kb: KnowledgeBase,
    language: str,
    domain: Domain,
    today: dt.date,
    budget: float | None = None,
) -> Card:
    """Card of a funding programme (strands inherit their parent's fields)."""
    record = effective(programme, kb)
    rate_uncertain = bool(record.funding_rate and record.funding_rate.uncertain)
    text = _lines(
        _bold(presenters.title(record, language)),
        _summary_line(record.summary, language, domain),
        _who_line(record.eligible_applicants, language, domain),
        _rate_line(record, budget, language, domain),
        deadline_line(kb, record, language, domain, today),
        _differ_line(rate_uncertain, language, domain),
    )
    return Card(record.id, presenters.title(record, language), _fit(text), str(record.url))


def _call_state_line(call: Call, language: str, domain: Domain, today: dt.date) -> str:
    upcoming = upcoming_calls_of(call, today)
    if upcoming:
        return presenters.call_line(upcoming[0], language, domain)
    return render(
        domain, "utter_frag_card_no_open_call", language, date=date(call.closing_date, language)
    )


def upcoming_calls_of(call: Call, today: dt.date) -> list[UpcomingCall]:
    """The call itself as an upcoming call when its next deadline is still ahead."""
    state = call_status(call, today)
    if state == "closed":
        return []
    deadline = min(d.date for d in call.deadlines if d.date >= today)
    return [UpcomingCall(call, state, deadline, (deadline - today).days)]


def checked_on(call: Call) -> dt.date:
    """When the call's facts were last read from a source: the import's fetch or a check."""
    return call.fetched_at.date() if call.fetched_at else call.last_verified


def checked_line(calls: Sequence[Call], language: str, domain: Domain) -> str:
    """'Checked 7 December 2026.': the oldest check of the calls shown, so none looks fresher."""
    if not calls:
        return ""
    oldest = min(checked_on(call) for call in calls)
    line = render(domain, "utter_frag_card_checked", language, date=date(oldest, language))
    # Dates that end in a period (Croatian "24. studenoga 2026.") before the sentence's own.
    return line.replace("..", ".")


def call_card(call: Call, kb: KnowledgeBase, language: str, domain: Domain, today: dt.date) -> Card:
    """Card of one call: its programme, state and deadline, budget when known."""
    title, _ = call.title.get(language)
    programme = kb.programmes.get(call.programme)
    full = effective(programme, kb) if programme else None
    name = (full.acronym or presenters.title(full, language)) if full else ""
    heading = f"{name}: {title}" if name and name.casefold() not in title.casefold() else title
    budget = money(call.budget.amount, language, call.budget.currency) if call.budget else None
    applicants = full.eligible_applicants if full else []
    text = _lines(
        _bold(heading),
        _who_line(applicants, language, domain),
        _call_state_line(call, language, domain, today),
        f"💶 {budget}" if budget else "",
        _differ_line(bool(call.budget and call.budget.uncertain), language, domain),
        checked_line([call], language, domain),
    )
    return Card(call.id, heading, _fit(text), str(call.url))


def practice_card(practice: Practice, kb: KnowledgeBase, language: str, domain: Domain) -> Card:
    """Card of a best practice: where, since when, what, funded by."""
    where = f"{practice.city}, {presenters.country_label(practice.country, language)}"
    if practice.year_started is not None:
        where += ", " + render(
            domain, "utter_frag_card_since", language, year=practice.year_started
        )
    funders = [kb.programmes[p] for p in practice.funded_by if p in kb.programmes]
    funded = (
        render(
            domain,
            "utter_frag_funded_by",
            language,
            programmes=presenters.joined(
                p.acronym or presenters.title(p, language) for p in funders
            ),
        ).strip()
        if funders
        else ""
    )
    text = _lines(
        f"{_bold(presenters.title(practice, language))} ({where})",
        _summary_line(practice.summary, language, domain),
        funded,
    )
    return Card(practice.id, presenters.title(practice, language), _fit(text), str(practice.url))


def event_card(event: Event, language: str, domain: Domain, today: dt.date) -> Card:
    """Card of an event or participation process: when, where, how to take part."""
    values = presenters.event_values(event, language, domain)
    when = render(
        domain, "utter_frag_card_when", language, when=f"{values['when']}{values['place']}"
    )
    ended = event.end_date or event.start_date
    past = ended is not None and ended < today
    how = in_language(event.how_to_take_part, language)
    text = _lines(
        _bold(presenters.title(event, language)),
        when,
        _summary_line(event.summary, language, domain),
        render(domain, "utter_frag_card_take_part", language, how=first_sentences(how))
        if how and not past
        else "",
        render(domain, "utter_frag_card_past_event", language) if past else "",
    )
    return Card(event.id, presenters.title(event, language), _fit(text), str(event.url))


def card_for(
    record: CardRecord,
    kb: KnowledgeBase,
    language: str,
    domain: Domain,
    today: dt.date,
    budget: float | None = None,
) -> Card:
    """The card of any answerable record."""
    if isinstance(record, Programme):
        return programme_card(record, kb, language, domain, today, budget)
    if isinstance(record, Call):
        return call_card(record, kb, language, domain, today)
    if isinstance(record, Practice):
        return practice_card(record, kb, language, domain)
    return event_card(record, language, domain, today)


def details_text(record: CardRecord, kb: KnowledgeBase, language: str, domain: Domain) -> str:
    """What "more details" adds: the full description and how to apply or take part.

    Empty when the record has no more text in the user's language.
    """
    if isinstance(record, Programme):
        full = effective(record, kb)
        how = in_language(full.how_to_apply, language)
        summary = in_language(full.summary, language)
        extra = summary if summary and summary != first_sentences(summary) else ""
        return _lines(
            extra,
            render(domain, "utter_frag_card_how", language, how=how) if how else "",
            _differ_line(bool(full.uncertain), language, domain),
        )
    if isinstance(record, Practice):
        summary = in_language(record.summary, language)
        outcome = in_language(record.outcome, language)
        extra = summary if summary and summary != first_sentences(summary) else ""
        return _lines(
            extra,
            render(domain, "utter_frag_card_outcome", language, outcome=outcome) if outcome else "",
        )
    if isinstance(record, Event):
        how = in_language(record.how_to_take_part, language)
        return render(domain, "utter_frag_card_take_part", language, how=how) if how else ""
    return ""
