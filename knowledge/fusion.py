"""Combining the BM25 and the dense ranking into one.

Two methods, compared on the labelled dev set in ``docs/benchmarks.md``:

* reciprocal rank fusion (Cormack et al. 2009): ``sum 1 / (k + rank)``. It
  ignores score scales, which differ wildly between BM25 (unbounded, grows
  with query length) and cosine similarity (about 0.1-0.8 here).
* convex combination of min-max normalised scores: keeps how far ahead the
  leader is, but is sensitive to the outliers that set the min and max.

Both only rank: each method's best hit gets the top score whatever it matched,
so neither says whether to answer at all. That decision uses
:func:`calibrated_probability` over absolute evidence (raw BM25 against what the
query could score, raw cosine and its margin), fitted by ``bench/run.py abstain``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None
) -> dict[int, float]:
    """Fuse rankings (best first) by (weighted) reciprocal rank.

    Args:
        rankings: Each a list of item ids, best first.
        k: Damping constant; 60 is the value of the original paper.
        weights: One weight per ranking (default: all 1, the original RRF).

    Returns:
        Fused score per item (higher is better).
    """
    factors = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(factors) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, factors, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def _min_max(scores: Mapping[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, 1.0)
    return {item: (score - low) / (high - low) for item, score in scores.items()}


def convex_fusion(
    scores: Sequence[Mapping[int, float]], weights: Sequence[float]
) -> dict[int, float]:
    """Fuse score maps by a weighted sum of min-max normalised scores.

    An item missing from a list gets 0 from it (as if it were last).

    Args:
        scores: Each a mapping of item id to raw score.
        weights: One weight per mapping.
    """
    if len(scores) != len(weights):
        raise ValueError("one weight per score list is needed")
    fused: dict[int, float] = {}
    for mapping, weight in zip(scores, weights, strict=True):
        for item, value in _min_max(mapping).items():
            fused[item] = fused.get(item, 0.0) + weight * value
    return fused


def ranked(scores: Mapping[int, float]) -> list[int]:
    """Items by descending score; ties keep the lower id first (deterministic)."""
    return sorted(scores, key=lambda item: (-scores[item], item))


def calibrated_probability(features: Sequence[float], coefficients: Sequence[float]) -> float:
    """Logistic model: ``1 / (1 + exp(-(c0 + c1 * f1 + ...)))``.

    Args:
        features: The evidence, e.g. (lexical, cosine, cosine margin).
        coefficients: Intercept first, then one weight per feature (as fitted).

    Raises:
        ValueError: If the lengths do not match.
    """
    if len(coefficients) != len(features) + 1:
        raise ValueError("one coefficient per feature plus the intercept is needed")
    z = coefficients[0] + sum(c * f for c, f in zip(coefficients[1:], features, strict=True))
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)  # no overflow for very negative z
    return e / (1.0 + e)
