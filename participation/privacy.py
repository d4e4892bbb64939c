"""Masking of personal identifiers in stored analytics text and in logs.

Questions are kept for content-gap reports, never the identifiers people type into
them. Masking is conservative about numbers: dates, years and amounts stay; an
11-digit number is called an OIB only when its ISO 7064 MOD 11,10 check digit is
right (otherwise it is still masked, as a generic id).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

EMAIL_MASK: Final[str] = "[email]"
PHONE_MASK: Final[str] = "[phone]"
OIB_MASK: Final[str] = "[oib]"
IBAN_MASK: Final[str] = "[iban]"
ID_MASK: Final[str] = "[id]"

OIB_LENGTH: Final[int] = 11
PHONE_MIN_DIGITS: Final[int] = 8
PHONE_MAX_DIGITS: Final[int] = 15
NATIONAL_PHONE_MAX_DIGITS: Final[int] = 11
ID_MIN_DIGITS: Final[int] = 8
IBAN_MIN_LENGTH: Final[int] = 15
IBAN_MAX_LENGTH: Final[int] = 34
_IBAN_MODULUS: Final[int] = 97
_OIB_MODULUS: Final[int] = 10

_EMAIL_RE: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN_RE: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
# A run of digits with single separators, optionally with a + / 00 prefix and
# parenthesised area codes: the shape of phone numbers and identifiers.
_NUMBER_RE: Final = re.compile(
    r"(?<![\w@+])(?:\+|00)?(?:\(\d{1,4}\)|\d)(?:[ ./-]?(?:\(\d{1,4}\)|\d)){5,}(?![\w])"
)
_DATE_RE: Final = re.compile(r"^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\.?|\d{4}-\d{2}-\d{2})$")
_SEPARATORS: Final = re.compile(r"[ ./()-]")


def oib_is_valid(digits: str) -> bool:
    """Check a Croatian OIB with its ISO 7064 MOD 11,10 check digit.

    Args:
        digits: Exactly eleven digits.

    Returns:
        True when the last digit is the check digit of the first ten.
    """
    if len(digits) != OIB_LENGTH or not digits.isdigit():
        return False
    remainder = _OIB_MODULUS
    for char in digits[:-1]:
        remainder = (remainder + int(char)) % _OIB_MODULUS or _OIB_MODULUS
        remainder = (remainder * 2) % (_OIB_MODULUS + 1)
    check = (_OIB_MODULUS + 1 - remainder) % _OIB_MODULUS
    return check == int(digits[-1])


def iban_is_valid(candidate: str) -> bool:
    """Check an IBAN's ISO 13616 MOD 97 checksum (spaces ignored)."""
    compact = candidate.replace(" ", "")
    if not IBAN_MIN_LENGTH <= len(compact) <= IBAN_MAX_LENGTH:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % _IBAN_MODULUS == 1


def _classify_number(token: str) -> str | None:
    """Mask for a number-like token, or None to keep it (dates, amounts, short numbers)."""
    digits = re.sub(r"\D", "", token)
    international = token.startswith(("+", "00"))
    if international:
        return PHONE_MASK if PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS else None
    national_prefix = token.lstrip("(").startswith("0")
    if _SEPARATORS.search(token):
        if _DATE_RE.match(token):
            return None
        if national_prefix and PHONE_MIN_DIGITS <= len(digits) <= NATIONAL_PHONE_MAX_DIGITS:
            return PHONE_MASK
        return None
    if len(digits) == OIB_LENGTH:
        return OIB_MASK if oib_is_valid(digits) else ID_MASK
    if national_prefix and PHONE_MIN_DIGITS <= len(digits) < OIB_LENGTH:
        return PHONE_MASK
    return ID_MASK if len(digits) >= ID_MIN_DIGITS else None


def _mask_iban(match: re.Match[str]) -> str:
    return IBAN_MASK if iban_is_valid(match.group()) else match.group()


def _mask_number(match: re.Match[str]) -> str:
    return _classify_number(match.group()) or match.group()


def mask_personal_data(text: str) -> str:
    """Replace e-mails, phone numbers, OIBs, IBANs and long digit ids with placeholders.

    Args:
        text: Free text typed by a user or written to a log.

    Returns:
        The text with each identifier replaced by ``[email]``, ``[phone]``,
        ``[oib]``, ``[iban]`` or ``[id]``.
    """
    masked = _EMAIL_RE.sub(EMAIL_MASK, text)
    masked = _IBAN_RE.sub(_mask_iban, masked)
    return _NUMBER_RE.sub(_mask_number, masked)


class PersonalDataFilter(logging.Filter):
    """Masks personal identifiers in log records before any handler formats them.

    Attach it to handlers (``handler.addFilter(PersonalDataFilter())``) so that
    records from every library are covered, not only our own loggers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the message template and every string argument, keeping their shape.

        The arguments stay (masked): formatters such as uvicorn's access log read
        them by position, and fail on every request when they are dropped.
        """
        if isinstance(record.msg, str):
            record.msg = mask_personal_data(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        return True


def _masked(value: object) -> object:
    """A string argument with identifiers masked; anything else unchanged."""
    return mask_personal_data(value) if isinstance(value, str) else value


_factory_installed = False


def install_record_masking() -> None:
    """Mask identifiers in every log record this process creates, whatever its logger.

    A filter on a logger only sees records logged on that very logger, not those of
    its children ("channels.api.chat" passes by a filter on "channels"), and handlers
    are configured by whoever starts the process. Wrapping the record factory covers
    both: each record is masked once, when it is created. Idempotent.
    """
    global _factory_installed
    if _factory_installed:
        return
    create = logging.getLogRecordFactory()
    masking = PersonalDataFilter()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = create(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(masked_record)
    _factory_installed = True
