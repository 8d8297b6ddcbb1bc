"""The preview page in a real browser: Debian's chromium driving the page `posed run` serves.

`posed run` processes the tfjs squats video (looped) with BlazePose lite and serves the
page on a free port; Selenium drives chromium through chromium-driver.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from posed.draw import edges_for
from posed.keypoints import BLAZEPOSE_33
from posed.preview.config import PreviewConfig
from posed.preview.server import PreviewServer
from posed.preview.tap import CameraView, PreviewTap
from tests.conftest import MODELS, POSED
from tests.daemon_harness import Daemon
from tests.mosquitto import Mosquitto
from tests.preview_support import Feeder, chromium, page_url, preview_config, squat_frames

TOKEN = "browser-test-token-0123"
SKELETON = (0, 255, 255)  # camera.js SKELETON_COLOUR
ZONE = (255, 200, 0)  # camera.js ZONE_COLOUR
WAIT = 60.0  # seconds; generous: the machine is shared


def wait_for(condition: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path_factory.mktemp("broker")) as broker:
        yield broker


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, broker: Mosquitto) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("preview")
    config = preview_config(
        directory / "posed.yaml",
        broker_port=broker.port,
        preview="{enabled: true, port: 0}",
        camera=", zones: {floor: {points: [[0.05, 0.8], [0.95, 0.8], [0.95, 0.98], [0.05, 0.98]]}}",
    )
    with Daemon(config, directory / "posed.log") as daemon:
        daemon.notify.wait_for("READY=1", timeout=WAIT)
        yield page_url(daemon), config


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def test_index_lists_the_camera_online(browser: Any, served: tuple[str, Path]) -> None:
    url, _ = served
    browser.get(url)

    def row() -> dict[str, str] | None:
        # In one script: the table is rebuilt on every refresh.
        texts: dict[str, str] = browser.execute_script(
            "const out = {};"
            "for (const td of document.querySelectorAll(\"tr[data-camera='squats'] td\"))"
            "  out[td.className.split(' ').pop()] = td.textContent;"
            "return out;"
        )
        fps = texts.get("fps", "")  # "–" until the first rate is measured
        measured = fps.replace(".", "", 1).isdigit() and float(fps) > 0
        return texts if texts.get("status-online") == "online" and measured else None

    # Live: the page refreshes itself until the first rates are in.
    shown = wait_for(row, "the camera to show online with its frame rate")
    assert shown["people"] == "1"
    assert shown["latency"].endswith(" ms")
    link = browser.find_element("css selector", "tr[data-camera='squats'] a")
    assert link.get_attribute("href") == url + "camera/squats"


# Reads the canvas where it shows each skeleton edge, in the same task as the drawing's state,
# so the pixels and the poses belong to the same frame.
READ_BACK = """
const drawn = window.posedPreview.drawn;
if (!drawn || !drawn.poses.length) return null;
const ctx = document.getElementById("view").getContext("2d");
const edges = %s;
const probes = [];
for (const pose of drawn.poses) {
  const kp = pose.keypoints;
  for (const [a, b] of edges) {
    if (kp[a][2] < 0.3 || kp[b][2] < 0.3) continue;
    // Short edges (the face) sit under the keypoint dots; probe the limbs and the torso.
    if (Math.hypot(kp[a][0] - kp[b][0], kp[a][1] - kp[b][1]) < 40) continue;
    const x = Math.round((kp[a][0] + kp[b][0]) / 2), y = Math.round((kp[a][1] + kp[b][1]) / 2);
    probes.push({x: x, y: y, rgba: Array.from(ctx.getImageData(x - 2, y - 2, 5, 5).data)});
  }
}
return {width: drawn.width, height: drawn.height, poses: drawn.poses, probes: probes};
"""


def colour_near(rgba: list[int], colour: tuple[int, int, int]) -> bool:
    pixels = [rgba[i : i + 3] for i in range(0, len(rgba), 4)]
    return any(sum(abs(c - s) for c, s in zip(p, colour, strict=True)) < 60 for p in pixels)


def skeleton_near(rgba: list[int]) -> bool:
    return colour_near(rgba, SKELETON)


def canvas_pixels(browser: Any, x: int, y: int) -> list[int]:
    """RGBA of the 5 x 5 canvas pixels around (x, y)."""
    script = (
        "return Array.from(document.getElementById('view').getContext('2d').getImageData(%d, %d, 5, 5).data)"
    )
    pixels: list[int] = browser.execute_script(script % (x - 2, y - 2))
    return pixels


def test_camera_view_draws_the_skeleton_on_the_predicted_keypoints(
    browser: Any, served: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = served
    browser.get(url + "camera/squats")
    script = READ_BACK % edges_for(BLAZEPOSE_33).tolist()
    seen = wait_for(lambda: browser.execute_script(script), "a frame with a pose on the canvas")
    assert (seen["width"], seen["height"]) == (720, 1280)
    [pose] = seen["poses"]
    xs = [kp[0] for kp in pose["keypoints"]]
    assert 50 < min(xs) < max(xs) < 670  # the woman, arms included, in the middle of the frame
    assert 250 < sum(xs) / len(xs) < 470
    probes = seen["probes"]
    assert len(probes) >= 12
    hits = sum(skeleton_near(p["rgba"]) for p in probes)
    assert hits >= 0.9 * len(probes), f"{hits}/{len(probes)} edge midpoints show the skeleton colour"
    # Away from any keypoint (the top-left corner is background), no skeleton colour.
    assert not skeleton_near(canvas_pixels(browser, 2, 2))
    # The configured zone's top edge, halfway along (y = 0.8 x 1280 = 1024 px).
    assert colour_near(canvas_pixels(browser, 360, 1024), ZONE)
    assert not colour_near(canvas_pixels(browser, 360, 900), ZONE)
    assert "live" in browser.find_element("id", "live").text
    browser.save_screenshot(str(tmp_path / "camera-view.png"))


def click_at(browser: Any, element: Any, fx: float, fy: float) -> None:
    """Click at a fraction of the element's size (Selenium offsets are from its centre)."""
    from selenium.webdriver.common.action_chains import ActionChains  # noqa: PLC0415 (test-only)

    size = element.size
    dx, dy = round((fx - 0.5) * size["width"]), round((fy - 0.5) * size["height"])
    ActionChains(browser).move_to_element_with_offset(element, dx, dy).click().perform()


