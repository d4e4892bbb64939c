"""Events of the network: `GET /api/v1/events` and iCalendar feeds to subscribe to.

`/calendar/network.ics` holds every dated event, `/calendar/{city}.ics` one city's
(city slug: `brussels`, `reykjavik`); calendar apps refresh them by themselves.
Texts are in `?lang=` (else Accept-Language), English where a record lacks the language.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from channels.api.identity import request_language
from channels.errors import ApiError
from channels.events import EventCatalogue, EventSource, city_slug, to_ical
from channels.i18n import translate
from channels.schemas import ErrorResponse
from knowledge.schema import Event

router = APIRouter(tags=["events"])

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
NETWORK_FEED = "network"
_UNKNOWN_CITY: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No dated events for this city"}
}


class EventItem(BaseModel):
    """One dated event, texts in the response's language where the record has it."""

    id: str
    kind: str
    title: str
    summary: str
    city: str | None
    city_slug: str | None
    country: str | None
    start_date: dt.date
    end_date: dt.date | None
    online: bool
    place: str | None
    url: str

    @classmethod
    def of(cls, event: Event, language: str) -> EventItem:
        """Copy the public fields of a record."""
        assert event.start_date is not None
        return cls(
            id=event.id,
            kind=event.kind,
            title=event.title.get(language)[0],
            summary=event.summary.get(language)[0],
            city=event.city,
            city_slug=city_slug(event.city) if event.city else None,
            country=event.country,
            start_date=event.start_date,
            end_date=event.end_date,
            online=event.online,
            place=event.place,
            url=str(event.url),
        )


class EventsResponse(BaseModel):
    """Dated events in start-date order."""

    language: str
    events: list[EventItem]


async def _catalogue(request: Request) -> EventCatalogue:
    source: EventSource = request.app.state.events
    return await run_in_threadpool(source.catalogue)


def _check_city(catalogue: EventCatalogue, city: str, language: str) -> None:
    cities = catalogue.cities()
    if city_slug(city) not in cities:
        values = {"city": city[:64], "cities": ", ".join(sorted(cities))}
        raise ApiError(404, "unknown_city", language, values=values)


def _parse_date(value: str | None, language: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ApiError(422, "date_invalid", language, values={"value": value[:32]}) from exc


@router.get(
    "/api/v1/events",
    response_model=EventsResponse,
    responses={
        **_UNKNOWN_CITY,
        422: {"model": ErrorResponse, "description": "`from` is not a YYYY-MM-DD date"},
    },
)
async def events(
    request: Request,
    city: Annotated[str | None, Query(description="City name or slug.")] = None,
    since: Annotated[
        str | None, Query(alias="from", description="Only events ending on/after (YYYY-MM-DD).")
    ] = None,
    lang: Annotated[str | None, Query(description="Language of titles and summaries.")] = None,
) -> EventsResponse:
    """Dated events of the network, optionally of one city and from a date on."""
    language = request_language(request)
    day = _parse_date(since, language)
    catalogue = await _catalogue(request)
    if city:
        _check_city(catalogue, city, language)
    selected = catalogue.select(city=city or None, since=day)
    return EventsResponse(language=language, events=[EventItem.of(e, language) for e in selected])


@router.get(
    "/calendar/{city}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **_UNKNOWN_CITY},
)
async def calendar_feed(city: str, request: Request) -> Response:
    """Calendar feed of the whole network (`network.ics`) or of one city (`brussels.ics`)."""
    language = request_language(request)
    catalogue = await _catalogue(request)
    if city == NETWORK_FEED:
        selected = catalogue.select()
        name = translate("calendar.network", language)
    else:
        _check_city(catalogue, city, language)
        selected = catalogue.select(city=city)
        name = translate("calendar.city", language, city=catalogue.cities()[city_slug(city)])
    body = to_ical(selected, name, language)
    disposition = {"Content-Disposition": f'inline; filename="{city_slug(city)}.ics"'}
    return Response(content=body, media_type=ICS_MEDIA_TYPE, headers=disposition)
