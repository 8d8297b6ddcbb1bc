"""`startup_s` and `rss_mb`, measured in fresh processes (see posed.benchmark.child).

Each measurement spawns `python -m posed.benchmark.child` on a generated config.
A first, discarded run warms the caches (the OS page cache, and OpenVINO's
compiled-model cache, for which a cache directory is set when the config has
none); startup is then the median of STARTUP_RUNS runs, the last of which also
stays up for the steady-state RSS.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posed.benchmark.frames import IMAGE_SUFFIXES
from posed.errors import PosedError

STARTUP_RUNS = 3
CHILD_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    startup_s: float
    rss_mb: float  # median of the second half of the steady-state samples
    rss_samples: list[float]


def write_config(
    directory: Path,
    backend: dict[str, Any],
    model: dict[str, Any],
    media: Path,
    model_dir: Path | None,
) -> Path:
    """A daemon config for the child. JSON is valid YAML, and the loader reads it as such."""
    camera_type = "images" if media.suffix.lower() in IMAGE_SUFFIXES else "video"
    document: dict[str, Any] = {
        "device_id": "bench",
        "backend": backend,
        "model": model,
        "cameras": {"bench": {"type": camera_type, "path": str(media.resolve()), "loop": True}},
    }
    if model_dir is not None:
        document["model_dir"] = str(model_dir.resolve())
    path = directory / "bench.yaml"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def measure_process(config: Path, steady_seconds: float) -> ProcessFigures:
    _run_child(config, 0.0)  # warm-up: fills the caches, not counted
    startups: list[float] = []
    samples: list[float] = []
    for run in range(STARTUP_RUNS):
        last = run == STARTUP_RUNS - 1
        startup, rss = _run_child(config, steady_seconds if last else 0.0)
        startups.append(startup)
        samples = rss
    if not samples:
        raise PosedError("the benchmark child reported no RSS samples")
    steady = samples[len(samples) // 2 :]
    return ProcessFigures(statistics.median(startups), statistics.median(steady), samples)


def _run_child(config: Path, steady_seconds: float) -> tuple[float, list[float]]:
    command = [sys.executable, "-m", "posed.benchmark.child", str(config)]
    if steady_seconds > 0:
        command += ["--steady-seconds", str(steady_seconds)]
    # The child stamps its own ready time, so reading its output late costs nothing.
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S + steady_seconds
        )
    except subprocess.TimeoutExpired as exc:
        raise PosedError(f"benchmark child did not finish within {exc.timeout:.0f} s") from exc
    ready: float | None = None
    rss: list[float] = []
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if "ready" in message:
            ready = float(message["ready"]) - started
        if "rss_mb" in message:
            rss = [float(v) for v in message["rss_mb"]]
    if result.returncode != 0 or ready is None:
        raise PosedError(
            f"benchmark child failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    return ready, rss
