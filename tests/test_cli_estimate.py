"""`posed estimate` as a user meets it: --draw for images and videos (pixels checked in
test_draw.py; here the files, their frame rate and the unchanged JSON), inputs and model
names checked before a model loads, and Ctrl-C leaving complete JSON Lines and exit 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posed.cli.main import main
from tests.conftest import CONFORMANCE, REPO

POSE_JPG = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"
SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"


def imread(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, f"cannot read {path}"
    return np.asarray(image)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_draw_an_image_keeps_the_json_and_writes_the_drawing(
    tmp_path: Path, models_dir: Path, private_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["estimate", "--model-dir", str(models_dir), str(POSE_JPG)]
    code, plain, _ = run(capsys, *args)
    assert code == 0
    out = tmp_path / "drawn.png"
    code, with_draw, _ = run(capsys, *args, "--draw", str(out))
    assert code == 0
    assert json.loads(with_draw) == json.loads(plain)
    drawn, original = imread(out), imread(POSE_JPG)
    assert drawn.shape == original.shape
    changed = (drawn != original).any(axis=2)
    assert 0.005 < changed.mean() < 0.2, "a skeleton and a box: some pixels, not the whole picture"


def test_draw_several_images_into_a_folder(
    tmp_path: Path, models_dir: Path, private_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 90, dtype=np.uint8))
    folder = tmp_path / "drawn"
    code, _, err = run(
        capsys, "estimate", "--model-dir", str(models_dir), str(POSE_JPG), str(blank), "--draw", "x.png"
    )
    assert code == 1 and "existing folder" in err
    folder.mkdir()
    code, out, _ = run(
        capsys, "estimate", "--model-dir", str(models_dir), str(POSE_JPG), str(blank), "--draw", str(folder)
    )
    assert code == 0
    results = json.loads(out)
    assert [len(r["poses"]) for r in results] == [1, 0]
    assert sorted(p.name for p in folder.iterdir()) == ["blank.png", "pose.jpg"]
    # The picture without people is written unchanged (PNG is lossless).
    assert np.array_equal(imread(folder / "blank.png"), imread(blank))


def test_draw_a_video_at_its_frame_rate_with_the_same_json_lines(
    tmp_path: Path, models_dir: Path, private_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["estimate", "--model", "blazepose-lite", "--model-dir", str(models_dir), str(SQUATS)]
    code, plain, _ = run(capsys, *args)
    assert code == 0
    out = tmp_path / "squats.mp4"
    code, with_draw, err = run(capsys, *args, "--draw", str(out))
    assert code == 0, err
    assert with_draw == plain
    source, drawn = cv2.VideoCapture(str(SQUATS)), cv2.VideoCapture(str(out))
    try:
        assert drawn.get(cv2.CAP_PROP_FPS) == pytest.approx(source.get(cv2.CAP_PROP_FPS))
        sizes = []
        while True:
            ok, frame = drawn.read()
            if not ok:
                break
            sizes.append((frame.shape[1], frame.shape[0]))
        assert len(sizes) == len(plain.splitlines()) == 65
        assert set(sizes) == {(720, 1280)}
    finally:
        source.release()
        drawn.release()
    code, _, err = run(capsys, *args, "--draw", str(tmp_path / "squats.png"))
    assert code == 1 and "video file" in err


def test_missing_inputs_are_reported_before_any_model_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    # With no model anywhere, loading one first would fail on the model instead.
    code, _, err = run(
        capsys, "estimate", "--model-dir", str(empty), str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")
    )
    assert code == 1
    assert f"inputs not found: {tmp_path / 'a.jpg'}, {tmp_path / 'b.jpg'}" in err
    code, _, err = run(capsys, "estimate", str(POSE_JPG), "--draw", str(tmp_path / "nowhere" / "x.png"))
    assert code == 1 and "does not exist" in err


def test_a_mistyped_model_gets_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "estimate", "--model", "blazepose-ful", "--model-dir", str(tmp_path), str(POSE_JPG)
    )
    assert code == 1
    assert "unknown model 'blazepose-ful' (did you mean 'blazepose-full'?)" in err
    code, _, err = run(capsys, "estimate", "--model", "zzz", "--model-dir", str(tmp_path), str(POSE_JPG))
    assert "did you mean" not in err and "known models: blazepose-lite" in err


def test_ctrl_c_leaves_complete_json_lines_and_exits_130(tmp_path: Path, models_dir: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    argv = [
        sys.executable,
        "-m",
        "posed",
        "estimate",
        "--model",
        "blazepose-full",
        "--model-dir",
        str(models_dir),
    ]
    process = subprocess.Popen(
        [*argv, "--draw", str(tmp_path / "part.mp4"), str(SQUATS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert process.stdout is not None
    first = [process.stdout.readline() for _ in range(3)]  # wait on output, not on a timer
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    lines = [*first, *rest.splitlines(keepends=True)]
    frames = [json.loads(line)["frame"] for line in lines]  # every line is whole JSON
    assert frames == list(range(len(frames))) and 3 <= len(frames) < 65
    assert all(line.endswith("\n") for line in lines)
    assert f"interrupted after {len(frames)} frame(s)" in err
    assert "Traceback" not in err
    drawn = cv2.VideoCapture(str(tmp_path / "part.mp4"))
    try:
        assert drawn.isOpened() and drawn.read()[0], "the drawn video is finalised and plays"
    finally:
        drawn.release()
