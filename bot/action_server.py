"""The action server: rasa-sdk's own, serving calls that come without the domain.

`python -m bot.action_server --port 5055` takes rasa-sdk's arguments. Rasa 3.6 is
configured with `enable_selective_domain` (bot/endpoints.yml), so it no longer sends
the whole domain with every call; rasa-sdk 3.21 would refuse such calls (HTTP 449, a
protocol Rasa 3.6 does not speak), so this executor answers them with the domain read
from bot/domain/ (bot/domain_files.py). A call that does carry a domain uses it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_argument_parser, run
from rasa_sdk.executor import ActionExecutor

from bot.domain_files import load_domain


class FileDomainExecutor(ActionExecutor):  # type: ignore[misc]
    """An executor that falls back to the domain files when a call has no domain."""

    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> Any:
        """The call's own domain if it has one, else the one read from bot/domain/."""
        if payload.get("domain") is not None:
            return super().update_and_return_domain(payload, action_name)
        return load_domain()


def main(argv: list[str] | None = None) -> None:
    """Start the HTTP action server as `python -m rasa_sdk` would, with our executor."""
    import logging

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
    run(
        executor,
        args.port,
        args.cors,
        args.ssl_certificate,
        args.ssl_keyfile,
        args.ssl_password,
        args.auto_reload,
        args.endpoints,
    )


if __name__ == "__main__":
    main()
