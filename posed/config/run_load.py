"""The config as `posed run` takes it at start and on SIGHUP: read, validated and preflighted."""

from __future__ import annotations

from pathlib import Path

from posed.config.loader import LoadedConfig, sort_issues, validate_document
from posed.config.preflight import preflight_document
from posed.config.reader import read_document
from posed.errors import ConfigError


def load_for_run(path: Path, *, cli_model_dir: Path | None) -> LoadedConfig:
    """The config, validated and preflighted as `posed check` does; ConfigError names every problem.

    Used at start and on SIGHUP, so a reload is refused for exactly what would stop a start.
    """
    document = read_document(path)
    loaded, issues = validate_document(path, document)
    issues += preflight_document(path, document, loaded, cli_model_dir=cli_model_dir)
    if issues or loaded is None:
        raise ConfigError(sort_issues(issues))
    return loaded
