"""`posed demo` from a state with nothing cached: the model and the sample clip come from a
local HTTP server standing in for the official hosts (as in test_models_fetch.py), poses go to a
real broker and into a drawn video; refused network, no broker and Ctrl-C behave as promised."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import pytest

from posed.cli.demo import first_v4l2_camera
from posed.cli.demo_session import SecondCounts, summary_line
from posed.cli.main import main
from posed.errors import EXIT_FAILURE, PosedError
from posed.models.download import DownloadPolicy
from posed.samples import SQUATS, SampleUnavailableError, cached_sample, ensure_sample, samples_dir
from tests.conftest import CONFORMANCE, REPO
from tests.models_support import ServedFiles, http_server, isolate
from tests.mosquitto import Mosquitto, Subscriber, free_port

CLIP = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"
FAST = DownloadPolicy(attempts=2, timeout_s=10, retry_delay_s=0.01, progress=False)
SUMMARY = re.compile(r"^\s*\d+\.\d s\s+(\d+\.\d) fps\s+(\d+) (?:person|people)\s+latency (\d+) ms")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty cache and model store; no proxy or mirror of the machine leaks in."""
    for var in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return isolate(monkeypatch, tmp_path)


def served(models_dir: Path) -> ServedFiles:
    names = ("pose_detection.tflite", "pose_landmark_full.tflite")
    files = {name: (models_dir / name).read_bytes() for name in names}
    files[SQUATS.filename] = CLIP.read_bytes()
    return ServedFiles(files)


