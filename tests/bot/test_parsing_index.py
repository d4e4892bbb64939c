"""The indexed matcher of `Lexicon.find_all` must answer exactly as the plain scan.

`find_all` used to try every pattern (longest first, ties in lexicon order) at
every word; the first-token index exists only for speed (issue 8). The reference
below is that plain scan, and the inputs put every pattern of every lexicon into
sentences of several languages, in inflected forms where the pattern has a `*`,
next to other patterns (so longest-match and tie order are exercised) and in
seeded random word salads made of lexicon words.
"""

from __future__ import annotations

import random

import pytest

from bot.event_query import city_lexicon, period_lexicon
from bot.parsing import Lexicon, Pattern, load_lexicon, tokens

LEXICONS = ("applicants", "themes", "countries", "language_names", "event_words")

# "{}" is where a lexicon phrase goes.
TEMPLATES = (
    "We are {} and we need funding",
    "Mi smo {} iz Splita, trebamo potporu",
    "Wir sind {} und suchen Förderung",
    "Nous sommes {} et cherchons un financement",
    "Siamo {} e cerchiamo fondi",
    "Somos {} y buscamos financiación",
    "Jesteśmy {} i szukamy dofinansowania",
    "{}",
)
# Endings a `*` token accepts in the languages users write in ("" = the bare stem).
SUFFIXES = ("", "a", "e", "i", "u", "om", "ima", "ie", "ów", "en", "es", "s")
FILLER = ("and", "i", "und", "et", "e", "y", "z", "the", "of", "na", "in", "für", "42")

RANDOM_SENTENCES = 300
# Sentences built from single patterns, at most: the plain scan of a 24-language lexicon
# costs (patterns x words) per sentence, so every pattern of every lexicon took minutes.
# A seeded sample of this size still puts each kind of pattern into sentences.
MAX_PATTERN_SENTENCES = 500


def plain_order(lexicon: Lexicon) -> list[Pattern]:
    """Longest first; sorted() is stable, so ties keep the lexicon's order."""
    return sorted(lexicon.patterns, key=lambda p: -len(p.parts))


def reference_find_all(
    lexicon: Lexicon, text: str, ordered: list[Pattern] | None = None
) -> list[str]:
    """The plain scan: at each word the first pattern (longest first) that matches."""
    words = tokens(text)
    ordered = ordered if ordered is not None else plain_order(lexicon)
    found: list[str] = []
    position = 0
    while position < len(words):
        hit = next((p for p in ordered if p.match_at(words, position)), None)
        if hit is None:
            position += 1
            continue
        if hit.key not in found:
            found.append(hit.key)
        position += len(hit.parts)
    return found


def phrase(pattern: Pattern, variant: int) -> str:
    """The pattern as text a user could type; `*` tokens get an inflection."""
    words = [
        part[:-1] + SUFFIXES[(variant + i) % len(SUFFIXES)] if part.endswith("*") else part
        for i, part in enumerate(pattern.parts)
    ]
    text = " ".join(words)
    return text.upper() if variant % 5 == 0 else text


def sentences(lexicon: Lexicon, seed: int) -> list[str]:
    """Every pattern in a sentence, pairs of patterns side by side, random salads."""
    rng = random.Random(seed)
    patterns = lexicon.patterns
    if len(patterns) > MAX_PATTERN_SENTENCES:
        patterns = tuple(rng.sample(patterns, MAX_PATTERN_SENTENCES))
    out = [
        TEMPLATES[i % len(TEMPLATES)].format(phrase(pattern, i))
        for i, pattern in enumerate(patterns)
    ]
    # Neighbours: a pattern followed by another that may share or extend its words.
    out += [
        f"{phrase(patterns[i], i)} {phrase(patterns[(i * 7 + 3) % len(patterns)], i + 1)}"
        for i in range(0, len(patterns), 3)
    ]
    vocabulary = [phrase(p, rng.randrange(len(SUFFIXES))) for p in patterns]
    vocabulary += [part.rstrip("*") for p in patterns for part in p.parts]
    vocabulary += FILLER
    out += [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 9)))
        for _ in range(RANDOM_SENTENCES)
    ]
    return out


def lexicons() -> list[tuple[str, Lexicon]]:
    """The lexicons `bot/` matches with: the five files, periods, cities."""
    named = [(name, load_lexicon(name)) for name in LEXICONS]
    named += [(f"periods-{lang}", period_lexicon(lang)) for lang in ("hr", "pl", "de")]
    cities = ["Zagreb", "Split", "Novi Sad", "Novi Zagreb", "Rijeka", "Den Haag", "Wien"]
    named.append(("cities", city_lexicon(cities)))
    return named


@pytest.mark.slow  # seconds: the plain scan is the slow thing the index replaced
@pytest.mark.parametrize(
    ("name", "lexicon"), lexicons(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_indexed_matcher_equals_plain_scan(name: str, lexicon: Lexicon) -> None:
    texts = sentences(lexicon, seed=len(name))
    ordered = plain_order(lexicon)
    mismatches = [
        (text, got, want)
        for text in texts
        if (got := lexicon.find_all(text)) != (want := reference_find_all(lexicon, text, ordered))
    ]
    assert not mismatches, mismatches[:10]
    # The inputs must actually hit the lexicon, or equality proves nothing.
    sampled = min(len(lexicon.patterns), MAX_PATTERN_SENTENCES)
    assert sum(bool(lexicon.find_all(text)) for text in texts) > sampled // 2


def test_tie_between_equally_long_patterns_keeps_lexicon_order() -> None:
    # Slovak "Slovensko" (SK) is listed before the Slovenian prefix "slovensk*" (SI).
    lexicon = Lexicon(
        (Pattern("SK", ("slovensko",)), Pattern("SI", ("slovensk*",)), Pattern("X", ("slo*",))),
        {},
    )
    assert lexicon.find_all("Slovensko") == reference_find_all(lexicon, "Slovensko") == ["SK"]
    assert lexicon.find_all("slovenska") == ["SI"]
    assert lexicon.find_all("slon") == ["X"]
    swapped = Lexicon((lexicon.patterns[1], lexicon.patterns[0]), {})
    assert swapped.find_all("Slovensko") == ["SI"]


def test_longer_pattern_wins_over_prefix_of_its_first_word() -> None:
    lexicon = Lexicon(
        (
            Pattern("one", ("grad*",)),
            Pattern("two", ("grad*", "zagreb*")),
            Pattern("z", ("zagreb",)),
        ),
        {},
    )
    for text in ("Grad Zagreb", "gradu Zagrebu", "gradovi zagreb zagreb", "zagreb grad"):
        assert lexicon.find_all(text) == reference_find_all(lexicon, text), text


def test_candidate_memo_stays_bounded() -> None:
    lexicon = Lexicon((Pattern("a", ("ab*",)),), {})
    for i in range(10_000):
        lexicon.find_all(f"abc{i} xyz{i}")
    assert len(lexicon._index.memo) <= 4096
    assert lexicon.find_all("abba") == ["a"]
