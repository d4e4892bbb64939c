"""WhatsApp Cloud API channel: Meta's webhook in, Graph API messages out.

`build_router(config)` gives the `/whatsapp` router with its own lifespan; the app
includes it only when `WhatsAppConfig.from_settings` finds the channel configured.
"""

from channels.whatsapp.config import WhatsAppConfig, WhatsAppConfigError
from channels.whatsapp.router import build_router, router_from_settings

__all__ = ["WhatsAppConfig", "WhatsAppConfigError", "build_router", "router_from_settings"]
