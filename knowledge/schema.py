"""Typed models of knowledge-base records (contract: docs/knowledge-format.md).

Every model forbids unknown fields so that a typo in the YAML data is an error
rather than a silently ignored fact. Cross-field checks raise :class:`FieldError`
so that the loader can point at the exact field that is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, ClassVar, Final, Literal, TypeAlias, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from knowledge.languages import DEFAULT_LANGUAGE, EU_LANGUAGES, is_eu_language, normalize_language

Loc: TypeAlias = tuple[str | int, ...]
"""A path to a field inside a record, as pydantic reports it."""


class FieldError(ValueError):
    """A cross-field error that knows which (nested) field it is about.

    Pydantic places model-validator errors on the model itself; carrying the
    path lets the loader report ``deadlines[0].date`` and its line instead.
    """

    def __init__(self, message: str, path: Loc) -> None:
        super().__init__(message)
        self.path: Loc = path


# --------------------------------------------------------------------------- vocabularies

ApplicantType: TypeAlias = Literal[
    "municipality",
    "metropolitan_authority",
    "regional_authority",
    "national_authority",
    "public_body",
    "ngo",
    "citizens_group",
    "young_people",
    "university",
    "research_organisation",
    "sme",
    "company",
    "individual",
    "international_organisation",
]
FundingType: TypeAlias = Literal[
    "direct_grant", "shared_management", "loan", "technical_support", "prize", "label", "mixed"
]
Theme: TypeAlias = Literal[
    "democracy",
    "civic_participation",
    "rights_equality",
    "remembrance",
    "town_twinning",
    "urban_development",
    "climate",
    "environment",
    "energy",
    "mobility",
    "digital",
    "culture",
    "heritage",
    "youth",
    "education",
    "social_inclusion",
    "employment",
    "research_innovation",
    "cross_border_cooperation",
    "administrative_capacity",
    "economy",
    "tourism",
    "housing",
    "health",
]
Reliability: TypeAlias = Literal["official", "secondary", "uncertain"]
EventKind: TypeAlias = Literal["event", "participation", "forum"]
Weekday: TypeAlias = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CallStatus: TypeAlias = Literal["forthcoming", "open", "closed"]
CallSource: TypeAlias = Literal["ftportal"]
"""Where an imported call came from (the EU Funding & Tenders Portal)."""
RecordType: TypeAlias = Literal["programme", "call", "practice", "event", "contact", "glossary"]

APPLICANT_TYPES: Final[tuple[str, ...]] = get_args(ApplicantType)
FUNDING_TYPES: Final[tuple[str, ...]] = get_args(FundingType)
THEMES: Final[tuple[str, ...]] = get_args(Theme)
RELIABILITIES: Final[tuple[str, ...]] = get_args(Reliability)
EVENT_KINDS: Final[tuple[str, ...]] = get_args(EventKind)
RECORD_TYPES: Final[tuple[RecordType, ...]] = get_args(RecordType)

COUNTRY_GROUPS: Final[tuple[str, ...]] = ("EU27", "EEA", "IPA", "ASSOCIATED", "EU")
"""Group codes allowed wherever a country is expected."""

_ISO_COUNTRY_TEXT: Final[str] = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
"""
ISO_COUNTRIES: Final[frozenset[str]] = frozenset(_ISO_COUNTRY_TEXT.split())
"""ISO 3166-1 alpha-2 codes, plus XK (Kosovo) as used by the EU institutions."""

_COUNTRY_HINTS: Final[dict[str, str]] = {"EL": "GR", "UK": "GB"}
_ID_PATTERN: Final[str] = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_TIME_RE: Final[re.Pattern[str]] = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_TIMEZONE_RE: Final[re.Pattern[str]] = re.compile(r"^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+)+)$")
_EMAIL_RE: Final[re.Pattern[str]] = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY_PATTERN: Final[str] = r"^[A-Z]{3}$"


# --------------------------------------------------------------------------- scalar types


def _check_url(value: str) -> str:
    """Reject anything a browser could not open, so dead links are caught early."""
    if any(ch.isspace() for ch in value):
        raise ValueError(f"{value!r} is not a valid URL: it contains spaces")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r} is not a valid URL: it must start with https:// or http://")
    host = parts.hostname or ""
    if "." not in host or host.startswith(".") or host.endswith("."):
        raise ValueError(f"{value!r} is not a valid URL: {host or 'the host'!r} is not a web host")
    return value


