"""The per-camera topics: `poses` (a stream), and the retained `count`, `presence`, `status`
and `availability`.

One CameraGate per camera decides what a frame publishes (rate limit, empty
frames, count and presence changes); presence hold times are also checked on
the sender's tick, so presence turns OFF without a frame to tell.

A camera's `availability` is `online` only while it delivers frames: it turns
`offline` when its status leaves `online` (reconnecting, offline), and back
`online` with the first frame after that, right after that frame's fresh count
and presence (the Outbox sends availability after state).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from posed.cameras.status import CameraStatus
from posed.mqtt import payloads
from posed.mqtt.cleanup import RETAINED_CAMERA_KINDS
from posed.mqtt.config import MqttConfig
from posed.mqtt.connection import RANK_CAMERA_AVAILABILITY, Connection
from posed.mqtt.gate import CameraGate
from posed.mqtt.topics import Topics
from posed.types import Frame, Pose


class _Camera:
    """What the publisher knows about one camera."""

    def __init__(self, gate: CameraGate) -> None:
        self.gate = gate
        self.status: CameraStatus | None = None  # None: never told; frames then count as delivery
        self.available = False


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
        previous: CameraState | None = None,
    ) -> None:
        """`previous`: the CameraState this one replaces on the same connection (a reload);
        cameras it knew keep their state, availability included, so nothing blinks."""
        self._config = config
        self._topics = topics
        self._connection = connection
        self._device_id = device_id
        self._model = model
        self._backend = backend
        self._lock = threading.Lock()
        self._cameras: dict[str, _Camera] = {}
        for name in cameras:
            kept = previous._cameras.get(name) if previous is not None else None
            if kept is not None:
                if self._gate_settings(previous) != self._gate_settings(self):
                    kept.gate = self._new_gate()
                self._cameras[name] = kept
            else:
                self._cameras[name] = _Camera(self._new_gate())
                connection.put_state(
                    topics.camera_availability(name), payloads.availability(False), RANK_CAMERA_AVAILABILITY
                )
        connection.on_tick(self._expire_presence)

    @staticmethod
    def _gate_settings(state: CameraState | None) -> tuple[object, ...]:
        if state is None:
            return ()
        cfg = state._config
        return (cfg.max_rate_hz, cfg.only_when_people, cfg.presence_hold)

    def _new_gate(self) -> CameraGate:
        cfg = self._config
        return CameraGate(
            max_rate_hz=cfg.max_rate_hz,
            only_when_people=cfg.only_when_people,
            presence_hold=cfg.presence_hold,
        )

    @property
    def cameras(self) -> list[str]:
        return list(self._cameras)

    def retained_topics(self) -> list[str]:
        return [self._topics.camera(c, kind) for c in self._cameras for kind in RETAINED_CAMERA_KINDS]

    def _camera(self, camera: str) -> _Camera:
        state = self._cameras.get(camera)
        if state is None:
            raise ValueError(f"unknown camera {camera!r}; the publisher knows {', '.join(self._cameras)}")
        return state

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
        state = self._camera(camera)
        topics, connection = self._topics, self._connection
        with self._lock:
            decision = state.gate.on_frame(len(poses), time.monotonic())
            count, present = decision.count, decision.presence
            comes_back = not state.available and state.status in (None, CameraStatus.ONLINE)
            if comes_back:
                # Fresh states with the availability, even if unchanged since the camera went away.
                count, present = state.gate.count, state.gate.present
                state.available = True
        if count is not None:
            connection.put_state(topics.count(camera), payloads.count(count))
        if present is not None:
            connection.put_state(topics.presence(camera), payloads.presence(present))
        if comes_back:
            connection.put_state(
                topics.camera_availability(camera), payloads.availability(True), RANK_CAMERA_AVAILABILITY
            )
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

    def publish_status(self, camera: str, status: CameraStatus) -> None:
        """The camera's state (online, offline, reconnecting), retained; anything but `online`
        makes the camera unavailable until its next frame."""
        payload = payloads.camera_status(status)
        state = self._camera(camera)
        with self._lock:
            state.status = status
            goes_away = status != CameraStatus.ONLINE and state.available
            if goes_away:
                state.available = False
                state.gate = self._new_gate()  # what it saw before means nothing now
        self._connection.put_state(self._topics.status(camera), payload)
        if goes_away:
            self._connection.put_state(
                self._topics.camera_availability(camera),
                payloads.availability(False),
                RANK_CAMERA_AVAILABILITY,
            )
        self._connection.wake()

    def all_unavailable(self) -> None:
        """Before a clean stop: no camera claims to deliver frames once posed is gone."""
        with self._lock:
            for state in self._cameras.values():
                state.available = False
        for camera in self._cameras:
            self._connection.put_state(
                self._topics.camera_availability(camera),
                payloads.availability(False),
                RANK_CAMERA_AVAILABILITY,
            )
        self._connection.wake()

    def _expire_presence(self, now: float) -> None:
        with self._lock:
            changes = [(camera, state.gate.on_tick(now)) for camera, state in self._cameras.items()]
        for camera, present in changes:
            if present is not None:
                self._connection.put_state(self._topics.presence(camera), payloads.presence(present))
