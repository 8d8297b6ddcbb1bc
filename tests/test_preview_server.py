"""The preview server in process: auth on every endpoint, headers, the stream, its rate cap, closing.

A real aiohttp server on a free loopback port, real HTTP and WebSocket clients,
real frames decoded from the tfjs squats video with MediaPipe's own poses for them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest

from posed.keypoints import BLAZEPOSE_33
from posed.preview.config import PreviewConfig
from posed.preview.server import PreviewServer
from posed.preview.tap import CameraView, PreviewTap
from posed.types import Frame, Pose
from tests.conftest import CONFORMANCE

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
EXPECTED = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.full.json"
TOKEN = "s3cret-token-0123456789"
ZONES = {"sofa": ((0.1, 0.5), (0.4, 0.5), (0.4, 0.9), (0.1, 0.9))}
PAGES = ["/", "/camera/front", "/api/stats", "/static/camera.js", "/static/index.js", "/static/preview.css"]
STREAM = "/api/cameras/front/ws"
ENDPOINTS = [*PAGES, STREAM]


def squat_frames(count: int = 10) -> list[tuple[Frame, Pose]]:
    capture = cv2.VideoCapture(str(SQUATS))
    expected = json.loads(EXPECTED.read_text())
    out = []
    for number in range(count):
        ok, bgr = capture.read()
        assert ok
        points = np.asarray(expected[number], dtype=np.float32)
        keypoints = np.column_stack([points[:, :2], np.ones(len(points), np.float32)])
        pose = Pose(0.9, keypoints, BLAZEPOSE_33, (0.0, 0.0, 1.0, 1.0), id=7)
        rgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.uint8)
        frame = Frame(rgb, number, time.monotonic(), time.time())
        out.append((frame, pose))
    capture.release()
    return out


@pytest.fixture(scope="module")
def frames() -> list[tuple[Frame, Pose]]:
    return squat_frames()


def start(tap: PreviewTap, **settings: Any) -> PreviewServer:
    tap.set_cameras({"front": CameraView(zones=ZONES)})
    tap.set_stats({"device_id": "dev", "cameras": {"front": {"status": "online", "people": 1}}})
    server = PreviewServer(PreviewConfig(enabled=True, port=0, **settings), tap)
    server.start()
    return server


@pytest.fixture
def tap() -> PreviewTap:
    return PreviewTap()


@pytest.fixture
def open_server(tap: PreviewTap) -> Iterator[PreviewServer]:
    server = start(tap)
    yield server
    server.close()


@pytest.fixture
def token_server(tap: PreviewTap) -> Iterator[PreviewServer]:
    server = start(tap, token=TOKEN)
    yield server
    server.close()


async def status_of(url: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(**kwargs.pop("session", {})) as session,
        session.get(url, allow_redirects=False, **kwargs) as response,
    ):
        return response.status, response.headers


async def ws_status(url: str, **kwargs: Any) -> int:
    """101 if the WebSocket opened, else the HTTP status it was refused with."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, **kwargs) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_needs_the_token(token_server: PreviewServer, path: str) -> None:
    url = token_server.url.rstrip("/") + path
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    wrong = {"Authorization": f"Bearer {TOKEN}x"}
    if path == STREAM:
        assert asyncio.run(ws_status(url)) == 401
        assert asyncio.run(ws_status(url, headers=wrong)) == 401
        assert asyncio.run(ws_status(url, headers={"Cookie": "posed_preview=nope"})) == 401
        assert asyncio.run(ws_status(url, headers=bearer)) == 101
        assert asyncio.run(ws_status(url, headers={"Cookie": f"posed_preview={TOKEN}"})) == 101
    else:
        assert asyncio.run(status_of(url))[0] == 401
        assert asyncio.run(status_of(url, headers=wrong))[0] == 401
        assert asyncio.run(status_of(url, headers={"Authorization": TOKEN}))[0] == 401  # no scheme
        assert asyncio.run(status_of(url, cookies={"posed_preview": TOKEN[:-1]}))[0] == 401
        assert asyncio.run(status_of(url, headers=bearer))[0] == 200


def test_the_token_login_sets_a_cookie_and_redirects_without_the_token(token_server: PreviewServer) -> None:
    async def login() -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            url = token_server.url + "camera/front?token=" + TOKEN
            async with session.get(url, allow_redirects=False) as response:
                assert response.status == 302
                assert response.headers["Location"] == "/camera/front"
                cookie = response.cookies["posed_preview"]
                assert cookie["httponly"] and cookie["samesite"] == "Strict"
            async with session.get(token_server.url + "api/stats") as response:
                assert response.status == 200
                assert (await response.json())["device_id"] == "dev"
            async with session.ws_connect(token_server.url + STREAM.lstrip("/")) as ws:
                hello = await ws.receive_json(timeout=5)
                assert hello["type"] == "hello"
            async with session.get(token_server.url + "?token=wrong" + TOKEN, allow_redirects=False) as bad:
                assert bad.status == 401
                assert "posed_preview" not in bad.cookies

    asyncio.run(login())


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(token_server: PreviewServer, path: str) -> None:
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):  # refusals too
        _, got = asyncio.run(status_of(token_server.url.rstrip("/") + path, headers=headers))
        assert got["X-Content-Type-Options"] == "nosniff"
        assert got["Cache-Control"] == "no-store"
        csp = got["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_endpoint_changes_anything(open_server: PreviewServer, method: str) -> None:
    async def send(path: str) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, open_server.url.rstrip("/") + path, data=b"x") as response,
        ):
            return response.status

    for path in ENDPOINTS:
        assert asyncio.run(send(path)) == 405, path


