"""The assistant's markup (`**bold**`, bare URLs), parsed once for every channel."""

from channels import markup
from channels.conversation import assemble_messages
from channels.schemas import ChatMessage, Link


def shown(rich: markup.Rich, kind: markup.SpanKind) -> list[str]:
    return [rich.text[s.start : s.end] for s in rich.of_kind(kind)]


def test_bold_markers_become_spans_and_the_rest_stays_as_written() -> None:
    rich = markup.parse("**CERV <b>x</b>** funds *twinning* and ** not bold ** 2**3")
    assert rich.text == "CERV <b>x</b> funds *twinning* and ** not bold ** 2**3"
    assert shown(rich, "bold") == ["CERV <b>x</b>"]


def test_bold_never_spans_lines() -> None:
    rich = markup.parse("**one\ntwo**")
    assert rich.text == "**one\ntwo**"
    assert rich.spans == ()


def test_urls_are_found_without_the_punctuation_after_them() -> None:
    rich = markup.parse(
        "See https://ec.europa.eu/cerv. Or (https://x.eu/a_(b)), http://y.eu/p?q=1&r=2! "
        "Not javascript:alert(1), data:text/html,x, ftp://z.eu or https://localhost."
    )
    assert shown(rich, "url") == [
        "https://ec.europa.eu/cerv",
        "https://x.eu/a_(b)",
        "http://y.eu/p?q=1&r=2",
    ]


def test_a_url_inside_a_bold_title_is_both() -> None:
    rich = markup.parse("**https://x.eu/a** and text")
    assert shown(rich, "bold") == ["https://x.eu/a"]
    assert shown(rich, "url") == ["https://x.eu/a"]


def test_split_keeps_bold_in_every_chunk_and_drops_bold_spaces() -> None:
    rich = markup.parse("**A long bold title** rest")
    chunks = markup.split(rich, lambda text: ["A long", "bold title rest"])
    assert [c.text for c in chunks] == ["A long", "bold title rest"]
    assert [shown(c, "bold") for c in chunks] == [["A long"], ["bold title"]]


def test_concatenation_shifts_spans() -> None:
    rich = markup.parse("**T**") + markup.Rich("\n") + markup.plain("L: https://x.eu")
    assert rich.text == "T\nL: https://x.eu"
    assert shown(rich, "bold") == ["T"]
    assert shown(rich, "url") == ["https://x.eu"]


def test_a_link_whose_url_the_text_shows_is_dropped_and_the_text_kept() -> None:
    [message] = assemble_messages(
        [
            {"text": "**CERV** Details: https://EC.europa.eu/cerv/."},
            {
                "custom": {
                    "links": [
                        {"title": "CERV", "url": "https://ec.europa.eu/cerv"},
                        {"title": "Apply", "url": "https://ec.europa.eu/apply"},
                    ]
                }
            },
        ]
    )
    assert message.text == "**CERV** Details: https://EC.europa.eu/cerv/."
    assert message.links == [Link(title="Apply", url="https://ec.europa.eu/apply")]


def test_links_stay_when_the_text_shows_no_url() -> None:
    message = ChatMessage(text="**CERV**", links=[Link(title="CERV", url="https://x.eu")])
    assert markup.without_duplicate_links(message) is message
