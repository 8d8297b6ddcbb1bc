"""`posed run -c FILE [--model-dir DIR]`: the daemon.

Exit codes: 0 after a clean stop (SIGTERM/SIGINT, or every finite source ended);
78 (EX_CONFIG) for an invalid config or a missing/unusable model, which a restart
cannot fix; 1 for a fatal runtime error (e.g. inference hung past the restart budget).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, required=True, help="Config file (YAML); required.")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="Directory searched first for named models "
        "(default: none; then come $POSED_MODEL_DIR, the config's "
        "model_dir, $STATE_DIRECTORY/models, ~/.cache/posed/models).",
    )


def execute(args: argparse.Namespace) -> int:
    from posed.daemon.service import run_daemon  # deferred: the daemon is not needed for --help

    return run_daemon(args.config, model_dir=args.model_dir, log_level=args.log_level)
