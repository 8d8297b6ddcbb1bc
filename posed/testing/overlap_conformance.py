"""Checks for backends whose sessions overlap runs (posed.backend.OverlappingSession).

Called by `BackendConformance.test_overlapping_runs_match_run`, or directly; it
raises the conformance suite's own ConformanceError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from posed.backend import MAX_IN_FLIGHT, OverlappingSession
from posed.errors import BackendError
from posed.testing.conformance_checks import Arrays, ConformanceError, check_run


def check_overlap(
    session: OverlappingSession,
    inputs: Sequence[npt.NDArray[np.generic]],
    other_inputs: Sequence[npt.NDArray[np.generic]],
    agree: Callable[[Arrays, Arrays], None],
) -> None:
    """Two runs in flight give each its own run()'s outputs, in start order; the limits hold.

    `agree(expected, actual)` raises when outputs differ beyond what the backend allows.
    """
    expected = check_run(session, inputs)
    expected_other = check_run(session, other_inputs)
    session.start(*inputs)
    session.start(*other_inputs)
    if session.in_flight != MAX_IN_FLIGHT:
        raise ConformanceError(f"in_flight is {session.in_flight} after two start() calls")
    _expect_backend_error(lambda: session.start(*inputs), f"a start() beyond {MAX_IN_FLIGHT} in flight")
    _expect_backend_error(lambda: session.run(*inputs), "run() with runs in flight")
    first = _copies(session.wait())
    # The second run's outputs must not have overwritten the first's before it was waited for.
    second = _copies(session.wait())
    agree(expected, first)
    agree(expected_other, second)
    if session.in_flight != 0:
        raise ConformanceError(f"in_flight is {session.in_flight} after waiting for every run")
    _expect_backend_error(session.wait, "wait() with nothing started")


def exactly_equal(expected: Arrays, actual: Arrays) -> None:
    """For `check_overlap` on backends whose repeated runs are bit-exact."""
    for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
        if not np.array_equal(a, b):
            raise ConformanceError(f"output {index} of an overlapped run differs from run()'s")


def _copies(outputs: Sequence[npt.NDArray[np.generic]]) -> Arrays:
    return tuple(np.array(a, copy=True) for a in outputs)


def _expect_backend_error(call: Callable[[], object], what: str) -> None:
    try:
        call()
    except BackendError:
        return
    except Exception as exc:
        raise ConformanceError(f"{what} raised {type(exc).__name__}, not BackendError") from exc
    raise ConformanceError(f"{what} did not raise BackendError")
