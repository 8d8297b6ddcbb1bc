"""Multi-person PoseNet decoding that reproduces Coral's C++ decoder.

The steps, in grid units (Coral's "block space"):
1. Candidate roots are heatmap logits that are the maximum of their 3x3 window
   and at least logit(score_threshold). A root's position is its cell plus its
   short offset, clamped to the grid. Roots are taken in the order Coral's
   `std::priority_queue` pops them; ties in the quantized logits are common,
   so the queue is replayed with `heapq`, which sifts exactly like libstdc++.
2. A root is rejected when it lies within `nms_radius` of the same keypoint of
   a pose already accepted (squared distances, `<=`).
3. A pose is decoded from its root along the 16-edge tree: each child is the
   parent plus the bilinearly sampled mid offset, then refined 5 times by
   bilinearly sampled short offsets, clamped to the grid after every step.
   Because the graph is a tree, each keypoint has exactly one parent on the
   way to the root, so Coral's score-ordered traversal gives the same result
   as a breadth-first one; that is what lets several roots be decoded
   together, one tree level at a time, with vectorised sampling.
4. Keypoint scores are sigmoids of the logits sampled bilinearly at the final
   positions; a pose scores their mean and is kept when that reaches the
   threshold, until `max_poses` poses are kept.
5. Soft NMS: in score order, a keypoint within `nms_radius` of the same
   keypoint of a higher-scoring pose no longer counts; the sum is still divided
   by 17. Poses below the threshold are dropped.
Roots blocked by an accepted pose are dropped before any decoding, and the
next roots are decoded in batches, so the cost is a fixed number of NumPy
calls per batch rather than Python work per keypoint.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from posed.posenet.layout import NUM_EDGES, NUM_KEYPOINTS
from posed.posenet.maps import PoseNetMaps

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.intp]

# tfjs's poseChain order, shared by Coral: (parent, child) of each forward edge.
EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 3), (0, 2), (2, 4), (0, 5), (5, 7), (7, 9), (5, 11),
    (11, 13), (13, 15), (0, 6), (6, 8), (8, 10), (6, 12), (12, 14), (14, 16),
)  # fmt: skip
REFINE_STEPS = 5
BATCH = 64  # roots decoded together; a batch costs about the same for 1 or 64 roots


@dataclass(frozen=True, slots=True)
class DecodedPoses:
    """Poses in model-input pixels: keypoints (P, 17, 3) as x, y, score; scores (P,)."""

    keypoints: FloatArray
    scores: FloatArray

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass(frozen=True, slots=True)
class _Plan:
    """For each root keypoint, its 16 tree edges in breadth-first order."""

    parent: IntArray  # (17, 16)
    child: IntArray
    channel: IntArray  # complex mid-offset channel: e forward, 16 + e backward
    level: IntArray  # depth of the child below the root


def _build_plan() -> _Plan:
    neighbours: list[list[tuple[int, int]]] = [[] for _ in range(NUM_KEYPOINTS)]
    for edge, (parent, child) in enumerate(EDGES):
        neighbours[parent].append((child, edge))
        neighbours[child].append((parent, NUM_EDGES + edge))
    rows: list[list[tuple[int, int, int, int]]] = []
    for root in range(NUM_KEYPOINTS):
        depth = {root: 0}
        frontier = [root]
        row: list[tuple[int, int, int, int]] = []
        while frontier:
            following: list[int] = []
            for node in frontier:
                for child, channel in neighbours[node]:
                    if child not in depth:
                        depth[child] = depth[node] + 1
                        row.append((node, child, channel, depth[child]))
                        following.append(child)
            frontier = following
        rows.append(row)
    table = np.array(rows, dtype=np.intp)  # (17, 16, 4)
    return _Plan(table[..., 0], table[..., 1], table[..., 2], table[..., 3])


_PLAN = _build_plan()
_KEYPOINT_IDS = np.arange(NUM_KEYPOINTS, dtype=np.float32)


class _Key(float):
    """A queue entry that compares by its value only, as Coral's comparator does."""

    __slots__ = ("candidate",)
    candidate: int


def _pop_order(scores: FloatArray) -> list[int]:
    """Candidate indices in the order Coral's max-heap pops them (pushed in raster order)."""
    heap: list[_Key] = []
    for index, score in enumerate(scores.tolist()):
        key = _Key(-score)
        key.candidate = index
        heapq.heappush(heap, key)
    return [heapq.heappop(heap).candidate for _ in range(len(heap))]


def logit(probability: float) -> float:
    """Coral's Logodds of a float32 threshold, computed in double and stored as float32."""
    p = float(np.float32(probability))
    return float(np.float32(-math.log(1.0 / (p + 1e-6) - 1.0)))


def find_roots(maps: PoseNetMaps, score_threshold: float) -> tuple[IntArray, npt.NDArray[np.complex64]]:
    """Candidate roots in pop order: their keypoint ids and positions (y + i x, grid units)."""
    scores = maps.scores.inner
    local_max = cv2.dilate(scores, np.ones((3, 3), np.uint8))
    mask = (scores >= np.float32(logit(score_threshold))) & (scores >= local_max)
    ys, xs, ks = np.nonzero(mask)  # C order: Coral's push order
    if ys.size == 0:
        return ks, np.empty(0, np.complex64)
    order = np.asarray(_pop_order(scores[ys, xs, ks]), dtype=np.intp)
    ys, xs, ks = ys[order], xs[order], ks[order]
    offsets = maps.short.data[ys, xs, ks]
    roots = np.empty(ys.size, np.complex64)
    roots.real = np.clip(ys.astype(np.float32) + offsets.real, 0.0, maps.height - 1.0)
    roots.imag = np.clip(xs.astype(np.float32) + offsets.imag, 0.0, maps.width - 1.0)
    return ks, roots


