"""Entry point of `posed` and `python -m posed`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from posed import __version__
from posed.errors import EXIT_FAILURE, EXIT_INTERRUPTED, ConfigError, PosedError
from posed.urls import mask_credentials

# Subcommand modules, imported only when chosen so that `posed --help` stays fast.
SUBCOMMANDS = {
    "demo": ("posed.cli.demo", "See posed work: poses on a sample clip (or your video or camera)."),
    "run": ("posed.cli.run", "Run the daemon."),
    "check": ("posed.cli.check", "Validate a config, its models, backend and cameras."),
    "backends": ("posed.cli.backends", "List backend plugins and whether they can run here."),
    "estimate": ("posed.cli.estimate", "Estimate poses in images or a video; JSON on stdout."),
    "models": ("posed.cli.models", "List, fetch, verify and import models."),
    "bench": ("posed.cli.bench", "Measure inference and pipeline speed."),
    "evaluate": ("posed.cli.evaluate", "Score the event analyzers on labelled clips."),
    "config": ("posed.cli.config_schema", "Config file tools: `posed config schema` prints its JSON Schema."),
}
LOG_LEVELS = ["debug", "info", "warning", "error"]
GLOBAL_OPTIONS_NOTE = "Global options (before or after the command): --log-level {debug,info,warning,error}."


class DefaultsFormatter(argparse.HelpFormatter):
    """Help that shows every option's default, except where the help text already says it.

    argparse's ArgumentDefaultsHelpFormatter would print "(default: None)" and
    "(default: False)", which tell a user nothing; those options say in words what
    happens without them.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, [], argparse.SUPPRESS)
            or action.option_strings == []
            or isinstance(action, argparse._HelpAction | argparse._VersionAction)
        ):
            return text
        if text.endswith("."):
            return f"{text[:-1]} (default: %(default)s)."
        return f"{text} (default: %(default)s)"


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser under `parser` that has no subcommands of its own, and all parsers on the way."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_leaf_parsers(child))
    return found


def _finish(parser: argparse.ArgumentParser) -> None:
    """Defaults in every help text, and the global options accepted after any subcommand too."""
    for child in _leaf_parsers(parser):
        child.formatter_class = DefaultsFormatter
        if child is parser:
            continue
        # SUPPRESS: when not given after the subcommand, the value given before it stays.
        child.add_argument(
            "--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        child.epilog = GLOBAL_OPTIONS_NOTE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posed",
        description="Pose estimation daemon for edge devices.",
        formatter_class=DefaultsFormatter,
    )
    parser.add_argument("--version", action="version", version=f"posed {__version__}")
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=None,
        help="Override the log level; also accepted after the command "
        "(default: the config's for `run`, warning for the other commands).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        importlib.import_module(module_name).add_arguments(sub_parser)
    _finish(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "run":
        logging.basicConfig(level=(args.log_level or "warning").upper())
        # deferred: only once a command runs
        from posed.daemon.logs import RedactingFormatter, Redactor, route_third_party

        masking = RedactingFormatter("%(levelname)s %(name)s: %(message)s", Redactor(), journal=False)
        for handler in logging.getLogger().handlers:
            handler.setFormatter(masking)  # no credential in a warning of `check` or `estimate`
        route_third_party(args.log_level or "warning")
    module = importlib.import_module(args._module)
    try:
        code: int = module.execute(args)
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"config error: {issue}", file=sys.stderr)
        return exc.exit_code
    except PosedError as exc:
        print(f"posed {args.command}: {mask_credentials(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"posed {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`posed backends --json | head`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
