"""`posed run`: not built yet in this revision."""

from __future__ import annotations

import argparse

from posed.errors import PosedError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def execute(args: argparse.Namespace) -> int:
    raise PosedError("`posed run` is not available in this revision")
