"""Whether a zone's points outline a real area: no repeated point, no area of zero, no crossing.

A bow-tie (the corners listed out of order) or three points on one line is accepted by
any point-in-polygon test, which then answers something nobody drew: occupancy comes out
silently wrong. So such zones are config errors. Pure functions of the points (the
zone's validator calls them); segments are tested with exact orientation signs, all
pairs at once with NumPy (a zone has at most MAX_ZONE_POINTS corners).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

MAX_ZONE_POINTS = 100
MIN_AREA = 1e-6  # of the normalized image (1 x 1): a zone smaller than this holds no anchor point

Points = npt.NDArray[np.float64]


def zone_shape_problem(points: Sequence[tuple[float, float]]) -> str | None:
    """What is wrong with the polygon through `points` (in order, closed), or None."""
    p = np.asarray(points, dtype=np.float64)
    n = len(p)
    same = np.all(p[:, None, :] == p[None, :, :], axis=2) & ~np.eye(n, dtype=bool)
    if same.any():
        i, j = (int(k) for k in np.argwhere(same)[0])
        return f"points {i} and {j} are the same point {_pt(p[i])}: each corner once"
    if np.linalg.matrix_rank(p - p.mean(axis=0), tol=1e-9) < 2:
        return "the points lie on one line: the zone has no area"
    if (crossing := _crossing(p)) is not None:
        a, b = crossing
        return (
            f"its outline crosses itself: the edge {_pt(p[a])}-{_pt(p[(a + 1) % n])} meets "
            f"{_pt(p[b])}-{_pt(p[(b + 1) % n])}; list the corners in order around the zone"
        )
    x, y = p[:, 0], p[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    if area < MIN_AREA:
        return f"its area is {area:.1e} of the image: too small to hold anyone"
    return None


def _crossing(p: Points) -> tuple[int, int] | None:
    """The first pair of edges that meet other than at their shared corner, or None."""
    n = len(p)
    start, end = p, np.roll(p, -1, axis=0)  # edge k runs from point k to point k+1
    i, j = np.triu_indices(n, k=1)
    a1, a2, b1, b2 = start[i], end[i], start[j], end[j]
    o1, o2 = _orient(a1, a2, b1), _orient(a1, a2, b2)
    o3, o4 = _orient(b1, b2, a1), _orient(b1, b2, a2)
    proper = (o1 * o2 < 0) & (o3 * o4 < 0)
    touching = (
        ((o1 == 0) & _within(a1, a2, b1))
        | ((o2 == 0) & _within(a1, a2, b2))
        | ((o3 == 0) & _within(b1, b2, a1))
        | ((o4 == 0) & _within(b1, b2, a2))
    )
    adjacent = (j == i + 1) | ((i == 0) & (j == n - 1))
    # Neighbouring edges share a corner, which is no crossing; they meet wrongly only when one
    # doubles back along the other (collinear, pointing apart).
    shared = np.where(j == i + 1, j, i)  # index of the shared corner
    before, corner, after = p[(shared - 1) % n], p[shared], p[(shared + 1) % n]
    back = (_orient(before, corner, after) == 0) & (np.sum((corner - before) * (after - corner), axis=1) < 0)
    bad = np.where(adjacent, back, proper | touching)
    if not bad.any():
        return None
    k = int(np.argmax(bad))
    return int(i[k]), int(j[k])


def _orient(a: Points, b: Points, c: Points) -> npt.NDArray[np.float64]:
    """The sign of the turn a -> b -> c: > 0 left, < 0 right, 0 on one line."""
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return np.sign(np.where(np.abs(cross) < 1e-12, 0.0, cross))


def _within(a: Points, b: Points, c: Points) -> npt.NDArray[np.bool_]:
    """Whether c, on the line through a and b, lies within the segment's box."""
    low, high = np.minimum(a, b), np.maximum(a, b)
    inside: npt.NDArray[np.bool_] = np.all((c >= low) & (c <= high), axis=1)
    return inside


def _pt(point: Points) -> str:
    return f"[{point[0]:g}, {point[1]:g}]"
