"""Temporal filters, vectorised: one independent filter per array element.

These follow MediaPipe's util/filtering (LowPassFilter, OneEuroFilter), keeping
their quirks, because the smoothed landmarks are compared against MediaPipe's:
- a filter's first value passes through unchanged;
- the one-euro frequency starts at the configured value and is then taken from
  the timestamps (1 / dt), but not while the last timestamp is still 0;
- a timestamp not after the last one returns the input unchanged and leaves the
  state alone.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class LowPassFilter:
    """Exponential smoothing: alpha * value + (1 - alpha) * previous."""

    def __init__(self, shape: tuple[int, ...], alpha: float) -> None:
        self.alpha = alpha
        self._state = np.zeros(shape, dtype=np.float64)
        self._initialised = False

    def reset(self) -> None:
        self._initialised = False

    def apply(self, values: Array) -> Array:
        if self._initialised:
            self._state *= 1.0 - self.alpha
            self._state += self.alpha * values
        else:
            self._state[...] = values
            self._initialised = True
        return self._state.copy()


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
        self._last_ns = 0
        self._initialised = False
        self._value = np.zeros(shape, dtype=np.float64)  # last filtered value
        self._raw = np.zeros(shape, dtype=np.float64)  # last raw value
        self._derivative = np.zeros(shape, dtype=np.float64)  # last filtered derivative

    def reset(self) -> None:
        self._frequency = self._initial_frequency
        self._last_ns = 0
        self._initialised = False

    def apply(self, values: Array, timestamp_ns: int, value_scale: float = 1.0) -> Array:
        """Filtered copy of `values`; `value_scale` normalises the speed (1 / object size)."""
        if timestamp_ns <= self._last_ns:
            return values.copy()
        if self._last_ns != 0 and timestamp_ns != 0:
            self._frequency = 1e9 / (timestamp_ns - self._last_ns)
        self._last_ns = timestamp_ns
        if not self._initialised:
            # First sample: the derivative starts at 0 and the value passes through.
            self._derivative.fill(0.0)
            self._value[...] = values
            self._raw[...] = values
            self._initialised = True
            return values.copy()
        speed = (values - self._raw) * (value_scale * self._frequency)
        alpha_d = self._alpha(self.derivate_cutoff)
        self._derivative *= 1.0 - alpha_d
        self._derivative += alpha_d * speed
        cutoff = self.min_cutoff + self.beta * np.abs(self._derivative)
        # alpha = 1 / (1 + tau / te) with tau = 1 / (2 pi cutoff) and te = 1 / frequency.
        alpha = 1.0 / (1.0 + self._frequency / (2.0 * math.pi * cutoff))
        self._value += alpha * (values - self._value)
        self._raw[...] = values
        return self._value.copy()

    def _alpha(self, cutoff: float) -> float:
        return 1.0 / (1.0 + self._frequency / (2.0 * math.pi * cutoff))
