"""The backend conformance suite: does a backend plugin keep the contract of `posed.backend`?

Any backend can run it, posed's own or a third party's. Either call the checks
directly, or subclass `BackendConformance` in a pytest module:

    from pathlib import Path
    from posed.testing.backend_conformance import BackendConformance, ModelCase

    class TestMyBackend(BackendConformance):
        backend = "mybackend"                    # entry-point name, or a Backend instance
        config = {"type": "mybackend"}           # the YAML `backend:` section
        cases = (
            ModelCase(Path("models/pose_detection.tflite"), float_range=(-1.0, 1.0)),
            ModelCase(Path("models/posenet_mobilenet_v1_075_353_481_quant.tflite")),
        )

What is checked, per model: the session's tensor specs match the file; outputs have the
declared shapes and dtypes and agree with a LiteRT reference run within a `Tolerance`;
repeated runs give the same outputs, also while the caller still holds the previous
ones; sessions that overlap runs (start()/wait()) give each run its own outputs;
wrong inputs raise BackendError; a closed session raises ClosedError; and
missing, empty, truncated or damaged model files raise ModelError naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from posed.backend import ROLE_MAIN, Backend, BackendConfig, BackendStatus, InferenceSession, Role
from posed.errors import BackendError, ClosedError, ModelError
from posed.testing.compare import DEFAULT_TOLERANCE, OutputDiff, Tolerance, Tolerances, compare_outputs
from posed.testing.inputs import UNIT_RANGE, load_rgb, model_inputs
from posed.types import ImageArray

Arrays = tuple[npt.NDArray[np.generic], ...]
REFERENCE_BACKEND = "tflite"  # LiteRT with XNNPACK, its default CPU path


class ConformanceError(AssertionError):
    """A backend broke the contract; the message says where and how."""


@dataclass(frozen=True)
class ModelCase:
    """One model to check, with the input range it expects and how close it must be."""

    path: Path
    float_range: tuple[float, float] = UNIT_RANGE
    tolerances: Tolerances = field(default_factory=Tolerance)
    role: Role = ROLE_MAIN
    # For a fully convolutional model: an input shape the backend should resize it to.
    resize_to: tuple[int, ...] | None = None
    # The file's input size is only a placeholder (MoveNet MultiPose reads as 1 x 1): the
    # model is checked at `resize_to` alone, never at the size written in the file.
    dynamic_input: bool = False

    def __post_init__(self) -> None:
        if self.dynamic_input and self.resize_to is None:
            raise ValueError(f"{self.path.name}: a dynamic_input case needs resize_to")


def resolve_backend(backend: str | Backend) -> Backend:
    if isinstance(backend, str):
        from posed.plugins import load_backend

        return load_backend(backend)
    return backend


def validate_config(backend: Backend, config: Mapping[str, Any] | BackendConfig) -> BackendConfig:
    if isinstance(config, BackendConfig):
        return config
    return backend.config_model.model_validate(dict(config))


def check_probe(backend: Backend) -> BackendStatus:
    """probe() never raises and returns a BackendStatus naming the backend."""
    try:
        status = backend.probe()
    except Exception as exc:
        raise ConformanceError(f"{backend.name}: probe() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(status, BackendStatus) or status.name != backend.name:
        raise ConformanceError(f"{backend.name}: probe() returned {status!r}, not its BackendStatus")
    if not status.runnable and not status.fix:
        raise ConformanceError(f"{backend.name}: probe() says not runnable but gives no fix")
    return status


def check_specs(session: InferenceSession, model_path: Path) -> None:
    """The session's inputs and outputs are the file's: names, shapes, dtypes, quantization."""
    from posed.tflite_file import read_model_info

    info = read_model_info(model_path)
    problems = []
    for kind, got, want in (
        ("input", session.inputs, info.inputs),
        ("output", session.outputs, info.outputs),
    ):
        if len(got) != len(want):
            problems.append(f"{len(got)} {kind}s, the file has {len(want)}")
            continue
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if (g.name, tuple(g.shape), g.dtype) != (w.name, w.shape, w.dtype):
                problems.append(
                    f"{kind} {i} is {g.name!r} {g.shape} {g.dtype}, file: {w.name!r} {w.shape} {w.dtype}"
                )
            elif not _same_quantization(g, w):
                problems.append(f"{kind} {i} quantization {g.quantization}, file: {w.quantization}")
    if problems:
        raise ConformanceError(
            f"{model_path.name}: tensor specs differ from the file: " + "; ".join(problems)
        )


def check_run(session: InferenceSession, inputs: Sequence[npt.NDArray[np.generic]]) -> Arrays:
    """Run once; the outputs must be arrays of the declared shapes and dtypes. Returns copies."""
    outputs = session.run(*inputs)
    if not isinstance(outputs, tuple) or len(outputs) != len(session.outputs):
        raise ConformanceError(
            f"run() must return a tuple of {len(session.outputs)} arrays, got {outputs!r:.80}"
        )
    for spec, array in zip(session.outputs, outputs, strict=True):
        if not isinstance(array, np.ndarray) or array.shape != spec.shape or array.dtype.name != spec.dtype:
            got = f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray) else type(array).__name__
            raise ConformanceError(f"output {spec.name!r} should be {spec.dtype} {spec.shape}, got {got}")
    return tuple(np.array(a, copy=True) for a in outputs)


def reference_outputs(model_path: Path, inputs: Sequence[npt.NDArray[np.generic]]) -> Arrays:
    """The reference run: LiteRT (posed's tflite backend) with its default XNNPACK kernels."""
    backend = resolve_backend(REFERENCE_BACKEND)
    config = validate_config(backend, {"type": REFERENCE_BACKEND})
    with backend.open_session(model_path, config) as session:
        return check_run(session, inputs)


def check_agreement(
    session: InferenceSession,
    reference: Sequence[npt.NDArray[np.generic]],
    actual: Sequence[npt.NDArray[np.generic]],
    tolerances: Tolerances = DEFAULT_TOLERANCE,
) -> list[OutputDiff]:
    """Compare with the reference run; raise listing every output out of tolerance."""
    diffs = compare_outputs(session.outputs, reference, actual, tolerances)
    bad = [d for d in diffs if not d.ok]
    if bad:
        raise ConformanceError(
            f"outputs on {session.device} differ from the reference: " + "; ".join(str(d) for d in bad)
        )
    return diffs


def check_repeatable(
    session: InferenceSession,
    inputs: Sequence[npt.NDArray[np.generic]],
    other_inputs: Sequence[npt.NDArray[np.generic]],
    tolerances: Tolerances | None = None,
) -> None:
    """Same input, same output, also while the caller still holds the previous outputs;
    a different input changes the outputs (no stale buffers). `tolerances` None: bit-exact."""
    first = check_run(session, inputs)
    held = session.run(*inputs)  # kept alive on purpose, as a caller keeping the last frame would
    try:
        other = check_run(session, other_inputs)
    except Exception as exc:
        raise ConformanceError(
            f"run() failed while the previous outputs were still referenced: {type(exc).__name__}: {exc}"
        ) from exc
    again = check_run(session, inputs)
    if tolerances is None:
        changed = [
            s.name for s, a, b in zip(session.outputs, first, again, strict=True) if not np.array_equal(a, b)
        ]
        if changed:
            raise ConformanceError(
                f"the same input gave different outputs on a second run: {', '.join(changed)}"
            )
    else:
        check_agreement(session, first, again, tolerances)
    if all(np.array_equal(a, b) for a, b in zip(first, other, strict=True)):
        raise ConformanceError("a different input gave identical outputs: are the outputs stale buffers?")
    del held


def check_wrong_inputs(session: InferenceSession, inputs: Sequence[npt.NDArray[np.generic]]) -> None:
    """Inputs of the wrong number, dtype or shape raise BackendError; nothing is cast silently."""
    first = inputs[0]
    wrong_dtype = np.float64 if first.dtype != np.float64 else np.float32
    cases = {
        "no input": (),
        "an extra input": (*inputs, first),
        "a wrong dtype": (first.astype(wrong_dtype), *inputs[1:]),
        "a wrong shape": (first[..., :1], *inputs[1:]),
    }
    for label, arrays in cases.items():
        try:
            session.run(*arrays)
        except BackendError:
            continue
        except Exception as exc:
            raise ConformanceError(
                f"run() with {label} raised {type(exc).__name__}, not BackendError"
            ) from exc
        raise ConformanceError(f"run() with {label} did not raise BackendError")


def check_closed(session: InferenceSession, inputs: Sequence[npt.NDArray[np.generic]]) -> None:
    """After close(): run() raises ClosedError, close() again is harmless, and outputs
    handed out before the close are still readable (no dangling buffers). Closes `session`."""
    held = session.run(*inputs)
    session.close()
    session.close()
    try:
        session.run(*inputs)
    except ClosedError:
        pass
    except Exception as exc:
        raise ConformanceError(f"run() after close() raised {type(exc).__name__}, not ClosedError") from exc
    else:
        raise ConformanceError("run() after close() did not raise ClosedError")
    for array in held:
        float(np.asarray(array, dtype=np.float64).sum())  # a use-after-free would crash or raise here


def check_context_manager(backend: Backend, config: BackendConfig, case: ModelCase) -> None:
    """`with backend.open_session(...) as s:` yields a usable session and closes it on exit."""
    with backend.open_session(case.path, config, role=case.role) as session:
        inputs = model_inputs(session.inputs, float_range=case.float_range)
        check_run(session, inputs)
    try:
        session.run(*inputs)
    except ClosedError:
        return
    raise ConformanceError("the session still runs after its `with` block ended")


def corrupt_copies(model_path: Path, workdir: Path) -> dict[str, Path]:
    """Damaged copies of a model file: missing, empty, truncated, bad header."""
    data = model_path.read_bytes()
    variants = {
        "empty": b"",
        "cut to 1000 bytes": data[:1000],
        "cut in half": data[: len(data) // 2],
        "cut to 90%": data[: len(data) * 9 // 10],
        "header overwritten": b"\0" * 16 + data[16:],
    }
    workdir.mkdir(parents=True, exist_ok=True)
    paths = {"missing": workdir / f"missing_{model_path.name}"}
    for i, (label, content) in enumerate(variants.items()):
        path = workdir / f"damaged{i}_{model_path.name}"
        path.write_bytes(content)
        paths[label] = path
    return paths


def check_corrupt_models(
    backend: Backend, config: BackendConfig, model_path: Path, workdir: Path
) -> list[str]:
    """Each damaged copy raises ModelError whose message names the file. Returns the messages."""
    messages = []
    for label, path in corrupt_copies(model_path, workdir).items():
        try:
            with backend.open_session(path, config):
                pass
        except ModelError as exc:
            if path.name not in str(exc):
                raise ConformanceError(
                    f"the ModelError for a model file {label} does not name it: {exc}"
                ) from exc
            messages.append(str(exc))
            continue
        except Exception as exc:
            raise ConformanceError(
                f"a model file {label} raised {type(exc).__name__}, not ModelError: {exc}"
            ) from exc
        raise ConformanceError(f"a model file {label} ({path}) was accepted")
    return messages


def _same_quantization(a: Any, b: Any) -> bool:
    qa, qb = a.quantization, b.quantization
    if qa is None or qb is None:
        return qa is qb
    return bool(np.isclose(qa.scale, qb.scale, rtol=1e-6)) and qa.zero_point == qb.zero_point


class BackendConformance:
    """Subclass as `Test...` with `backend`, `config` and `cases`; pytest runs every check.

    One session per case is opened for the class (xunit-style setup_class), so the
    checks cost one model load each, plus one LiteRT reference load.
    """

    backend: ClassVar[str | Backend]
    config: ClassVar[Mapping[str, Any]]
    cases: ClassVar[Sequence[ModelCase]]
    image: ClassVar[Path | ImageArray | None] = None  # None: a synthetic scene
    repeat_tolerances: ClassVar[Tolerances | None] = None  # None: repeated runs are bit-exact

    _backend: ClassVar[Backend]
    _config: ClassVar[BackendConfig]
    _sessions: ClassVar[list[InferenceSession]]
    _inputs: ClassVar[list[tuple[Arrays, Arrays]]]
    _picture: ClassVar[ImageArray | None]

    @classmethod
    def setup_class(cls) -> None:
        cls._backend = resolve_backend(cls.backend)
        cls._config = validate_config(cls._backend, cls.config)
        picture = load_rgb(cls.image) if isinstance(cls.image, Path) else cls.image
        cls._picture = picture
        cls._sessions, cls._inputs = [], []
        for case in cls._fixed_cases():
            session = cls._backend.open_session(case.path, cls._config, role=case.role)
            cls._sessions.append(session)
            main = model_inputs(session.inputs, picture, case.float_range)
            other = model_inputs(session.inputs, None, case.float_range, seed=1)
            cls._inputs.append((main, other))

    @classmethod
    def teardown_class(cls) -> None:
        for session in getattr(cls, "_sessions", []):
            session.close()

    @classmethod
    def _fixed_cases(cls) -> list[ModelCase]:
        """The cases checked at the input size their file gives."""
        return [case for case in cls.cases if not case.dynamic_input]

    def _each(self) -> list[tuple[ModelCase, InferenceSession, Arrays, Arrays]]:
        cases = self._fixed_cases()
        return [(c, s, a, b) for c, s, (a, b) in zip(cases, self._sessions, self._inputs, strict=True)]

    def test_probe(self) -> None:
        check_probe(self._backend)

    def test_tensor_specs_match_the_file(self) -> None:
        for case, session, _, _ in self._each():
            check_specs(session, case.path)

    def test_outputs_agree_with_litert(self) -> None:
        for case, session, inputs, _ in self._each():
            check_agreement(
                session, reference_outputs(case.path, inputs), check_run(session, inputs), case.tolerances
            )

    def test_repeated_runs_are_stable(self) -> None:
        for _, session, inputs, other in self._each():
            check_repeatable(session, inputs, other, self.repeat_tolerances)

    def test_wrong_inputs_raise_backend_error(self) -> None:
        for _, session, inputs, _ in self._each():
            check_wrong_inputs(session, inputs)

    def test_context_manager_and_close(self) -> None:
        case = self._fixed_cases()[0]
        check_context_manager(self._backend, self._config, case)
        session = self._backend.open_session(case.path, self._config, role=case.role)
        check_closed(session, model_inputs(session.inputs, float_range=case.float_range))

    def test_overlapping_runs_match_run(self) -> None:
        import pytest

        from posed.backend import OverlappingSession
        from posed.testing.overlap_conformance import check_overlap, exactly_equal

        overlapping = [each for each in self._each() if isinstance(each[1], OverlappingSession)]
        if not overlapping:
            pytest.skip("this backend's sessions have no start()/wait()")
        tolerances = self.repeat_tolerances
        for _, session, inputs, other in overlapping:
            assert isinstance(session, OverlappingSession)

            def agree(expected: Arrays, actual: Arrays, session: InferenceSession = session) -> None:
                if tolerances is None:
                    exactly_equal(expected, actual)
                else:
                    check_agreement(session, expected, actual, tolerances)

            check_overlap(session, inputs, other, agree)

    def test_resized_input_agrees_with_litert(self) -> None:
        import pytest

        from posed.backend import can_resize
        from posed.testing.resize_conformance import check_resize

        cases = [case for case in self.cases if case.resize_to is not None]
        if not cases or not can_resize(self._backend):
            pytest.skip("no resizable case, or this backend's open_session() takes no input_shape")
        for case in cases:
            check_resize(self._backend, self._config, case, self._picture)

    def test_corrupt_model_raises_model_error(self, tmp_path: Path) -> None:
        check_corrupt_models(self._backend, self._config, self._fixed_cases()[0].path, tmp_path)
