"""`python -m indexer import-calls` against a local peer that speaks the portal's search API.

The peer is a real HTTP server on loopback that answers from recorded-format response
files (tests/fixtures/ftportal, synthetic test data labelled as such): pagination,
topics with missing fields, an unknown status code, one result per language, a 500,
a timeout, a renamed field and a changed envelope. Nothing here reaches the internet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from indexer.__main__ import main
from indexer.ftportal.mapping import map_topics, parse_moment
from indexer.ftportal.programmes import programme_for
from indexer.ftportal.store import LAST_ATTEMPT_FILE, MANIFEST_FILE
from indexer.import_calls_cmd import run
from knowledge.loader import load_knowledge_base
from knowledge.settings import KnowledgeSettings, get_settings
from tests.knowledge.search_fixtures import SEARCH_DATA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ftportal"
FETCHED_AT = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
SEARCH_PATH = "/search-api/prod/rest/search"
TWINNING = "ftportal-cerv-2099-citizens-town-tt"
LIFE = "ftportal-life-2099-sap-env"
CIVIC = "ftportal-cerv-2099-citizens-civ"


# --------------------------------------------------------------------------- the local peer


@dataclass
class Seen:
    """One request the peer received."""

    params: dict[str, list[str]]
    body: bytes
    content_type: str


@dataclass
class PortalPeer:
    """What the peer answers: pages of a scenario's files, an error status, or a delay."""

    scenario: str = "topics"
    status: int = 200
    fail_first: int = 0
    delay: float = 0.0
    fail_on_page: int | None = None
    requests: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{SEARCH_PATH}"

    def answer(self, params: dict[str, list[str]]) -> tuple[int, bytes]:
        if self.delay:
            time.sleep(self.delay)
        if self.fail_first > 0:
            self.fail_first -= 1
            return 500, b"upstream error"
        if self.status != 200:
            return self.status, b"error"
        if self.fail_on_page is not None and params["pageNumber"] == [str(self.fail_on_page)]:
            return 500, b"upstream error"
        page = FIXTURES / f"{self.scenario}-page-{params['pageNumber'][0]}.json"
        if not page.exists():
            return 404, b"no such page"
        return 200, page.read_bytes()


def _handler(peer: PortalPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            params = parse_qs(parts.query)
            peer.requests.append(Seen(params, body, self.headers.get("Content-Type", "")))
            if parts.path != SEARCH_PATH:
                status, payload = 404, b"not found"
            else:
                status, payload = peer.answer(params)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def peer() -> Iterator[PortalPeer]:
    state = PortalPeer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(SEARCH_DATA, target)
    return target


def portal_settings(
    tmp_path: Path, data_dir: Path, url: str, **overrides: Any
) -> KnowledgeSettings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "import_dir": tmp_path / "imports" / "ftportal",
        "index_dir": tmp_path / "index",
        "embedding_model": "hashing:64",
        "ftportal_url": url,
        "ftportal_page_size": 3,
        "ftportal_retries": 0,
        "ftportal_retry_seconds": 0,
        "ftportal_timeout_seconds": 5,
        "ftportal_languages": ["en", "fr"],
    }
    values.update(overrides)
    return KnowledgeSettings(**values)


@pytest.fixture
def settings(tmp_path: Path, data_dir: Path, peer: PortalPeer) -> KnowledgeSettings:
    return portal_settings(tmp_path, data_dir, peer.url)


def import_calls(settings: KnowledgeSettings) -> tuple[int, str]:
    out = io.StringIO()
    code = run(argparse.Namespace(), out, clock=lambda: FETCHED_AT, settings=settings)
    return code, out.getvalue()


def imported(settings: KnowledgeSettings) -> dict[str, dict[str, Any]]:
    records = yaml.safe_load((settings.import_dir / "calls.yaml").read_text(encoding="utf-8"))
    return {record["id"]: record for record in records}


def manifest(settings: KnowledgeSettings) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((settings.import_dir / MANIFEST_FILE).read_text())
    return data


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# --------------------------------------------------------------------------- a good import


