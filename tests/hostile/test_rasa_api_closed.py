"""Rasa's own HTTP API is out of reach in the default run.

The stack starts Rasa as `make run` does: without `--enable-api`, and every process
bound to 127.0.0.1. Proven here on the running processes: the kernel's table of
listening sockets holds each port on loopback only, and Rasa answers 404 on the
routes its HTTP API would add (tracker, parse, model replacement, domain, status).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from stack import LOOPBACK, Stack

pytestmark = [pytest.mark.integration, pytest.mark.rasa]

LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
LISTEN = "0A"
API_ROUTES = [
    ("GET", "/status"),
    ("GET", "/version/../status"),
    ("GET", "/domain"),
    ("GET", "/conversations/api:someone/tracker"),
    ("POST", "/conversations/api:someone/tracker/events"),
    ("POST", "/conversations/api:someone/trigger_intent"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
]


def listening_addresses(port: int) -> set[str]:
    """Local addresses (kernel hex) of the sockets listening on `port`, IPv4 and IPv6."""
    found: set[str] = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == LISTEN and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_every_port_listens_on_loopback_only(hostile_stack: Stack) -> None:
    ports = hostile_stack.ports
    for name, port in (("rasa", ports.rasa), ("actions", ports.actions), ("app", ports.app)):
        addresses = listening_addresses(port)
        assert addresses, f"{name} is not listening on {port}"
        assert addresses <= LOOPBACK_HEX, (name, addresses)


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_rasa_http_api_is_not_enabled(hostile_stack: Stack, method: str, path: str) -> None:
    url = f"http://{LOOPBACK}:{hostile_stack.ports.rasa}{path}"
    response = httpx.request(method, url, json={"text": "hello"}, timeout=30)
    assert response.status_code == 404, (method, path, response.status_code, response.text)
