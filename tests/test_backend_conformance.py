"""posed's own backends pass the shipped conformance suite, and the suite catches broken backends.

The PoseNet short-offset tolerance is wide on purpose: see tests/test_backend_parity.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pytest
from posed_tflite.plugin import TFLiteBackend

from posed.backend import MAX_IN_FLIGHT, BackendConfig, BackendStatus, TensorSpec, check_inputs
from posed.errors import BackendError, ClosedError
from posed.plugins import load_backend
from posed.testing.backend_conformance import (
    BackendConformance,
    ConformanceError,
    ModelCase,
    check_agreement,
    check_closed,
    check_corrupt_models,
    check_repeatable,
    check_run,
    check_specs,
    check_wrong_inputs,
    reference_outputs,
)
from posed.testing.compare import Tolerance
from posed.testing.cpu_features import NO_VNNI_POSENET_TOLERANCES, has_int8_dot_product
from posed.testing.inputs import DETECTOR_RANGE, PIXEL_RANGE, model_inputs
from posed.testing.overlap_conformance import check_overlap, exactly_equal
from posed.testing.resize_conformance import check_resize
from posed.tflite_file import read_model_info
from tests.conftest import CONFORMANCE, MODELS

DETECTOR = MODELS / "pose_detection.tflite"
POSENET = MODELS / "posenet_mobilenet_v1_075_353_481_quant.tflite"
POSENET_RESIZED = (1, 257, 321, 3)  # a size none of the Coral files has
COUPLE = CONFORMANCE / "coral-posenet" / "test_couple.jpg"
MOVENET_SINGLE = MODELS / "movenet_singlepose_lightning_f32_from_tfjs.tflite"  # int32 input
MOVENET_MULTI = MODELS / "movenet_multipose_lightning_float16.tflite"  # uint8 input, any size
MOVENET_MULTI_INPUT = (1, 192, 256, 3)  # test_couple.jpg at MoveNet's default 256 long side
# OpenVINO vs LiteRT/XNNPACK on PoseNet, in uint8 steps (measured worst over 4 images x 3 sizes:
# short offsets max 57, p99 17, mean 3.1). See test_backend_parity.py for why.
POSENET_TOLERANCES = {
    "float_short_offsets": Tolerance(quant_mean_steps=4.5, quant_p99_steps=24, quant_max_steps=80)
}
if not has_int8_dot_product():  # a CPU without VNNI rounds uint8 layers its own way (cpu_features.py)
    POSENET_TOLERANCES = NO_VNNI_POSENET_TOLERANCES


class TestTFLiteConformance(BackendConformance):
    backend = "tflite"
    config: ClassVar[dict[str, Any]] = {"type": "tflite"}
    image = COUPLE
    cases = (
        ModelCase(DETECTOR, float_range=DETECTOR_RANGE),
        ModelCase(POSENET, resize_to=POSENET_RESIZED),
        ModelCase(MOVENET_SINGLE, float_range=PIXEL_RANGE),
        ModelCase(MOVENET_MULTI, resize_to=MOVENET_MULTI_INPUT, dynamic_input=True),
    )


class TestTFLiteNoDelegateConformance(BackendConformance):
    """TFLite's builtin kernels agree with XNNPACK on float models (not on uint8 ones: see parity)."""

    backend = "tflite"
    config: ClassVar[dict[str, Any]] = {"type": "tflite", "delegate": "none", "num_threads": 1}
    image = COUPLE
    cases = (ModelCase(DETECTOR, float_range=DETECTOR_RANGE),)


class TestOpenVINOConformance(BackendConformance):
    backend = "openvino"
    config: ClassVar[dict[str, Any]] = {"type": "openvino", "device": "CPU"}
    image = COUPLE
    cases = (
        ModelCase(DETECTOR, float_range=DETECTOR_RANGE),
        ModelCase(POSENET, tolerances=POSENET_TOLERANCES, resize_to=POSENET_RESIZED),
        ModelCase(MOVENET_SINGLE, float_range=PIXEL_RANGE),
        ModelCase(MOVENET_MULTI, resize_to=MOVENET_MULTI_INPUT, dynamic_input=True),
    )


# --- a third party's backend, handed to the suite as an instance -------------------------------


class _MiniConfig(BackendConfig):
    pass


