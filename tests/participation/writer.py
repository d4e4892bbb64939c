"""Helper process for test_crash: submits proposals forever, printing each receipt.

A printed reference is an acknowledgement: the test kills this process with SIGKILL
and then expects every printed reference in the database.
"""

from __future__ import annotations

import sys
from itertools import count

from knowledge.base import KnowledgeBase
from participation.service import ParticipationService
from participation.settings import ParticipationSettings


def main(database_url: str) -> None:
    service = ParticipationService(
        ParticipationSettings(database_url=database_url), kb=KnowledgeBase()
    )
    for number in count():
        receipt = service.submit_proposal(
            user_id="api:writer",
            language="en",
            topic="Crash test",
            text=f"proposal {number}",
            idempotency_key=f"key-{number}",
        )
        print(receipt.reference, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
