"""Single-precision maths as MediaPipe's C++ gets it from the C library (glibc's libm).

MediaPipe's calculators call `std::exp`, `std::cos`, `std::sin` and
`std::atan2` on floats, i.e. glibc's expf, cosf, sinf and atan2f. Those are not
correctly rounded, so numpy's float32 functions, or float64 maths rounded to
float32, differ from them by one ulp now and then. In tracking mode one ulp in
a refined landmark or a ROI angle is enough to move a crop sample onto another
1/32-px step of the warp, the network then sees other pixels, and the
difference grows over the video (measured on the squat video: 5-8 px after 65
frames, with otherwise bit-identical network outputs).

- `expf` is vectorised (the heatmap refinement needs ~3200 values a frame):
  glibc's expf algorithm (since 2.27, from Arm's optimized-routines: a 32-entry
  table of 2^(i/32) and a cubic polynomial, in double), in numpy.
- The scalar functions (once or twice a frame) call the process's own libm
  through ctypes when it has them, else fall back to float64 maths rounded to
  float32.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

F32 = np.float32
Floats = npt.NDArray[np.float32]

_N = 32  # EXP2F_TABLE_BITS = 5
# Arm optimized-routines' exp2f_data: 1/ln2 and the cubic for 2^(r/N), scaled by N.
_INV_LN2_N = float.fromhex("0x1.71547652b82fep+0") * _N
_SHIFT = float.fromhex("0x1.8p+52")  # adding it rounds to an integer held in the low bits
_C0 = float.fromhex("0x1.c6af84b912394p-5") / _N / _N / _N
_C1 = float.fromhex("0x1.ebfce50fac4f3p-3") / _N / _N
_C2 = float.fromhex("0x1.62e42ff0c52d6p-1") / _N
# Beyond these expf overflows to inf or underflows to 0 (glibc's own bounds, in float).
_OVERFLOW = F32(float.fromhex("0x1.62e42ep6"))
_UNDERFLOW = F32(-float.fromhex("0x1.9fe368p6"))


def _exp2_table() -> npt.NDArray[np.uint64]:
    """tab[i] = bits(2^(i/N)) - (i << 47): the table's doubles without their exponent step.

    2^(i/N) rounded to the nearest double: the library's table holds exactly these.
    """
    table = np.empty(_N, dtype=np.uint64)
    for i in range(_N):
        bits = np.array(2.0 ** (i / _N)).view(np.uint64)
        table[i] = np.uint64(int(bits) - (i << 47))
    return table


_TABLE = _exp2_table()


def expf(values: npt.ArrayLike) -> Floats:
    """glibc's expf, element-wise, on float32 values (NaN-free input)."""
    x = np.asarray(values, dtype=np.float32)
    z = x.astype(np.float64)
    z *= _INV_LN2_N
    kd = z + _SHIFT
    ki = kd.view(np.uint64)  # shares kd's memory: kd is not changed in place below
    r = z - (kd - _SHIFT)
    # uint64 arithmetic wraps as C's does: the exponent step k / N lands in the high bits.
    bits = np.take(_TABLE, ki & np.uint64(_N - 1))
    bits += ki << np.uint64(47)
    y = (_C2 * r + 1.0) + (_C0 * r + _C1) * (r * r)
    with np.errstate(over="ignore", under="ignore"):
        y *= bits.view(np.float64)
        out = y.astype(np.float32)
    if x.size and (x.max() > _OVERFLOW or x.min() < _UNDERFLOW):
        out[x > _OVERFLOW] = np.inf
        out[x < _UNDERFLOW] = 0.0
    return out


def sigmoid(values: npt.ArrayLike) -> Floats:
    """`1.0f / (1.0f + std::exp(-value))` in float32, as MediaPipe's calculators write it."""
    one = F32(1.0)
    x = np.asarray(values, dtype=np.float32)
    with np.errstate(over="ignore"):
        return np.asarray(one / (one + expf(-x)), dtype=np.float32)


def _libm_function(name: str, arity: int) -> Callable[..., float] | None:
    path = ctypes.util.find_library("m")
    if path is None:
        return None
    try:
        function = getattr(ctypes.CDLL(path), name)
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_float
    function.argtypes = [ctypes.c_float] * arity
    return function  # type: ignore[no-any-return]


_COSF = _libm_function("cosf", 1)
_SINF = _libm_function("sinf", 1)
_ATAN2F = _libm_function("atan2f", 2)


def cosf(x: float) -> np.float32:
    value = F32(x)
    return F32(_COSF(value)) if _COSF is not None else F32(math.cos(float(value)))


def sinf(x: float) -> np.float32:
    value = F32(x)
    return F32(_SINF(value)) if _SINF is not None else F32(math.sin(float(value)))


def atan2f(y: float, x: float) -> np.float32:
    fy, fx = F32(y), F32(x)
    if _ATAN2F is not None:
        return F32(_ATAN2F(fy, fx))
    return F32(math.atan2(float(fy), float(fx)))
