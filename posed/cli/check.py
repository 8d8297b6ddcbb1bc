"""`posed check`: validate a config; without --config-only also its models, backend and cameras.

Exits 0 when all is well and 2 on any problem, with every problem on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posed.config.loader import LoadedConfig, load_config
from posed.errors import EXIT_OK, EXIT_USAGE, ConfigError, ConfigIssue, PosedError
from posed.estimator import open_estimator
from posed.models.resolve import model_search_path
from posed.plugins import load_backend


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, required=True, help="Config file (YAML).")
    parser.add_argument(
        "--config-only",
        action="store_true",
        help="Validate the file alone (for checking a device's config on another machine).",
    )
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="Directory searched first for named models."
    )


def execute(args: argparse.Namespace) -> int:
    try:
        loaded = load_config(args.config)
    except ConfigError as exc:
        return _report(exc.issues)
    issues = [] if args.config_only else list(_probe(loaded, args.model_dir))
    if issues:
        return _report(issues)
    print(f"{args.config}: OK" + (" (config only)" if args.config_only else ""))
    return EXIT_OK


def _probe(loaded: LoadedConfig, model_dir: Path | None) -> list[ConfigIssue]:
    from posed.cameras.probe import probe_camera

    cfg, file = loaded.config, str(loaded.path)
    issues: list[ConfigIssue] = []
    backend = load_backend(cfg.backend["type"])  # type: ignore[arg-type]
    status = backend.probe()
    if not status.runnable:
        issues.append(
            ConfigIssue(
                file,
                loaded.line_of("backend.type"),
                "backend.type",
                f"backend cannot run here: {status.detail}; fix: {status.fix}",
            )
        )
    else:
        model_key = "model.name" if cfg.model.name is not None else "model.path"
        dirs = model_search_path(cli_dir=model_dir, config_dir=cfg.model_dir)
        try:
            with open_estimator(cfg.model, backend, loaded.backend, model_dirs=dirs):
                pass
        except PosedError as exc:
            issues.append(ConfigIssue(file, loaded.line_of(model_key), model_key, str(exc)))
    for name, camera in cfg.cameras.items():
        try:
            probe_camera(name, camera)
        except PosedError as exc:
            key = f"cameras.{name}"
            issues.append(ConfigIssue(file, loaded.line_of(key), key, str(exc)))
    return issues


def _report(issues: tuple[ConfigIssue, ...] | list[ConfigIssue]) -> int:
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    print(f"{len(issues)} problem(s) found", file=sys.stderr)
    return EXIT_USAGE
