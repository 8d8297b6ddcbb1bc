"""`posed backends`: installed plugins, whether each runs here, the runtime in use, and devices.

`--json` prints a list with one object per backend: name, runnable, detail, fix,
runtime, devices (ids as the config names them), device_names (id -> description)
and notes (facts such as why an accelerator is not usable, with the fix).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

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
        except Exception as exc:  # a third-party probe() that breaks its promise not to raise
            statuses.append(
                BackendStatus(name, False, f"probe() failed: {type(exc).__name__}: {exc}", fix="report it")
            )
    return statuses


def as_json(status: BackendStatus) -> dict[str, Any]:
    return {
        "name": status.name,
        "runnable": status.runnable,
        "detail": status.detail,
        "fix": status.fix,
        "runtime": status.runtime,
        "devices": list(status.devices),
        "device_names": dict(status.device_names),
        "notes": list(status.notes),
    }


def execute(args: argparse.Namespace) -> int:
    statuses = collect()
    if args.json:
        print(json.dumps([as_json(s) for s in statuses], indent=2))
        return EXIT_OK
    if not statuses:
        print("no backends installed: pip install 'posed[all]'")
    for s in statuses:
        state = "runnable" if s.runnable else "NOT RUNNABLE"
        print(f"{s.name:10} {state:12} {s.detail}")
        if s.devices:
            described = [f"{d} ({s.device_names[d]})" if d in s.device_names else d for d in s.devices]
            print(f"{'':10} devices: {', '.join(described)}")
        if s.fix and not s.runnable:
            print(f"{'':10} fix: {s.fix}")
        for note in s.notes:
            print(f"{'':10} note: {note}")
    return EXIT_OK
