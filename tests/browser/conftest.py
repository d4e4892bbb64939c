"""Real headless Chromium (Debian's, never a downloaded one) against the real stack.

`scripts/ensure-browser.sh` (run by `make test`) installs Chromium, fonts and axe-core;
these fixtures fail, never skip, when something is missing.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from stack import BOT_DIR, ROOT, Ports, Stack, ensure_model

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 30_000

NewContext = Callable[..., AbstractContextManager[BrowserContext]]


# --- domain texts (the expected replies come from the bot's own response files) ----------


def response_variations(name: str) -> dict[str | None, dict[str, Any]]:
    """Variations of a domain response by language condition (None: the default)."""
    responses: dict[str, Any] = {}
    for path in sorted((BOT_DIR / "domain").glob("*.yml")):
        responses.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    found: dict[str | None, dict[str, Any]] = {}
    for variation in responses[name]:
        conditions = variation.get("condition") or []
        language = next((c["value"] for c in conditions if c["name"] == "language"), None)
        found[language] = variation
    return found


# --- the stack and the browser ------------------------------------------------------------


@pytest.fixture(scope="package")
def browser_tools() -> None:
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"Chromium at {CHROMIUM}")
    if not AXE_JS.is_file():
        missing.append(f"axe-core at {AXE_JS.relative_to(ROOT)}")
    if missing:
        pytest.fail(f"Missing {', '.join(missing)}: run scripts/ensure-browser.sh (make test does)")


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, browser_tools: None) -> Iterator[Stack]:
    model = ensure_model()
    with Stack(Ports.free(), tmp_path_factory.mktemp("browser-stack"), model) as running:
        yield running


@pytest.fixture(scope="package")
def base_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.ports.app}"


@pytest.fixture(scope="package")
def playwright_driver(browser_tools: None) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        expect.set_options(timeout=TIMEOUT_MS)
        yield driver


@pytest.fixture
def new_context(
    playwright_driver: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NewContext]:
    """Open Chromium with a fresh profile (--user-data-dir); closed after the test."""
    opened: list[BrowserContext] = []

    @contextmanager
    def open_context(**options: Any) -> Iterator[BrowserContext]:
        profile = tmp_path_factory.mktemp("chromium-profile")
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "en-GB")
        context = playwright_driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        try:
            yield context
        finally:
            context.close()

    yield open_context
    for context in opened:
        if context.pages:  # a test failed before leaving its `with` block
            context.close()


@pytest.fixture
def page_errors() -> list[str]:
    """JavaScript errors of the pages a test opened (collected by `watch`)."""
    return []


def watch(page: Page, errors: list[str]) -> Page:
    """Record uncaught page errors so that tests can assert there were none."""
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


# --- checks ------------------------------------------------------------------------------


def audit(page: Page) -> list[str]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; return violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => JSON.stringify(n.target) + " " + n.failureSummary),
            }));
        }""",
        WCAG_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    ]


def screenshot(page: Page, name: str, directory: Path) -> Path:
    """Save a PNG of the page and check that it is a real, full-size image."""
    keep = os.environ.get("WIDGET_SCREENSHOT_DIR")
    target_dir = Path(keep) if keep else directory
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    viewport = page.viewport_size
    assert viewport is not None
    scale = page.evaluate("window.devicePixelRatio")
    assert (width, height) == (viewport["width"] * scale, viewport["height"] * scale)
    assert len(data) > 20_000, f"{path} is suspiciously small ({len(data)} bytes)"
    return path
