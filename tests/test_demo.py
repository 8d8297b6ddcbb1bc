"""`posed demo` from a state with nothing cached: the model and the sample clip come from a
local HTTP server standing in for the official hosts (as in test_models_fetch.py), poses go to a
real broker and into a drawn video; refused network, no broker and Ctrl-C behave as promised."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from posed.cli.main import main
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
            argv = ["demo", "--mirror", url, "--seconds", "10", "--out", str(out)]
            code = main([*argv, "--broker", f"{broker.host}:{broker.port}"])
            poses = sub.wait_for(lambda m: m.topic == "posed/demo/demo/poses")
        text = capsys.readouterr().out
        assert code == 0, text
        # A second run finds both in the cache and downloads nothing.
        requests = len(files.requests)
        assert (
            main([*argv[:3], "--seconds", "1", "--out", str(tmp_path / "again.mp4"), "--broker", "x:1"]) == 0
        )
        assert len(files.requests) == requests
    assert "downloading the sample clip pose_squats.mp4" in text
    assert (
        f"pose_landmark_full.tflite: installed from {url}/pose_landmark_full.tflite (sha256 verified)" in text
    )
    assert f"publishing to the MQTT broker on {broker.host}:{broker.port}" in text
    summaries = [SUMMARY.match(line) for line in text.splitlines()]
    seconds = [m for m in summaries if m]
    assert len(seconds) >= 8, text  # one a second for 10 s
    assert all(m.group(2) == "1" for m in seconds), "the woman is visible from the first second"
    assert all(float(m.group(1)) > 0 for m in seconds[1:])
    assert "mqtt: connected" in text
    assert f"the poses, drawn: {out}" in text
    cached = samples_dir() / SQUATS.filename
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == SQUATS.sha256
    assert sorted(p.name for p in samples_dir().iterdir()) == [SQUATS.filename], "no staging leftovers"
    assert len(json.loads(poses.text)["poses"][0]["keypoints"]) == 33
    video = cv2.VideoCapture(str(out))
    try:
        assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(5.0)
        assert video.get(cv2.CAP_PROP_FRAME_COUNT) >= 40  # 10 s of a 5 fps clip, looped
    finally:
        video.release()


def test_offline_with_nothing_cached_says_so_and_suggests_video(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every connection refused: the proxy all HTTPS traffic must go through is not there.
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("https_proxy", closed)
    monkeypatch.setenv("http_proxy", closed)
    code = main(["demo", "--seconds", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "offline: the sample clip is not cached and no server answered" in err
    assert "posed demo --video PATH" in err
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


def test_ctrl_c_stops_cleanly_and_names_the_video(store: Path, models_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ctrl-c.mp4"
    argv = [sys.executable, "-m", "posed", "demo", "--video", str(CLIP), "--model-dir", str(models_dir)]
    process = subprocess.Popen(
        [*argv, "--out", str(out), "--broker", f"127.0.0.1:{free_port()}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # wait for the first summary line, not for a timer
        seen.append(line)
        if SUMMARY.match(line):
            break
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
