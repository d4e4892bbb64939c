"""Command line: ``python -m participation migrate|purge|refresh-reminders|create-admin|...``.

Passwords never come from the command line (it ends up in shell history and process
lists): ``create-admin`` and ``set-password`` read ``PARTICIPATION_NEW_PASSWORD``,
else a line from standard input when it is not a terminal, else ask twice.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys

from participation.db import upgrade
from participation.errors import InvalidInputError, NotFoundError
from participation.service import ParticipationService, utc_now
from participation.settings import get_settings

PASSWORD_ENV = "PARTICIPATION_NEW_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m participation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.add_argument("--url", help="database URL (default: PARTICIPATION_DATABASE_URL)")
    commands.add_parser("purge", help="delete data older than the retention period")
    commands.add_parser("refresh-reminders", help="plan reminders for new calls and events")
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--username", required=True)
    operator = commands.add_parser("create-operator", help="create an operator account")
    operator.add_argument("--username", required=True)
    operator.add_argument(
        "--roles", required=True, help="comma-separated: operator, moderator, editor, admin"
    )
    operator.add_argument("--cities", default="", help="comma-separated city names, or *")
    operator.add_argument("--languages", default="", help="comma-separated codes; empty = all")
    operator.add_argument("--topics", default="", help="comma-separated topic ids; empty = all")
    password = commands.add_parser("set-password", help="replace an account's password")
    password.add_argument("--username", required=True)
    client = commands.add_parser("create-client", help="a machine token for the admin API")
    client.add_argument("--name", required=True)
    client.add_argument("--scope", required=True, choices=["reports", "admin"])
    revoke = commands.add_parser("revoke-client", help="stop accepting a machine token")
    revoke.add_argument("--name", required=True)
    return parser


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def read_password() -> str:
    """The new password from the environment, piped standard input, or a prompt."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise InvalidInputError("password", "the two entries differ")
    return first


def _accounts(service: ParticipationService, args: argparse.Namespace) -> dict[str, object]:
    """Run an account command; returns what to print (never a password)."""
    if args.command == "create-admin":
        made = service.create_operator(
            username=args.username, password=read_password(), roles=["admin"], cities=["*"]
        )
        service.record_action("cli", "operator_create", made.username, {"roles": ["admin"]})
        return {"created": made.username, "roles": list(made.roles)}
    if args.command == "create-operator":
        made = service.create_operator(
            username=args.username,
            password=read_password(),
            roles=_items(args.roles),
            cities=_items(args.cities),
            languages=_items(args.languages),
            topics=_items(args.topics),
        )
        service.record_action("cli", "operator_create", made.username, {"roles": list(made.roles)})
        return {"created": made.username, "roles": list(made.roles), "cities": list(made.cities)}
    if args.command == "set-password":
        service.set_password(args.username, read_password())
        service.record_action("cli", "password_set", args.username.strip().casefold())
        return {"password_set": args.username}
    if args.command == "create-client":
        token = service.create_client(args.name, args.scope)
        service.record_action("cli", "client_create", args.name, {"scope": args.scope})
        return {"client": args.name, "scope": args.scope, "token": token}
    service.revoke_client(args.name)
    service.record_action("cli", "client_revoke", args.name)
    return {"revoked": args.name}


def main(argv: list[str] | None = None) -> int:
    """Run one maintenance command; prints JSON results where there are any."""
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
        elif args.command == "refresh-reminders":
            print(json.dumps({"added": service.refresh_reminders(utc_now())}))
        else:
            print(json.dumps(_accounts(service, args)))
    except (InvalidInputError, NotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