def _check_country(value: str) -> str:
    """Accept ISO codes and group codes, with hints for the usual EU-style mistakes."""
    if value in ISO_COUNTRIES or value in COUNTRY_GROUPS:
        return value
    if value in _COUNTRY_HINTS:
        raise ValueError(f"{value!r} is not an ISO country code; use {_COUNTRY_HINTS[value]!r}")
    if value.upper() in ISO_COUNTRIES or value.upper() in COUNTRY_GROUPS:
        raise ValueError(f"{value!r}: country codes are upper case; use {value.upper()!r}")
    raise ValueError(
        f"{value!r} is not an ISO 3166-1 alpha-2 country code "
        f"or one of the groups {', '.join(COUNTRY_GROUPS)}"
    )


def _check_language(value: str) -> str:
    """Keep language codes to the 24 official EU languages."""
    if not is_eu_language(value):
        raise ValueError(_unknown_language_message(value))
    return value


def _check_time(value: str) -> str:
    """Require 24-hour ``HH:MM`` so times can be compared and displayed."""
    if not _TIME_RE.match(value):
        raise ValueError(f'{value!r} is not a time; write it as "HH:MM" (24-hour, quoted)')
    return value


def _check_timezone(value: str) -> str:
    """Require an IANA zone name such as Europe/Brussels (not CET or +01:00)."""
    if not _TIMEZONE_RE.match(value):
        raise ValueError(f"{value!r} is not a time zone name; use e.g. Europe/Brussels")
    return value


def _check_email(value: str) -> str:
    """Catch obviously broken e-mail addresses before they reach users."""
    if not _EMAIL_RE.match(value):
        raise ValueError(f"{value!r} is not a valid e-mail address")
    return value


def _whole_as_int(value: float) -> float:
    """Keep whole amounts as ints so they print as 50745, not 50745.0."""
    return int(value) if value.is_integer() else value


def _unknown_language_message(code: object) -> str:
    """Explain which language codes exist, with a hint for common tags like en-GB."""
    hint = normalize_language(code) if isinstance(code, str) else None
    if hint and hint != code:
        return f"{code!r} is not an EU language code; use {hint!r}"
    return f"{code!r} is not an EU language code (allowed: {' '.join(EU_LANGUAGES)})"


RecordId = Annotated[str, StringConstraints(pattern=_ID_PATTERN)]
Url = Annotated[str, AfterValidator(_check_url)]
CountryCode = Annotated[str, AfterValidator(_check_country)]
LanguageCode = Annotated[str, AfterValidator(_check_language)]
TimeOfDay = Annotated[str, AfterValidator(_check_time)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]
Email = Annotated[str, AfterValidator(_check_email)]
Currency = Annotated[str, StringConstraints(pattern=_CURRENCY_PATTERN)]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Amount = Annotated[float, Field(ge=0), AfterValidator(_whole_as_int)]


# --------------------------------------------------------------------------- building blocks


