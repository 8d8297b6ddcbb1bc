"""Measures and conditions of exercises and gestures, evaluated on a Body.

Every answer can be None: "not seen" must hold an analyzer's state, never
count as true or false. The config models are compiled once into plain
tuples here, because they are evaluated for every person on every frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from posed.events.config import Condition, Measure, SideRule
from posed.events.geometry import SIDES, Body, MeasureKind, Side, is_sided, measure


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled Measure (bounds None) or Condition."""

    kind: MeasureKind
    names: tuple[str, ...]
    side: SideRule
    sides: tuple[Side | None, ...]  # (None,) when the names are not sided
    above: float | None = None
    below: float | None = None


def compile_measure(item: Measure) -> Rule:
    names = item.names
    sides: tuple[Side | None, ...] = SIDES if is_sided(names) else (None,)
    if isinstance(item, Condition):
        return Rule(item.kind, names, item.side, sides, item.above, item.below)
    return Rule(item.kind, names, item.side, sides)


def compile_conditions(items: Sequence[Condition]) -> tuple[Rule, ...]:
    return tuple(compile_measure(item) for item in items)


def value(body: Body, rule: Rule, *, toward_low: bool) -> float | None:
    """One number for a rep: `both` is the mean of the sides seen, `either` the side
    furthest toward the far position (`toward_low`: the lower value)."""
    if rule.sides == (None,):
        return measure(body, rule.kind, rule.names, None)
    if rule.side in ("left", "right"):
        return measure(body, rule.kind, rule.names, rule.side)
    seen = [v for v in (measure(body, rule.kind, rule.names, s) for s in SIDES) if v is not None]
    if not seen:
        return None
    if rule.side == "both":
        return sum(seen) / len(seen)
    return min(seen) if toward_low else max(seen)


def holds(body: Body, rule: Rule) -> bool | None:
    """Whether the condition holds, by its side rule; None when the keypoints are not seen."""
    if rule.sides == (None,):
        return _within(measure(body, rule.kind, rule.names, None), rule)
    side = rule.side
    if side in ("left", "right"):
        return _within(measure(body, rule.kind, rule.names, side), rule)
    results = [_within(measure(body, rule.kind, rule.names, s), rule) for s in SIDES]
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


def all_hold(body: Body, rules: Sequence[Rule]) -> bool | None:
    """False if any condition is false, None if any is unknown, else True."""
    unknown = False
    for rule in rules:
        result = holds(body, rule)
        if result is False:
            return False
        unknown = unknown or result is None
    return None if unknown else True


def _within(measured: float | None, rule: Rule) -> bool | None:
    if measured is None:
        return None
    if rule.above is not None and measured <= rule.above:
        return False
    return not (rule.below is not None and measured >= rule.below)
