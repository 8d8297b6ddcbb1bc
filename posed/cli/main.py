"""Entry point of `posed` and `python -m posed`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from posed import __version__
from posed.errors import EXIT_FAILURE, ConfigError, PosedError

# Subcommand modules, imported only when chosen so that `posed --help` stays fast.
SUBCOMMANDS = {
    "run": ("posed.cli.run", "Run the daemon."),
    "check": ("posed.cli.check", "Validate a config, its models, backend and cameras."),
    "backends": ("posed.cli.backends", "List backend plugins and whether they can run here."),
    "estimate": ("posed.cli.estimate", "Estimate poses in images or a video; JSON on stdout."),
    "models": ("posed.cli.models", "List, fetch, verify and import models."),
    "bench": ("posed.cli.bench", "Measure inference and pipeline speed."),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posed", description="Pose estimation daemon for edge devices.")
    parser.add_argument("--version", action="version", version=f"posed {__version__}")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default=None,
        help="Override the log level (default: the config's, else warning for tools).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "run":
        logging.basicConfig(
            level=(args.log_level or "warning").upper(), format="%(levelname)s %(name)s: %(message)s"
        )
    module = importlib.import_module(args._module)
    try:
        code: int = module.execute(args)
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"config error: {issue}", file=sys.stderr)
        return exc.exit_code
    except PosedError as exc:
        print(f"posed {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`posed backends --json | head`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
