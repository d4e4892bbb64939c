"""/start, /help, /language, /forget and unknown commands, through the real webhook."""

import json
import logging
from pathlib import Path

import httpx
import pytest

from channels.telegram.i18n import translate
from knowledge.languages import EU_LANGUAGES
from participation.service import ParticipationService
from participation.settings import ParticipationSettings
from tests.channels.telegram.botapi_peer import TOKEN, BotApiPeer
from tests.channels.telegram.gateway import SECRET, Gateway, run_gateway
from tests.channels.telegram.rasa_peer import RasaPeer

CODES = ", ".join(EU_LANGUAGES)


def command(botapi: BotApiPeer, chat_id: int, text: str, language: str = "en") -> None:
    assert botapi.deliver(botapi.text_update(chat_id, text, language)) == 200


@pytest.mark.parametrize(
    ("text", "key", "language"), [("/start", "start", "hr"), ("/help", "help", "en")]
)
def test_start_and_help_answer_in_the_apps_language(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, text: str, key: str, language: str
) -> None:
    command(botapi, 401, text, language)
    assert botapi.wait_texts(401, 1) == [translate(key, language)]
    assert rasa.requests == []


def test_language_choice_is_sent_to_rasa_until_cleared(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    command(botapi, 402, "/language hr")
    command(botapi, 402, "What can I ask?")  # the Telegram app is in English
    command(botapi, 402, "/language")
    command(botapi, 402, "/language xx")
    command(botapi, 402, "/language auto")
    command(botapi, 402, "And now?")
    assert botapi.wait_texts(402, 6) == [
        translate("language.set", "hr", code="hr"),
        "[hr] What can I ask?",
        translate("language.current", "hr", code="hr", codes=CODES),
        translate("language.unsupported", "hr", requested="xx", codes=CODES),
        translate("language.cleared", "hr"),  # the last reply was in Croatian
        "[en] And now?",
    ]
    first, second = rasa.requests
    assert first.metadata["lang_pref"] == "hr"
    assert "lang_pref" not in second.metadata


def test_language_without_a_choice_explains_how_to_choose(
    gateway: Gateway, botapi: BotApiPeer
) -> None:
    command(botapi, 403, "/language", "de")
    assert botapi.wait_texts(403, 1) == [translate("language.automatic", "de", codes=CODES)]


def test_forget_erases_the_chats_data_and_its_rasa_conversation(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, store: ParticipationService
) -> None:
    command(botapi, 404, "/language hr")
    command(botapi, 404, "What is CERV?")
    botapi.wait_texts(404, 2)
    store.subscribe(user_id="telegram:404", language="hr", kind="events_city", target="Rijeka")
    assert store.export_user("telegram:404")["questions"], "the turn was recorded"
    command(botapi, 404, "/forget")
    command(botapi, 404, "hello")
    texts = botapi.wait_texts(404, 4)
    assert texts[2] == translate("forget.done", "hr")
    assert texts[3] == "[en] hello"  # the /language choice is gone too
    data = store.export_user("telegram:404")
    assert data["subscriptions"] == []
    assert [q["text"] for q in data["questions"]] == ["hello"]  # only what came after
    assert [r.message for r in rasa.requests] == ["What is CERV?", "hello"]


def test_export_sends_the_chats_data_as_a_json_file(
    gateway: Gateway, botapi: BotApiPeer, store: ParticipationService
) -> None:
    command(botapi, 405, "What is CERV?", "de")
    botapi.wait_texts(405, 1)
    command(botapi, 405, "/export", "de")
    [call] = botapi.wait_for("sendDocument")
    document = call.params
    assert document["chat_id"] == 405
    assert document["caption"] == translate("export.caption", "de")
    assert document["document"]["filename"] == "civic-assistant-my-data.json"
    data = json.loads(document["document"]["content"])
    assert data["user_id"] == "telegram:405"
    assert [q["text"] for q in data["questions"]] == ["What is CERV?"]


def test_forget_and_export_apologise_when_the_store_fails(
    botapi: BotApiPeer, rasa: RasaPeer, tmp_path: Path
) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the database folder should be")
    broken = ParticipationService(
        ParticipationSettings(database_url=f"sqlite:///{tmp_path / 'not-a-dir' / 'p.db'}")
    )
    with run_gateway(botapi, rasa.url, participation=broken):
        botapi.wait_for("setWebhook")
        command(botapi, 406, "/forget", "it")
        command(botapi, 406, "/export", "it")
        texts = botapi.wait_texts(406, 2)
    assert texts == [translate("forget.failed", "it"), translate("export.failed", "it")]


@pytest.mark.parametrize("text", ["/unknown", "/restart", "/greet"])
def test_other_commands_are_not_forwarded_as_intents(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, text: str
) -> None:
    command(botapi, 405, text, "pl")
    assert botapi.wait_texts(405, 1) == [translate("unknown_command", "pl")]
    assert rasa.requests == []


def test_the_command_menu_is_published_per_language(gateway: Gateway, botapi: BotApiPeer) -> None:
    botapi.wait_for("setMyCommands", count=7)
    names = [c["command"] for c in botapi.commands[None]]
    assert names == ["start", "help", "language", "city", "forget", "export"]
    croatian = {c["command"]: c["description"] for c in botapi.commands["hr"]}
    assert croatian["forget"] == translate("command.forget", "hr")


def test_the_language_choice_survives_a_restart_with_a_state_file(
    botapi: BotApiPeer, rasa: RasaPeer, tmp_path: Path
) -> None:
    state = tmp_path / "telegram-state.pickle"
    with run_gateway(botapi, rasa.url, telegram_state_file=state):
        command(botapi, 406, "/language de")
        botapi.wait_texts(406, 1)
    with run_gateway(botapi, rasa.url, telegram_state_file=state):
        command(botapi, 406, "hello")
        assert botapi.wait_texts(406, 2)[1] == "[de] hello"
    assert rasa.requests[-1].metadata["lang_pref"] == "de"


def test_a_rejected_token_leaves_the_gateway_up_and_out_of_the_logs(
    rasa: RasaPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    other_token = "987654321:AAother-token-than-the-one-configured"
    with BotApiPeer(token=other_token) as other, run_gateway(other, rasa.url) as gateway:
        assert httpx.get(f"{gateway.url}/healthz").json()["status"] == "ok"
        response = httpx.post(
            gateway.webhook_url,
            content=json.dumps({"update_id": 1}),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert response.status_code == 503
    assert [c.status for c in other.calls] == [401]  # getMe only, no retries
    logged = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records)
    assert "Telegram rejected APP_TELEGRAM_TOKEN" in logged
    assert TOKEN not in logged
