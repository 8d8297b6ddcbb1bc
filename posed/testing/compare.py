"""How far one backend's raw outputs are from a reference run's, and whether that is close enough.

Float outputs are compared relative to the reference output's own scale. Quantized
(uint8/int8) outputs are compared in quantization steps, by their mean, 99th
percentile and maximum: deep uint8 networks round differently in every kernel
library (LiteRT's XNNPACK and its own reference kernels differ by up to 100+ steps on
PoseNet's short offsets far from any person), so a bare "max ±1 step" is not a
property any two runtimes have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from posed.backend import TensorSpec


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Allowed difference of one output from the reference.

    Float: max |a - b| <= float_rel * max(range of the reference, max |reference|, 1).
    Quantized: |a - b| in steps, with mean, 99th percentile and maximum limits.
    """

    float_rel: float = 1e-3
    quant_mean_steps: float = 1.0
    quant_p99_steps: float = 4.0
    quant_max_steps: float = 10.0


Tolerances = Tolerance | Mapping[str, Tolerance]
DEFAULT_TOLERANCE = Tolerance()


@dataclass(frozen=True, slots=True)
class OutputDiff:
    """The measured difference of one output. Quantized: in steps; float: in output units."""

    name: str
    quantized: bool
    max_abs: float
    p99_abs: float
    mean_abs: float
    scale: float  # float outputs: the scale float_rel multiplies; quantized: 1
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.quantized:
            text = f"{self.name}: steps max {self.max_abs:g}, p99 {self.p99_abs:g}, mean {self.mean_abs:.3g}"
        else:
            relative = self.max_abs / self.scale
            text = f"{self.name}: max {self.max_abs:.3g} = {relative:.2e} of scale {self.scale:.4g}"
        return text + ("" if self.ok else f" -- {'; '.join(self.problems)}")


def tolerance_for(tolerances: Tolerances, name: str) -> Tolerance:
    """The tolerance of output `name`: a mapping may give some outputs their own."""
    if isinstance(tolerances, Tolerance):
        return tolerances
    return tolerances.get(name, DEFAULT_TOLERANCE)


def compare_output(
    spec: TensorSpec,
    reference: npt.NDArray[np.generic],
    actual: npt.NDArray[np.generic],
    tolerance: Tolerance,
) -> OutputDiff:
    if reference.shape != actual.shape:
        return OutputDiff(
            spec.name, False, np.inf, np.inf, np.inf, 1.0, (f"shape {actual.shape} != {reference.shape}",)
        )
    ref = reference.astype(np.float64)
    diff = np.abs(ref - actual.astype(np.float64))
    if not np.all(np.isfinite(actual.astype(np.float64))):
        return OutputDiff(spec.name, False, np.inf, np.inf, np.inf, 1.0, ("non-finite values",))
    quantized = np.dtype(spec.dtype).kind in "iu"
    max_abs = float(diff.max()) if diff.size else 0.0
    p99 = float(np.percentile(diff, 99)) if diff.size else 0.0
    mean = float(diff.mean()) if diff.size else 0.0
    problems: list[str] = []
    if quantized:
        limits = (
            ("mean", mean, tolerance.quant_mean_steps),
            ("p99", p99, tolerance.quant_p99_steps),
            ("max", max_abs, tolerance.quant_max_steps),
        )
        problems = [
            f"{label} {value:.3g} > {limit:g} steps" for label, value, limit in limits if value > limit
        ]
        return OutputDiff(spec.name, True, max_abs, p99, mean, 1.0, tuple(problems))
    scale = max(float(ref.max() - ref.min()), float(np.abs(ref).max()), 1.0) if ref.size else 1.0
    if max_abs > tolerance.float_rel * scale:
        problems.append(f"max {max_abs:.3g} > {tolerance.float_rel:g} x {scale:.4g}")
    return OutputDiff(spec.name, False, max_abs, p99, mean, scale, tuple(problems))


def compare_outputs(
    specs: Sequence[TensorSpec],
    reference: Sequence[npt.NDArray[np.generic]],
    actual: Sequence[npt.NDArray[np.generic]],
    tolerances: Tolerances = DEFAULT_TOLERANCE,
) -> list[OutputDiff]:
    """One OutputDiff per output, in order."""
    if not (len(specs) == len(reference) == len(actual)):
        raise ValueError(f"{len(specs)} specs, {len(reference)} reference and {len(actual)} actual outputs")
    return [
        compare_output(spec, ref, act, tolerance_for(tolerances, spec.name))
        for spec, ref, act in zip(specs, reference, actual, strict=True)
    ]
