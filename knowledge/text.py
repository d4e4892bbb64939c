"""Per-language tokenisation for BM25 and glossary matching.

Records are written in up to 24 languages and users type with or without
diacritics, so every token goes through the same steps on both sides (index and
query): Unicode normalisation, lower-casing, stop-word removal, Snowball
stemming where PyStemmer has an algorithm for the language, then diacritic
folding. Folding after stemming keeps the stemmers' rules (which expect
accented input) intact while "proracun" still meets "proračun".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

import Stemmer
from bm25s import stopwords as bm25_stopwords

from knowledge.languages import EU_LANGUAGES

STEMMER_ALGORITHMS: Final[dict[str, str]] = {
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    # Snowball has no Croatian stemmer; its Serbian one works on Latin script and
    # shares the inflection system (proračuna -> proračun, građana -> građan).
    "hr": "serbian",
    "hu": "hungarian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "sv": "swedish",
}
"""Snowball algorithm per EU language; bg, lv, mt, sk and sl have none (truncated instead).

Only algorithms that PyStemmer ships are listed (checked by a test). Apart
from Croatian, no stemmer of a neighbouring language stands in: a wrong
stemmer conflates unrelated words, while truncation is language-neutral.
"""

_SLAVIC_STOPWORDS: Final[dict[str, str]] = {
    "hr": """a ako ali bez bi bih bila bili bilo bio biti bismo da do gdje ga i ih ili im ima
        imaju iz ja je jer joj još ju kad kada kako kao ko koja koje kojeg kojem koji kojih kojim
        kojima koju koliko kod li me mi mogu može mu na nam nas ne neka neki nešto ni nije nisu
        njegov njihov o od on ona one oni ono ova ovaj ove ovo pa po pod postoji pri prije s sa
        sam samo se si smo ste su sve svi ta taj te ti to tu u uz vam vas već vi za zašto što
        će ćemo ću tko""",
    "sl": """a ali bi bil bila bili bilo biti bo bodo brez da do ga h in iz ja je jih jim jo
        k kaj kako kakšen kakšna kakšni kar kateri katera katere katero katerih ker kje ko
        kot lahko le me med mi mu na nam naš ne ni niso o ob od on ona oni pa po pod pred pri
        s sem so ste smo še tako tam te tega ter ti to tudi v vam vas vi z za že""",
    "pl": """a aby ale bez by być był była było czy dla do gdzie go i ich ile im jak jaka jaki
        jakie jakich jakim je jego jej jest jestem już ma mają może można mnie mogę na nad nie
        o od po pod przez przy się są ta tak także te tego tej ten to tu tym u w we z za ze że
        co które który która których którym kiedy kto lub oraz też""",
}

_BM25_STOPWORDS: Final[dict[str, Iterable[str]]] = {
    "da": bm25_stopwords.STOPWORDS_DANISH,
    "de": bm25_stopwords.STOPWORDS_GERMAN,
    "en": bm25_stopwords.STOPWORDS_EN_PLUS,
    "es": bm25_stopwords.STOPWORDS_SPANISH,
    "fr": bm25_stopwords.STOPWORDS_FRENCH,
    "it": bm25_stopwords.STOPWORDS_ITALIAN,
    "nl": bm25_stopwords.STOPWORDS_DUTCH,
    "pt": bm25_stopwords.STOPWORDS_PORTUGUESE,
    "sv": bm25_stopwords.STOPWORDS_SWEDISH,
}

_MAX_UNSTEMMED: Final[int] = 3
TRUNCATE_TO: Final[int] = 5
"""Prefix length that stands in for a stemmer (see ``_stem``)."""
_WORD_RE: Final[re.Pattern[str]] = re.compile(r"[^\W_]+", re.UNICODE)
# Letters that NFKD does not decompose into a base letter plus a mark.
_FOLD_TABLE: Final[dict[int, str]] = str.maketrans(
    {"đ": "d", "ł": "l", "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ħ": "h", "\u0131": "i"}
)


def fold(text: str) -> str:
    """Strip diacritics so text typed without them still matches.

    Args:
        text: Lower-case text.

    Returns:
        The text with combining marks removed and a few special letters mapped.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_TABLE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Split text into lower-case words (letters and digits; hyphens split).

    Hyphens and apostrophes separate words, so "co-financing", "l'Union" and
    "citizens'" give the same pieces on the index and the query side.
    """
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=len(EU_LANGUAGES))
def stopwords(lang: str) -> frozenset[str]:
    """Stop words of a language, in written and diacritic-folded form."""
    raw: Iterable[str] = _BM25_STOPWORDS.get(lang, ())
    if lang in _SLAVIC_STOPWORDS:
        raw = _SLAVIC_STOPWORDS[lang].split()
    listed = {word.casefold() for word in raw}
    return frozenset(listed | {fold(word) for word in listed})


@lru_cache(maxsize=len(EU_LANGUAGES))
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    algorithm = STEMMER_ALGORITHMS.get(lang)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def analyze(text: str, lang: str) -> list[str]:
    """Turn text of a known language into index terms.

    Args:
        text: Any text (a record field or a query).
        lang: Its EU language code; unknown codes are analysed without
            stemming or stop words.

    Returns:
        Terms in text order, stop words and one-letter words removed.
    """
    return _stem(_content_words(words(text), stopwords(lang)), lang)


def _content_words(tokens: list[str], stop: frozenset[str]) -> list[str]:
    return [w for w in tokens if w not in stop and (len(w) > 1 or w.isdigit())]


def _stem(tokens: list[str], lang: str) -> list[str]:
    """Stem with Snowball, or truncate where the language has no stemmer.

    Words of three letters or fewer are kept whole: they are mostly acronyms,
    and the Serbian stemmer would turn "EU" into "e" (it strips the locative -u).
    Languages without a Snowball stemmer (bg, lv, mt, sk, sl) keep the first
    ``TRUNCATE_TO`` letters of longer words: prefix truncation recovers most of
    a stemmer's benefit in inflected European languages (McNamee and
    Mayfield, 2004), so Slovenian "pobude" still meets "pobuda".
    """
    stemmer = _stemmer(lang)
    out = []
    for token in tokens:
        if len(token) > _MAX_UNSTEMMED and token.isalpha():
            token = stemmer.stemWord(token) if stemmer else token[:TRUNCATE_TO]
        out.append(fold(token))
    return out


def analyze_any(text: str, languages: Iterable[str] = EU_LANGUAGES) -> list[str]:
    """Analyse text whose language is unknown, in every candidate language.

    A word that is a stop word in any candidate language is dropped (else
    "the" would survive as a Croatian word), and the union of each
    language's stems (first occurrence order, no duplicates) lets the query
    meet documents in whatever language it was written, at the cost of a
    few spurious stems.

    Args:
        text: The text, typically a short query.
        languages: Candidate languages (default: all EU languages).
    """
    candidates = tuple(languages)
    stop = frozenset().union(*(stopwords(lang) for lang in candidates))
    tokens = _content_words(words(text), stop)
    seen: dict[str, None] = {}
    for lang in candidates:
        for term in _stem(tokens, lang):
            seen.setdefault(term, None)
    return list(seen)