def test_without_a_token_only_loopback_names_and_same_origin_pass(open_server: PreviewServer) -> None:
    url = open_server.url
    assert asyncio.run(status_of(url))[0] == 200
    assert asyncio.run(status_of(url, headers={"Host": f"localhost:{open_server.port}"}))[0] == 200
    # DNS rebinding: a website's name resolving to 127.0.0.1.
    assert asyncio.run(status_of(url, headers={"Host": f"evil.example:{open_server.port}"}))[0] == 403
    # A page on another site opening the stream (browsers allow cross-origin WebSockets).
    stream = url + STREAM.lstrip("/")
    assert asyncio.run(ws_status(stream, origin="http://evil.example")) == 403
    assert asyncio.run(ws_status(stream, origin=url.rstrip("/"))) == 101


def test_unknown_camera_is_404(open_server: PreviewServer) -> None:
    assert asyncio.run(status_of(open_server.url + "camera/garage"))[0] == 404
    assert asyncio.run(ws_status(open_server.url + "api/cameras/garage/ws")) == 404


def test_no_viewer_keeps_no_frame(tap: PreviewTap, frames: list[tuple[Frame, Pose]]) -> None:
    frame, pose = frames[0]
    tap.observe("front", frame, [pose])
    assert tap.latest("front", after=0) is None
    with tap.watch("front"):
        tap.observe("front", frame, [pose])
        assert tap.latest("front", after=0) is not None
    assert tap.watched == frozenset()
    assert tap.latest("front", after=0) is None


class Feeder:
    """Plays the frames into the tap at `fps` from its own thread, as a worker would."""

    def __init__(self, tap: PreviewTap, frames: list[tuple[Frame, Pose]], fps: float) -> None:
        self._stop = threading.Event()
        self.sent = 0

        def run() -> None:
            while not self._stop.wait(1.0 / fps):
                frame, pose = frames[self.sent % len(frames)]
                tap.observe("front", frame, [pose])
                self.sent += 1

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def test_stream_sends_frames_with_their_poses_capped_at_max_fps(
    tap: PreviewTap, frames: list[tuple[Frame, Pose]]
) -> None:
    server = start(tap, max_fps=4.0)
    feeder = Feeder(tap, frames, fps=30.0)
    expected = json.loads(EXPECTED.read_text())
    try:

        async def watch() -> tuple[int, float]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(server.url + STREAM.lstrip("/")) as ws,
            ):
                hello = await ws.receive_json(timeout=5)
                assert hello["skeletons"]["33"][0] == [0, 1]
                received, first = 0, None
                while received < 9:
                    text = await ws.receive_json(timeout=5)
                    jpeg = await ws.receive_bytes(timeout=5)
                    first = time.monotonic() if first is None else first
                    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
                    assert image is not None and image.shape == (1280, 720, 3)
                    assert (text["width"], text["height"]) == (720, 1280)
                    [pose] = text["poses"]
                    assert pose["id"] == 7
                    want = expected[text["number"]][0][:2]
                    assert pose["keypoints"][0][:2] == pytest.approx(want, abs=0.01)
                    assert text["zones"]["sofa"]["points"][0] == [0.1, 0.5]
                    received += 1
                assert first is not None
                return received, time.monotonic() - first

        received, took = asyncio.run(watch())
        # 8 intervals at no more than 4 per second, though frames arrive at 30 per second.
        assert took >= (received - 1) / 4.0 * 0.9
        assert feeder.sent > 3 * received
    finally:
        feeder.stop()
        server.close()
    assert tap.watched == frozenset()  # the viewer left: the workers keep nothing again


def test_close_ends_open_streams_promptly(tap: PreviewTap, frames: list[tuple[Frame, Pose]]) -> None:
    server = start(tap)
    feeder = Feeder(tap, frames, fps=10.0)
    closed: dict[str, Any] = {}
    opened = threading.Event()

    async def watch() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(server.url + STREAM.lstrip("/")) as ws,
        ):
            await ws.receive_json(timeout=5)
            opened.set()
            async for _ in ws:
                pass
            closed["code"] = ws.close_code

    viewer = threading.Thread(target=lambda: asyncio.run(watch()))
    viewer.start()
    try:
        assert opened.wait(10)
        started = time.monotonic()
        server.close()
        took = time.monotonic() - started
        viewer.join(5)
    finally:
        feeder.stop()
    assert took < 2.0
    assert closed["code"] == aiohttp.WSCloseCode.GOING_AWAY
    assert tap.watched == frozenset()
