"""The WhatsApp webhook end to end over HTTP: Meta -> gateway -> Rasa peer -> Graph peer.

Every test uses its own WhatsApp number, so the shared peers and gateway never mix
conversations. "Nothing was sent" is proven with a sentinel: the same user's next
message is answered in order after anything the earlier delivery could have caused.
"""

import json
from pathlib import Path

import httpx
import pytest

from channels.app import create_app
from channels.i18n import translate as gateway_text
from tests.channels.whatsapp.conftest import whatsapp_settings
from tests.channels.whatsapp.peers import (
    PHONE_NUMBER_ID,
    TEST_VERIFY_TOKEN,
    GraphApiPeer,
    RasaRestPeer,
    ServerThread,
    new_message_id,
    post_signed,
    sign,
    text_message,
    typed_message,
    wait_until,
    webhook_body,
)

I18N = Path(__file__).resolve().parents[3] / "channels" / "whatsapp" / "i18n"


def channel_text(language: str, key: str) -> str:
    """The expected wording, read from the translation file itself."""
    return json.loads((I18N / f"{language}.json").read_text(encoding="utf-8"))[key]


def body_of(message: dict) -> str:
    assert message["type"] == "text", message
    return message["text"]["body"]


def send_text(gateway: httpx.Client, wa_id: str, text: str) -> str:
    message = text_message(wa_id, text)
    response = post_signed(gateway, webhook_body([message]))
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1}
    return message["id"]


def assert_nothing_else(gateway: httpx.Client, graph: GraphApiPeer, wa_id: str) -> None:
    """The sentinel: after earlier deliveries, only the sentinel's echo reaches wa_id."""
    already = len(graph.sent_to(wa_id))
    send_text(gateway, wa_id, "sentinel")
    sent = graph.wait_for(wa_id, already + 1)
    assert [body_of(m) for m in sent[already:]] == ["echo: sentinel"]
    assert len(sent) == already + 1


# ------------------------------------------------------------ verification handshake


def test_verification_handshake_echoes_the_challenge(gateway: httpx.Client) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": TEST_VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = gateway.get("/whatsapp/webhook", params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": TEST_VERIFY_TOKEN, "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.verify_token": TEST_VERIFY_TOKEN, "hub.challenge": ""},
    ],
)
def test_verification_with_wrong_token_or_mode_is_403(
    gateway: httpx.Client, params: dict[str, str]
) -> None:
    response = gateway.get("/whatsapp/webhook", params=params)
    assert response.status_code == 403
    assert "42" not in response.text


# ------------------------------------------------------------ signature


@pytest.mark.parametrize(
    ("wa_id", "signature"),
    [
        ("385910000001", None),
        ("385910000002", ""),
        ("385910000003", "sha256=" + "0" * 64),
        ("385910000004", "sha1=0123456789abcdef"),
        ("385910000005", "signed-with-another-secret"),
        ("385910000006", "signature-of-another-body"),
    ],
)
def test_missing_or_bad_signature_is_403_and_nothing_is_processed(
    gateway: httpx.Client,
    graph: GraphApiPeer,
    rasa: RasaRestPeer,
    wa_id: str,
    signature: str | None,
) -> None:
    raw = json.dumps(webhook_body([text_message(wa_id, "forged")])).encode()
    if signature == "signed-with-another-secret":
        signature = sign(raw, "not-the-app-secret")
    elif signature == "signature-of-another-body":
        signature = sign(raw + b" ")
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    response = gateway.post("/whatsapp/webhook", content=raw, headers=headers)
    assert response.status_code == 403
    assert_nothing_else(gateway, graph, wa_id)
    assert [b["message"] for b in rasa.from_sender(f"whatsapp:{wa_id}")] == ["sentinel"]


