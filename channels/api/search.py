"""`GET /api/v1/search`: hybrid search over programmes, calls, practices and events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from channels.api.deps import RetrieverDep, SettingsDep
from channels.errors import ApiError, language_from_headers
from channels.schemas import ErrorResponse
from knowledge.filters import SearchFilters
from knowledge.languages import normalize_language
from knowledge.search import SearchHit
from knowledge.search_errors import IndexUnavailableError, SearchError

router = APIRouter(prefix="/api/v1", tags=["search"])

MAX_LIMIT = 50

Multi = Annotated[list[str] | None, Query()]
"""A filter given once, repeated (`type=a&type=b`) or comma-separated (`type=a,b`)."""


class SearchResultItem(BaseModel):
    """One record that answers the query, in the asked language where it exists."""

    id: str
    type: str
    title: str
    snippet: str
    url: str | None
    score: float

    @classmethod
    def from_hit(cls, hit: SearchHit) -> SearchResultItem:
        """Copy the public fields of a retriever hit."""
        return cls(
            id=hit.id,
            type=hit.type,
            title=hit.title,
            snippet=hit.snippet,
            url=hit.url,
            score=hit.score,
        )


class SearchResponse(BaseModel):
    """The ranked records for one query."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "bratimljenje gradova",
                    "language": "hr",
                    "results": [
                        {
                            "id": "cerv-town-twinning",
                            "type": "programme",
                            "title": "CERV – Bratimljenje gradova",
                            "snippet": "Godišnji poziv programa CERV ...",
                            "url": "https://www.eacea.ec.europa.eu/...",
                            "score": 0.0325,
                        }
                    ],
                }
            ]
        }
    )

    query: str
    language: str = Field(description="Language of titles and snippets (English if not asked).")
    results: list[SearchResultItem]


def _status(error: SearchError) -> int:
    """503 when the index is the problem (retry after a build), 422 for the request."""
    return 503 if isinstance(error, IndexUnavailableError) else 422


@router.get(
    "/search",
    response_model=SearchResponse,
    responses={
        422: {
            "model": ErrorResponse,
            "description": "Empty or too long query, unknown filter value or language",
        },
        503: {
            "model": ErrorResponse,
            "description": "No usable index; the message says how to build it",
        },
    },
)
def search(  # a plain def: FastAPI runs it in a worker thread (embedding and FAISS block)
    request: Request,
    settings: SettingsDep,
    retriever: RetrieverDep,
    q: Annotated[str, Query(description="The question, in any EU language.")] = "",
    lang: Annotated[
        str | None, Query(description="Language of the question and of the results.")
    ] = None,
    type: Multi = None,  # the documented parameter name
    applicant: Multi = None,
    country: Multi = None,
    theme: Multi = None,
    open: Annotated[  # the documented parameter name
        list[str] | None,
        Query(description="Call status: open, forthcoming, or true for either."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> SearchResponse:
    """Find the programmes, calls, practices and events that fit the question.

    Without `lang` the question is analysed in every EU language and results
    are shown in English. Filters take values of the knowledge base's
    vocabularies; errors are in `lang` or the `Accept-Language` language.
    """
    error_language = normalize_language(lang) or language_from_headers(
        request, default=settings.default_language
    )
    try:
        filters = SearchFilters.parse(
            type=type, applicant=applicant, country=country, theme=theme, open=open
        )
        result = retriever.search(q, lang=lang, filters=filters, limit=limit)
    except SearchError as exc:
        raise ApiError(_status(exc), exc.code, error_language, values=exc.values) from exc
    return SearchResponse(
        query=result.query,
        language=result.language,
        results=[SearchResultItem.from_hit(hit) for hit in result.hits],
    )