def decode_trees(
    maps: PoseNetMaps, kinds: IntArray, roots: npt.NDArray[np.complex64]
) -> tuple[npt.NDArray[np.complex64], FloatArray]:
    """Decode one pose per root at once: positions (B, 17) and keypoint scores (B, 17)."""
    count = kinds.size
    positions = np.zeros((count, NUM_KEYPOINTS), np.complex64)
    positions[np.arange(count), kinds] = roots
    levels = _PLAN.level[kinds].ravel()
    order = np.argsort(levels, kind="stable")
    base = (order // NUM_EDGES) * NUM_KEYPOINTS  # flat index of each pose's keypoint 0
    child = _PLAN.child[kinds].ravel()[order]
    parent_at = base + _PLAN.parent[kinds].ravel()[order]
    child_at = base + child
    child_channel = child.astype(np.float32)
    mid_channel = _PLAN.channel[kinds].ravel()[order].astype(np.float32)
    bounds = np.searchsorted(levels[order], np.arange(1, int(levels.max()) + 2)).tolist()
    limits = np.array([maps.height - 1, maps.width - 1], np.float32)
    flat = positions.reshape(-1)
    for start, stop in itertools.pairwise(bounds):
        kid = child_channel[start:stop]
        point = flat.take(parent_at[start:stop])
        point += maps.mid.sample(point, mid_channel[start:stop])
        _clamp(point, limits)
        for _ in range(REFINE_STEPS):
            point += maps.short.sample(point, kid)
            _clamp(point, limits)
        flat.put(child_at[start:stop], point)
    logits = maps.scores.sample(flat, np.tile(_KEYPOINT_IDS, count))
    keypoint_scores = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    return positions, keypoint_scores.reshape(count, NUM_KEYPOINTS)


def _clamp(points: npt.NDArray[np.complex64], limits: FloatArray) -> None:
    yx = points.view(np.float32).reshape(points.shape[0], 2)
    np.maximum(yx, 0.0, out=yx)
    np.minimum(yx, limits, out=yx)


def decode_multiple(
    maps: PoseNetMaps, *, max_poses: int, score_threshold: float, nms_radius: float
) -> DecodedPoses:
    """Coral's DecodeAllPoses; `nms_radius` in model-input pixels."""
    kinds, roots = find_roots(maps, score_threshold)
    radius = np.float32(nms_radius) / np.float32(maps.stride)
    squared = float(radius * radius)
    blocked = np.zeros(kinds.size, bool)
    kept_positions: list[npt.NDArray[np.complex64]] = []
    kept_scores: list[FloatArray] = []
    kept_pose_scores: list[float] = []
    cursor = 0
    while len(kept_pose_scores) < max_poses and cursor < kinds.size:
        ahead = np.flatnonzero(~blocked[cursor:])[:BATCH] + cursor
        if ahead.size == 0:
            break
        positions, keypoint_scores = decode_trees(maps, kinds[ahead], roots[ahead])
        pose_scores = keypoint_scores.sum(axis=1) / np.float32(NUM_KEYPOINTS)
        cursor = int(ahead[-1]) + 1
        for slot, candidate in enumerate(ahead.tolist()):
            if blocked[candidate] or pose_scores[slot] < score_threshold:
                continue
            kept_positions.append(positions[slot])
            kept_scores.append(keypoint_scores[slot])
            kept_pose_scores.append(float(pose_scores[slot]))
            # Later roots near this pose's keypoint of their own kind are rejected.
            blocked |= _squared_distance(roots, positions[slot][kinds]) <= squared
            if len(kept_pose_scores) == max_poses:
                break
    return _soft_nms(
        kept_positions,
        kept_scores,
        kept_pose_scores,
        squared_radius=squared,
        score_threshold=score_threshold,
        stride=maps.stride,
    )


def _squared_distance(a: npt.NDArray[np.complex64], b: npt.NDArray[np.complex64]) -> FloatArray:
    difference = a - b
    result: FloatArray = difference.real * difference.real + difference.imag * difference.imag
    return result


def _soft_nms(
    positions: list[npt.NDArray[np.complex64]],
    keypoint_scores: list[FloatArray],
    pose_scores: list[float],
    *,
    squared_radius: float,
    score_threshold: float,
    stride: int,
) -> DecodedPoses:
    if not pose_scores:
        return DecodedPoses(np.empty((0, NUM_KEYPOINTS, 3), np.float32), np.empty(0, np.float32))
    order = np.argsort(-np.asarray(pose_scores, np.float32), kind="stable")
    points = np.stack(positions)[order]
    scores = np.stack(keypoint_scores)[order]
    count = order.size
    close = _squared_distance(points[:, None, :], points[None, :, :]) <= squared_radius
    higher = np.tri(count, k=-1, dtype=bool)  # [i, j]: pose j scores above pose i
    occluded = (close & higher[:, :, None]).any(axis=1)
    final = np.where(occluded, np.float32(0), scores).sum(axis=1) / np.float32(NUM_KEYPOINTS)
    rank = np.argsort(-final, kind="stable")
    rank = rank[final[rank] >= score_threshold]
    keypoints = np.empty((rank.size, NUM_KEYPOINTS, 3), np.float32)
    keypoints[..., 0] = points[rank].imag * np.float32(stride)
    keypoints[..., 1] = points[rank].real * np.float32(stride)
    keypoints[..., 2] = scores[rank]
    return DecodedPoses(keypoints, final[rank].astype(np.float32))
