"""Shared pieces of the MQTT tests: real video frames, Pose objects, schema checks."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import cv2
import jsonschema
import numpy as np

from posed.keypoints import BLAZEPOSE_33
from posed.mqtt.config import MqttConfig
from posed.mqtt.publisher import Publisher
from posed.mqtt.schemas import instance, load_schema
from posed.mqtt.topics import TopicKind, Topics
from posed.types import Frame, Pose, box_of
from tests.conftest import MEDIA
from tests.mosquitto import Mosquitto, Received

VIDEO = MEDIA / "vtest.avi"


@functools.cache
def decoded_frames(count: int = 30) -> tuple[np.ndarray, ...]:
    """The first `count` frames of vtest.avi as RGB, decoded once per test process."""
    capture = cv2.VideoCapture(str(VIDEO))
    images: list[np.ndarray] = []
    try:
        while len(images) < count:
            ok, bgr = capture.read()
            if not ok:
                break
            images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if len(images) < count:
        raise RuntimeError(f"{VIDEO}: decoded only {len(images)} frames")
    return tuple(images)


def frames(start: int = 0) -> Iterator[Frame]:
    """Endless Frames numbered from `start`, cycling over the decoded images, stamped now."""
    images = decoded_frames()
    number = start
    while True:
        yield Frame(images[number % len(images)], number, time.monotonic(), time.time())
        number += 1


def people_in(number: int) -> int:
    """How many people frame `number` has in these tests: 10 frames of 0, of 1, of 2, repeating."""
    return (number // 10) % 3


def poses_for(frame: Frame, people: int | None = None) -> list[Pose]:
    """Deterministic BlazePose-shaped poses inside the frame (x, y, score, z and world points)."""
    n = people_in(frame.number) if people is None else people
    rng = np.random.default_rng(frame.number)
    out = []
    for i in range(n):
        xy = rng.uniform((0, 0), (frame.width, frame.height), size=(33, 2))
        scores = rng.uniform(0, 1, size=(33, 1))
        keypoints = np.hstack([xy, scores]).astype(np.float32)
        z = rng.normal(0, 50, size=33).astype(np.float32)
        world = rng.normal(0, 0.5, size=(33, 3)).astype(np.float32)
        score = float(rng.uniform(0.5, 1.0)) - i * 0.01
        out.append(
            Pose(score, keypoints, BLAZEPOSE_33, box_of(keypoints, frame.width, frame.height), z, world)
        )
    return out


def config(broker: Mosquitto, **overrides: object) -> MqttConfig:
    """An MqttConfig pointing at the test broker, with quick reconnects."""
    values: dict[str, object] = {
        "host": broker.host,
        "port": broker.port,
        "keepalive": 5,
        "reconnect_min_delay": 0.2,
        "reconnect_max_delay": 1.0,
    }
    values.update(overrides)
    return MqttConfig.model_validate(values)


@functools.cache
def _validator(kind: TopicKind) -> jsonschema.protocols.Validator:
    schema = load_schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(topics: Topics, message: Received) -> TopicKind:
    """Validate one received message against the shipped schema of its topic; returns its kind."""
    kind = topics.kind_of(message.topic)
    if kind is None:
        raise AssertionError(f"not one of posed's topics: {message.topic}")
    value = instance(kind, message.payload)
    _validator(kind).validate(value)
    if kind == "poses":
        assert value["count"] == len(value["poses"]), message.topic
    return kind


def validate_all(topics: Topics, messages: list[Received]) -> dict[TopicKind, int]:
    """Validate every message of posed's (ignores the test's own traffic); counts per kind."""
    seen: dict[TopicKind, int] = {}
    for message in messages:
        if message.topic == topics.ha_status:
            continue
        kind = validate(topics, message)
        seen[kind] = seen.get(kind, 0) + 1
    return seen


def document(message: Received) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(message.payload)
    return value


class Streamer:
    """Feeds a Publisher real frames at a steady rate from a thread, like the inference loop."""

    def __init__(self, publisher: Publisher, camera: str = "front", fps: float = 30.0) -> None:
        self.publisher = publisher
        self.camera = camera
        self.interval = 1.0 / fps
        self.sent = 0  # frames handed to publish_poses
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-streamer", daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        try:
            for frame in frames():
                if self._stop.is_set():
                    return
                self.publisher.publish_poses(
                    self.camera,
                    frame,
                    poses_for(frame),
                    inference_ms=20.0,
                    width=frame.width,
                    height=frame.height,
                )
                self.sent = frame.number + 1
                next_at += self.interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        except BaseException as err:  # reported by stop(), so a failing publish fails the test
            self.error = err

    def __enter__(self) -> Streamer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise AssertionError(f"publish_poses raised: {self.error!r}") from self.error


def wait(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `condition` until true; returns the seconds it took. AssertionError after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - start
