"""WhatsApp: `city <name>` and bold titles, end to end (Meta -> gateway -> peers).

Each test uses its own WhatsApp number on the session's shared peers and gateway.
"""

import httpx

from tests.channels.whatsapp.peers import GraphApiPeer, RasaRestPeer, wait_until
from tests.channels.whatsapp.test_webhook import body_of, channel_text, send_text


def sent_bodies(graph: GraphApiPeer, wa_id: str, count: int) -> list[str]:
    return [body_of(m) for m in graph.wait_for(wa_id, count)]


def metadata_of(rasa: RasaRestPeer, wa_id: str) -> list[dict[str, object]]:
    return [body.get("metadata") or {} for body in rasa.from_sender(f"whatsapp:{wa_id}")]


def test_city_is_confirmed_in_the_users_language_and_sent_with_each_message(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000091"  # a Croatian number of its own: the channel answers in Croatian
    send_text(gateway, wa_id, "city")
    send_text(gateway, wa_id, "City   Rijeka ")
    send_text(gateway, wa_id, "what is on?")
    send_text(gateway, wa_id, "/city <b>x</b>")
    send_text(gateway, wa_id, "city:")
    send_text(gateway, wa_id, "city -")
    send_text(gateway, wa_id, "and now?")
    assert sent_bodies(graph, wa_id, 7) == [
        channel_text("hr", "city.none"),
        channel_text("hr", "city.set").format(city="Rijeka"),
        "echo: what is on?",
        channel_text("hr", "city.invalid"),
        channel_text("hr", "city.current").format(city="Rijeka"),
        channel_text("hr", "city.cleared"),
        "echo: and now?",
    ]
    first, second = metadata_of(rasa, wa_id)
    assert first["city"] == "Rijeka"
    assert "city" not in second
    assert all("country" not in meta for meta in (first, second))


def test_a_question_that_starts_with_city_goes_to_the_assistant(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "491511000002"
    send_text(gateway, wa_id, "city of Zagreb participatory budget")
    send_text(gateway, wa_id, "City budget?")
    assert sent_bodies(graph, wa_id, 2) == [
        "echo: city of Zagreb participatory budget",
        "echo: City budget?",
    ]


def test_forget_me_in_the_conversation_drops_the_city(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "441111000003"
    rasa.replies["forget everything"] = [
        {"text": "Done."},
        {"custom": {"turn": {"erased": True}}},
    ]
    send_text(gateway, wa_id, "/city Saint-Étienne")
    send_text(gateway, wa_id, "hello")
    send_text(gateway, wa_id, "forget everything")
    send_text(gateway, wa_id, "hello again")
    assert sent_bodies(graph, wa_id, 4)[1:] == ["echo: hello", "Done.", "echo: hello again"]
    metadata = metadata_of(rasa, wa_id)
    assert [meta.get("city") for meta in metadata] == ["Saint-Étienne", "Saint-Étienne", None]


def test_bold_title_uses_stars_and_a_url_is_not_repeated(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "331111000004"
    rasa.replies["card please"] = [
        {"text": "**CERV <b>x</b>** Details: https://ec.europa.eu/cerv"},
        {"custom": {"links": [{"title": "CERV", "url": "https://ec.europa.eu/cerv"}]}},
    ]
    send_text(gateway, wa_id, "card please")
    wait_until(lambda: len(graph.sent_to(wa_id)) >= 1)
    [body] = sent_bodies(graph, wa_id, 1)
    assert body == "*CERV <b>x</b>* Details: https://ec.europa.eu/cerv"
