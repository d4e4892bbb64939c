"""Public API of the participation package: one facade, one transaction per method.

All methods are synchronous and thread-safe (one engine, one session per call);
async callers wrap them in ``asyncio.to_thread`` or ``run_in_threadpool``. Results
are frozen dataclasses from :mod:`participation.types`; expected failures raise
errors from :mod:`participation.errors`. The schema is migrated on first use.

The methods live in one module per concern (proposals, reminders, tickets,
analytics, user data, accounts); this class only puts them together.
"""

from __future__ import annotations

from participation.accounts import AccountsMixin
from participation.analytics import AnalyticsMixin
from participation.core import KnowledgeSource, utc_now
from participation.proposals import ProposalsMixin
from participation.reminders import RemindersMixin
from participation.tickets import TicketsMixin
from participation.user_data import UserDataMixin

__all__ = ["KnowledgeSource", "ParticipationService", "utc_now"]


class ParticipationService(
    ProposalsMixin, RemindersMixin, TicketsMixin, AnalyticsMixin, UserDataMixin, AccountsMixin
):
    """Proposals, reminders, tickets, analytics, privacy requests and operator accounts.

    Construct with ``ParticipationService(settings=None, *, engine=None, kb=None,
    clock=None)`` (see :class:`participation.core.ServiceCore`); nothing connects
    or loads until the first call.
    """
