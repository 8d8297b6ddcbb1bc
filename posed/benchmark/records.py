"""The result of one `posed bench` combination, as JSON or as a table row."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# The keys of a record are a contract: later checks read `posed bench --json`.
RECORD_KEYS = (
    "backend",
    "device",
    "model",
    "raw_inference_ms",
    "pipeline_fps",
    "cpu_ms_per_frame",
    "latency_ms",
    "rss_mb",
    "startup_s",
    "video",
    "gate",
    "gated_fraction",
    "cpu_ms_per_video_s",
)


@dataclass(frozen=True, slots=True)
class Spread:
    """Two percentiles of a sample, in the sample's unit."""

    low_name: str
    low: float
    high_name: str
    high: float

    def as_dict(self) -> dict[str, float]:
        return {self.low_name: round(self.low, 3), self.high_name: round(self.high, 3)}


def spread(samples: Sequence[float], low: int, high: int) -> Spread:
    values = np.percentile(np.asarray(samples, dtype=np.float64), [low, high])
    return Spread(f"p{low}", float(values[0]), f"p{high}", float(values[1]))


@dataclass(frozen=True, slots=True)
class BenchRecord:
    """One backend/device x model. A field is None when it does not apply.

    The BlazePose detector gets a record of its own (model `blazepose-detector`)
    holding only its raw inference time, since it runs inside every BlazePose model.
    """

    backend: str
    device: str
    model: str
    raw_inference_ms: Spread | None = None  # p50, p95
    pipeline_fps: float | None = None
    latency_ms: Spread | None = None  # p50, p99
    rss_mb: float | None = None
    startup_s: float | None = None
    # Process CPU time (all threads) per frame over the pipeline blocks.
    cpu_ms_per_frame: float | None = None
    video: str | None = None  # the input file's name
    gate: bool | None = None  # whether the motion gate was on
    gated_fraction: float | None = None  # of the frames, those the gate kept from the estimator
    # cpu_ms_per_frame x the clip's frame rate: CPU per second of a camera at that rate.
    cpu_ms_per_video_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "device": self.device,
            "model": self.model,
            "raw_inference_ms": self.raw_inference_ms.as_dict() if self.raw_inference_ms else None,
            "pipeline_fps": _round(self.pipeline_fps, 2),
            "cpu_ms_per_frame": _round(self.cpu_ms_per_frame, 3),
            "latency_ms": self.latency_ms.as_dict() if self.latency_ms else None,
            "rss_mb": _round(self.rss_mb, 1),
            "startup_s": _round(self.startup_s, 3),
            "video": self.video,
            "gate": self.gate,
            "gated_fraction": _round(self.gated_fraction, 3),
            "cpu_ms_per_video_s": _round(self.cpu_ms_per_video_s, 2),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    @property
    def overhead_ratio(self) -> float | None:
        """pipeline_fps over the rate raw inference alone would allow (target: >= 0.9)."""
        if self.pipeline_fps is None or self.raw_inference_ms is None or self.raw_inference_ms.low <= 0:
            return None
        return self.pipeline_fps * self.raw_inference_ms.low / 1000.0


def _round(value: float | None, ndigits: int) -> float | None:
    return None if value is None else round(value, ndigits)


def load_note() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


_COLUMNS = (
    ("backend", 8),
    ("device", 12),
    ("model", 30),
    ("video", 24),
    ("gate", 4),
    ("raw ms p50/p95", 15),
    ("pipe fps", 9),
    ("ratio", 6),
    ("cpu ms/f", 8),
    ("cpu ms/s", 8),
    ("lat ms p50/p99", 15),
    ("rss MB", 7),
    ("start s", 7),
)


def format_table(records: Iterable[BenchRecord]) -> str:
    """A fixed-width table; `ratio` is pipeline_fps x raw p50 / 1000 (target >= 0.9)."""
    lines = ["  ".join(name.ljust(width) for name, width in _COLUMNS)]
    for record in records:
        cells = (
            record.backend,
            record.device,
            record.model,
            record.video or "-",
            "-" if record.gate is None else ("on" if record.gate else "off"),
            _pair(record.raw_inference_ms, 2),
            _num(record.pipeline_fps, 1),
            _num(record.overhead_ratio, 2),
            _num(record.cpu_ms_per_frame, 2),
            _num(record.cpu_ms_per_video_s, 1),
            _pair(record.latency_ms, 1),
            _num(record.rss_mb, 0),
            _num(record.startup_s, 2),
        )
        lines.append("  ".join(cell.ljust(width) for cell, (_, width) in zip(cells, _COLUMNS, strict=True)))
    return "\n".join(lines)


def _num(value: float | None, ndigits: int) -> str:
    return "-" if value is None else f"{value:.{ndigits}f}"


def _pair(value: Spread | None, ndigits: int) -> str:
    return "-" if value is None else f"{value.low:.{ndigits}f}/{value.high:.{ndigits}f}"
