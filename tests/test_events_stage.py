"""The daemon's event stage: frames in, events and state out to the publisher and the preview tap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from posed.events.config import EventsConfig, ZoneConfig
from posed.events.engine import EventState
from posed.events.stage import EventStage
from posed.preview.tap import PreviewTap
from posed.types import Frame
from tests.events_support import figure, standing_on

SQUAT = EventsConfig.model_validate({"reps": {"exercises": ["squat"]}})
MAT = {"mat": ZoneConfig(points=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])}
IMAGE = np.zeros((480, 640, 3), dtype=np.uint8)


class Recorder:
    """The sink side the stage talks to (PublisherSlot in the daemon), recording each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Mapping[str, Any]], EventState]] = []

    def publish_events(self, camera: str, events: Sequence[Mapping[str, Any]], state: EventState) -> None:
        self.calls.append((camera, list(events), state))


def squat_frames(start: int, wall0: float) -> list[Frame]:
    """16 frames at 10 fps from frame number `start`; the wall clock is far from the monotonic one."""
    return [Frame(IMAGE, n, monotonic=n / 10, wall=wall0 + n / 10) for n in range(start, start + 16)]


def poses_for(index: int) -> list[Any]:
    angles = [*np.linspace(0, 95, 8), *np.linspace(95, 0, 8)]
    a = angles[index % len(angles)]
    legs = ((a, -a * 0.4), (a, -a * 0.4))
    return [figure(hips=standing_on(460, 320, 100, legs), legs=legs, width_factor=0.1)]


def run_squats(stage: EventStage, camera: str, reps: int, wall0: float = 1_700_000_000.0) -> None:
    for rep in range(reps):
        for i, frame in enumerate(squat_frames(rep * 16, wall0)):
            stage.observe(camera, frame, poses_for(i))


def test_events_go_to_the_sink_and_the_tap_stamped_with_the_wall_clock() -> None:
    sink, tap = Recorder(), PreviewTap()
    stage = EventStage(sink, tap)
    stage.configure(SQUAT, {"gym": MAT})
    run_squats(stage, "gym", 2)
    events = [e for _, batch, _ in sink.calls for e in batch]
    assert [e["type"] for e in events] == ["zone", "rep", "rep"]
    assert all(e["timestamp"] > 1_700_000_000 for e in events)
    assert sink.calls[-1][2].reps == {"squat": 2} and sink.calls[-1][2].zones == {"mat": 1}
    assert [e["type"] for e in tap.events("gym")] == ["zone", "rep", "rep"]
    assert tap.occupancy("gym") == {"mat": 1}


def test_a_reset_publishes_the_zeroed_state_at_once() -> None:
    sink = Recorder()
    stage = EventStage(sink)
    stage.configure(SQUAT, {"gym": {}})
    run_squats(stage, "gym", 1)
    stage.reset_reps("gym", "squat")
    camera, events, state = sink.calls[-1]
    assert (camera, events, dict(state.reps)) == ("gym", [], {"squat": 0})
    stage.reset_reps("nowhere", "squat")  # a camera removed by a reload: nothing to do
    assert sink.calls[-1][0] == "gym"


def test_a_reload_keeps_unchanged_cameras_and_restarts_changed_ones() -> None:
    sink = Recorder()
    stage = EventStage(sink)
    stage.configure(SQUAT, {"gym": {}, "hall": {}})
    run_squats(stage, "gym", 1)
    run_squats(stage, "hall", 1)
    stage.configure(SQUAT, {"gym": {}, "hall": MAT})
    sink.calls.clear()
    stage.republish()
    assert {camera: dict(state.reps) for camera, _, state in sink.calls} == {
        "gym": {"squat": 1},
        "hall": {"squat": 0},
    }
    stage.configure(SQUAT, {"gym": {}})
    sink.calls.clear()
    run_squats(stage, "hall", 1)  # a camera being removed: its frames are ignored
    assert sink.calls == []
