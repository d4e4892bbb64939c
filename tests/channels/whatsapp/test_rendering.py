"""Pure pieces of the WhatsApp channel: splitting, limits, ids, hints, texts, config."""

import json
import string

import pytest
from fastapi.testclient import TestClient

from channels.app import create_app
from channels.schemas import Button, ChatMessage, Link
from channels.settings import ChannelSettings
from channels.whatsapp import WhatsAppConfig, WhatsAppConfigError
from channels.whatsapp.i18n import I18N_DIR, available_languages
from channels.whatsapp.language import calling_code_languages, language_from_phone
from channels.whatsapp.outbound import (
    BUTTON_BODY_MAX,
    LIST_BODY_MAX,
    LIST_LABEL_MAX,
    SECTION_TITLE_MAX,
    TEXT_MAX,
    ButtonIds,
    render_message,
    split_text,
    truncate,
)
from channels.whatsapp.signature import expected_signature, signature_valid
from knowledge.languages import EU_LANGUAGES
from tests.channels.whatsapp.peers import message_problem, sign

# ------------------------------------------------------------ splitting and truncation


def test_short_text_is_one_piece() -> None:
    assert split_text("  Hello there.  ", 4096) == ["Hello there."]
    assert split_text("   ", 4096) == []


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    assert split_text("aaaa bbbb.\n\ncccc dddd.", 14) == ["aaaa bbbb.", "cccc dddd."]
    assert split_text("One two. Three four five.", 12) == ["One two.", "Three four", "five."]
    assert split_text("alpha beta gamma", 11) == ["alpha beta", "gamma"]


def test_split_ignores_a_paragraph_break_that_would_leave_a_tiny_piece() -> None:
    text = "Hi.\n\n" + "word " * 30
    pieces = split_text(text, 100)
    assert pieces[0].startswith("Hi.\n\nword")
    assert all(len(p) <= 100 for p in pieces)


def test_unbroken_text_is_cut_hard_at_the_limit() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("limit", [7, 20, 64, 1024])
def test_split_keeps_every_word_and_the_limit(limit: int) -> None:
    text = "\n\n".join(
        " ".join(f"w{i}{j}." if j % 7 == 6 else f"w{i}{j}" for j in range(40)) for i in range(9)
    )
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_truncate_cuts_at_a_word_end_with_an_ellipsis() -> None:
    assert truncate("Interreg Europe", 20) == "Interreg Europe"
    assert truncate("Citizens, Equality, Rights and Values", 20) == "Citizens, Equality…"
    assert truncate("Supercalifragilisticexpialidocious", 20) == "Supercalifragilisti…"
    assert truncate("  many   spaces\n here ", 20) == "many spaces here"


# ------------------------------------------------------------ rendering


def render(message: ChatMessage, ids: ButtonIds | None = None, language: str = "en") -> list:
    return render_message(message, language, ids or ButtonIds())


def to_whatsapp(payload: dict) -> dict:
    return {"messaging_product": "whatsapp", "to": "385911234567", **payload}


def test_every_rendered_payload_passes_the_api_limits() -> None:
    buttons = [Button(title=f"A rather long option title {i}", payload=f"/o{i}") for i in range(13)]
    cases = [
        ChatMessage(text="x " * 5000),
        ChatMessage(text="Pick. " * 400, buttons=buttons[:3]),
        ChatMessage(text="Pick. " * 1000, buttons=buttons),
        ChatMessage(text="", buttons=buttons[:2]),
        ChatMessage(text="See:", links=[Link(title="EU", url="https://europa.eu")]),
    ]
    for message in cases:
        for payload in render(message):
            assert message_problem(to_whatsapp(payload)) is None, payload


def test_button_body_over_1024_characters_moves_text_before_the_buttons() -> None:
    text = "Sentence here. " * 100  # 1500 characters
    *texts, interactive = render(
        ChatMessage(text=text, buttons=[Button(title="OK", payload="/ok")])
    )
    assert interactive["interactive"]["type"] == "button"
    assert len(interactive["interactive"]["body"]["text"]) <= 1024
    assert [t["type"] for t in texts] == ["text"]
    joined = texts[0]["text"]["body"] + " " + interactive["interactive"]["body"]["text"]
    assert joined.split() == text.split()


