"""Who is asking: the conversation's sender id, as the chat API and the widget know it.

The REST chat API (and the web widget on it) has no accounts: a conversation is its
random `sender` id, which only that browser or client knows. The privacy, notice and
feedback routes accept the same id, in the `X-Sender-Id` header for GET and DELETE (a
header, not the URL, so that it stays out of access logs) or in the JSON body, and act
on the participation user `api:<sender>`, the id the chat API gave Rasa.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from channels.api.chat import CHANNEL
from channels.errors import ApiError, language_from_headers
from channels.schemas import SENDER_PATTERN
from knowledge.languages import EU_LANGUAGES

SENDER_HEADER = "X-Sender-Id"
_SENDER = re.compile(SENDER_PATTERN)


def request_language(request: Request) -> str:
    """Language for errors and texts: `?lang=` if supported, else Accept-Language."""
    asked = (request.query_params.get("lang") or "").strip().lower()
    if asked in EU_LANGUAGES:
        return asked
    default: str = request.app.state.settings.default_language
    return language_from_headers(request, default=default)


def user_id_for(sender: str, language: str) -> str:
    """The participation user id of a chat API sender, or a 422 for a malformed id."""
    if not _SENDER.fullmatch(sender or ""):
        raise ApiError(422, "sender_invalid", language)
    return f"{CHANNEL}:{sender}"


def _sender_user(
    request: Request,
    sender: Annotated[str | None, Header(alias=SENDER_HEADER)] = None,
) -> str:
    return user_id_for(sender or "", request_language(request))


SenderUserDep = Annotated[str, Depends(_sender_user)]
"""The participation user id named by the `X-Sender-Id` header (422 when missing)."""


def _optional_sender_user(
    request: Request,
    sender: Annotated[str | None, Header(alias=SENDER_HEADER)] = None,
) -> str | None:
    if sender is None:
        return None
    return user_id_for(sender, request_language(request))


OptionalSenderUserDep = Annotated[str | None, Depends(_optional_sender_user)]
"""Like `SenderUserDep`, but None without the header (routes that anyone may read)."""


def body_language(requested: str | None, request: Request) -> str:
    """The language a client chose in a JSON body, else the request's; 422 if unsupported.

    Stored items (proposals, subscriptions) keep this language, so that later
    answers about them (status, reminders) speak it too.
    """
    fallback = request_language(request)
    if requested is None or not requested.strip():
        return fallback
    code = requested.strip().lower()
    if code not in EU_LANGUAGES:
        values = {"requested": requested[:16], "supported": ", ".join(EU_LANGUAGES)}
        raise ApiError(422, "unsupported_language", fallback, values=values)
    return code