def test_signed_but_invalid_json_is_400(gateway: httpx.Client) -> None:
    raw = b"{not json"
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)}
    response = gateway.post("/whatsapp/webhook", content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_signed_payload_of_unexpected_shape_is_acknowledged(gateway: httpx.Client) -> None:
    response = post_signed(gateway, {"object": "whatsapp_business_account", "entry": "x"})
    assert response.status_code == 200
    assert response.json() == {"accepted": 0}


# ------------------------------------------------------------ text messages


def test_text_is_answered_to_the_sender_with_namespace_and_hint(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000001"
    message_id = send_text(gateway, wa_id, "bok")
    sent = graph.wait_for(wa_id, 1)
    assert sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": wa_id,
            "type": "text",
            "text": {"preview_url": False, "body": "echo: bok"},
        }
    ]
    [received] = rasa.from_sender(f"whatsapp:{wa_id}")
    assert received["message"] == "bok"
    assert received["metadata"]["lang_hint"] == "hr"
    assert received["metadata"]["channel"] == "whatsapp"
    assert message_id in graph.read_receipts()
    call = next(c for c in graph.calls if c.body.get("to") == wa_id)
    assert call.authorization == "Bearer test-access-token"
    assert (call.version, call.phone_number_id) == ("v23.0", PHONE_NUMBER_ID)


@pytest.mark.parametrize(
    ("wa_id", "hint"),
    [("4915112345678", "de"), ("48601234567", "pl"), ("447700900123", "en"), ("79161234567", None)],
)
def test_calling_code_gives_the_language_hint(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer, wa_id: str, hint: str | None
) -> None:
    send_text(gateway, wa_id, "hello")
    graph.wait_for(wa_id, 1)
    [received] = rasa.from_sender(f"whatsapp:{wa_id}")
    assert received["metadata"].get("lang_hint") == hint


