"""The analyzers on real keypoint sequences: MediaPipe's own landmarks of pose_squats.mp4,
and posed's BlazePose on vtest.avi (people walking past, seen from above)."""

from __future__ import annotations

import subprocess

import pytest

from posed.events.falls import Phase
from tests.conftest import CONFORMANCE, MEDIA, MODELS, POSED
from tests.events_support import Frames, mediapipe_squats, of_type, read_estimate_lines, run

MEDIAPIPE = CONFORMANCE / "mediapipe-0.10.14"
VTEST = MEDIA / "vtest.avi"


@pytest.mark.parametrize("variant", ["lite", "full", "heavy"])
def test_mediapipe_landmarks_of_the_squat_clip_count_two_squats(variant: str) -> None:
    frames, width, height = mediapipe_squats(MEDIAPIPE / f"pose_squats.{variant}.json")
    events, engine = run(frames, width, height, {"reps": {"exercises": ["squat"]}})
    reps = of_type(events, "rep")
    assert [e.fields["count"] for e in reps] == [1, 2]
    # each squat takes about 2.4 s of the 5 fps clip, from leaving the start to coming back
    assert all(1.5 <= float(e.fields["duration"]) <= 3.5 for e in reps)  # type: ignore[arg-type]
    assert of_type(events, "fall") == [] and of_type(events, "gesture") == []
    assert engine.state().reps == {"squat": 2}


def test_squats_dip_the_hips_fast_but_never_confirm_a_fall() -> None:
    frames, width, height = mediapipe_squats(MEDIAPIPE / "pose_squats.full.json")
    _, engine = run(frames, width, height)
    assert engine.falls is not None
    phases = []
    for stamp, poses in frames:
        engine.update(stamp + 100, poses, width, height)
        phases.append(engine.falls.phase_of(0))
    assert Phase.DETECTED not in phases and Phase.DOWN not in phases


@pytest.fixture(scope="module")
def vtest() -> Frames:
    result = subprocess.run(
        [*POSED, "estimate", "--model", "blazepose-lite", "--model-dir", str(MODELS), str(VTEST)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return read_estimate_lines(result.stdout.splitlines())


def test_people_walking_past_give_no_fall_and_no_gesture(vtest: Frames) -> None:
    assert sum(len(poses) for _, poses in vtest) > 200  # the test sees people
    events, engine = run(vtest, 768, 576)
    assert of_type(events, "fall") == [] and of_type(events, "gesture") == []
    assert engine.state().fallen is False


def test_zone_events_of_people_walking_through_are_consistent(vtest: Frames) -> None:
    lower_half = {"points": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]], "anchor": "hips"}
    events, engine = run(vtest, 768, 576, {}, {"lower": lower_half})
    zone_events = of_type(events, "zone")
    assert [str(e.fields["state"]) for e in zone_events].count("enter") >= 1
    inside: dict[int, bool] = {}
    for event in zone_events:  # per person id, enter and leave alternate, starting with enter
        if event.fields["state"] == "loitering":
            continue
        entering = str(event.fields["state"]) == "enter"
        assert inside.get(event.person, False) is not entering, event
        inside[event.person] = entering
    assert engine.state().zones == {"lower": sum(inside.values())}
