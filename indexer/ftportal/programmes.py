"""Which knowledge-base programme a portal topic belongs to, from its identifier.

Portal identifiers start with the programme's code (``CERV-2025-CITIZENS-TOWN-TT``,
``HORIZON-CL2-2025-01-DEMOCRACY-12``, ``LIFE-...``). The first rule whose pattern
matches and whose programme exists in the knowledge base wins, so a strand that the
knowledge base lacks falls back to its parent programme. Codes and their sources are
listed in docs/ftportal.md. Topics of programmes the knowledge base does not cover
are not imported.
"""

from __future__ import annotations

import re
from collections.abc import Container
from typing import Final

RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), programme)
    for pattern, programme in (
        (r"^CERV-\d{4}-CITIZENS-TOWN-TT\b", "cerv-town-twinning"),
        (r"^CERV-\d{4}-CITIZENS-TOWN-NT\b", "cerv-networks-of-towns"),
        (r"^CERV-\d{4}-CITIZENS-REM\b", "cerv-remembrance"),
        (r"^CERV-\d{4}-CITIZENS-CIV\b", "cerv-citizens-engagement"),
        (r"^CERV-\d{4}-DAPHNE\b", "cerv-daphne"),
        (r"^CERV-", "cerv"),
        (r"^HORIZON-CL2-.*-DEMOCRACY-", "horizon-cl2-democracy"),
        (r"^HORIZON-MISS-.*-CIT-", "cities-mission"),
        (r"^HORIZON-", "horizon-europe"),
        (r"^ERASMUS-", "erasmus-plus"),
        (r"^ESC-", "european-solidarity-corps"),
        (r"^CREA-CULT-\d{4}-COOP\b", "creative-europe-cooperation"),
        (r"^CREA-", "creative-europe"),
        (r"^DIGITAL-", "digital-europe"),
        (r"^CEF-T-", "cef-transport"),
        (r"^CEF-", "cef"),
        (r"^EU4H-", "eu4health"),
        (r"^LIFE-", "life"),
        (r"^AMIF-", "amif"),
        (r"^SMP-", "single-market-programme"),
    )
)
"""(pattern on the upper-case identifier, programme id), most specific first."""


def programme_for(identifier: str, programmes: Container[str]) -> str | None:
    """The programme id of a topic, or None if the knowledge base has no programme for it.

    Args:
        identifier: The topic identifier as the portal gives it.
        programmes: Ids of the knowledge base's programmes.
    """
    code = identifier.strip().upper()
    for pattern, programme in RULES:
        if pattern.search(code) and programme in programmes:
            return programme
    return None