def test_buttons_without_text_get_a_translated_prompt() -> None:
    [payload] = render(
        ChatMessage(text="", buttons=[Button(title="Da", payload="/yes")]), None, "hr"
    )
    prompt = json.loads((I18N_DIR / "hr.json").read_text(encoding="utf-8"))["buttons.prompt"]
    assert payload["interactive"]["body"]["text"] == prompt


def test_duplicate_payloads_are_sent_once_and_empty_payloads_use_the_title() -> None:
    buttons = [
        Button(title="Yes", payload="/affirm"),
        Button(title="Sure", payload="/affirm"),
        Button(title="Maybe", payload=""),
    ]
    [payload] = render(ChatMessage(text="Continue?", buttons=buttons))
    replies = [b["reply"] for b in payload["interactive"]["action"]["buttons"]]
    assert [(r["id"], r["title"]) for r in replies] == [("/affirm", "Yes"), ("Maybe", "Maybe")]


def test_titles_equal_after_truncation_fall_back_to_a_list() -> None:
    buttons = [
        Button(title="Participatory budget 2024", payload="/pb24"),
        Button(title="Participatory budget 2025", payload="/pb25"),
    ]
    [payload] = render(ChatMessage(text="Which year?", buttons=buttons))
    assert payload["interactive"]["type"] == "list"
    rows = payload["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == ["Participatory budget…", "Participatory budget…"]
    assert [r["description"] for r in rows] == [b.title for b in buttons]


def test_button_ids_round_trip_and_forget() -> None:
    ids = ButtonIds(capacity=1)
    assert ids.id_for("/greet", 256) == "/greet"
    assert ids.payload_for("/greet") == "/greet"
    long_payload = "/inform" + "x" * 300
    token = ids.id_for(long_payload, 256)
    assert token.startswith("wa:") and len(token) <= 200
    assert ids.payload_for(token) == long_payload
    spoof = ids.id_for("wa:looks-like-a-token", 256)  # never confused with a token
    assert spoof != "wa:looks-like-a-token"
    assert ids.payload_for(spoof) == "wa:looks-like-a-token"
    assert ids.payload_for(token) is None  # capacity 1: the first token is forgotten


# ------------------------------------------------------------ language hint


@pytest.mark.parametrize(
    ("number", "language"),
    [
        ("385911234567", "hr"),
        ("+385911234567", "hr"),
        ("4915112345678", "de"),
        ("4369912345678", "de"),
        ("3612345678", "hu"),
        ("351912345678", "pt"),
        ("35312345678", "en"),
        ("420601234567", "cs"),
        ("14155550123", "en"),
        ("32470123456", None),  # Belgium: deliberately no guess
        ("41791234567", None),  # Switzerland
        ("79161234567", None),  # not an EU language
        ("", None),
        ("abc", None),
    ],
)
def test_language_from_phone(number: str, language: str | None) -> None:
    assert language_from_phone(number) == language


def test_calling_code_table_holds_only_eu_languages_and_valid_codes() -> None:
    table = calling_code_languages()
    assert table, "table must not be empty"
    for code, language in table.items():
        assert code.isdigit() and 1 <= len(code) <= 3, code
        assert language in EU_LANGUAGES, (code, language)


# ------------------------------------------------------------ translations


# Where each text is sent, hence the Cloud API limit it must fit (see outbound.py).
TEXT_LIMITS = {
    "unsupported.audio": TEXT_MAX,
    "unsupported.media": TEXT_MAX,
    "unsupported.location": TEXT_MAX,
    "unsupported.other": TEXT_MAX,
    "buttons.prompt": BUTTON_BODY_MAX,
    "list.button": LIST_LABEL_MAX,
    "list.section": SECTION_TITLE_MAX,
    "list.more": LIST_BODY_MAX,
    "link.line": TEXT_MAX,
    "city.set": TEXT_MAX,
    "city.current": TEXT_MAX,
    "city.none": TEXT_MAX,
    "city.invalid": TEXT_MAX,
    "city.cleared": TEXT_MAX,
}


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_every_eu_language_has_a_translation_file() -> None:
    assert set(available_languages()) == set(EU_LANGUAGES)


def test_every_language_translates_every_key_within_the_limits() -> None:
    english = json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8"))
    assert set(TEXT_LIMITS) == set(english)
    for language in available_languages():
        texts = json.loads((I18N_DIR / f"{language}.json").read_text(encoding="utf-8"))
        assert set(texts) == set(english), language
        for key, value in texts.items():
            assert value.strip(), (language, key)
            assert placeholders(value) == placeholders(english[key]), (language, key)
            # Short labels are sent as they are: they must not need truncating.
            assert len(value) <= TEXT_LIMITS[key], (language, key, len(value))
        assert texts["link.line"].format(title="T", url="U").count("U") == 1


# ------------------------------------------------------------ signature


def test_signature_is_checked_against_the_raw_body() -> None:
    body = b'{"object": "whatsapp_business_account"}'
    assert expected_signature(body, "s3cret") == sign(body, "s3cret")
    assert signature_valid(body, sign(body, "s3cret"), "s3cret")
    assert not signature_valid(body, sign(body, "other"), "s3cret")
    assert not signature_valid(body + b"\n", sign(body, "s3cret"), "s3cret")
    assert not signature_valid(body, sign(body, "s3cret").removeprefix("sha256="), "s3cret")
    assert not signature_valid(body, "sha256=ünïcode", "s3cret")
    assert not signature_valid(body, None, "s3cret")


# ------------------------------------------------------------ configuration


def test_unconfigured_channel_has_no_route(closed_port: int) -> None:
    settings = ChannelSettings(rasa_url=f"http://127.0.0.1:{closed_port}")
    assert WhatsAppConfig.from_settings(settings) is None
    with TestClient(create_app(settings)) as client:
        assert client.get("/whatsapp/webhook").status_code == 404
        assert "/whatsapp/webhook" not in client.get("/openapi.json").json()["paths"]


def test_partly_configured_channel_refuses_to_start() -> None:
    settings = ChannelSettings(whatsapp_access_token="token", whatsapp_phone_number_id="123")
    with pytest.raises(WhatsAppConfigError, match="APP_WHATSAPP_APP_SECRET"):
        create_app(settings)


def test_settings_come_from_app_whatsapp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_WHATSAPP_ACCESS_TOKEN", "env-token")
    monkeypatch.setenv("APP_WHATSAPP_APP_SECRET", "env-secret")
    monkeypatch.setenv("APP_WHATSAPP_VERIFY_TOKEN", "env-verify")
    monkeypatch.setenv("APP_WHATSAPP_PHONE_NUMBER_ID", "106540352242922")
    monkeypatch.setenv("APP_WHATSAPP_GRAPH_URL", "http://127.0.0.1:9/")
    config = WhatsAppConfig.from_settings(ChannelSettings())
    assert config is not None
    assert config.access_token.get_secret_value() == "env-token"
    assert config.graph_url == "http://127.0.0.1:9"
    assert config.api_version.startswith("v")
    assert "env-token" not in repr(config) and "env-secret" not in repr(config)


# ------------------------------------------------------------ bold and URLs


def bodies(payloads: list[dict[str, object]]) -> list[str]:
    out = []
    for payload in payloads:
        if payload["type"] == "text":
            out.append(payload["text"]["body"])  # type: ignore[index]
        else:
            out.append(payload["interactive"]["body"]["text"])  # type: ignore[index]
    return out


def test_bold_title_uses_whatsapps_own_stars_and_urls_stay_bare() -> None:
    message = ChatMessage(
        text="**CERV <b>x</b>** funds twinning: https://ec.europa.eu/cerv. <script>y</script>",
        links=[Link(title="Apply", url="https://ec.europa.eu/apply")],
    )
    [body] = bodies(render_message(message, "en", ButtonIds()))
    assert body.startswith("*CERV <b>x</b>* funds twinning: https://ec.europa.eu/cerv. ")
    assert "<script>y</script>" in body
    assert "https://ec.europa.eu/apply" in body
    assert "**" not in body


def test_a_long_card_split_over_messages_keeps_its_bold_and_urls() -> None:
    text = "**" + "Bold title " * 500 + "end**\n\n" + "See https://ec.europa.eu/cerv now. " * 200
    buttons = [Button(title="More", payload="/more_details")]
    out = bodies(render_message(ChatMessage(text=text, buttons=buttons), "en", ButtonIds()))
    assert len(out) >= 3
    assert all(len(body) <= TEXT_MAX for body in out)
    assert len(out[-1]) <= BUTTON_BODY_MAX
    assert out[0].startswith("*Bold title") and out[0].endswith("*")
    assert out[1].startswith("*") and "end*" in out[1]
    assert sum(body.count("https://ec.europa.eu/cerv") for body in out) == 200  # none cut
