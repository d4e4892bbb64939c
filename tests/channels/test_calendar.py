"""The events API and the iCalendar feeds, from the (sample) knowledge base events."""

import datetime as dt

from fastapi.testclient import TestClient
from icalendar import Calendar

from channels.events import EventCatalogue, city_slug
from channels.i18n import translate
from knowledge.loader import load_knowledge_base
from tests.channels.participation_kb import TODAY


def test_events_are_dated_sorted_and_in_the_asked_language(
    client_without_rasa: TestClient,
) -> None:
    response = client_without_rasa.get("/api/v1/events?lang=hr")
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["id"] for e in events] == ["rijeka-past", "rijeka-forum", "reykjavik-vote"]
    assert events[1]["title"] == "Događanje rijeka-forum"
    german = client_without_rasa.get("/api/v1/events", headers={"Accept-Language": "de"})
    assert german.json()["events"][1]["title"] == "Event rijeka-forum"  # English: no de text
    assert events[2]["city_slug"] == "reykjavik"


def test_events_filter_by_city_slug_or_name_and_date(client_without_rasa: TestClient) -> None:
    since = TODAY.isoformat()
    for city in ("rijeka", "Rijeka"):
        response = client_without_rasa.get(f"/api/v1/events?city={city}&from={since}")
        assert [e["id"] for e in response.json()["events"]] == ["rijeka-forum"]
    response = client_without_rasa.get("/api/v1/events?city=Reykjavík")
    assert [e["id"] for e in response.json()["events"]] == ["reykjavik-vote"]


def test_unknown_city_and_bad_date_are_explained_in_the_callers_language(
    client_without_rasa: TestClient,
) -> None:
    response = client_without_rasa.get("/api/v1/events?city=Atlantis&lang=it")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "unknown_city",
        "message": translate(
            "error.unknown_city", "it", city="Atlantis", cities="reykjavik, rijeka"
        ),
        "language": "it",
    }
    response = client_without_rasa.get(
        "/api/v1/events?from=next-week", headers={"Accept-Language": "hr-HR"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == translate(
        "error.date_invalid", "hr", value="next-week"
    )


def parse(body: bytes) -> Calendar:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0"
    return calendar


def test_network_feed_has_every_dated_event_as_all_day_entries(
    client_without_rasa: TestClient,
) -> None:
    response = client_without_rasa.get("/calendar/network.ics?lang=de")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = parse(response.content)
    assert str(calendar["X-WR-CALNAME"]) == translate("calendar.network", "de")
    entries = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(entries) == {
        "rijeka-forum@civic-assistant.events",
        "rijeka-past@civic-assistant.events",
        "reykjavik-vote@civic-assistant.events",
    }
    forum = entries["rijeka-forum@civic-assistant.events"]
    assert forum.decoded("DTSTART") == TODAY + dt.timedelta(days=7)
    assert forum.decoded("DTEND") == TODAY + dt.timedelta(days=9)  # exclusive end
    assert str(forum["URL"]) == "https://example.eu/events/rijeka-forum"
    vote = entries["reykjavik-vote@civic-assistant.events"]
    assert str(vote["LOCATION"]) == "City Hall, Reykjavík"


def test_city_feed_and_unknown_city_feed(client_without_rasa: TestClient) -> None:
    calendar = parse(client_without_rasa.get("/calendar/rijeka.ics?lang=hr").content)
    assert str(calendar["X-WR-CALNAME"]) == translate("calendar.city", "hr", city="Rijeka")
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [
        "Događanje rijeka-past",
        "Događanje rijeka-forum",
    ]
    missing = client_without_rasa.get("/calendar/atlantis.ics")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_city"


def test_the_real_knowledge_base_gives_a_valid_feed_without_undated_events() -> None:
    kb, _ = load_knowledge_base()
    catalogue = EventCatalogue.from_events(list(kb.events.values()))
    dated = [e for e in kb.events.values() if e.start_date is not None]
    assert len(catalogue.events) == len(dated) < len(kb.events)
    assert "brussels" in catalogue.cities()
    assert city_slug("Reykjavík") == "reykjavik"
