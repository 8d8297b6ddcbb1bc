"""`posed backends`: installed plugins, whether each runs here, and its devices."""

from __future__ import annotations

import argparse
import json

from posed.backend import BackendStatus
from posed.errors import EXIT_OK, PosedError
from posed.plugins import discover, load_backend


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")


def collect() -> list[BackendStatus]:
    statuses = []
    for name in discover():
        try:
            statuses.append(load_backend(name).probe())
        except PosedError as exc:
            statuses.append(BackendStatus(name, False, str(exc), fix="reinstall the plugin"))
    return statuses


def execute(args: argparse.Namespace) -> int:
    statuses = collect()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "runnable": s.runnable,
                        "detail": s.detail,
                        "fix": s.fix,
                        "devices": list(s.devices),
                    }
                    for s in statuses
                ],
                indent=2,
            )
        )
        return EXIT_OK
    if not statuses:
        print("no backends installed: pip install 'posed[all]'")
    for s in statuses:
        state = "runnable" if s.runnable else "NOT RUNNABLE"
        print(f"{s.name:10} {state:12} {s.detail}")
        if s.devices:
            print(f"{'':10} devices: {', '.join(s.devices)}")
        if s.fix and not s.runnable:
            print(f"{'':10} fix: {s.fix}")
    return EXIT_OK
