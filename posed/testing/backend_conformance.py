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
from pathlib import Path
from typing import Any, ClassVar

from posed.backend import Backend, BackendConfig, InferenceSession, OverlappingSession, can_resize
from posed.testing.compare import Tolerances
from posed.testing.conformance_checks import (
    REFERENCE_BACKEND,
    Arrays,
    ConformanceError,
    ModelCase,
    check_agreement,
    check_closed,
    check_context_manager,
    check_corrupt_models,
    check_probe,
    check_repeatable,
    check_run,
    check_specs,
    check_wrong_inputs,
    corrupt_copies,
    reference_outputs,
    resolve_backend,
    validate_config,
)
from posed.testing.inputs import load_rgb, model_inputs
from posed.testing.overlap_conformance import check_overlap, exactly_equal
from posed.testing.resize_conformance import check_resize
from posed.types import ImageArray

# The checks have their own module; their names stay importable from here.
__all__ = [
    "REFERENCE_BACKEND",
    "Arrays",
    "BackendConformance",
    "ConformanceError",
    "ModelCase",
    "check_agreement",
    "check_closed",
    "check_context_manager",
    "check_corrupt_models",
    "check_probe",
    "check_repeatable",
    "check_run",
    "check_specs",
    "check_wrong_inputs",
    "corrupt_copies",
    "reference_outputs",
    "resolve_backend",
    "validate_config",
]


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
        import pytest  # noqa: PLC0415 (test-only)

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
        import pytest  # noqa: PLC0415 (test-only)

        cases = [case for case in self.cases if case.resize_to is not None]
        if not cases or not can_resize(self._backend):
            pytest.skip("no resizable case, or this backend's open_session() takes no input_shape")
        for case in cases:
            check_resize(self._backend, self._config, case, self._picture)

    def test_corrupt_model_raises_model_error(self, tmp_path: Path) -> None:
        check_corrupt_models(self._backend, self._config, self._fixed_cases()[0].path, tmp_path)
