"""Events in words, as `posed demo` prints them and the preview page lists them."""

from __future__ import annotations

from typing import Any

import pytest

from posed.events.event import Event
from posed.events.wording import describe

REP = "squat 2 (person 4, 2.1 s)"
SET = "set of 10 pushup done (person 4, 31.0 s)"


@pytest.mark.parametrize(
    ("kind", "fields", "said"),
    [
        ("rep", {"exercise": "squat", "count": 2, "total": 5, "duration": 2.06, "set_reps": 2}, REP),
        ("set", {"exercise": "pushup", "reps": 10, "duration": 31.0}, SET),
        ("fall", {"state": "detected", "zone": "kitchen"}, "fall detected in kitchen (person 4)"),
        ("fall", {"state": "cleared", "zone": None}, "fall cleared (person 4)"),
        ("gesture", {"gesture": "hand_raised"}, "gesture hand_raised (person 4)"),
        ("zone", {"zone": "sofa", "state": "loitering"}, "zone sofa: loitering (person 4)"),
    ],
)  # fmt: skip
def test_each_event_type_in_words(kind: Any, fields: dict[str, Any], said: str) -> None:
    assert describe(Event(kind, 12.5, 4, fields).to_dict()) == said


def test_an_event_of_unknown_shape_keeps_its_fields() -> None:
    """A newer analyzer's event, or a rep without its duration, is said field by field, not dropped."""
    wave = {"type": "wave", "person": 2, "timestamp": 1.0, "hand": "left"}
    assert describe(wave) == "wave hand=left (person 2)"
    rep = {"schema_version": 1, "type": "rep", "person": 2, "timestamp": 1.0, "exercise": "squat", "count": 1}
    assert describe(rep) == "rep exercise=squat count=1 (person 2)"
