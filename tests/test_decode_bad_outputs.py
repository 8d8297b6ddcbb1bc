"""posed's decoding of any backend's outputs: values no network produces are one failed inference.

A backend (a remote server, a broken accelerator) may answer NaN, infinities or absurd
values. The decoders must turn that into BadAnswerError, which the daemon's worker
rides out, never into an unrelated exception (ValueError from int(NaN), cv2 errors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from posed.backend import MAX_OUTPUT_MAGNITUDE, BackendConfig, InferenceSession, Role
from posed.config.schema import BlazePoseOptions, ModelConfig
from posed.errors import BadAnswerError
from posed.estimator import open_estimator
from posed.plugins import load_backend
from tests.conftest import MODELS
from tests.mqtt_support import decoded_frames


class Answering:
    """A real session whose outputs are replaced by one value (all of them), like a bad server."""

    def __init__(self, session: InferenceSession, value: float) -> None:
        self._session = session
        self.value = value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def run(self, *inputs: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.generic], ...]:
        outputs = self._session.run(*inputs)
        return tuple(_filled(array, self.value) for array in outputs)

    def __enter__(self) -> Answering:
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()


def _filled(array: npt.NDArray[np.generic], value: float) -> npt.NDArray[np.generic]:
    if array.dtype.kind == "f":
        with np.errstate(over="ignore"):
            return np.full(array.shape, value, dtype=array.dtype)
    info = np.iinfo(array.dtype)  # type: ignore[type-var]
    return np.full(array.shape, info.max if value > 0 else info.min, dtype=array.dtype)


class AnsweringBackend:
    """The tflite backend, every session wrapped in Answering."""

    def __init__(self, value: float) -> None:
        self._real = load_backend("tflite")
        self.name = self._real.name
        self.config_model = self._real.config_model
        self.value = value

    def probe(self) -> Any:
        return self._real.probe()

    def open_session(self, model_path: Path, config: BackendConfig, *, role: Role = "main") -> Answering:
        return Answering(self._real.open_session(model_path, config, role=role), self.value)


MODELS_UNDER_TEST = {
    "blazepose-lite": ModelConfig(name="blazepose-lite"),
    "blazepose-two-people": ModelConfig(name="blazepose-lite", blazepose=BlazePoseOptions(num_poses=2)),
    "posenet": ModelConfig(name="posenet-mobilenet-075-353x481"),
}
ABSURD = [float("nan"), float("inf"), float("-inf"), 3e38, -3e38, 2 * MAX_OUTPUT_MAGNITUDE]
ODD_BUT_FINITE = [MAX_OUTPUT_MAGNITUDE, -MAX_OUTPUT_MAGNITUDE, 1e6, -1e6, 0.0]


def _estimate(model: str, value: float, timestamps: list[float | None]) -> list[Any]:
    backend = AnsweringBackend(value)
    config = backend.config_model.model_validate({"type": "tflite", "num_threads": 1})
    image = decoded_frames(1)[0]
    with open_estimator(MODELS_UNDER_TEST[model], backend, config, model_dirs=[MODELS]) as estimator:
        return [estimator.estimate(image, t) for t in timestamps]


@pytest.mark.parametrize("model", ["blazepose-lite", "blazepose-two-people"])
@pytest.mark.parametrize("value", ABSURD, ids=repr)
def test_absurd_float_outputs_are_a_bad_answer(model: str, value: float) -> None:
    with pytest.raises(BadAnswerError, match="holds values no network produces"):
        _estimate(model, value, [None])


@pytest.mark.parametrize("model", sorted(MODELS_UNDER_TEST))
@pytest.mark.parametrize("value", ODD_BUT_FINITE, ids=repr)
def test_extreme_finite_outputs_decode_without_crashing(model: str, value: float) -> None:
    # Tracked frames too: the second frame reuses the first one's region of interest.
    for poses in _estimate(model, value, [0.0, 0.1, 0.2]):
        for pose in poses:
            assert np.isfinite(pose.score)
            assert pose.keypoints.dtype == np.float32
