"""Pairwise similarity of this frame's poses to the remembered tracks, as (poses, tracks) matrices.

The same measures as tfjs pose-detection's KeypointTracker (OKS-like) and
BoundingBoxTracker (IoU), written as whole-matrix NumPy operations instead of
a loop per pair.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
AREA_EPSILON = 1e-6  # tfjs's: a track whose keypoints collapse to a point still divides safely


def keypoint_similarity(
    poses: Array,
    tracks: Array,
    falloff: Array,
    *,
    confidence_threshold: float,
    min_keypoints: int,
) -> Array:
    """OKS of each pose against each track; (P, K, 3) and (T, K, 3) as normalised x, y, score.

    For a pair, only keypoints confident in both count; the similarity is the mean of
    exp(-d^2 / (2 * area * (2 * falloff)^2)) over them, where `area` is the track's
    box around its confident keypoints, and 0 with fewer than `min_keypoints` of them.
    """
    if poses.shape[0] == 0 or tracks.shape[0] == 0:
        return np.zeros((poses.shape[0], tracks.shape[0]))
    area = _keypoint_area(tracks, confidence_threshold) + AREA_EPSILON  # (T,)
    valid = (poses[:, None, :, 2] >= confidence_threshold) & (tracks[None, :, :, 2] >= confidence_threshold)
    delta = poses[:, None, :, :2] - tracks[None, :, :, :2]  # (P, T, K, 2)
    squared = np.einsum("ptkc,ptkc->ptk", delta, delta)
    spread = 2.0 * area[None, :, None] * (2.0 * falloff[None, None, :]) ** 2
    similarity = np.exp(-squared / spread)
    counted = valid.sum(axis=2)
    total = np.where(valid, similarity, 0.0).sum(axis=2)
    mean = total / np.maximum(counted, 1)
    return np.where(counted >= min_keypoints, mean, 0.0)


def _keypoint_area(tracks: Array, threshold: float) -> Array:
    """Area of the box around each track's keypoints scoring above `threshold`.

    As in tfjs, the box's low ends start at 1 and its high ends at 0 (the image's
    normalised extent), so a track with no confident keypoint has area 1; such a
    track is never compared anyway.
    """
    confident = tracks[:, :, 2] > threshold
    xs, ys = tracks[:, :, 0], tracks[:, :, 1]
    x0 = np.minimum(np.where(confident, xs, np.inf).min(axis=1), 1.0)
    x1 = np.maximum(np.where(confident, xs, -np.inf).max(axis=1), 0.0)
    y0 = np.minimum(np.where(confident, ys, np.inf).min(axis=1), 1.0)
    y1 = np.maximum(np.where(confident, ys, -np.inf).max(axis=1), 0.0)
    area: Array = (x1 - x0) * (y1 - y0)
    return area


def box_similarity(poses: Array, tracks: Array) -> Array:
    """IoU of each pose box against each track box; (P, 4) and (T, 4) as xmin, ymin, xmax, ymax."""
    ix0 = np.maximum(poses[:, None, 0], tracks[None, :, 0])
    iy0 = np.maximum(poses[:, None, 1], tracks[None, :, 1])
    ix1 = np.minimum(poses[:, None, 2], tracks[None, :, 2])
    iy1 = np.minimum(poses[:, None, 3], tracks[None, :, 3])
    inter = np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)
    area_p = (poses[:, 2] - poses[:, 0]) * (poses[:, 3] - poses[:, 1])
    area_t = (tracks[:, 2] - tracks[:, 0]) * (tracks[:, 3] - tracks[:, 1])
    union = area_p[:, None] + area_t[None, :] - inter
    iou: Array = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou
