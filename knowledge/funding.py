"""Which programmes fit a project: eligibility, own share and upcoming calls.

Pure functions over a loaded `KnowledgeBase`: the funding-finder conversation asks
who applies, from where, on which themes and with what budget, and this module
ranks the programmes, says why each fits or fails, computes the applicant's own
share where the funding rate is known, and lists the open and forthcoming calls.
Nothing here guesses: a rate or grant size that no record states stays None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final, Literal

from knowledge.base import KnowledgeBase
from knowledge.schema import Call, Programme, call_status

EU27: Final[frozenset[str]] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
"""Member States (ISO 3166-1 alpha-2; Greece is GR)."""

EEA_EFTA: Final[frozenset[str]] = frozenset({"IS", "LI", "NO"})
IPA_BENEFICIARIES: Final[frozenset[str]] = frozenset({"AL", "BA", "ME", "MK", "RS", "XK", "TR"})

Criterion = Literal["applicant", "country", "theme", "cross_border", "budget"]
"""What the finder checks; a recommendation says for each whether it fits."""

CallState = Literal["open", "forthcoming"]


@dataclass(frozen=True)
class FundingNeeds:
    """What the applicant told the funding finder (None: not said)."""

    applicant: str | None = None
    country: str | None = None
    themes: tuple[str, ...] = ()
    budget_eur: float | None = None
    cross_border: bool | None = None


@dataclass(frozen=True)
class UpcomingCall:
    """A call that is open or not yet open, with its next deadline."""

    call: Call
    state: CallState
    deadline: dt.date
    days_left: int


@dataclass(frozen=True)
class Recommendation:
    """One programme with the reasons it fits and the criteria it fails."""

    programme: Programme
    score: float
    fits: tuple[Criterion, ...]
    fails: tuple[Criterion, ...]
    unknown: tuple[Criterion, ...]
    matched_themes: tuple[str, ...]
    funding_rate_percent: float | None
    own_share_eur: float | None
    eu_share_eur: float | None
    calls: tuple[UpcomingCall, ...] = field(default_factory=tuple)

    @property
    def eligible(self) -> bool:
        """True when no stated criterion fails."""
        return not self.fails


# Weights of the ranking: a failed eligibility rule outweighs any theme match.
THEME_WEIGHT: Final = 2.0
ELIGIBLE_WEIGHT: Final = 1.0
FAIL_PENALTY: Final = 5.0
OPEN_CALL_BONUS: Final = 1.0


def country_is_eligible(country: str, eligible: list[str]) -> bool | None:
    """Whether `country` is covered by a programme's country list (None: unknown)."""
    if not eligible:
        return None
    code = country.upper()
    if code in eligible:
        return True
    groups = {
        "EU27": EU27,
        "EEA": EU27 | EEA_EFTA,
        "IPA": IPA_BENEFICIARIES,
    }
    if any(code in groups.get(group, frozenset()) for group in eligible):
        return True
    # "ASSOCIATED" depends on each programme's association agreements.
    return None if "ASSOCIATED" in eligible else False


def effective(programme: Programme, kb: KnowledgeBase) -> Programme:
    """A strand's record with empty eligibility lists taken from its parent."""
    parent = kb.programmes.get(programme.parent) if programme.parent else None
    if parent is None:
        return programme
    inherited: dict[str, object] = {}
    for name in ("eligible_applicants", "eligible_countries", "themes"):
        if not getattr(programme, name):
            inherited[name] = getattr(parent, name)
    for name in ("funding_rate", "how_to_apply", "period", "managing_body"):
        if getattr(programme, name) is None and getattr(parent, name) is not None:
            inherited[name] = getattr(parent, name)
    return programme.model_copy(update=inherited) if inherited else programme