def test_every_page_is_fetched_and_mapped_to_call_records(
    settings: KnowledgeSettings, peer: PortalPeer
) -> None:
    code, output = import_calls(settings)
    assert code == 0, output

    pages = [seen.params["pageNumber"] for seen in peer.requests]
    assert pages == [["1"], ["2"], ["3"]]
    first = peer.requests[0]
    assert first.params["apiKey"] == ["SEDIA"] and first.params["pageSize"] == ["3"]
    assert first.content_type.startswith("multipart/form-data")
    body = first.body.decode()
    for part in ('name="query"', 'name="languages"', "31094501", "31094502", '"fr"'):
        assert part in body
    assert "page 3/3: 8/8 topics" in output

    calls = imported(settings)
    assert sorted(calls) == [CIVIC, TWINNING, LIFE]
    twinning = calls[TWINNING]
    assert twinning["programme"] == "cerv-town-twinning"
    assert twinning["call_id"] == "CERV-2099-CITIZENS-TOWN-TT"
    assert set(twinning["title"]) == {"en", "fr"}  # one result per language, one record
    assert twinning["deadlines"] == [{"date": "2099-03-04", "time": "17:00", "timezone": "UTC"}]
    assert twinning["opening_date"] == "2026-09-01"
    assert twinning["budget"]["amount"] == 4000000 and isinstance(twinning["budget"]["amount"], int)
    assert twinning["grant_size"] == {"min": 8000, "max": 60000}
    assert twinning["url"].endswith("/topic-details/cerv-2099-citizens-town-tt")
    assert twinning["source"] == "ftportal"
    assert twinning["fetched_at"] == "2026-12-07T06:00:00Z"
    assert twinning["last_verified"] == "2026-12-07"
    assert twinning["sources"][0]["reliability"] == "official"
    # Deadlines come sorted; a topic without budgetOverview has no budget.
    life = calls[LIFE]
    assert [d["date"] for d in life["deadlines"]] == ["2099-06-10", "2099-09-23"]
    assert "budget" not in life and "grant_size" not in life
    # No metadata.title: the result's summary gives it; a strand the knowledge base
    # lacks falls back to its parent programme.
    assert calls[CIVIC]["programme"] == "cerv"
    assert calls[CIVIC]["title"]["en"].startswith("Citizens' engagement 2099")


def test_the_manifest_counts_what_was_imported_and_left_out(settings: KnowledgeSettings) -> None:
    code, output = import_calls(settings)
    assert code == 0, output
    data = manifest(settings)
    assert data["endpoint"] == settings.ftportal_url
    assert data["fetched_at"] == "2026-12-07T06:00:00Z"
    assert (data["results"], data["topics"], data["calls"]) == (8, 7, 3)
    assert (data["open"], data["forthcoming"]) == (2, 1)
    assert data["programmes"] == {"cerv": 1, "cerv-town-twinning": 1, "life": 1}
    assert data["skipped"] == {
        "closed": 1,
        "other_programme": 1,
        "unknown_status": 1,
        "unreadable": 1,
    }
    assert len(data["calls_sha256"]) == 64 and data["seconds"] >= 0
    assert "left out CERV-2099-CITIZENS-REM: unknown status code '31094599'" in output
    assert "left out CERV-2099-EQUAL: no deadlineDate" in output
    attempt = json.loads((settings.import_dir / LAST_ATTEMPT_FILE).read_text())
    assert attempt["ok"] is True


def test_imported_calls_load_with_the_curated_records(settings: KnowledgeSettings) -> None:
    assert import_calls(settings)[0] == 0
    kb, errors = load_knowledge_base(settings.data_dir, import_dir=settings.import_dir)
    assert errors == []
    call = kb.calls[TWINNING]
    assert call.source == "ftportal"
    assert call.fetched_at == FETCHED_AT
    assert call.title.get("fr")[0].startswith("Jumelage")
    assert "town-twinning-2026" in kb.calls  # curated calls are still there
    curated_only, _ = load_knowledge_base(settings.data_dir, import_dir=None)
    assert TWINNING not in curated_only.calls


