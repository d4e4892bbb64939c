"""Fusion of the two rankings, and the logistic model behind the answer / abstain decision."""

from __future__ import annotations

import math

import pytest

from knowledge.fusion import (
    calibrated_probability,
    convex_fusion,
    ranked,
    reciprocal_rank_fusion,
)
from knowledge.search import Evidence


def test_rrf_adds_weighted_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([[1, 2], [2, 3]], k=1, weights=[1.0, 0.5])
    assert fused == pytest.approx({1: 1 / 2, 2: 1 / 3 + 0.5 / 2, 3: 0.5 / 3})


def test_rrf_needs_one_weight_per_ranking() -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[1], [2]], weights=[1.0])


def test_convex_fusion_rescales_each_method_so_its_best_hit_is_one() -> None:
    # What the calibrated decision replaces: a weak best match (BM25 0.2) scores 1.0
    # from its method exactly like a strong one would.
    fused = convex_fusion([{1: 0.2, 2: 0.1}, {1: 0.31, 2: 0.30}], [0.5, 0.5])
    assert fused[1] == pytest.approx(1.0)
    assert fused[2] == pytest.approx(0.0)


def test_convex_fusion_gives_a_missing_item_nothing_from_that_method() -> None:
    fused = convex_fusion([{1: 3.0, 2: 1.0}, {2: 0.9, 3: 0.5}], [0.5, 0.5])
    assert fused == pytest.approx({1: 0.5, 2: 0.5, 3: 0.0})


def test_ranked_breaks_ties_by_id() -> None:
    assert ranked({3: 1.0, 1: 1.0, 2: 2.0}) == [2, 1, 3]


def test_calibrated_probability_is_the_logistic_of_the_linear_score() -> None:
    p = calibrated_probability((0.5, 0.8, 0.1), (-1.0, 2.0, 1.0, 3.0))
    assert p == pytest.approx(1 / (1 + math.exp(-(-1.0 + 1.0 + 0.8 + 0.3))))


def test_calibrated_probability_grows_with_evidence_and_stays_in_0_1() -> None:
    coefficients = (-40.0, 4.0, 47.0, 1.0)
    weak = calibrated_probability((0.0, 0.75, 0.0), coefficients)
    strong = calibrated_probability((0.6, 0.93, 0.1), coefficients)
    assert 0.0 <= weak < 0.05 < 0.95 < strong <= 1.0
    assert calibrated_probability((0.0, 0.0, 0.0), (-1e4, 0, 0, 0)) == pytest.approx(0.0)
    assert calibrated_probability((0.0, 0.0, 0.0), (1e4, 0, 0, 0)) == pytest.approx(1.0)


def test_calibrated_probability_needs_an_intercept_and_one_weight_per_feature() -> None:
    with pytest.raises(ValueError):
        calibrated_probability((0.1, 0.2, 0.3), (1.0, 2.0, 3.0))


def test_missing_evidence_counts_as_zero() -> None:
    assert Evidence(None, None, None).features() == (0.0, 0.0, 0.0)
    assert Evidence(0.4, 0.8, -0.02).features() == (0.4, 0.8, -0.02)
