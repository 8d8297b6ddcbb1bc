"""`posed check`: validate a config; without --config-only also its models, backend and cameras.

Exits 0 when all is well and 2 on any problem, with every problem on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from posed.config.loader import LoadedConfig, line_of, sort_issues, validate_document
from posed.config.reader import read_document
from posed.config.schema import ModelConfig
from posed.errors import EXIT_OK, EXIT_USAGE, ConfigError, ConfigIssue, ModelOptionError, PosedError
from posed.estimator import open_estimator
from posed.models.resolve import model_search_path, resolve_model
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
    path: Path = args.config
    try:
        document = read_document(path)
    except ConfigError as exc:
        return _report(exc.issues)
    loaded, issues = validate_document(path, document)
    if not args.config_only:
        if loaded is None:
            # The config is invalid, but a missing model file is worth reporting in the same run.
            issues.extend(_model_file_issues(path, document, args.model_dir))
        else:
            issues.extend(_probe(loaded, args.model_dir))
    if issues:
        return _report(sort_issues(issues))
    print(f"{path}: OK" + (" (config only)" if args.config_only else ""))
    return EXIT_OK


def _model_key(model: ModelConfig) -> str:
    return "model.name" if model.name is not None else "model.path"


def _model_file_issues(path: Path, document: CommentedMap, model_dir: Path | None) -> list[ConfigIssue]:
    try:
        model = ModelConfig.model_validate(document.get("model"))
    except ValidationError:
        return []  # already reported by validation
    config_dir = document.get("model_dir")
    dirs = model_search_path(cli_dir=model_dir, config_dir=Path(config_dir) if config_dir else None)
    try:
        resolve_model(model, dirs)
    except PosedError as exc:
        key = _model_key(model)
        return [ConfigIssue(str(path), line_of(document, key), key, str(exc))]
    return []


def _probe(loaded: LoadedConfig, model_dir: Path | None) -> list[ConfigIssue]:
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
    else:
        key = _model_key(cfg.model)
        dirs = model_search_path(cli_dir=model_dir, config_dir=cfg.model_dir)
        try:
            with open_estimator(cfg.model, backend, loaded.backend, model_dirs=dirs):
                pass
        except PosedError as exc:
            # A model option that does not suit the file is reported on its own line.
            key = exc.key if isinstance(exc, ModelOptionError) else key
            issues.append(ConfigIssue(file, loaded.line_of(key), key, str(exc)))
    if cfg.preview.enabled and importlib.util.find_spec("aiohttp") is None:
        message = "the preview page needs aiohttp, which is not installed: pip install 'posed[preview]'"
        issues.append(ConfigIssue(file, loaded.line_of("preview.enabled"), "preview.enabled", message))
    for name, camera in cfg.cameras.items():
        try:
            probe_camera(name, camera)
        except PosedError as exc:
            key = f"cameras.{name}"
            issues.append(ConfigIssue(file, loaded.line_of(key), key, str(exc)))
    return issues


def _report(issues: Iterable[ConfigIssue]) -> int:
    issues = list(issues)
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    print(f"{len(issues)} problem(s) found", file=sys.stderr)
    return EXIT_USAGE
