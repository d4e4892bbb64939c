"""The web widget in a real headless Chromium, on the demo city page, against the real stack.

Rasa server, action server and app run as processes (module-scoped); every test opens
Chromium with a fresh profile. The last test stops the Rasa server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from channels.app import STATIC_DIR
from channels.i18n import translate
from stack import Stack
from tests.browser.conftest import NewContext, audit, response_variations, screenshot, watch

# The first test also waits for the module's stack: training the model when bot/ changed
# and starting Rasa can take several minutes on a busy two-core machine.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.rasa,
    pytest.mark.browser,
    pytest.mark.timeout(1200),
]

I18N_DIR = STATIC_DIR / "widget" / "i18n"
XSS_PAYLOADS = ["<script>window.__xss=1</script>", '<img src=x onerror="window.__xss=1">']

# The focused element, looking inside shadow roots (document.activeElement stops at the host).
DEEP_FOCUS = """() => {
    let element = document.activeElement;
    while (element && element.shadowRoot && element.shadowRoot.activeElement) {
        element = element.shadowRoot.activeElement;
    }
    return element ? [element.id, ...element.classList].filter(Boolean) : [];
}"""
# Texts of the assistant's messages once the widget is idle again with more of them.
REPLIES_AFTER = """(before) => {
    const host = document.querySelector("civic-assistant-widget");
    const root = host && host.shadowRoot;
    if (!root || root.querySelector(".ca-scroller").getAttribute("aria-busy") !== "false") {
        return null;
    }
    const failed = root.querySelector(".ca-alert").childElementCount > 0;
    const items = [...root.querySelectorAll(".ca-log .ca-from-bot")];
    if (items.length <= before && !failed) return null;
    return items.slice(before).map((item) => {
        const text = item.querySelector(".ca-text");
        return text ? text.textContent : "";
    });
}"""


def ui_text(language: str, key: str) -> str:
    texts: dict[str, str] = json.loads((I18N_DIR / f"{language}.json").read_text("utf-8"))
    return texts[key]


def greeting(language: str | None) -> str:
    text: str = response_variations("utter_greet")[language]["text"]
    return text


def open_demo(page: Page, base_url: str) -> Page:
    page.goto(f"{base_url}/demo")
    expect(page.locator(".ca-launcher")).to_be_visible()
    return page


def settle(page: Page) -> None:
    """Wait until the widget's animations (the panel opening) have finished."""
    page.evaluate(
        """() => Promise.all(document.querySelector("civic-assistant-widget").shadowRoot
            .getAnimations().map((animation) => animation.finished))"""
    )


def focused(page: Page) -> list[str]:
    """Id and classes of the focused element."""
    names: list[str] = page.evaluate(DEEP_FOCUS)
    return names


def wait_for_replies(page: Page, before: int) -> list[str]:
    """The new assistant messages after message number `before` (fails on an error)."""
    handle = page.wait_for_function(REPLIES_AFTER, arg=before)
    replies: list[str] = handle.json_value()
    expect(page.locator(".ca-alert-text")).to_have_count(0)
    return replies


def send(page: Page, text: str) -> list[str]:
    before = page.locator(".ca-log .ca-from-bot").count()
    box = page.locator(".ca-input")
    box.fill(text)
    box.press("Enter")
    return wait_for_replies(page, before)


