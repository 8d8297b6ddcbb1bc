"""Whether a body is lying, from cues a fall leaves in 2-D even when the camera foreshortens it.

1. The torso far from vertical (`lying_angle`) and the body wider than tall
   (`lying_aspect`): a body seen from the side or above; not with the head more than
   `raised_head` upright heights above the floor level the feet stood on (lying on a bed
   or a sofa, where the camera sees it higher than the floor).
2. Low at the floor (for a fall towards or away from the camera, where the 2-D torso
   angle stays small): compared with the same person seen upright just before, the body
   is at most `low_height` of its upright height tall, the head is at most `head_floor`
   upright heights above the floor level the feet stood on, and the box is at least
   `low_aspect` times as wide as tall. Sitting on a chair (about 0.7 of the height, head
   high), squatting and sitting upright on the floor (head about 0.45-0.55 heights up)
   fail it.

Once down after a fall, a person stays down while they are low (`is_low`): sitting up on
the floor is not getting up. Upright needs the torso near vertical and the body not low.
"""

from __future__ import annotations

from dataclasses import dataclass

from posed.events.falls_config import FallsConfig
from posed.events.geometry import Body


@dataclass(frozen=True, slots=True)
class Upright:
    """A person seen upright: how tall (pixels, the visible keypoints' box), and the floor
    level under the feet (pixels, the lowest keypoint), at `timestamp`."""

    timestamp: float
    height: float
    floor: float


def upright_reference(body: Body, now: float) -> Upright | None:
    """The body's upright height and floor level, when its feet and head are seen."""
    bounds = body.bounds()
    feet = body.point("left_ankle") or body.point("right_ankle")
    if bounds is None or feet is None or body.point("head") is None or bounds[3] <= bounds[1]:
        return None
    return Upright(now, bounds[3] - bounds[1], bounds[3])


def is_lying(body: Body, config: FallsConfig, reference: Upright | None) -> bool:
    return lying_by_angle(body, config, reference) or low_at_floor(body, config, reference)


def lying_by_angle(body: Body, config: FallsConfig, reference: Upright | None = None) -> bool:
    angle, extent = body.torso_angle(), body.extent()
    if angle is None or extent is None:
        return False
    if angle < config.lying_angle or extent[0] < config.lying_aspect * extent[1]:
        return False
    return reference is None or not _raised(body, config, reference)


def _raised(body: Body, config: FallsConfig, reference: Upright) -> bool:
    """The head well above the floor the feet stood on: lying on a bed or a sofa."""
    head = body.point("head") or body.midpoint("shoulder")
    return head is not None and reference.floor - head[1] > config.raised_head * reference.height


def is_low(body: Body, config: FallsConfig, reference: Upright | None) -> bool:
    """At most `low_height` of the upright height tall: not standing, whatever the torso angle.
    After a fall, a person this low has not got up (lying, or sitting up on the floor)."""
    extent = body.extent()
    if reference is None or extent is None:
        return False
    return extent[1] <= config.low_height * reference.height


def low_at_floor(body: Body, config: FallsConfig, reference: Upright | None) -> bool:
    if reference is None:
        return False
    extent = body.extent()
    head = body.point("head") or body.midpoint("shoulder")
    if extent is None or head is None:
        return False
    width, height = extent
    return (
        is_low(body, config, reference)
        and reference.floor - head[1] <= config.head_floor * reference.height
        and width >= config.low_aspect * height
    )
