"""The WhatsApp channel's part of the gateway settings, checked as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from channels.settings import ChannelSettings

# Environment variables that must all be set (or all be unset) to enable the channel.
REQUIRED_VARIABLES = (
    "APP_WHATSAPP_ACCESS_TOKEN",
    "APP_WHATSAPP_APP_SECRET",
    "APP_WHATSAPP_VERIFY_TOKEN",
    "APP_WHATSAPP_PHONE_NUMBER_ID",
)


class WhatsAppConfigError(ValueError):
    """Only some of the required WhatsApp settings are set: refuse to start."""


@dataclass(frozen=True)
class WhatsAppConfig:
    """Everything the channel needs; secrets stay `SecretStr` so reprs never leak them."""

    access_token: SecretStr
    app_secret: SecretStr
    verify_token: SecretStr
    phone_number_id: str
    graph_url: str
    api_version: str
    timeout_seconds: float
    mark_read: bool

    @classmethod
    def from_settings(cls, settings: ChannelSettings) -> WhatsAppConfig | None:
        """The channel's config, None when it is not configured at all.

        A half-configured channel raises instead of silently staying off: a missing
        app secret would otherwise look like "WhatsApp does not answer" in production.
        """
        values = (
            settings.whatsapp_access_token,
            settings.whatsapp_app_secret,
            settings.whatsapp_verify_token,
            settings.whatsapp_phone_number_id,
        )
        pairs = zip(REQUIRED_VARIABLES, values, strict=True)
        missing = [name for name, value in pairs if not value]
        if len(missing) == len(REQUIRED_VARIABLES):
            return None
        if missing:
            raise WhatsAppConfigError(
                f"WhatsApp is only partly configured: set {', '.join(missing)} too, "
                "or unset all APP_WHATSAPP_* secrets to disable the channel."
            )
        token, secret, verify, phone = values
        assert token and secret and verify and phone  # narrowed by the check above
        return cls(
            access_token=token,
            app_secret=secret,
            verify_token=verify,
            phone_number_id=phone,
            graph_url=str(settings.whatsapp_graph_url).rstrip("/"),
            api_version=settings.whatsapp_api_version,
            timeout_seconds=settings.whatsapp_timeout_seconds,
            mark_read=settings.whatsapp_mark_read,
        )
