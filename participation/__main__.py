"""Command line: ``python -m participation migrate|purge|refresh-reminders``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from participation.db import upgrade
from participation.service import ParticipationService, utc_now
from participation.settings import get_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m participation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.add_argument("--url", help="database URL (default: PARTICIPATION_DATABASE_URL)")
    commands.add_parser("purge", help="delete data older than the retention period")
    commands.add_parser("refresh-reminders", help="plan reminders for new calls and events")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one maintenance command; prints JSON counts where there are any."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    settings = get_settings()
    if args.command == "migrate":
        upgrade(args.url or settings.database_url, settings)
        return 0
    service = ParticipationService(settings)
    try:
        if args.command == "purge":
            print(json.dumps(service.purge_expired(utc_now())))
        else:
            print(json.dumps({"added": service.refresh_reminders(utc_now())}))
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