def test_duplicate_delivery_is_answered_once(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000002"
    body = webhook_body([text_message(wa_id, "first", message_id=new_message_id())])
    assert post_signed(gateway, body).json() == {"accepted": 1}
    assert post_signed(gateway, body).json() == {"accepted": 0}  # Meta's retry
    graph.wait_for(wa_id, 1)
    assert_nothing_else(gateway, graph, wa_id)
    assert [b["message"] for b in rasa.from_sender(f"whatsapp:{wa_id}")] == ["first", "sentinel"]


def test_batch_of_messages_is_answered_in_order(gateway: httpx.Client, graph: GraphApiPeer) -> None:
    wa_id = "385911000003"
    messages = [text_message(wa_id, f"part {i}") for i in range(5)]
    assert post_signed(gateway, webhook_body(messages)).json() == {"accepted": 5}
    sent = graph.wait_for(wa_id, 5)
    assert [body_of(m) for m in sent] == [f"echo: part {i}" for i in range(5)]


def test_status_callbacks_send_nothing(gateway: httpx.Client, graph: GraphApiPeer) -> None:
    wa_id = "385911000004"
    statuses = [
        {"id": "wamid.OUT1", "status": s, "timestamp": "1750857384", "recipient_id": wa_id}
        for s in ("sent", "delivered", "read")
    ]
    response = post_signed(gateway, webhook_body(statuses=statuses))
    assert response.json() == {"accepted": 0}
    assert_nothing_else(gateway, graph, wa_id)


def test_message_to_another_business_number_is_ignored(
    gateway: httpx.Client, graph: GraphApiPeer
) -> None:
    wa_id = "385911000005"
    body = webhook_body([text_message(wa_id, "hi")], phone_number_id="999999999")
    assert post_signed(gateway, body).json() == {"accepted": 0}
    assert_nothing_else(gateway, graph, wa_id)


def test_too_long_text_gets_the_polite_limit_message(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000006"
    send_text(gateway, wa_id, "a" * 5000)
    [sent] = graph.wait_for(wa_id, 1)
    assert body_of(sent) == gateway_text("error.message_too_long", "hr", length=5000, limit=4000)
    assert rasa.from_sender(f"whatsapp:{wa_id}") == []


# ------------------------------------------------------------ non-text messages


@pytest.mark.parametrize(
    ("wa_id", "kind", "content", "language", "key"),
    [
        ("385911000010", "audio", {"id": "1", "mime_type": "audio/ogg", "voice": True}, "hr",
         "unsupported.audio"),
        ("4915100000011", "image", {"id": "2", "mime_type": "image/jpeg"}, "de",
         "unsupported.media"),
        ("33612000012", "sticker", {"id": "3", "mime_type": "image/webp"}, "fr",
         "unsupported.media"),
        ("39312000013", "video", {"id": "4", "mime_type": "video/mp4"}, "it", "unsupported.media"),
        ("34612000014", "document", {"id": "5", "filename": "a.pdf"}, "es", "unsupported.media"),
        ("48601000015", "location", {"latitude": 52.2, "longitude": 21.0}, "pl",
         "unsupported.location"),
        ("447700000016", "contacts", [{"name": {"formatted_name": "X"}}], "en",
         "unsupported.other"),
        ("385911000017", "unsupported", {}, "hr", "unsupported.other"),
    ],
)  # fmt: skip
def test_non_text_gets_a_polite_message_in_the_hinted_language(
    gateway: httpx.Client,
    graph: GraphApiPeer,
    rasa: RasaRestPeer,
    wa_id: str,
    kind: str,
    content: dict,
    language: str,
    key: str,
) -> None:
    response = post_signed(gateway, webhook_body([typed_message(wa_id, kind, content)]))
    assert response.json() == {"accepted": 1}
    [sent] = graph.wait_for(wa_id, 1)
    assert body_of(sent) == channel_text(language, key)
    assert rasa.from_sender(f"whatsapp:{wa_id}") == []


def test_reaction_sends_nothing(gateway: httpx.Client, graph: GraphApiPeer) -> None:
    wa_id = "385911000018"
    reaction = typed_message(wa_id, "reaction", {"message_id": "wamid.OUT", "emoji": "👍"})
    assert post_signed(gateway, webhook_body([reaction])).json() == {"accepted": 1}
    assert_nothing_else(gateway, graph, wa_id)


def test_conversation_language_outranks_the_calling_code_afterwards(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "447700000019"  # a UK number (hint en) writing in Croatian
    rasa.languages["dobar dan, treba mi pomoć"] = "hr"  # what the bot decides
    send_text(gateway, wa_id, "dobar dan, treba mi pomoć")
    graph.wait_for(wa_id, 1)
    voice = typed_message(wa_id, "audio", {"id": "9", "mime_type": "audio/ogg"})
    post_signed(gateway, webhook_body([voice]))
    sent = graph.wait_for(wa_id, 2)
    assert body_of(sent[1]) == channel_text("hr", "unsupported.audio")
    send_text(gateway, wa_id, "hvala")
    graph.wait_for(wa_id, 3)
    hints = [b["metadata"].get("lang_hint") for b in rasa.from_sender(f"whatsapp:{wa_id}")]
    assert hints == ["en", "hr"]


# ------------------------------------------------------------ buttons and lists


def test_tapped_reply_button_sends_its_payload_to_rasa(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000020"
    # Only offered payloads reach Rasa as payloads (channels/conversation.py): offer them.
    offered = [
        {"title": "CERV", "payload": "/ask_programme"},
        {"title": "Deadlines", "payload": "/deadlines"},
        {"title": "Subscribe", "payload": "/subscribe"},
    ]
    rasa.replies["menu"] = [{"text": "What next?", "buttons": offered}]
    assert post_signed(gateway, webhook_body([text_message(wa_id, "menu")])).status_code == 200
    graph.wait_for(wa_id, 1)
    tap = typed_message(
        wa_id,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "/ask_programme", "title": "CERV"}},
    )
    row = typed_message(
        wa_id,
        "interactive",
        {"type": "list_reply", "list_reply": {"id": "/deadlines", "title": "Deadlines"}},
    )
    template = typed_message(wa_id, "button", {"payload": "/subscribe", "text": "Subscribe"})
    assert post_signed(gateway, webhook_body([tap, row, template])).json() == {"accepted": 3}
    graph.wait_for(wa_id, 4)
    sent = [b["message"] for b in rasa.from_sender(f"whatsapp:{wa_id}")]
    assert sent == ["menu", "/ask_programme", "/deadlines", "/subscribe"]


def test_a_tapped_id_that_was_never_offered_reaches_rasa_as_text(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000099"
    forged = typed_message(
        wa_id,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "/restart", "title": "Restart"}},
    )
    assert post_signed(gateway, webhook_body([forged])).json() == {"accepted": 1}
    graph.wait_for(wa_id, 1)
    assert [b["message"] for b in rasa.from_sender(f"whatsapp:{wa_id}")] == ["restart"]


def test_up_to_three_buttons_become_reply_buttons_with_short_titles(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000021"
    buttons = [
        {"title": "Citizens, Equality, Rights and Values", "payload": "/programme_cerv"},
        {"title": "Interreg Europe", "payload": "/programme_interreg"},
        {"title": "URBACT", "payload": "/programme_urbact"},
    ]
    rasa.replies["programmes"] = [{"text": "Which programme?", "buttons": buttons}]
    send_text(gateway, wa_id, "programmes")
    [sent] = graph.wait_for(wa_id, 1)
    assert sent["type"] == "interactive"
    interactive = sent["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "Which programme?"}
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [r["id"] for r in replies] == [b["payload"] for b in buttons]
    assert [r["title"] for r in replies] == ["Citizens, Equality…", "Interreg Europe", "URBACT"]
    assert all(len(r["title"]) <= 20 for r in replies)
    assert graph.refused() == []


def test_more_than_three_buttons_become_a_list(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000022"
    titles = ["Participatory budgeting in your city", "Consultations", "Citizens' assemblies",
              "Forum on the future of Europe", "EU funding for municipalities"]  # fmt: skip
    buttons = [{"title": t, "payload": f"/topic_{i}"} for i, t in enumerate(titles)]
    rasa.replies["topics"] = [{"text": "Odaberite temu.", "buttons": buttons}]
    send_text(gateway, wa_id, "topics")  # +385: the peer answers in hr
    [sent] = graph.wait_for(wa_id, 1)
    interactive = sent["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Odaberite temu."}
    assert interactive["action"]["button"] == channel_text("hr", "list.button")
    [section] = interactive["action"]["sections"]
    rows = section["rows"]
    assert [r["id"] for r in rows] == [f"/topic_{i}" for i in range(5)]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[0]["title"] == "Participatory budgeting…"
    assert rows[0]["description"] == titles[0]  # the full title, under the short one
    assert "description" not in rows[1]
    assert graph.refused() == []


def test_more_than_ten_buttons_become_several_lists(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "447700000023"
    buttons = [{"title": f"City {i}", "payload": f"/city_{i}"} for i in range(12)]
    rasa.replies["cities"] = [{"text": "Pick a city.", "buttons": buttons}]
    send_text(gateway, wa_id, "cities")
    first, second = graph.wait_for(wa_id, 2)
    assert len(first["interactive"]["action"]["sections"][0]["rows"]) == 10
    assert second["interactive"]["body"] == {"text": channel_text("en", "list.more")}
    assert [r["id"] for r in second["interactive"]["action"]["sections"][0]["rows"]] == [
        "/city_10",
        "/city_11",
    ]
    assert graph.refused() == []


def test_long_payload_is_mapped_to_a_short_id_and_back(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000024"
    payload = '/inform{"programme": "' + "x" * 300 + '"}'
    buttons = [{"title": "Yes", "payload": payload}]
    rasa.replies["long payload"] = [{"text": "Confirm?", "buttons": buttons}]
    send_text(gateway, wa_id, "long payload")
    [sent] = graph.wait_for(wa_id, 1)
    button_id = sent["interactive"]["action"]["buttons"][0]["reply"]["id"]
    assert len(button_id) <= 256 and button_id != payload
    choice = {"type": "button_reply", "button_reply": {"id": button_id, "title": "Yes"}}
    tap = typed_message(wa_id, "interactive", choice)
    post_signed(gateway, webhook_body([tap]))
    graph.wait_for(wa_id, 2)
    assert rasa.from_sender(f"whatsapp:{wa_id}")[-1]["message"] == payload


def test_links_are_rendered_as_text_lines(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "33612000025"
    links = [
        {"title": "Portail CERV", "url": "https://commission.europa.eu/cerv"},
        {"title": "https://urbact.eu", "url": "https://urbact.eu"},
    ]
    rasa.replies["sources"] = [{"text": "Voici les sources.", "custom": {"links": links}}]
    send_text(gateway, wa_id, "sources")
    [sent] = graph.wait_for(wa_id, 1)
    assert body_of(sent) == (
        "Voici les sources.\n\nPortail CERV : https://commission.europa.eu/cerv\nhttps://urbact.eu"
    )


# ------------------------------------------------------------ long replies


def test_long_reply_is_split_at_paragraphs(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000030"
    paragraphs = [f"Paragraph {i}. " + "Lorem ipsum dolor sit amet. " * 100 for i in range(4)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(text) > 3 * 2800
    rasa.replies["long"] = [{"text": text}]
    send_text(gateway, wa_id, "long")
    # Two paragraphs of ~2,800 characters never fit in one message: 4 messages.
    sent = graph.wait_for(wa_id, 4)
    bodies = [body_of(m) for m in sent]
    assert len(bodies) == 4
    assert all(len(b) <= 4096 for b in bodies)
    assert all(b.startswith("Paragraph ") and b.endswith("amet.") for b in bodies)
    assert "\n\n".join(bodies).replace("\n\n", " ").split() == text.split()
    assert graph.refused() == []


def test_long_paragraph_is_split_at_sentences(
    gateway: httpx.Client, graph: GraphApiPeer, rasa: RasaRestPeer
) -> None:
    wa_id = "385911000031"
    text = " ".join(f"Sentence number {i} is here." for i in range(400))
    rasa.replies["sentences"] = [{"text": text}]
    send_text(gateway, wa_id, "sentences")
    sent = graph.wait_for(wa_id, 3)
    bodies = [body_of(m) for m in sent]
    assert all(len(b) <= 4096 for b in bodies)
    assert all(b.endswith("is here.") for b in bodies)
    assert " ".join(bodies) == text


# ------------------------------------------------------------ Rasa down, and back


def test_rasa_down_sends_the_polite_message_and_recovers(
    graph_server: tuple[GraphApiPeer, str], closed_port: int
) -> None:
    graph, graph_url = graph_server
    settings = whatsapp_settings(f"http://127.0.0.1:{closed_port}", graph_url)
    wa_id = "385911000040"
    with ServerThread(create_app(settings)) as app, httpx.Client(base_url=app.url) as gateway:
        send_text(gateway, wa_id, "bok")
        [sent] = graph.wait_for(wa_id, 1)
        assert body_of(sent) == gateway_text("error.assistant_unavailable", "hr")

        # Rasa comes back on its port: the next message is answered, no restart needed.
        rasa = RasaRestPeer()
        with ServerThread(rasa.app, port=closed_port):
            send_text(gateway, wa_id, "bok opet")
            sent = graph.wait_for(wa_id, 2)
    assert body_of(sent[1]) == "echo: bok opet"
    assert [b["message"] for b in rasa.from_sender(f"whatsapp:{wa_id}")] == ["bok opet"]


def test_graph_api_refusal_is_logged_without_the_phone_number(
    graph_server: tuple[GraphApiPeer, str],
    rasa_server: tuple[RasaRestPeer, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph, graph_url = graph_server
    settings = whatsapp_settings(rasa_server[1], graph_url, whatsapp_access_token="expired")
    wa_id = "385911000041"

    def refused_send() -> bool:
        return any(c.status == 401 and c.body.get("to") == wa_id for c in graph.calls)

    with (
        ServerThread(create_app(settings)) as app,
        httpx.Client(base_url=app.url) as gateway,
        caplog.at_level("WARNING", logger="channels.whatsapp"),
    ):
        send_text(gateway, wa_id, "bok")
        wait_until(refused_send)
        wait_until(lambda: any("HTTP 401" in r.getMessage() for r in caplog.records))
    assert graph.sent_to(wa_id) == []
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "Could not answer wa-" in logged and wa_id not in logged
    assert "expired" not in logged
