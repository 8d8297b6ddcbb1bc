"""An event as a person would say it, e.g. `squat 2 (person 1, 2.1 s)`: one wording for the
lines `posed demo` prints and the list on the preview page; and the one-line tally of a run
(`2 squat reps, no fall`) that `posed demo` and `posed estimate --events` end with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Keys every event has (posed.events.event.Event.to_dict): said by the wording itself, or not at all.
_ENVELOPE = ("schema_version", "type", "person", "timestamp")


def describe(event: Mapping[str, Any]) -> str:
    """`event` (its published JSON form) in words; an event of a shape not known here keeps its fields."""
    kind, person = event.get("type", "event"), event.get("person")
    try:
        if kind == "rep":
            return f"{event['exercise']} {event['count']} (person {person}, {event['duration']:.1f} s)"
        if kind == "set":
            done = f"set of {event['reps']} {event['exercise']} done"
            return f"{done} (person {person}, {event['duration']:.1f} s)"
        if kind == "fall":
            where = f" in {event['zone']}" if event.get("zone") else ""
            return f"fall {event['state']}{where} (person {person})"
        if kind == "gesture":
            return f"gesture {event['gesture']} (person {person})"
        if kind == "zone":
            return f"zone {event['zone']}: {event['state']} (person {person})"
    except (KeyError, TypeError, ValueError):
        pass  # a newer or hand-made event: said field by field below, not dropped
    fields = " ".join(f"{key}={value}" for key, value in event.items() if key not in _ENVELOPE)
    return f"{kind} {fields} (person {person})" if fields else f"{kind} (person {person})"


def tally_key(event: Mapping[str, Any]) -> str:
    """What an event counts as in a run's tally, as a singular noun: `squat rep`, `fall detected`."""
    kind = event.get("type", "event")
    if kind == "rep":
        return f"{event.get('exercise')} rep"
    if kind == "set":
        return f"{event.get('exercise')} set"
    if kind == "fall":
        return f"fall {event.get('state')}"
    if kind == "gesture":
        return f"{event.get('gesture')} gesture"
    return f"{kind} event"


def tally_summary(counts: Mapping[str, int]) -> str:
    """`2 squat reps, 1 hand_raised gesture, no fall`: every kind counted, falls always said."""
    parts = [plural(n, key) for key, n in sorted(counts.items()) if not key.startswith("fall")]
    falls = counts.get("fall detected", 0)
    parts.append(plural(falls, "fall") if falls else "no fall")
    return ", ".join(parts)


def plural(count: int, noun: str) -> str:
    """`1 squat rep`, `2 squat reps`: a count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