def test_curated_records_win_over_imported_ones(settings: KnowledgeSettings) -> None:
    (settings.data_dir / "calls" / "curated.yaml").write_text(
        """
- id: life-2099-sap-env-checked
  programme: life
  call_id: life-2099-sap-env
  title: {en: "LIFE 2099 checked by an editor"}
  deadlines: [{date: 2099-09-23}]
  url: https://example.eu/calls/life-2099
  sources: [{url: https://example.eu/calls/life-2099, reliability: official}]
  last_verified: 2026-12-01
""",
        encoding="utf-8",
    )
    assert import_calls(settings)[0] == 0
    # An imported record with a curated record's id is left out too.
    path = settings.import_dir / "calls.yaml"
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    clash = {**records[0], "id": "town-twinning-2026", "call_id": "OTHER-2099-ID"}
    # One whose programme was renamed since the import is left out, not an error.
    orphan = {**records[0], "id": "ftportal-orphan", "call_id": "X-1", "programme": "gone"}
    text = yaml.safe_dump([*records, clash, orphan], allow_unicode=True)
    path.write_text(text, encoding="utf-8")

    kb, errors = load_knowledge_base(settings.data_dir, import_dir=settings.import_dir)
    assert errors == []
    assert LIFE not in kb.calls  # same call identifier as the curated record
    assert kb.calls["life-2099-sap-env-checked"].title.en == "LIFE 2099 checked by an editor"
    assert kb.calls["town-twinning-2026"].title.en == "Town-Twinning 2026"
    assert TWINNING in kb.calls and "ftportal-orphan" not in kb.calls


