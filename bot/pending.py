"""The yes/no question the bot is waiting on (`awaiting` slot), so rules route the answer."""

from __future__ import annotations

from typing import Final

AWAITING_SLOT: Final = "awaiting"
# Values of the slot (the domain lists the same values).
PROPOSAL: Final = "proposal"
UNSUBSCRIBE: Final = "unsubscribe"
FORGET: Final = "forget"
