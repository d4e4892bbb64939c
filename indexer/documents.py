"""What gets indexed of each record: one document per language, plus filter facets.

A record becomes one document per language it has a title (or glossary term)
in. The lexical text (for BM25) takes every descriptive field in that language
and repeats the title, which weighs it like a field boost; the dense text is
title plus summary, because the embedding model truncates long input (256
word pieces for MiniLM) and the opening sentences carry the topic. Texts in
other languages are never mixed into a document, so a result's language is
the language that matched. A call's document names its programme but does not
repeat the programme's summary: a question about what a programme funds should
find the programme, not each of its past calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.funding import effective
from knowledge.schema import (
    Call,
    Contact,
    Event,
    GlossaryTerm,
    LocalizedText,
    Practice,
    Programme,
    Record,
)
from knowledge.store import Facets

TEXT_VERSION = 5
"""Bump when the document texts change, so unchanged data is still rebuilt."""


@dataclass(frozen=True)
class DocumentText:
    """The texts of one record in one language."""

    lang: str
    lexical: str
    dense: str


TITLE_REPEAT = 3
"""Times the title is written into the lexical text: a field boost for BM25."""


def _titled(title: str) -> list[str]:
    return [title] * TITLE_REPEAT


def _in(text: LocalizedText | None, lang: str) -> str:
    """The text in exactly ``lang`` (no English fallback), or ''."""
    if text is None:
        return ""
    return text.root.get(lang, "")


def _join(parts: Iterable[str | None]) -> str:
    return " \n".join(part for part in parts if part)


def _sentence(*parts: str | None) -> str:
    return ". ".join(part.rstrip(". ") for part in parts if part)


def _programme_docs(programme: Programme, kb: KnowledgeBase) -> list[DocumentText]:
    parent = kb.programmes.get(programme.parent) if programme.parent else None
    docs = []
    for lang in programme.title.languages:
        title = _in(programme.title, lang)
        summary = _in(programme.summary, lang)
        rate = _in(programme.funding_rate.text, lang) if programme.funding_rate else ""
        lexical = _join(
            [
                *_titled(title),
                programme.acronym,
                _in(parent.title, lang) if parent else None,
                summary,
                _in(programme.how_to_apply, lang),
                rate,
                programme.managing_body if lang == "en" else None,
            ]
        )
        docs.append(DocumentText(lang, lexical, _sentence(title, summary)))
    return docs


def _call_docs(call: Call, kb: KnowledgeBase) -> list[DocumentText]:
    programme = kb.programmes.get(call.programme)
    docs = []
    for lang in call.title.languages:
        title = _in(call.title, lang)
        programme_title = _in(programme.title, lang) if programme else ""
        lexical = _join(
            [
                *_titled(title),
                call.call_id,
                programme.acronym if programme else None,
                programme_title,
            ]
        )
        docs.append(DocumentText(lang, lexical, _sentence(title, programme_title)))
    return docs


def _practice_docs(practice: Practice) -> list[DocumentText]:
    docs = []
    for lang in practice.title.languages:
        title = _in(practice.title, lang)
        summary = _in(practice.summary, lang)
        lexical = _join([*_titled(title), practice.city, summary, _in(practice.outcome, lang)])
        docs.append(DocumentText(lang, lexical, _sentence(title, practice.city, summary)))
    return docs


def _event_docs(event: Event) -> list[DocumentText]:
    docs = []
    for lang in event.title.languages:
        title = _in(event.title, lang)
        summary = _in(event.summary, lang)
        lexical = _join(
            [*_titled(title), event.city, event.place, summary, _in(event.how_to_take_part, lang)]
        )
        docs.append(DocumentText(lang, lexical, _sentence(title, event.city, summary)))
    return docs


def _contact_docs(contact: Contact) -> list[DocumentText]:
    text = _sentence(contact.organisation, contact.city)
    return [DocumentText("en", _join([contact.organisation, contact.city]), text)]


def _glossary_docs(term: GlossaryTerm) -> list[DocumentText]:
    """One document per language with a definition; English also holds every term.

    Terms exist in all 24 languages but definitions in a few: a document per
    term language would mostly repeat one word, and cost an embedding each.
    Putting every term and synonym into the English document still lets BM25
    find the entry from any language.
    """
    synonyms = term.synonyms or {}
    everything = [
        form
        for lang in term.terms.languages
        for form in [_in(term.terms, lang), *synonyms.get(lang, [])]
    ]
    docs = []
    for lang in term.definition.languages:
        name = _in(term.terms, lang) or term.terms.en
        definition = _in(term.definition, lang)
        forms = everything if lang == "en" else [name, *synonyms.get(lang, [])]
        lexical = _join([*_titled(name), *forms, definition])
        docs.append(DocumentText(lang, lexical, _sentence(name, definition)))
    return docs


def record_documents(record: Record, kb: KnowledgeBase) -> list[DocumentText]:
    """One document per language the record is written in.

    Args:
        record: Any record.
        kb: The knowledge base (for parent programmes and call programmes).
    """
    if isinstance(record, Programme):
        return _programme_docs(record, kb)
    if isinstance(record, Call):
        return _call_docs(record, kb)
    if isinstance(record, Practice):
        return _practice_docs(record)
    if isinstance(record, Event):
        return _event_docs(record)
    if isinstance(record, Contact):
        return _contact_docs(record)
    if isinstance(record, GlossaryTerm):
        return _glossary_docs(record)
    raise TypeError(f"no documents for {type(record).__name__}")


def record_facets(record: Record, kb: KnowledgeBase) -> Facets:
    """Filter fields of a record, with strands and calls inheriting from programmes.

    A strand with empty eligibility lists uses its parent's (as the funding
    finder does), and a call is filtered by its programme's applicants,
    countries and themes. Practices and events have no applicants: an
    applicant filter leaves them out.
    """
    if isinstance(record, Programme):
        programme = effective(record, kb)
        calls = tuple(sorted(c.id for c in kb.calls.values() if c.programme == record.id))
        return Facets(
            applicants=tuple(programme.eligible_applicants),
            countries=tuple(programme.eligible_countries),
            themes=tuple(programme.themes),
            calls=calls,
        )
    if isinstance(record, Call):
        parent = kb.programmes.get(record.programme)
        if parent is None:
            return Facets(programme=record.programme)
        programme = effective(parent, kb)
        return Facets(
            applicants=tuple(programme.eligible_applicants),
            countries=tuple(programme.eligible_countries),
            themes=tuple(programme.themes),
            programme=record.programme,
        )
    if isinstance(record, Practice):
        return Facets(countries=(record.country,), themes=tuple(record.themes))
    if isinstance(record, Event):
        return Facets(countries=(record.country,) if record.country else ())
    if isinstance(record, Contact):
        countries = (record.country,) if record.country else ()
        return Facets(countries=countries, themes=tuple(record.topics))
    return Facets()
