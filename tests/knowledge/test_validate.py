from __future__ import annotations

import datetime as dt
from pathlib import Path

from knowledge.base import KnowledgeBase, RecordLocation
from knowledge.schema import Contact, GlossaryTerm, LocalizedText, Practice, Source
from knowledge.validate import check_knowledge_base, check_sources, coverage, record_languages

SOURCE = Source(url="https://example.eu/src", reliability="official")
TODAY = dt.date(2026, 11, 23)


def practice(record_id: str, country: str, **titles: str) -> Practice:
    return Practice(
        id=record_id,
        title=LocalizedText.model_validate({"en": record_id, **titles}),
        city="City",
        country=country,
        summary=LocalizedText.model_validate({"en": "Summary"}),
        url="https://example.eu",
        sources=[SOURCE],
        last_verified=TODAY,
    )


def test_check_sources_flags_records_built_without_sources() -> None:
    kb = KnowledgeBase()
    record = practice("p", "HR").model_copy(update={"sources": []})
    kb.add(record, RecordLocation(Path("practices/p.yaml"), 3, {("sources",): 9}))
    assert [e.format(Path("/nonexistent")) for e in check_sources(kb)] == [
        "practices/p.yaml:9: sources: no sources: every record needs one"
    ]
    assert len(check_knowledge_base(kb)) == 1


def test_coverage_counts_languages_countries_and_glossary() -> None:
    kb = KnowledgeBase()
    location = RecordLocation(Path("x.yaml"), 1)
    kb.add(practice("a", "HR", hr="A hr", de="A de"), location)
    kb.add(practice("b", "HR", hr="B hr"), location)
    kb.add(practice("c", "FR"), location)
    kb.add(practice("d", "EU27"), location)
    kb.add(
        GlossaryTerm(
            id="g",
            terms=LocalizedText.model_validate({"en": "grant", "mt": "għotja", "ga": "deontas"}),
            definition=LocalizedText.model_validate({"en": "Money."}),
            sources=[SOURCE],
            last_verified=TODAY,
        ),
        location,
    )
    report = coverage(kb)
    assert report.records == {
        "programme": 0,
        "call": 0,
        "practice": 4,
        "event": 0,
        "contact": 0,
        "glossary": 1,
    }
    assert report.languages["practice"]["en"] == 4
    assert report.languages["practice"]["hr"] == 2
    assert report.languages["practice"]["de"] == 1
    assert report.languages["practice"]["sv"] == 0
    assert report.languages["glossary"]["mt"] == 1
    assert report.practice_countries == 2
    assert report.to_dict()["glossary"] == {"terms": 1, "languages": 3}
    assert report.to_dict()["countries"] == {"practice": 2}


def test_contact_languages_are_the_languages_it_answers_in() -> None:
    contact = Contact(
        id="c",
        organisation="Org",
        languages=["hr", "en"],
        url="https://example.eu",
        sources=[SOURCE],
        last_verified=TODAY,
    )
    assert record_languages(contact) == ("hr", "en")
