"""Keypoint names, as tfjs pose-detection names them."""

from __future__ import annotations

COCO_17: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

BLAZEPOSE_33: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
    "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

# Skeleton edges as index pairs into the sets above, as tfjs pose-detection's
# `util.getAdjacentPairs` lists them (MediaPipe's POSE_CONNECTIONS for BlazePose).
COCO_17_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (5, 11), (6, 8), (6, 12),
    (7, 9), (8, 10), (11, 12), (11, 13), (12, 14), (13, 15), (14, 16),
)  # fmt: skip

BLAZEPOSE_33_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (11, 23), (12, 14), (14, 16), (12, 24), (13, 15), (15, 17),
    (16, 18), (16, 20), (15, 19), (15, 21), (16, 22), (17, 19), (18, 20), (23, 25),
    (23, 24), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (27, 31), (28, 32),
    (29, 31), (30, 32),
)  # fmt: skip
