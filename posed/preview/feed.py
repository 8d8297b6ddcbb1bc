"""One camera's stream to its viewers: JPEG frames and their poses, at most max_fps.

A feed runs only while a viewer is connected. It polls the tap's latest-frame slot
at max_fps, encodes a newer frame once (in a worker thread, off the event loop) and
hands the same message to every viewer. Each viewer sends at its own pace and
always takes the newest message, so a slow browser sees fewer frames and holds
back nobody: neither the pipeline nor the other viewers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from posed.draw import SCORE_COLORS, edges_for
from posed.events import wording
from posed.evidence.config import Privacy
from posed.evidence.privacy import private_image
from posed.keypoints import BLAZEPOSE_33, COCO_17
from posed.preview.tap import PreviewTap, Processed
from posed.types import ImageArray

JPEG_QUALITY = 80
# The page draws what `posed estimate --draw` draws: the same edges, the same score colours.
SKELETONS = {len(names): edges_for(names).tolist() for names in (BLAZEPOSE_33, COCO_17)}


@dataclass(frozen=True, slots=True)
class Message:
    seq: int
    text: str  # JSON: frame size, poses, zones, events; the JPEG follows it
    jpeg: bytes


def encode_jpeg(rgb: ImageArray) -> bytes:
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    )
    if not ok:  # OpenCV reports no reason; a uint8 RGB image always encodes
        raise RuntimeError("JPEG encoding failed")
    return bytes(data)


def encode_view(rgb: ImageArray, privacy: Privacy) -> bytes:
    """The JPEG a viewer gets: the picture as the camera's privacy allows (the page draws the poses)."""
    return encode_jpeg(private_image(rgb, privacy))


def poses_json(item: Processed) -> list[dict[str, Any]]:
    """Poses in the frame's pixels: id, score, and keypoints as [x, y, score] rows."""
    out = []
    for pose in item.poses:
        rows = np.round(pose.keypoints.astype(np.float64), 2).tolist()
        out.append({"id": pose.id, "score": round(float(pose.score), 3), "keypoints": rows})
    return out


def describe(camera: str, item: Processed, tap: PreviewTap) -> str:
    view = tap.cameras().get(camera)
    zones = {} if view is None else view.zones
    occupancy = tap.occupancy(camera)
    return json.dumps(
        {
            "type": "frame",
            "camera": camera,
            "number": item.frame.number,
            "wall": round(item.frame.wall, 3),
            "width": item.frame.width,
            "height": item.frame.height,
            "poses": poses_json(item),
            "zones": {
                name: {"points": [list(p) for p in points], "occupancy": occupancy.get(name)}
                for name, points in zones.items()
            },
            # Each with its wording, so the page says it as `posed demo` does.
            "events": [{**event, "text": wording.describe(event)} for event in tap.events(camera)[-20:]],
        }
    )


def hello(camera: str, max_fps: float) -> str:
    """The first message of a stream: what the page needs to draw the rest."""
    return json.dumps(
        {
            "type": "hello",
            "camera": camera,
            "max_fps": max_fps,
            "skeletons": {str(n): edges for n, edges in SKELETONS.items()},
            "score_colors": [list(rgb) for rgb in SCORE_COLORS],
        }
    )


class Feed:
    """Runs on the server's event loop; `serve` is one viewer's share of it."""

    def __init__(self, camera: str, tap: PreviewTap, max_fps: float, on_idle: Callable[[Feed], None]) -> None:
        self.camera = camera
        self._tap = tap
        self._period = 1.0 / max_fps
        self._on_idle = on_idle
        self._viewers = 0
        self._latest: Message | None = None
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def next_after(self, seq: int) -> Message:
        """The newest message with a sequence number above `seq`, waiting for one."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._latest is not None and self._latest.seq > seq)
            assert self._latest is not None
            return self._latest

    def join(self) -> None:
        self._viewers += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"feed-{self.camera}")

    def leave(self) -> None:
        self._viewers -= 1
        if self._viewers == 0:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            self._latest = None
            self._on_idle(self)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        seq = 0
        with self._tap.watch(self.camera):
            next_at = time.monotonic()
            while True:
                await asyncio.sleep(max(next_at - time.monotonic(), 0.0))
                item = self._tap.latest(self.camera, after=seq)
                if item is None:
                    next_at = time.monotonic() + min(self._period, 0.05)  # look again soon
                    continue
                next_at = time.monotonic() + self._period
                seq = item.seq
                text = describe(self.camera, item, self._tap)
                view = self._tap.cameras().get(self.camera)
                privacy: Privacy = "full" if view is None else view.privacy
                jpeg = await loop.run_in_executor(None, encode_view, item.frame.image, privacy)
                async with self._changed:
                    self._latest = Message(seq, text, jpeg)
                    self._changed.notify_all()
