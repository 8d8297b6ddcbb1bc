"""Raw inference time of one model file: the backend session alone, no pre- or post-processing."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from posed.backend import Backend, BackendConfig, InferenceSession, Role, TensorSpec

WARMUP_RUNS = 3
MIN_RUNS = 10


def synthetic_input(spec: TensorSpec, rng: np.random.Generator) -> npt.NDArray[np.generic]:
    """Input of the right shape and dtype. Values do not change CPU inference time."""
    dtype = np.dtype(spec.dtype)
    if dtype.kind == "f":
        return rng.random(spec.shape, dtype=np.float32).astype(dtype, copy=False)
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, size=spec.shape, dtype=dtype)


class RawTimer:
    """Times session.run() in blocks, so that it can alternate with other measurements."""

    def __init__(self, session: InferenceSession) -> None:
        rng = np.random.default_rng(0)
        self._session = session
        self._inputs = [synthetic_input(spec, rng) for spec in session.inputs]
        self.samples_ms: list[float] = []
        for _ in range(WARMUP_RUNS):
            session.run(*self._inputs)

    def run_for(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while True:
            start = time.perf_counter()
            self._session.run(*self._inputs)
            end = time.perf_counter()
            self.samples_ms.append((end - start) * 1000.0)
            if end >= deadline:
                return


def time_model(
    backend: Backend, config: BackendConfig, path: Path, role: Role, seconds: float
) -> tuple[str, list[float]]:
    """(device really in use, milliseconds per run) for one model file, at least MIN_RUNS runs."""
    with backend.open_session(path, config, role=role) as session:
        timer = RawTimer(session)
        timer.run_for(seconds)
        while len(timer.samples_ms) < MIN_RUNS:
            timer.run_for(0.0)
        return session.device, timer.samples_ms
