"""The web widget's server side: demo page, assets, texts and the CORS policy."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from channels.app import STATIC_DIR, create_app
from channels.settings import ChannelSettings
from knowledge.languages import EU_LANGUAGES

WIDGET_DIR = STATIC_DIR / "widget"
I18N_DIR = WIDGET_DIR / "i18n"
WIDGET_JS = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8")
CHAT = "/api/v1/chat"
CITY = "https://www.valmora.example"


def catalogue(path: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def restricted_client(closed_port: int) -> Iterator[TestClient]:
    settings = ChannelSettings(
        rasa_url=f"http://127.0.0.1:{closed_port}",
        rasa_timeout_seconds=2,
        cors_origins=f"{CITY}, https://grad.example.hr",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def preflight(client: TestClient, origin: str, path: str = CHAT):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


# --- demo page and assets ---------------------------------------------------------------


def test_demo_page_embeds_the_widget_with_one_script_tag(client_without_rasa: TestClient) -> None:
    page = client_without_rasa.get("/demo")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page.text) == ["/static/widget/widget.js"]
    assert "window.CivicAssistantConfig" in page.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/widget/widget.js", "javascript"),
        ("/static/widget/widget.css", "text/css"),
        ("/static/widget/languages.json", "application/json"),
        ("/static/widget/i18n/hr.json", "application/json"),
    ],
)
def test_widget_assets_are_served(
    client_without_rasa: TestClient, path: str, content_type: str
) -> None:
    response = client_without_rasa.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]


def test_widget_never_parses_html() -> None:
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in WIDGET_JS, f"widget.js must not use {sink}"
    assert "new Function" not in WIDGET_JS
    assert "textContent" in WIDGET_JS


# --- texts --------------------------------------------------------------------------------


def test_every_listed_language_has_a_complete_catalogue() -> None:
    languages = catalogue(WIDGET_DIR / "languages.json")
    assert list(languages) == list(EU_LANGUAGES), "the picker offers the 24 official languages"
    english = catalogue(I18N_DIR / "en.json")
    files = {p.stem for p in I18N_DIR.glob("*.json")}
    assert files == set(languages), "languages.json and i18n/*.json must list the same codes"
    for code in languages:
        texts = catalogue(I18N_DIR / f"{code}.json")
        assert set(texts) == set(english), f"{code}.json keys differ from en.json"
        empty = [key for key, value in texts.items() if not value.strip()]
        assert not empty, f"{code}.json has empty texts: {empty}"
        if code != "en":
            # Translations exist, not copies of English (short words like "Send" may repeat).
            same = [key for key in english if english[key] == texts[key]]
            assert len(same) <= 2, (code, same)


@pytest.mark.parametrize("code", EU_LANGUAGES)
def test_the_widget_can_load_every_listed_catalogue(
    client_without_rasa: TestClient, code: str
) -> None:
    # widget.js fetches languages.json, then /static/widget/i18n/<code>.json by code.
    assert '"/static/widget/i18n/" + code + ".json"' in WIDGET_JS
    response = client_without_rasa.get(f"/static/widget/i18n/{code}.json")
    assert response.status_code == 200
    assert response.json() == catalogue(I18N_DIR / f"{code}.json")


def test_every_text_the_widget_uses_is_in_the_english_catalogue() -> None:
    english = catalogue(I18N_DIR / "en.json")
    used = set(re.findall(r"\bt\(\"([\w.]+)\"\)", WIDGET_JS))
    assert len(used) >= 20, "the widget should take its texts from the catalogue"
    assert used <= set(english), sorted(used - set(english))
    assert set(english) <= used | {"title"}, sorted(set(english) - used)


def test_the_built_in_fallback_texts_match_the_english_catalogue() -> None:
    english = catalogue(I18N_DIR / "en.json")
    block = re.search(r"const FALLBACK_TEXTS = \{(.*?)\n  \};", WIDGET_JS, re.S)
    assert block is not None
    pairs = re.findall(r"\"?([\w.]+)\"?:\s*\n?\s*\"([^\"]*)\"", block.group(1))
    assert pairs, "no fallback texts found"
    for key, value in pairs:
        assert english.get(key) == value, f"fallback for {key!r} differs from en.json"


# --- CORS ---------------------------------------------------------------------------------


def test_any_site_may_embed_by_default(client_without_rasa: TestClient) -> None:
    response = preflight(client_without_rasa, CITY)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


def test_errors_reach_a_cross_origin_widget(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.post(
        CHAT, json={"sender": "web-1", "message": "hi"}, headers={"Origin": CITY}
    )
    assert response.status_code == 503
    assert response.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()


def test_texts_are_readable_cross_origin(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.get("/static/widget/i18n/hr.json", headers={"Origin": CITY})
    assert response.headers["access-control-allow-origin"] == "*"


def test_cors_is_limited_to_the_widget_paths(client_without_rasa: TestClient) -> None:
    response = client_without_rasa.get("/healthz", headers={"Origin": CITY})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_configured_origins_are_the_only_ones_allowed(restricted_client: TestClient) -> None:
    allowed = preflight(restricted_client, CITY)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == CITY
    refused = preflight(restricted_client, "https://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    post = restricted_client.post(
        CHAT, json={"sender": "web-1", "message": "hi"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in post.headers


def test_origins_are_read_from_a_comma_separated_list() -> None:
    settings = ChannelSettings(cors_origins=" https://a.example ,http://localhost:8080")
    assert settings.cors_origin_list == ["https://a.example", "http://localhost:8080"]
    assert ChannelSettings().cors_origin_list == ["*"]


@pytest.mark.parametrize("value", ["a.example", "https://a.example/path", "https://a.example,*"])
def test_malformed_origins_fail_fast(value: str) -> None:
    with pytest.raises(ValidationError):
        ChannelSettings(cors_origins=value)