class KBModel(BaseModel):
    """Base of every model: unknown fields are errors and records are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(RootModel[dict[str, str]]):
    """Text per language code; English is required and is the fallback."""

    model_config = ConfigDict(frozen=True)

    @field_validator("root")
    @classmethod
    def _check_languages(cls, value: dict[str, str]) -> dict[str, str]:
        """Require English and only EU language codes, with non-empty texts."""
        for code, text in value.items():
            if not is_eu_language(code):
                raise ValueError(_unknown_language_message(code))
            if not text.strip():
                raise ValueError(f"the {code!r} text is empty")
        if DEFAULT_LANGUAGE not in value:
            raise ValueError("an English text ('en') is required")
        return value

    def get(self, lang: str | None) -> tuple[str, str]:
        """Return the text in ``lang`` or, failing that, in English.

        Args:
            lang: Requested language code or tag (``hr``, ``hr-HR``), or None.

        Returns:
            ``(text, language_served)`` so callers can tell the user when
            they fell back to English.
        """
        code = normalize_language(lang)
        if code is not None and code in self.root:
            return self.root[code], code
        return self.root[DEFAULT_LANGUAGE], DEFAULT_LANGUAGE

    @property
    def languages(self) -> tuple[str, ...]:
        """Language codes that have a text, for coverage reports."""
        return tuple(self.root)

    @property
    def en(self) -> str:
        """The English text, which always exists."""
        return self.root[DEFAULT_LANGUAGE]

    def __contains__(self, lang: object) -> bool:
        return lang in self.root


class Source(KBModel):
    """Where a fact was read, so every answer can cite it."""

    url: Url
    reliability: Reliability
    note: str | None = None


class Money(KBModel):
    """An amount with its currency; ``amount: null`` means unknown."""

    amount: Amount | None = None
    currency: Currency = "EUR"
    source: Url | None = None
    note: str | None = None
    uncertain: bool = False

    @model_validator(mode="after")
    def _amount_needs_source(self) -> Money:
        """A known amount without a source would be an unverifiable claim."""
        if self.amount is not None and self.source is None:
            raise FieldError("an amount needs a source URL", ("source",))
        return self


class FundingRate(KBModel):
    """How much of the costs a programme covers."""

    max_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    text: LocalizedText | None = None
    uncertain: bool = False


class GrantSize(KBModel):
    """Typical range of a single grant."""

    min: Amount | None = None
    max: Amount | None = None
    currency: Currency = "EUR"
    note: str | None = None

    @model_validator(mode="after")
    def _min_not_above_max(self) -> GrantSize:
        """A range whose minimum exceeds its maximum is a typo."""
        if self.min is not None and self.max is not None and self.min > self.max:
            raise FieldError(f"min {self.min} is larger than max {self.max}", ("max",))
        return self


class Period(KBModel):
    """Programming period in years (e.g. 2021-2027)."""

    start: Annotated[int, Field(ge=1950, le=2100)]
    end: Annotated[int, Field(ge=1950, le=2100)] | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Period:
        """A period that ends before it starts is a typo."""
        if self.end is not None and self.end < self.start:
            raise FieldError(f"end {self.end} is before start {self.start}", ("end",))
        return self


class Deadline(KBModel):
    """One submission deadline of a call."""

    date: dt.date
    time: TimeOfDay | None = None
    timezone: TimeZone | None = None


class OfficeHours(KBModel):
    """When a contact answers, so the bot can tell users when to call."""

    model_config = ConfigDict(populate_by_name=True)

    days: Annotated[list[Weekday], Field(min_length=1)]
    from_: TimeOfDay = Field(alias="from")
    to: TimeOfDay
    timezone: TimeZone | None = None

    @model_validator(mode="after")
    def _from_before_to(self) -> OfficeHours:
        """Opening must precede closing (both are zero-padded HH:MM)."""
        if self.from_ >= self.to:
            raise FieldError(f"'from' {self.from_} is not before 'to' {self.to}", ("to",))
        return self


# --------------------------------------------------------------------------- records


class Record(KBModel):
    """Fields every record has: identity, provenance and freshness."""

    id: RecordId
    sources: Annotated[list[Source], Field(min_length=1)]
    last_verified: dt.date
    uncertain: list[NonEmptyStr] = Field(default_factory=list)

    record_type: ClassVar[RecordType]


class Programme(Record):
    """An EU funding programme or one of its strands."""

    record_type: ClassVar[RecordType] = "programme"

    acronym: str | None = None
    parent: RecordId | None = None
    title: LocalizedText
    summary: LocalizedText
    managing_body: str | None = None
    period: Period | None = None
    total_budget: Money | None = None
    eligible_applicants: list[ApplicantType] = Field(default_factory=list)
    eligible_countries: list[CountryCode] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    funding_type: FundingType
    funding_rate: FundingRate | None = None
    grant_size: GrantSize | None = None
    how_to_apply: LocalizedText | None = None
    url: Url

    @model_validator(mode="after")
    def _not_own_parent(self) -> Programme:
        """A programme cannot be a strand of itself."""
        if self.parent == self.id:
            raise FieldError("a programme cannot be its own parent", ("parent",))
        return self


class Call(Record):
    """A call for proposals of a programme, with its deadlines."""

    record_type: ClassVar[RecordType] = "call"

    programme: RecordId
    call_id: str | None = None
    title: LocalizedText
    opening_date: dt.date | None = None
    deadlines: Annotated[list[Deadline], Field(min_length=1)]
    budget: Money | None = None
    grant_size: GrantSize | None = None
    url: Url
    # Set by an importer (docs/ftportal.md); hand-curated records leave both out.
    source: CallSource | None = None
    fetched_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _imported_when(self) -> Call:
        """An imported call must say when it was fetched, so answers can tell its age."""
        if self.source is not None and self.fetched_at is None:
            raise FieldError(
                f"a call with source {self.source!r} needs fetched_at", ("fetched_at",)
            )
        if self.fetched_at is not None and self.fetched_at.tzinfo is None:
            raise FieldError(
                "fetched_at needs a time zone (e.g. 2026-12-07T06:00:00Z)", ("fetched_at",)
            )
        return self

    @model_validator(mode="after")
    def _deadlines_after_opening(self) -> Call:
        """A deadline before the opening date is a typo in one of the dates."""
        if self.opening_date is None:
            return self
        for index, deadline in enumerate(self.deadlines):
            if deadline.date < self.opening_date:
                raise FieldError(
                    f"deadline {deadline.date} is before opening_date {self.opening_date}",
                    ("deadlines", index, "date"),
                )
        return self

    @model_validator(mode="after")
    def _deadlines_in_order(self) -> Call:
        """The last deadline closes the call, so deadlines must be chronological."""
        for index in range(1, len(self.deadlines)):
            previous, current = self.deadlines[index - 1].date, self.deadlines[index].date
            if current < previous:
                raise FieldError(
                    f"deadline {current} is before the previous deadline {previous}; "
                    "list deadlines in chronological order",
                    ("deadlines", index, "date"),
                )
        return self

    @property
    def closing_date(self) -> dt.date:
        """Date of the last deadline, after which the call is closed."""
        return max(deadline.date for deadline in self.deadlines)


class Practice(Record):
    """A good practice from a city, with its measurable outcome."""

    record_type: ClassVar[RecordType] = "practice"

    title: LocalizedText
    city: str
    country: CountryCode
    year_started: Annotated[int, Field(ge=1900, le=2100)] | None = None
    summary: LocalizedText
    outcome: LocalizedText | None = None
    funded_by: list[RecordId] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    url: Url


class Event(Record):
    """An event or an ongoing way to take part (vote, consultation, forum)."""

    record_type: ClassVar[RecordType] = "event"

    kind: EventKind
    title: LocalizedText
    summary: LocalizedText
    city: str | None = None
    country: CountryCode | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    online: bool = False
    place: str | None = None
    languages: list[LanguageCode] = Field(default_factory=list)
    how_to_take_part: LocalizedText | None = None
    url: Url

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Event:
        """An event that ends before it starts is a typo in one of the dates."""
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise FieldError(
                f"end_date {self.end_date} is before start_date {self.start_date}",
                ("end_date",),
            )
        return self


class Contact(Record):
    """A human contact point for handoff."""

    record_type: ClassVar[RecordType] = "contact"

    organisation: NonEmptyStr
    city: str | None = None
    country: CountryCode | None = None
    topics: list[Theme] = Field(default_factory=list)
    languages: list[LanguageCode] = Field(default_factory=list)
    email: Email | None = None
    url: Url | None = None
    phone: str | None = None
    office_hours: OfficeHours | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        """A contact without e-mail or URL cannot be handed off to."""
        if self.email is None and self.url is None:
            raise FieldError("a contact needs an email or a url", ("email",))
        return self


class GlossaryTerm(Record):
    """A funding term with its translations and definition."""

    record_type: ClassVar[RecordType] = "glossary"

    terms: LocalizedText
    synonyms: dict[LanguageCode, list[NonEmptyStr]] | None = None
    definition: LocalizedText


AnyRecord: TypeAlias = Programme | Call | Practice | Event | Contact | GlossaryTerm

RECORD_MODELS: Final[dict[RecordType, type[AnyRecord]]] = {
    "programme": Programme,
    "call": Call,
    "practice": Practice,
    "event": Event,
    "contact": Contact,
    "glossary": GlossaryTerm,
}
"""Model class of each record type."""

TYPE_FOLDERS: Final[dict[RecordType, str]] = {
    "programme": "programmes",
    "call": "calls",
    "practice": "practices",
    "event": "events",
    "contact": "contacts",
    "glossary": "glossary",
}
"""Folder under the data directory that holds each record type."""


def call_status(call: Call, today: dt.date) -> CallStatus:
    """Derive a call's status from the date, since status is never stored.

    The call is open on the day of its last deadline (deadline times are
    ignored because ``today`` has no time of day).

    Args:
        call: The call.
        today: The reference date (inject it; do not read the clock here).

    Returns:
        ``forthcoming`` before the opening date, ``open`` until the last
        deadline (inclusive), ``closed`` afterwards.
    """
    if call.opening_date is not None and today < call.opening_date:
        return "forthcoming"
    if today <= call.closing_date:
        return "open"
    return "closed"
