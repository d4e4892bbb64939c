"""Telegram: /city and bold titles, through the real webhook, the Bot API peer, a Rasa stand-in."""

from typing import Any

from channels.schemas import ChatMessage
from channels.telegram.i18n import translate
from channels.telegram.rendering import PayloadKeys, render
from participation.service import ParticipationService
from tests.channels.telegram.botapi_peer import MAX_TEXT_UNITS, BotApiPeer, utf16_units
from tests.channels.telegram.gateway import Gateway
from tests.channels.telegram.rasa_peer import RasaPeer
from tests.channels.telegram.test_commands import command


def covered(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, text) of each entity Telegram would show, cut in UTF-16 units."""
    units = message["text"].encode("utf-16-le")
    return [
        (e["type"], units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"))
        for e in message.get("entities") or []
    ]


def test_city_is_set_shown_sent_with_each_message_and_removed(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    command(botapi, 501, "/city", "hr")
    command(botapi, 501, "/city   Frankfurt (Oder) ", "hr")
    command(botapi, 501, "Što se događa?", "hr")
    command(botapi, 501, "/city <script>x</script>", "hr")
    command(botapi, 501, "/city", "hr")
    command(botapi, 501, "/city -", "hr")
    command(botapi, 501, "A sada?", "hr")
    assert botapi.wait_texts(501, 7) == [
        translate("city.none", "hr"),
        translate("city.set", "hr", city="Frankfurt (Oder)"),
        "[hr] Što se događa?",
        translate("city.invalid", "hr"),
        translate("city.current", "hr", city="Frankfurt (Oder)"),
        translate("city.cleared", "hr"),
        "[hr] A sada?",
    ]
    first, second = rasa.requests
    assert first.metadata["city"] == "Frankfurt (Oder)"
    assert "city" not in second.metadata


def test_forget_removes_the_city(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer, store: ParticipationService
) -> None:
    command(botapi, 502, "/city Rijeka")
    command(botapi, 502, "/forget")
    command(botapi, 502, "/city")
    texts = botapi.wait_texts(502, 3)
    assert texts[2] == translate("city.none", "en")


def test_forget_me_in_the_conversation_removes_the_city(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    rasa.script("delete my data", {"text": "Done."}, {"custom": {"turn": {"erased": True}}})
    command(botapi, 503, "/city Rijeka")
    command(botapi, 503, "delete my data")
    command(botapi, 503, "hello")
    assert botapi.wait_texts(503, 3)[1:] == ["Done.", "[en] hello"]
    erasing, after = rasa.requests
    assert erasing.metadata["city"] == "Rijeka"
    assert "city" not in after.metadata


def test_bold_title_and_urls_reach_telegram_as_entities_and_markup_stays_text(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    rasa.script(
        "card",
        {"text": "**🇪🇺 CERV <b>&amp;</b>** <script>x</script> See https://ec.europa.eu/cerv."},
        {
            "custom": {
                "links": [
                    {"title": "CERV", "url": "https://ec.europa.eu/cerv"},
                    {"title": "Apply", "url": "https://ec.europa.eu/apply"},
                ]
            }
        },
    )
    command(botapi, 504, "card")
    botapi.wait_texts(504, 1)
    [message] = botapi.messages(504)
    assert "parse_mode" not in message  # nothing in the text is read as markup
    assert message["text"] == (
        "🇪🇺 CERV <b>&amp;</b> <script>x</script> See https://ec.europa.eu/cerv.\n\n"
        + translate("link", "en", title="Apply", url="https://ec.europa.eu/apply")
    )
    assert covered(message) == [
        ("bold", "🇪🇺 CERV <b>&amp;</b>"),
        ("url", "https://ec.europa.eu/cerv"),
        ("url", "https://ec.europa.eu/apply"),
    ]


def test_a_long_card_is_split_with_its_bold_and_links_in_every_message(
    gateway: Gateway, botapi: BotApiPeer, rasa: RasaPeer
) -> None:
    text = "**" + "Title " * 900 + "end**\n\n" + "Read https://ec.europa.eu/cerv now. " * 120
    rasa.script("long card", {"text": text})
    command(botapi, 505, "long card")
    expected = len(render(ChatMessage(text=text), "en", PayloadKeys()))
    assert expected >= 3
    botapi.wait_texts(505, expected)
    messages = botapi.messages(505)
    assert all(utf16_units(m["text"]) <= MAX_TEXT_UNITS for m in messages)
    kinds = [[kind for kind, _ in covered(m)] for m in messages]
    assert kinds[0] == ["bold"] and kinds[1][0] == "bold"
    urls = [t for m in messages for kind, t in covered(m) if kind == "url"]
    assert urls == ["https://ec.europa.eu/cerv"] * 120
