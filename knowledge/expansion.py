"""Cross-lingual query expansion from the multilingual glossary.

The packaged embedding model is English-only, and many records (calls, events)
exist only in English. When a query names a funding term in any language
("sufinanciranje", "Kofinanzierung"), the glossary knows its English form and
synonyms; adding them lets BM25 meet English-only records and gives the dense
model English words to work with. Matching is on analysed terms (stemmed and
folded), so inflected forms match too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.languages import DEFAULT_LANGUAGE
from knowledge.schema import GlossaryTerm
from knowledge.text import analyze

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """The glossary terms a query names and the forms to add for them."""

    matched: tuple[str, ...] = ()
    """Glossary ids, in query order."""
    forms: tuple[tuple[str, str], ...] = ()
    """(language, surface form) pairs to add to the query, without duplicates."""

    def texts(self, lang: str) -> list[str]:
        """Forms in one language (e.g. English for the dense query)."""
        return [form for form_lang, form in self.forms if form_lang == lang]


@dataclass
class _Entry:
    forms: dict[str, list[str]] = field(default_factory=dict)


class GlossaryExpander:
    """Finds glossary terms in a query, in the query's language or English."""

    def __init__(self, terms: Iterable[GlossaryTerm]) -> None:
        """Index every term and synonym of every language by its analysed words."""
        self._entries: dict[str, _Entry] = {}
        self._phrases: dict[str, dict[Phrase, str]] = {}
        self._longest = 1
        for term in terms:
            entry = _Entry()
            for lang, text in term.terms.root.items():
                forms = [text, *((term.synonyms or {}).get(lang, []))]
                entry.forms[lang] = forms
                for form in forms:
                    phrase = tuple(analyze(form, lang))
                    if phrase:
                        self._phrases.setdefault(lang, {}).setdefault(phrase, term.id)
                        self._longest = max(self._longest, len(phrase))
            self._entries[term.id] = entry

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages that have at least one term."""
        return tuple(self._phrases)

    def _find(self, query: str, lang: str) -> list[str]:
        """Greedy longest-first phrase matching over the query's analysed terms."""
        table = self._phrases.get(lang)
        if not table:
            return []
        terms = analyze(query, lang)
        found: list[str] = []
        position = 0
        while position < len(terms):
            for size in range(min(self._longest, len(terms) - position), 0, -1):
                term_id = table.get(tuple(terms[position : position + size]))
                if term_id is not None:
                    found.append(term_id)
                    position += size
                    break
            else:
                position += 1
        return found

    def expand(self, query: str, lang: str | None) -> Expansion:
        """Find glossary terms in ``query`` and list the forms to add.

        Args:
            query: The user's text.
            lang: Its language; None tries every glossary language.

        Returns:
            Matched ids and their English forms plus the forms in the
            language(s) where they were found.
        """
        search_in = [lang, DEFAULT_LANGUAGE] if lang else list(self.languages)
        matched: dict[str, None] = {}
        found_in: dict[str, set[str]] = {}
        for language in dict.fromkeys(search_in):
            for term_id in self._find(query, language):
                matched.setdefault(term_id, None)
                found_in.setdefault(term_id, set()).add(language)
        forms: dict[tuple[str, str], None] = {}
        for term_id in matched:
            entry = self._entries[term_id]
            for language in [DEFAULT_LANGUAGE, *sorted(found_in[term_id] - {DEFAULT_LANGUAGE})]:
                for form in entry.forms.get(language, []):
                    forms.setdefault((language, form), None)
        return Expansion(tuple(matched), tuple(forms))
