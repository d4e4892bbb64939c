"""Telegram's size limits and plain-text rendering, without any network."""

import json
import re
import string

import pytest

from channels.schemas import Button, ChatMessage, Link
from channels.telegram.i18n import I18N_DIR, available_languages, translate
from channels.telegram.rendering import (
    MAX_CALLBACK_BYTES,
    PayloadKeys,
    render,
    split_text,
    text_units,
)


def paragraphs(count: int, sentence: str = "Cities can apply for twinning grants. ") -> str:
    return "\n\n".join(f"{i}. " + (sentence * 20).strip() for i in range(count))


def test_short_text_is_one_chunk() -> None:
    assert split_text("  Hello there  ") == ["Hello there"]
    assert split_text("   \n ") == []


def test_ten_thousand_characters_split_at_paragraphs_in_order() -> None:
    text = paragraphs(13)
    assert 9_000 < len(text) < 11_000
    chunks = split_text(text)
    assert len(chunks) == 3
    assert all(text_units(c) <= 4096 for c in chunks)
    # Cut only between paragraphs: every chunk starts a paragraph and ends a sentence.
    assert all(re.match(r"\d+\. ", c) and c.endswith(".") for c in chunks)
    assert "\n\n".join(chunks) == text


def test_without_paragraphs_it_cuts_after_a_sentence() -> None:
    text = "This is one sentence about the programme. " * 300
    chunks = split_text(text)
    assert all(text_units(c) <= 4096 and c.endswith(".") for c in chunks)
    assert " ".join(chunks) == text.strip()


def test_one_endless_word_is_cut_hard() -> None:
    assert split_text("a" * 9000) == ["a" * 4096, "a" * 4096, "a" * 808]


def test_limit_counts_utf16_units_like_telegram() -> None:
    # Emoji outside the BMP count twice: 3000 of them are 6000 units, not 3000.
    chunks = split_text("😀" * 3000)
    assert [text_units(c) for c in chunks] == [4096, 1904]
    assert "".join(chunks) == "😀" * 3000


def test_short_payloads_are_sent_as_callback_data() -> None:
    keys = PayloadKeys()
    assert keys.callback_data("/ask_programme") == "/ask_programme"
    assert keys.payload("/ask_programme") == "/ask_programme"


def test_long_payloads_get_a_short_key_that_maps_back() -> None:
    keys = PayloadKeys()
    payload = '/ask_programme{"programme": "Citizens, Equality, Rights and Values (CERV)"}'
    assert len(payload.encode()) > MAX_CALLBACK_BYTES
    data = keys.callback_data(payload)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert keys.callback_data(payload) == data  # stable
    assert keys.payload(data) == payload


def test_multibyte_payloads_are_measured_in_bytes() -> None:
    keys = PayloadKeys()
    payload = '/odaberi{"grad": "' + "Đ" * 30 + '"}'  # 30 characters, 60 bytes of Đ
    assert len(payload) <= MAX_CALLBACK_BYTES < len(payload.encode())
    data = keys.callback_data(payload)
    assert data != payload and keys.payload(data) == payload


def test_forgotten_keys_expire_and_cannot_be_forged() -> None:
    keys = PayloadKeys(capacity=2)
    first, second, third = (keys.callback_data("/x" + "y" * 80 + str(i)) for i in range(3))
    assert keys.payload(first) is None
    assert keys.payload(second) and keys.payload(third)
    assert keys.payload("#k:" + "0" * 24) is None
    # A real payload that looks like a key is still sent correctly.
    assert keys.payload(keys.callback_data("#k:abc")) == "#k:abc"


def test_render_puts_links_as_text_and_the_keyboard_on_the_last_chunk() -> None:
    message = ChatMessage(
        text=paragraphs(13),
        buttons=[Button(title="CERV", payload="/ask_cerv"), Button(title="", payload="/other")],
        links=[Link(title="Funding portal", url="https://ec.europa.eu/funding")],
    )
    outgoing = render(message, "en", PayloadKeys())
    assert len(outgoing) == 3
    assert [o.keyboard is not None for o in outgoing] == [False, False, True]
    assert outgoing[-1].text.endswith("Funding portal: https://ec.europa.eu/funding")
    keyboard = outgoing[-1].keyboard
    assert keyboard is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in keyboard.inline_keyboard]
    assert rows == [[("CERV", "/ask_cerv")], [("/other", "/other")]]