def test_demo_from_an_empty_cache_fetches_plays_draws_and_publishes(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cached_sample() is None and not samples_dir().exists()
    out = tmp_path / "demo.mp4"
    files = served(models_dir)
    with http_server(files) as url, Mosquitto(tmp_path / "broker") as broker:
        with Subscriber(broker, ["posed/demo/#"]) as sub:
            argv = ["demo", "--mirror", url, "--seconds", "10", "--out", str(out), "--no-preview"]
            code = main([*argv, "--broker", f"{broker.host}:{broker.port}"])
            # A person is published once they moved (the people stage): the first frames have none.
            poses = sub.wait_for(lambda m: m.topic == "posed/demo/demo/poses" and b'"keypoints"' in m.payload)
            rep = sub.wait_for(lambda m: m.topic == "posed/demo/demo/events")
        text = capsys.readouterr().out
        assert code == 0, text
        # A second run finds both in the cache and downloads nothing.
        requests = len(files.requests)
        again = ["--seconds", "1", "--out", str(tmp_path / "again.mp4"), "--broker", "x:1", "--no-preview"]
        assert main([*argv[:3], *again]) == 0
        assert len(files.requests) == requests
    assert "downloading the sample clip pose_squats.mp4" in text
    assert (
        f"pose_landmark_full.tflite: installed from {url}/pose_landmark_full.tflite (sha256 verified)" in text
    )
    assert f"publishing to the MQTT broker on {broker.host}:{broker.port}" in text
    summaries = [SUMMARY.match(line) for line in text.splitlines()]
    seconds = [m for m in summaries if m]
    assert len(seconds) >= 8, text  # one a second for 10 s
    # The woman is counted once she has moved (the people stage drops poses that never moved),
    # within her first frames: every summary after the first says 1 person.
    assert all(m.group(2) == "1" for m in seconds[1:]), "the woman is visible from the second second"
    assert all(float(m.group(1)) > 0 for m in seconds[1:])
    assert "mqtt: connected" in text
    assert f"the poses, drawn: {out}" in text
    assert "live preview" not in text, "--no-preview"
    cached = samples_dir() / SQUATS.filename
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == SQUATS.sha256
    still = samples_dir() / "pose_squats-frame20.png"
    assert sorted(p.name for p in samples_dir().iterdir()) == sorted([SQUATS.filename, still.name])
    image = cv2.imread(str(still))
    assert image is not None and image.shape == (1280, 720, 3)
    assert len(json.loads(poses.text)["poses"][0]["keypoints"]) == 33
    # The event stage runs as in the daemon: the first squat ends about 3 s into the clip.
    first_rep = json.loads(rep.text)
    assert (first_rep["type"], first_rep["exercise"], first_rep["count"]) == ("rep", "squat", 1)
    assert re.search(r"^\s+event: squat 1 \(person \d+, \d+\.\d s\)$", text, re.MULTILINE), text
    reps = re.search(r"^events: (\d+) squat reps, no fall$", text, re.MULTILINE)
    assert reps is not None and int(reps.group(1)) >= 1, text
    video = cv2.VideoCapture(str(out))
    try:
        assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(5.0)
        # 10 s of a 5 fps clip gives 50 frames; the newest frame wins, so a loaded machine
        # draws fewer. 10 still proves the frames processed over several seconds were drawn.
        assert video.get(cv2.CAP_PROP_FRAME_COUNT) >= 10
    finally:
        video.release()


def test_offline_with_nothing_cached_says_so_and_suggests_video(store: Path, tmp_path: Path) -> None:
    # Every connection refused: the proxy all HTTPS traffic must go through is not there. A fresh
    # process, because urllib reads the proxy settings once per process.
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "https_proxy": closed,
        "http_proxy": closed,
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "posed", "demo", "--seconds", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    assert f"offline: the sample clip pose_squats.mp4 is not cached in {samples_dir()}" in result.stderr
    assert "cannot be downloaded" in result.stderr and "Connection refused" in result.stderr
    assert "posed demo --video PATH" in result.stderr
    assert cached_sample() is None
    assert not any(samples_dir().iterdir()), "nothing half-downloaded is left"


def test_without_a_broker_it_runs_and_says_how_to_connect_one(
    store: Path, models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--video", str(CLIP), "--model-dir", str(models_dir), "--seconds", "2"]
    code = main([*argv, "--out", str(tmp_path / "d.mp4"), "--broker", f"127.0.0.1:{free_port()}"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "no MQTT broker answers on 127.0.0.1:" in text and "sudo apt install mosquitto" in text
    assert "mqtt: off" in text
    assert not samples_dir().exists(), "--video needs no sample clip"


async def first_streamed_frame(url: str) -> tuple[dict[str, Any], bytes]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = json.loads((await ws.receive(timeout=10)).data)
        assert hello["type"] == "hello"
        frame = json.loads((await ws.receive(timeout=10)).data)
        jpeg = (await ws.receive(timeout=10)).data
        return frame, jpeg


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_the_live_preview_shows_the_demo_and_ctrl_c_stops_cleanly(
    store: Path, models_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ctrl-c.mp4"
    argv = [sys.executable, "-m", "posed", "demo", "--video", str(CLIP), "--model-dir", str(models_dir)]
    process = subprocess.Popen(
        [*argv, "--out", str(out), "--broker", f"127.0.0.1:{free_port()}", "--preview-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    page = None
    try:
        for line in process.stdout:  # wait for the first summary line, not for a timer
            if line.startswith("live preview: "):
                page = line.split(": ", 1)[1].strip()
            if SUMMARY.match(line):
                break
        assert page is not None and re.fullmatch(r"http://127\.0\.0\.1:\d+/camera/demo", page), page
        with urllib.request.urlopen(page, timeout=10) as response:
            assert response.status == 200 and b"<canvas" in response.read()
        stats_url = page.replace("/camera/demo", "/api/stats")
        deadline = time.monotonic() + 30
        while True:  # the page's stats are refreshed once a second
            camera = get_json(stats_url).get("cameras", {}).get("demo")
            if camera is not None and camera["status"] == "online" and camera["people"] == 1:
                break
            assert time.monotonic() < deadline, camera
            time.sleep(0.2)
        # The page's stream carries the demo's frames and poses (the worker feeds the preview's tap).
        frame, jpeg = asyncio.run(first_streamed_frame(page.replace("/camera/demo", "/api/cameras/demo/ws")))
        assert frame["type"] == "frame" and (frame["width"], frame["height"]) == (720, 1280)
        assert len(frame["poses"]) == 1 and jpeg[:2] == b"\xff\xd8"
    finally:
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "(Ctrl-C)" in rest and f"the poses, drawn: {out}" in rest
    assert "Traceback" not in err
    video = cv2.VideoCapture(str(out))
    try:
        assert video.read()[0], "the video is finalised and plays"
    finally:
        video.release()


def test_the_clip_download_is_verified_and_resumed(store: Path, models_dir: Path) -> None:
    files = served(models_dir)
    files.modes[SQUATS.filename] = "corrupt"
    with http_server(files) as url:
        with pytest.raises(SampleUnavailableError, match="not the expected file") as caught:
            ensure_sample(mirror=url, policy=FAST)
        assert not caught.value.offline
        assert not any(samples_dir().iterdir())
        files.modes[SQUATS.filename] = "truncate-once"  # cut half way: resumed with Range
        path = ensure_sample(mirror=url, policy=FAST)
        assert path == samples_dir() / SQUATS.filename and cached_sample() == path
        assert (SQUATS.filename, f"bytes={SQUATS.size // 2}-") in files.requests
        # A damaged cached copy is not trusted: fetched again.
        path.write_bytes(b"not a video")
        assert cached_sample() is None
        assert ensure_sample(mirror=url, policy=FAST).read_bytes() == CLIP.read_bytes()


def test_camera_finds_the_first_capture_node(tmp_path: Path) -> None:
    # A sysfs and /dev laid out as a USB camera's: video0/video1 (capture, metadata) and a second camera.
    sysfs, dev = tmp_path / "sys", tmp_path / "dev"
    dev.mkdir()
    for node, index in (("video10", "0"), ("video2", "1"), ("video3", "0"), ("video1", "1")):
        (sysfs / node).mkdir(parents=True)
        (sysfs / node / "index").write_text(f"{index}\n")
        (dev / node).touch()
    assert first_v4l2_camera(sysfs, dev) == dev / "video3"
    (dev / "video3").unlink()  # unplugged between the two looks
    assert first_v4l2_camera(sysfs, dev) == dev / "video10"
    with pytest.raises(PosedError, match=r"--camera: no V4L2 camera found .* use --video PATH"):
        first_v4l2_camera(tmp_path / "nothing", dev)


def test_the_summary_line_says_what_a_user_needs() -> None:
    counts = SecondCounts(
        frames=5, people=1, latency_ms=[40, 90, 50, 60, 45], inference_ms=[30, 31, 80, 29, 33]
    )
    line = summary_line(3.0, counts, 1.0, "connected")
    assert SUMMARY.match(line) and "5.0 fps" in line and "1 person " in line
    assert "latency 50 ms (inference 31 ms)" in line, "medians of the second"
    assert line.endswith("mqtt: connected")
    quiet = summary_line(4.0, SecondCounts(people=0), 1.0, "off", "reconnecting")
    assert "0.0 fps" in quiet and "0 people" in quiet and "no frame this second" in quiet
    assert quiet.endswith("mqtt: off  camera: reconnecting")


def test_each_event_is_said_as_a_person_would_and_counted_once() -> None:
    """Guards: the demo says every event of the stage, and its closing tally counts each once."""
    from posed.cli.demo_events import DemoEvents
    from posed.events.engine import EventState

    lines: list[str] = []
    events = DemoEvents(None, lines.append)
    state = EventState(zones={}, fallen=False, reps={"squat": 2})
    rep = {"type": "rep", "person": 4, "exercise": "squat", "count": 2, "duration": 2.44}
    fall = {"type": "fall", "person": 4, "state": "detected", "zone": None}
    cleared = {"type": "fall", "person": 4, "state": "cleared", "zone": None, "reason": "upright"}
    wave = {"type": "gesture", "person": 5, "gesture": "hand_raised"}
    events.publish_events("demo", [rep, fall], state)
    events.publish_events("demo", [cleared, wave, rep], state)
    assert [line.strip() for line in lines] == [
        "event: squat 2 (person 4, 2.4 s)",
        "event: fall detected (person 4)",
        "event: fall cleared (person 4)",
        "event: gesture hand_raised (person 5)",
        "event: squat 2 (person 4, 2.4 s)",
    ]
    assert events.summary() == "events: 1 hand_raised gesture, 2 squat reps, 1 fall"


def test_an_unknown_exercise_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--exercise", "squats", "--no-preview", "--broker", "x:1"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE, err
    assert "--exercise: unknown exercise 'squats'" in err and "squat" in err
