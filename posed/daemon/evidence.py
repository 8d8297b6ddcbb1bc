"""Snapshots and clips as one of the daemon's parts: the recorder, swapped on reload.

The recorder exists only with `snapshots.enabled`. A reload that changes `snapshots:`
closes the old recorder (it finishes the snapshots waiting) and opens a new one; a
changed privacy reaches the running recorder at once.
"""

from __future__ import annotations

import logging

from posed.config.loader import LoadedConfig
from posed.errors import ConfigError, ConfigIssue
from posed.events.stage import EventStage
from posed.evidence.config import Privacy
from posed.evidence.recorder import EvidenceRecorder, SnapshotSink
from posed.preview.tap import PreviewTap

log = logging.getLogger(__name__)


def camera_privacy(loaded: LoadedConfig) -> dict[str, Privacy]:
    return {name: camera.privacy for name, camera in loaded.config.cameras.items()}


class EvidencePart:
    def __init__(self, sink: SnapshotSink, stage: EventStage, tap: PreviewTap) -> None:
        self._sink = sink
        self._stage = stage
        self._tap = tap
        self.recorder: EvidenceRecorder | None = None

    def start(self, loaded: LoadedConfig) -> None:
        settings = loaded.config.snapshots
        if not settings.enabled:
            return
        recorder = EvidenceRecorder(self._sink, settings, camera_privacy(loaded))
        try:
            recorder.start()
        except OSError as exc:  # preflight checks this; the disk may have changed since
            key = "snapshots.directory"
            reason = exc.strerror or str(exc)
            message = f"cannot use {recorder.store.directory}: {reason}"
            raise ConfigError([ConfigIssue(str(loaded.path), loaded.line_of(key), key, message)]) from exc
        self.recorder = recorder
        self._stage.set_evidence(recorder)
        self._tap.set_evidence(recorder.store)
        log.info(
            "snapshots of %s in %s (%d kept)",
            ", ".join(settings.kinds),
            recorder.store.directory,
            recorder.store.count,
        )

    def apply(self, old: LoadedConfig, new: LoadedConfig) -> None:
        if old.config.snapshots != new.config.snapshots:
            self.close()
            try:
                self.start(new)
            except ConfigError:
                log.error("the new snapshot settings failed; keeping the previous ones")
                self.start(old)
                raise
        elif self.recorder is not None:
            self.recorder.set_cameras(camera_privacy(new))

    def close(self) -> None:
        recorder, self.recorder = self.recorder, None
        self._stage.set_evidence(None)
        self._tap.set_evidence(None)
        if recorder is not None:
            recorder.close()
