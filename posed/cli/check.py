"""`posed check`: validate a config; without --config-only also its models, backend, files and cameras.

Exits 0 when all is well and 2 on any problem, with every problem on stderr.
Everything `posed run` refuses to start with (exit 78) is an error here too,
because both call the same `preflight`. An unreachable broker is only a warning:
it may come up later, and `run` keeps retrying.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

from posed.config.loader import LoadedConfig, sort_issues, validate_document
from posed.config.preflight import preflight_document
from posed.config.reader import read_document
from posed.errors import EXIT_OK, EXIT_USAGE, ConfigError, ConfigIssue, ModelOptionError, PosedError
from posed.estimator import open_estimator
from posed.models.resolve import model_search_path
from posed.mqtt.config import MqttConfig
from posed.plugins import load_backend

BROKER_TIMEOUT = 3.0  # seconds; a broker on the local network answers in milliseconds


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
    path: Path = args.config
    try:
        document = read_document(path)
    except ConfigError as exc:
        return _report(exc.issues)
    loaded, issues = validate_document(path, document)
    if not args.config_only:
        machine = preflight_document(path, document, loaded, cli_model_dir=args.model_dir)
        issues.extend(machine)
        if loaded is not None:
            issues.extend(_probe(loaded, args.model_dir, model_ok=not any(_is_model(i) for i in machine)))
            _warn_broker(loaded.config.mqtt)
    if issues:
        return _report(sort_issues(issues))
    print(f"{path}: OK" + (" (config only)" if args.config_only else ""))
    return EXIT_OK


def _is_model(issue: ConfigIssue) -> bool:
    return issue.key in ("model.name", "model.path", "model.precision", "model_dir", "--model-dir")


def _probe(loaded: LoadedConfig, model_dir: Path | None, *, model_ok: bool) -> list[ConfigIssue]:
    from posed.cameras.probe import probe_camera

    cfg, file = loaded.config, str(loaded.path)
    issues: list[ConfigIssue] = []
    backend = load_backend(loaded.backend.type)
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
    elif model_ok:
        key = "model.name" if cfg.model.name is not None else "model.path"
        dirs = model_search_path(cli_dir=model_dir, config_dir=cfg.model_dir)
        try:
            with open_estimator(cfg.model, backend, loaded.backend, model_dirs=dirs):
                pass
        except PosedError as exc:
            # A model option that does not suit the file is reported on its own line.
            key = exc.key if isinstance(exc, ModelOptionError) else key
            issues.append(ConfigIssue(file, loaded.line_of(key), key, str(exc)))
    if cfg.preview.enabled:
        try:
            import aiohttp  # noqa: F401  (what `posed run` would import to serve the page)
        except ImportError as exc:
            message = f"the preview page needs aiohttp ({exc}): pip install 'posed[preview]'"
            issues.append(ConfigIssue(file, loaded.line_of("preview.enabled"), "preview.enabled", message))
    for name, camera in cfg.cameras.items():
        try:
            probe_camera(name, camera)
        except PosedError as exc:
            key = f"cameras.{name}"
            issues.append(ConfigIssue(file, loaded.line_of(key), key, str(exc)))  # masked by ConfigIssue
    return issues


def _warn_broker(mqtt: MqttConfig) -> None:
    """Not an error: the broker may come up later. But a user checking a config wants to know."""
    try:
        with socket.create_connection((mqtt.host, mqtt.port), timeout=BROKER_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {BROKER_TIMEOUT:.0f} s"
        print(
            f"warning: cannot connect to the MQTT broker at {mqtt.host}:{mqtt.port}: {reason} "
            "(not a config error: `posed run` keeps retrying)",
            file=sys.stderr,
        )


def _report(issues: Iterable[ConfigIssue]) -> int:
    issues = list(issues)
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    print(f"{len(issues)} problem(s) found", file=sys.stderr)
    return EXIT_USAGE
