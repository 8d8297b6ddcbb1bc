"""What a SIGHUP has to restart: the difference between the running config and the new one.

Only the parts whose settings changed are rebuilt, so a changed MQTT topic does
not reload the model and a retuned camera does not disturb the others.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from posed.config.loader import LoadedConfig
from posed.errors import ConfigError, ConfigIssue, ModelError, ModelOptionError
from posed.mqtt.publisher import connection_settings


def model_issue(loaded: LoadedConfig, exc: ModelError) -> ConfigError:
    """A model that resolved but cannot be loaded, as the config error `check` reports for it."""
    key = "model.name" if loaded.config.model.name is not None else "model.path"
    if isinstance(exc, ModelOptionError):  # an option that does not suit the file: its own line
        key = exc.key
    return ConfigError([ConfigIssue(str(loaded.path), loaded.line_of(key), key, str(exc))])


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    estimators: bool  # model, backend or model_dir: every camera gets a new estimator
    publisher: bool  # what the publisher announces (MQTT settings, device, cameras, model, backend)
    mqtt_restart: bool  # the connection settings changed: a new MQTT client (availability blinks)
    cameras_added: tuple[str, ...]
    cameras_removed: tuple[str, ...]
    cameras_changed: tuple[str, ...]  # reopened; their tracking state is reset
    log_level: bool
    daemon: bool  # timeouts and budgets, applied in place
    preview: bool = False  # the preview page's server, restarted alone
    evidence: bool = False  # snapshots and clips (`snapshots:`), restarted alone
    people: bool = False  # which poses are people: applied in place, the cameras' filters start afresh

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
            or self.evidence
            or self.people
        )

    def describe(self) -> str:
        parts = []
        if self.estimators:
            parts.append("model/backend")
        if self.mqtt_restart:
            parts.append("mqtt connection")
        elif self.publisher:
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
        if self.evidence:
            parts.append("snapshots")
        if self.people:
            parts.append("people")
        return ", ".join(parts) or "nothing"


def plan_reload(old: LoadedConfig, new: LoadedConfig) -> ReloadPlan:
    a, b = old.config, new.config
    estimators = a.model != b.model or old.backend != new.backend or a.model_dir != b.model_dir
    added = tuple(name for name in b.cameras if name not in a.cameras)
    removed = tuple(name for name in a.cameras if name not in b.cameras)
    changed = tuple(
        name
        for name in b.cameras
        if name in a.cameras
        and (a.cameras[name] != b.cameras[name] or _gate_of(old, name) != _gate_of(new, name))
    )
    identity_changed = (
        a.model.name != b.model.name
        or a.model.path != b.model.path
        or a.model.blazepose.model_type != b.model.blazepose.model_type
        or old.backend.type != new.backend.type
    )
    # The event analyzers' topics and HA entities follow `events:` and the zones.
    events_changed = a.events != b.events or {n: c.zones for n, c in a.cameras.items()} != {
        n: c.zones for n, c in b.cameras.items()
    }
    publisher = (
        a.mqtt != b.mqtt
        or configuration_url(old) != configuration_url(new)
        or a.device_id != b.device_id
        or list(a.cameras) != list(b.cameras)
        or identity_changed
        or events_changed
        or a.snapshots != b.snapshots  # the image entities
    )
    return ReloadPlan(
        estimators=estimators,
        publisher=publisher,
        mqtt_restart=connection_settings(a.mqtt, a.device_id) != connection_settings(b.mqtt, b.device_id),
        cameras_added=added,
        cameras_removed=removed,
        cameras_changed=changed,
        log_level=a.log_level != b.log_level,
        daemon=a.daemon != b.daemon,
        preview=a.preview != b.preview,
        evidence=a.snapshots != b.snapshots,
        people=a.people != b.people,
    )


def _gate_of(loaded: LoadedConfig, camera: str) -> tuple[object, ...]:
    """What a camera's motion gate is built from: the shared knobs and its own masks."""
    gate = loaded.config.motion_gate
    return (gate.model_copy(update={"masks": {}}), tuple(gate.masks.get(camera, ())))


def configuration_url(loaded: LoadedConfig) -> str | None:
    """The preview page's URL, for the "Visit" link on the host's device page in Home Assistant.

    None when the page is off, or on port 0 (a free port chosen at start: not known here).
    A host that listens everywhere is named by the machine's name, not the wildcard.
    """
    preview = loaded.config.preview
    if not preview.enabled or preview.port == 0:
        return None
    host = preview.host
    if host in ("0.0.0.0", "::", "[::]"):
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{preview.port}/"
