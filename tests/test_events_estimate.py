"""`posed estimate --events` end to end: real video decoding, real models, both backends.

The fall clip is made from a real frame by tests.events_support.write_fall_clip: the
standing person of pose_squats.mp4 rotated by OpenCV about the ankles, 90 degrees
over in 0.5 s, left lying for 6 s, brought back up.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CONFORMANCE, MEDIA, MODELS, POSED
from tests.events_support import write_fall_clip

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
SQUAT_COUNTING = "events:\n  reps: {exercises: [squat]}\n"


def estimate_events(
    source: Path, *extra: str, model: str = "blazepose-full", backend: str = "tflite"
) -> list[dict[str, Any]]:
    return run_estimate_events(source, *extra, model=model, backend=backend)[0]


def run_estimate_events(
    source: Path, *extra: str, model: str = "blazepose-full", backend: str = "tflite"
) -> tuple[list[dict[str, Any]], str]:
    """The events `posed estimate --events` prints on stdout, and its stderr."""
    command = [*POSED, "estimate", "--events", "--model", model, "--backend", backend]
    result = subprocess.run(
        [*command, "--model-dir", str(MODELS), *extra, str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


@pytest.fixture(scope="module")
def squat_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "events.yaml"
    path.write_text(SQUAT_COUNTING)
    return path


@pytest.mark.parametrize("backend", ["tflite", "openvino"])
@pytest.mark.parametrize("variant", ["lite", "full", "heavy"])
def test_the_squat_clip_gives_exactly_two_squats_and_no_fall(
    squat_config: Path, variant: str, backend: str
) -> None:
    events = estimate_events(
        SQUATS, "--events-config", str(squat_config), model=f"blazepose-{variant}", backend=backend
    )
    reps = [e for e in events if e["type"] == "rep"]
    assert [(e["exercise"], e["count"]) for e in reps] == [("squat", 1), ("squat", 2)]
    assert [e for e in events if e["type"] == "fall"] == []
    # the timestamp is the frame's media time: the clip is 5 fps
    assert all(e["timestamp"] == pytest.approx(e["frame"] / 5.0, abs=1e-3) for e in events)


@pytest.mark.parametrize("backend", ["tflite", "openvino"])
@pytest.mark.parametrize(
    "model", ["movenet-singlepose-lightning", "movenet-singlepose-thunder", "movenet-multipose-lightning"]
)
def test_movenet_bodies_count_the_same_two_squats(squat_config: Path, model: str, backend: str) -> None:
    """MoveNet gives COCO's 17 keypoints, as PoseNet does; the analyzers take them as they are."""
    events = estimate_events(SQUATS, "--events-config", str(squat_config), model=model, backend=backend)
    assert [(e["type"], e["count"]) for e in events] == [("rep", 1), ("rep", 2)]


def test_a_folder_of_images_gives_the_events_of_the_video(squat_config: Path, tmp_path: Path) -> None:
    import cv2

    capture = cv2.VideoCapture(str(SQUATS))
    number = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        cv2.imwrite(str(tmp_path / f"{number:03d}.png"), frame)
        number += 1
    capture.release()
    from_images = estimate_events(tmp_path, "--events-config", str(squat_config), "--fps", "5")
    from_video = estimate_events(SQUATS, "--events-config", str(squat_config))
    assert [(e["type"], e["count"], e["frame"]) for e in from_images] == [
        (e["type"], e["count"], e["frame"]) for e in from_video
    ]


def test_the_run_ends_with_a_one_line_tally_on_stderr(squat_config: Path) -> None:
    """Guards: stdout stays pure JSON Lines, and stderr's last line says what was found."""
    events, err = run_estimate_events(SQUATS, "--events-config", str(squat_config))
    assert len(events) == 2
    assert (
        err.strip().splitlines()[-1] == "posed estimate --events: 65 frames, 2 events: 2 squat reps, no fall"
    )


def test_a_file_without_events_does_not_end_in_silence(tmp_path: Path) -> None:
    """Guards: with nothing found, stderr still says how many frames were looked at."""
    import cv2
    import numpy as np

    for number in range(3):
        cv2.imwrite(str(tmp_path / f"{number}.png"), np.zeros((64, 64, 3), np.uint8))
    events, err = run_estimate_events(tmp_path)
    assert events == []
    assert err.strip().splitlines()[-1] == "posed estimate --events: 3 frames, no events"


def test_people_walking_past_in_vtest_give_no_fall() -> None:
    events = estimate_events(MEDIA / "vtest.avi")
    assert [e for e in events if e["type"] == "fall"] == []


def test_a_person_who_ends_up_lying_gives_one_fall_then_cleared(tmp_path: Path) -> None:
    clip = tmp_path / "fall.mp4"
    phases = dict(write_fall_clip(SQUATS, clip))
    events = estimate_events(clip)
    falls = [e for e in events if e["type"] == "fall"]
    assert [(e["state"], e.get("reason")) for e in falls] == [("detected", None), ("cleared", "upright")]
    detected, cleared = falls
    # confirmed after lying confirm_seconds (3 s), cleared clear_seconds (2 s) after getting up
    assert phases["lying"] + 2.5 <= detected["timestamp"] <= phases["lying"] + 3.5
    assert phases["rising"] + 2.0 <= cleared["timestamp"] <= phases["upright"] + 3.0
    # One person, tracked throughout: both events carry the same tracker id.
    assert len({e["person"] for e in falls}) == 1 and isinstance(falls[0]["person"], int)
    assert [e for e in events if e["type"] == "gesture"] == []


def test_an_events_config_error_names_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "events.yaml"
    config.write_text("events:\n  reps:\n    exercises: [squat, pushup]\n")
    result = subprocess.run(
        [*POSED, "estimate", "--events", "--events-config", str(config), str(SQUATS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 78
    assert f"{config}:3: events.reps.exercises: unknown exercise 'pushup'" in result.stderr
    assert "push_up" in result.stderr  # says what would be valid
