"""Typed, frozen, strict configuration loaded from YAML."""

from __future__ import annotations

from posed.config.loader import LoadedConfig, load_config
from posed.config.schema import (
    BlazePoseOptions,
    DaemonConfig,
    ModelConfig,
    PosedConfig,
)
from posed.posenet.options import PoseNetOptions

__all__ = [
    "BlazePoseOptions",
    "DaemonConfig",
    "LoadedConfig",
    "ModelConfig",
    "PoseNetOptions",
    "PosedConfig",
    "load_config",
]
