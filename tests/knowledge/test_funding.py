import datetime as dt
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.funding import (
    FundingNeeds,
    country_is_eligible,
    effective,
    own_share,
    recommend,
    upcoming_calls,
)
from knowledge.loader import load_knowledge_base

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge" / "valid"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    base, errors = load_knowledge_base(FIXTURE)
    assert errors == []
    return base


@pytest.mark.parametrize(
    ("budget", "rate", "expected"),
    [
        (100_000, 80, (20_000.0, 80_000.0)),
        (45_000, 60, (18_000.0, 27_000.0)),
        (33_333, 100, (0.0, 33_333.0)),
        (None, 80, (None, None)),
        (100_000, None, (None, None)),
    ],
)
def test_own_share_arithmetic(budget, rate, expected) -> None:
    assert own_share(budget, rate) == expected


@pytest.mark.parametrize(
    ("country", "eligible", "expected"),
    [
        ("HR", ["EU27"], True),
        ("hr", ["EU27", "ASSOCIATED"], True),
        ("NO", ["EU27"], False),
        ("NO", ["EEA"], True),
        ("RS", ["EU27", "IPA"], True),
        ("UA", ["EU27", "ASSOCIATED"], None),
        ("UA", [], None),
        ("CH", ["CH"], True),
    ],
)
def test_country_eligibility(country: str, eligible: list[str], expected: bool | None) -> None:
    assert country_is_eligible(country, eligible) is expected


def test_strand_inherits_eligibility_from_parent(kb: KnowledgeBase) -> None:
    strand = effective(kb.programmes["cerv-town-twinning"], kb)
    assert strand.eligible_applicants == ["municipality", "ngo"]
    assert strand.themes == ["democracy", "civic_participation"]
    assert strand.funding_rate is not None and strand.funding_rate.max_percent == 80


def test_upcoming_calls_count_days_to_the_next_deadline(kb: KnowledgeBase) -> None:
    # Fixture call opens 2025-12-17, deadlines 2026-02-10 and 2026-09-15.
    before = upcoming_calls(kb, "cerv-town-twinning", dt.date(2025, 12, 1))
    assert [(c.state, c.deadline, c.days_left) for c in before] == [
        ("forthcoming", dt.date(2026, 2, 10), 71)
    ]
    between = upcoming_calls(kb, "cerv-town-twinning", dt.date(2026, 3, 1))
    assert [(c.state, c.deadline, c.days_left) for c in between] == [
        ("open", dt.date(2026, 9, 15), 198)
    ]
    assert upcoming_calls(kb, "cerv-town-twinning", dt.date(2026, 9, 16)) == []


def test_municipality_in_croatia_gets_town_twinning_with_own_share(kb: KnowledgeBase) -> None:
    needs = FundingNeeds(
        applicant="municipality", country="HR", themes=("civic_participation",), budget_eur=40_000
    )
    [reco] = recommend(kb, needs, dt.date(2026, 3, 1))
    assert reco.programme.id == "cerv-town-twinning"  # the umbrella is replaced by its strand
    assert reco.fits == ("applicant", "country", "theme", "budget")  # 32k <= 50,745 max
    assert reco.fails == ()
    assert reco.funding_rate_percent == 80
    assert reco.own_share_eur == 8_000.0 and reco.eu_share_eur == 32_000.0
    assert [c.call.id for c in reco.calls] == ["cerv-2026-citizens-town-tt"]


def test_ineligible_applicant_and_country_are_reported_as_failures(kb: KnowledgeBase) -> None:
    needs = FundingNeeds(applicant="sme", country="US", themes=("democracy",))
    [reco] = recommend(kb, needs, dt.date(2026, 3, 1))
    assert reco.fails == ("applicant",)
    assert reco.unknown == ("country",)  # ASSOCIATED: cannot say for sure
    assert not reco.eligible


def test_budget_above_the_grant_ceiling_fails(kb: KnowledgeBase) -> None:
    needs = FundingNeeds(themes=("democracy",), budget_eur=1_000_000)
    [reco] = recommend(kb, needs, dt.date(2026, 3, 1))
    assert "budget" in reco.fails  # 80% of 1M is above the EUR 50,745 maximum


def test_no_theme_match_means_no_recommendation(kb: KnowledgeBase) -> None:
    assert recommend(kb, FundingNeeds(themes=("mobility",)), dt.date(2026, 3, 1)) == []
