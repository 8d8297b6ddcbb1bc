"""Progress bars: drawn on stderr when it is a terminal (a real pseudo-terminal here), absent
when it is not, and never mixed into stdout's JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.conftest import CONFORMANCE, POSED, REPO
from tests.terminal_support import run_with_terminal_stderr

SQUATS = CONFORMANCE / "tfjs-pose-detection" / "pose_squats.mp4"


def estimate_argv(models_dir: Path) -> list[str]:
    return [*POSED, "estimate", "--model", "blazepose-lite", "--model-dir", str(models_dir), str(SQUATS)]


def test_estimate_shows_a_bar_on_a_terminal_and_keeps_stdout_clean(models_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    code, out, terminal = run_with_terminal_stderr(estimate_argv(models_dir), env, REPO)
    assert code == 0, terminal
    assert [json.loads(line)["frame"] for line in out.splitlines()] == list(range(65))
    # The bar, with the file, the frame count and the unit (how far it got before the end depends on
    # the machine's load; it is cleared when done, so that the terminal is left clean).
    assert re.search(r"pose_squats\.mp4: +\d+%\|.*\| \d+/65 \[", terminal), terminal
    assert "frame" in terminal


def test_no_bar_when_stderr_is_not_a_terminal(models_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        estimate_argv(models_dir), capture_output=True, text=True, cwd=REPO, env=env, timeout=240
    )
    assert result.returncode == 0
    assert "frame/s" not in result.stderr and "\r" not in result.stderr


def test_bench_shows_how_much_is_left(models_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    argv = [*POSED, "bench", "--seconds", "0.3", "--backend", "tflite", "--model", "blazepose-lite"]
    code, _, terminal = run_with_terminal_stderr(
        [*argv, "--model-dir", str(models_dir), "--video", str(SQUATS)], env, REPO
    )
    assert code == 0, terminal
    # One model and the detector's record on one backend/device: two runs.
    assert re.search(r"posed bench: +\d+%\|.*\| [0-2]/2 \[", terminal), terminal
