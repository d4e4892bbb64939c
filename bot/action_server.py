"""The action server: rasa-sdk's own, serving calls that come without the domain.

`python -m bot.action_server --port 5055` takes rasa-sdk's arguments. Rasa 3.6 is
configured with `enable_selective_domain` (bot/endpoints.yml), so it no longer sends
the whole domain with every call; rasa-sdk 3.21 would refuse such calls (HTTP 449, a
protocol Rasa 3.6 does not speak), so this executor answers them with the domain read
from bot/domain/ (bot/domain_files.py). A call that does carry a domain uses it.

Each Sanic worker (a process of its own) also reads the domain and the knowledge base
and loads the search index and embedding model in a background thread as it starts,
so no user's turn waits seconds for them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from functools import partial
from pathlib import Path
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_ENDPOINTS_PATH
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.worker.loader import AppLoader

from bot.domain_files import load_domain
from bot.kb_access import get_knowledge_base
from bot.search_access import warm_up_searcher

# rasa-sdk warns, on every turn, for each extracted slot without a `validate_<slot>`
# method. Here that is by design (bot/actions/validate_slot_mappings.py fills slots
# with extract_ methods), so the filter below keeps it out of the log.
RASA_SDK_FORMS_LOGGER = "rasa_sdk.forms"
INTENDED_SKIP_PREFIX = "Skipping validation for"


class IntendedSkipsFilter(logging.Filter):
    """Drops rasa-sdk's "Skipping validation for `slot`" warnings, nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the per-turn skip warning."""
        return not record.getMessage().startswith(INTENDED_SKIP_PREFIX)


class FileDomainExecutor(ActionExecutor):  # type: ignore[misc]
    """An executor that falls back to the domain files when a call has no domain."""

    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> Any:
        """The call's own domain if it has one, else the one read from bot/domain/."""
        if payload.get("domain") is not None:
            return super().update_and_return_domain(payload, action_name)
        return load_domain()


def main(argv: list[str] | None = None) -> None:
    """Start the HTTP action server as `python -m rasa_sdk` would, with our executor."""
    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    load_domain()  # read the files now: a broken domain fails the start, not a turn
    executor = FileDomainExecutor()
    executor.register_package(args.actions_module or args.actions)
    serve(executor, args)


def create_app(executor: ActionExecutor, loglevel: str | None, **options: Any) -> Sanic[Any, Any]:
    """rasa-sdk's app (built again in each worker), plus logging and the warm-up.

    A worker is a fresh process: without configuring logging here, it would drop
    every INFO line of the actions, the knowledge base and the search.
    """
    utils.configure_colored_logging(loglevel)
    logging.getLogger(RASA_SDK_FORMS_LOGGER).addFilter(IntendedSkipsFilter())
    app: Sanic[Any, Any] = create_app_for_serve(executor, **options)
    app.register_listener(_warm_up_worker, "after_server_start")
    return app


async def _warm_up_worker(app: Sanic[Any, Any]) -> None:
    """Start loading what the actions need in a thread; the server answers meanwhile."""
    app.ctx.warm_up = asyncio.get_running_loop().run_in_executor(None, warm_up)


def warm_up() -> bool:
    """Domain, knowledge base, then search index and model (each loaded once per process)."""
    load_domain()
    get_knowledge_base()
    return warm_up_searcher()


def tracing_endpoints(path: str | None) -> str | None:
    """The file rasa-sdk reads its tracing settings from, or None for no tracing.

    rasa-sdk's default `endpoints.yml` (in the working directory) is optional: the bot
    has no tracing, and rasa-sdk would log its absence as an error at every start. A
    file named explicitly is passed on as given, so a wrong name is still reported.
    """
    if path == DEFAULT_ENDPOINTS_PATH and not Path(DEFAULT_ENDPOINTS_PATH).is_file():
        return None
    return path


def serve(executor: ActionExecutor, args: Any) -> None:
    """Serve as rasa_sdk.endpoint.run does, with `create_app` as the workers' factory."""
    loader = AppLoader(
        factory=partial(
            create_app,
            executor,
            args.loglevel,
            cors_origins=args.cors,
            auto_reload=args.auto_reload,
            endpoints=tracing_endpoints(args.endpoints),
        )
    )
    app = loader.load()
    app.prepare(
        host=os.environ.get("SANIC_HOST", "0.0.0.0"),
        port=args.port,
        ssl=create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password),
        workers=utils.number_of_sanic_workers(),
    )
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
