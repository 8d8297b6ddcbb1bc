"""Phantoms on real footage: the empty room at the start of sit_chair_then_fall_corner.mp4, where
BlazePose finds a "person" on an empty plastic chair in 40 of 41 frames. Nobody may be reported
there, by `posed estimate` or by the daemon's worker; the person who then walks in must be."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Sequence

import pytest

from posed.cameras import EndOfStream
from posed.cli.estimate import video_frames
from posed.config.schema import ModelConfig
from posed.daemon.worker import Worker
from posed.estimator import open_estimator
from posed.people.config import PeopleConfig
from posed.people.stage import PeopleStage
from posed.plugins import load_backend
from posed.types import Frame, Pose
from tests.conftest import MODELS, POSED, SHARED

CLIP = SHARED / "footage" / "sit_chair_then_fall_corner.mp4"
EMPTY_UNTIL = 4.1  # seconds: the labelled empty room (labels.json)
ENTERED_BY = 5.5  # the person walks in at 4.2 s

pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason=f"the shared footage is absent: {CLIP}")


def test_estimate_reports_nobody_in_the_empty_room_and_the_person_who_walks_in() -> None:
    result = subprocess.run(
        [*POSED, "estimate", "--model-dir", str(MODELS), str(CLIP)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["timestamp"] for line in lines if line["poses"] and line["timestamp"] < EMPTY_UNTIL] == []
    first = min(line["timestamp"] for line in lines if line["poses"])
    assert EMPTY_UNTIL < first <= ENTERED_BY


class ClipCamera:
    """The clip's first seconds as a camera, on the file's own clock."""

    name = "room"

    def __init__(self, seconds: float) -> None:
        self._frames: Iterator[tuple[int, float, object]] = iter(video_frames(CLIP, None))
        self._seconds = seconds

    def latest(self, timeout: float) -> Frame | None:
        for number, stamp, image in self._frames:
            if stamp > self._seconds:
                break
            return Frame(image, number, time.monotonic(), time.time(), media_time=stamp)  # type: ignore[arg-type]
        raise EndOfStream("end of the clip's first seconds")


class Recorder:
    """The pose sink, the event analyzers and the preview, each recording whom they were given."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[float, int]]] = {"poses": [], "events": [], "preview": []}

    def publish_poses(self, camera: str, frame: Frame, poses: Sequence[Pose], **_: object) -> None:
        self.seen["poses"].append((frame.tracking_time, len(poses)))

    def observe(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> None:
        self.seen["preview"].append((frame.tracking_time, len(poses)))


class Analyzers:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def observe(self, camera: str, frame: Frame, poses: Sequence[Pose]) -> None:
        self._recorder.seen["events"].append((frame.tracking_time, len(poses)))


def run_worker(people: PeopleStage | None) -> Recorder:
    backend = load_backend("tflite")
    config = backend.config_model.model_validate({"type": "tflite"})
    estimator = open_estimator(ModelConfig(name="blazepose-full"), backend, config, model_dirs=[MODELS])
    recorder = Recorder()
    worker = Worker(
        ClipCamera(ENTERED_BY + 0.5), estimator, recorder, recorder, events=Analyzers(recorder), people=people
    )
    worker.start()
    assert worker.join(300.0), "the worker did not reach the end of the clip"
    worker.close()
    assert worker.error is None and worker.end_of_stream
    return recorder


def test_the_daemon_worker_hands_nobody_on_from_the_empty_room() -> None:
    unfiltered = run_worker(None).seen["poses"]
    # the phantom is there without the people stage: this test can fail
    assert sum(1 for stamp, count in unfiltered if stamp < EMPTY_UNTIL and count) >= 30
    stage = PeopleStage()
    stage.configure(PeopleConfig(), ["room"])
    seen = run_worker(stage).seen
    assert seen["poses"] == seen["events"] == seen["preview"]
    assert [stamp for stamp, count in seen["poses"] if stamp < EMPTY_UNTIL and count] == []
    assert any(count for stamp, count in seen["poses"] if stamp >= EMPTY_UNTIL)
