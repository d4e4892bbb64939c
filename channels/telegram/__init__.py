"""Telegram channel (python-telegram-bot): webhook in the FastAPI app, or polling.

- `application.build_application(settings, conversation)`: the PTB application,
  used by both modes.
- `webhook.router_from_settings(settings)`: the `/telegram/webhook` router with the
  lifespan that starts and stops the bot (APP_TELEGRAM_MODE=webhook).
- `python -m channels.telegram`: polling for local use (APP_TELEGRAM_MODE=polling).

Nothing here runs or connects at import time.
"""
