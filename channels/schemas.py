"""Request and response bodies of the public chat API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A conversation id of the chat API (the widget's `web-...`): letters, digits, `_.:@-`.
SENDER_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"


class ChatRequest(BaseModel):
    """One user message sent through the REST API."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"sender": "3f2b9c", "message": "Which EU programmes fund town twinning?"},
                {"sender": "3f2b9c", "message": "bok", "language": "hr"},
            ]
        }
    )

    sender: str = Field(
        description="Stable id of the conversation on the caller's side.",
        min_length=1,
        max_length=128,
        pattern=SENDER_PATTERN,
    )
    message: str = Field(description="The user's text (plain text, not HTML).")
    language: str | None = Field(
        default=None,
        description="Explicit reply language (ISO 639-1, one of the 24 official EU languages).",
    )


class Button(BaseModel):
    """A quick reply: show `title`, send `payload` back as the next message."""

    title: str
    payload: str


class Link(BaseModel):
    """A source or follow-up link shown under a message."""

    title: str
    url: str


class ChatMessage(BaseModel):
    """One message of the assistant. `text` is plain text: render it as text."""

    text: str
    buttons: list[Button] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)


class ChatResponse(BaseModel):
    """The assistant's answer to one message."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "language": "hr",
                    "messages": [
                        {"text": "Bok! Kako vam mogu pomoći?", "buttons": [], "links": []}
                    ],
                    "turn_id": 42,
                }
            ]
        }
    )

    language: str
    messages: list[ChatMessage]
    turn_id: int | None = Field(
        default=None,
        description="Id of this turn for POST /api/v1/feedback; null when it was not recorded.",
    )


class ErrorDetail(BaseModel):
    """A machine-readable code and a message for people, in their language."""

    code: str
    message: str
    language: str
    suggestions: list[str] | None = Field(
        default=None, description="Valid values the caller may have meant (unknown_target)."
    )


class ErrorResponse(BaseModel):
    """Body of every 4xx/5xx answer of the API."""

    error: ErrorDetail


class HealthResponse(BaseModel):
    """Liveness of the gateway and reachability of its dependencies."""

    status: str
    rasa: str
