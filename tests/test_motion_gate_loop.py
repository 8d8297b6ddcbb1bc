"""The gate in front of a real estimator: people and a fall in progress keep every frame running,
and a frame the gate skips still comes out, with no poses, in order."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from posed.benchmark.frames import load_frames
from posed.config.schema import ModelConfig
from posed.estimator import open_estimator
from posed.estimator_contract import PoseEstimator
from posed.events.config import EventsConfig
from posed.events.engine import EventEngine
from posed.gate.config import MotionGateConfig
from posed.gate.loop import GatedEstimation
from posed.gate.stage import MotionGate
from posed.plugins import load_backend
from posed.tracking.ids import IdSource
from posed.types import Frame, ImageArray
from tests.conftest import CONFORMANCE, MODELS
from tests.test_events_analyzers import hold, lying, standing, tipping

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
FPS = 10.0

pytestmark = pytest.mark.skipif(not SQUATS.is_file(), reason=f"the conformance clip is missing: {SQUATS}")


@pytest.fixture(scope="module")
def estimator() -> Iterator[PoseEstimator]:
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite", "num_threads": 1})
    model = ModelConfig(name="blazepose-lite")
    with open_estimator(model, backend, config, model_dirs=[MODELS], ids=IdSource()) as opened:
        yield opened


@pytest.fixture(scope="module")
def person() -> ImageArray:
    """One real frame of a person (the squats clip's first), to repeat as a person standing still."""
    return load_frames(SQUATS, max_bytes=1)[0]


def still(image: ImageArray, seconds: float) -> list[Frame]:
    return [Frame(image, n, n / FPS, n / FPS, media_time=n / FPS) for n in range(round(seconds * FPS))]


def test_a_person_standing_still_keeps_every_frame_running(
    estimator: PoseEstimator, person: ImageArray
) -> None:
    estimator.reset()
    gate = MotionGate(MotionGateConfig(hold_seconds=0.0))
    frames = GatedEstimation(estimator, gate, overlap=False)
    done = [item for frame in still(person, 3.0) for item in frames.push(frame)]
    assert len(done) == 30
    assert all(item.poses for item in done), "the person is found in every frame"
    assert not any(item.gated for item in done), "nothing moves, but someone is tracked"


def test_an_empty_still_view_is_skipped_between_keepalives_and_every_frame_still_comes_out(
    estimator: PoseEstimator,
) -> None:
    estimator.reset()
    wall = np.full((360, 640, 3), 128, dtype=np.uint8)
    wall[100:200, 200:400] = (90, 120, 150)  # a picture on the wall
    frames = GatedEstimation(estimator, MotionGate(MotionGateConfig()), overlap=False)
    done = [frames.push(frame) for frame in still(wall, 3.0)]
    assert all(len(items) == 1 for items in done), "each frame comes out at once, in order"
    items = [items[0] for items in done]
    assert [item.frame.number for item in items] == list(range(30))
    assert [item.frame.number for item in items if not item.gated] == [0, 10, 20], (
        "the first, then keep-alives"
    )
    assert all(item.poses == [] and item.estimate_ms == 0.0 for item in items if item.gated)
    assert frames.counters().gated == 27 and frames.counters().looked == 30


def test_a_fall_in_progress_keeps_every_frame_running_even_with_nobody_seen(estimator: PoseEstimator) -> None:
    estimator.reset()
    wall = np.full((360, 640, 3), 100, dtype=np.uint8)
    frames = GatedEstimation(
        estimator, MotionGate(MotionGateConfig()), overlap=False, in_progress=lambda: True
    )
    assert not any(item.gated for frame in still(wall, 2.0) for item in frames.push(frame))


def test_the_analyzers_watch_over_a_fall_from_its_start_before_it_is_confirmed() -> None:
    engine = EventEngine(EventsConfig(), {})
    poses = [*hold(standing(), 2), *tipping(0, -90, 0.5), *hold(lying(), 2.0)]
    watching = []
    for number, pose in enumerate(poses):
        engine.update(number / FPS, [pose], 640, 480)
        watching.append(engine.watching)
    assert not any(watching[:20]), "standing: nobody to watch over"
    assert all(watching[22:]), "falling, then down before the fall is confirmed: watched"
    assert not EventEngine(EventsConfig.model_validate({"falls": {"enabled": False}}), {}).watching
