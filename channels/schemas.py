"""Request and response bodies of the public chat API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.place import CITY_MAX_CHARS, clean_city, clean_country

# A conversation id of the chat API (the widget's `web-...`): letters, digits, `_.:@-`.
SENDER_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"


class ChatRequest(BaseModel):
    """One user message sent through the REST API."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"sender": "3f2b9c", "message": "Which EU programmes fund town twinning?"},
                {"sender": "3f2b9c", "message": "bok", "language": "hr"},
                {
                    "sender": "3f2b9c",
                    "message": "How can citizens take part in decisions in my city?",
                    "city": "Rijeka",
                    "country": "HR",
                },
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
    city: str | None = Field(
        default=None,
        max_length=CITY_MAX_CHARS,
        description=(
            "The user's city, as plain text (letters, digits, spaces and - ' . ( ) , /), "
            "for answers about 'my city'; sent to the assistant as metadata `city`."
        ),
    )
    country: str | None = Field(
        default=None,
        description=(
            "The user's country, ISO 3166-1 alpha-2 (`HR`, any case); sent to the "
            "assistant as metadata `country`."
        ),
    )

    @field_validator("city")
    @classmethod
    def _plain_city(cls, value: str | None) -> str | None:
        """A city name is plain text: markup or a command here is an error, not a name."""
        if value is None or not value.strip():
            return None
        name = clean_city(value)
        if name is None:
            raise ValueError("city must be a plain-text name of at most 80 characters")
        return name

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        """Only real ISO codes reach the assistant's country slot."""
        if value is None or not value.strip():
            return None
        code = clean_country(value)
        if code is None:
            raise ValueError("country must be an ISO 3166-1 alpha-2 code, for example HR")
        return code


class Button(BaseModel):
    """A quick reply: show `title`, send `payload` back as the next message."""

    title: str
    payload: str


class Link(BaseModel):
    """A source or follow-up link shown under a message."""

    title: str
    url: str


class ChatMessage(BaseModel):
    """One message of the assistant. `text` is plain text with one markup: `**bold**`."""

    text: str = Field(
        description=(
            "Plain text, to be rendered as text (never as HTML). The only markup is "
            "`**bold**` around a card's title; render it as bold or drop the asterisks. "
            "Bare http(s) URLs may appear: make them clickable. A URL shown in the text "
            "is not repeated in `links`."
        )
    )
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