def test_the_configured_import_is_read_only_with_the_configured_data(
    settings: KnowledgeSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert import_calls(settings)[0] == 0
    monkeypatch.setenv("KNOWLEDGE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KNOWLEDGE_IMPORT_DIR", str(settings.import_dir))
    get_settings.cache_clear()
    try:
        kb, errors = load_knowledge_base()
        assert errors == [] and TWINNING in kb.calls
        copy = tmp_path / "copy"
        shutil.copytree(settings.data_dir, copy)
        other, _ = load_knowledge_base(copy)
        assert TWINNING not in other.calls
    finally:
        get_settings.cache_clear()


def test_a_new_import_replaces_the_file_in_one_step(
    settings: KnowledgeSettings, peer: PortalPeer
) -> None:
    assert import_calls(settings)[0] == 0
    path = settings.import_dir / "calls.yaml"
    before = path.stat().st_ino
    peer.scenario = "refresh"
    code, output = import_calls(settings)
    assert code == 0, output
    calls = imported(settings)
    assert "ftportal-life-2099-clima-cca" in calls and LIFE not in calls
    assert path.stat().st_ino != before  # a new file moved into place, not rewritten
    assert manifest(settings)["calls"] == 2
    leftovers = [p.name for p in settings.import_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


# --------------------------------------------------------------------------- failures


def assert_kept(settings: KnowledgeSettings, before: dict[str, bytes], output: str) -> None:
    after = snapshot(settings.import_dir)
    for name in ("calls.yaml", MANIFEST_FILE):
        assert after[name] == before[name], name
    assert "The previous import is kept: 3 calls fetched at 2026-12-07T06:00:00Z" in output
    attempt = json.loads((settings.import_dir / LAST_ATTEMPT_FILE).read_text())
    assert attempt["ok"] is False and attempt["message"] in output
    assert [p.name for p in settings.import_dir.iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def previous(settings: KnowledgeSettings) -> dict[str, bytes]:
    """A good import, made before the failing one."""
    code, output = import_calls(settings)
    assert code == 0, output
    return snapshot(settings.import_dir)


def test_a_server_error_keeps_the_previous_import(
    settings: KnowledgeSettings, peer: PortalPeer, previous: dict[str, bytes]
) -> None:
    peer.status = 500
    code, output = import_calls(settings)
    assert code == 1
    assert f"Import failed: page 1: HTTP 500 from 127.0.0.1:{peer.port}" in output
    assert_kept(settings, previous, output)


def test_a_server_error_on_a_later_page_keeps_the_previous_import(
    settings: KnowledgeSettings, peer: PortalPeer, previous: dict[str, bytes]
) -> None:
    peer.fail_on_page = 2  # page 1 arrived: still no partial import
    code, output = import_calls(settings)
    assert code == 1 and "page 2: HTTP 500" in output
    assert_kept(settings, previous, output)


def test_a_client_error_is_not_retried(tmp_path: Path, data_dir: Path, peer: PortalPeer) -> None:
    settings = portal_settings(tmp_path, data_dir, peer.url, ftportal_retries=2)
    peer.scenario = "missing"  # the peer answers 404
    code, output = import_calls(settings)
    assert code == 1 and "page 1: HTTP 404" in output
    assert len(peer.requests) == 1


def test_a_passing_server_error_is_retried(
    tmp_path: Path, data_dir: Path, peer: PortalPeer
) -> None:
    settings = portal_settings(tmp_path, data_dir, peer.url, ftportal_retries=1)
    peer.fail_first = 1
    code, output = import_calls(settings)
    assert code == 0, output
    assert len(peer.requests) == 4  # page 1 twice, then pages 2 and 3


def test_a_timeout_keeps_the_previous_import(
    settings: KnowledgeSettings, peer: PortalPeer, previous: dict[str, bytes], tmp_path: Path
) -> None:
    slow = settings.model_copy(update={"ftportal_timeout_seconds": 0.2})
    peer.delay = 1.0
    started = time.perf_counter()
    code, output = import_calls(slow)
    assert code == 1
    assert time.perf_counter() - started < 5
    assert "page 1: no answer from" in output and "in 0.2 s" in output
    assert_kept(settings, previous, output)


def test_no_network_keeps_the_previous_import(
    settings: KnowledgeSettings, previous: dict[str, bytes]
) -> None:
    offline = settings.model_copy(
        update={"ftportal_url": f"http://127.0.0.1:{closed_port()}{SEARCH_PATH}"}
    )
    code, output = import_calls(offline)
    assert code == 1
    assert "cannot reach 127.0.0.1" in output
    assert_kept(settings, previous, output)


def test_a_renamed_field_fails_the_import(
    settings: KnowledgeSettings, peer: PortalPeer, previous: dict[str, bytes]
) -> None:
    peer.scenario = "changed-field"
    code, output = import_calls(settings)
    assert code == 1
    assert "3 of 3 topics are unreadable (changed format?)" in output
    assert "no metadata.identifier" in output
    assert_kept(settings, previous, output)


def test_a_changed_envelope_fails_the_import(
    settings: KnowledgeSettings, peer: PortalPeer, previous: dict[str, bytes]
) -> None:
    peer.scenario = "changed-envelope"
    code, output = import_calls(settings)
    assert code == 1
    assert "page 1: no list of 'results' in the answer (changed format?)" in output
    assert_kept(settings, previous, output)


def test_a_first_import_that_fails_writes_no_calls(
    settings: KnowledgeSettings, peer: PortalPeer
) -> None:
    peer.status = 503
    code, output = import_calls(settings)
    assert code == 1
    assert "There is no previous import; only the curated calls are served." in output
    assert not (settings.import_dir / "calls.yaml").exists()
    kb, errors = load_knowledge_base(settings.data_dir, import_dir=settings.import_dir)
    assert errors == [] and len(kb.calls) == 3


def test_the_command_line_reads_the_environment(
    tmp_path: Path, data_dir: Path, peer: PortalPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_dir = tmp_path / "cli-import"
    monkeypatch.setenv("KNOWLEDGE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KNOWLEDGE_IMPORT_DIR", str(import_dir))
    monkeypatch.setenv("KNOWLEDGE_FTPORTAL_URL", peer.url)
    monkeypatch.setenv("KNOWLEDGE_FTPORTAL_PAGE_SIZE", "3")
    monkeypatch.setenv("KNOWLEDGE_FTPORTAL_RETRIES", "0")
    get_settings.cache_clear()
    try:
        assert main(["import-calls"]) == 0
        assert (import_dir / "calls.yaml").exists()
        peer.status = 500
        assert main(["import-calls"]) == 1
    finally:
        get_settings.cache_clear()


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-29T00:00:00.000+0000", (dt.date(2026, 4, 29), None, None)),
        ("2099-04-15", (dt.date(2099, 4, 15), None, None)),
        ("2026-03-19T17:00:00.000+0000", (dt.date(2026, 3, 19), "17:00", "UTC")),
        ("2026-03-19T17:00:00.000+0100", (dt.date(2026, 3, 19), "16:00", "UTC")),
        ("2026-03-19T00:30:00Z", (dt.date(2026, 3, 19), "00:30", "UTC")),
        ("2026-03-19T00:30:00-02:00", (dt.date(2026, 3, 19), "02:30", "UTC")),
    ],
)
def test_portal_dates_are_read_with_their_time_zone(
    text: str, expected: tuple[dt.date, str | None, str | None]
) -> None:
    assert parse_moment(text) == expected


@pytest.mark.parametrize("text", ["19/03/2026", "2026-02-30", "next week", ""])
def test_an_unreadable_date_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_moment(text)


def test_a_strand_falls_back_to_its_parent_programme() -> None:
    assert programme_for("CERV-2026-CITIZENS-TOWN-TT", {"cerv", "cerv-town-twinning"}) == (
        "cerv-town-twinning"
    )
    assert programme_for("cerv-2026-citizens-town-tt", {"cerv"}) == "cerv"
    assert programme_for("HORIZON-CL2-2027-02-DEMOCRACY-09", {"horizon-europe"}) == "horizon-europe"
    assert programme_for("HORIZON-CL2-2027-02-DEMOCRACY-09", {"horizon-cl2-democracy"}) == (
        "horizon-cl2-democracy"
    )
    assert programme_for("EDF-2026-DA", {"cerv", "life"}) is None


def topic(identifier: str, **metadata: Any) -> dict[str, Any]:
    base = {
        "identifier": [identifier],
        "title": [f"{identifier} title"],
        "status": ["31094502"],
        "deadlineDate": ["2099-01-10T00:00:00.000+0000"],
    }
    base.update(metadata)
    return {"reference": identifier, "language": "en", "metadata": base}


def test_an_inconsistent_topic_is_left_out_and_the_others_kept() -> None:
    results = [
        topic("LIFE-2099-A", startDate=["2099-02-01T00:00:00.000+0000"]),  # opens after it closes
        topic("LIFE-2099-B", budgetOverview=["not json"]),  # a budget it cannot read: no budget
        topic("LIFE-2099-C", deadlineDate=["soon"]),
    ]
    mapping = map_topics(results, {"life"}, FETCHED_AT)
    assert [call.call_id for call in mapping.records] == ["LIFE-2099-B"]
    assert mapping.records[0].budget is None
    reasons = {s.identifier: (s.kind, s.reason) for s in mapping.skipped}
    assert (
        reasons["LIFE-2099-A"][0] == "invalid"
        and "before opening_date" in reasons["LIFE-2099-A"][1]
    )
    assert reasons["LIFE-2099-C"] == ("unreadable", "'soon' is not a date")
    assert mapping.format_failure is None


def test_no_topic_at_all_fails_as_a_changed_query() -> None:
    mapping = map_topics([], {"life"}, FETCHED_AT)
    assert (
        mapping.format_failure is not None
        and "no open or forthcoming topic" in mapping.format_failure
    )


def test_a_topic_without_an_english_title_is_left_out() -> None:
    french = {**topic("LIFE-2099-D"), "language": "fr"}
    mapping = map_topics([french], {"life"}, FETCHED_AT)
    assert mapping.records == []
    assert mapping.skipped[0].reason == "no English title"
