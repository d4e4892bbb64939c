"""`/whatsapp/webhook`: Meta's subscription handshake (GET) and deliveries (POST).

The router carries its own lifespan, so the app only has to include it: the channel
is created after the app's lifespan has built the conversation service, and closed
(answers in progress drained) before the Rasa client is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ValidationError

from channels.errors import ApiError
from channels.settings import ChannelSettings
from channels.whatsapp.config import WhatsAppConfig
from channels.whatsapp.inbound import WebhookPayload
from channels.whatsapp.service import WhatsAppChannel
from channels.whatsapp.signature import SIGNATURE_HEADER, signature_valid, tokens_equal

logger = logging.getLogger(__name__)

# Meta's challenge is a short number; refuse to echo anything else back.
CHALLENGE_MAX_CHARS = 128


class WebhookAck(BaseModel):
    """Answer to a delivery: how many new messages were accepted for answering."""

    accepted: int


def _channel(request: Request) -> WhatsAppChannel:
    channel: WhatsAppChannel = request.app.state.whatsapp
    return channel


WhatsAppDep = Annotated[WhatsAppChannel, Depends(_channel)]


def router_from_settings(settings: ChannelSettings) -> APIRouter | None:
    """The WhatsApp router when the channel is configured, else None.

    Raises:
        WhatsAppConfigError: only some of the required settings are set.
    """
    config = WhatsAppConfig.from_settings(settings)
    return build_router(config) if config is not None else None


def build_router(config: WhatsAppConfig) -> APIRouter:
    """The `/whatsapp` routes and the lifespan that owns the channel's resources."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings: ChannelSettings = app.state.settings
        channel = WhatsAppChannel(config, app.state.conversation, settings.default_language)
        app.state.whatsapp = channel
        logger.info("WhatsApp channel ready (phone number id %s)", config.phone_number_id)
        try:
            yield
        finally:
            await channel.aclose()

    router = APIRouter(prefix="/whatsapp", tags=["whatsapp"], lifespan=lifespan)
    forbidden: dict[int | str, dict[str, Any]] = {
        403: {"description": "Wrong verify token or signature"}
    }

    @router.get("/webhook", response_class=PlainTextResponse, responses=forbidden)
    async def verify(
        mode: Annotated[str | None, Query(alias="hub.mode")] = None,
        token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    ) -> Response:
        """Meta's subscription check: echo `hub.challenge` if the verify token matches."""
        expected = config.verify_token.get_secret_value()
        if (
            mode != "subscribe"
            or not tokens_equal(token, expected)
            or not challenge
            or len(challenge) > CHALLENGE_MAX_CHARS
        ):
            logger.warning("WhatsApp webhook verification refused (mode %r)", mode)
            return PlainTextResponse("", status_code=403)
        return PlainTextResponse(challenge)

    @router.post("/webhook", response_model=WebhookAck, responses=forbidden)
    async def receive(request: Request, channel: WhatsAppDep) -> Response | WebhookAck:
        """Check the signature, accept new messages for answering, acknowledge at once.

        Anything signed but unusable is acknowledged too (and logged): an error status
        would only make Meta deliver the same payload again for days.
        """
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature_valid(body, signature, config.app_secret.get_secret_value()):
            logger.warning("WhatsApp delivery with a missing or wrong signature refused")
            return Response(status_code=403)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "invalid_json", "en") from exc
        try:
            payload = WebhookPayload.model_validate(data)
        except ValidationError as exc:
            logger.warning("Unusable WhatsApp delivery acknowledged: %s", exc.errors()[:3])
            return WebhookAck(accepted=0)
        return WebhookAck(accepted=channel.accept(payload))

    return router
