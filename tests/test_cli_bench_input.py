"""`posed bench` without the shared test media: it measures on the sample clip of `posed demo`
(downloaded once, here from a local server), and when that cannot be had it says to pass --video."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from posed.samples import SQUATS
from tests.conftest import CONFORMANCE, POSED, REPO
from tests.models_support import ServedFiles, http_server
from tests.mosquitto import free_port

CLIP = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"


def bench(tmp_path: Path, models_dir: Path, mirror: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "POSED_SHARED_DIR": str(tmp_path / "no-shared"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "POSED_MODEL_MIRROR": mirror,
    }
    argv = [*POSED, "bench", "--json", "--seconds", "0.3", "--backend", "tflite", "--model", "blazepose-lite"]
    return subprocess.run(
        [*argv, "--model-dir", str(models_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=240,
    )


def test_without_shared_media_bench_uses_the_sample_clip(tmp_path: Path, models_dir: Path) -> None:
    served = ServedFiles({SQUATS.filename: CLIP.read_bytes()})
    with http_server(served) as url:
        result = bench(tmp_path, models_dir, url)
    assert result.returncode == 0, result.stderr
    cached = tmp_path / "cache" / "posed" / "samples" / SQUATS.filename
    assert f"measuring every model on the sample clip {cached}" in result.stderr
    assert "--video FILE" in result.stderr
    assert {json.loads(line)["model"] for line in result.stdout.splitlines()} == {
        "blazepose-lite",
        "blazepose-detector",
    }


def test_without_shared_media_or_network_bench_suggests_video(tmp_path: Path, models_dir: Path) -> None:
    result = bench(tmp_path, models_dir, f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "no benchmark input" in result.stderr and "Pass --video FILE" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
