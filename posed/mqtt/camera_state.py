"""The per-camera topics: `poses` (a stream), and the retained `count`, `presence` and `status`.

One CameraGate per camera decides what a frame publishes (rate limit, empty
frames, count and presence changes); presence hold times are also checked on
the sender's tick, so presence turns OFF without a frame to tell.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from posed.mqtt import payloads
from posed.mqtt.cleanup import RETAINED_CAMERA_KINDS
from posed.mqtt.config import MqttConfig
from posed.mqtt.connection import Connection
from posed.mqtt.gate import CameraGate
from posed.mqtt.topics import Topics
from posed.types import Frame, Pose


class CameraState:
    """Publishes what each camera sees. Thread-safe: each camera's worker calls in on its own thread."""

    def __init__(
        self,
        config: MqttConfig,
        topics: Topics,
        connection: Connection,
        *,
        cameras: Sequence[str],
        device_id: str,
        model: str,
        backend: str,
    ) -> None:
        self._config = config
        self._topics = topics
        self._connection = connection
        self._device_id = device_id
        self._model = model
        self._backend = backend
        self._gates = {
            camera: CameraGate(
                max_rate_hz=config.max_rate_hz,
                only_when_people=config.only_when_people,
                presence_hold=config.presence_hold,
            )
            for camera in cameras
        }
        self._gate_lock = threading.Lock()
        connection.on_tick(self._expire_presence)

    @property
    def cameras(self) -> list[str]:
        return list(self._gates)

    def retained_topics(self) -> list[str]:
        return [self._topics.camera(c, kind) for c in self._gates for kind in RETAINED_CAMERA_KINDS]

    def check_camera(self, camera: str) -> None:
        if camera not in self._gates:
            raise ValueError(f"unknown camera {camera!r}; the publisher knows {', '.join(self._gates)}")

    def publish_poses(
        self,
        camera: str,
        frame: Frame,
        poses: Sequence[Pose],
        *,
        inference_ms: float,
        width: int,
        height: int,
    ) -> None:
        self.check_camera(camera)
        gate = self._gates[camera]
        with self._gate_lock:
            decision = gate.on_frame(len(poses), time.monotonic())
        topics, connection = self._topics, self._connection
        if decision.count is not None:
            connection.put_state(topics.count(camera), payloads.count(decision.count))
        if decision.presence is not None:
            connection.put_state(topics.presence(camera), payloads.presence(decision.presence))
        if decision.publish:
            document = payloads.poses(
                device_id=self._device_id,
                camera=camera,
                frame_number=frame.number,
                captured_at=frame.wall,
                latency_ms=(time.time() - frame.wall) * 1000.0,
                inference_ms=inference_ms,
                model=self._model,
                backend=self._backend,
                width=width,
                height=height,
                people=poses,
                fmt="compact" if self._config.compact else "full",
            )
            connection.put_stream(topics.poses(camera), payloads.encode(document), self._config.qos)
        connection.wake()

    def publish_status(self, camera: str, status: str) -> None:
        """The camera's state (online, offline, reconnecting), retained."""
        self.check_camera(camera)
        self._connection.put_state(self._topics.status(camera), payloads.camera_status(status))
        self._connection.wake()

    def _expire_presence(self, now: float) -> None:
        with self._gate_lock:
            changes = [(camera, gate.on_tick(now)) for camera, gate in self._gates.items()]
        for camera, present in changes:
            if present is not None:
                self._connection.put_state(self._topics.presence(camera), payloads.presence(present))
