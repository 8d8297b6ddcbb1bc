"""`posed evaluate` end to end: real video decoding, the real model, the real analyzers.

On a clip built from a real frame (tests.events_support.write_fall_clip) it must find
the fall exactly where `posed estimate --events` reports it (the same path, not a
second pipeline); on one short footage clip it must print its lines, write its JSON,
and give the same figures again from its pose cache.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CONFORMANCE, MODELS, POSED, SHARED
from tests.events_support import write_fall_clip
from tests.test_events_estimate import estimate_events

FOOTAGE = SHARED / "footage"
SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"


def evaluate(labels: Path, *extra: str) -> tuple[list[str], dict[str, Any]]:
    out = labels.parent / "figures.json"
    result = subprocess.run(
        [*POSED, "evaluate", str(labels), "--model-dir", str(MODELS), "--json", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines(), json.loads(out.read_text())


def test_a_constructed_fall_is_found_where_estimate_events_reports_it(tmp_path: Path) -> None:
    clip = tmp_path / "fall.mp4"
    phases = dict(write_fall_clip(SQUATS, clip))
    labels = tmp_path / "labels.json"
    window = [phases["falling"], phases["rising"]]
    labels.write_text(json.dumps({"clips": {"fall.mp4": {"falls": [window], "no_gesture": True}}}))
    lines, figures = evaluate(labels, "--hold", "0")
    detected = [
        e["timestamp"] for e in estimate_events(clip) if e["type"] == "fall" and e["state"] == "detected"
    ]
    (clip_figures,) = figures["clips"]
    assert clip_figures["detected"] == pytest.approx(detected, abs=1e-3) and len(detected) == 1
    assert (clip_figures["falls_found"], clip_figures["false_falls"]) == (1, [])
    assert lines[0].startswith("fall.mp4") and "falls 1/1" in lines[0]
    assert figures["summary"]["falls_found"] == 1 and lines[-1].startswith("1 clips: falls 1/1")


@pytest.mark.skipif(not FOOTAGE.is_dir(), reason=f"the labelled footage is absent: expected {FOOTAGE}")
def test_a_footage_clip_is_scored_and_the_pose_cache_gives_the_same_figures(tmp_path: Path) -> None:
    labels = FOOTAGE / "labels.json"
    cache = tmp_path / "cache"
    args = ("--clips", "stand_idle_front.mp4", "--hold", "1", "--cache", str(cache))
    out = tmp_path / "figures.json"
    runs = []
    for _ in range(2):
        result = subprocess.run(
            [*POSED, "evaluate", str(labels), "--model-dir", str(MODELS), "--json", str(out), *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append((result.stdout.splitlines(), json.loads(out.read_text())))
    (computed_lines, computed), (cached_lines, cached) = runs
    assert [c["cached"] for c in computed["clips"]] == [False]
    assert [c["cached"] for c in cached["clips"]] == [True] and "(cached poses)" in cached_lines[0]
    # about 10.6 s at 10 fps, then 1 s held
    assert 110 <= computed["clips"][0]["frames"] <= 120
    for key in ("detected", "false_falls", "false_gestures", "frames"):
        assert cached["clips"][0][key] == computed["clips"][0][key]
    assert computed["clips"][0]["false_falls"] == [] and computed_lines[-1].startswith("1 clips:")
    assert len(list(cache.iterdir())) == 1


def test_a_clip_not_in_the_labels_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"clips": {"a.mp4": {}}}))
    result = subprocess.run(
        [*POSED, "evaluate", str(labels), "--clips", "b.mp4"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "'b.mp4' is not in" in result.stderr
    result = subprocess.run([*POSED, "evaluate", str(labels)], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "clip not found" in result.stderr