def stored_conversation(page: Page) -> dict[str, Any] | None:
    value: dict[str, Any] | None = page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find((k) => k.startsWith("civic-assistant:"));
            return key ? JSON.parse(localStorage.getItem(key)) : null;
        }"""
    )
    return value


def test_keyboard_conversation_in_croatian_survives_a_reload(
    base_url: str, new_context: NewContext, page_errors: list[str], tmp_path: Path
) -> None:
    help_hr = response_variations("utter_help")["hr"]
    titles = [button["title"] for button in help_hr.get("buttons") or []]
    assert titles, "this test needs quick-reply buttons on utter_help (hr) in bot/domain"
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        open_demo(page, base_url)
        assert audit(page) == [], "\n".join(audit(page))

        # Keyboard only: Tab from the top of the city's page reaches the launcher.
        for _ in range(30):
            page.keyboard.press("Tab")
            if "ca-launcher" in focused(page):
                break
        else:
            pytest.fail("the launcher cannot be reached with the Tab key")
        page.keyboard.press("Enter")
        expect(page.locator(".ca-panel")).to_be_visible()
        expect(page.locator(".ca-launcher")).to_have_attribute("aria-expanded", "true")
        expect(page.locator(".ca-panel")).to_have_attribute("aria-modal", "false")
        assert "ca-input" in focused(page), "opening the chat moves focus to the message box"

        page.keyboard.type("bok")
        page.keyboard.press("Enter")
        assert wait_for_replies(page, 0) == [greeting("hr")]
        # The reply is marked as Croatian, announced, and the UI follows the conversation.
        expect(page.locator(".ca-from-bot .ca-bubble").last).to_have_attribute("lang", "hr")
        expect(page.locator("[aria-live=polite]")).to_contain_text(greeting("hr"))
        expect(page.locator(".ca-input")).to_have_attribute(
            "placeholder", ui_text("hr", "input.placeholder")
        )

        page.keyboard.type("pomoć")
        page.keyboard.press("Enter")
        assert wait_for_replies(page, 1) == [help_hr["text"]]
        quick_replies = page.locator(".ca-log .ca-quick-reply")
        expect(quick_replies).to_have_text(titles)
        assert audit(page) == [], "\n".join(audit(page))

        quick_replies.first.click()
        expect(page.locator(".ca-from-user .ca-text").last).to_have_text(titles[0])
        after_button = wait_for_replies(page, 2)
        assert after_button and all(text.strip() for text in after_button), after_button
        # A button is in the language of the message that offered it, whatever its payload.
        expect(page.locator(".ca-from-bot .ca-bubble").last).to_have_attribute("lang", "hr")
        expect(page.locator(".ca-input")).to_have_attribute(
            "placeholder", ui_text("hr", "input.placeholder")
        )
        expect(page.locator(".ca-from-user .ca-text")).to_have_text(["bok", "pomoć", titles[0]])
        assert "ca-input" in focused(page)
        transcript = page.locator(".ca-log .ca-message").all_inner_texts()
        screenshot(page, "widget-desktop-conversation", tmp_path)

        page.reload()
        expect(page.locator(".ca-panel")).to_be_visible()  # it was open: it stays open
        expect(page.locator(".ca-log .ca-message")).to_have_count(len(transcript))
        assert page.locator(".ca-log .ca-message").all_inner_texts() == transcript
        stored = stored_conversation(page)
        assert stored is not None
        assert stored["sender"].startswith("web-")
        assert [m["text"] for m in stored["messages"] if m["who"] == "user"][:2] == ["bok", "pomoć"]

        page.locator(".ca-input").focus()
        page.keyboard.press("Escape")
        expect(page.locator(".ca-panel")).to_be_hidden()
        assert "ca-launcher" in focused(page), "closing the chat gives focus back to the launcher"
    assert page_errors == []


def test_markup_is_shown_as_text_and_never_runs(
    base_url: str, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        open_demo(page, base_url)
        page.locator(".ca-launcher").click()
        for payload in XSS_PAYLOADS:
            assert send(page, payload), "the assistant answers"
        expect(page.locator(".ca-from-user .ca-text")).to_have_text(XSS_PAYLOADS)

        # The assistant's side: a hostile reply, as if a record or the bot were compromised.
        hostile_text = '<img src=x onerror="window.__xss=1"><b>bold</b>'
        hostile = {
            "language": "en",
            "messages": [
                {
                    "text": hostile_text,
                    "buttons": [{"title": "<b onclick=window.__xss=1>B</b>", "payload": "/x"}],
                    "links": [
                        {"title": "javascript link", "url": "javascript:window.__xss=1"},
                        {"title": "Portal", "url": "https://commission.europa.eu/"},
                    ],
                }
            ],
        }

        def reply_with_markup(route: Route) -> None:
            route.fulfill(json=hostile)

        page.route("**/api/v1/chat", reply_with_markup)
        send(page, "show me something")
        page.unroute("**/api/v1/chat")
        last = page.locator(".ca-from-bot").last
        expect(last.locator(".ca-text")).to_have_text(hostile_text)
        expect(last.locator(".ca-quick-reply")).to_have_text(["<b onclick=window.__xss=1>B</b>"])
        expect(last.locator(".ca-links")).to_contain_text("javascript link")
        expect(last.locator("a")).to_have_count(1)  # the javascript: URL is not a link
        link = last.locator("a")
        expect(link).to_have_attribute("href", "https://commission.europa.eu/")
        expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(link).to_have_attribute("target", "_blank")
        last.locator(".ca-quick-reply").hover()
        page.wait_for_timeout(300)  # give any injected handler the chance to run

        injected = page.evaluate(
            """() => {
                const root = document.querySelector("civic-assistant-widget").shadowRoot;
                return {
                    xss: typeof window.__xss,
                    inWidget: root.querySelectorAll("script, img, b, iframe, [onerror]").length,
                    inPage: document.querySelectorAll('img[src="x"], [onerror], b').length,
                };
            }"""
        )
        assert injected == {"xss": "undefined", "inWidget": 0, "inPage": 0}
    assert page_errors == []


@pytest.fixture
def city_site(tmp_path: Path, base_url: str) -> Iterator[str]:
    """A city's web server on another origin (another port) whose page embeds the widget."""
    page = f"""<!doctype html><html lang="hr"><head><meta charset="utf-8">
        <title>Grad Valmora</title></head><body><main><h1>Grad Valmora</h1></main>
        <script src="{base_url}/static/widget/widget.js" data-language="hr"
                data-position="left" data-title="Asistent Grada Valmore" defer></script>
        </body></html>"""
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    handler = partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_city_site_on_another_origin_embeds_it_with_data_attributes(
    base_url: str, city_site: str, new_context: NewContext, page_errors: list[str]
) -> None:
    assert city_site != base_url  # another port: another origin, so the API needs CORS
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        page.goto(f"{city_site}/index.html")
        launcher = page.locator(".ca-launcher")
        expect(launcher).to_have_text(ui_text("hr", "launcher.label"))
        launcher.click()
        expect(page.locator(".ca-title")).to_have_text("Asistent Grada Valmore")
        box = page.locator(".ca-panel").bounding_box()
        assert box is not None and box["x"] < 100, "data-position=left puts it on the left"
        assert send(page, "dobar dan") == [greeting("hr")]
        assert page.evaluate("location.origin") == city_site
    assert page_errors == []


