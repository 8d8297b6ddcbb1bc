"""`posed run -c FILE [--model-dir DIR]`: the daemon.

Exit codes: 0 after a clean stop (SIGTERM/SIGINT, or every finite source ended);
78 (EX_CONFIG) for an invalid config or a missing/unusable model, which a restart
cannot fix; 1 for a fatal runtime error (e.g. inference hung past the restart budget).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from posed.cli.names import add_model_dir_argument
from posed.daemon.service import run_daemon


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, required=True, help="Config file (YAML); required.")
    add_model_dir_argument(parser)
    add_no_gate_argument(parser)


def add_no_gate_argument(parser: argparse.ArgumentParser) -> None:
    """`--no-gate`, shared by run, demo, estimate and bench."""
    parser.add_argument(
        "--no-gate",
        action="store_true",
        help="Run the estimator on every frame, as with `motion_gate.enabled: false` (default: the "
        "motion gate skips still frames while nobody is tracked).",
    )


def execute(args: argparse.Namespace) -> int:
    code = run_daemon(args.config, model_dir=args.model_dir, log_level=args.log_level, no_gate=args.no_gate)
    _leave_past_stuck_threads(code)
    return code


def _leave_past_stuck_threads(code: int) -> None:
    """Exit at once when a thread is still inside a C library (a long image decode, a driver).

    The daemon has stopped and said so; what is left is interpreter shutdown, whose C++
    static destructors (OpenCV's thread pool) abort with "terminate called without an
    active exception" (exit 134) while such a thread still runs. os._exit skips them.
    """
    stuck = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    if stuck:
        logging.getLogger("posed.daemon").debug("leaving with threads still running: %s", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