def test_markup_stays_literal_text() -> None:
    outgoing = render(ChatMessage(text="<b>bold</b> *star* _under_"), "en", PayloadKeys())
    assert [o.text for o in outgoing] == ["<b>bold</b> *star* _under_"]


def test_buttons_without_text_get_a_translated_prompt() -> None:
    message = ChatMessage(text="", buttons=[Button(title="Da", payload="/affirm")])
    outgoing = render(message, "hr", PayloadKeys())
    assert [o.text for o in outgoing] == [translate("buttons.prompt", "hr")]
    assert outgoing[0].keyboard is not None


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_every_text_and_no_unknown_placeholders() -> None:
    english = json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8"))
    assert {"en", "hr", "de", "fr", "it", "es", "pl"} <= set(available_languages())
    for language in available_languages():
        texts = json.loads((I18N_DIR / f"{language}.json").read_text(encoding="utf-8"))
        assert set(texts) == set(english), language
        for key, text in texts.items():
            # A translation may leave out a value (the language is implied) but never invent one.
            assert _fields(text) <= _fields(english[key]), (language, key)
            assert text.strip() and "<" not in text, (language, key)


@pytest.mark.parametrize("language", ["en", "hr", "de"])
def test_help_lists_every_command(language: str) -> None:
    text = translate("help", language)
    for command in ("/start", "/help", "/language", "/forget"):
        assert command in text


# ------------------------------------------------------------ bold and URLs as entities


def entity_texts(text: str, entities: tuple[object, ...]) -> list[tuple[str, str]]:
    """(type, covered text) per entity, cutting the text in UTF-16 units as Telegram does."""
    units = text.encode("utf-16-le")
    found = []
    for entity in entities:
        offset, length = entity.offset, entity.length  # type: ignore[attr-defined]
        covered = units[2 * offset : 2 * (offset + length)].decode("utf-16-le")
        found.append((str(entity.type), covered))  # type: ignore[attr-defined]
    return found


def test_bold_title_and_urls_become_entities_and_html_stays_text() -> None:
    message = ChatMessage(
        text="**🇭🇷 CERV <b>&amp;</b>** funds twinning: https://ec.europa.eu/cerv. <i>x</i>",
        links=[Link(title="Apply", url="https://ec.europa.eu/apply")],
    )
    [out] = render(message, "en", PayloadKeys())
    assert out.text == (
        "🇭🇷 CERV <b>&amp;</b> funds twinning: https://ec.europa.eu/cerv. <i>x</i>\n\n"
        + translate("link", "en", title="Apply", url="https://ec.europa.eu/apply")
    )
    assert entity_texts(out.text, out.entities) == [
        ("bold", "🇭🇷 CERV <b>&amp;</b>"),
        ("url", "https://ec.europa.eu/cerv"),
        ("url", "https://ec.europa.eu/apply"),
    ]


def test_javascript_urls_get_no_entity() -> None:
    [out] = render(ChatMessage(text="javascript:alert(1) data:text/html,x"), "en", PayloadKeys())
    assert out.entities == ()


def test_a_split_long_text_keeps_bold_and_links_in_each_chunk() -> None:
    title = "**" + "Bold title " * 500 + "end**"
    text = title + "\n\n" + "See https://ec.europa.eu/cerv now. " * 150
    chunks = render(ChatMessage(text=text), "en", PayloadKeys())
    assert len(chunks) >= 3
    for chunk in chunks:
        assert text_units(chunk.text) <= 4096
        assert "**" not in chunk.text
        for kind, covered in entity_texts(chunk.text, chunk.entities):
            assert covered == covered.strip()
            if kind == "url":
                assert covered == "https://ec.europa.eu/cerv"
    assert entity_texts(chunks[0].text, chunks[0].entities)[0][0] == "bold"
    assert entity_texts(chunks[1].text, chunks[1].entities)[0][0] == "bold"  # the rest of it
    urls = sum(kind == "url" for c in chunks for kind, _ in entity_texts(c.text, c.entities))
    assert urls == 150
