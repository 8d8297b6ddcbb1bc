"""`posed estimate` over a batch: a bad file is reported and skipped, never the end of the batch.

An empty file, a PNG cut after its header, a FIFO and a PNG whose header claims 20000 x 20000
pixels (it would decode to 1.2 GB) are each named on stderr; the JSON holds every other
image and the exit code (3) says that something was skipped. `--events` on a folder does
the same. Real `posed estimate` processes with a real model.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from posed.errors import EXIT_SKIPPED
from tests.conftest import CONFORMANCE, MODELS, POSED

POSE_JPG = CONFORMANCE / "tfjs-pose-detection" / "pose.jpg"
pytestmark = pytest.mark.skipif(not POSE_JPG.is_file(), reason="needs ../shared/conformance")


def huge_png_header(path: Path, side: int = 20000) -> None:
    """A PNG that says it is side x side pixels: its signature and IHDR, the few bytes a header read sees."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    path.write_bytes(data + b"\0" * 64)


def bad_files(folder: Path) -> dict[str, str]:
    """name -> what stderr must say about it."""
    (folder / "b_empty.png").write_bytes(b"")
    huge_png_header(folder / "c_cut.png", side=10)  # a header and no pixel data
    huge_png_header(folder / "d_huge.png")
    os.mkfifo(folder / "e_pipe.png")
    return {
        "b_empty.png": "empty or not a JPEG, PNG or BMP image",
        "c_cut.png": "OpenCV cannot decode it",
        "d_huge.png": "20000x20000 is 400,000,000 pixels, more than --max-pixels (50,000,000)",
        "e_pipe.png": "it is a FIFO (named pipe)",
    }


def _estimate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSED, "estimate", "--model", "blazepose-lite", "--model-dir", str(MODELS), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_batch_skips_bad_files_and_says_so_in_its_exit_code(tmp_path: Path) -> None:
    shutil.copy(POSE_JPG, tmp_path / "a_good.jpg")
    shutil.copy(POSE_JPG, tmp_path / "f_good.jpg")
    expected = bad_files(tmp_path)
    names = ["a_good.jpg", *expected, "f_good.jpg"]
    result = _estimate(*(str(tmp_path / n) for n in names))
    assert result.returncode == EXIT_SKIPPED, result.stderr
    results = json.loads(result.stdout)
    assert [Path(r["input"]).name for r in results] == ["a_good.jpg", "f_good.jpg"]
    assert all(r["poses"] for r in results)
    for name, reason in expected.items():
        line = next((s for s in result.stderr.splitlines() if f"skipping {tmp_path / name}" in s), None)
        assert line is not None, result.stderr
        assert reason in line, line
    assert "4 of 6 image(s) skipped" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_good_batch_still_exits_0(tmp_path: Path) -> None:
    result = _estimate(str(POSE_JPG), str(POSE_JPG))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2


def test_events_on_a_folder_carry_on_past_a_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        shutil.copy(POSE_JPG, folder / f"{i}_good.jpg")
    (folder / "1_empty.png").write_bytes(b"")
    huge_png_header(folder / "2_huge.png")
    result = _estimate("--events", str(folder))
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert f"skipping {folder / '1_empty.png'}" in result.stderr
    assert f"skipping {folder / '2_huge.png'}: 20000x20000" in result.stderr
    assert "2 of 5 image(s) skipped" in result.stderr
    frames = {json.loads(line)["frame"] for line in result.stdout.splitlines()}
    # In name order 0_good, 1_empty, 1_good, 2_good, 2_huge: the bad ones' numbers stay unused.
    assert frames <= {0, 2, 3}
