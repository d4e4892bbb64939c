"""Settings of the Rasa bot's Python side (custom actions and language decision)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

BOT_DIR = Path(__file__).resolve().parent


class BotSettings(BaseSettings):
    """Tunable parameters of the custom actions, read from `BOT_*` variables."""

    model_config = SettingsConfigDict(
        env_prefix="BOT_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    default_language: str = "en"
    # Statistical detection is trusted only on texts at least this long...
    detection_min_chars: int = 20
    detection_min_words: int = 3
    # ...and only when the detector is at least this sure.
    detection_min_probability: float = 0.90
    # Below this many words, a switch between closely related languages (hr, sl,
    # and Serbian/Bosnian read as hr) does not change the conversation's language.
    related_switch_min_words: int = 6
    # Languages the statistical detector cannot identify: their marker words win.
    detector_blind_languages: frozenset[str] = frozenset({"ga", "mt"})
    language_markers_file: Path = BOT_DIR / "language_markers.yml"
    # A search hit's confidence is the calibrated probability that answering with it
    # is useful (an in-scope question, an expected record in the top 3): a logistic
    # model of the hit's absolute evidence (knowledge.search.Evidence: lexical, cosine,
    # cosine margin), coefficients (intercept first) per embedding model name of the
    # index, fitted by `bench/run.py abstain` on the dev and out-of-scope sets
    # (docs/benchmarks.md gives its held-out precision and recall). A model without an
    # entry (e.g. the tests' hashing embedder) uses "lexical", fitted on BM25 alone.
    confidence_coefficients: dict[str, tuple[float, float, float, float]] = {
        "intfloat/multilingual-e5-small": (-40.6, 3.59, 48.4, 1.65),
        "sentence-transformers/all-MiniLM-L6-v2": (-4.45, 9.83, 5.63, -2.94),
        "lexical": (-1.19, 10.32, 0.0, 0.0),
    }
    # A search hit below this confidence (0..1) is not shown as an answer: the bot
    # asks a clarifying question instead (then offers a person).
    fallback_min_confidence: float = 0.6
    # A question the NLU recognised (which programme funds X?) is answered from a hit
    # at least this confident; weaker hits lead to a clarifying question.
    answer_min_confidence: float = 0.35
    # A hit sharing no word with the question (dense evidence only) stays below the
    # fallback gate: "qxvz wjkq" is not answered, a recognised question still can be.
    dense_only_max_confidence: float = 0.55


@lru_cache(maxsize=1)
def get_settings() -> BotSettings:
    """Return the process-wide settings, read once from the environment."""
    return BotSettings()
