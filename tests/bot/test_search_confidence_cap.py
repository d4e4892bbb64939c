"""A hit that shares no word with the question never passes the fallback gate."""

from bot.search_adapter import confidence
from bot.settings import BotSettings
from knowledge.search import Evidence

STRONG_COSINE = Evidence(lexical=0.0, cosine=0.95, cosine_margin=0.1)
SAME_WITH_WORDS = Evidence(lexical=0.8, cosine=0.95, cosine_margin=0.1)
COEFFICIENTS = (-4.0, 6.0, 5.0, 3.0)


def test_dense_only_evidence_is_capped_below_the_fallback_gate() -> None:
    settings = BotSettings()
    capped = confidence(STRONG_COSINE, COEFFICIENTS, settings.dense_only_max_confidence)
    assert capped <= settings.dense_only_max_confidence < settings.fallback_min_confidence
    assert capped >= settings.answer_min_confidence  # a recognised question can still use it


def test_shared_words_are_not_capped() -> None:
    assert confidence(SAME_WITH_WORDS, COEFFICIENTS, 0.55) > 0.9
