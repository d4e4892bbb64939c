from channels.conversation import to_chat_message as _to_message
from channels.rasa_client import split_turn


def test_split_turn_takes_language_from_the_turn_message() -> None:
    items = [
        {"recipient_id": "api:u", "custom": {"turn": {"language": "hr"}}},
        {"recipient_id": "api:u", "text": "Bok!"},
    ]
    turn = split_turn(items)
    assert turn.language == "hr"
    assert turn.messages == [{"recipient_id": "api:u", "text": "Bok!"}]


def test_split_turn_without_turn_message_has_no_language() -> None:
    turn = split_turn([{"text": "Hello"}, "garbage", {"custom": {"turn": "bad"}}])
    assert turn.language is None
    assert [m.get("text") for m in turn.messages] == ["Hello", None]


def test_to_message_keeps_buttons_and_valid_links() -> None:
    item = {
        "text": "Pick one",
        "buttons": [{"title": "CERV", "payload": "/ask_programme"}],
        "custom": {"links": [{"title": "Portal", "url": "https://ec.europa.eu"}, {"title": "x"}]},
    }
    message = _to_message(item)
    assert message is not None
    assert message.text == "Pick one"
    assert [(b.title, b.payload) for b in message.buttons] == [("CERV", "/ask_programme")]
    assert [(link.title, link.url) for link in message.links] == [
        ("Portal", "https://ec.europa.eu")
    ]


def test_to_message_drops_items_without_text_or_links() -> None:
    assert _to_message({"image": "https://example.org/x.png"}) is None


def test_links_without_text_join_the_previous_message() -> None:
    from channels.conversation import assemble_messages

    items = [
        {"text": "CERV funds civil society."},
        {"custom": {"links": [{"title": "CERV", "url": "https://ec.europa.eu/cerv"}]}},
        {"text": "Anything else?", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    ]
    messages = assemble_messages(items)
    assert [m.text for m in messages] == ["CERV funds civil society.", "Anything else?"]
    assert [link.url for link in messages[0].links] == ["https://ec.europa.eu/cerv"]
    assert messages[1].links == []


def test_links_first_make_their_own_message() -> None:
    from channels.conversation import assemble_messages

    items = [{"custom": {"links": [{"title": "x", "url": "https://example.org"}]}}]
    [message] = assemble_messages(items)
    assert message.text == "" and message.links[0].url == "https://example.org"
