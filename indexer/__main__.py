"""Command line of the indexer: ``python -m indexer <command>``.

Each command lives in its own module exposing ``register(subparsers)``, which
adds its sub-parser and sets ``handler`` to a function returning the exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from indexer import build_cmd, convert_cmd, import_calls_cmd, query_cmd, validate_cmd

Handler = Callable[[argparse.Namespace], int]

COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    validate_cmd.register,
    build_cmd.register,
    convert_cmd.register,
    query_cmd.register,
    import_calls_cmd.register,
)
"""Registration functions of the subcommands."""


def build_parser() -> argparse.ArgumentParser:
    """Create the top-level parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="python -m indexer", description="Validate, index and query the knowledge base."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command and return its exit code (argparse exits 2 on bad usage)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
