"""`posed bench --json`: the record contract, on a short real run. No speed is asserted."""

from __future__ import annotations

import itertools
import json
import os
import subprocess

import pytest

from posed.benchmark.frames import replay_order
from posed.benchmark.records import RECORD_KEYS, BenchRecord, format_table, spread
from tests.conftest import POSED, REPO, SHARED


@pytest.fixture(scope="module")
def lite_records(models_dir):
    env = {**os.environ, "POSED_SHARED_DIR": str(SHARED)}
    command = [*POSED, "bench", "--json", "--seconds", "1", "--backend", "tflite"]
    command += ["--model", "blazepose-lite", "--model-dir", str(models_dir)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "load average" in result.stderr
    return {record["model"]: record for record in map(json.loads, result.stdout.splitlines())}


def test_records_have_exactly_the_contract_keys(lite_records):
    assert set(lite_records) == {"blazepose-lite", "blazepose-detector"}
    for record in lite_records.values():
        assert tuple(record) == RECORD_KEYS
        assert record["backend"] == "tflite"
        assert record["device"].startswith("cpu")


def test_model_record_is_sane(lite_records):
    lite = lite_records["blazepose-lite"]
    # The gate is on by default, and pose_squats shows a person in every frame: nothing is skipped.
    assert lite["gate"] is True and lite["video"] == "pose_squats.mp4"
    assert lite["gated_fraction"] == 0.0
    assert lite["cpu_ms_per_video_s"] == pytest.approx(lite["cpu_ms_per_frame"] * 5.0, rel=0.01)
    raw, latency = lite["raw_inference_ms"], lite["latency_ms"]
    assert set(raw) == {"p50", "p95"} and 0 < raw["p50"] <= raw["p95"]
    assert set(latency) == {"p50", "p99"} and 0 < latency["p50"] <= latency["p99"]
    assert lite["pipeline_fps"] > 0
    # All cores at most: CPU per frame cannot exceed twice the wall time per frame
    # (plus slack for rounding); zero would mean the CPU clock was never read.
    assert 0 < lite["cpu_ms_per_frame"] < ((os.cpu_count() or 1) + 0.2) * 1000 / lite["pipeline_fps"]
    # The pipeline runs the landmark model on every frame, so it cannot be much
    # faster than that model alone; a ratio far above 1 means a step was skipped.
    assert lite["pipeline_fps"] * raw["p50"] / 1000 < 2.0
    # Two interpreters, numpy, OpenCV and a decoded frame cannot fit in 50 MB.
    assert 50 < lite["rss_mb"] < 4000
    assert 0 < lite["startup_s"] < 120


def test_detector_record_holds_only_raw_inference(lite_records):
    detector = lite_records["blazepose-detector"]
    assert 0 < detector["raw_inference_ms"]["p50"] <= detector["raw_inference_ms"]["p95"]
    absent = ("pipeline_fps", "cpu_ms_per_frame", "latency_ms", "rss_mb", "startup_s")
    assert [detector[k] for k in absent] == [None] * len(absent)


def test_table_has_one_row_per_record_and_the_ratio():
    record = BenchRecord(
        "tflite", "cpu", "blazepose-full", spread([10.0, 10.0, 30.0], 50, 95), 90.0, None, 120.0, 1.5, 17.25
    )
    detector = BenchRecord("tflite", "cpu", "blazepose-detector", spread([5.0], 50, 95))
    lines = format_table([record, detector]).splitlines()
    assert len(lines) == 3
    assert "0.90" in lines[1].split()  # 90 fps x 10 ms / 1000
    assert lines[1].split()[7:9] == ["0.90", "17.25"]  # ratio, then cpu ms per frame
    assert lines[2].split()[3:] == ["-", "-", "5.00/5.00", "-", "-", "-", "-", "-", "-", "-"]


def test_table_shows_the_clip_the_gate_and_cpu_per_second_of_video():
    record = BenchRecord(
        "tflite",
        "cpu",
        "blazepose-full",
        spread([10.0], 50, 95),
        90.0,
        None,
        120.0,
        1.5,
        2.0,
        video="empty.mp4",
        gate=True,
        gated_fraction=0.9,
        cpu_ms_per_video_s=30.0,
    )
    cells = format_table([record]).splitlines()[1].split()
    assert cells[3:5] == ["empty.mp4", "on"]
    assert cells[8:10] == ["2.00", "30.0"]  # cpu ms per frame, then per second of video
    assert record.as_dict()["gated_fraction"] == 0.9


def test_replay_goes_forwards_then_backwards_without_repeating_ends():
    assert list(itertools.islice(replay_order(4), 10)) == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]
    assert list(itertools.islice(replay_order(1), 3)) == [0, 0, 0]
