"""A local stand-in for api.telegram.org that speaks the Bot API over real HTTP.

PTB reaches it through `base_url` (`<peer>/bot<token>/<method>`), exactly as it
would reach Telegram or a self-hosted Bot API server. Like Telegram it

- answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"}`
  with the matching HTTP status, and 401 for a wrong token;
- accepts parameters as query string, form fields (what PTB sends) or JSON;
- enforces the limits the channel must respect: 1-4096 characters (UTF-16 units)
  per message, callback data of 1-64 bytes, known chats and callback query ids,
  valid parse modes, the secret token alphabet, no getUpdates while a webhook is set;
- delivers updates either by POSTing them to the registered webhook with the
  `X-Telegram-Bot-Api-Secret-Token` header, or through long-polled `getUpdates`
  with offset confirmation.

Every request is recorded (method, decoded parameters, time, status) so tests can
assert what the bot really sent.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.channels.telegram.loopback import JsonServer

TOKEN = "123456789:AAF-test-token_for_the_local_peer0"
BOT_ID = 123456789
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
MAX_TEXT_UNITS = 4096
MAX_CALLBACK_BYTES = 64
MAX_LONG_POLL_SECONDS = 5.0
MAX_CAPTION_CHARS = 1024

# How form-encoded values are typed (Telegram parses them by each method's schema).
JSON_FIELDS = {
    "reply_markup", "allowed_updates", "commands", "scope", "link_preview_options",
    "entities", "reply_parameters",
}  # fmt: skip
INT_FIELDS = {"chat_id", "offset", "limit", "timeout", "message_id", "max_connections"}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification", "protect_content"}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None


@dataclass
class _Failure:
    code: int
    description: str
    retry_after: int | None


ENTITY_TYPES = {"bold", "italic", "url", "text_link", "code", "pre"}


def _check_entities(text: str, entities: Any) -> None:
    """Refuse entities as Telegram does: known types, inside the text (UTF-16 units)."""
    if entities is None:
        return
    if not isinstance(entities, list):
        raise ApiError(400, "Bad Request: can't parse entities")
    size = utf16_units(text)
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if (
            entity.get("type") not in ENTITY_TYPES
            or not isinstance(offset, int)
            or not isinstance(length, int)
            or offset < 0
            or length <= 0
            or offset + length > size
        ):
            raise ApiError(400, f"Bad Request: can't parse entities: {entity}")


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode(params: dict[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in params.items():
        if key in JSON_FIELDS:
            decoded[key] = json.loads(value)
        elif key in INT_FIELDS:
            try:
                decoded[key] = int(value)
            except ValueError:
                decoded[key] = value  # e.g. chat_id "@channel"
        elif key in BOOL_FIELDS:
            decoded[key] = value.lower() == "true"
        else:
            decoded[key] = value
    return decoded


def user(user_id: int, language_code: str | None = "en", first_name: str = "Ana") -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        data["language_code"] = language_code
    return data


class BotApiPeer(JsonServer):
    def __init__(self, token: str = TOKEN, port: int | None = None) -> None:
        super().__init__(port)
        self.token = token
        self.calls: list[Call] = []
        self.webhook: Webhook | None = None
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.webhook_responses: list[int] = []
        self._pending: list[dict[str, Any]] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._known_chats: set[int] = set()
        self._callback_ids: set[str] = set()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._changed = threading.Condition()
        self._closing = False

    # ----------------------------------------------------------------- test side

    @property
    def base_url(self) -> str:
        """What PTB gets as `base_url` (it appends the token)."""
        return f"{self.base}/bot"

    def fail_next(
        self, method: str, code: int = 429, description: str = "", retry_after: int | None = None
    ) -> None:
        """Answer the next call of `method` with this error (e.g. 429 Too Many Requests)."""
        text = description or (
            f"Too Many Requests: retry after {retry_after}" if retry_after else "Bad Request"
        )
        with self._changed:
            self._failures.setdefault(method.lower(), []).append(_Failure(code, text, retry_after))

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._changed:
            return [
                c for c in self.calls
                if c.method == method.lower() and (c.status == 200 or not ok_only)
            ]  # fmt: skip

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """Wait until `method` succeeded at least `count` times; return those calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                calls = [c for c in self.calls if c.method == method.lower() and c.status == 200]
                if len(calls) >= count:
                    return calls
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.status) for c in self.calls]
                    raise AssertionError(
                        f"{count} x {method} not seen in {timeout} s; calls: {seen}"
                    )
                self._changed.wait(remaining)

    def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of every successful sendMessage (to `chat_id`), in order."""
        return [
            c.params for c in self.calls_to("sendMessage")
            if chat_id is None or c.params.get("chat_id") == chat_id
        ]  # fmt: skip

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m["text"] for m in self.messages(chat_id)]

    def wait_texts(self, chat_id: int, count: int, timeout: float = 15.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.texts(chat_id)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{count} messages to chat {chat_id} not seen; got {self.texts(chat_id)}"
                    )
                self._changed.wait(remaining)
            return self.texts(chat_id)

    def documents(self, chat_id: int) -> list[dict[str, Any]]:
        """Parameters of every successful sendDocument to `chat_id` (file under `document`)."""
        return [
            c.params for c in self.calls_to("sendDocument") if c.params.get("chat_id") == chat_id
        ]

    def know_chat(self, chat_id: int) -> None:
        """Let the bot write to `chat_id` as if the user had started it earlier."""
        with self._changed:
            self._known_chats.add(chat_id)

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._pending)

    def deliver(self, update: dict[str, Any]) -> int | None:
        """Send `update` as Telegram would: POST to the webhook, else queue for getUpdates.

        Returns the webhook's HTTP status, or None when queued for polling.
        """
        update.setdefault("update_id", next(self._update_ids))
        with self._changed:
            self._remember(update)
            webhook = self.webhook
            if webhook is None:
                self._pending.append(update)
                self._changed.notify_all()
                return None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        response = httpx.post(webhook.url, content=json.dumps(update), headers=headers, timeout=30)
        self.webhook_responses.append(response.status_code)
        return response.status_code

    # --- update builders (the shapes Telegram sends) ---------------------------------

    def message_update(
        self, chat_id: int, language_code: str | None = "en", **content: Any
    ) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": user(chat_id if chat_id > 0 else 4242, language_code),
            **content,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def text_update(
        self, chat_id: int, text: str, language_code: str | None = "en"
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return self.message_update(chat_id, language_code, **content)

    def media_update(
        self, chat_id: int, kind: str, language_code: str | None = "en"
    ) -> dict[str, Any]:
        file = {"file_id": f"F{kind}{chat_id}", "file_unique_id": f"U{kind}{chat_id}"}
        media: dict[str, Any] = {
            "voice": {"voice": {**file, "duration": 3, "mime_type": "audio/ogg"}},
            "photo": {"photo": [{**file, "width": 90, "height": 90}], "caption": "look"},
            "sticker": {"sticker": {**file, "type": "regular", "width": 512, "height": 512,
                                    "is_animated": False, "is_video": False, "emoji": "👍"}},
        }[kind]  # fmt: skip
        return self.message_update(chat_id, language_code, **media)

    def callback_update(
        self, chat_id: int, data: str, language_code: str | None = "en"
    ) -> dict[str, Any]:
        query_id = f"cbq-{next(self._update_ids)}"
        query = {
            "id": query_id,
            "from": user(chat_id, language_code),
            "chat_instance": f"ci-{chat_id}",
            "data": data,
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": self._chat(chat_id),
                "from": self._bot_user(),
                "text": "Pick one",
            },
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    # ----------------------------------------------------------------- server side

    def stop(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        super().stop()

    def handle(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        url = urlsplit(path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", url.path)
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match.group(1), match.group(2).lower()
        call = Call(method=method, params={}, at=time.monotonic())
        try:
            call.params = params = self._params(url.query, headers.get("content-type", ""), body)
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            self._maybe_fail(method)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params)
            status, payload = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status = exc.code
            payload = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                payload["parameters"] = {"retry_after": exc.retry_after}
        call.status = status
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return status, payload

    @staticmethod
    def _params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
        raw: dict[str, str] = dict(parse_qsl(query))
        if body and content_type.startswith("application/json"):
            return {**_decode(raw), **json.loads(body)}
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif body and content_type.startswith("multipart/form-data"):
            return {**_decode(raw), **_multipart(content_type, body)}
        elif body:
            raise ApiError(400, f"Bad Request: the peer does not accept {content_type!r}")
        return _decode(raw)

    def _maybe_fail(self, method: str) -> None:
        with self._changed:
            queue = self._failures.get(method)
            failure = queue.pop(0) if queue else None
        if failure is not None:
            raise ApiError(failure.code, failure.description, failure.retry_after)

    def _remember(self, update: dict[str, Any]) -> None:
        message = update.get("message") or update.get("callback_query", {}).get("message")
        if message:
            self._known_chats.add(message["chat"]["id"])
        if "callback_query" in update:
            self._callback_ids.add(update["callback_query"]["id"])

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID, "is_bot": True, "first_name": "Civic Test Bot",
            "username": "civic_test_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
        }  # fmt: skip

    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Ana"}
        return {"id": chat_id, "type": "group", "title": "City group"}

    # --- Bot API methods ---------------------------------------------------------------

    def _api_getme(self, params: dict[str, Any]) -> Any:
        return self._bot_user()

    def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url", "")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._changed:
            self.webhook = Webhook(url, secret, params.get("allowed_updates")) if url else None
        return True

    def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        with self._changed:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _api_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        webhook = self.webhook
        return {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _api_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), MAX_LONG_POLL_SECONDS)
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + wait
        with self._changed:
            # An offset confirms every update before it: Telegram forgets them.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            while True:
                ready = [u for u in self._pending if _allowed(u, allowed)][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing:
                    return ready
                self._changed.wait(remaining)

    def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        text = str(params.get("text", ""))
        if chat_id not in self._known_chats:
            raise ApiError(400, "Bad Request: chat not found")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_units(text) > MAX_TEXT_UNITS:
            raise ApiError(400, "Bad Request: message is too long")
        parse_mode = params.get("parse_mode")
        if parse_mode is not None and parse_mode not in {"HTML", "Markdown", "MarkdownV2"}:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        _check_markup(params.get("reply_markup"))
        _check_entities(text, params.get("entities"))
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(int(chat_id)),
            "from": self._bot_user(),
            "text": text,
            **({"reply_markup": params["reply_markup"]} if params.get("reply_markup") else {}),
        }

    def _api_senddocument(self, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        document = params.get("document")
        if chat_id not in self._known_chats:
            raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(document, dict) or not document.get("content"):
            raise ApiError(400, "Bad Request: there is no document in the request")
        if len(str(params.get("caption", ""))) > MAX_CAPTION_CHARS:
            raise ApiError(400, "Bad Request: message caption is too long")
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(int(chat_id)),
            "from": self._bot_user(),
            "document": {"file_id": "Fdoc", "file_unique_id": "Udoc",
                         "file_name": document.get("filename")},
        }  # fmt: skip

    def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = params.get("callback_query_id")
        if query_id not in self._callback_ids:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: text is too long")
        return True

    def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        if params.get("chat_id") not in self._known_chats or not params.get("message_id"):
            raise ApiError(400, "Bad Request: message to edit not found")
        _check_markup(params.get("reply_markup"))
        return True

    def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "Bad Request: commands must be a non-empty list")
        for command in commands:
            if not COMMAND_RE.fullmatch(command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        with self._changed:
            self.commands[params.get("language_code")] = commands
        return True


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Fields of a multipart/form-data upload; files as {"filename", "content"}."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[str(name)] = {"filename": filename, "content": payload}
        else:
            fields[str(name)] = _decode({str(name): payload.decode("utf-8")})[str(name)]
    return fields


def _allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
    if not allowed:
        return True
    return any(kind in update for kind in allowed)


def _check_markup(markup: Any) -> None:
    if markup is None:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if data is None and "url" not in button:
                raise ApiError(400, "Bad Request: can't parse inline keyboard button")
