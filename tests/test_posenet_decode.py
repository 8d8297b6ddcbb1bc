"""The vectorised PoseNet decoders against a plain, line-by-line reading of Coral's decoder.

The oracle below is deliberately naive: one keypoint at a time, scalar
bilinear sampling, a score-ordered traversal and a heap of roots exactly as
the C++ code does it. The fast decoder batches roots and walks the pose tree
level by level; both must give the same poses on real model outputs and on
synthetic maps.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from posed.cameras.media_files import read_image, video_frames
from posed.model_files import ResolvedModel
from posed.plugins import load_backend
from posed.posenet.decode_multi import EDGES, _pop_order, decode_multiple
from posed.posenet.decode_single import decode_single
from posed.posenet.estimator import PoseNetEstimator
from posed.posenet.maps import PoseNetMaps
from posed.posenet.options import PoseNetOptions
from tests.conftest import CONFORMANCE, MEDIA, MODELS

K = 17


# --- the oracle -----------------------------------------------------------------------------


def _sample(t: np.ndarray, y: float, x: float, channels: list[int]) -> list[float]:
    h, w, _ = t.shape
    yp, xp = min(max(y, 0.0), h - 1.0), min(max(x, 0.0), w - 1.0)
    y0, y1, x0, x1 = math.floor(yp), math.ceil(yp), math.floor(xp), math.ceil(xp)
    ly, lx = y - y0, x - x0
    return [
        (1 - ly) * ((1 - lx) * t[y0, x0, c] + lx * t[y0, x1, c])
        + ly * ((1 - lx) * t[y1, x0, c] + lx * t[y1, x1, c])
        for c in channels
    ]


class _Entry:
    """Heap entry ordered by score only, highest first."""

    def __init__(self, score: float, item: tuple[float, float, int]) -> None:
        self.score, self.item = score, item

    def __lt__(self, other: _Entry) -> bool:
        return self.score > other.score


def oracle(
    scores: np.ndarray,
    short: np.ndarray,
    mid: np.ndarray,
    *,
    max_poses: int,
    threshold: float,
    nms_radius: float,
    stride: int,
) -> list[tuple[float, np.ndarray]]:
    """Coral's DecodeAllPoses on grid-unit maps (short: 34 channels, mid: 64)."""
    h, w, _ = scores.shape
    sq = (nms_radius / stride) ** 2
    min_logit = -math.log(1.0 / (threshold + 1e-6) - 1.0)
    queue: list[_Entry] = []
    for y in range(h):
        for x in range(w):
            for k in range(K):
                s = float(scores[y, x, k])
                if s < min_logit or (scores[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2, k] > s).any():
                    continue
                ry = min(max(y + float(short[y, x, k]), 0.0), h - 1.0)
                rx = min(max(x + float(short[y, x, K + k]), 0.0), w - 1.0)
                heapq.heappush(queue, _Entry(s, (ry, rx, k)))
    children: dict[int, list[tuple[int, int]]] = {k: [] for k in range(K)}
    for e, (p, c) in enumerate(EDGES):
        children[p].append((c, e))  # forward: mid channels e (dy), 16 + e (dx)
        children[c].append((p, 32 + e))  # backward: mid channels 32 + e, 48 + e
    poses: list[list[tuple[float, float]]] = []
    keypoint_scores: list[list[float]] = []
    pose_scores: list[float] = []
    while len(poses) < max_poses and queue:
        ry, rx, rk = heapq.heappop(queue).item
        if any((ry - p[rk][0]) ** 2 + (rx - p[rk][1]) ** 2 <= sq for p in poses):
            continue
        points: list[tuple[float, float]] = [(-1.0, -1.0)] * K
        logits = [-1e5] * K
        done = [False] * K
        todo = [_Entry(_sample(scores, ry, rx, [rk])[0], (ry, rx, rk))]
        while todo:
            entry = heapq.heappop(todo)
            cy, cx, ck = entry.item
            if done[ck]:
                continue
            points[ck], logits[ck], done[ck] = (cy, cx), entry.score, True
            for child, channel in children[ck]:
                if done[child]:
                    continue
                dy, dx = _sample(mid, cy, cx, [channel, channel + 16])
                y, x = min(max(cy + dy, 0.0), h - 1.0), min(max(cx + dx, 0.0), w - 1.0)
                for _ in range(5):
                    oy, ox = _sample(short, y, x, [child, K + child])
                    y, x = min(max(y + oy, 0.0), h - 1.0), min(max(x + ox, 0.0), w - 1.0)
                heapq.heappush(todo, _Entry(_sample(scores, y, x, [child])[0], (y, x, child)))
        probabilities = [1 / (1 + math.exp(-v)) for v in logits]
        if sum(probabilities) / K >= threshold:
            poses.append(points)
            keypoint_scores.append(probabilities)
            pose_scores.append(sum(probabilities) / K)
    order = sorted(range(len(poses)), key=lambda i: -pose_scores[i])
    final = [0.0] * len(poses)
    for n, i in enumerate(order):
        kept = [
            not any(
                (poses[i][k][0] - poses[j][k][0]) ** 2 + (poses[i][k][1] - poses[j][k][1]) ** 2 <= sq
                for j in order[:n]
            )
            for k in range(K)
        ]
        final[i] = sum(s for s, keep in zip(keypoint_scores[i], kept, strict=True) if keep) / K
    result = []
    for i in sorted(range(len(poses)), key=lambda i: -final[i]):
        if final[i] < threshold:
            break
        xy = [[p[1] * stride, p[0] * stride, s] for p, s in zip(poses[i], keypoint_scores[i], strict=True)]
        result.append((final[i], np.array(xy)))
    return result


