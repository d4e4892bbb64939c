"""The assistant's **bold** and bare URLs in the widget, and the city it sends, in Chromium.

The gateway and the widget are real; Rasa is the HTTP stand-in, scripted with replies
that carry the one markup the bot uses (a bold card title), bare URLs, a URL repeated as
a link, and markup and scripts that must stay text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from channels.app import create_app
from channels.settings import ChannelSettings
from tests.browser.conftest import NewContext, audit, watch
from tests.channels.telegram.loopback import serve_app
from tests.channels.telegram.rasa_peer import RasaPeer

pytestmark = [pytest.mark.browser]

QUESTION = "Which programme funds town twinning?"
HOSTILE = "Show me markup"
CARD = (
    "**CERV <b>Citizens</b>, Equality** funds town twinning.\n"
    "Read more at https://example.eu/cerv/twinning. Or (see https://example.eu/a_(b))."
)
EVIL = (
    '<script>window.__hacked = 1</script><img src="x" onerror="window.__hacked = 1"> '
    "javascript:window.__hacked=1 **javascript:alert(1)** [x](javascript:alert(1)) "
    "http://<b>no</b> data:text/html,<b>x</b>"
)


@dataclass
class Gateway:
    url: str
    rasa: RasaPeer


@pytest.fixture
def gateway(browser_tools: None) -> Iterator[Gateway]:
    with RasaPeer() as rasa:
        rasa.script(
            QUESTION,
            {"text": CARD},
            {
                "custom": {
                    "links": [
                        {"title": "CERV twinning", "url": "https://example.eu/cerv/twinning"},
                        {"title": "Apply", "url": "https://example.eu/apply"},
                    ]
                }
            },
        )
        rasa.script(HOSTILE, {"text": EVIL})
        app = create_app(ChannelSettings(rasa_url=rasa.url, reminders_enabled=False))
        with serve_app(app) as url:
            yield Gateway(url, rasa)


def ask(page: Page, text: str) -> Any:
    page.locator(".ca-input").fill(text)
    page.locator(".ca-input").press("Enter")
    answer = page.locator(".ca-log .ca-from-bot").last
    expect(answer).to_be_visible()
    return answer


def test_bold_title_and_bare_urls_are_built_as_dom_and_no_url_is_shown_twice(
    gateway: Gateway, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        page.goto(f"{gateway.url}/demo")
        page.locator(".ca-launcher").click()
        answer = ask(page, QUESTION)
        text = answer.locator(".ca-text")
        expect(text).to_have_text(
            "CERV <b>Citizens</b>, Equality funds town twinning.\n"
            "Read more at https://example.eu/cerv/twinning. Or (see https://example.eu/a_(b))."
        )
        strong = text.locator("strong")
        expect(strong).to_have_count(1)
        expect(strong).to_have_text("CERV <b>Citizens</b>, Equality")
        expect(text.locator("b")).to_have_count(0)
        inline = text.locator("a")
        expect(inline).to_have_count(2)
        expect(inline.nth(0)).to_have_text("https://example.eu/cerv/twinning")
        expect(inline.nth(0)).to_have_attribute("href", "https://example.eu/cerv/twinning")
        expect(inline.nth(0)).to_have_attribute("target", "_blank")
        expect(inline.nth(0)).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(inline.nth(1)).to_have_attribute("href", "https://example.eu/a_(b)")
        # The URL in the text is not repeated as a link under it; the other link stays.
        links = answer.locator(".ca-links a")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute("href", "https://example.eu/apply")
        expect(answer.locator("a[href='https://example.eu/cerv/twinning']")).to_have_count(1)
        # Screen readers hear the title without its stars.
        expect(page.locator("[aria-live=polite]")).not_to_contain_text("**")
        assert audit(page) == []
        page.reload()  # the restored conversation is rendered the same way
        expect(page.locator(".ca-log .ca-from-bot .ca-text strong")).to_have_count(1)
    assert page_errors == []


def test_markup_scripts_and_javascript_urls_in_bot_text_stay_text(
    gateway: Gateway, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        page.goto(f"{gateway.url}/demo")
        page.locator(".ca-launcher").click()
        answer = ask(page, HOSTILE)
        bubble = answer.locator(".ca-bubble")
        expect(bubble.locator(".ca-text")).to_contain_text("<script>window.__hacked = 1</script>")
        for tag in ("script", "img", "b"):
            expect(bubble.locator(tag)).to_have_count(0)
        expect(bubble.locator(".ca-text strong")).to_have_text("javascript:alert(1)")
        expect(bubble.locator("a")).to_have_count(0)  # no javascript:, data: or broken URL
        assert page.evaluate("window.__hacked === undefined")
    assert page_errors == []


HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Grad Zagreb</title></head>
<body><main><h1>Grad Zagreb</h1></main>
{config}
<script src="/static/widget/widget.js" data-city="{city}" data-country="{country}" defer></script>
</body></html>"""


def open_city_site(page: Page, gateway: Gateway, html: str) -> None:
    """Open a city's page (served by the test at the gateway's origin) and the chat."""

    def host(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=html)

    page.route(f"{gateway.url}/city-site.html", host)
    page.goto(f"{gateway.url}/city-site.html")
    page.locator(".ca-launcher").click()


def test_city_and_country_from_the_init_object_go_with_every_message(
    gateway: Gateway, new_context: NewContext, page_errors: list[str]
) -> None:
    config = "<script>window.CivicAssistantConfig = { city: 'Rijeka', country: 'hr' };</script>"
    html = HOST_PAGE.replace("{config}", config).replace("{city}", "Pula").replace("{country}", "")
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        open_city_site(page, gateway, html)
        ask(page, "first")
        expect(page.locator(".ca-log .ca-from-bot")).to_have_count(1)
        ask(page, "second")
        expect(page.locator(".ca-log .ca-from-bot")).to_have_count(2)
        first, second = gateway.rasa.wait_requests(2)
        for request in (first, second):  # the object wins over the data attributes
            assert request.metadata["city"] == "Rijeka"
            assert request.metadata["country"] == "HR"
    assert page_errors == []


@pytest.mark.parametrize(
    ("city", "country", "sent"),
    [
        ("  Zagreb ", "HR", {"city": "Zagreb", "country": "HR"}),
        ("<b>Zagreb</b>", "Croatia", {}),  # not a plain name, not an ISO code: not sent
    ],
)
def test_city_and_country_from_data_attributes_of_the_script_tag(
    gateway: Gateway,
    new_context: NewContext,
    page_errors: list[str],
    city: str,
    country: str,
    sent: dict[str, str],
) -> None:
    escaped = city.replace("<", "&lt;").replace(">", "&gt;")
    html = HOST_PAGE.replace("{config}", "").replace("{city}", escaped)
    html = html.replace("{country}", country)
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        open_city_site(page, gateway, html)
        ask(page, "hello")
        [request] = gateway.rasa.wait_requests(1)
        place = {k: v for k, v in request.metadata.items() if k in ("city", "country")}
        assert place == sent
    assert page_errors == []