def test_a_zone_drawn_with_four_clicks_gives_a_snippet_posed_check_accepts(
    browser: Any, served: tuple[str, Path], tmp_path: Path
) -> None:
    url, config = served
    browser.get(url + "camera/squats")
    wait_for(lambda: browser.execute_script("return window.posedPreview.frames"), "a first frame")
    canvas = browser.find_element("id", "view")
    name = browser.find_element("id", "zone-name")
    name.clear()
    name.send_keys("mat")
    corners = [(0.1, 0.6), (0.9, 0.6), (0.9, 0.95), (0.1, 0.95)]
    for fx, fy in corners:
        click_at(browser, canvas, fx, fy)
    snippet = browser.find_element("id", "zone-yaml").text
    assert browser.find_element("id", "zone-problem").text == ""
    parsed = YAML(typ="safe").load(StringIO(snippet))
    points = parsed["cameras"]["squats"]["zones"]["mat"]["points"]
    assert len(points) == 4
    for (x, y), (fx, fy) in zip(points, corners, strict=True):
        assert x == pytest.approx(fx, abs=0.01) and y == pytest.approx(fy, abs=0.01)
    # Paste it under the camera, as the page says, and ask posed check.
    document = YAML(typ="rt").load(config.read_text())
    document["cameras"]["squats"]["zones"] = parsed["cameras"]["squats"]["zones"]
    pasted = tmp_path / "with-zone.yaml"
    with pasted.open("w") as out:
        YAML(typ="rt").dump(document, out)
    result = subprocess.run(
        [*POSED, "check", "-c", str(pasted), "--model-dir", str(MODELS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def served_with_token(tmp_path_factory: pytest.TempPathFactory, broker: Mosquitto) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("preview-token")
    config = preview_config(
        directory / "posed.yaml",
        broker_port=broker.port,
        preview=f"{{enabled: true, port: 0, token: {TOKEN}}}",
    )
    with Daemon(config, directory / "posed.log") as daemon:
        daemon.notify.wait_for("READY=1", timeout=WAIT)
        yield page_url(daemon)


def test_without_the_token_the_page_is_unusable(served_with_token: str) -> None:
    url = served_with_token
    with chromium() as browser:  # a fresh profile: no cookie
        for path in ("", "camera/squats", "api/stats", "static/camera.js"):
            browser.get(url + path)
            assert "401" in browser.find_element("tag name", "body").text, path
        assert browser.find_elements("id", "view") == []
        # Even a script on the page's origin gets nothing from the stream or the stats.
        refused = browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const ws = new WebSocket("ws://" + location.host + "/api/cameras/squats/ws");
            ws.onopen = () => done("opened");
            ws.onerror = () => fetch("/api/stats").then((r) => done("refused, stats " + r.status));
            """
        )
        assert refused == "refused, stats 401"
        # With the login link once, the same browser sees the camera.
        browser.get(url + "camera/squats?token=" + TOKEN)
        assert browser.current_url == url + "camera/squats"
        wait_for(lambda: browser.execute_script("return window.posedPreview.frames >= 2"), "frames")


def test_events_and_zone_occupancy_show_on_the_page(browser: Any) -> None:
    """In process, so that the events are known: the page lists them newest first, and labels the zone."""
    tap = PreviewTap()
    tap.set_cameras(
        {"gym": CameraView(zones={"mat": ((0.05, 0.8), (0.95, 0.8), (0.95, 0.98), (0.05, 0.98))})}
    )
    tap.observe_events(
        "gym",
        [
            {
                "schema_version": 1,
                "type": "zone",
                "person": 3,
                "timestamp": 1.0,
                "zone": "mat",
                "state": "enter",
            },
            {
                "schema_version": 1,
                "type": "rep",
                "person": 3,
                "timestamp": 2.0,
                "exercise": "squat",
                "count": 1,
                "total": 1,
                "duration": 1.52,
                "set_reps": 1,
            },
        ],
        occupancy={"mat": 1},
    )
    feeder = Feeder(tap, squat_frames(5), fps=10.0, camera="gym")
    try:
        with PreviewServer(PreviewConfig(enabled=True, port=0), tap) as server:
            browser.get(server.url + "camera/gym")
            shown = wait_for(
                lambda: browser.execute_script(
                    "if (!window.posedPreview.frames) return null;"
                    "const items = document.querySelectorAll('#events li');"
                    "return {items: Array.from(items, (li) => li.textContent),"
                    "        zones: window.posedPreview.drawn.zones};"
                ),
                "the first frame and its events",
            )
            items = shown["items"]
    finally:
        feeder.stop()
    assert len(items) == 2
    # Worded as `posed demo` says them (posed.events.wording), after the time.
    assert items[0].endswith(" squat 1 (person 3, 1.5 s)"), items
    assert items[1].endswith(" zone mat: enter (person 3)"), items
    assert shown["zones"]["mat"]["occupancy"] == 1


def test_a_motion_mask_drawn_on_the_page_gives_a_snippet_posed_check_accepts(
    browser: Any, served: tuple[str, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select  # noqa: PLC0415 (test-only)

    url, config = served
    browser.get(url + "camera/squats")
    wait_for(lambda: browser.execute_script("return window.posedPreview.frames"), "a first frame")
    Select(browser.find_element("id", "zone-kind")).select_by_value("mask")
    canvas = browser.find_element("id", "view")
    corners = [(0.6, 0.1), (0.95, 0.1), (0.95, 0.5)]
    for fx, fy in corners:
        click_at(browser, canvas, fx, fy)
    assert browser.find_element("id", "zone-problem").text == ""
    parsed = YAML(typ="safe").load(StringIO(browser.find_element("id", "zone-yaml").text))
    (mask,) = parsed["motion_gate"]["masks"]["squats"]
    for (x, y), (fx, fy) in zip(mask["points"], corners, strict=True):
        assert x == pytest.approx(fx, abs=0.01) and y == pytest.approx(fy, abs=0.01)
    document = YAML(typ="rt").load(config.read_text())
    document["motion_gate"] = parsed["motion_gate"]
    pasted = tmp_path / "with-mask.yaml"
    with pasted.open("w") as out:
        YAML(typ="rt").dump(document, out)
    result = subprocess.run(
        [*POSED, "check", "-c", str(pasted), "--model-dir", str(MODELS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