def test_mobile_layout_uses_the_whole_screen(
    base_url: str, new_context: NewContext, page_errors: list[str], tmp_path: Path
) -> None:
    phone = {"width": 375, "height": 667}
    with new_context(viewport=phone, is_mobile=True, has_touch=True, device_scale_factor=2) as ctx:
        page = watch(ctx.new_page(), page_errors)
        open_demo(page, base_url)
        screenshot(page, "widget-mobile-closed", tmp_path)
        page.locator(".ca-launcher").tap()
        settle(page)
        box = page.locator(".ca-panel").bounding_box()
        assert box is not None
        assert (round(box["x"]), round(box["y"])) == (0, 0)
        assert (round(box["width"]), round(box["height"])) == (phone["width"], phone["height"])
        expect(page.locator(".ca-launcher")).to_be_hidden()
        # The panel covers the page, so it is modal and Tab cycles inside it.
        expect(page.locator(".ca-panel")).to_have_attribute("aria-modal", "true")
        page.locator(".ca-clear").focus()
        page.keyboard.press("Shift+Tab")
        assert "ca-send" in focused(page)
        page.keyboard.press("Tab")
        assert "ca-clear" in focused(page)
        assert send(page, "hello") == [greeting(None)]
        assert send(page, "help"), "the assistant answers"
        input_box = page.locator(".ca-input").bounding_box()
        assert input_box is not None and input_box["y"] + input_box["height"] <= phone["height"]
        overflow = page.evaluate(
            """() => {
                const s = document.querySelector("civic-assistant-widget").shadowRoot
                    .querySelector(".ca-scroller");
                return s.scrollWidth - s.clientWidth;
            }"""
        )
        assert overflow <= 0, "no horizontal scrolling in the conversation"
        assert audit(page) == [], "\n".join(audit(page))
        screenshot(page, "widget-mobile-conversation", tmp_path)
        page.locator(".ca-close").tap()
        expect(page.locator(".ca-panel")).to_be_hidden()
        expect(page.locator(".ca-launcher")).to_be_visible()
    assert page_errors == []


