"""Measures and conditions of exercises and gestures, evaluated on a Body.

Every answer can be None: "not seen" must hold an analyzer's state, never
count as true or false.
"""

from __future__ import annotations

from posed.events.config import Condition, Measure
from posed.events.geometry import Body, per_side


def value(body: Body, measure: Measure, *, toward_low: bool) -> float | None:
    """One number for a rep: `both` is the mean of the sides seen, `either` the side
    furthest toward the far position (`toward_low`: the lower value)."""
    values = [v for v in per_side(body, measure.kind, measure.names).items()]
    if len(values) == 1 and values[0][0] is None:
        return values[0][1]
    by_side = dict(values)
    if measure.side in ("left", "right"):
        return by_side[measure.side]
    seen = [v for v in by_side.values() if v is not None]
    if not seen:
        return None
    if measure.side == "both":
        return sum(seen) / len(seen)
    return min(seen) if toward_low else max(seen)


def holds(body: Body, condition: Condition) -> bool | None:
    """Whether the condition holds, by its side rule; None when the keypoints are not seen."""
    results = [_within(v, condition) for v in per_side(body, condition.kind, condition.names).values()]
    if len(results) == 1:
        return results[0]
    side = condition.side
    if side in ("left", "right"):
        return results[0 if side == "left" else 1]
    if side == "both":
        if False in results:
            return False
        return None if None in results else True
    if side == "either":
        if True in results:
            return True
        return None if None in results else False
    # one: exactly one side, with the other seen and not
    if None in results:
        return None
    return results.count(True) == 1


def all_hold(body: Body, conditions: list[Condition]) -> bool | None:
    """False if any condition is false, None if any is unknown, else True."""
    results = [holds(body, c) for c in conditions]
    if False in results:
        return False
    return None if None in results else True


def _within(measured: float | None, condition: Condition) -> bool | None:
    if measured is None:
        return None
    if condition.above is not None and measured <= condition.above:
        return False
    return not (condition.below is not None and measured >= condition.below)
