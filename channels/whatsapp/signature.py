"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, body)>`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def expected_signature(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for `body`: computed over the raw bytes, not parsed JSON."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """True only when `header` is the body's signature (constant-time comparison)."""
    if not header or not header.startswith(_PREFIX):
        return False
    expected = expected_signature(body, app_secret)
    # Compare bytes: compare_digest refuses non-ASCII str, and a forged header may be anything.
    return hmac.compare_digest(expected.encode("ascii"), header.strip().lower().encode("utf-8"))


def tokens_equal(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the verify token of Meta's subscription handshake."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
