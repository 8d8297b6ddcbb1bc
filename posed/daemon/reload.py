"""What a SIGHUP has to restart: the difference between the running config and the new one.

Only the parts whose settings changed are rebuilt, so a changed MQTT topic does
not reload the model and a retuned camera does not disturb the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from posed.config.loader import LoadedConfig


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    estimators: bool  # model, backend or model_dir: every camera gets a new estimator
    publisher: bool  # the MQTT client, and what it announces (device, cameras, model, backend)
    cameras_added: tuple[str, ...]
    cameras_removed: tuple[str, ...]
    cameras_changed: tuple[str, ...]  # reopened; their tracking state is reset
    log_level: bool
    daemon: bool  # timeouts and budgets, applied in place
    preview: bool = False  # the preview page's server, restarted alone

    @property
    def changed(self) -> bool:
        return bool(
            self.estimators
            or self.publisher
            or self.cameras_added
            or self.cameras_removed
            or self.cameras_changed
            or self.log_level
            or self.daemon
            or self.preview
        )

    def describe(self) -> str:
        parts = []
        if self.estimators:
            parts.append("model/backend")
        if self.publisher:
            parts.append("mqtt")
        parts += [f"+camera {name}" for name in self.cameras_added]
        parts += [f"-camera {name}" for name in self.cameras_removed]
        parts += [f"camera {name}" for name in self.cameras_changed]
        if self.log_level:
            parts.append("log_level")
        if self.daemon:
            parts.append("daemon")
        if self.preview:
            parts.append("preview")
        return ", ".join(parts) or "nothing"


def plan_reload(old: LoadedConfig, new: LoadedConfig) -> ReloadPlan:
    a, b = old.config, new.config
    estimators = a.model != b.model or old.backend != new.backend or a.model_dir != b.model_dir
    added = tuple(name for name in b.cameras if name not in a.cameras)
    removed = tuple(name for name in a.cameras if name not in b.cameras)
    changed = tuple(name for name in b.cameras if name in a.cameras and a.cameras[name] != b.cameras[name])
    identity_changed = (
        a.model.name != b.model.name
        or a.model.path != b.model.path
        or a.model.blazepose.model_type != b.model.blazepose.model_type
        or old.backend.type != new.backend.type
    )
    publisher = (
        a.mqtt != b.mqtt
        or a.device_id != b.device_id
        or list(a.cameras) != list(b.cameras)
        or identity_changed
    )
    return ReloadPlan(
        estimators=estimators,
        publisher=publisher,
        cameras_added=added,
        cameras_removed=removed,
        cameras_changed=changed,
        log_level=a.log_level != b.log_level,
        daemon=a.daemon != b.daemon,
        preview=a.preview != b.preview,
    )