def upcoming_calls(kb: KnowledgeBase, programme_id: str, today: dt.date) -> list[UpcomingCall]:
    """Open and forthcoming calls of a programme, soonest deadline first."""
    found: list[UpcomingCall] = []
    for call in kb.calls.values():
        if call.programme != programme_id:
            continue
        state = call_status(call, today)
        if state == "closed":
            continue
        deadline = next(d.date for d in call.deadlines if d.date >= today)
        found.append(UpcomingCall(call, state, deadline, (deadline - today).days))
    return sorted(found, key=lambda c: c.deadline)


def own_share(
    budget_eur: float | None, rate_percent: float | None
) -> tuple[float | None, float | None]:
    """(own share, EU share) of a budget at a funding rate; None when either is unknown."""
    if budget_eur is None or rate_percent is None:
        return None, None
    eu = round(budget_eur * rate_percent / 100, 2)
    return round(budget_eur - eu, 2), eu


def assess(
    programme: Programme, needs: FundingNeeds, kb: KnowledgeBase, today: dt.date
) -> Recommendation:
    """Check one programme against the needs and score it."""
    record = effective(programme, kb)
    fits: list[Criterion] = []
    fails: list[Criterion] = []
    unknown: list[Criterion] = []

    def judge(criterion: Criterion, verdict: bool | None) -> None:
        if verdict is None:
            unknown.append(criterion)
        elif verdict:
            fits.append(criterion)
        else:
            fails.append(criterion)

    if needs.applicant:
        applicants = record.eligible_applicants
        judge("applicant", (needs.applicant in applicants) if applicants else None)
    if needs.country:
        judge("country", country_is_eligible(needs.country, list(record.eligible_countries)))
    matched = tuple(t for t in needs.themes if t in record.themes)
    if needs.themes:
        judge("theme", bool(matched))
    if needs.cross_border is False and "cross_border_cooperation" in record.themes:
        judge("cross_border", False)
    elif needs.cross_border and "cross_border_cooperation" in record.themes:
        judge("cross_border", True)
    rate = record.funding_rate.max_percent if record.funding_rate else None
    grant_max = record.grant_size.max if record.grant_size else None
    if needs.budget_eur is not None and grant_max is not None:
        eu_needed = needs.budget_eur * (rate if rate is not None else 100) / 100
        judge("budget", eu_needed <= grant_max)
    own, eu = own_share(needs.budget_eur, rate)
    calls = tuple(upcoming_calls(kb, programme.id, today))
    score = (
        THEME_WEIGHT * len(matched)
        + ELIGIBLE_WEIGHT * len(fits)
        - FAIL_PENALTY * len(fails)
        + (OPEN_CALL_BONUS if any(c.state == "open" for c in calls) else 0.0)
    )
    return Recommendation(
        programme=record,
        score=score,
        fits=tuple(fits),
        fails=tuple(fails),
        unknown=tuple(unknown),
        matched_themes=matched,
        funding_rate_percent=rate,
        own_share_eur=own,
        eu_share_eur=eu,
        calls=calls,
    )


def is_current(programme: Programme, today: dt.date) -> bool:
    """False for programmes whose period ended (predecessors such as Europe for Citizens)."""
    period = programme.period
    return period is None or period.end is None or period.end >= today.year


def recommend(
    kb: KnowledgeBase, needs: FundingNeeds, today: dt.date | None = None
) -> list[Recommendation]:
    """Current programmes ranked for the needs: eligible ones first, then by score.

    Umbrella programmes that have strands are left out in favour of the strands,
    which carry the concrete calls and rules.
    """
    today = today or dt.date.today()
    parents = {p.parent for p in kb.programmes.values() if p.parent}
    candidates = [
        assess(p, needs, kb, today)
        for p in kb.programmes.values()
        if p.id not in parents and is_current(effective(p, kb), today)
    ]
    relevant = [r for r in candidates if not needs.themes or r.matched_themes]
    return sorted(
        relevant,
        key=lambda r: (not r.eligible, -r.score, r.programme.id),
    )
