"""Checks for backends that resize a model's input at load (posed.backend.ResizableBackend).

Called by `BackendConformance.test_resized_input_agrees_with_litert` for every
`ModelCase` with `resize_to`, or directly; it raises the suite's ConformanceError.
"""

from __future__ import annotations

from posed.backend import Backend, BackendConfig, can_resize, open_resized_session
from posed.errors import ModelError
from posed.testing.conformance_checks import (
    REFERENCE_BACKEND,
    ConformanceError,
    ModelCase,
    check_agreement,
    check_run,
    resolve_backend,
    validate_config,
)
from posed.testing.inputs import model_inputs
from posed.types import ImageArray


def check_resize(backend: Backend, config: BackendConfig, case: ModelCase, image: ImageArray | None) -> None:
    """The session takes `case.resize_to`, says so in its specs, and agrees with LiteRT at that size."""
    shape = case.resize_to
    if shape is None or not can_resize(backend):
        raise ConformanceError(f"{backend.name}: nothing to check (no resize_to, or no input_shape=)")
    reference_backend = resolve_backend(REFERENCE_BACKEND)
    reference_config = validate_config(reference_backend, {"type": REFERENCE_BACKEND})
    try:
        session = open_resized_session(backend, case.path, config, shape, role=case.role)
    except ModelError as exc:
        raise ConformanceError(
            f"{backend.name}: cannot open {case.path.name} at {list(shape)}: {exc}"
        ) from exc
    with session, open_resized_session(reference_backend, case.path, reference_config, shape) as reference:
        if session.inputs[0].shape != shape:
            raise ConformanceError(
                f"{backend.name}: {case.path.name} opened at {list(shape)} reports input "
                f"{list(session.inputs[0].shape)}"
            )
        got = [spec.shape for spec in session.outputs]
        want = [spec.shape for spec in reference.outputs]
        if got != want:
            raise ConformanceError(f"{backend.name}: resized output shapes {got}, LiteRT's {want}")
        inputs = model_inputs(session.inputs, image, float_range=case.float_range)
        check_agreement(session, check_run(reference, inputs), check_run(session, inputs), case.tolerances)
