"""The built-in exercises and gestures, as data in the same form users write their own.

Thresholds were read off BlazePose's keypoints on pose_squats.mp4 (knee ~170-180
standing, ~85-105 at the bottom, ~125 for the unfinished third squat) and on
constructed poses for the others; see docs/events.md for what each one expects to see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posed.events.config import ExerciseConfig, GestureConfig

_EXERCISES: dict[str, dict[str, Any]] = {
    # Knee angle, both legs averaged (the far leg is often hidden in a side view).
    "squat": {"measure": {"angle": ["hip", "knee", "ankle"]}, "start_above": 150, "far_below": 115},
    # Elbow angle, with the torso level so that arm bends while standing do not count.
    "push_up": {
        "measure": {"angle": ["shoulder", "elbow", "wrist"]},
        "start_above": 150,
        "far_below": 100,
        "require": [{"inclination": ["shoulder", "hip"], "side": "either", "above": 60}],
    },
    # Arms from the sides to overhead (angle at the shoulder, the arms seen), a wrist above its
    # shoulder. The legs are not checked: a side view cannot see the feet apart, and a
    # three-quarter view shows them less than a torso length apart.
    "jumping_jack": {
        "measure": {"angle": ["hip", "shoulder", "wrist"]},
        "start_below": 50,
        "far_above": 130,
        "require": [{"height": ["wrist", "shoulder"], "side": "either", "above": 0}],
    },
    # Elbow angle of either arm (curls alternate), closed past 70 degrees, standing straight (both
    # sides of the torso within 15 degrees of vertical: squatting leans it) with
    # the upper arm pointing down: the elbow at least 0.3 torso lengths (about half an upper arm)
    # below the shoulder, so arms held out towards the camera (squats seen from the front), which
    # look short and bent, do not count, while an elbow that drifts forward during the curl does.
    "bicep_curl": {
        "measure": {"angle": ["shoulder", "elbow", "wrist"], "side": "either"},
        "start_above": 150,
        "far_below": 70,
        "require": [
            {"inclination": ["shoulder", "hip"], "side": "both", "below": 15},
            {"height": ["shoulder", "elbow"], "side": "either", "above": 0.3},
        ],
    },
    # The more bent knee, with the feet apart front to back (needs a side view).
    "lunge": {
        "measure": {"angle": ["hip", "knee", "ankle"], "side": "either"},
        "start_above": 150,
        "far_below": 115,
        "require": [{"distance": ["left_ankle", "right_ankle"], "above": 0.8}],
    },
}

# Gestures are made standing or sitting up: "above the head" means nothing for someone lying.
_UPRIGHT = {"inclination": ["shoulder", "hip"], "side": "either", "below": 35}

_GESTURES: dict[str, dict[str, Any]] = {
    # A wrist at head height or higher (above the nose), the other hand not.
    "hand_raised": {"all": [_UPRIGHT, {"height": ["wrist", "nose"], "side": "one", "above": 0.0}]},
    "both_hands_up": {"all": [_UPRIGHT, {"height": ["wrist", "nose"], "side": "both", "above": 0.0}]},
    # A hand raised above the shoulder moving side to side: two swings of 0.3 torso lengths.
    "wave": {
        "all": [_UPRIGHT, {"height": ["wrist", "shoulder"], "side": "either", "above": 0.0}],
        "swing": {"keypoint": "wrist", "distance": 0.3, "swings": 2},
    },
    # Straight arms held level, out to the sides (wrists far apart, not reaching forward).
    "t_pose": {
        "all": [
            _UPRIGHT,
            {"inclination": ["shoulder", "wrist"], "side": "both", "above": 65},
            {"angle": ["shoulder", "elbow", "wrist"], "side": "both", "above": 150},
            {"distance": ["left_wrist", "right_wrist"], "above": 2.0},
        ]
    },
}

EXERCISES: Mapping[str, ExerciseConfig] = {
    name: ExerciseConfig.model_validate(spec) for name, spec in _EXERCISES.items()
}
GESTURES: Mapping[str, GestureConfig] = {
    name: GestureConfig.model_validate(spec) for name, spec in _GESTURES.items()
}
