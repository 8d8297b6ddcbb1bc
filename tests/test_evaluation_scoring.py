"""Scoring events against labels (posed.evaluation): constructed labels and events, no video."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from posed.cli.estimate_events import FramePoses
from posed.config.loader import load_model
from posed.errors import ConfigError
from posed.evaluation.cache import PoseCache, cache_key
from posed.evaluation.labels import ClipLabels, LabelsFile
from posed.evaluation.runner import clip_events_config, held_frames
from posed.evaluation.scoring import clip_line, score_clip, summarize, summary_line
from posed.events.config import EventsConfig
from posed.events.event import Event
from posed.types import Pose


def fall(at: float, state: str = "detected") -> Event:
    return Event("fall", at, 1, {"state": state, "zone": None})


def gesture(at: float, name: str) -> Event:
    return Event("gesture", at, 1, {"gesture": name})


def rep(at: float, exercise: str = "squat") -> Event:
    return Event("rep", at, 1, {"exercise": exercise})


FALL_CLIP = ClipLabels.model_validate(
    {
        "falls": [[4.0, 7.0]],
        "labels": [
            {"type": "walking", "start": 0.0, "end": 4.0},
            {"type": "fall", "start": 4.0, "end": 5.0},
            {"type": "lying", "start": 5.0, "end": 7.0},
        ],
    }
)


def test_a_fall_detected_within_the_window_plus_the_hold_is_found_with_its_delay() -> None:
    score = score_clip("a.mp4", FALL_CLIP, [fall(8.5), fall(9.0, "cleared")], hold=10.0)
    assert (score.falls_found, score.falls_labelled, score.false_falls) == (1, 1, [])
    # the delay runs from the end of the timeline's `fall` entry (5.0), not the window's end
    assert score.latencies == [pytest.approx(3.5)]


def test_a_detection_after_the_hold_or_before_the_fall_is_false_and_the_fall_missed() -> None:
    score = score_clip("a.mp4", FALL_CLIP, [fall(3.0), fall(17.5)], hold=10.0)
    assert score.falls_found == 0 and score.latencies == [None]
    assert score.false_falls == [3.0, 17.5]


def test_the_hold_widens_the_window() -> None:
    assert score_clip("a.mp4", FALL_CLIP, [fall(9.0)], hold=1.0).false_falls == [9.0]
    assert score_clip("a.mp4", FALL_CLIP, [fall(9.0)], hold=2.0).false_falls == []


def test_a_second_alert_for_one_fall_is_counted_as_repeated_not_false() -> None:
    score = score_clip("a.mp4", FALL_CLIP, [fall(8.0), fall(9.0)], hold=10.0)
    assert (score.falls_found, score.repeated_falls, score.false_falls) == (1, 1, [])


def test_without_a_fall_entry_the_delay_runs_from_the_window_start() -> None:
    labels = ClipLabels.model_validate({"falls": [[2.0, 6.0]]})
    assert score_clip("b.mp4", labels, [fall(5.0)], hold=0.0).latencies == [pytest.approx(3.0)]


def test_optional_falls_are_neither_required_nor_false() -> None:
    labels = ClipLabels.model_validate({"optional_falls": [[18.0, 23.0]]})
    assert score_clip("c.mp4", labels, [fall(20.0)], hold=10.0).false_falls == []
    assert score_clip("c.mp4", labels, [fall(24.0)], hold=10.0).false_falls == [24.0]
    assert score_clip("c.mp4", labels, [], hold=10.0).falls_labelled == 0


def test_reps_of_the_labelled_exercise_are_counted_with_their_error() -> None:
    labels = ClipLabels.model_validate({"exercise": "squat", "reps": 3})
    score = score_clip("d.mp4", labels, [rep(1.0), rep(2.0), rep(3.0, "lunge")], hold=0.0)
    assert (score.reps_counted, score.reps_expected, score.rep_error) == (2, 3, 1)


def test_gesture_windows_are_found_by_any_of_their_names_and_others_are_false() -> None:
    labels = ClipLabels.model_validate(
        {"gestures": [[0.0, 4.0, ["hand_raised"]], [5.0, 12.0, ["both_hands_up", "hand_raised"]]]}
    )
    events = [gesture(1.0, "hand_raised"), gesture(2.0, "both_hands_up"), gesture(13.0, "hand_raised")]
    score = score_clip("e.mp4", labels, events, hold=0.0)
    assert (score.gestures_found, score.gesture_windows) == (1, 2)
    # false: where no gesture was labelled; another name inside a window is reported apart
    assert score.false_gestures == [(13.0, "hand_raised")]
    assert score.other_gestures == [(2.0, "both_hands_up")]
    assert "false gestures 1 (hand_raised at 13.0 s)  other gestures in windows 1" in clip_line(score)


def test_no_gesture_makes_every_gesture_false_and_unlabelled_clips_score_none() -> None:
    events = [gesture(1.0, "t_pose")]
    assert score_clip("f.mp4", ClipLabels(no_gesture=True), events, hold=0.0).false_gestures == [
        (1.0, "t_pose")
    ]
    assert score_clip("f.mp4", ClipLabels(), events, hold=0.0).false_gestures == []


def test_the_summary_adds_clips_up_and_the_lines_say_it() -> None:
    squats = ClipLabels.model_validate({"exercise": "squat", "reps": 2})
    scores = [
        score_clip("a.mp4", FALL_CLIP, [fall(8.0)], hold=10.0),
        score_clip("g.mp4", ClipLabels(), [fall(3.0)], hold=10.0),
        score_clip("d.mp4", squats, [rep(1.0), rep(2.0)], hold=10.0),
    ]
    summary = summarize(scores)
    assert (summary.falls_found, summary.falls_labelled, summary.false_falls) == (1, 1, 1)
    assert (summary.reps_exact, summary.reps_clips, summary.rep_errors) == (1, 1, [0])
    assert "falls 1/1 (+3.0 s)" in clip_line(scores[0])
    assert "false falls 1 (at 3.0 s)" in clip_line(scores[1])
    assert "squat reps 2/2" in clip_line(scores[2])
    assert summary_line(summary).startswith("3 clips: falls 1/1 (after the fall's end: median +3.0 s")


def test_the_labels_format_is_checked_with_the_line_of_the_mistake(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"clips": {"a.mp4": {"falls": [[5.0, 2.0]]}}}, indent=1))
    with pytest.raises(ConfigError, match="start <= end"):
        load_model(path, LabelsFile)
    path.write_text(json.dumps({"clips": {"a.mp4": {"fals": []}}}, indent=1))
    with pytest.raises(ConfigError, match="fals"):
        load_model(path, LabelsFile)
    path.write_text(json.dumps({"clips": {"a.mp4": {"exercise": "squat"}}}))
    with pytest.raises(ConfigError, match="together"):
        load_model(path, LabelsFile)


def test_the_labelled_exercise_is_turned_on_for_its_clip_only() -> None:
    events = EventsConfig()
    turned_on = clip_events_config(events, ClipLabels.model_validate({"exercise": "lunge", "reps": 1}))
    assert turned_on.reps.exercises == ["lunge"]
    assert clip_events_config(events, ClipLabels()).reps.exercises == []


def test_the_last_frame_is_held_at_the_frame_rate_for_the_hold() -> None:
    image = object()
    frames = [(0, 0.0, image), (1, 0.1, image), (2, 0.2, image)]
    held = list(held_frames(frames, 1.0, 10.0))  # type: ignore[arg-type]
    assert len(held) == 3 + 10
    assert held[-1][0] == 12 and held[-1][1] == pytest.approx(1.2)
    assert held[-1][2] is image
    assert len(list(held_frames(frames, 0.0, 10.0))) == 3  # type: ignore[arg-type]


def test_the_pose_cache_key_follows_the_clip_and_the_flags_and_entries_read_back(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"frames")
    flags: dict[str, str | float | bool | None] = {
        "model": "blazepose-full",
        "backend": "tflite",
        "hold": 10.0,
    }
    key = cache_key(clip, flags)
    assert key == cache_key(clip, dict(flags))
    assert key != cache_key(clip, {**flags, "model": "blazepose-lite"})
    assert key != cache_key(clip, {**flags, "hold": 5.0})
    clip.write_bytes(b"other frames")
    assert key != cache_key(clip, flags)
    keypoints = np.array([[1.5, 2.5, 0.9], [3.0, 4.0, 0.2]], dtype=np.float32)
    pose = Pose(0.8, keypoints, ("nose", "left_eye"), (1.0, 2.0, 3.0, 4.0), id=7)
    frames = [FramePoses(0, 0.0, 640, 480, [pose]), FramePoses(1, 0.1, 640, 480, [])]
    cache = PoseCache(tmp_path / "cache")
    assert cache.load(clip, key) is None
    assert list(cache.store(clip, key, iter(frames))) == frames
    loaded = cache.load(clip, key)
    assert loaded is not None and [f.timestamp for f in loaded] == [0.0, 0.1]
    (back,) = loaded[0].poses
    assert back.id == 7 and back.names == pose.names and back.box == pose.box
    assert np.array_equal(back.keypoints, keypoints)


def test_an_interrupted_cache_write_leaves_no_entry(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"frames")
    cache = PoseCache(tmp_path / "cache")

    def frames() -> Iterator[FramePoses]:
        yield FramePoses(0, 0.0, 640, 480, [])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(cache.store(clip, "k", frames()))
    assert cache.load(clip, "k") is None and list((tmp_path / "cache").iterdir()) == []
