"""The `events:` section and camera `zones`: defaults scripts rely on, strictness, errors with lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from posed.config.loader import load_config
from posed.errors import ConfigError
from posed.events import config as events_config
from posed.events.builtin import EXERCISES, GESTURES
from posed.events.config import EventsConfig, ExerciseConfig, ZoneConfig

BASE = (
    "device_id: dev\n"
    "backend: {type: tflite}\n"
    "model: {name: blazepose-lite}\n"
    "cameras:\n"
    "  front:\n"
    "    type: video\n"
    "    path: clip.mp4\n"
)


def test_falls_and_gestures_are_on_by_default_and_reps_off() -> None:
    config = EventsConfig()
    assert config.falls.enabled and config.gestures.enabled
    assert set(config.gestures.definitions()) == {"hand_raised", "both_hands_up", "t_pose"}
    assert config.reps.definitions() == {}


def test_reps_exercises_squat_turns_on_squat_counting() -> None:
    config = EventsConfig.model_validate({"reps": {"exercises": ["squat"]}})
    assert config.reps.definitions() == {"squat": EXERCISES["squat"]}


def test_every_builtin_exercise_and_gesture_is_valid_data() -> None:
    assert set(EXERCISES) == {"squat", "push_up", "jumping_jack", "bicep_curl", "lunge"}
    assert all(isinstance(e, ExerciseConfig) for e in EXERCISES.values())
    assert set(GESTURES) == {"hand_raised", "both_hands_up", "t_pose", "wave"}


def _models() -> list[type[BaseModel]]:
    return [
        m
        for m in vars(events_config).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == events_config.__name__
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_field_has_a_description_and_numbers_a_range(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        if field.annotation in (int, float, float | None):
            bounds = [m for m in field.metadata if type(m).__name__ in {"Ge", "Gt", "Le", "Lt", "Interval"}]
            assert len(bounds) >= 2, f"{model.__name__}.{name} has no range"


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ({"points": [[0, 0], [1, 0]]}, "at least 3"),
        ({"points": [[0, 0], [1.5, 0], [1, 1]]}, "within 0..1"),
        ({"points": [[0, 0], [1, 0], [1, 1]], "inertia": 0}, "greater than or equal to 1"),
        ({"points": [[0, 0], [1, 0], [1, 1]], "anchor": "head"}, "'feet', 'hips' or 'box_bottom'"),
        ({"points": [[0, 0], [1, 0], [1, 1]], "loiter": 3}, "Extra inputs"),
    ],
)
def test_bad_zones_are_refused(zone: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ZoneConfig.model_validate(zone)


KNEE = {"angle": ["hip", "knee", "ankle"]}


@pytest.mark.parametrize(
    ("exercise", "message"),
    [
        ({"measure": KNEE, "start_above": 100, "far_below": 120}, "hysteresis"),
        ({"measure": KNEE, "start_above": 160, "far_above": 90}, "give start_above"),
        ({"measure": {**KNEE, "height": ["a", "b"]}, "start_above": 160, "far_below": 90}, "exactly one"),
        ({"measure": {**KNEE, "side": "one"}, "start_above": 160, "far_below": 90}, "not one"),
        ({"measure": {"angle": ["hip", "knee", "ankel"]}, "start_above": 160, "far_below": 90}, "'ankel'"),
    ],
)
def test_bad_exercises_are_refused(exercise: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExerciseConfig.model_validate(exercise)


def test_zones_load_under_cameras_and_errors_name_the_line(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE + "    zones:\n      sofa:\n        points: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]]\n")
    loaded = load_config(good)
    assert loaded.config.cameras["front"].zones["sofa"].inertia == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        BASE
        + "    zones:\n      sofa:\n        points: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]]\n"
        + "        inertia: 0\n"
        + "events:\n  gestures:\n    hold_seconds: -1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    text = str(caught.value)
    assert f"{bad}:11: cameras.front.zones.sofa.inertia" in text
    assert f"{bad}:14: events.gestures.hold_seconds" in text


def test_ignore_zones_must_name_a_zone(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(
        BASE
        + "    zones:\n      sofa:\n        points: [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]]\n"
        + "events:\n  falls: {ignore_zones: [bed]}\n"
    )
    with pytest.raises(ConfigError, match="'bed' is no camera's zone; zones: \\['sofa'\\]"):
        load_config(path)


def test_zone_names_are_topic_safe(tmp_path: Path) -> None:
    path = tmp_path / "posed.yaml"
    path.write_text(BASE + "    zones:\n      'living room':\n        points: [[0, 0], [1, 0], [1, 1]]\n")
    with pytest.raises(ConfigError, match=r"cameras\.front\.zones"):
        load_config(path)
