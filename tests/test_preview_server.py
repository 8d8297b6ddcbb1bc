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

from posed.preview.config import PreviewConfig
from posed.preview.server import PreviewServer
from posed.preview.tap import CameraView, PreviewTap
from posed.types import Frame, Pose
from tests.preview_support import EXPECTED, Feeder, squat_frames

TOKEN = "s3cret-token-0123456789"
ZONES = {"sofa": ((0.1, 0.5), (0.4, 0.5), (0.4, 0.9), (0.1, 0.9))}
PAGES = ["/", "/camera/front", "/api/stats", "/static/camera.js", "/static/index.js", "/static/preview.css"]
STREAM = "/api/cameras/front/ws"
ENDPOINTS = [*PAGES, STREAM]


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
            # Not an open redirect: a path of `//other.site` stays on this site.
            sneaky = token_server.url + "/other.example/x?token=" + TOKEN
            async with session.get(sneaky, allow_redirects=False) as response:
                assert response.headers["Location"] == "/other.example/x"
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


def test_events_are_kept_bounded_and_sent_with_the_frames(
    tap: PreviewTap, frames: list[tuple[Frame, Pose]]
) -> None:
    server = start(tap)
    events = [{"type": "zone_enter", "zone": "sofa", "id": n, "timestamp": 1.0 + n} for n in range(60)]
    tap.observe_events("front", events[:30])
    tap.observe_events("front", events[30:], occupancy={"sofa": 1})
    assert [e["id"] for e in tap.events("front")] == list(range(10, 60))  # the newest 50
    feeder = Feeder(tap, frames, fps=10.0)
    try:

        async def first_frame() -> dict[str, Any]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(server.url + STREAM.lstrip("/")) as ws,
            ):
                await ws.receive_json(timeout=5)  # hello
                message: dict[str, Any] = await ws.receive_json(timeout=10)
                return message

        message = asyncio.run(first_frame())
    finally:
        feeder.stop()
        server.close()
    assert [e["id"] for e in message["events"]] == list(range(40, 60))
    assert message["zones"]["sofa"]["occupancy"] == 1


def test_a_stuck_viewer_holds_back_neither_the_tap_nor_other_viewers(
    tap: PreviewTap, frames: list[tuple[Frame, Pose]]
) -> None:
    server = start(tap, max_fps=10.0)
    feeder = Feeder(tap, frames, fps=30.0)
    url = server.url + STREAM.lstrip("/")
    try:

        async def watch() -> tuple[int, float]:
            async with aiohttp.ClientSession() as session:
                # Never reads: once the socket buffers fill, the server's sends to it block.
                stuck = await session.ws_connect(url, max_msg_size=0)
                await asyncio.sleep(3.0)  # ~30 frames of 100+ kB each: far beyond the buffers
                async with session.ws_connect(url) as ws:
                    await ws.receive_json(timeout=5)
                    started, received = time.monotonic(), 0
                    while received < 10:
                        await ws.receive_json(timeout=5)
                        await ws.receive_bytes(timeout=5)
                        received += 1
                    took = time.monotonic() - started
                await stuck.close()
                return received, took

        sent_before = feeder.sent
        received, took = asyncio.run(watch())
        assert received == 10 and took < 5.0  # 10 fps cap: about 1 s, with room for the machine's load
        assert feeder.sent - sent_before > 60  # the worker side went on at its pace throughout
    finally:
        feeder.stop()
        server.close()
