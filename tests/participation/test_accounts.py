"""Operator accounts, sessions, the sign-in rate limit, client tokens, audit and handover."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from participation.db import alembic_config, create_db_engine, upgrade
from participation.errors import (
    ConflictError,
    InvalidInputError,
    LoginFailedError,
    LoginRateLimitedError,
    OutOfScopeError,
)
from participation.models import ApiClient, LoginAttempt, Operator, OperatorSession
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.participation.conftest import Clock

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
ADDRESS = "192.0.2.10"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lowest Argon2 cost: the same code path without 0.3 s per hash."""
    monkeypatch.setenv("PARTICIPATION_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("PARTICIPATION_PASSWORD_MEMORY_KIB", "64")
    monkeypatch.setenv("PARTICIPATION_PASSWORD_PARALLELISM", "1")


def operator(service: ParticipationService, name: str, *roles: str, city: str = "Rijeka") -> str:
    service.create_operator(
        username=name, password=PASSWORD, roles=roles or ("operator",), cities=[city]
    )
    return name


def test_passwords_are_stored_as_argon2id_hashes(service: ParticipationService) -> None:
    operator(service, "Ana")
    with service._read() as session:
        stored = session.scalars(select(Operator.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert service.operator_by_name("ANA").username == "ana"


@pytest.mark.parametrize(
    ("username", "password", "roles", "cities", "field"),
    [
        ("a", PASSWORD, ["operator"], ["Rijeka"], "username"),
        ("ana<script>", PASSWORD, ["operator"], ["Rijeka"], "username"),
        ("ana", "short", ["operator"], ["Rijeka"], "password"),
        ("ana", PASSWORD, ["superuser"], ["Rijeka"], "roles"),
        ("ana", PASSWORD, [], ["Rijeka"], "roles"),
        ("ana", PASSWORD, ["operator"], [], "cities"),
    ],
)
def test_bad_accounts_are_refused_with_the_field(
    service: ParticipationService,
    username: str,
    password: str,
    roles: list[str],
    cities: list[str],
    field: str,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        service.create_operator(username=username, password=password, roles=roles, cities=cities)
    assert caught.value.field == field
    assert service.list_operators() == []


def test_a_taken_user_name_is_refused(service: ParticipationService) -> None:
    operator(service, "ana")
    with pytest.raises(InvalidInputError, match="taken"):
        operator(service, "ANA")


def test_sign_in_opens_a_new_session_each_time(service: ParticipationService) -> None:
    operator(service, "ana")
    first = service.sign_in("ana", PASSWORD, ADDRESS)
    second = service.sign_in("ana", PASSWORD, ADDRESS)
    assert first.token != second.token and first.csrf_token != second.csrf_token
    principal = service.session_principal(first.token)
    assert principal is not None and principal.actor == "operator:ana"
    assert principal.csrf_token == first.csrf_token
    with service._read() as session:
        hashes = set(session.scalars(select(OperatorSession.token_hash)))
    assert first.token not in hashes and len(hashes) == 2, "only hashes are stored"
    assert service.sign_out(first.token)
    assert service.session_principal(first.token) is None
    assert service.session_principal(second.token) is not None


@pytest.mark.parametrize(("username", "password"), [("ana", "wrong password!"), ("bob", PASSWORD)])
def test_a_wrong_password_or_unknown_user_fails_alike(
    service: ParticipationService, username: str, password: str
) -> None:
    operator(service, "ana")
    with pytest.raises(LoginFailedError):
        service.sign_in(username, password, ADDRESS)
    entry = service.audit_log()[0]
    assert (entry.actor, entry.action) == (f"login:{username}", "login_failed")


def test_sign_in_is_rate_limited_per_user_then_allowed_again(
    service: ParticipationService, clock: Clock
) -> None:
    operator(service, "ana")
    for _ in range(service.settings.login_max_failures):
        with pytest.raises(LoginFailedError):
            service.sign_in("ana", "wrong password!", ADDRESS)
    with pytest.raises(LoginRateLimitedError) as caught:
        service.sign_in("ana", PASSWORD, ADDRESS)
    assert 0 < caught.value.retry_after_seconds <= service.settings.login_window_seconds
    clock.now += dt.timedelta(seconds=service.settings.login_window_seconds + 1)
    assert service.sign_in("ana", PASSWORD, ADDRESS).operator.username == "ana"


def test_sign_in_is_rate_limited_per_address(service: ParticipationService) -> None:
    operator(service, "ana")
    for number in range(service.settings.login_max_failures_per_address):
        with pytest.raises(LoginFailedError):
            service.sign_in(f"guess{number}", "wrong password!", ADDRESS)
    with pytest.raises(LoginRateLimitedError):
        service.sign_in("ana", PASSWORD, ADDRESS)
    assert service.sign_in("ana", PASSWORD, "198.51.100.7").operator.username == "ana"


def test_sessions_end_when_idle_expired_deactivated_or_password_changed(
    service: ParticipationService, clock: Clock
) -> None:
    operator(service, "ana")
    idle = service.sign_in("ana", PASSWORD, ADDRESS)
    clock.now += dt.timedelta(minutes=service.settings.session_idle_minutes)
    assert service.session_principal(idle.token) is None
    kept = service.sign_in("ana", PASSWORD, ADDRESS)
    for _ in range(service.settings.session_max_hours * 2):
        clock.now += dt.timedelta(minutes=30)
        alive = service.session_principal(kept.token) is not None
    assert not alive, "a session never outlives session_max_hours"
    changed = service.sign_in("ana", PASSWORD, ADDRESS)
    service.set_password("ana", "another long password")
    assert service.session_principal(changed.token) is None
    with pytest.raises(LoginFailedError):
        service.sign_in("ana", PASSWORD, ADDRESS)
    disabled = service.sign_in("ana", "another long password", ADDRESS)
    service.update_operator("ana", active=False)
    assert service.session_principal(disabled.token) is None
    with pytest.raises(LoginFailedError):
        service.sign_in("ana", "another long password", ADDRESS)


def test_client_tokens_are_scoped_hashed_and_revocable(service: ParticipationService) -> None:
    token = service.create_client("nightly-export", "reports")
    principal = service.client_principal(token)
    assert principal is not None and principal.actor == "client:nightly-export"
    assert principal.has_role("reports") and not principal.has_role("operator")
    with service._read() as session:
        assert token not in set(session.scalars(select(ApiClient.token_hash)))
    with pytest.raises(InvalidInputError):
        service.create_client("other", "root")
    service.revoke_client("nightly-export")
    assert service.client_principal(token) is None


def ticket(service: ParticipationService, city: str = "Rijeka") -> str:
    return service.open_ticket(
        user_id="web:user-0001", language="hr", city=city, summary="Treba mi pomoć"
    ).reference


def principal(service: ParticipationService, name: str):  # type: ignore[no-untyped-def]
    found = service.session_principal(service.sign_in(name, PASSWORD, ADDRESS).token)
    assert found is not None
    return found


def test_of_two_operators_claiming_at_once_one_wins(service: ParticipationService) -> None:
    reference = ticket(service)
    ana, bob = (principal(service, operator(service, name)) for name in ("ana", "bob"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(who: str, p: object) -> None:
        barrier.wait()
        try:
            service.claim_ticket(reference, p)  # type: ignore[arg-type]
            outcomes[who] = "won"
        except ConflictError as exc:
            outcomes[who] = exc.state

    threads = [threading.Thread(target=claim, args=(n, p)) for n, p in (("ana", ana), ("bob", bob))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["claimed", "won"]
    winner = next(name for name, result in outcomes.items() if result == "won")
    assert service.get_ticket(reference).assignee == winner
    assert service.held_ticket("web:user-0001") == reference
    claims = [e for e in service.audit_log() if e.action == "ticket_claim"]
    assert [(e.actor, e.target) for e in claims] == [(f"operator:{winner}", reference)]


def test_reply_transfer_and_close(service: ParticipationService) -> None:
    reference = ticket(service)
    operator(service, "zora", city="Zagreb")
    ana = principal(service, operator(service, "ana"))
    with pytest.raises(ConflictError, match="unclaimed"):
        service.add_ticket_message(reference, "Dobar dan", ana)
    service.claim_ticket(reference, ana)
    service.add_ticket_message(reference, "Moj OIB je 69435151530", None)
    service.add_ticket_message(reference, "<b>Dobar dan</b>", ana)
    messages = service.ticket_messages(reference, ana)
    assert [m.author for m in messages] == ["user", "operator"]
    assert "69435151530" not in messages[0].text, "the user's identifiers are masked"
    assert messages[1].text == "<b>Dobar dan</b>", "stored as typed; channels show it as text"
    assert service.ticket_messages(reference, ana, after_id=messages[0].id) == messages[1:]
    with pytest.raises(InvalidInputError):
        service.transfer_ticket(reference, ana, operator="zora")
    moved = service.transfer_ticket(reference, ana, city="Zagreb")
    assert (moved.city, moved.assignee) == ("Zagreb", None)
    with pytest.raises(OutOfScopeError):
        service.get_ticket(reference, ana)
    zora = principal(service, "zora")
    service.claim_ticket(reference, zora)
    closed = service.close_ticket(reference, zora, "answered")
    assert (closed.status, closed.outcome) == ("closed", "answered")
    assert service.held_ticket("web:user-0001") is None
    with pytest.raises(ConflictError, match="closed"):
        service.add_ticket_message(reference, "Still there?", zora)
    with pytest.raises(InvalidInputError):
        service.close_ticket(ticket(service, "Zagreb"), zora, "forgotten")
    actions = [(e.actor, e.action) for e in reversed(service.audit_log())]
    assert ("operator:ana", "ticket_transfer") in actions
    assert actions[-1] == ("operator:zora", "ticket_close")


def test_create_admin_reads_the_password_from_stdin_not_argv(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = {**os.environ, "PARTICIPATION_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("PARTICIPATION_NEW_PASSWORD", None)
    command = [sys.executable, "-m", "participation", "create-admin", "--username", "Root"]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    again = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2 and "taken" in again.stderr
    settings = ParticipationSettings(database_url=f"sqlite:///{database}")
    service = ParticipationService(settings)
    assert service.sign_in("root", PASSWORD, ADDRESS).operator.roles == ("admin",)
    service.close()
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        actions = connection.execute(text("SELECT actor, action, target FROM audit_log")).all()
    engine.dispose()
    assert ("cli", "operator_create", "root") in actions


def test_the_accounts_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    settings = ParticipationSettings(database_url=url)
    upgrade(url, settings)
    engine = create_db_engine(url, settings)
    config = alembic_config(settings)
    for step, revision in ((command.downgrade, "0001_initial"), (command.upgrade, "head")):
        with engine.connect() as connection:
            config.attributes["connection"] = connection.execution_options(participation_write=True)
            step(config, revision)
            connection.commit()
        names = set(inspect(engine).get_table_names())
        assert ("operators" in names) is (revision == "head")
    with engine.begin() as connection, pytest.raises(IntegrityError):
        connection.execute(
            text(
                "INSERT INTO tickets (reference, user_id, channel, language, summary, status,"
                " reply_by, created_at) VALUES ('HT-X', 'u', 'api', 'en', 's', 'bogus',"
                " '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()


def test_the_users_export_has_their_handed_over_conversation(
    service: ParticipationService,
) -> None:
    reference = ticket(service)
    ana = principal(service, operator(service, "ana"))
    service.claim_ticket(reference, ana)
    service.add_ticket_message(reference, "Trebam pomoć", None)
    service.add_ticket_message(reference, "Evo me", ana)
    export = service.export_user("web:user-0001")
    assert [(m["author"], m["text"]) for m in export["ticket_messages"]] == [
        ("user", "Trebam pomoć"),
        ("operator", "Evo me"),
    ]
    assert all("operator_id" not in m for m in export["ticket_messages"])
    service.forget_user("web:user-0001")
    assert service.export_user("web:user-0001")["ticket_messages"] == []


def test_old_sign_in_attempts_are_not_kept(service: ParticipationService, clock: Clock) -> None:
    operator(service, "ana")
    with pytest.raises(LoginFailedError):
        service.sign_in("ana", "wrong password!", ADDRESS)
    clock.now += dt.timedelta(seconds=service.settings.login_window_seconds + 1)
    service.sign_in("ana", PASSWORD, "198.51.100.9")
    with service._read() as session:
        addresses = list(session.scalars(select(LoginAttempt.address)))
    assert addresses == ["198.51.100.9"]
