"""Temporal filters, vectorised: one independent filter per array element.

These follow MediaPipe 0.10.14's util/filtering (LowPassFilter, OneEuroFilter)
operation by operation, because the smoothed landmarks are compared against
MediaPipe's:
- LowPassFilter keeps float32 state and computes `alpha * value` in float32 and
  `(1.0 - alpha) * stored` in double;
- OneEuroFilter computes speeds and alphas in double and hands float32 values
  to its two low-pass filters;
- a filter's first value passes through unchanged;
- the one-euro frequency starts at the configured value and is then 1 / dt,
  except while the last timestamp is 0 (MediaPipe's own quirk);
- a timestamp not after the last one returns the input unchanged and leaves the
  state alone.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F32 = np.float32
Floats = npt.NDArray[np.float32]
Doubles = npt.NDArray[np.float64]


class LowPassFilter:
    """Exponential smoothing: alpha * value + (1 - alpha) * previous, with float32 state."""

    def __init__(self, shape: tuple[int, ...], alpha: float = 1.0) -> None:
        self.alpha = F32(alpha)
        self._stored = np.zeros(shape, dtype=np.float32)
        self._raw = np.zeros(shape, dtype=np.float32)
        self.initialised = False

    @property
    def raw(self) -> Floats:
        """The last value given (MediaPipe's LastRawValue)."""
        return self._raw

    def reset(self) -> None:
        self.initialised = False

    def apply(self, values: Floats, alpha: Floats | np.float32 | None = None) -> Floats:
        """Filtered copy of `values` (float32); `alpha` overrides the filter's own (ApplyWithAlpha)."""
        a = self.alpha if alpha is None else alpha
        values = np.asarray(values, dtype=np.float32)
        if self.initialised:
            mixed = (a * values).astype(np.float64) + (1.0 - np.asarray(a, dtype=np.float64)) * self._stored
            self._stored[...] = mixed
        else:
            self._stored[...] = values
            self.initialised = True
        self._raw[...] = values
        return self._stored.copy()


class OneEuroFilter:
    """The 1-euro filter (Casiez et al.) as MediaPipe implements it, over an array of values."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        min_cutoff: float,
        beta: float,
        derivate_cutoff: float,
        frequency: float = 30.0,
    ) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self._initial_frequency = frequency
        self._frequency = frequency
        self._last_ns: int | None = None  # MediaPipe starts at INT64_MIN
        self._value = LowPassFilter(shape)
        self._derivative = LowPassFilter(shape)

    def reset(self) -> None:
        """MediaPipe drops its filters and makes new ones: frequency, clock and state start over."""
        self._frequency = self._initial_frequency
        self._last_ns = None
        self._value.reset()
        self._derivative.reset()

    def apply(self, values: Floats, timestamp_ns: int, value_scale: float = 1.0) -> Floats:
        """Filtered float32 copy of `values`; `value_scale` normalises the speed (1 / object size)."""
        values = np.asarray(values, dtype=np.float32)
        last = self._last_ns
        if last is not None and timestamp_ns <= last:
            return values.copy()
        if last is not None and last != 0 and timestamp_ns != 0:
            self._frequency = 1.0 / ((timestamp_ns - last) * 1e-9)
        # (From INT64_MIN MediaPipe computes an overflowed frequency here; the first
        # value passes through whatever it is, and the next call replaces it.)
        self._last_ns = timestamp_ns
        if self._value.initialised:
            speed = (values.astype(np.float64) - self._value.raw) * value_scale * self._frequency
        else:
            speed = np.zeros(values.shape)
        smoothed_speed = self._derivative.apply(
            speed.astype(np.float32), F32(self._alpha(self.derivate_cutoff))
        )
        cutoff = self.min_cutoff + self.beta * np.abs(smoothed_speed.astype(np.float64))
        return self._value.apply(values, self._alphas(cutoff))

    def _alpha(self, cutoff: float) -> float:
        te = 1.0 / self._frequency
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def _alphas(self, cutoff: Doubles) -> Floats:
        te = 1.0 / self._frequency
        tau = 1.0 / (2 * math.pi * cutoff)
        return np.asarray(1.0 / (1.0 + tau / te), dtype=np.float32)
