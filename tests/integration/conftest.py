"""One real stack (Rasa, action server, app) shared by the conversation tests."""

from collections.abc import Iterator

import httpx
import pytest

from stack import Ports, Stack, ensure_model


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = ensure_model()
    with Stack(Ports.free(), tmp_path_factory.mktemp("shared-stack"), model) as running:
        yield running


@pytest.fixture(scope="session")
def shared_api(shared_stack: Stack) -> Iterator[httpx.Client]:
    base = f"http://127.0.0.1:{shared_stack.ports.app}"
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client


class Chat:
    """A conversation of one sender through POST /api/v1/chat."""

    def __init__(self, api: httpx.Client, sender: str) -> None:
        self.api = api
        self.sender = sender

    def say(self, message: str, **extra: str) -> dict:
        response = self.api.post(
            "/api/v1/chat", json={"sender": self.sender, "message": message, **extra}
        )
        assert response.status_code == 200, response.text
        reply = response.json()
        assert reply["messages"], "never an empty reply"
        return reply

    def text(self, message: str, **extra: str) -> str:
        return "\n".join(m["text"] for m in self.say(message, **extra)["messages"])