def unpack(maps: PoseNetMaps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The maps in Coral's own layout, for the oracle."""
    short, mid = maps.short.inner, maps.mid.inner
    coral_short = np.concatenate([short.real, short.imag], axis=-1)
    coral_mid = np.concatenate(
        [mid.real[..., :16], mid.imag[..., :16], mid.real[..., 16:], mid.imag[..., 16:]], axis=-1
    )
    return maps.scores.inner.copy(), coral_short, coral_mid


def assert_same(maps: PoseNetMaps, max_poses: int, threshold: float, nms_radius: float) -> int:
    fast = decode_multiple(maps, max_poses=max_poses, score_threshold=threshold, nms_radius=nms_radius)
    slow = oracle(
        *unpack(maps), max_poses=max_poses, threshold=threshold, nms_radius=nms_radius, stride=maps.stride
    )
    assert len(fast) == len(slow)
    for keypoints, score, (slow_score, slow_keypoints) in zip(fast.keypoints, fast.scores, slow, strict=True):
        np.testing.assert_allclose(keypoints[:, :2], slow_keypoints[:, :2], atol=2e-3)
        np.testing.assert_allclose(keypoints[:, 2], slow_keypoints[:, 2], atol=1e-4)
        assert score == pytest.approx(slow_score, abs=1e-4)
    return len(fast)


# --- real model outputs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def posenet(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PoseNetEstimator]:
    backend = load_backend("tflite")
    model = ResolvedModel(
        "posenet", "posenet", {"main": MODELS / "posenet_mobilenet_v1_075_353_481_quant.tflite"}
    )
    config = backend.config_model.model_validate({"type": "tflite"})
    corrected = tmp_path_factory.mktemp("corrected")
    with PoseNetEstimator.open(model, PoseNetOptions(), backend, config, corrected_dir=corrected) as est:
        yield est


def _crowd() -> np.ndarray:
    for number, _, image in video_frames(MEDIA / "vtest.avi", None):
        if number == 100:
            return image
    raise AssertionError("vtest.avi is shorter than 100 frames")


@pytest.mark.parametrize("image_name", ["couple", "crowd"])
def test_multi_matches_oracle_on_real_outputs(posenet: PoseNetEstimator, image_name: str) -> None:
    image = (
        read_image(CONFORMANCE / "coral-posenet" / "test_couple.jpg") if image_name == "couple" else _crowd()
    )
    maps = posenet.infer(image)
    counts = [
        assert_same(maps, max_poses, threshold, radius)
        for max_poses, threshold, radius in [(10, 0.2, 10), (5, 0.5, 20), (1, 0.5, 20), (20, 0.1, 40)]
    ]
    assert counts[2] <= 1 and max(counts) >= 2


def random_maps(seed: int, height: int = 23, width: int = 31, stride: int = 16) -> PoseNetMaps:
    """Smooth random maps, as float tensors: heatmaps with many peaks and ties, offsets that
    vary slowly across the grid as a network's do (rough ones make the 5 refinement steps
    chaotic, and then float32 and float64 drift apart)."""
    import cv2  # noqa: PLC0415 (OpenCV loads on first frame)

    rng = np.random.default_rng(seed)

    def smooth(channels: int, sigma: float, scale: float) -> np.ndarray:
        noise = rng.normal(0, 1, (height, width, channels)).astype(np.float32)
        field: np.ndarray = np.stack(
            [cv2.GaussianBlur(noise[..., c], (0, 0), sigma) for c in range(channels)], -1
        )
        result: np.ndarray = (field / field.std() * scale)[None].astype(np.float32)
        return result

    logits = np.round((smooth(K, 1.0, 3.0) - 1) * 4) / 4  # quantized logits tie, as uint8 outputs do
    maps = PoseNetMaps(height, width, stride)
    maps.set_heatmaps(logits, None)
    maps.set_short_offsets(smooth(2 * K, 3.0, 6.0), None)
    maps.set_mid_offsets(smooth(64, 3.0, 30.0), None)
    maps.finish()
    return maps


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_multi_matches_oracle_on_synthetic_maps(seed: int) -> None:
    maps = random_maps(seed)
    assert assert_same(maps, 10, 0.3, 20) >= 2
    assert_same(maps, 4, 0.5, 40)


def test_tfjs_displacements_decode_like_coral_mid_offsets(posenet: PoseNetEstimator) -> None:
    """The 4-output layout (float, pixels) gives the same poses as Coral's 3 outputs."""
    coral = posenet.infer(read_image(CONFORMANCE / "coral-posenet" / "test_couple.jpg"))
    scores, short, mid = unpack(coral)
    stride = coral.stride
    tfjs = PoseNetMaps(coral.height, coral.width, stride)
    tfjs.set_heatmaps(scores[None], None)
    tfjs.set_short_offsets(short[None] * stride, None)
    tfjs.set_displacements(mid[None, ..., :32] * stride, mid[None, ..., 32:] * stride, None, None)
    tfjs.finish()
    a = decode_multiple(coral, max_poses=10, score_threshold=0.2, nms_radius=10)
    b = decode_multiple(tfjs, max_poses=10, score_threshold=0.2, nms_radius=10)
    assert len(a) == 2
    np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-3)


