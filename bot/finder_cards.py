"""Funding-finder results as phone-sized cards in the user's language.

One card per recommended programme: the title in bold, one or two sentences of
what it is (only in the user's language; otherwise one sentence saying the
details are on the official page), why it fits or fails, the funding rate and
the user's own share, and the next deadline (or when the last call closed).
Editors' notes never appear: a figure the sources disagree on gets the single
"sources differ" line. The official link travels in the message's custom json,
never in the text. Every word comes from the domain (`utter_frag_*`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import cards, presenters
from bot.rendering import render
from knowledge.base import KnowledgeBase
from knowledge.funding import FundingNeeds, Recommendation

Domain = Mapping[str, Any]

CARD_MAX_CHARS = cards.CARD_MAX_CHARS
# The summary gets what the other lines leave, but never less than this.
SUMMARY_MIN_CHARS = 80
SUMMARY_MAX_CHARS = 220
CRITERIA_SEPARATOR = " · "


@dataclass(frozen=True)
class FinderCard:
    """One recommendation as a message: its text, link and record id."""

    record_id: str
    title: str
    text: str
    url: str


def _bold(text: str) -> str:
    return f"**{text.replace('**', '')}**"


def _summary(reco: Recommendation, language: str, domain: Domain, limit: int) -> str:
    text = cards.in_language(reco.programme.summary, language)
    if text:
        return cards.first_sentences(text, max(limit, SUMMARY_MIN_CHARS))
    return render(domain, "utter_frag_card_other_language", language)


def _money_line(reco: Recommendation, needs: FundingNeeds, language: str, domain: Domain) -> str:
    """'up to 80% EU funding. For a budget of ... your own share is ...'."""
    if reco.funding_rate_percent is None:
        return ""
    line = presenters.rate_text(reco.funding_rate_percent, language, domain)
    share = presenters.share_text(reco, needs.budget_eur, language, domain)
    return f"{line}. {share}" if share else line


def _sources_differ(reco: Recommendation, language: str, domain: Domain) -> str:
    programme = reco.programme
    rate_uncertain = bool(programme.funding_rate and programme.funding_rate.uncertain)
    if rate_uncertain or programme.uncertain:
        return render(domain, "utter_frag_sources_differ", language)
    return ""


def _join(lines: Iterable[str]) -> str:
    return "\n".join(line.strip() for line in lines if line and line.strip())


def recommendation_card(
    reco: Recommendation,
    rank: int,
    needs: FundingNeeds,
    kb: KnowledgeBase,
    language: str,
    domain: Domain,
    today: dt.date,
) -> FinderCard:
    """The card of one recommendation, within the first bubble's budget."""
    programme = reco.programme
    title = presenters.title(programme, language)
    head = f"{rank}. {_bold(title)}"
    body = [
        presenters.reasons_text(reco, needs.applicant, needs.country, language, domain),
        _money_line(reco, needs, language, domain),
        cards.deadline_line(kb, programme, language, domain, today),
        _sources_differ(reco, language, domain),
    ]
    fixed = len(_join([head, *body]))
    room = min(SUMMARY_MAX_CHARS, CARD_MAX_CHARS - fixed - 1)
    text = _join([head, _summary(reco, language, domain, room), *body])
    return FinderCard(programme.id, title, _fit(text), str(programme.url))


def _fit(text: str) -> str:
    """Drop lines from the end (keeping the title) until the card fits."""
    lines = text.split("\n")
    while len("\n".join(lines)) > CARD_MAX_CHARS and len(lines) > 1:
        lines.pop()
    return "\n".join(lines)[:CARD_MAX_CHARS]


def criteria_text(needs: FundingNeeds, language: str) -> str:
    """What the ranking is for, in the user's words: 'cities · Croatia · climate'."""
    parts = [
        presenters.applicant_labels([needs.applicant], language) if needs.applicant else "",
        presenters.country_label(needs.country, language) if needs.country else "",
        presenters.theme_labels(needs.themes, language),
    ]
    return CRITERIA_SEPARATOR.join(part for part in parts if part)
