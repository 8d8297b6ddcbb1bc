"""Overlapping inference: PoseNet on OpenVINO decodes one frame while the next is inferred.

Real OpenVINO, the real PoseNet model and real video frames. What must hold: the
poses are those of one-at-a-time estimate(), every frame comes out once and in
order, and a frame is never held back waiting for a later one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from posed.backend import Backend, BackendConfig
from posed.benchmark.frames import load_frames
from posed.cameras import EndOfStream
from posed.config.schema import ModelConfig
from posed.daemon.worker import Worker
from posed.errors import BackendError, ClosedError
from posed.estimator import open_estimator
from posed.estimator_contract import OverlappingEstimator
from posed.overlap import EstimationLoop
from posed.plugins import load_backend
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.options import PoseNetOptions
from posed.types import Frame, ImageArray, Pose
from tests.conftest import MEDIA, MODELS

MODEL = "posenet-mobilenet-075-353x481"
# PoseNet writes a corrected model copy into the cache.
pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def frames() -> list[ImageArray]:
    return load_frames(MEDIA / "vtest.avi", max_bytes=8 * 1024 * 1024)


def open_posenet(name: str, **options: object) -> PoseNetEstimator:
    backend: Backend = load_backend(name)
    config: BackendConfig = backend.config_model.model_validate({"type": name})
    model = ModelConfig(name=MODEL, posenet=PoseNetOptions.model_validate(options))
    estimator = open_estimator(model, backend, config, model_dirs=[MODELS])
    assert isinstance(estimator, PoseNetEstimator)
    return estimator


def same_poses(a: Sequence[Pose], b: Sequence[Pose]) -> bool:
    return len(a) == len(b) and all(
        x.score == y.score and np.array_equal(x.keypoints, y.keypoints) for x, y in zip(a, b, strict=True)
    )


def test_openvino_posenet_overlaps_and_tflite_does_not() -> None:
    with open_posenet("openvino") as ov, open_posenet("tflite") as tfl:
        assert isinstance(ov, OverlappingEstimator) and ov.can_overlap
        assert not tfl.can_overlap
        assert EstimationLoop(ov).overlapping and not EstimationLoop(tfl).overlapping
        assert not EstimationLoop(ov, overlap=False).overlapping
        with pytest.raises(TypeError, match="cannot overlap"):
            tfl.submit(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.parametrize("flip", [False, True])
def test_submit_collect_gives_the_poses_of_estimate(frames: list[ImageArray], flip: bool) -> None:
    images = frames[:6]
    with open_posenet("openvino", flip_horizontal=flip) as estimator:
        expected = [estimator.estimate(image) for image in images]
        assert sum(len(p) for p in expected) > 0, "the test video should show people"
        got: list[list[Pose]] = []
        estimator.submit(images[0])
        for image in images[1:]:
            estimator.submit(image)  # two in flight
            got.append(estimator.collect())
        got.append(estimator.collect())
        assert all(same_poses(e, g) for e, g in zip(expected, got, strict=True))
        with pytest.raises(RuntimeError, match="without a submitted image"):
            estimator.collect()


def test_a_third_frame_in_flight_is_refused(frames: list[ImageArray]) -> None:
    with open_posenet("openvino") as estimator:
        estimator.submit(frames[0])
        estimator.submit(frames[1])
        with pytest.raises(BackendError, match="already started"):
            estimator.submit(frames[2])
        with pytest.raises(BackendError, match="not waited for"):
            estimator.estimate(frames[2])
        estimator.collect()
        estimator.collect()
        with pytest.raises(RuntimeError, match="without a submitted image"):
            estimator.collect()


def test_closing_with_frames_in_flight(frames: list[ImageArray]) -> None:
    estimator = open_posenet("openvino")
    estimator.submit(frames[0])
    estimator.submit(frames[1])
    estimator.close()
    with pytest.raises(ClosedError):
        estimator.submit(frames[2])


def test_the_loop_returns_every_frame_once_in_order(frames: list[ImageArray]) -> None:
    with open_posenet("openvino") as estimator:
        expected = [estimator.estimate(image) for image in frames[:5]]
        loop = EstimationLoop(estimator)
        finished = []
        for number, image in enumerate(frames[:5]):
            done = loop.push(Frame(image, number, time.monotonic(), time.time()))
            # Overlapping: the first push returns nothing, each later one the frame before.
            assert [item.frame.number for item in done] == ([] if number == 0 else [number - 1])
            finished += done
        assert loop.pending == 1
        finished += loop.flush()
        assert loop.pending == 0 and loop.flush() == []
        assert [item.frame.number for item in finished] == list(range(5))
        assert all(same_poses(e, item.poses) for e, item in zip(expected, finished, strict=True))
        assert all(item.estimate_ms > 0 for item in finished)


class ScriptedCamera:
    """A FrameSource handing out frames when the test releases them, then EndOfStream."""

    name = "scripted"

    def __init__(self, images: Sequence[ImageArray]) -> None:
        self._images = list(images)
        self._released = threading.Semaphore(0)
        self.handed_out: list[tuple[int, float]] = []

    def release(self, count: int = 1) -> None:
        for _ in range(count):
            self._released.release()

    def latest(self, timeout: float) -> Frame | None:
        released = self._released.acquire(timeout=timeout) if timeout > 0 else self._released.acquire(False)
        if not released:
            return None
        number = len(self.handed_out)
        if number >= len(self._images):
            raise EndOfStream("done")
        self.handed_out.append((number, time.monotonic()))
        return Frame(self._images[number], number, time.monotonic(), time.time())


class RecordingSink:
    def __init__(self) -> None:
        self.published: list[tuple[int, list[Pose], float]] = []
        self.changed = threading.Event()

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
        assert (width, height) == (frame.width, frame.height)
        self.published.append((frame.number, list(poses), time.monotonic()))
        self.changed.set()


def run_worker(camera: ScriptedCamera, estimator: PoseNetEstimator, sink: RecordingSink) -> Worker:
    worker = Worker(camera, estimator, sink)
    worker.start()
    return worker


def test_worker_publishes_every_waiting_frame_in_order(frames: list[ImageArray]) -> None:
    images = frames[:8]
    with open_posenet("openvino") as reference:
        expected = [reference.estimate(image) for image in images]
    camera, sink = ScriptedCamera(images), RecordingSink()
    camera.release(len(images) + 1)  # every frame is waiting at once, then the end
    estimator = open_posenet("openvino")
    worker = run_worker(camera, estimator, sink)
    assert worker.join(60.0), "the worker did not reach the end of the stream"
    worker.close()
    assert worker.error is None and worker.end_of_stream
    assert [number for number, _, _ in sink.published] == list(range(len(images)))
    assert all(same_poses(e, p) for e, (_, p, _) in zip(expected, sink.published, strict=True))


def test_worker_does_not_hold_a_frame_back_for_the_next(frames: list[ImageArray]) -> None:
    camera, sink = ScriptedCamera(frames[:2]), RecordingSink()
    worker = run_worker(camera, open_posenet("openvino"), sink)
    try:
        camera.release()
        assert sink.changed.wait(30.0), "frame 0 was not published while no other frame came"
        assert [number for number, _, _ in sink.published] == [0]
        assert len(camera.handed_out) == 1
        camera.release(2)
        assert worker.join(30.0)
    finally:
        worker.stop()
        worker.join(10.0)
        worker.close()
    assert [number for number, _, _ in sink.published] == [0, 1]