MOTION = """() => {
    const root = document.querySelector("civic-assistant-widget").shadowRoot;
    const style = (selector) => getComputedStyle(root.querySelector(selector));
    return {
        panel: style(".ca-panel").animationName,
        typing: style(".ca-dot").animationName,
        launcher: style(".ca-launcher").transitionDuration,
        send: style(".ca-send").transitionDuration,
    };
}"""


def test_reduced_motion_turns_animations_off(base_url: str, new_context: NewContext) -> None:
    with new_context() as context:
        page = open_demo(context.new_page(), base_url)
        page.locator(".ca-launcher").click()
        moving = page.evaluate(MOTION)
    assert moving["panel"] == "ca-panel-in" and moving["typing"] == "ca-bounce", moving
    assert moving["launcher"] != "0s" and moving["send"] != "0s", moving

    with new_context(reduced_motion="reduce") as context:
        page = open_demo(context.new_page(), base_url)
        page.locator(".ca-launcher").click()
        still = page.evaluate(MOTION)
    assert still == {"panel": "none", "typing": "none", "launcher": "0s", "send": "0s"}


def test_delete_my_data_clears_the_browser_copy(
    base_url: str, new_context: NewContext, page_errors: list[str]
) -> None:
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        open_demo(page, base_url)
        page.locator(".ca-launcher").click()
        send(page, "hello")
        first = stored_conversation(page)
        assert first is not None and first["messages"]

        page.locator(".ca-clear").click()
        expect(page.locator(".ca-log .ca-message")).to_have_count(0)
        expect(page.locator("[aria-live=polite]")).to_have_text(ui_text("en", "cleared"))
        assert stored_conversation(page) is None
        assert "ca-input" in focused(page)

        send(page, "hello")
        second = stored_conversation(page)
        assert second is not None and second["sender"] != first["sender"], "a new sender id"

        # The hook a city's privacy page can call (the demo page's footer button does).
        page.locator("#forget-assistant").click()
        expect(page.locator(".ca-log .ca-message")).to_have_count(0)
        assert stored_conversation(page) is None
    assert page_errors == []


def test_error_states_when_the_server_or_rasa_is_down(
    base_url: str,
    stack: Stack,
    new_context: NewContext,
    page_errors: list[str],
    tmp_path: Path,
) -> None:
    # Last test of the module: it stops the Rasa server of this stack.
    with new_context() as context:
        page = watch(context.new_page(), page_errors)
        open_demo(page, base_url)
        page.locator(".ca-launcher").click()
        alert = page.locator(".ca-alert")

        # 1. The gateway cannot be reached at all (network down, server gone).
        page.route("**/api/v1/chat", lambda route: route.abort("connectionrefused"))
        box = page.locator(".ca-input")
        box.fill("hello")
        box.press("Enter")
        expect(alert).to_have_attribute("role", "alert")
        expect(alert.locator(".ca-alert-text")).to_have_text(ui_text("en", "error.unreachable"))
        expect(page.locator(".ca-not-sent")).to_have_text(ui_text("en", "message.notSent"))
        assert audit(page) == [], "\n".join(audit(page))
        page.unroute("**/api/v1/chat")
        page.locator(".ca-retry").click()
        assert wait_for_replies(page, 0) == [greeting(None)]
        expect(page.locator(".ca-not-sent")).to_have_count(0)

        # 2. Rasa is down: the gateway answers 503 and the widget shows its message.
        stack.service("Rasa server").stop()
        box.fill("are you there?")
        box.press("Enter")
        expected = translate("error.assistant_unavailable", "en")
        expect(alert.locator(".ca-alert-text")).to_have_text(expected)
        expect(page.locator(".ca-retry")).to_have_text(ui_text("en", "retry"))
        assert audit(page) == [], "\n".join(audit(page))
        screenshot(page, "widget-desktop-error", tmp_path)
    assert page_errors == []