class _MiniSession:
    """A minimal correct session over LiteRT, as a plugin author might write it."""

    def __init__(
        self, path: Path, *, stale: bool = False, leaky_views: bool = False, lax: bool = False
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (optional runtime)

        self._it: Any = Interpreter(model_path=str(path), num_threads=1)
        self._it.allocate_tensors()
        ins, outs = self._it.get_input_details(), self._it.get_output_details()

        def spec(d: dict[str, Any]) -> TensorSpec:
            return TensorSpec(str(d["name"]), tuple(int(x) for x in d["shape"]), np.dtype(d["dtype"]).name)

        self.inputs = tuple(spec(d) for d in ins)
        self.outputs = tuple(spec(d) for d in outs)
        self.device = "mini"
        self._in = [d["index"] for d in ins]
        self._out = [d["index"] for d in outs]
        self._stale, self._leaky, self._lax = stale, leaky_views, lax
        self._first: tuple[np.ndarray, ...] | None = None

    def run(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._it is None and not self._lax:
            raise ClosedError("closed")
        if self._stale and self._first is not None:
            return self._first
        check_inputs("mini", self.inputs, arrays)
        for index, array in zip(self._in, arrays, strict=True):
            self._it.set_tensor(index, array)
        self._it.invoke()
        if self._leaky:  # the views LiteRT forbids holding across invoke()
            return tuple(self._it.tensor(i)() for i in self._out)
        result = tuple(self._it.get_tensor(i) for i in self._out)
        self._first = self._first or result
        return result

    def close(self) -> None:
        if not self._lax:
            self._it = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _MiniBackend:
    name = "mini"
    config_model: type[BackendConfig] = _MiniConfig

    def __init__(self, **flaws: bool) -> None:
        self._flaws = flaws

    def probe(self) -> BackendStatus:
        return BackendStatus("mini", True, "mini over LiteRT", devices=("mini",))

    def open_session(self, model_path: Path, config: BackendConfig, *, role: str = "main") -> _MiniSession:
        read_model_info(model_path)  # posed's clear ModelError for missing, truncated or damaged files
        return _MiniSession(model_path, **self._flaws)


class TestThirdPartyConformance(BackendConformance):
    backend = _MiniBackend()
    config: ClassVar[dict[str, Any]] = {"type": "mini"}
    cases = (ModelCase(DETECTOR, float_range=DETECTOR_RANGE),)


# --- the suite can fail -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector_inputs() -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    specs = (TensorSpec("input_1", (1, 224, 224, 3), "float32"),)
    return model_inputs(specs, None, DETECTOR_RANGE, seed=0), model_inputs(
        specs, None, DETECTOR_RANGE, seed=1
    )


def test_suite_catches_outputs_held_across_runs(detector_inputs: Any) -> None:
    a, b = detector_inputs
    with (
        _MiniBackend(leaky_views=True).open_session(DETECTOR, _MiniConfig(type="mini")) as session,
        pytest.raises(ConformanceError, match="previous outputs were still referenced"),
    ):
        check_repeatable(session, a, b)


def test_suite_catches_stale_outputs(detector_inputs: Any) -> None:
    a, b = detector_inputs
    with (
        _MiniBackend(stale=True).open_session(DETECTOR, _MiniConfig(type="mini")) as session,
        pytest.raises(ConformanceError, match="identical outputs"),
    ):
        check_repeatable(session, a, b)


def test_suite_catches_a_session_that_runs_after_close(detector_inputs: Any) -> None:
    session = _MiniBackend(lax=True).open_session(DETECTOR, _MiniConfig(type="mini"))
    with pytest.raises(ConformanceError, match="did not raise ClosedError"):
        check_closed(session, detector_inputs[0])


def test_suite_catches_wrong_numbers(detector_inputs: Any) -> None:
    a, _ = detector_inputs
    reference = reference_outputs(DETECTOR, a)
    with load_backend("tflite").open_session(
        DETECTOR, load_backend("tflite").config_model(type="tflite")
    ) as s:
        got = check_run(s, a)
        check_agreement(s, reference, got)
        boxes = np.asarray(got[0], dtype=np.float32)
        nudged = (boxes + np.float32(0.01 * np.ptp(boxes)), got[1])
        with pytest.raises(ConformanceError, match="Identity: max"):
            check_agreement(s, reference, nudged)


def test_suite_catches_unchecked_inputs_and_wrong_specs(detector_inputs: Any) -> None:
    class Unchecked(_MiniSession):
        def run(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
            return tuple(np.zeros(s.shape, s.dtype) for s in self.outputs)

    session = Unchecked(DETECTOR)
    with pytest.raises(ConformanceError, match="did not raise BackendError"):
        check_wrong_inputs(session, detector_inputs[0])
    with pytest.raises(ConformanceError, match="tensor specs differ"):
        check_specs(session, POSENET)


def test_suite_catches_a_backend_that_accepts_damaged_files(tmp_path: Path) -> None:
    class Trusting(_MiniBackend):
        def open_session(
            self, model_path: Path, config: BackendConfig, *, role: str = "main"
        ) -> _MiniSession:
            return _MiniSession(DETECTOR)  # never looks at the file it was given

    with pytest.raises(ConformanceError, match=r"was accepted|not ModelError"):
        check_corrupt_models(Trusting(), _MiniConfig(type="mini"), DETECTOR, tmp_path)


def test_suite_catches_a_backend_that_ignores_input_shape() -> None:
    """A backend that takes `input_shape=` but loads the file at its own size fails check_resize."""

    class Ignoring(TFLiteBackend):
        def open_session(
            self,
            model_path: Path,
            config: BackendConfig,
            *,
            role: str = "main",
            input_shape: tuple[int, ...] | None = None,
        ) -> Any:
            return super().open_session(model_path, config, role=role)

    config = load_backend("tflite").config_model(type="tflite")
    case = ModelCase(POSENET, resize_to=POSENET_RESIZED)
    check_resize(load_backend("tflite"), config, case, None)  # the real one passes
    with pytest.raises(ConformanceError, match=r"reports input \[1, 353, 481, 3\]"):
        check_resize(Ignoring(), config, case, None)


@pytest.mark.parametrize("backend_name", ["tflite", "openvino"])
def test_damaged_model_messages_name_the_problem_and_the_fix(backend_name: str, tmp_path: Path) -> None:
    backend = load_backend(backend_name)
    messages = check_corrupt_models(backend, backend.config_model(type=backend_name), POSENET, tmp_path)
    assert len(messages) == 6
    for message in messages:
        assert "posed models fetch" in message, message
        assert any(w in message for w in ("truncated or corrupt", "not a TFLite model", "not found")), message


class _MiniOverlapping(_MiniSession):
    """_MiniSession with start()/wait() (posed.backend.OverlappingSession) and one chosen flaw."""

    def __init__(self, path: Path, flaw: str) -> None:
        super().__init__(path)
        self._flaw = flaw
        self._pending: list[tuple[np.ndarray, ...]] = []

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def start(self, *inputs: np.ndarray) -> None:
        if len(self._pending) >= MAX_IN_FLIGHT and self._flaw != "unbounded":
            raise BackendError("too many runs in flight")
        copied = tuple(np.array(a, copy=True) for a in inputs)
        if self._flaw == "latest-inputs":  # one input buffer shared by every run in flight
            self._pending = [copied] * (len(self._pending) + 1)
        else:
            self._pending.append(copied)

    def wait(self) -> tuple[np.ndarray, ...]:
        if not self._pending:
            raise BackendError("nothing started")
        inputs = self._pending.pop() if self._flaw == "newest-first" else self._pending.pop(0)
        return super().run(*inputs)

    def run(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._pending:
            raise BackendError("runs in flight")
        return super().run(*arrays)


@pytest.mark.parametrize(
    ("flaw", "message"),
    [
        ("newest-first", "differs from run"),
        ("latest-inputs", "differs from run"),
        ("unbounded", "did not raise BackendError"),
    ],
)
def test_suite_catches_overlapped_runs_that_go_wrong(detector_inputs: Any, flaw: str, message: str) -> None:
    """Guards: posed.testing's overlap check fails a backend whose overlapped runs do not give
    each run its own run() outputs, in start order (runs handed back newest first, or every run
    computed on the last inputs), or that lets more than MAX_IN_FLIGHT runs start."""
    a, b = detector_inputs
    with _MiniOverlapping(DETECTOR, "none") as good:
        check_overlap(good, a, b, exactly_equal)  # the same session without its flaw passes
    with _MiniOverlapping(DETECTOR, flaw) as session, pytest.raises(ConformanceError, match=message):
        check_overlap(session, a, b, exactly_equal)
