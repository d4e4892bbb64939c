"""One error shape for the whole API, in the caller's language, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from channels.i18n import translate
from knowledge.languages import EU_LANGUAGES

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the caller should see: HTTP status, code and translated message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        language: str,
        *,
        headers: dict[str, str] | None = None,
        values: Mapping[str, object] | None = None,
        message_key: str | None = None,
        suggestions: Sequence[str] = (),
    ) -> None:
        """Remember what to render; the message is translated when rendered.

        Args:
            status_code: HTTP status.
            code: Stable machine-readable code (`error.<code>` is the message's key).
            language: Language of the message.
            headers: Extra response headers (`Retry-After`).
            values: Placeholders of the message.
            message_key: Another message for the same code, when one code needs
                several wordings (an unknown theme, programme or city).
            suggestions: Valid values the caller may have meant, also sent as a list
                so that programs need not parse the message.
        """
        super().__init__(code)
        self.status_code = status_code
        self.code = code
        self.language = language
        self.headers = headers
        self.values = dict(values or {})
        self.message_key = message_key or f"error.{code}"
        self.suggestions = list(suggestions)


def language_from_headers(request: Request, default: str = "en") -> str:
    """Best supported language of the Accept-Language header, else `default`."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in EU_LANGUAGES:
            return code
    return default


def error_response(error: ApiError) -> JSONResponse:
    """Render an ApiError as the documented JSON body."""
    detail: dict[str, object] = {
        "code": error.code,
        "message": translate(error.message_key, error.language, **error.values),
        "language": error.language,
    }
    if error.suggestions:
        detail["suggestions"] = error.suggestions
    body = {"error": detail}
    return JSONResponse(status_code=error.status_code, content=body, headers=error.headers)


def _validation_error(request: Request, exc: RequestValidationError) -> ApiError:
    language = language_from_headers(request)
    errors: list[dict[str, Any]] = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return ApiError(400, "invalid_json", language)
    for e in errors:
        if tuple(e.get("loc", ())) == ("body", "message") and e.get("type") == "missing":
            return ApiError(422, "message_missing", language)
    details = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg', '')}"
        for e in errors
    )
    return ApiError(422, "invalid_request", language, values={"details": details})


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through `error_response`."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(_validation_error(request, exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI raises 400 when the body cannot be decoded at all (e.g. invalid UTF-8).
        codes = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "internal")
        language = language_from_headers(request)
        return error_response(ApiError(exc.status_code, code, language))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("Unhandled error on %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "internal", language_from_headers(request)))