# --- the root queue's tie order ---------------------------------------------------------------


def libstdcxx_pop_order(scores: list[float]) -> list[int]:
    """std::priority_queue<.., less on score>: push_heap per push, pop_heap per pop (libstdc++)."""
    heap: list[int] = []

    def less(a: int, b: int) -> bool:
        return scores[a] < scores[b]

    def push_up(hole: int, top: int, value: int) -> None:
        parent = (hole - 1) // 2
        while hole > top and less(heap[parent], value):
            heap[hole] = heap[parent]
            hole = parent
            parent = (hole - 1) // 2
        heap[hole] = value

    for index in range(len(scores)):
        heap.append(index)
        push_up(len(heap) - 1, 0, index)
    order = []
    while heap:
        order.append(heap[0])
        value = heap.pop()
        length = len(heap)
        if not length:
            break
        hole, child = 0, 0
        while child < (length - 1) // 2:  # __adjust_heap
            child = 2 * (child + 1)
            if less(heap[child], heap[child - 1]):
                child -= 1
            heap[hole] = heap[child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            heap[hole] = heap[child - 1]
            hole = child - 1
        push_up(hole, 0, value)
    return order


@pytest.mark.parametrize("seed", range(5))
def test_root_order_replays_coral_priority_queue(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=int(rng.integers(1, 80))).astype(np.float32)  # many ties
    order = _pop_order(scores)
    assert order == libstdcxx_pop_order(scores.tolist())
    assert sorted(order) == list(range(scores.size))
    assert np.all(np.diff(scores[order]) <= 0)
    if scores.size > 5:
        assert order != sorted(range(scores.size), key=lambda i: -scores[i])  # not simply a stable sort


# --- single person ------------------------------------------------------------------------------


def test_single_is_argmax_plus_offset() -> None:
    height, width, stride = 9, 9, 32
    rng = np.random.default_rng(7)
    logits = rng.uniform(-8, -2, (height, width, K)).astype(np.float32)
    cells = rng.integers(0, [height, width], size=(K, 2))
    peak = rng.uniform(0, 4, K).astype(np.float32)
    logits[cells[:, 0], cells[:, 1], np.arange(K)] = peak
    offsets = rng.uniform(-20, 20, (height, width, 2 * K)).astype(np.float32)
    maps = PoseNetMaps(height, width, stride)
    maps.set_heatmaps(logits[None], None)
    maps.set_short_offsets(offsets[None], None)
    maps.set_mid_offsets(np.zeros((1, height, width, 64), np.float32), None)
    maps.finish()
    decoded = decode_single(maps)
    assert len(decoded) == 1
    ids = np.arange(K)
    expected_x = cells[:, 1] * stride + offsets[cells[:, 0], cells[:, 1], K + ids]
    expected_y = cells[:, 0] * stride + offsets[cells[:, 0], cells[:, 1], ids]
    np.testing.assert_allclose(decoded.keypoints[0, :, 0], expected_x, atol=1e-4)
    np.testing.assert_allclose(decoded.keypoints[0, :, 1], expected_y, atol=1e-4)
    expected_scores = 1 / (1 + np.exp(-peak))
    np.testing.assert_allclose(decoded.keypoints[0, :, 2], expected_scores, atol=1e-6)
    assert decoded.scores[0] == pytest.approx(expected_scores.mean(), abs=1e-6)


def test_no_roots_no_poses() -> None:
    maps = PoseNetMaps(5, 5, 16)
    maps.set_heatmaps(np.full((1, 5, 5, K), -9.0, np.float32), None)
    maps.finish()
    decoded = decode_multiple(maps, max_poses=5, score_threshold=0.5, nms_radius=20)
    assert len(decoded) == 0 and decoded.keypoints.shape == (0, K, 3)
